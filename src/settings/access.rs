//! Blueprint access rules (setting `blueprintAccess`): which namespaces may use
//! which BackupBlueprint. Stash's blueprints are cluster-wide; these rules are the
//! admission-time counterpart of KubeStash's `usagePolicy.allowedNamespaces`.

use serde_json::Value;

use crate::report::Problem;
use crate::settings::fields;
use crate::settings::selection::{Glob, NamespaceMatch};
use crate::support::string_map::StringMap;

const RULE_FIELDS: [&str; 3] = ["blueprints", "namespaces", "namespaceSelector"];
/// A rejection describes at most this many rules.
const MAX_DESCRIBED_RULES: usize = 5;

/// One rule: the blueprints it names and the namespaces that may use them.
#[derive(Debug, Clone)]
pub struct AccessRule {
    pub blueprints: Vec<Glob>,
    pub namespaces: NamespaceMatch,
}

/// The rules, in settings order. No rule means every namespace may use every blueprint.
#[derive(Debug, Clone, Default)]
pub struct AccessRules {
    rules: Vec<AccessRule>,
}

/// Whether a namespace may use a blueprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Allowed,
    /// Forbidden; the text says what would allow it.
    Forbidden(String),
    /// The Namespace's labels were needed and could not be read: why.
    Unknown(String),
}

impl AccessRules {
    /// Parses the `blueprintAccess` setting; every problem names its field path.
    pub fn parse(value: Option<&Value>, path: &str) -> Result<AccessRules, Vec<Problem>> {
        fields::rules(value, path, parse_rule).map(|rules| AccessRules { rules })
    }

    /// The rules, in settings order.
    pub fn rules(&self) -> &[AccessRule] {
        &self.rules
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether `namespace` may use `blueprint`. `labels` reads the Namespace's labels; it is
    /// called only when a selector must decide.
    pub fn decide(
        &self,
        blueprint: &str,
        namespace: &str,
        labels: &mut dyn FnMut() -> Result<StringMap, String>,
    ) -> Access {
        if self.rules.is_empty() {
            return Access::Allowed;
        }
        let naming: Vec<&AccessRule> = self
            .rules
            .iter()
            .filter(|rule| rule.blueprints.iter().any(|glob| glob.matches(blueprint)))
            .collect();
        if naming.is_empty() {
            let namespace = crate::report::shorten(namespace);
            return Access::Forbidden(format!(
                "may not be used in namespace '{namespace}': no blueprintAccess rule lists it; \
                 use a blueprint allowed here or ask the cluster administrator to add a rule"
            ));
        }
        // By name, or by a selector that needs no labels (`{}` selects every namespace).
        if naming.iter().any(|rule| rule.namespaces.matches(namespace, None)) {
            return Access::Allowed;
        }
        if naming.iter().any(|rule| rule.namespaces.needs_labels(namespace)) {
            let labels = match labels() {
                Ok(labels) => labels,
                Err(why) => return Access::Unknown(why),
            };
            if naming
                .iter()
                .any(|rule| rule.namespaces.matches(namespace, Some(&labels)))
            {
                return Access::Allowed;
            }
        }
        let namespace = crate::report::shorten(namespace);
        Access::Forbidden(format!(
            "may not be used in namespace '{namespace}': blueprintAccess allows it only in {}; \
             use a blueprint allowed here or ask the cluster administrator",
            describe_rules(&naming)
        ))
    }

    /// The blueprint names or globs `namespace` may use (`None`: every blueprint, there is no
    /// rule). `labels` is called only when a selector must decide; `Err` is why it failed.
    pub fn usable_in(
        &self,
        namespace: &str,
        labels: &mut dyn FnMut() -> Result<StringMap, String>,
    ) -> Result<Option<Vec<String>>, String> {
        if self.rules.is_empty() {
            return Ok(None);
        }
        let mut read: Option<StringMap> = None;
        let mut usable = Vec::new();
        for rule in &self.rules {
            let allowed = match rule.namespaces.needs_labels(namespace) {
                false => rule.namespaces.matches(namespace, None),
                true => {
                    if read.is_none() {
                        read = Some(labels()?);
                    }
                    rule.namespaces.matches(namespace, read.as_ref())
                }
            };
            if allowed {
                usable.extend(rule.blueprints.iter().map(|glob| glob.to_string()));
            }
        }
        usable.dedup();
        Ok(Some(usable))
    }
}

/// `A; or B; or 2 more rules`: where the rules naming a blueprint allow it.
fn describe_rules(rules: &[&AccessRule]) -> String {
    let mut text: Vec<String> = rules
        .iter()
        .take(MAX_DESCRIBED_RULES)
        .map(|rule| rule.namespaces.describe())
        .collect();
    if rules.len() > MAX_DESCRIBED_RULES {
        text.push(format!("{} more rules", rules.len() - MAX_DESCRIBED_RULES));
    }
    text.join("; or ")
}

fn parse_rule(item: &Value, path: &str, problems: &mut Vec<Problem>) -> Option<AccessRule> {
    let before = problems.len();
    let what = "a rule with blueprints and namespaces or namespaceSelector";
    let rule = fields::object(item, path, &RULE_FIELDS, what, problems)?;
    let blueprints = fields::blueprint_globs(rule.get("blueprints"), &format!("{path}.blueprints"), problems);
    if !rule.contains_key("namespaces") && !rule.contains_key("namespaceSelector") {
        problems.push(Problem::setting(
            path,
            "needs namespaces or namespaceSelector (or both): the namespaces that may use these blueprints",
        ));
    }
    let namespaces = fields::namespaces(rule, path, problems)?;
    (problems.len() == before).then_some(AccessRule { blueprints, namespaces })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render;
    use serde_json::json;

    fn rules(value: Value) -> AccessRules {
        AccessRules::parse(Some(&value), "blueprintAccess").unwrap()
    }

    fn team_rules() -> AccessRules {
        rules(json!([
            {"blueprints": ["team-a-*"], "namespaces": ["team-a", "team-a-*"]},
            {"blueprints": ["shared-?"], "namespaceSelector": {"matchLabels": {"backup": "shared"}}},
            {"blueprints": ["shared-?", "gold"], "namespaces": ["prod-*"], "namespaceSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold"]}]}},
        ]))
    }

    /// Decides with `labels` (None: the lookup fails) and returns the decision and the number
    /// of label lookups made.
    fn decide(
        rules: &AccessRules,
        blueprint: &str,
        namespace: &str,
        labels: Option<&[(&str, &str)]>,
    ) -> (Access, usize) {
        let mut lookups = 0;
        let mut read = || {
            lookups += 1;
            labels
                .map(|pairs| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
                .ok_or_else(|| "down".to_string())
        };
        let access = rules.decide(blueprint, namespace, &mut read);
        (access, lookups)
    }

    #[test]
    fn no_rules_allow_everything_without_a_lookup() {
        assert_eq!(decide(&AccessRules::default(), "any", "ns", None), (Access::Allowed, 0));
    }

    #[test]
    fn decisions() {
        let rules = team_rules();
        let shared = [("backup", "shared")];
        let gold = [("tier", "gold")];
        type Labels<'a> = Option<&'a [(&'a str, &'a str)]>;
        let cases: [(&str, &str, Labels, bool, usize); 10] = [
            ("team-a-daily", "team-a", None, true, 0),
            ("team-a-daily", "team-a-dev", None, true, 0),
            ("team-a-daily", "team-b", None, false, 0),
            ("shared-1", "team-b", Some(&shared), true, 1),
            ("shared-1", "team-b", Some(&[]), false, 1),
            ("shared-12", "team-b", Some(&shared), false, 0),
            ("shared-1", "prod-eu", None, true, 0),
            ("gold", "team-b", Some(&gold), true, 1),
            ("gold", "team-b", Some(&[("tier", "silver")]), false, 1),
            ("other", "team-a", None, false, 0),
        ];
        for (blueprint, namespace, labels, allowed, lookups) in cases {
            let (access, made) = decide(&rules, blueprint, namespace, labels);
            assert_eq!(
                access == Access::Allowed,
                allowed,
                "{blueprint} in {namespace}: {access:?}"
            );
            assert_eq!(made, lookups, "{blueprint} in {namespace}: lookups");
        }
    }

    #[test]
    fn an_empty_selector_selects_every_namespace_without_a_lookup() {
        let rules = rules(json!([{"blueprints": ["shared-gcs"], "namespaceSelector": {}}]));
        assert_eq!(decide(&rules, "shared-gcs", "team-b", None), (Access::Allowed, 0));
        let mut never = || -> Result<StringMap, String> { unreachable!("no label lookup") };
        assert_eq!(
            rules.usable_in("team-b", &mut never),
            Ok(Some(vec!["shared-gcs".into()]))
        );
    }

    #[test]
    fn a_failed_label_lookup_leaves_the_decision_open() {
        assert_eq!(
            decide(&team_rules(), "shared-1", "team-b", None),
            (Access::Unknown("down".into()), 1)
        );
    }

    #[test]
    fn forbidden_says_what_would_allow_it_from_the_rules_naming_the_blueprint() {
        let rules = team_rules();
        assert_eq!(
            decide(&rules, "gold", "team-b", Some(&[])).0,
            Access::Forbidden(
                "may not be used in namespace 'team-b': blueprintAccess allows it only in namespaces prod-* \
                 or namespaces labelled tier in (gold); use a blueprint allowed here or ask the cluster administrator"
                    .into()
            )
        );
        assert_eq!(
            decide(&rules, "shared-1", "team-b", Some(&[])).0,
            Access::Forbidden(
                "may not be used in namespace 'team-b': blueprintAccess allows it only in namespaces labelled backup=shared; \
                 or namespaces prod-* or namespaces labelled tier in (gold); use a blueprint allowed here or ask the cluster administrator"
                    .into()
            )
        );
        assert_eq!(
            decide(&rules, "other", "team-a", None).0,
            Access::Forbidden(
                "may not be used in namespace 'team-a': no blueprintAccess rule lists it; \
                 use a blueprint allowed here or ask the cluster administrator to add a rule"
                    .into()
            )
        );
    }

    #[test]
    fn invalid_rules_name_their_field_path() {
        let cases = [
            (json!({}), vec!["blueprintAccess: expected a list of rules, got a map"]),
            (
                json!([1]),
                vec![
                    "blueprintAccess[0]: expected a rule with blueprints and namespaces or namespaceSelector, got a number",
                ],
            ),
            (
                json!([{"blueprints": ["a"]}]),
                vec![
                    "blueprintAccess[0]: needs namespaces or namespaceSelector (or both): the namespaces that may use these blueprints",
                ],
            ),
            (
                json!([{"namespaces": ["a"]}, {"blueprints": [], "namespaces": ["a"]}, {"blueprints": "a", "namespaces": ["a"]}]),
                vec![
                    "blueprintAccess[0].blueprints: is required: a non-empty list of blueprint names or globs",
                    "blueprintAccess[1].blueprints: is required: a non-empty list of blueprint names or globs",
                    "blueprintAccess[2].blueprints: expected a list of blueprint names or globs, got a string",
                ],
            ),
            (
                json!([{"blueprints": ["A", 3], "namespaces": ["a"], "namespace": "x"}]),
                vec![
                    "blueprintAccess[0].namespace: unknown field; expected blueprints, namespaces or namespaceSelector",
                    "blueprintAccess[0].blueprints[0]: 'A' has 'A', which is never in a Kubernetes name; use lower-case letters, \
                     digits, '-', '.', '*' (any run of characters) and '?' (exactly one character)",
                    "blueprintAccess[0].blueprints[1]: expected a string, got a number",
                ],
            ),
            (
                json!([{"blueprints": ["a"], "namespaceSelector": {"matchExpressions": [{"key": "k", "operator": "Has"}]}}]),
                vec![
                    "blueprintAccess[0].namespaceSelector.matchExpressions[0].operator: 'Has' is not a valid operator; \
                     use In, NotIn, Exists or DoesNotExist",
                ],
            ),
        ];
        for (value, expected) in cases {
            let problems = AccessRules::parse(Some(&value), "blueprintAccess").unwrap_err();
            assert_eq!(render(&problems), expected, "{value}");
        }
    }

    #[test]
    fn absent_or_null_is_no_rule() {
        assert!(AccessRules::parse(None, "blueprintAccess").unwrap().is_empty());
        assert!(
            AccessRules::parse(Some(&Value::Null), "blueprintAccess")
                .unwrap()
                .is_empty()
        );
    }
}
