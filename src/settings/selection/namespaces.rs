//! The namespace part of a settings rule: `namespaces` (globs) and/or `namespaceSelector`,
//! matching a namespace when either does.

use serde_json::Value;

use super::glob::Glob;
use super::selector::LabelSelector;
use crate::report::list;
use crate::support::json_fields::{child, expect_list, expect_str, item};
use crate::support::string_map::StringMap;

/// Which namespaces a rule applies to. With neither part it applies to every namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NamespaceMatch {
    /// Namespace name globs; empty when `namespaces` was not given.
    pub namespaces: Vec<Glob>,
    /// Labels the Namespace must have, when `namespaceSelector` was given.
    pub selector: Option<LabelSelector>,
}

impl NamespaceMatch {
    /// Parses a rule's `namespaces` and `namespaceSelector` fields (`null` counts as absent);
    /// `path` is the rule's, e.g. `blueprintAccess[2]`. Every problem is reported, with the
    /// path of its field.
    pub fn parse(
        namespaces: Option<&Value>,
        selector: Option<&Value>,
        path: &str,
    ) -> Result<NamespaceMatch, Vec<String>> {
        let mut problems = Vec::new();
        let namespaces = namespaces
            .filter(|value| !value.is_null())
            .map(|value| parse_globs(value, &child(path, "namespaces"), &mut problems))
            .unwrap_or_default();
        let selector = selector.filter(|value| !value.is_null()).and_then(|value| {
            match LabelSelector::parse(value, &child(path, "namespaceSelector")) {
                Ok(selector) => Some(selector),
                Err(selector_problems) => {
                    problems.extend(selector_problems);
                    None
                }
            }
        });
        match problems.is_empty() {
            true => Ok(NamespaceMatch { namespaces, selector }),
            false => Err(problems),
        }
    }

    /// True when neither `namespaces` nor `namespaceSelector` was given: every namespace matches.
    pub fn is_unrestricted(&self) -> bool {
        self.namespaces.is_empty() && self.selector.is_none()
    }

    /// Whether one of the `namespaces` globs matches `namespace` (false when there are none).
    pub fn matches_by_name(&self, namespace: &str) -> bool {
        self.namespaces.iter().any(|glob| glob.matches(namespace))
    }

    /// Whether deciding about `namespace` needs its labels: the globs do not match it and
    /// there is a selector that depends on labels (`{}` does not).
    pub fn needs_labels(&self, namespace: &str) -> bool {
        self.selector
            .as_ref()
            .is_some_and(|selector| !selector.matches_everything())
            && !self.matches_by_name(namespace)
    }

    /// Whether the rule applies to `namespace`, whose labels are `labels`, or `None` when
    /// they could not be read: then only the globs (or an empty selector) can match.
    pub fn matches(&self, namespace: &str, labels: Option<&StringMap>) -> bool {
        self.is_unrestricted()
            || self.matches_by_name(namespace)
            || self.selector.as_ref().is_some_and(|selector| {
                selector.matches_everything() || labels.is_some_and(|labels| selector.matches(labels))
            })
    }

    /// The namespaces matched, for messages: `namespaces team-a-*, team-b or namespaces
    /// labelled team=payments`, `every namespace`, …
    pub fn describe(&self) -> String {
        let selects_everything = self.selector.as_ref().is_some_and(LabelSelector::matches_everything);
        if self.is_unrestricted() || selects_everything {
            return "every namespace".to_string();
        }
        let mut described = String::new();
        if !self.namespaces.is_empty() {
            let globs: Vec<String> = self.namespaces.iter().map(Glob::to_string).collect();
            described = format!("namespaces {}", list(&globs));
        }
        if let Some(selector) = &self.selector {
            if !described.is_empty() {
                described.push_str(" or ");
            }
            described.push_str("namespaces labelled ");
            described.push_str(&selector.describe());
        }
        described
    }
}

/// The globs of the `namespaces` list at `path`; an empty list is a problem, since it reads
/// as "no namespace" but would mean "every namespace".
fn parse_globs(value: &Value, path: &str, problems: &mut Vec<String>) -> Vec<Glob> {
    let items = match expect_list(value, path, "a list of namespace globs") {
        Ok(items) => items,
        Err(problem) => {
            problems.push(problem);
            return Vec::new();
        }
    };
    if items.is_empty() {
        problems.push(format!(
            "{path}: the list is empty; list namespace globs or leave the field out"
        ));
    }
    items
        .iter()
        .enumerate()
        .filter_map(|(index, value)| {
            let path = item(path, index);
            let parsed = expect_str(value, &path)
                .and_then(|pattern| Glob::parse(pattern).map_err(|why| format!("{path}: {why}")));
            parsed.map_err(|problem| problems.push(problem)).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(namespaces: Value, selector: Value) -> NamespaceMatch {
        NamespaceMatch::parse(Some(&namespaces), Some(&selector), "rule").unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> StringMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn decision_table() {
        let payments = labels(&[("team", "payments")]);
        let other = labels(&[("team", "web")]);
        let globs = json!(["team-a-*", "team-b"]);
        let selector = json!({"matchLabels": {"team": "payments"}});
        // (namespaces, selector, namespace, needs_labels, [labels payments, labels other, labels unreadable])
        let cases = [
            (json!(null), json!(null), "any", false, [true, true, true]),
            (globs.clone(), json!(null), "team-a-x", false, [true, true, true]),
            (globs.clone(), json!(null), "team-c", false, [false, false, false]),
            (json!(null), selector.clone(), "team-c", true, [true, false, false]),
            (globs.clone(), selector.clone(), "team-b", false, [true, true, true]),
            (globs.clone(), selector.clone(), "team-c", true, [true, false, false]),
            (json!(null), json!({}), "team-c", false, [true, true, true]),
            (globs.clone(), json!({}), "team-c", false, [true, true, true]),
        ];
        for (namespaces, selector, namespace, needs_labels, expected) in cases {
            let rule = parse(namespaces.clone(), selector.clone());
            let case = format!("{namespaces} {selector} {namespace}");
            assert_eq!(rule.needs_labels(namespace), needs_labels, "{case}");
            let got = [
                rule.matches(namespace, Some(&payments)),
                rule.matches(namespace, Some(&other)),
                rule.matches(namespace, None),
            ];
            assert_eq!(got, expected, "{case}");
        }
    }

    #[test]
    fn parts_given() {
        let unrestricted = NamespaceMatch::parse(None, None, "rule").unwrap();
        assert!(unrestricted.is_unrestricted());
        assert!(!unrestricted.matches_by_name("a"));
        assert_eq!(unrestricted, NamespaceMatch::default());
        assert!(!parse(json!(["a"]), json!(null)).is_unrestricted());
        assert!(!parse(json!(null), json!({})).is_unrestricted());
        let rule = parse(json!(["a", "b-*"]), json!(null));
        assert!(rule.matches_by_name("b-1"));
        assert!(!rule.matches_by_name("c"));
        assert_eq!(rule.namespaces.len(), 2);
    }

    #[test]
    fn descriptions() {
        let globs: Vec<String> = (0..12).map(|i| format!("ns-{i}")).collect();
        let cases = [
            (json!(null), json!(null), "every namespace"),
            (json!(["team-a"]), json!({}), "every namespace"),
            (
                json!(["team-a-*", "team-b"]),
                json!(null),
                "namespaces team-a-*, team-b",
            ),
            (
                json!(null),
                json!({"matchLabels": {"team": "payments"}}),
                "namespaces labelled team=payments",
            ),
            (
                json!(["team-a-*", "team-b"]),
                json!({"matchLabels": {"team": "payments"}}),
                "namespaces team-a-*, team-b or namespaces labelled team=payments",
            ),
            (
                json!(globs),
                json!(null),
                "namespaces ns-0, ns-1, ns-2, ns-3, ns-4, ns-5, ns-6, ns-7, ns-8, ns-9, … (12 in all)",
            ),
        ];
        for (namespaces, selector, expected) in cases {
            assert_eq!(
                parse(namespaces.clone(), selector.clone()).describe(),
                expected,
                "{namespaces} {selector}"
            );
        }
    }

    #[test]
    fn each_problem_has_an_exact_message() {
        let cases = [
            (
                json!("team-a"),
                json!(null),
                "rule.namespaces: expected a list of namespace globs, got a string",
            ),
            (
                json!([]),
                json!(null),
                "rule.namespaces: the list is empty; list namespace globs or leave the field out",
            ),
            (
                json!(["a", 3]),
                json!(null),
                "rule.namespaces[1]: expected a string, got a number",
            ),
            (
                json!(["a", "b", "c", "Team_A"]),
                json!(null),
                "rule.namespaces[3]: 'Team_A' has 'T', which is never in a Kubernetes name; use lower-case \
                 letters, digits, '-', '.', '*' (any run of characters) and '?' (exactly one character)",
            ),
            (
                json!([""]),
                json!(null),
                "rule.namespaces[0]: the pattern is empty; use lower-case letters, digits, '-', '.', '*' (any \
                 run of characters) and '?' (exactly one character)",
            ),
            (
                json!(null),
                json!("team=payments"),
                "rule.namespaceSelector: expected a label selector (a map with matchLabels and/or \
                 matchExpressions), got a string",
            ),
            (
                json!(null),
                json!({"matchExpressions": [{"key": "team", "operator": "Foo"}]}),
                "rule.namespaceSelector.matchExpressions[0].operator: 'Foo' is not a valid operator; use In, \
                 NotIn, Exists or DoesNotExist",
            ),
        ];
        for (namespaces, selector, expected) in cases {
            assert_eq!(
                NamespaceMatch::parse(Some(&namespaces), Some(&selector), "rule"),
                Err(vec![expected.to_string()]),
                "{namespaces} {selector}"
            );
        }
    }

    #[test]
    fn problems_of_both_parts_are_reported_together() {
        let problems = NamespaceMatch::parse(
            Some(&json!(["ok", "Bad"])),
            Some(&json!({"matchLabels": {"team": 1}})),
            "blueprintAccess[2]",
        )
        .unwrap_err();
        assert_eq!(
            problems,
            [
                "blueprintAccess[2].namespaces[1]: 'Bad' has 'B', which is never in a Kubernetes name; use \
                 lower-case letters, digits, '-', '.', '*' (any run of characters) and '?' (exactly one character)",
                "blueprintAccess[2].namespaceSelector.matchLabels.team: expected a string, got a number",
            ]
        );
        let top_level = NamespaceMatch::parse(Some(&json!([])), None, "").unwrap_err();
        assert_eq!(
            top_level,
            ["namespaces: the list is empty; list namespace globs or leave the field out"]
        );
    }
}
