//! Step for a target without the trigger: the first `defaultBlueprints` rule that matches it
//! gives it a blueprint, and a workload the volumes to back up.

use serde_json::Value;

use super::{Context, Findings, namespace};
use crate::support::string_map::StringMap;
use crate::target::annotations::{
    BACKUP_BLUEPRINT, KUBESTASH_BLUEPRINT_NAME, KUBESTASH_BLUEPRINT_NAMESPACE, TARGET_PATHS, VOLUME_MOUNTS,
};
use crate::target::inference::{infer_storage, why_none};

pub enum Defaulting {
    /// The annotations to add, from rule `rule`.
    Applied {
        rule: usize,
        blueprint: String,
        annotations: StringMap,
    },
    /// Rule `rule` matched a workload with nothing to back up: not defaulted, because `why`.
    NoStorage {
        rule: usize,
        blueprint: String,
        why: String,
    },
    NotApplicable,
}

pub fn choose(context: &Context, spec: Option<&Value>, findings: &mut Findings) -> Defaulting {
    let target = context.target;
    let rules = context.settings.default_blueprints.rules.iter().enumerate();
    for (index, rule) in rules.filter(|(_, rule)| rule.kinds.contains(&target.admitted_kind)) {
        match namespace::matches(context, &rule.namespaces) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(why) => {
                findings.lookup_failed(namespace::lookup_name(context), &why);
                return Defaulting::NotApplicable;
            }
        }
        let blueprint = rule.blueprint.clone();
        let mut annotations = StringMap::new();
        // KubeStash's blueprint: its name and namespace, nothing else (no paths or mounts).
        if let Some((namespace, name)) = blueprint.split_once('/') {
            if target.is_workload() && infer_storage(&target.kind, spec).is_empty() {
                let why = why_none(&target.kind);
                return Defaulting::NoStorage {
                    rule: index,
                    blueprint,
                    why,
                };
            }
            annotations.insert(KUBESTASH_BLUEPRINT_NAME, name);
            annotations.insert(KUBESTASH_BLUEPRINT_NAMESPACE, namespace);
            return Defaulting::Applied {
                rule: index,
                blueprint,
                annotations,
            };
        }
        annotations.insert(BACKUP_BLUEPRINT.to_string(), blueprint.clone());
        if target.is_workload() {
            let inferred = infer_storage(&target.kind, spec);
            if inferred.is_empty() {
                let why = why_none(&target.kind);
                return Defaulting::NoStorage {
                    rule: index,
                    blueprint,
                    why,
                };
            }
            annotations.insert(TARGET_PATHS.to_string(), inferred.target_paths_value());
            annotations.insert(VOLUME_MOUNTS.to_string(), inferred.volume_mounts_value());
        }
        return Defaulting::Applied {
            rule: index,
            blueprint,
            annotations,
        };
    }
    Defaulting::NotApplicable
}
