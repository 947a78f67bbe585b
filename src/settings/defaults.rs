//! `defaultBlueprints`: ordered rules that give a target without the trigger a
//! blueprint, by kind and namespace (namespace tiers).

use serde_json::Value;

use crate::report::{Problem, shorten};
use crate::settings::fields;
use crate::settings::selection::NamespaceMatch;
use crate::support::json_fields::expected;
use crate::target::naming::{is_dns1123_label, is_dns1123_subdomain};

const FIELDS: [&str; 4] = ["kinds", "blueprint", "namespaces", "namespaceSelector"];

#[derive(Debug, Clone)]
pub struct DefaultRule {
    pub kinds: Vec<String>,
    pub blueprint: String,
    /// Where it applies; unrestricted when neither `namespaces` nor `namespaceSelector` is set.
    pub namespaces: NamespaceMatch,
}

/// The rules, in settings order: the first that matches a target wins.
#[derive(Debug, Clone, Default)]
pub struct DefaultBlueprints {
    pub rules: Vec<DefaultRule>,
}

impl DefaultBlueprints {
    pub fn parse(value: Option<&Value>, path: &str) -> Result<DefaultBlueprints, Vec<Problem>> {
        fields::rules(value, path, parse_rule).map(|rules| DefaultBlueprints { rules })
    }

    /// The rules that name `kind`, in order.
    pub fn for_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a DefaultRule> {
        self.rules
            .iter()
            .filter(move |rule| rule.kinds.iter().any(|k| k == kind))
    }
}

/// A Stash blueprint's name, or a KubeStash blueprint's `<namespace>/<name>`.
fn is_blueprint_reference(reference: &str) -> bool {
    match reference.split_once('/') {
        Some((namespace, name)) => is_dns1123_label(namespace) && is_dns1123_subdomain(name),
        None => is_dns1123_subdomain(reference),
    }
}

fn parse_rule(item: &Value, path: &str, problems: &mut Vec<Problem>) -> Option<DefaultRule> {
    let before = problems.len();
    let what = "a rule with kinds and blueprint, and optionally namespaces and namespaceSelector";
    let rule = fields::object(item, path, &FIELDS, what, problems)?;
    let kinds = fields::kinds(rule.get("kinds"), &format!("{path}.kinds"), problems);
    let blueprint = match rule.get("blueprint") {
        Some(Value::String(name)) if is_blueprint_reference(name) => name.to_string(),
        Some(Value::String(name)) => {
            problems.push(Problem::setting(
                format!("{path}.blueprint"),
                format!(
                    "'{}' is not a valid BackupBlueprint name (Stash's, or KubeStash's <namespace>/<name>)",
                    shorten(name)
                ),
            ));
            String::new()
        }
        None | Some(Value::Null) => {
            problems.push(Problem::setting(
                format!("{path}.blueprint"),
                "is required: the name of the BackupBlueprint to use",
            ));
            String::new()
        }
        Some(other) => {
            let what = "the name of the BackupBlueprint to use";
            problems.push(Problem::setting(format!("{path}.blueprint"), expected(what, other)));
            String::new()
        }
    };
    let namespaces = fields::namespaces(rule, path, problems)?;
    (problems.len() == before).then_some(DefaultRule {
        kinds,
        blueprint,
        namespaces,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render;
    use serde_json::json;

    #[test]
    fn rules_keep_their_order_and_filter_by_kind() {
        let defaults = DefaultBlueprints::parse(
            Some(&json!([
                {"kinds": ["StatefulSet"], "blueprint": "gold", "namespaceSelector": {"matchLabels": {"tier": "gold"}}},
                {"kinds": ["StatefulSet", "PersistentVolumeClaim"], "blueprint": "bronze"},
            ])),
            "defaultBlueprints",
        )
        .unwrap();
        let names: Vec<&str> = defaults.for_kind("StatefulSet").map(|r| r.blueprint.as_str()).collect();
        assert_eq!(names, ["gold", "bronze"]);
        assert_eq!(defaults.for_kind("Deployment").count(), 0);
    }

    #[test]
    fn invalid_rules_name_their_field_path() {
        let problems = DefaultBlueprints::parse(
            Some(&json!([
                {"kinds": ["StatefulSet"]},
                {"kinds": ["StatefulSet"], "blueprint": "Gold"},
                {"kinds": ["StatefulSet"], "blueprint": ["gold"]},
            ])),
            "defaultBlueprints",
        )
        .unwrap_err();
        assert_eq!(
            render(&problems),
            [
                "defaultBlueprints[0].blueprint: is required: the name of the BackupBlueprint to use",
                "defaultBlueprints[1].blueprint: 'Gold' is not a valid BackupBlueprint name (Stash's, or KubeStash's <namespace>/<name>)",
                "defaultBlueprints[2].blueprint: expected the name of the BackupBlueprint to use, got a list",
            ]
        );
        assert_eq!(
            render(&DefaultBlueprints::parse(Some(&json!({})), "defaultBlueprints").unwrap_err()),
            ["defaultBlueprints: expected a list of rules, got a map"]
        );
    }
}
