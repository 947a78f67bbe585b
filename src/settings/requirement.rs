//! `requireBackup`: targets of some kinds, in some namespaces, must be backed up
//! unless they opt out for a stated reason.

use serde_json::Value;

use crate::report::Problem;
use crate::settings::fields;
use crate::settings::selection::NamespaceMatch;

const FIELDS: [&str; 4] = ["kinds", "namespaces", "namespaceSelector", "allowOptOut"];

#[derive(Debug, Clone)]
pub struct RequireBackup {
    pub kinds: Vec<String>,
    /// Where it applies; unrestricted when neither `namespaces` nor `namespaceSelector` is set.
    pub namespaces: NamespaceMatch,
    pub allow_opt_out: bool,
}

impl RequireBackup {
    /// Parses the `requireBackup` setting; absent or `null` is no requirement.
    pub fn parse(value: Option<&Value>, path: &str) -> Result<Option<RequireBackup>, Vec<Problem>> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let mut problems = Vec::new();
        let what = "a rule with kinds, and optionally namespaces, namespaceSelector and allowOptOut";
        let Some(rule) = fields::object(value, path, &FIELDS, what, &mut problems) else {
            return Err(problems);
        };
        let kinds = fields::kinds(rule.get("kinds"), &format!("{path}.kinds"), &mut problems);
        let namespaces = fields::namespaces(rule, path, &mut problems);
        let allow_opt_out = fields::boolean(rule.get("allowOptOut"), &format!("{path}.allowOptOut"), &mut problems);
        match (namespaces, problems.is_empty()) {
            (Some(namespaces), true) => Ok(Some(RequireBackup {
                kinds,
                namespaces,
                allow_opt_out,
            })),
            _ => Err(problems),
        }
    }

    pub fn names_kind(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render;
    use serde_json::json;

    #[test]
    fn parses_a_rule() {
        let rule = RequireBackup::parse(
            Some(&json!({"kinds": ["StatefulSet"], "namespaces": ["prod-*"], "allowOptOut": true})),
            "requireBackup",
        )
        .unwrap()
        .unwrap();
        assert!(rule.names_kind("StatefulSet") && !rule.names_kind("Deployment"));
        assert!(rule.allow_opt_out);
        assert!(rule.namespaces.matches_by_name("prod-eu"));
        assert!(RequireBackup::parse(None, "requireBackup").unwrap().is_none());
    }

    #[test]
    fn invalid_rules_name_their_field_path() {
        let cases = [
            (
                json!([]),
                vec![
                    "requireBackup: expected a rule with kinds, and optionally namespaces, namespaceSelector and allowOptOut, got a list",
                ],
            ),
            (
                json!({}),
                vec!["requireBackup.kinds: is required: a non-empty list of kinds (e.g. StatefulSet)"],
            ),
            (
                json!({"kinds": ["statefulset"], "allowOptOut": "yes", "namespace": ["a"]}),
                vec![
                    "requireBackup.namespace: unknown field; expected kinds, namespaces, namespaceSelector or allowOptOut",
                    "requireBackup.kinds[0]: 'statefulset' is not a kind this policy handles; use one of Deployment, \
                     StatefulSet, DaemonSet, ReplicaSet, ReplicationController, DeploymentConfig, PersistentVolumeClaim, \
                     AppBinding, Postgres, MySQL, MariaDB, MongoDB, Redis, Elasticsearch, PerconaXtraDB, PgBouncer, \
                     ProxySQL, Memcached, Etcd, Druid, MSSQLServer, Singlestore, ZooKeeper (kinds are case-sensitive)",
                    "requireBackup.allowOptOut: expected true or false, got a string",
                ],
            ),
        ];
        for (value, expected) in cases {
            let problems = RequireBackup::parse(Some(&value), "requireBackup").unwrap_err();
            assert_eq!(render(&problems), expected, "{value}");
        }
    }
}
