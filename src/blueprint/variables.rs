//! The variables a blueprint may use: Stash's built-in `TARGET_*` and the custom
//! ones a target defines with `vars.autobackup.kubewarden.io/<NAME>`.

use crate::blueprint::substitution::Variables;
use crate::report::{Problem, list, shorten};
use crate::settings::{CustomVariables, variable_name_problem};
use crate::support::string_map::StringMap;
use crate::target::Target;
use crate::target::annotations::VARS_PREFIX;

/// The names of Stash's built-in variables.
pub struct BuiltinNames {
    /// Defined for every target.
    pub common: [&'static str; 5],
    /// Defined only for AppBindings and KubeDB databases.
    pub databases: [&'static str; 4],
}

pub const BUILTIN_NAMES: BuiltinNames = BuiltinNames {
    common: [
        "TARGET_API_VERSION",
        "TARGET_KIND",
        "TARGET_NAME",
        "TARGET_NAMESPACE",
        "TARGET_RESOURCE",
    ],
    databases: [
        "TARGET_APP_VERSION",
        "TARGET_APP_TYPE",
        "TARGET_APP_GROUP",
        "TARGET_APP_RESOURCE",
    ],
};

/// The built-in variables of `target`. The `TARGET_APP_*` ones exist only for databases.
pub fn builtin(target: &Target) -> Variables {
    let [api_version, kind, name, namespace, resource] = BUILTIN_NAMES.common;
    let mut vars = Variables::new();
    vars.insert(api_version, target.api_version.clone());
    vars.insert(kind, target.kind.to_ascii_lowercase());
    vars.insert(name, target.name.clone());
    vars.insert(namespace, target.namespace.clone());
    vars.insert(resource, target.resource());
    if target.is_database() {
        let [app_version, app_type_name, app_group, app_resource] = BUILTIN_NAMES.databases;
        let app_type = target.app_type.clone().unwrap_or_default();
        let (group, resource) = match app_type.rsplit_once('/') {
            Some((group, resource)) => (group.to_string(), resource.to_string()),
            None => (String::new(), app_type.clone()),
        };
        vars.insert(app_version, target.app_version.clone().unwrap_or_default());
        vars.insert(app_type_name, app_type);
        vars.insert(app_group, group);
        vars.insert(app_resource, resource);
    }
    vars
}

/// The custom variables of a target, checked against the settings. Returns the accepted
/// variables and a problem for each rejected one.
pub fn custom(defined: &StringMap, settings: &CustomVariables) -> (Variables, Vec<Problem>) {
    let mut vars = Variables::new();
    let mut problems = Vec::new();
    let allowed_list = allowed_list(settings);
    for (name, value) in defined {
        let key = format!("{VARS_PREFIX}{name}");
        if let Some(why) = variable_name_problem(name) {
            problems.push(Problem::annotation(key, format!("'{}' {why}", shorten(name))));
        } else if !settings.allowed.contains_key(name) {
            problems.push(Problem::annotation(
                key,
                format!(
                    "the policy settings do not allow the variable {} ({allowed_list})",
                    shorten(name)
                ),
            ));
        } else if settings.value_regex.is_match(value) {
            vars.insert(name, value);
        } else {
            problems.push(Problem::annotation(
                key,
                format!(
                    "value '{}' does not match the allowed pattern {}",
                    shorten(value),
                    settings.value_pattern
                ),
            ));
        }
    }
    (vars, problems)
}

fn allowed_list(settings: &CustomVariables) -> String {
    match settings.allowed.is_empty() {
        true => "no custom variable is allowed; ask the administrator to add it to customVariables.allowed".into(),
        false => format!("allowed: {}", list(&settings.allowed.keys().collect::<Vec<_>>())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render;
    use crate::target::{Target, classify};
    use serde_json::json;

    fn vars_of(api_version: &str, kind: &str, spec: serde_json::Value) -> Vec<(String, String)> {
        let t = Target::new(
            classify(api_version, kind).unwrap(),
            api_version,
            kind,
            "n",
            "ns",
            None,
            Some(&spec),
        );
        builtin(&t).into_iter().collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        v.sort();
        v
    }

    #[test]
    fn workload_variables() {
        assert_eq!(
            vars_of("apps/v1", "StatefulSet", json!({})),
            pairs(&[
                ("TARGET_API_VERSION", "apps/v1"),
                ("TARGET_KIND", "statefulset"),
                ("TARGET_NAME", "n"),
                ("TARGET_NAMESPACE", "ns"),
                ("TARGET_RESOURCE", "statefulsets"),
            ])
        );
    }

    #[test]
    fn pvc_variables() {
        let vars = vars_of("v1", "PersistentVolumeClaim", json!({}));
        assert!(vars.contains(&("TARGET_KIND".into(), "persistentvolumeclaim".into())));
        assert!(vars.contains(&("TARGET_RESOURCE".into(), "persistentvolumeclaims".into())));
        assert!(!vars.iter().any(|(k, _)| k.starts_with("TARGET_APP")));
    }

    #[test]
    fn database_variables() {
        assert_eq!(
            vars_of("kubedb.com/v1alpha2", "Postgres", json!({"version": "11.11"})),
            pairs(&[
                ("TARGET_API_VERSION", "appcatalog.appscode.com/v1alpha1"),
                ("TARGET_KIND", "appbinding"),
                ("TARGET_NAME", "n"),
                ("TARGET_NAMESPACE", "ns"),
                ("TARGET_RESOURCE", "appbindings"),
                ("TARGET_APP_VERSION", "11.11"),
                ("TARGET_APP_TYPE", "kubedb.com/postgres"),
                ("TARGET_APP_GROUP", "kubedb.com"),
                ("TARGET_APP_RESOURCE", "postgres"),
            ])
        );
        let redis = vars_of(
            "appcatalog.appscode.com/v1alpha1",
            "AppBinding",
            json!({"type": "redis", "version": "6.2.5"}),
        );
        assert!(redis.contains(&("TARGET_APP_GROUP".into(), "".into())));
        assert!(redis.contains(&("TARGET_APP_RESOURCE".into(), "redis".into())));
    }

    #[test]
    fn custom_variables_follow_the_settings() {
        let settings = CustomVariables {
            allowed: [("TEAM".to_string(), String::new())].into(),
            ..CustomVariables::default()
        };
        let defined: StringMap = [
            ("TEAM", "blue"),
            ("TIER", "gold"),
            ("TARGET_NAMESPACE", "other"),
            ("bad-name", "x"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let (vars, problems) = custom(&defined, &settings);
        assert_eq!(
            vars.into_iter().collect::<Vec<_>>(),
            [("TEAM".to_string(), "blue".to_string())]
        );
        assert_eq!(
            render(&problems),
            [
                "vars.autobackup.kubewarden.io/TARGET_NAMESPACE: 'TARGET_NAMESPACE' is reserved: TARGET_* variables are built in and cannot be overridden",
                "vars.autobackup.kubewarden.io/TIER: the policy settings do not allow the variable TIER (allowed: TEAM)",
                "vars.autobackup.kubewarden.io/bad-name: 'bad-name' is not a variable name (letters, digits and '_', not starting with a digit)",
            ]
        );
    }

    #[test]
    fn custom_values_must_match_the_pattern() {
        let settings = CustomVariables {
            allowed: [("TEAM".to_string(), String::new())].into(),
            ..CustomVariables::default()
        };
        let defined = StringMap::from([("TEAM".to_string(), "../other".to_string())]);
        assert_eq!(
            render(&custom(&defined, &settings).1),
            [
                "vars.autobackup.kubewarden.io/TEAM: value '../other' does not match the allowed pattern ^[A-Za-z0-9._-]{1,63}$"
            ]
        );
        let none_allowed = CustomVariables::default();
        let defined = StringMap::from([("TEAM".to_string(), "blue".to_string())]);
        assert_eq!(
            render(&custom(&defined, &none_allowed).1),
            [
                "vars.autobackup.kubewarden.io/TEAM: the policy settings do not allow the variable TEAM (no custom variable is allowed; ask the administrator to add it to customVariables.allowed)"
            ]
        );
    }
}
