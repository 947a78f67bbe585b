//! Kubernetes label selectors (`metav1.LabelSelector`): parsed from settings JSON, validated
//! like the API server validates one (`ValidateLabelSelector`), matched against a Namespace's
//! labels, and described the way kubectl prints selectors.

use serde_json::Value;

use super::labels::{label_key_problem, label_value_problem};
use crate::report::shorten;
use crate::support::json_fields::{child, expect_list, expect_map, expect_str, field, item, unknown_fields};
use crate::support::string_map::StringMap;

/// At most this many requirements, and values per requirement, are described.
const MAX_DESCRIBED: usize = 10;
const USE_OPERATORS: &str = "use In, NotIn, Exists or DoesNotExist";

/// A label selector: every `matchLabels` pair and every requirement must hold; an empty
/// selector matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    /// Labels that must be present with exactly these values.
    pub match_labels: StringMap,
    /// The `matchExpressions`, in the order given.
    pub match_expressions: Vec<Requirement>,
}

/// One `matchExpressions` entry, e.g. `tier in (gold,silver)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The label key tested, a valid qualified name.
    pub key: String,
    /// How the key is tested.
    pub operator: Operator,
    /// Non-empty for `In` and `NotIn`, empty for `Exists` and `DoesNotExist`.
    pub values: Vec<String>,
}

/// How a requirement tests its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// The label is present with one of the values.
    In,
    /// The label is absent or has none of the values.
    NotIn,
    /// The label is present, whatever its value.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

impl LabelSelector {
    /// Parses and validates the selector `value` found at `path`; every problem is reported,
    /// each prefixed with the path of the field it is about.
    pub fn parse(value: &Value, path: &str) -> Result<LabelSelector, Vec<String>> {
        let expected = "a label selector (a map with matchLabels and/or matchExpressions)";
        let map = expect_map(value, path, expected).map_err(|e| vec![e])?;
        let mut problems = unknown_fields(map, &["matchLabels", "matchExpressions"], path);
        let match_labels = field(map, "matchLabels")
            .map(|labels| parse_match_labels(labels, &child(path, "matchLabels"), &mut problems))
            .unwrap_or_default();
        let match_expressions = field(map, "matchExpressions")
            .map(|list| parse_match_expressions(list, &child(path, "matchExpressions"), &mut problems))
            .unwrap_or_default();
        match problems.is_empty() {
            true => Ok(LabelSelector {
                match_labels,
                match_expressions,
            }),
            false => Err(problems),
        }
    }

    /// True for the empty selector `{}`, which matches whatever the labels (none needed).
    pub fn matches_everything(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Whether `labels` satisfy every `matchLabels` pair and every requirement.
    pub fn matches(&self, labels: &StringMap) -> bool {
        self.match_labels
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value))
            && self
                .match_expressions
                .iter()
                .all(|requirement| requirement.matches(labels))
    }

    /// The selector as kubectl prints one, e.g. `team=payments,tier in (gold,silver),!legacy`;
    /// `<everything>` for the empty selector. Bounded: long parts are shortened, and at most
    /// 10 requirements are shown.
    pub fn describe(&self) -> String {
        if self.matches_everything() {
            return "<everything>".to_string();
        }
        let total = self.match_labels.len() + self.match_expressions.len();
        let mut shown: Vec<String> = Vec::new();
        for (key, value) in self.match_labels.iter() {
            if shown.len() == MAX_DESCRIBED {
                break;
            }
            shown.push(shorten(&format!("{key}={value}")));
        }
        for requirement in &self.match_expressions {
            if shown.len() == MAX_DESCRIBED {
                break;
            }
            shown.push(shorten(&requirement.describe()));
        }
        match total > MAX_DESCRIBED {
            true => format!("{},… ({total} in all)", shown.join(",")),
            false => shown.join(","),
        }
    }
}

impl Requirement {
    /// Whether `labels` satisfy this requirement; `NotIn` and `DoesNotExist` hold for an absent key.
    pub fn matches(&self, labels: &StringMap) -> bool {
        let has_listed_value = || {
            labels
                .get(&self.key)
                .is_some_and(|value| self.values.iter().any(|listed| listed == value))
        };
        match self.operator {
            Operator::In => has_listed_value(),
            Operator::NotIn => !has_listed_value(),
            Operator::Exists => labels.contains_key(&self.key),
            Operator::DoesNotExist => !labels.contains_key(&self.key),
        }
    }

    /// `key in (a,b)`, `key notin (a,b)`, `key` or `!key`, with at most 10 values shown.
    pub fn describe(&self) -> String {
        match self.operator {
            Operator::In => format!("{} in ({})", self.key, self.described_values()),
            Operator::NotIn => format!("{} notin ({})", self.key, self.described_values()),
            Operator::Exists => self.key.clone(),
            Operator::DoesNotExist => format!("!{}", self.key),
        }
    }

    fn described_values(&self) -> String {
        let shown: Vec<&str> = self.values.iter().take(MAX_DESCRIBED).map(String::as_str).collect();
        match self.values.len() > MAX_DESCRIBED {
            true => format!("{},…", shown.join(",")),
            false => shown.join(","),
        }
    }
}

impl Operator {
    /// The operator named `name`, spelled as in Kubernetes.
    pub fn parse(name: &str) -> Option<Operator> {
        match name {
            "In" => Some(Operator::In),
            "NotIn" => Some(Operator::NotIn),
            "Exists" => Some(Operator::Exists),
            "DoesNotExist" => Some(Operator::DoesNotExist),
            _ => None,
        }
    }

    /// The operator's name, spelled as in Kubernetes.
    pub fn name(self) -> &'static str {
        match self {
            Operator::In => "In",
            Operator::NotIn => "NotIn",
            Operator::Exists => "Exists",
            Operator::DoesNotExist => "DoesNotExist",
        }
    }

    /// `In` and `NotIn` need values; `Exists` and `DoesNotExist` take none.
    fn takes_values(self) -> bool {
        matches!(self, Operator::In | Operator::NotIn)
    }
}

fn parse_match_labels(value: &Value, path: &str, problems: &mut Vec<String>) -> StringMap {
    let map = match expect_map(value, path, "a map of label keys to values") {
        Ok(map) => map,
        Err(problem) => {
            problems.push(problem);
            return StringMap::new();
        }
    };
    let mut labels = StringMap::new();
    for (key, value) in map {
        if let Some(why) = label_key_problem(key) {
            problems.push(format!("{path}: '{}' is not a valid label key: {why}", shorten(key)));
        }
        if let Some(value) = parse_label_value(value, &child(path, &shorten(key)), problems) {
            labels.insert(key.clone(), value);
        }
    }
    labels
}

fn parse_match_expressions(value: &Value, path: &str, problems: &mut Vec<String>) -> Vec<Requirement> {
    match expect_list(value, path, "a list of requirements") {
        Ok(items) => {
            let mut requirements = Vec::new();
            for (index, requirement) in items.iter().enumerate() {
                if let Some(requirement) = parse_requirement(requirement, &item(path, index), problems) {
                    requirements.push(requirement);
                }
            }
            requirements
        }
        Err(problem) => {
            problems.push(problem);
            Vec::new()
        }
    }
}

/// The requirement at `path`, or `None` after recording why it is not one.
fn parse_requirement(value: &Value, path: &str, problems: &mut Vec<String>) -> Option<Requirement> {
    let expected = "a requirement (a map with key, operator and values)";
    let map = expect_map(value, path, expected).map_err(|e| problems.push(e)).ok()?;
    problems.extend(unknown_fields(map, &["key", "operator", "values"], path));
    let key = parse_key(field(map, "key"), &child(path, "key"), problems);
    let operator = parse_operator(field(map, "operator"), &child(path, "operator"), problems);
    let values = parse_values(field(map, "values"), &child(path, "values"), problems);
    // Counted as given, so that an invalid value is not also reported as a missing one.
    let given = match field(map, "values") {
        None => Some(0),
        Some(Value::Array(items)) => Some(items.len()),
        Some(_) => None,
    };
    if let (Some(operator), Some(given)) = (operator, given) {
        check_value_count(operator, given, &child(path, "values"), problems);
    }
    Some(Requirement {
        key: key?,
        operator: operator?,
        values,
    })
}

fn parse_key(value: Option<&Value>, path: &str, problems: &mut Vec<String>) -> Option<String> {
    let Some(value) = value else {
        problems.push(format!("{path}: missing; give the label key to test"));
        return None;
    };
    let key = expect_str(value, path).map_err(|e| problems.push(e)).ok()?;
    match label_key_problem(key) {
        Some(why) => {
            problems.push(format!("{path}: '{}' is not a valid label key: {why}", shorten(key)));
            None
        }
        None => Some(key.to_string()),
    }
}

fn parse_operator(value: Option<&Value>, path: &str, problems: &mut Vec<String>) -> Option<Operator> {
    let Some(value) = value else {
        problems.push(format!("{path}: missing; {USE_OPERATORS}"));
        return None;
    };
    let name = expect_str(value, path).map_err(|e| problems.push(e)).ok()?;
    let operator = Operator::parse(name);
    if operator.is_none() {
        problems.push(format!(
            "{path}: '{}' is not a valid operator; {USE_OPERATORS}",
            shorten(name)
        ));
    }
    operator
}

fn parse_values(value: Option<&Value>, path: &str, problems: &mut Vec<String>) -> Vec<String> {
    let Some(value) = value else {
        return Vec::new();
    };
    match expect_list(value, path, "a list of label values") {
        Ok(items) => {
            let mut values = Vec::new();
            for (index, value) in items.iter().enumerate() {
                if let Some(value) = parse_label_value(value, &item(path, index), problems) {
                    values.push(value);
                }
            }
            values
        }
        Err(problem) => {
            problems.push(problem);
            Vec::new()
        }
    }
}

/// The label value at `path`, or `None` after recording why it is not one.
fn parse_label_value(value: &Value, path: &str, problems: &mut Vec<String>) -> Option<String> {
    let text = expect_str(value, path).map_err(|e| problems.push(e)).ok()?;
    match label_value_problem(text) {
        Some(why) => {
            problems.push(format!("{path}: '{}' is not a valid label value: {why}", shorten(text)));
            None
        }
        None => Some(text.to_string()),
    }
}

fn check_value_count(operator: Operator, given: usize, path: &str, problems: &mut Vec<String>) {
    let name = operator.name();
    match (operator.takes_values(), given == 0) {
        (true, true) => problems.push(format!("{path}: the {name} operator needs at least one value")),
        (false, false) => problems.push(format!("{path}: the {name} operator takes no values")),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn selector(value: Value) -> LabelSelector {
        LabelSelector::parse(&value, "s").unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> StringMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn expression(key: &str, operator: &str, values: &[&str]) -> Value {
        json!({"matchExpressions": [{"key": key, "operator": operator, "values": values}]})
    }

    #[test]
    fn operators_with_the_key_present_and_absent() {
        let gold = labels(&[("tier", "gold")]);
        let bronze = labels(&[("tier", "bronze")]);
        let none = labels(&[("team", "a")]);
        let cases = [
            (expression("tier", "In", &["gold", "silver"]), [true, false, false]),
            (expression("tier", "NotIn", &["gold", "silver"]), [false, true, true]),
            (expression("tier", "Exists", &[]), [true, true, false]),
            (expression("tier", "DoesNotExist", &[]), [false, false, true]),
            (json!({"matchLabels": {"tier": "gold"}}), [true, false, false]),
            (json!({"matchLabels": {"tier": ""}}), [false, false, false]),
            (json!({}), [true, true, true]),
            (json!({"matchLabels": {}, "matchExpressions": []}), [true, true, true]),
            (
                json!({"matchLabels": null, "matchExpressions": null}),
                [true, true, true],
            ),
        ];
        for (value, expected) in cases {
            let s = selector(value.clone());
            let got = [s.matches(&gold), s.matches(&bronze), s.matches(&none)];
            assert_eq!(got, expected, "{value}");
        }
    }

    #[test]
    fn no_labels_at_all() {
        let empty = StringMap::new();
        assert!(selector(json!({})).matches(&empty));
        assert!(!selector(json!({"matchLabels": {"team": "a"}})).matches(&empty));
        assert!(!selector(expression("team", "In", &["a"])).matches(&empty));
        assert!(selector(expression("team", "NotIn", &["a"])).matches(&empty));
        assert!(!selector(expression("team", "Exists", &[])).matches(&empty));
        assert!(selector(expression("team", "DoesNotExist", &[])).matches(&empty));
    }

    #[test]
    fn match_labels_and_expressions_are_all_required() {
        let s = selector(json!({
            "matchLabels": {"team": "payments", "env": "prod"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["gold", "silver"]},
                {"key": "legacy", "operator": "DoesNotExist"}
            ]
        }));
        let cases = [
            (vec![("team", "payments"), ("env", "prod"), ("tier", "gold")], true),
            (
                vec![("team", "payments"), ("env", "prod"), ("tier", "silver"), ("x", "y")],
                true,
            ),
            (vec![("team", "payments"), ("env", "dev"), ("tier", "gold")], false),
            (vec![("team", "payments"), ("tier", "gold")], false),
            (vec![("team", "payments"), ("env", "prod")], false),
            (
                vec![("team", "payments"), ("env", "prod"), ("tier", "gold"), ("legacy", "")],
                false,
            ),
        ];
        for (pairs, expected) in cases {
            assert_eq!(s.matches(&labels(&pairs)), expected, "{pairs:?}");
        }
        assert!(!s.matches_everything());
        assert!(selector(json!({})).matches_everything());
    }

    #[test]
    fn parsed_structure() {
        let s = selector(json!({
            "matchLabels": {"app.kubernetes.io/part-of": "shop"},
            "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["", "bronze"]}]
        }));
        assert_eq!(s.match_labels, labels(&[("app.kubernetes.io/part-of", "shop")]));
        assert_eq!(
            s.match_expressions,
            [Requirement {
                key: "tier".to_string(),
                operator: Operator::NotIn,
                values: vec![String::new(), "bronze".to_string()],
            }]
        );
    }

    #[test]
    fn each_problem_has_an_exact_message() {
        let long = "v".repeat(100);
        let cases = [
            (
                json!([]),
                "p: expected a label selector (a map with matchLabels and/or matchExpressions), got a list",
            ),
            (
                json!({"matchLabel": {}}),
                "p.matchLabel: unknown field; expected matchLabels or matchExpressions",
            ),
            (
                json!({"matchLabels": []}),
                "p.matchLabels: expected a map of label keys to values, got a list",
            ),
            (
                json!({"matchLabels": {"tier": 1}}),
                "p.matchLabels.tier: expected a string, got a number",
            ),
            (
                json!({"matchLabels": {"team": "a b"}}),
                "p.matchLabels.team: 'a b' is not a valid label value: it must be letters, digits, '-', '_' \
                 and '.', starting and ending with a letter or digit (or empty)",
            ),
            (
                json!({"matchLabels": {"team": long}}),
                "p.matchLabels.team: 'vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv…' \
                 is not a valid label value: it is longer than 63 characters",
            ),
            (
                json!({"matchLabels": {"Team Name": "a"}}),
                "p.matchLabels: 'Team Name' is not a valid label key: it must be letters, digits, '-', '_' and \
                 '.', starting and ending with a letter or digit",
            ),
            (
                json!({"matchExpressions": {}}),
                "p.matchExpressions: expected a list of requirements, got a map",
            ),
            (
                json!({"matchExpressions": ["tier"]}),
                "p.matchExpressions[0]: expected a requirement (a map with key, operator and values), got a string",
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "Exists", "value": "x"}]}),
                "p.matchExpressions[0].value: unknown field; expected key, operator or values",
            ),
            (
                json!({"matchExpressions": [{"operator": "Exists"}]}),
                "p.matchExpressions[0].key: missing; give the label key to test",
            ),
            (
                json!({"matchExpressions": [{"key": 7, "operator": "Exists"}]}),
                "p.matchExpressions[0].key: expected a string, got a number",
            ),
            (
                json!({"matchExpressions": [{"key": "example.com/", "operator": "Exists"}]}),
                "p.matchExpressions[0].key: 'example.com/' is not a valid label key: the name after '/' is empty",
            ),
            (
                json!({"matchExpressions": [{"key": "tier"}]}),
                "p.matchExpressions[0].operator: missing; use In, NotIn, Exists or DoesNotExist",
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "Foo"}]}),
                "p.matchExpressions[0].operator: 'Foo' is not a valid operator; use In, NotIn, Exists or \
                 DoesNotExist",
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "in", "values": ["a"]}]}),
                "p.matchExpressions[0].operator: 'in' is not a valid operator; use In, NotIn, Exists or \
                 DoesNotExist",
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": ["In"]}]}),
                "p.matchExpressions[0].operator: expected a string, got a list",
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "In"}]}),
                "p.matchExpressions[0].values: the In operator needs at least one value",
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": []}]}),
                "p.matchExpressions[0].values: the NotIn operator needs at least one value",
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "Exists", "values": ["a"]}]}),
                "p.matchExpressions[0].values: the Exists operator takes no values",
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist", "values": [""]}]}),
                "p.matchExpressions[0].values: the DoesNotExist operator takes no values",
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": "gold"}]}),
                "p.matchExpressions[0].values: expected a list of label values, got a string",
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": [true]}]}),
                "p.matchExpressions[0].values[0]: expected a string, got a boolean",
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["-gold"]}]}),
                "p.matchExpressions[0].values[0]: '-gold' is not a valid label value: it must be letters, \
                 digits, '-', '_' and '.', starting and ending with a letter or digit (or empty)",
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(
                LabelSelector::parse(&value, "p"),
                Err(vec![expected.to_string()]),
                "{value}"
            );
        }
    }

    #[test]
    fn every_problem_is_reported() {
        let value = json!({
            "matchLabels": {"ok": "fine", "bad key": "bad value"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["gold"]},
                {"key": "", "operator": "Maybe", "values": ["x y"]},
                {}
            ]
        });
        assert_eq!(
            LabelSelector::parse(&value, "blueprintAccess[2].namespaceSelector"),
            Err(vec![
                "blueprintAccess[2].namespaceSelector.matchLabels: 'bad key' is not a valid label key: it must be \
                 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
                    .to_string(),
                "blueprintAccess[2].namespaceSelector.matchLabels.bad key: 'bad value' is not a valid label value: \
                 it must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit (or empty)"
                    .to_string(),
                "blueprintAccess[2].namespaceSelector.matchExpressions[1].key: '' is not a valid label key: it is \
                 empty"
                    .to_string(),
                "blueprintAccess[2].namespaceSelector.matchExpressions[1].operator: 'Maybe' is not a valid \
                 operator; use In, NotIn, Exists or DoesNotExist"
                    .to_string(),
                "blueprintAccess[2].namespaceSelector.matchExpressions[1].values[0]: 'x y' is not a valid label \
                 value: it must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit \
                 (or empty)"
                    .to_string(),
                "blueprintAccess[2].namespaceSelector.matchExpressions[2].key: missing; give the label key to test"
                    .to_string(),
                "blueprintAccess[2].namespaceSelector.matchExpressions[2].operator: missing; use In, NotIn, \
                 Exists or DoesNotExist"
                    .to_string(),
            ])
        );
    }

    #[test]
    fn descriptions() {
        let many_values: Vec<String> = (0..12).map(|i| format!("v{i}")).collect();
        let many_labels: serde_json::Map<String, Value> = (0..12).map(|i| (format!("k{i:02}"), json!("v"))).collect();
        let cases = [
            (json!({}), "<everything>".to_string()),
            (
                json!({
                    "matchLabels": {"team": "payments"},
                    "matchExpressions": [
                        {"key": "tier", "operator": "In", "values": ["gold", "silver"]},
                        {"key": "legacy", "operator": "DoesNotExist"},
                        {"key": "env", "operator": "Exists"},
                        {"key": "zone", "operator": "NotIn", "values": ["a"]}
                    ]
                }),
                "team=payments,tier in (gold,silver),!legacy,env,zone notin (a)".to_string(),
            ),
            (
                expression(
                    "tier",
                    "In",
                    &many_values.iter().map(String::as_str).collect::<Vec<_>>(),
                ),
                "tier in (v0,v1,v2,v3,v4,v5,v6,v7,v8,v9,…)".to_string(),
            ),
            (
                json!({"matchLabels": many_labels}),
                "k00=v,k01=v,k02=v,k03=v,k04=v,k05=v,k06=v,k07=v,k08=v,k09=v,… (12 in all)".to_string(),
            ),
            (
                json!({"matchLabels": {"app.kubernetes.io/name": "t".repeat(63), "x": ""}}),
                format!("app.kubernetes.io/name={}…,x=", "t".repeat(57)),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(selector(value.clone()).describe(), expected, "{value}");
        }
    }
}
