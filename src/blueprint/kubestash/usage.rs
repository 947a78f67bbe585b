//! KubeStash's usage policies (`spec.usagePolicy.allowedNamespaces`) on BackupBlueprints,
//! BackupStorages and RetentionPolicies: which namespaces may refer to the object.

use serde_json::Value;

use crate::report::shorten;
use crate::settings::selection::LabelSelector;
use crate::support::json_fields::at;
use crate::support::string_map::StringMap;

const PATH: &str = "spec.usagePolicy.allowedNamespaces";
const SELECTOR: &str = "spec.usagePolicy.allowedNamespaces.selector";
/// A selector with more requirements and values than this is refused unread: a real one has a
/// few, and each costs time and memory to parse (policy-server may hand over 1.5 MiB of them).
const MAX_SELECTOR_TERMS: usize = 256;

/// The selector, its first problem (with how many more), or why it is not read.
fn selector_of(selector: &Value) -> Result<AllowedNamespaces, String> {
    let mut terms = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .map_or(0, |m| m.len());
    if let Some(expressions) = selector.get("matchExpressions").and_then(Value::as_array) {
        for expression in expressions {
            terms += 1 + expression.get("values").and_then(Value::as_array).map_or(0, Vec::len);
        }
    }
    if terms > MAX_SELECTOR_TERMS {
        return Err(format!(
            "{SELECTOR}: has {terms} requirements and values, more than the {MAX_SELECTOR_TERMS} the policy reads; \
             select namespaces with fewer (a label the namespaces share)"
        ));
    }
    LabelSelector::parse(selector, SELECTOR)
        .map(AllowedNamespaces::Selector)
        .map_err(|problems| {
            let more = problems.len() - 1;
            match more {
                0 => problems[0].clone(),
                _ => format!("{} (and {more} more)", problems[0]),
            }
        })
}

/// `allowedNamespaces.from` and its selector.
#[derive(Debug, Clone, PartialEq)]
pub enum AllowedNamespaces {
    All,
    /// Only the object's own namespace (KubeStash's default).
    Same,
    Selector(LabelSelector),
}

/// The answer of a usage policy for one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Usage {
    Allowed,
    /// Denied: what the policy allows, for the message.
    Denied(String),
    /// The namespace's labels could not be read.
    Unknown(String),
}

impl AllowedNamespaces {
    /// The usage policy of `object`: absent means `Same` (KubeStash's webhooks default it so,
    /// and the CRD defaults `from` to `Same`). The error says what is wrong with it, starting
    /// with the field's path.
    pub fn of(object: &Value) -> Result<AllowedNamespaces, String> {
        let allowed = at(object, &["spec", "usagePolicy", "allowedNamespaces"]);
        let Some(allowed) = allowed.filter(|a| !a.is_null()) else {
            return Ok(AllowedNamespaces::Same);
        };
        match allowed.get("from").and_then(Value::as_str).unwrap_or("Same") {
            "All" => Ok(AllowedNamespaces::All),
            "Same" => Ok(AllowedNamespaces::Same),
            "Selector" => match allowed.get("selector").filter(|s| !s.is_null()) {
                None => Err(format!(
                    "{SELECTOR}: is missing, and from is Selector; KubeStash refuses it: add a selector"
                )),
                Some(selector) => selector_of(selector),
            },
            other => Err(format!(
                "{PATH}.from: '{}' is none of All, Same, Selector",
                shorten(other)
            )),
        }
    }

    /// Whether an object in `own_namespace` may be referred to from `namespace`; `labels`
    /// reads that namespace's labels, only for a selector.
    pub fn decide(
        &self,
        own_namespace: &str,
        namespace: &str,
        labels: impl FnOnce() -> Result<StringMap, String>,
    ) -> Usage {
        match self.decide_without_labels(own_namespace, namespace) {
            Ok(usage) => usage,
            Err(selector) => by_labels(selector, labels()),
        }
    }

    /// The answer when the namespace's labels are not needed; the selector when they are.
    fn decide_without_labels(&self, own_namespace: &str, namespace: &str) -> Result<Usage, &LabelSelector> {
        Ok(match self {
            AllowedNamespaces::All => Usage::Allowed,
            AllowedNamespaces::Same if own_namespace == namespace => Usage::Allowed,
            AllowedNamespaces::Same => Usage::Denied(format!(
                "allows only its own namespace '{}' (usagePolicy.allowedNamespaces.from: Same)",
                shorten(own_namespace)
            )),
            AllowedNamespaces::Selector(selector) if selector.matches_everything() => Usage::Allowed,
            AllowedNamespaces::Selector(selector) => return Err(selector),
        })
    }
}

fn by_labels(selector: &LabelSelector, labels: Result<StringMap, String>) -> Usage {
    match labels {
        Ok(labels) if selector.matches(&labels) => Usage::Allowed,
        Ok(_) => Usage::Denied(format!(
            "allows only namespaces whose labels match {} (usagePolicy.allowedNamespaces.selector)",
            selector.describe()
        )),
        Err(why) => Usage::Unknown(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(usage: Value) -> Result<AllowedNamespaces, String> {
        AllowedNamespaces::of(&json!({"spec": {"usagePolicy": usage}}))
    }

    fn labels(pairs: &[(&str, &str)]) -> impl FnOnce() -> Result<StringMap, String> {
        let map: StringMap = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move || Ok(map)
    }

    #[test]
    fn absent_means_same() {
        assert_eq!(AllowedNamespaces::of(&json!({"spec": {}})), Ok(AllowedNamespaces::Same));
        assert_eq!(policy(json!({"allowedNamespaces": {}})), Ok(AllowedNamespaces::Same));
        assert_eq!(
            policy(json!({"allowedNamespaces": {"from": "All"}})),
            Ok(AllowedNamespaces::All)
        );
    }

    #[test]
    fn each_rule_decides() {
        let same = AllowedNamespaces::Same;
        assert_eq!(same.decide("backup", "backup", labels(&[])), Usage::Allowed);
        assert_eq!(
            same.decide("backup", "demo", || unreachable!("no lookup for Same")),
            Usage::Denied("allows only its own namespace 'backup' (usagePolicy.allowedNamespaces.from: Same)".into())
        );
        let selector = policy(json!({"allowedNamespaces": {"from": "Selector", "selector": {
            "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["prod", "staging"]}]}}}))
        .unwrap();
        assert_eq!(
            selector.decide("backup", "prod", labels(&[("kubernetes.io/metadata.name", "prod")])),
            Usage::Allowed
        );
        assert_eq!(
            selector.decide("backup", "dev", labels(&[("kubernetes.io/metadata.name", "dev")])),
            Usage::Denied(
                "allows only namespaces whose labels match kubernetes.io/metadata.name in (prod,staging) \
                 (usagePolicy.allowedNamespaces.selector)"
                    .into()
            )
        );
        assert_eq!(
            selector.decide("backup", "dev", || Err("forbidden".into())),
            Usage::Unknown("forbidden".into())
        );
        let everything = policy(json!({"allowedNamespaces": {"from": "Selector", "selector": {}}})).unwrap();
        assert_eq!(
            everything.decide("b", "d", || unreachable!("{{}} matches all")),
            Usage::Allowed
        );
    }

    #[test]
    fn invalid_policies_say_why() {
        assert_eq!(
            policy(json!({"allowedNamespaces": {"from": "Selector"}})),
            Err("spec.usagePolicy.allowedNamespaces.selector: is missing, and from is Selector; KubeStash refuses it: add a selector".into())
        );
        assert_eq!(
            policy(json!({"allowedNamespaces": {"from": "Some"}})),
            Err("spec.usagePolicy.allowedNamespaces.from: 'Some' is none of All, Same, Selector".into())
        );
    }
}
