//! The backup annotations of a workload inferred from its persistent storage: what
//! `defaultBlueprints` adds and what `requireBackup` suggests.

use serde_json::{Map, Value};

use crate::support::json_fields::at;
use crate::target::annotations::{MAX_ENTRIES, VolumeMount};
use crate::target::naming::is_dns1123_label;

/// The persistent volumes of a workload as Stash's annotations name them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inferred {
    /// One entry per persistent volume mounted by a container, in volume order: StatefulSet
    /// `volumeClaimTemplates` first, then the pod template's `persistentVolumeClaim` volumes.
    pub mounts: Vec<VolumeMount>,
    /// The mount paths of `mounts`, each once, in order.
    pub target_paths: Vec<String>,
}

impl Inferred {
    /// True when the workload has no persistent storage a container mounts.
    pub fn is_empty(&self) -> bool {
        self.mounts.is_empty()
    }

    /// The value of `stash.appscode.com/volume-mounts`: `name:mountPath[:subPath]`, joined by `,`.
    pub fn volume_mounts_value(&self) -> String {
        let entry = |m: &VolumeMount| match &m.sub_path {
            Some(sub_path) => format!("{}:{}:{sub_path}", m.name, m.mount_path),
            None => format!("{}:{}", m.name, m.mount_path),
        };
        self.mounts.iter().map(entry).collect::<Vec<_>>().join(",")
    }

    /// The value of `stash.appscode.com/target-paths`: the mount paths joined by `,`.
    pub fn target_paths_value(&self) -> String {
        self.target_paths.join(",")
    }
}

/// Infers the volume mounts and target paths of a workload of `kind` from its `spec`: a
/// StatefulSet's `volumeClaimTemplates` and the pod template's volumes backed by a
/// `persistentVolumeClaim`, each at the mount (path and `subPath`) of the first container that
/// mounts it. A volume no container mounts is skipped, and so is one whose first mount cannot
/// be written in the annotation (a `subPathExpr`, or a `,` or `:` in a path). At most
/// [`MAX_ENTRIES`] volumes, containers and mounts per container are looked at, the most the
/// annotations may list.
pub fn infer_storage(kind: &str, spec: Option<&Value>) -> Inferred {
    let Some(spec) = spec else {
        return Inferred::default();
    };
    let pod = at(spec, &["template", "spec"]);
    let first_mounts = first_mounts(pod);
    let mounts: Vec<VolumeMount> = persistent_volumes(kind, spec, pod)
        .into_iter()
        .filter_map(|name| annotation_entry(name, first_mounts.get(name)?))
        .collect();
    let mut target_paths: Vec<String> = Vec::new();
    for mount in &mounts {
        if !target_paths.contains(&mount.mount_path) {
            target_paths.push(mount.mount_path.clone());
        }
    }
    Inferred { mounts, target_paths }
}

/// Why nothing was inferred for a workload of `kind`, to follow "not defaulted because".
pub fn why_none(kind: &str) -> String {
    let volumes = match kind {
        "StatefulSet" => "no volumeClaimTemplate or persistentVolumeClaim volume",
        _ => "no persistentVolumeClaim volume",
    };
    format!(
        "it has no persistent storage to back up: {volumes} is mounted by a container \
         (at a path stash.appscode.com/volume-mounts can name)"
    )
}

/// The names of the persistent volumes, each once, in order, at most [`MAX_ENTRIES`].
fn persistent_volumes<'a>(kind: &str, spec: &'a Value, pod: Option<&'a Value>) -> Vec<&'a str> {
    let claim_templates = match kind {
        "StatefulSet" => items(Some(spec), "volumeClaimTemplates"),
        _ => &[],
    };
    let templates = claim_templates
        .iter()
        .take(MAX_ENTRIES)
        .filter_map(|t| at(t, &["metadata", "name"])?.as_str());
    // Generic ephemeral volumes are claim-backed too, but deleted with the pod: not kept data.
    let claims = items(pod, "volumes")
        .iter()
        .take(MAX_ENTRIES)
        .filter(|v| v.get("persistentVolumeClaim").is_some_and(Value::is_object))
        .filter_map(|v| v.get("name")?.as_str());
    let mut names: Vec<&str> = Vec::new();
    for name in templates.chain(claims) {
        if !names.contains(&name) && names.len() < MAX_ENTRIES {
            names.push(name);
        }
    }
    names
}

/// The first `volumeMounts` entry naming each volume, over the containers in order. Only
/// `containers`: Stash's sidecar backs up what the application containers mount, and init
/// containers have exited by then.
/// A JSON map (copies of the mounts) rather than a map of references: one map type fewer in
/// policy.wasm.
fn first_mounts(pod: Option<&Value>) -> Map<String, Value> {
    let mut first = Map::new();
    for container in items(pod, "containers").iter().take(MAX_ENTRIES) {
        for mount in items(Some(container), "volumeMounts").iter().take(MAX_ENTRIES) {
            if let Some(name) = mount.get("name").and_then(Value::as_str)
                && !first.contains_key(name)
            {
                first.insert(name.to_string(), mount.clone());
            }
        }
    }
    first
}

/// The array at `key` of `value`, or nothing.
fn items<'a>(value: Option<&'a Value>, key: &str) -> &'a [Value] {
    value
        .and_then(|v| v.get(key))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The annotation entry for volume `name` mounted by `mount`, when the annotation can say it.
fn annotation_entry(name: &str, mount: &Value) -> Option<VolumeMount> {
    let text = |key: &str| mount.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    // The path of a subPathExpr is only known inside the running pod.
    if text("subPathExpr").is_some() {
        return None;
    }
    let mount_path = text("mountPath")?;
    let sub_path = text("subPath");
    let listable = |s: &str| !s.contains([',', ':']) && s.trim() == s;
    let sub_path_ok = sub_path.is_none_or(|s| listable(s) && !s.starts_with('/') && !s.split('/').any(|p| p == ".."));
    let ok = is_dns1123_label(name) && mount_path.starts_with('/') && listable(mount_path) && sub_path_ok;
    ok.then(|| VolumeMount {
        name: name.to_string(),
        mount_path: mount_path.to_string(),
        sub_path: sub_path.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::string_map::StringMap;
    use crate::target::annotations::{BACKUP_BLUEPRINT, TARGET_PATHS, VOLUME_MOUNTS};
    use serde_json::json;

    fn pod(volumes: Value, containers: Value) -> Value {
        json!({"template": {"spec": {"volumes": volumes, "containers": containers}}})
    }

    fn values(kind: &str, spec: &Value) -> (String, String) {
        let inferred = infer_storage(kind, Some(spec));
        (inferred.volume_mounts_value(), inferred.target_paths_value())
    }

    /// The values parse with the annotation parser, to what was inferred.
    fn assert_parses(inferred: &Inferred) {
        let annotations: StringMap = [
            (BACKUP_BLUEPRINT, "b".to_string()),
            (VOLUME_MOUNTS, inferred.volume_mounts_value()),
            (TARGET_PATHS, inferred.target_paths_value()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let (parsed, problems) = crate::target::annotations::parse(&annotations, true);
        assert_eq!(problems, [], "{inferred:?}");
        assert_eq!(parsed.volume_mounts, inferred.mounts);
        assert_eq!(parsed.target_paths, inferred.target_paths);
    }

    #[test]
    fn statefulset_claim_templates_with_a_sub_path() {
        let mut spec = pod(
            json!([{"name": "config", "configMap": {"name": "c"}}]),
            json!([
                {"name": "app", "volumeMounts": [
                    {"name": "config", "mountPath": "/etc/app"},
                    {"name": "data", "mountPath": "/var/lib/db", "subPath": "pgdata"},
                ]},
                {"name": "logger", "volumeMounts": [
                    {"name": "logs", "mountPath": "/logs"},
                    {"name": "data", "mountPath": "/other"},
                ]},
            ]),
        );
        spec["volumeClaimTemplates"] = json!([
            {"metadata": {"name": "data"}, "spec": {}},
            {"metadata": {"name": "logs"}, "spec": {}},
        ]);
        let inferred = infer_storage("StatefulSet", Some(&spec));
        assert_eq!(inferred.volume_mounts_value(), "data:/var/lib/db:pgdata,logs:/logs");
        assert_eq!(inferred.target_paths_value(), "/var/lib/db,/logs");
        assert_parses(&inferred);
        // Claim templates count only for a StatefulSet.
        assert!(infer_storage("Deployment", Some(&spec)).is_empty());
    }

    #[test]
    fn table() {
        let cases: &[(&str, Value, &str, &str)] = &[
            (
                "Deployment",
                pod(
                    json!([{"name": "data", "persistentVolumeClaim": {"claimName": "web-data"}}]),
                    json!([{"name": "web", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]),
                ),
                "data:/data",
                "/data",
            ),
            (
                "Deployment",
                pod(
                    json!([{"name": "cache", "emptyDir": {}}]),
                    json!([{"name": "web", "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]}]),
                ),
                "",
                "",
            ),
            // Not mounted by any container: skipped; mounted by an init container only: skipped.
            (
                "DaemonSet",
                json!({"template": {"spec": {
                    "volumes": [
                        {"name": "a", "persistentVolumeClaim": {"claimName": "a"}},
                        {"name": "b", "persistentVolumeClaim": {"claimName": "b"}},
                        {"name": "c", "persistentVolumeClaim": {"claimName": "c"}},
                    ],
                    "initContainers": [{"name": "i", "volumeMounts": [{"name": "b", "mountPath": "/b"}]}],
                    "containers": [
                        {"name": "x"},
                        {"name": "y", "volumeMounts": [{"name": "c", "mountPath": "/c", "subPath": ""}]},
                    ],
                }}}),
                "c:/c",
                "/c",
            ),
            // The same path twice is one target path; volumes keep their order.
            (
                "ReplicaSet",
                pod(
                    json!([
                        {"name": "b", "persistentVolumeClaim": {"claimName": "b"}},
                        {"name": "a", "persistentVolumeClaim": {"claimName": "a"}},
                        {"name": "b", "persistentVolumeClaim": {"claimName": "b2"}},
                    ]),
                    json!([
                        {"name": "one", "volumeMounts": [{"name": "a", "mountPath": "/d", "subPath": "x/y"}]},
                        {"name": "two", "volumeMounts": [{"name": "b", "mountPath": "/d", "subPath": "z"}]},
                    ]),
                ),
                "b:/d:z,a:/d:x/y",
                "/d",
            ),
            // Mounts the annotation cannot say are skipped.
            (
                "Deployment",
                pod(
                    json!([
                        {"name": "expr", "persistentVolumeClaim": {"claimName": "e"}},
                        {"name": "comma", "persistentVolumeClaim": {"claimName": "c"}},
                        {"name": "colon", "persistentVolumeClaim": {"claimName": "c"}},
                        {"name": "up", "persistentVolumeClaim": {"claimName": "u"}},
                        {"name": "abs", "persistentVolumeClaim": {"claimName": "u"}},
                        {"name": "Bad_Name", "persistentVolumeClaim": {"claimName": "u"}},
                        {"name": "rel", "persistentVolumeClaim": {"claimName": "u"}},
                        {"name": "space", "persistentVolumeClaim": {"claimName": "u"}},
                        {"name": "ok", "persistentVolumeClaim": {"claimName": "o"}},
                    ]),
                    json!([{"name": "c", "volumeMounts": [
                        {"name": "expr", "mountPath": "/e", "subPathExpr": "$(POD)"},
                        {"name": "comma", "mountPath": "/a,b"},
                        {"name": "colon", "mountPath": "/a", "subPath": "b:c"},
                        {"name": "up", "mountPath": "/a", "subPath": "../x"},
                        {"name": "abs", "mountPath": "/a", "subPath": "/x"},
                        {"name": "Bad_Name", "mountPath": "/a"},
                        {"name": "rel", "mountPath": "a"},
                        {"name": "space", "mountPath": "/a "},
                        {"name": "ok", "mountPath": "/ok"},
                        {"name": "ok", "mountPath": "/ignored"},
                    ]}]),
                ),
                "ok:/ok",
                "/ok",
            ),
            // Wrong shapes are no storage, never a panic.
            (
                "Deployment",
                json!({"template": {"spec": {"volumes": {}, "containers": "x"}}}),
                "",
                "",
            ),
            (
                "Deployment",
                pod(
                    json!([{"name": 1, "persistentVolumeClaim": {}}, {"name": "p", "persistentVolumeClaim": "x"}]),
                    json!([{"volumeMounts": [{"name": "p", "mountPath": "/p"}, {"mountPath": 3}]}]),
                ),
                "",
                "",
            ),
            (
                "StatefulSet",
                json!({"volumeClaimTemplates": [{"metadata": {}}, "x", {"metadata": {"name": "d"}}],
                       "template": {"spec": {"containers": [{"volumeMounts": [{"name": "d", "mountPath": 5}]}]}}}),
                "",
                "",
            ),
            ("StatefulSet", json!("spec"), "", ""),
            ("StatefulSet", json!(null), "", ""),
        ];
        for (kind, spec, mounts, paths) in cases {
            assert_eq!(values(kind, spec), (mounts.to_string(), paths.to_string()), "{spec}");
            let inferred = infer_storage(kind, Some(spec));
            if !inferred.is_empty() {
                assert_parses(&inferred);
            }
        }
        assert!(infer_storage("StatefulSet", None).is_empty());
    }

    #[test]
    fn work_and_output_are_bounded() {
        let volumes: Vec<Value> = (0..1000)
            .map(|i| json!({"name": format!("v{i}"), "persistentVolumeClaim": {"claimName": "c"}}))
            .collect();
        let mounts: Vec<Value> = (0..300)
            .map(|i| json!({"name": format!("v{i}"), "mountPath": format!("/m/{i}")}))
            .collect();
        let containers: Vec<Value> = (0..300).map(|_| json!({"volumeMounts": mounts})).collect();
        let mut spec = pod(Value::Array(volumes), Value::Array(containers));
        spec["volumeClaimTemplates"] = json!([{"metadata": {"name": "v99"}}]);
        let inferred = infer_storage("StatefulSet", Some(&spec));
        assert_eq!(inferred.mounts.len(), MAX_ENTRIES);
        assert_eq!(inferred.mounts[0].name, "v99");
        assert_parses(&inferred);
    }

    #[test]
    fn why_none_names_what_is_missing() {
        assert_eq!(
            why_none("StatefulSet"),
            "it has no persistent storage to back up: no volumeClaimTemplate or persistentVolumeClaim \
             volume is mounted by a container (at a path stash.appscode.com/volume-mounts can name)"
        );
        assert_eq!(
            why_none("Deployment"),
            "it has no persistent storage to back up: no persistentVolumeClaim volume is mounted by a \
             container (at a path stash.appscode.com/volume-mounts can name)"
        );
    }
}
