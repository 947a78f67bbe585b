//! `kubestash`: what the policy adds to KubeStash's variables. `pinnedVariables` gives a
//! variable the target's own fact, whatever the owner writes (a tenant cannot name another
//! tenant's directory); `valuePattern` bounds every variable value.

use serde_json::Value;

use crate::report::{Problem, shorten};
use crate::settings::fields;
use crate::support::json_fields::expected;
use crate::support::regex::Regex;
use crate::target::kubestash::is_identifier;
use crate::target::{Family, Target};

const FIELDS: [&str; 2] = ["pinnedVariables", "valuePattern"];

/// A fact of the target a pinned variable takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    TargetNamespace,
    TargetName,
    TargetKind,
    /// A KubeDB database's kind in lower case (`postgres`).
    TargetAppResource,
    /// A KubeDB database's `spec.version`.
    TargetAppVersion,
}

impl Fact {
    const NAMES: [(&'static str, Fact); 5] = [
        ("TARGET_NAMESPACE", Fact::TargetNamespace),
        ("TARGET_NAME", Fact::TargetName),
        ("TARGET_KIND", Fact::TargetKind),
        ("TARGET_APP_RESOURCE", Fact::TargetAppResource),
        ("TARGET_APP_VERSION", Fact::TargetAppVersion),
    ];

    pub fn name(self) -> &'static str {
        Fact::NAMES
            .iter()
            .find(|(_, fact)| *fact == self)
            .map_or("", |(name, _)| name)
    }

    /// The fact of `target`; `None` when the target has none (a Deployment's app version).
    pub fn of(self, target: &Target) -> Option<String> {
        let database = target.family == Family::KubeDb;
        match self {
            Fact::TargetNamespace => Some(target.namespace.clone()),
            Fact::TargetName => Some(target.name.clone()),
            Fact::TargetKind => Some(target.admitted_kind.clone()),
            Fact::TargetAppResource => database.then(|| target.admitted_kind.to_ascii_lowercase()),
            Fact::TargetAppVersion => target.app_version.clone().filter(|_| database),
        }
    }
}

/// The compiled `kubestash` settings.
#[derive(Debug, Clone, Default)]
pub struct KubeStashSettings {
    /// Variable name → the fact it takes, in name order.
    pub pinned_variables: Vec<(String, Fact)>,
    /// The text and the compiled pattern every variable value must match.
    pub value_pattern: Option<(String, Regex)>,
}

impl KubeStashSettings {
    pub fn parse(value: Option<&Value>, path: &str) -> Result<KubeStashSettings, Vec<Problem>> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Ok(KubeStashSettings::default());
        };
        let mut problems = Vec::new();
        let Some(map) = fields::object(
            value,
            path,
            &FIELDS,
            "a map with pinnedVariables and/or valuePattern",
            &mut problems,
        ) else {
            return Err(problems);
        };
        let mut settings = KubeStashSettings::default();
        match map.get("pinnedVariables") {
            None | Some(Value::Null) => {}
            Some(Value::Object(pinned)) => {
                for (name, fact) in pinned {
                    let field = format!("{path}.pinnedVariables.{name}");
                    if !is_identifier(name) {
                        problems.push(Problem::setting(
                            &field,
                            format!(
                                "'{}' is not a variable name (letters, digits and '_', not starting with a digit)",
                                shorten(name)
                            ),
                        ));
                        continue;
                    }
                    match crate::settings::choice(fact, &Fact::NAMES) {
                        Ok(fact) => settings.pinned_variables.push((name.clone(), fact)),
                        Err(why) => problems.push(Problem::setting(field, why)),
                    }
                }
            }
            Some(other) => problems.push(Problem::setting(
                format!("{path}.pinnedVariables"),
                expected(
                    "a map of variable names to facts (e.g. namespace: TARGET_NAMESPACE)",
                    other,
                ),
            )),
        }
        match map.get("valuePattern") {
            None | Some(Value::Null) => {}
            Some(Value::String(pattern)) => match Regex::new(pattern) {
                Ok(regex) => settings.value_pattern = Some((pattern.clone(), regex)),
                Err(e) => problems.push(Problem::setting(
                    format!("{path}.valuePattern"),
                    format!("'{}' is not a valid regular expression: {e}", shorten(pattern)),
                )),
            },
            Some(other) => problems.push(Problem::setting(
                format!("{path}.valuePattern"),
                expected("a regular expression", other),
            )),
        }
        match problems.is_empty() {
            true => Ok(settings),
            false => Err(problems),
        }
    }

    /// The fact `variable` is pinned to, if it is.
    pub fn pinned(&self, variable: &str) -> Option<Fact> {
        self.pinned_variables
            .iter()
            .find(|(name, _)| name == variable)
            .map(|(_, fact)| *fact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render;
    use serde_json::json;

    #[test]
    fn pinned_variables_and_pattern_compile() {
        let settings = KubeStashSettings::parse(
            Some(
                &json!({"pinnedVariables": {"namespace": "TARGET_NAMESPACE", "targetName": "TARGET_NAME"},
                         "valuePattern": "^[a-z0-9/-]+$"}),
            ),
            "kubestash",
        )
        .unwrap();
        assert_eq!(settings.pinned("namespace"), Some(Fact::TargetNamespace));
        assert_eq!(settings.pinned("targetName"), Some(Fact::TargetName));
        assert_eq!(settings.pinned("repoName"), None);
        assert!(settings.value_pattern.unwrap().1.is_match("demo/web"));
    }

    #[test]
    fn mistakes_name_their_field_path() {
        let problems = KubeStashSettings::parse(
            Some(
                &json!({"pinnedVariables": {"repo-name": "TARGET_NAME", "ns": "NAMESPACE", "v": 1},
                         "valuePattern": "(", "pinned": {}}),
            ),
            "kubestash",
        )
        .unwrap_err();
        assert_eq!(
            render(&problems),
            [
                "kubestash.pinned: unknown field; expected pinnedVariables or valuePattern",
                "kubestash.pinnedVariables.ns: expected TARGET_NAMESPACE, TARGET_NAME, TARGET_KIND, TARGET_APP_RESOURCE or \
                 TARGET_APP_VERSION, got 'NAMESPACE'",
                "kubestash.pinnedVariables.repo-name: 'repo-name' is not a variable name (letters, digits and '_', not starting with a digit)",
                "kubestash.pinnedVariables.v: expected TARGET_NAMESPACE, TARGET_NAME, TARGET_KIND, TARGET_APP_RESOURCE or \
                 TARGET_APP_VERSION, got a number",
                "kubestash.valuePattern: '(' is not a valid regular expression: a group '(' is not closed",
            ]
        );
    }

    #[test]
    fn facts_of_targets() {
        let spec = json!({"version": "16.1"});
        let pg = Target::new(
            Family::KubeDb,
            "kubedb.com/v1",
            "Postgres",
            "pg",
            "demo",
            None,
            Some(&spec),
        );
        let web = Target::new(Family::Workload, "apps/v1", "Deployment", "web", "demo", None, None);
        assert_eq!(Fact::TargetAppResource.of(&pg).as_deref(), Some("postgres"));
        assert_eq!(Fact::TargetAppVersion.of(&pg).as_deref(), Some("16.1"));
        assert_eq!(Fact::TargetKind.of(&pg).as_deref(), Some("Postgres"));
        assert_eq!(Fact::TargetAppResource.of(&web), None);
        assert_eq!(Fact::TargetNamespace.of(&web).as_deref(), Some("demo"));
        assert_eq!(Fact::TargetName.of(&web).as_deref(), Some("web"));
    }
}
