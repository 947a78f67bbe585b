//! Which namespaces a settings rule applies to: name globs, Kubernetes label
//! selectors, and the two combined. Shared by `blueprintAccess`, `requireBackup` and
//! `defaultBlueprints`; pure data, no lookups.

mod glob;
mod labels;
mod namespaces;
mod selector;

pub use glob::Glob;
pub use labels::{label_key_problem, label_value_problem};
pub use namespaces::NamespaceMatch;
pub use selector::{LabelSelector, Operator, Requirement};
