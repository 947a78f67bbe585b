//! KubeStash targets end to end through the core: the worked example of the README (a
//! blueprint in namespace `backup` usable from labelled namespaces, pinned variables), the
//! mistakes a tenant can make, both generations in one cluster, and the host calls of each
//! scenario (SPEC §11.5's budget).

mod common;

use backup_blueprint_policy::evaluation::policy::Decision;
use common::*;
use serde_json::{Value, json};

fn blueprint(namespace: &str, name: &str, usage: Value, template: Value) -> Value {
    json!({"apiVersion": "core.kubestash.com/v1alpha1", "kind": "BackupBlueprint",
           "metadata": {"name": name, "namespace": namespace},
           "spec": {"usagePolicy": usage, "backupConfigurationTemplate": template}})
}

/// The README's blueprint: in `backup`, usable from namespaces labelled `backup: enabled`; the
/// directory is `<namespace>/<targetName>`.
fn tenant_blueprint() -> Value {
    blueprint(
        "backup",
        "gcs",
        json!({"allowedNamespaces": {"from": "Selector", "selector": {"matchLabels": {"backup": "enabled"}}}}),
        json!({
            "backends": [{"name": "gcs", "storageRef": {"name": "gcs-storage", "namespace": "backup"},
                          "retentionPolicy": {"name": "keep-30", "namespace": "backup"}}],
            "sessions": [{"name": "daily", "scheduler": {"schedule": "0 2 * * *", "jobTemplate": {"backoffLimit": 1}},
                          "addon": {"name": "workload-addon", "tasks": [{"name": "logical-backup", "params": {"paths": "${paths}"}}]},
                          "repositories": [{"name": "${namespace}-${targetName}", "backend": "gcs",
                                            "directory": "/${namespace}/${targetName}",
                                            "encryptionSecret": {"name": "encrypt-secret", "namespace": "backup"}}]}]
        }),
    )
}

fn storage_object(kind: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "storage.kubestash.com/v1alpha1", "kind": kind,
           "metadata": {"name": name, "namespace": "backup"}, "spec": spec})
}

fn tenant_cluster() -> Vec<Value> {
    vec![
        tenant_blueprint(),
        namespace("team-a", json!({"backup": "enabled"})),
        namespace("team-b", json!({"backup": "enabled"})),
        namespace("backup", json!({})),
        storage_object(
            "BackupStorage",
            "gcs-storage",
            json!({"usagePolicy": {"allowedNamespaces": {"from": "Same"}}}),
        ),
        storage_object(
            "RetentionPolicy",
            "keep-30",
            json!({"successfulSnapshots": {"last": 30, "daily": 30},
                                                             "usagePolicy": {"allowedNamespaces": {"from": "Same"}}}),
        ),
    ]
}

fn pinned() -> backup_blueprint_policy::settings::Settings {
    settings(json!({"kubestash": {"pinnedVariables": {"namespace": "TARGET_NAMESPACE", "targetName": "TARGET_NAME"}}}))
}

fn database(annotations: Value) -> Value {
    json!({"apiVersion": "kubedb.com/v1", "kind": "Postgres",
           "metadata": {"name": "db", "namespace": "team-a", "annotations": annotations},
           "spec": {"version": "16.1"}})
}

fn kubestash_statefulset(annotations: Value) -> Value {
    let mut sts = statefulset("team-a", annotations);
    sts["metadata"]["name"] = json!("db");
    sts
}

fn trigger() -> Value {
    json!({"blueprint.kubestash.com/name": "gcs", "blueprint.kubestash.com/namespace": "backup",
           "variables.kubestash.com/paths": "/data"})
}

#[test]
fn the_worked_example_resolves_with_its_pinned_variables() {
    let (outcome, calls) = admit(&kubestash_statefulset(trigger()), tenant_cluster(), &pinned());
    let Decision::Mutate(mutated) = &outcome.decision else {
        panic!("{outcome:?}")
    };
    let annotations = &mutated["metadata"]["annotations"];
    assert_eq!(annotations["variables.kubestash.com/namespace"], "team-a");
    assert_eq!(annotations["variables.kubestash.com/targetName"], "db");
    let items = resolved_items(mutated);
    assert_eq!(
        items,
        [json!({
            "apiVersion": "core.kubestash.com/v1alpha1", "kind": "BackupConfiguration",
            "metadata": {"name": "team-a-statefulset-db", "namespace": "backup",
                         "labels": {"app.kubernetes.io/managed-by": "kubestash.com",
                                    "kubestash.com/invoker-name": "gcs", "kubestash.com/invoker-namespace": "backup"},
                         "annotations": {"autobackup.kubewarden.io/target": "apps/v1/StatefulSet/team-a/db"}},
            "spec": {
                "backends": [{"name": "gcs", "storageRef": {"name": "gcs-storage", "namespace": "backup"},
                              "retentionPolicy": {"name": "keep-30", "namespace": "backup"}}],
                "sessions": [{"name": "daily", "scheduler": {"schedule": "0 2 * * *", "jobTemplate": {"backoffLimit": 1}},
                              "addon": {"name": "workload-addon", "tasks": [{"name": "logical-backup", "params": {"paths": "/data"}}]},
                              "repositories": [{"name": "team-a-db", "backend": "gcs", "directory": "/team-a/db",
                                                "encryptionSecret": {"name": "encrypt-secret", "namespace": "backup"}}]}],
                "target": {"apiGroup": "apps", "kind": "StatefulSet", "name": "db", "namespace": "team-a"}
            }
        })]
    );
    // The blueprint, the target's Namespace (its selector), the storage objects (their
    // usagePolicy is Same: no second Namespace), the BackupConfiguration and the Repository:
    // within 2 + 1 + 2 + 1 + 1.
    assert_eq!(
        calls,
        [
            "BackupBlueprint backup/gcs",
            "Namespace team-a",
            "BackupStorage backup/gcs-storage",
            "RetentionPolicy backup/keep-30",
            "BackupConfiguration backup/team-a-statefulset-db",
            "Repository backup/team-a-db",
        ]
    );
}

#[test]
fn a_tenant_naming_another_tenants_directory_is_rejected_before_any_lookup() {
    let mut annotations = trigger();
    annotations["variables.kubestash.com/namespace"] = json!("team-b");
    let (outcome, calls) = admit(&kubestash_statefulset(annotations), tenant_cluster(), &pinned());
    assert_eq!(
        outcome.decision,
        Decision::Reject(
            "StatefulSet team-a/db: auto-backup annotations are invalid:\n\
             - variables.kubestash.com/namespace: is 'team-b', but the policy pins namespace to the target's \
             TARGET_NAMESPACE 'team-a' (setting kubestash.pinnedVariables); remove the annotation, the policy sets it"
                .into()
        )
    );
    assert!(calls.is_empty(), "{calls:?}");
}

#[test]
fn a_namespace_the_usage_policy_does_not_allow_is_told_what_it_allows() {
    let mut cluster = tenant_cluster();
    cluster.push(namespace("team-c", json!({})));
    let mut sts = kubestash_statefulset(trigger());
    sts["metadata"]["namespace"] = json!("team-c");
    let (outcome, calls) = admit(&sts, cluster, &pinned());
    assert_eq!(
        outcome.decision,
        Decision::Reject(
            "StatefulSet team-c/db: auto-backup annotations are invalid:\n\
             - BackupBlueprint 'backup/gcs' may not be used from namespace 'team-c': its usagePolicy allows only \
             namespaces whose labels match backup=enabled (usagePolicy.allowedNamespaces.selector); use a blueprint \
             this namespace may use, or ask the blueprint's owner to allow it"
                .into()
        )
    );
    assert_eq!(calls, ["BackupBlueprint backup/gcs", "Namespace team-c"]);
}

#[test]
fn blueprint_access_matches_namespace_slash_name_before_any_lookup() {
    let access = settings(json!({"blueprintAccess": [{"blueprints": ["backup/team-b-*"], "namespaces": ["team-a"]}]}));
    let (outcome, calls) = admit(&kubestash_statefulset(trigger()), tenant_cluster(), &access);
    let Decision::Reject(message) = &outcome.decision else {
        panic!("{outcome:?}")
    };
    assert!(message.contains("- BackupBlueprint 'backup/gcs' "), "{message}");
    assert!(calls.is_empty(), "{calls:?}");
}

#[test]
fn the_second_database_on_a_default_blueprint_collides_on_its_repository() {
    let default_blueprint = blueprint(
        "team-a",
        "postgres-default",
        json!(null),
        json!({
            "backends": [{"name": "gcs", "storageRef": {"name": "gcs-storage", "namespace": "team-a"},
                          "retentionPolicy": {"name": "keep", "namespace": "team-a"}}],
            "sessions": [{"name": "frequent-backup", "scheduler": {"schedule": "*/5 * * * *"},
                          "addon": {"name": "postgres-addon", "tasks": [{"name": "logical-backup"}]},
                          "repositories": [{"name": "default-blueprint", "backend": "gcs", "directory": "/default-blueprint"}]}]
        }),
    );
    let first = json!({"apiVersion": "storage.kubestash.com/v1alpha1", "kind": "Repository",
        "metadata": {"name": "default-blueprint", "namespace": "team-a"},
        "spec": {"appRef": {"apiGroup": "kubedb.com", "kind": "Postgres", "name": "first", "namespace": "team-a"},
                 "storageRef": {"name": "gcs-storage", "namespace": "team-a"}, "path": "/default-blueprint"}});
    let mut storage = storage_object("BackupStorage", "gcs-storage", json!({}));
    storage["metadata"]["namespace"] = json!("team-a");
    let mut retention = storage_object("RetentionPolicy", "keep", json!({}));
    retention["metadata"]["namespace"] = json!("team-a");
    let cluster = vec![default_blueprint, first, storage, retention];
    let annotations =
        json!({"blueprint.kubestash.com/name": "postgres-default", "blueprint.kubestash.com/namespace": "team-a"});
    let (outcome, calls) = admit(&database(annotations), cluster, &Default::default());
    assert_eq!(
        outcome.decision,
        Decision::Reject(
            "Postgres team-a/db: auto-backup annotations are invalid:\n\
             - BackupBlueprint 'team-a/postgres-default' spec.backupConfigurationTemplate.sessions[0].repositories[0].name: \
             Repository 'default-blueprint' already exists in namespace 'team-a' and backs up Postgres team-a/first, not \
             Postgres team-a/db: KubeStash refuses the BackupConfiguration; give this target its own repository name (e.g. \
             from a variable such as ${targetName})"
                .into()
        )
    );
    assert_eq!(
        calls,
        [
            "BackupBlueprint team-a/postgres-default",
            "BackupStorage team-a/gcs-storage",
            "RetentionPolicy team-a/keep",
            "BackupConfiguration team-a/appbinding-db",
            "Repository team-a/default-blueprint",
        ]
    );
}

#[test]
fn both_generations_on_one_object_are_rejected_at_no_lookup() {
    let mut annotations = trigger();
    annotations["stash.appscode.com/backup-blueprint"] = json!("gcs-daily");
    let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                     "metadata": {"name": "data", "namespace": "team-a", "annotations": annotations}});
    let (outcome, calls) = admit(&pvc, tenant_cluster(), &Default::default());
    assert!(
        message_of(&outcome)
            .contains("use one generation: remove the annotations of the operator this cluster does not run"),
        "{outcome:?}"
    );
    assert!(calls.is_empty(), "{calls:?}");
}

#[test]
fn a_cluster_with_one_generation_serves_its_own_targets() {
    // Only Stash: a Stash target resolves; a KubeStash target's blueprint is not found.
    let (stash, _) = admit(&deployment(good_annotations()), cluster(), &Default::default());
    assert!(matches!(stash.decision, Decision::Mutate(_)), "{stash:?}");
    let (kubestash, calls) = admit(&kubestash_statefulset(trigger()), cluster(), &Default::default());
    assert_eq!(
        message_of(&kubestash),
        "StatefulSet team-a/db: auto-backup annotations are invalid:\n\
         - BackupBlueprint 'backup/gcs' not found; check blueprint.kubestash.com/name and blueprint.kubestash.com/namespace"
    );
    assert_eq!(calls, ["BackupBlueprint backup/gcs"]);
    // Only KubeStash: its target resolves; a Stash target's blueprint is not found.
    let (kubestash, _) = admit(&kubestash_statefulset(trigger()), tenant_cluster(), &pinned());
    assert!(matches!(kubestash.decision, Decision::Mutate(_)), "{kubestash:?}");
    let (stash, _) = admit(&deployment(good_annotations()), tenant_cluster(), &Default::default());
    assert!(
        message_of(&stash).contains("BackupBlueprint 'gcs-daily' not found"),
        "{stash:?}"
    );
}

#[test]
fn a_template_with_too_many_backends_is_refused_before_the_storage_lookups() {
    let backends: Vec<Value> = (0..9)
        .map(|i| json!({"name": format!("b{i}"), "storageRef": {"name": format!("s{i}")}}))
        .collect();
    let mut bp = tenant_blueprint();
    bp["spec"]["backupConfigurationTemplate"]["backends"] = json!(backends);
    let mut cluster = tenant_cluster();
    cluster[0] = bp;
    let (outcome, calls) = admit(&kubestash_statefulset(trigger()), cluster, &pinned());
    assert!(
        message_of(&outcome)
            .contains("spec.backupConfigurationTemplate.backends: has 9 backends; at most 8 are allowed"),
        "{outcome:?}"
    );
    assert_eq!(calls, ["BackupBlueprint backup/gcs", "Namespace team-a"]);
}

#[test]
fn a_kind_kubestash_does_not_watch_is_accepted_with_a_warning_and_its_kubedb_appbinding_is_skipped() {
    let rc = json!({"apiVersion": "v1", "kind": "ReplicationController",
                    "metadata": {"name": "rc", "namespace": "team-a", "annotations": trigger()}});
    let (outcome, calls) = admit(&rc, tenant_cluster(), &Default::default());
    assert_eq!(outcome.decision, Decision::Accept);
    assert_eq!(outcome.warnings.len(), 1);
    assert!(
        outcome.warnings[0].contains("KubeStash does not watch ReplicationController objects"),
        "{outcome:?}"
    );
    assert!(calls.is_empty());
    let appbinding = json!({"apiVersion": "appcatalog.appscode.com/v1alpha1", "kind": "AppBinding",
        "metadata": {"name": "db", "namespace": "team-a", "annotations": trigger(),
                     "ownerReferences": [{"apiVersion": "kubedb.com/v1", "kind": "Postgres", "name": "db", "uid": "u"}]}});
    let (outcome, calls) = admit(&appbinding, tenant_cluster(), &Default::default());
    assert_eq!((outcome.decision, outcome.warnings), (Decision::Accept, vec![]));
    assert!(calls.is_empty());
}

#[test]
fn session_names_choose_sessions_and_name_the_ones_the_blueprint_has() {
    let mut annotations = trigger();
    annotations["blueprint.kubestash.com/session-names"] = json!("weekly");
    let (outcome, _) = admit(&kubestash_statefulset(annotations), tenant_cluster(), &pinned());
    assert!(
        message_of(&outcome).contains(
            "- blueprint.kubestash.com/session-names: 'weekly' is not a session of the blueprint, which has 'daily'; list only those"
        ),
        "{outcome:?}"
    );
}

#[test]
fn a_kubestash_default_adds_the_blueprint_and_the_pinned_variables_and_require_names_kubestash() {
    let rules = settings(json!({
        "defaultBlueprints": [{"kinds": ["StatefulSet"], "blueprint": "backup/gcs", "namespaces": ["team-a"]}],
        "requireBackup": {"kinds": ["StatefulSet", "PersistentVolumeClaim"]},
        // `paths` pinned only so that the blueprint resolves with no annotation of the owner.
        "kubestash": {"pinnedVariables": {"namespace": "TARGET_NAMESPACE", "targetName": "TARGET_NAME", "paths": "TARGET_KIND"}}
    }));
    let (outcome, _) = admit(&kubestash_statefulset(json!({})), tenant_cluster(), &rules);
    let Decision::Mutate(mutated) = &outcome.decision else {
        panic!("{outcome:?}")
    };
    let annotations = &mutated["metadata"]["annotations"];
    assert_eq!(annotations["blueprint.kubestash.com/name"], "gcs");
    assert_eq!(annotations["blueprint.kubestash.com/namespace"], "backup");
    assert_eq!(annotations["variables.kubestash.com/namespace"], "team-a");
    assert!(annotations.get("stash.appscode.com/target-paths").is_none());
    let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                     "metadata": {"name": "data", "namespace": "team-b", "annotations": {}}});
    let (outcome, _) = admit(&pvc, tenant_cluster(), &rules);
    assert_eq!(
        outcome.decision,
        Decision::Reject(
            "PersistentVolumeClaim team-b/data: a backup is required:\n\
             - requireBackup applies to a PersistentVolumeClaim in namespace 'team-b': add the annotations \
             blueprint.kubestash.com/name: <blueprint> and blueprint.kubestash.com/namespace: <its namespace> (KubeStash)"
                .into()
        )
    );
}

#[test]
fn a_stored_kubestash_target_is_audited_for_drift() {
    let emitted = mutated(&kubestash_statefulset(trigger()), tenant_cluster(), &pinned());
    let mut stored = emitted.clone();
    stored["metadata"]["uid"] = json!("0b7e");
    stored["metadata"]["resourceVersion"] = json!("4711");
    // Its BackupConfiguration now exists: KubeStash made it for this target (spec.target).
    let mut existing = resolved_items(&emitted)[0].clone();
    existing["metadata"]["annotations"] = json!({});
    let mut cluster = tenant_cluster();
    cluster.push(existing);
    let (outcome, _) = admit(&stored, cluster.clone(), &pinned());
    assert_eq!(outcome.decision, Decision::Accept, "{outcome:?}");
    cluster[0]["spec"]["backupConfigurationTemplate"]["sessions"][0]["scheduler"]["schedule"] = json!("0 4 * * *");
    let (outcome, _) = admit(&stored, cluster, &pinned());
    assert_eq!(
        message_of(&outcome),
        "StatefulSet team-a/db: the emitted backup objects are out of date:\n\
         - the resolved objects are stale: BackupBlueprint 'backup/gcs' changed (BackupConfiguration \
         spec.sessions); apply the object again to refresh them"
    );
}

#[test]
fn the_pre_2024_session_key_is_one_problem_and_no_near_miss_warning() {
    let mut annotations = trigger();
    annotations["blueprint.kubestash.com/sessions"] = json!("daily");
    let (outcome, calls) = admit(&kubestash_statefulset(annotations), tenant_cluster(), &pinned());
    assert_eq!(
        message_of(&outcome),
        "StatefulSet team-a/db: auto-backup annotations are invalid:\n\
         - blueprint.kubestash.com/sessions: KubeStash no longer reads this key (renamed in v2024.4.27); use \
         blueprint.kubestash.com/session-names"
    );
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    assert!(calls.is_empty());
}

/// The tenant cluster with `edit` applied to its objects (blueprint first).
fn tenant_cluster_with(edit: impl FnOnce(&mut Vec<Value>)) -> Vec<Value> {
    let mut cluster = tenant_cluster();
    edit(&mut cluster);
    cluster
}

#[test]
fn storage_objects_must_exist_allow_the_namespace_and_keep_enough() {
    // The BackupStorage allows only its own namespace, and the blueprint puts the
    // BackupConfiguration in the target's.
    let cluster = tenant_cluster_with(|c| c[0]["spec"]["backupConfigurationTemplate"]["namespace"] = json!("team-a"));
    let (outcome, _) = admit(&kubestash_statefulset(trigger()), cluster, &pinned());
    assert_eq!(
        message_of(&outcome),
        "StatefulSet team-a/db: auto-backup annotations are invalid:\n\
         - BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.backends[0].storageRef: BackupStorage \
         'backup/gcs-storage' may not be used from namespace 'team-a', where the BackupConfiguration goes: its usagePolicy \
         allows only its own namespace 'backup' (usagePolicy.allowedNamespaces.from: Same), and KubeStash refuses the \
         BackupConfiguration; name another BackupStorage, or ask its owner to allow the namespace\n\
         - BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.backends[0].retentionPolicy: RetentionPolicy \
         'backup/keep-30' may not be used from namespace 'team-a', where the BackupConfiguration goes: its usagePolicy \
         allows only its own namespace 'backup' (usagePolicy.allowedNamespaces.from: Same), and KubeStash refuses the \
         BackupConfiguration; name another RetentionPolicy, or ask its owner to allow the namespace"
    );
    let mut rules = pinned();
    rules.guardrails = settings(json!({"guardrails": {"minimumRetention": {"keepLast": 40}}})).guardrails;
    let (outcome, _) = admit(&kubestash_statefulset(trigger()), tenant_cluster(), &rules);
    assert_eq!(
        message_of(&outcome),
        "StatefulSet team-a/db: auto-backup annotations are invalid:\n\
         - BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.backends[0].retentionPolicy: RetentionPolicy \
         'backup/keep-30' spec.successfulSnapshots.last: keeps 30; guardrails.minimumRetention.keepLast requires at least \
         40; name a RetentionPolicy that keeps more"
    );
    let cluster = tenant_cluster_with(|c| {
        c[0]["spec"]["backupConfigurationTemplate"]["backends"][0]
            .as_object_mut()
            .unwrap()
            .remove("retentionPolicy");
    });
    let (outcome, _) = admit(&kubestash_statefulset(trigger()), cluster, &rules);
    assert_eq!(
        message_of(&outcome),
        "StatefulSet team-a/db: auto-backup annotations are invalid:\n\
         - BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.backends[0].retentionPolicy: is not set, so \
         KubeStash uses the namespace's default RetentionPolicy, which this policy cannot check against \
         guardrails.minimumRetention (keepLast ≥ 40); name a RetentionPolicy"
    );
}

#[test]
fn existing_objects_of_another_target_collide() {
    let foreign_bc = json!({"apiVersion": "core.kubestash.com/v1alpha1", "kind": "BackupConfiguration",
        "metadata": {"name": "team-a-statefulset-db", "namespace": "backup"},
        "spec": {"target": {"apiGroup": "apps", "kind": "StatefulSet", "name": "other", "namespace": "team-a"}}});
    let (outcome, _) = admit(
        &kubestash_statefulset(trigger()),
        tenant_cluster_with(|c| c.push(foreign_bc)),
        &pinned(),
    );
    assert_eq!(
        message_of(&outcome),
        "StatefulSet team-a/db: auto-backup annotations are invalid:\n\
         - BackupBlueprint 'backup/gcs' generates BackupConfiguration backup/team-a-statefulset-db, which already exists \
         and was not generated by this policy (no autobackup.kubewarden.io/target annotation): KubeStash would take it \
         over; rename or delete the existing BackupConfiguration, or use another blueprint for StatefulSet team-a/db"
    );
    let elsewhere = json!({"apiVersion": "storage.kubestash.com/v1alpha1", "kind": "Repository",
        "metadata": {"name": "team-a-db", "namespace": "backup"},
        "spec": {"appRef": {"apiGroup": "apps", "kind": "StatefulSet", "name": "db", "namespace": "team-a"},
                 "storageRef": {"name": "other-storage", "namespace": "backup"}}});
    let (outcome, _) = admit(
        &kubestash_statefulset(trigger()),
        tenant_cluster_with(|c| c.push(elsewhere)),
        &pinned(),
    );
    assert_eq!(
        message_of(&outcome),
        "StatefulSet team-a/db: auto-backup annotations are invalid:\n\
         - BackupBlueprint 'backup/gcs' spec.backupConfigurationTemplate.sessions[0].repositories[0].name: Repository \
         'team-a-db' already exists in namespace 'backup' and keeps its backups in another BackupStorage than backend \
         'gcs': KubeStash refuses the BackupConfiguration; give this target its own repository name (e.g. from a variable \
         such as ${targetName})"
    );
}

#[test]
fn the_value_pattern_holds_every_value_the_owner_writes() {
    let mut rules = pinned();
    rules.kubestash = settings(
        json!({"kubestash": {"pinnedVariables": {"namespace": "TARGET_NAMESPACE", "targetName": "TARGET_NAME"},
                                                    "valuePattern": "^[a-z/-]+$"}}),
    )
    .kubestash;
    let mut annotations = trigger();
    annotations["variables.kubestash.com/paths"] = json!("/Data");
    let (outcome, calls) = admit(&kubestash_statefulset(annotations), tenant_cluster(), &rules);
    assert_eq!(
        message_of(&outcome),
        "StatefulSet team-a/db: auto-backup annotations are invalid:\n\
         - variables.kubestash.com/paths: '/Data' does not match the pattern '^[a-z/-]+$' that the policy setting \
         kubestash.valuePattern requires of every variable value; change the value"
    );
    assert!(calls.is_empty());
    // The pinned values are the target's facts, not the owner's: not held to the pattern.
    let (outcome, _) = admit(&kubestash_statefulset(trigger()), tenant_cluster(), &rules);
    assert!(matches!(outcome.decision, Decision::Mutate(_)), "{outcome:?}");
}

#[test]
fn a_kind_kubestash_does_not_watch_is_told_so() {
    let rc = json!({"apiVersion": "v1", "kind": "ReplicationController",
                    "metadata": {"name": "rc", "namespace": "team-a", "annotations": trigger()}});
    let (outcome, _) = admit(&rc, tenant_cluster(), &Default::default());
    assert_eq!(
        outcome.warnings,
        [
            "ReplicationController team-a/rc has KubeStash's auto-backup annotations, but KubeStash does not watch \
          ReplicationController objects (only apps/v1 Deployments, StatefulSets and DaemonSets, PersistentVolumeClaims and \
          KubeDB databases): nothing will be backed up; annotate the workload that owns it"
        ]
    );
}
