//! The target's Namespace: its labels, read at most once per evaluation and only when a
//! selector must decide.

use super::Context;
use crate::lookups::LookupError;
use crate::settings::selection::NamespaceMatch;
use crate::support::string_map::StringMap;

/// The labels of the target's Namespace; a Namespace that does not exist has none. `Err` is
/// why the lookup failed.
pub fn labels(context: &Context) -> Result<StringMap, String> {
    labels_of(context, &context.target.namespace)
}

/// The labels of `namespace` (another than the target's: where a BackupConfiguration goes).
pub fn labels_of(context: &Context, namespace: &str) -> Result<StringMap, String> {
    match context.lookups.namespace_labels(namespace) {
        Ok(labels) => Ok(labels),
        Err(LookupError::NotFound) => Ok(StringMap::new()),
        Err(LookupError::Failed(why)) => Err(why),
    }
}

/// Whether the target's namespace matches a rule's `namespaces`/`namespaceSelector` (a rule
/// with neither matches every namespace).
pub fn matches(context: &Context, rule: &NamespaceMatch) -> Result<bool, String> {
    let namespace = &context.target.namespace;
    if rule.is_unrestricted() || rule.matches_by_name(namespace) {
        return Ok(true);
    }
    if !rule.needs_labels(namespace) {
        return Ok(rule.matches(namespace, None));
    }
    let labels = labels(context)?;
    Ok(rule.matches(namespace, Some(&labels)))
}

/// What a failed Namespace lookup is reported as.
pub fn lookup_name(context: &Context) -> String {
    format!("Namespace '{}'", context.target.namespace)
}
