//! The BackupConfiguration (`core.kubestash.com/v1alpha1`) KubeStash generates for a target,
//! and its name.

use serde_json::{Map, Value};

use super::{BACKUP_CONFIGURATION_KIND, CORE_API_VERSION, template::CONSUMED_FIELDS};
use crate::support::json_fields::{object, text};
use crate::target::Target;
use crate::target::annotations::TARGET;
use crate::target::kubestash::BlueprintRef;

/// KubeStash's labels on what a blueprint generates (`BackupBlueprint.OffshootLabels`).
pub const MANAGED_BY_VALUE: &str = "kubestash.com";
pub const INVOKER_NAME: &str = "kubestash.com/invoker-name";
pub const INVOKER_NAMESPACE: &str = "kubestash.com/invoker-namespace";
const MAX_NAME: usize = 63;

/// `<lower-case kind>-<name>` (`appbinding-<name>` for a KubeDB database), prefixed with the
/// target's namespace when the BackupConfiguration is in another; longer than 63 characters is
/// an error, because KubeStash's own rule for long names is not documented.
pub fn name(target: &Target, namespace: &str) -> Result<String, String> {
    let mut name = format!("{}-{}", target.kubestash_kind(), target.name);
    if namespace != target.namespace {
        name = format!("{}-{name}", target.namespace);
    }
    match name.len() > MAX_NAME {
        true => Err(format!(
            "would generate the BackupConfiguration name '{}' ({} characters), longer than {MAX_NAME}; KubeStash's rule \
             for long names is not documented, so the policy does not guess one: use a shorter target name{}",
            crate::report::shorten(&name),
            name.len(),
            match namespace != target.namespace {
                true => ", or a template namespace equal to the target's",
                false => "",
            }
        )),
        false => Ok(name),
    }
}

/// The BackupConfiguration: KubeStash's three labels, the policy's target annotation, no
/// ownerReference (KubeStash sets none), `spec.target` and the resolved template's fields with
/// the chosen sessions.
pub fn backup_configuration(
    target: &Target,
    blueprint: &BlueprintRef,
    name: &str,
    namespace: &str,
    template: Map<String, Value>,
    sessions: Vec<Value>,
) -> Value {
    let mut spec = template;
    for field in CONSUMED_FIELDS {
        spec.remove(field);
    }
    spec.insert("sessions".into(), Value::Array(sessions));
    spec.insert("target".into(), target_reference(target));
    let labels = object(vec![
        ("app.kubernetes.io/managed-by", text(MANAGED_BY_VALUE)),
        (INVOKER_NAME, text(&blueprint.name)),
        (INVOKER_NAMESPACE, text(&blueprint.namespace)),
    ]);
    let metadata = object(vec![
        ("name", text(name)),
        ("namespace", text(namespace)),
        ("labels", labels),
        (
            "annotations",
            object(vec![(TARGET, Value::String(target.kubestash_reference()))]),
        ),
    ]);
    object(vec![
        ("apiVersion", text(CORE_API_VERSION)),
        ("kind", text(BACKUP_CONFIGURATION_KIND)),
        ("metadata", metadata),
        ("spec", Value::Object(spec)),
    ])
}

/// `spec.target`: `{apiGroup, kind, name, namespace}`, `apiGroup` omitted for the core group.
pub fn target_reference(target: &Target) -> Value {
    let group = target.admitted_group();
    let mut fields = Vec::new();
    if !group.is_empty() {
        fields.push(("apiGroup", text(group)));
    }
    fields.extend([
        ("kind", text(&target.admitted_kind)),
        ("name", text(&target.name)),
        ("namespace", text(&target.namespace)),
    ]);
    object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{Family, Target};
    use serde_json::json;

    fn target(api_version: &str, kind: &str, name: &str) -> Target {
        let family = crate::target::classify(api_version, kind).unwrap();
        Target::new(family, api_version, kind, name, "demo", None, None)
    }

    #[test]
    fn names_follow_kubestash() {
        assert_eq!(
            name(&target("apps/v1", "StatefulSet", "db"), "demo").unwrap(),
            "statefulset-db"
        );
        assert_eq!(
            name(&target("v1", "PersistentVolumeClaim", "data"), "demo").unwrap(),
            "persistentvolumeclaim-data"
        );
        assert_eq!(
            name(&target("kubedb.com/v1", "Postgres", "pg"), "demo").unwrap(),
            "appbinding-pg"
        );
        assert_eq!(
            name(&target("apps/v1", "Deployment", "web"), "backup").unwrap(),
            "demo-deployment-web"
        );
        let long = "a".repeat(52);
        assert_eq!(name(&target("apps/v1", "Deployment", &long), "demo").unwrap().len(), 63);
        assert_eq!(
            name(&target("apps/v1", "Deployment", &format!("{long}a")), "demo").unwrap_err(),
            format!(
                "would generate the BackupConfiguration name 'deployment-{long}a' (64 characters), longer than 63; \
                 KubeStash's rule for long names is not documented, so the policy does not guess one: use a shorter target name"
            )
        );
    }

    #[test]
    fn target_reference_omits_the_core_group() {
        assert_eq!(
            target_reference(&target("v1", "PersistentVolumeClaim", "data")),
            json!({"kind": "PersistentVolumeClaim", "name": "data", "namespace": "demo"})
        );
        assert_eq!(
            target_reference(&target("kubedb.com/v1alpha2", "Postgres", "pg")),
            json!({"apiGroup": "kubedb.com", "kind": "Postgres", "name": "pg", "namespace": "demo"})
        );
        assert_eq!(target("kubedb.com/v1", "Postgres", "pg").family, Family::KubeDb);
    }
}
