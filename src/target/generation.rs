//! The generation of auto-backup a target asks for: Stash (`stash.appscode.com`) or KubeStash
//! (`*.kubestash.com`), chosen by its trigger annotations. Everything that differs between the
//! two is chosen here, by [`Generation`]; what does not differ exists once.

use crate::support::string_map::StringMap;
use crate::target::annotations::{self, BACKUP_BLUEPRINT, KUBESTASH_BLUEPRINT_NAME, KUBESTASH_BLUEPRINT_NAMESPACE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// Stash: cluster-scoped BackupBlueprints, a Repository and a BackupConfiguration.
    Stash,
    /// KubeStash: namespaced BackupBlueprints, one `core.kubestash.com` BackupConfiguration.
    KubeStash,
}

impl Generation {
    /// The operator's name, for messages.
    pub fn operator(self) -> &'static str {
        match self {
            Generation::Stash => "Stash",
            Generation::KubeStash => "KubeStash",
        }
    }

    /// The annotation that names the blueprint.
    pub fn trigger_key(self) -> &'static str {
        match self {
            Generation::Stash => BACKUP_BLUEPRINT,
            Generation::KubeStash => KUBESTASH_BLUEPRINT_NAME,
        }
    }

    /// The generation of a blueprint as settings name it: `<namespace>/<name>` is KubeStash's.
    pub fn of_blueprint_reference(reference: &str) -> Generation {
        match reference.contains('/') {
            true => Generation::KubeStash,
            false => Generation::Stash,
        }
    }
}

/// Whether the annotations make the object an auto-backup target, and of which generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// Not an auto-backup target.
    Absent,
    /// Some but not all of a generation's trigger annotations: a mistake.
    Incomplete {
        generation: Generation,
        missing: Vec<&'static str>,
    },
    Present(Generation),
    /// Triggers of both generations on one object: a mistake.
    Both,
}

impl Trigger {
    /// The generation asked for, complete or not.
    pub fn generation(&self) -> Option<Generation> {
        match self {
            Trigger::Present(generation) | Trigger::Incomplete { generation, .. } => Some(*generation),
            Trigger::Absent | Trigger::Both => None,
        }
    }
}

/// The trigger of `annotations`: Stash's rule (a workload needs three annotations) or
/// KubeStash's (the blueprint's name and namespace).
pub fn trigger(annotations: &StringMap, is_workload: bool) -> Trigger {
    let stash = annotations::trigger(annotations, is_workload);
    let kubestash = kubestash_trigger(annotations);
    match (stash, kubestash) {
        (Trigger::Absent, kubestash) => kubestash,
        (stash, Trigger::Absent) => stash,
        _ => Trigger::Both,
    }
}

fn kubestash_trigger(annotations: &StringMap) -> Trigger {
    let keys = [KUBESTASH_BLUEPRINT_NAME, KUBESTASH_BLUEPRINT_NAMESPACE];
    let mut missing: Vec<&'static str> = Vec::new();
    for key in keys {
        if !annotations.contains_key(key) {
            missing.push(key);
        }
    }
    match missing.len() {
        0 => Trigger::Present(Generation::KubeStash),
        2 => Trigger::Absent,
        _ => Trigger::Incomplete {
            generation: Generation::KubeStash,
            missing,
        },
    }
}

/// The problem line for an object with both generations' triggers.
pub fn both_triggers_problem() -> String {
    format!(
        "both Stash's trigger ({BACKUP_BLUEPRINT}) and KubeStash's ({KUBESTASH_BLUEPRINT_NAME}, \
         {KUBESTASH_BLUEPRINT_NAMESPACE}) are set; use one generation: remove the annotations of the operator this \
         cluster does not run"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::annotations::{TARGET_PATHS, VOLUME_MOUNTS};

    fn map(pairs: &[(&str, &str)]) -> StringMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn each_generation_has_its_trigger() {
        let kubestash = [
            (KUBESTASH_BLUEPRINT_NAME, "gcs"),
            (KUBESTASH_BLUEPRINT_NAMESPACE, "backup"),
        ];
        assert_eq!(trigger(&map(&kubestash), true), Trigger::Present(Generation::KubeStash));
        assert_eq!(
            trigger(&map(&kubestash), false),
            Trigger::Present(Generation::KubeStash)
        );
        assert_eq!(
            trigger(&map(&kubestash[..1]), true),
            Trigger::Incomplete {
                generation: Generation::KubeStash,
                missing: vec![KUBESTASH_BLUEPRINT_NAMESPACE]
            }
        );
        assert_eq!(
            trigger(&map(&kubestash[1..]), false),
            Trigger::Incomplete {
                generation: Generation::KubeStash,
                missing: vec![KUBESTASH_BLUEPRINT_NAME]
            }
        );
        let stash = [(BACKUP_BLUEPRINT, "b"), (TARGET_PATHS, "/d"), (VOLUME_MOUNTS, "v:/d")];
        assert_eq!(trigger(&map(&stash), true), Trigger::Present(Generation::Stash));
        assert_eq!(trigger(&map(&[]), true), Trigger::Absent);
    }

    #[test]
    fn both_generations_on_one_object_is_a_mistake() {
        let both = map(&[(BACKUP_BLUEPRINT, "b"), (KUBESTASH_BLUEPRINT_NAME, "gcs")]);
        assert_eq!(trigger(&both, false), Trigger::Both);
        assert_eq!(trigger(&both, true), Trigger::Both);
        assert_eq!(
            both_triggers_problem(),
            "both Stash's trigger (stash.appscode.com/backup-blueprint) and KubeStash's (blueprint.kubestash.com/name, \
             blueprint.kubestash.com/namespace) are set; use one generation: remove the annotations of the operator this \
             cluster does not run"
        );
    }

    #[test]
    fn settings_name_kubestash_blueprints_with_their_namespace() {
        assert_eq!(Generation::of_blueprint_reference("backup/gcs"), Generation::KubeStash);
        assert_eq!(Generation::of_blueprint_reference("gcs"), Generation::Stash);
    }
}
