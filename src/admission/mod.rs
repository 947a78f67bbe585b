//! What the host sends and gets back: the request, read in two passes, and the answer's JSON.

pub mod request;
pub mod validation_response;
