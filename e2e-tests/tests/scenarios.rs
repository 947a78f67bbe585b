//! The policy as policy-server runs it: the freshly built policy.wasm, the scenarios of
//! `scenarios/` (the same ones the kwctl bats tests replay), host calls answered from the
//! scenario cluster.

mod common;

use backup_blueprint_policy_e2e::annotations;
use backup_blueprint_policy_e2e::callback_request::CallbackRequest;
use backup_blueprint_policy_e2e::cluster::Cluster;
use backup_blueprint_policy_e2e::record::Recorder;
use backup_blueprint_policy_e2e::replay::Replay;
use backup_blueprint_policy_e2e::request::AdmissionRequest;
use backup_blueprint_policy_e2e::session;
use common::{Scenario, emitted, patched, rejection, runner};
use serde_json::{Value, json};

/// Accepts the scenario and returns the emitted Repository and BackupConfiguration (after
/// checking that the patch changes nothing but the resolved annotation).
fn accepted_pair(name: &str) -> (Value, Value) {
    let scenario = Scenario::new(name);
    let request = scenario.request();
    let outcome = scenario.outcome();
    let object = patched(&request, &outcome);
    let mut expected = request.object.clone().unwrap();
    expected["metadata"]["annotations"][annotations::RESOLVED] =
        object["metadata"]["annotations"][annotations::RESOLVED].clone();
    assert_eq!(
        object, expected,
        "{name}: the patch must only set the resolved annotation"
    );
    assert_eq!(outcome.evaluation.response.warnings, None, "{name}");
    let items = emitted(&object);
    assert_eq!(items.len(), 2, "{name}: {items:?}");
    assert_eq!(
        (&items[0]["kind"], &items[1]["kind"]),
        (&json!("Repository"), &json!("BackupConfiguration"))
    );
    (items[0].clone(), items[1].clone())
}

fn invalid(lines: &[&str], target: &str) -> String {
    format!(
        "{target}: auto-backup annotations are invalid:\n- {}",
        lines.join("\n- ")
    )
}

const RETRY: &str = "the policy could not verify the backup, retry later or ask the cluster administrator to check the \
                     policy-server's access (see rbac.yaml)";
/// The error of the scenario sessions as the policy quotes it: the gist of policy-server 1.36's
/// error for an API server answering 503 (kube-rs: `ApiError: … (Status { … })` and its cause;
/// the policy-server tests check that the sessions hold what policy-server gives), without
/// policy-server's `Callback evaluation failure: ` prefix, the `Status` dump and the cause.
const API_DOWN: &str = "ApiError: the server is currently unable to handle the request: ServiceUnavailable";

#[test]
fn deployment_accept_and_emit() {
    let (repository, bc) = accepted_pair("deployment");
    assert_eq!(
        repository["metadata"],
        json!({"name": "deploy-web", "namespace": "demo",
        "annotations": {annotations::TARGET: "apps/v1/Deployment/demo/web"}, "labels": {
        "app.kubernetes.io/managed-by": "backup-blueprint-policy", annotations::BLUEPRINT_LABEL: "gcs-daily"}})
    );
    assert_eq!(
        repository["spec"],
        json!({"backend": {"gcs": {"bucket": "acme-backups", "prefix": "demo/deployment/web"}, "storageSecretName": "gcs-secret"}})
    );
    assert_eq!(bc["metadata"]["name"], "deploy-web");
    assert_eq!(
        bc["metadata"]["annotations"],
        json!({annotations::OWNER: "Deployment/web", annotations::TARGET: "apps/v1/Deployment/demo/web"})
    );
    assert_eq!(bc["spec"]["repository"], json!({"name": "deploy-web"}));
    assert_eq!(bc["spec"]["schedule"], "*/5 * * * *");
    assert_eq!(
        bc["spec"]["retentionPolicy"],
        json!({"name": "keep-last-5", "keepLast": 5, "prune": true})
    );
    assert_eq!(
        bc["spec"]["target"],
        json!({"ref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
               "paths": ["/data"], "volumeMounts": [{"name": "data", "mountPath": "/data"}]})
    );
}

#[test]
fn statefulset_accept_and_emit() {
    let (repository, bc) = accepted_pair("statefulset");
    assert_eq!(repository["metadata"]["name"], "sts-db");
    assert_eq!(repository["spec"]["backend"]["gcs"]["prefix"], "demo/statefulset/db");
    assert_eq!(
        bc["spec"]["target"],
        json!({"ref": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"},
               "paths": ["/var/lib/data"], "volumeMounts": [{"name": "data", "mountPath": "/var/lib/data"}]})
    );
}

#[test]
fn daemonset_accept_and_emit() {
    let (repository, bc) = accepted_pair("daemonset");
    assert_eq!(repository["metadata"]["name"], "ds-agent");
    assert_eq!(
        bc["spec"]["target"]["volumeMounts"],
        json!([{"name": "config", "mountPath": "/etc/agent"}, {"name": "state", "mountPath": "/var/agent", "subPath": "node-a"}])
    );
    assert_eq!(bc["spec"]["target"]["paths"], json!(["/etc/agent", "/var/agent"]));
}

#[test]
fn pvc_accept_and_emit() {
    let (repository, bc) = accepted_pair("pvc");
    assert_eq!(repository["metadata"]["name"], "pvc-shared-data");
    assert_eq!(
        repository["spec"]["backend"]["gcs"]["prefix"],
        "demo/persistentvolumeclaim/shared-data"
    );
    assert_eq!(
        bc["spec"]["schedule"], "0 3 * * *",
        "the schedule annotation wins over the blueprint's"
    );
    assert_eq!(
        bc["spec"]["target"],
        json!({"ref": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": "shared-data"}})
    );
}

#[test]
fn appbinding_accept_and_emit() {
    let (repository, bc) = accepted_pair("appbinding");
    assert_eq!(repository["metadata"]["name"], "app-orders");
    assert_eq!(repository["spec"]["backend"]["gcs"]["prefix"], "demo/mysql/orders");
    assert_eq!(
        bc["spec"]["task"],
        json!({"name": "mysql-backup-8.0.35", "params": [{"name": "args", "value": "--all-databases --single-transaction"}]})
    );
    assert_eq!(
        bc["spec"]["target"],
        json!({"ref": {"apiVersion": "appcatalog.appscode.com/v1alpha1", "kind": "AppBinding", "name": "orders"}})
    );
}

#[test]
fn kubedb_postgres_is_resolved_as_its_appbinding() {
    let (repository, bc) = accepted_pair("kubedb-postgres");
    assert_eq!(repository["metadata"]["name"], "app-pg");
    assert_eq!(repository["spec"]["backend"]["gcs"]["prefix"], "demo/postgres/pg");
    assert_eq!(
        bc["metadata"]["annotations"],
        json!({annotations::OWNER: "AppBinding/pg",
               annotations::TARGET: "appcatalog.appscode.com/v1alpha1/AppBinding/demo/pg"})
    );
    assert_eq!(bc["spec"]["task"], json!({"name": "postgres-backup-16.1"}));
    assert_eq!(
        bc["spec"]["target"],
        json!({"ref": {"apiVersion": "appcatalog.appscode.com/v1alpha1", "kind": "AppBinding", "name": "pg"}})
    );
}

#[test]
fn a_database_with_backup_namespace_is_backed_up_from_there() {
    let (repository, bc) = accepted_pair("backup-namespace");
    for object in [&repository, &bc] {
        assert_eq!(object["metadata"]["name"], "demo-app-shop-db");
        assert_eq!(object["metadata"]["namespace"], "backup");
    }
    assert_eq!(
        bc["metadata"]["annotations"],
        json!({annotations::TARGET: "appcatalog.appscode.com/v1alpha1/AppBinding/demo/shop-db"}),
        "no owner across namespaces"
    );
    assert_eq!(
        bc["spec"]["repository"],
        json!({"name": "demo-app-shop-db", "namespace": "backup"})
    );
    assert_eq!(
        bc["spec"]["target"],
        json!({"ref": {"apiVersion": "appcatalog.appscode.com/v1alpha1", "kind": "AppBinding", "name": "shop-db", "namespace": "demo"}})
    );
}

#[test]
fn an_allowed_custom_variable_is_substituted() {
    let (repository, _) = accepted_pair("custom-variable");
    assert_eq!(repository["spec"]["backend"]["gcs"]["prefix"], "blue/web");
}

#[test]
fn rejects_annotation_syntax() {
    assert_eq!(
        rejection(&Scenario::new("reject-annotation-syntax").outcome()),
        invalid(
            &[
                "stash.appscode.com/backup-blueprint: 'Bad_Name' is not a valid BackupBlueprint name (lower-case letters, \
                 digits, '-' and '.', starting and ending with a letter or digit)",
                "stash.appscode.com/target-paths: 'data' is not an absolute path; expected absolute paths separated by ','",
                "stash.appscode.com/target-paths: ' /data' has surrounding white space; expected absolute paths separated by ','",
                "stash.appscode.com/volume-mounts: 'data' is not 'volumeName:mountPath[:subPath]'",
            ],
            "Deployment demo/web"
        )
    );
}

#[test]
fn rejects_an_incomplete_workload_trigger() {
    assert_eq!(
        rejection(&Scenario::new("reject-incomplete-trigger").outcome()),
        invalid(
            &[
                "stash.appscode.com/backup-blueprint is set but stash.appscode.com/target-paths and \
               stash.appscode.com/volume-mounts are missing; Stash backs up a workload only when all of \
               stash.appscode.com/backup-blueprint, stash.appscode.com/target-paths and stash.appscode.com/volume-mounts are set"
            ],
            "Deployment demo/web"
        )
    );
}

#[test]
fn rejects_undeclared_volumes_and_paths_outside_the_mounts() {
    assert_eq!(
        rejection(&Scenario::new("reject-volumes").outcome()),
        invalid(
            &[
                "stash.appscode.com/volume-mounts: volume 'dat' is not in the pod template's volumes (declared: data); \
                 use the name of a declared volume",
                "stash.appscode.com/target-paths: '/var/log' is not under any mount path of stash.appscode.com/volume-mounts \
                 (/data); mount the volume that holds it or fix the path",
            ],
            "Deployment demo/web"
        )
    );
}

/// policy-server answers a missing object with `Callback evaluation failure: Cannot find …`;
/// the policy must read that as "not found", a user error, not a failed lookup.
#[test]
fn rejects_a_missing_blueprint_as_not_found() {
    assert_eq!(
        rejection(&Scenario::new("reject-blueprint-not-found").outcome()),
        invalid(&["BackupBlueprint 'gcs-dialy' not found"], "Deployment demo/web")
    );
}

#[test]
fn rejects_undefined_variables_with_their_paths() {
    assert_eq!(
        rejection(&Scenario::new("reject-undefined-variables").outcome()),
        invalid(
            &[
                "BackupBlueprint 'undefined-variables' spec.backend.gcs.bucket: variable ${TEAM} is not defined; give it a \
                 default (${TEAM:=value}) or define it with the annotation vars.autobackup.kubewarden.io/TEAM (the policy \
                 settings must allow it)",
                "BackupBlueprint 'undefined-variables' spec.backend.gcs.prefix: variable ${TARGET_APP_RESOURCE} is not \
                 defined; TARGET_APP_RESOURCE is defined only for AppBindings and KubeDB databases, not for a Deployment",
                "BackupBlueprint 'undefined-variables' spec.backend.gcs.prefix: variable ${TARGET_PATHS} is not defined; it \
                 is not a blueprint variable (built in: TARGET_API_VERSION, TARGET_KIND, TARGET_NAME, TARGET_NAMESPACE, \
                 TARGET_RESOURCE and, for databases, TARGET_APP_VERSION, TARGET_APP_TYPE, TARGET_APP_GROUP, TARGET_APP_RESOURCE)",
            ],
            "Deployment demo/web"
        )
    );
}

#[test]
fn rejects_an_invalid_result() {
    assert_eq!(
        rejection(&Scenario::new("reject-invalid-result").outcome()),
        invalid(
            &[
                "BackupBlueprint 'invalid-result' spec.schedule: '61 * * * *' is not a valid cron schedule: minute value 61 \
                 is out of range 0-59; use 5 fields 'minute hour day-of-month month day-of-week' or @hourly, @daily, \
                 @weekly, @monthly, @yearly",
                "BackupBlueprint 'invalid-result' spec.retentionPolicy.name: is required (a name for the retention policy, \
                 e.g. keep-last-5)",
                "BackupBlueprint 'invalid-result' spec.retentionPolicy.prune: is required: true or false",
                "BackupBlueprint 'invalid-result' spec.backend: has no storage provider; set exactly one of local, s3, gcs, \
                 azure, swift, b2, rest",
            ],
            "Deployment demo/web"
        )
    );
}

#[test]
fn rejects_what_stash_webhooks_would_reject() {
    assert_eq!(
        rejection(&Scenario::new("reject-stash-webhooks").outcome()),
        invalid(
            &[
                "BackupBlueprint 'stash-forbids' spec.wipeOut: Stash does not support wipeOut with a local backend; remove \
                 wipeOut or use another backend",
                "BackupBlueprint 'stash-forbids' spec.backend.local.mountPath: '/stash/backups' is reserved by Stash (/stash \
                 and below); mount the local backend elsewhere",
            ],
            "Deployment demo/web"
        )
    );
    assert_eq!(
        rejection(&Scenario::new("reject-cross-namespace").outcome()),
        invalid(
            &[
                "BackupBlueprint 'db-central' spec.backupNamespace: Stash does not allow a BackupConfiguration in namespace \
               'backup' to back up a Deployment in namespace 'demo'; only databases (AppBindings) may use backupNamespace"
            ],
            "Deployment demo/web"
        )
    );
}

const MISSING_SECRET: &str = "BackupBlueprint 'gcs-daily' spec.backend.storageSecretName: Secret 'gcs-secret' not found \
                              in namespace 'staging'; create it there: Secrets are namespaced and every Repository namespace \
                              needs its own copy";

#[test]
fn a_missing_storage_secret_is_rejected_by_default() {
    assert_eq!(
        rejection(&Scenario::new("reject-storage-secret").outcome()),
        invalid(&[MISSING_SECRET], "Deployment staging/web")
    );
}

#[test]
fn a_missing_storage_secret_only_warns_in_warn_mode() {
    let scenario = Scenario::new("storage-secret-warn");
    let outcome = scenario.outcome();
    assert_eq!(
        outcome.evaluation.response.warnings,
        Some(vec![MISSING_SECRET.to_string()])
    );
    assert_eq!(emitted(&patched(&scenario.request(), &outcome)).len(), 2);
}

#[test]
fn the_storage_secret_is_not_looked_up_in_skip_mode() {
    let scenario = Scenario::new("storage-secret-skip");
    let dir = tempfile::tempdir().unwrap();
    let recorded = dir.path().join("session.yml");
    let recorder = Recorder::new(Box::new(scenario.cluster()), recorded.clone());
    let outcome = runner()
        .evaluate(Box::new(recorder), &scenario.request(), &scenario.settings())
        .unwrap();
    assert!(outcome.evaluation.response.allowed);
    let kinds: Vec<String> = session::read(&recorded)
        .unwrap()
        .iter()
        .map(|e| {
            let CallbackRequest::KubernetesGetResource { kind, .. } =
                CallbackRequest::from_session_yaml(&e.request).unwrap();
            kind
        })
        .collect();
    assert_eq!(kinds, ["BackupBlueprint", "Repository", "BackupConfiguration"]);
}

#[test]
fn invalid_settings_are_refused_like_kwctl() {
    let err = Scenario::new("invalid-settings").evaluate().unwrap_err();
    assert_eq!(
        err.to_string(),
        "Provided settings are not valid: storageSecretCheck: expected reject, warn or skip, got 'maybe'"
    );
}

#[test]
fn a_host_error_rejects_by_default() {
    let message = rejection(&Scenario::new("host-error-reject").outcome());
    let expected = invalid(
        &[&format!(
            "could not look up BackupBlueprint 'gcs-daily': {API_DOWN}; {RETRY}"
        )],
        "Deployment demo/web",
    );
    assert_eq!(message, expected);
}

#[test]
fn a_host_error_is_accepted_unchecked_when_configured() {
    let outcome = Scenario::new("host-error-accept").outcome();
    let response = &outcome.evaluation.response;
    assert!(response.allowed && response.patch.is_none(), "{response:?}");
    let warnings = response.warnings.clone().unwrap_or_default();
    let expected = format!(
        "could not look up BackupBlueprint 'gcs-daily': {API_DOWN}; accepted unchecked because onLookupError is 'accept'"
    );
    assert_eq!(warnings, [expected]);
}

#[test]
fn the_lookups_are_gets_with_field_masks() {
    let scenario = Scenario::new("deployment");
    let dir = tempfile::tempdir().unwrap();
    let recorded = dir.path().join("session.yml");
    let recorder = Recorder::new(Box::new(scenario.cluster()), recorded.clone());
    runner()
        .evaluate(Box::new(recorder), &scenario.request(), &json!({}))
        .unwrap();
    let requests: Vec<CallbackRequest> = session::read(&recorded)
        .unwrap()
        .iter()
        .map(|e| CallbackRequest::from_session_yaml(&e.request).unwrap())
        .collect();
    assert_eq!(
        requests,
        [
            CallbackRequest::KubernetesGetResource {
                api_version: "stash.appscode.com/v1beta1".into(),
                kind: "BackupBlueprint".into(),
                name: "gcs-daily".into(),
                namespace: None,
                disable_cache: false,
                field_masks: None,
            },
            CallbackRequest::KubernetesGetResource {
                api_version: "v1".into(),
                kind: "Secret".into(),
                name: "gcs-secret".into(),
                namespace: Some("demo".into()),
                disable_cache: false,
                field_masks: Some(["metadata.name".to_string()].into()),
            },
            CallbackRequest::KubernetesGetResource {
                api_version: "stash.appscode.com/v1alpha1".into(),
                kind: "Repository".into(),
                name: "deploy-web".into(),
                namespace: Some("demo".into()),
                disable_cache: false,
                field_masks: Some(["metadata.annotations".to_string()].into()),
            },
            CallbackRequest::KubernetesGetResource {
                api_version: "stash.appscode.com/v1beta1".into(),
                kind: "BackupConfiguration".into(),
                name: "deploy-web".into(),
                namespace: Some("demo".into()),
                disable_cache: false,
                field_masks: Some(["metadata.annotations".to_string()].into()),
            },
        ]
    );
}

#[test]
fn objects_without_the_trigger_make_no_lookup() {
    let mut untriggered = Scenario::new("deployment").object();
    untriggered["metadata"].as_object_mut().unwrap().remove("annotations");
    for object in [untriggered, Scenario::new("not-a-target").object()] {
        let request = AdmissionRequest::for_object(object.clone(), None, "CREATE", None).unwrap();
        // An empty session: any lookup would fail and show in the response.
        let outcome = runner()
            .evaluate(Box::new(Replay::new(Vec::new())), &request, &json!({}))
            .unwrap();
        let response = &outcome.evaluation.response;
        assert!(
            response.allowed && response.patch.is_none() && response.warnings.is_none(),
            "{object}: {response:?}"
        );
    }
}

#[test]
fn emission_is_idempotent_through_the_patch() {
    let scenario = Scenario::new("deployment");
    let request = scenario.request();
    let first = scenario.outcome();
    let object = patched(&request, &first);
    let update = AdmissionRequest::for_object(object.clone(), Some(object), "UPDATE", None).unwrap();
    let again = runner().evaluate(scenario.backend(), &update, &json!({})).unwrap();
    let response = &again.evaluation.response;
    assert!(response.allowed, "{response:?}");
    assert_eq!(
        (&response.patch, &response.patch_type),
        (&None, &None),
        "a second evaluation must not patch"
    );
}

#[test]
fn removing_the_trigger_removes_the_emitted_objects() {
    let scenario = Scenario::new("deployment");
    let request = scenario.request();
    let mut object = patched(&request, &scenario.outcome());
    let object_annotations = object["metadata"]["annotations"].as_object_mut().unwrap();
    for key in [
        annotations::BACKUP_BLUEPRINT,
        annotations::TARGET_PATHS,
        annotations::VOLUME_MOUNTS,
    ] {
        object_annotations.remove(key);
    }
    let update = AdmissionRequest::for_object(object.clone(), Some(object), "UPDATE", None).unwrap();
    let outcome = runner()
        .evaluate(Box::new(Replay::new(Vec::new())), &update, &json!({}))
        .unwrap();
    let cleaned = patched(&update, &outcome);
    assert_eq!(cleaned["metadata"]["annotations"], json!({}));
}

#[test]
fn a_changed_blueprint_updates_the_emitted_objects() {
    let scenario = Scenario::new("deployment");
    let request = scenario.request();
    let object = patched(&request, &scenario.outcome());
    let mut cluster = String::new();
    for item in scenario.cluster().objects() {
        let mut item = item.clone();
        if item["metadata"]["name"] == "gcs-daily" {
            item["spec"]["schedule"] = json!("@hourly");
        }
        cluster.push_str(&format!("---\n{item}\n"));
    }
    let update = AdmissionRequest::for_object(object.clone(), Some(object), "UPDATE", None).unwrap();
    let backend = Box::new(Cluster::from_yaml(&cluster).unwrap());
    let outcome = runner().evaluate(backend, &update, &json!({})).unwrap();
    assert_eq!(emitted(&patched(&update, &outcome))[1]["spec"]["schedule"], "@hourly");
}
