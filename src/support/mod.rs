//! Code with no domain word in it: allocator, regex, case mapping, dates, JSON, the string map.

pub(crate) mod allocator;
pub mod case_mapping;
pub mod civil_date;
pub(crate) mod json_fields;
pub mod json_text;
pub mod regex;
pub mod string_map;
