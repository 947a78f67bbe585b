//! The policy end to end over the core: decisions, exact messages, warnings, lookups made.

mod common;

use backup_blueprint_policy::evaluation::policy::Decision;
use backup_blueprint_policy::lookups::MemoryCluster;
use backup_blueprint_policy::settings::{Check, CustomVariables, OnLookupError, Settings};
use backup_blueprint_policy::target::annotations::RESOLVED;
use common::*;
use serde_json::json;

#[test]
fn the_issue_example_message() {
    let object = with_annotation(
        deployment(good_annotations()),
        "stash.appscode.com/volume-mounts",
        "data",
    );
    assert_eq!(
        rejection(&object, vec![secret("demo", "gcs-secret")]),
        "Deployment demo/web: auto-backup annotations are invalid:\n\
         - stash.appscode.com/volume-mounts: 'data' is not 'volumeName:mountPath[:subPath]'\n\
         - BackupBlueprint 'gcs-daily' not found"
    );
}

#[test]
fn an_annotated_deployment_gets_its_objects() {
    let object = mutated(&deployment(good_annotations()), cluster(), &Settings::default());
    let items = resolved_items(&object);
    assert_eq!(items[0]["kind"], "Repository");
    assert_eq!(items[0]["metadata"]["name"], "deploy-web");
    assert_eq!(items[0]["spec"]["backend"]["gcs"]["prefix"], "demo/deployment/web");
    assert_eq!(items[1]["kind"], "BackupConfiguration");
    assert_eq!(
        items[1]["spec"]["target"]["volumeMounts"],
        json!([{"name": "data", "mountPath": "/data"}])
    );
    // Only the annotation changed.
    let mut original = deployment(good_annotations());
    original["metadata"]["annotations"][RESOLVED] = object["metadata"]["annotations"][RESOLVED].clone();
    assert_eq!(object, original);
}

#[test]
fn emission_is_idempotent() {
    let object = mutated(&deployment(good_annotations()), cluster(), &Settings::default());
    let (again, _) = admit_with(&object, "UPDATE", MemoryCluster::new(cluster()), &Settings::default());
    assert_eq!(again.decision, Decision::Accept);
}

#[test]
fn a_changed_blueprint_updates_the_annotation() {
    let object = mutated(&deployment(good_annotations()), cluster(), &Settings::default());
    let mut changed = gcs_blueprint("gcs-daily");
    changed["spec"]["schedule"] = json!("@daily");
    let (outcome, _) = admit_with(
        &object,
        "UPDATE",
        MemoryCluster::new(vec![changed, secret("demo", "gcs-secret")]),
        &Settings::default(),
    );
    let Decision::Mutate(updated) = outcome.decision else {
        panic!("no update")
    };
    assert_eq!(resolved_items(&updated)[1]["spec"]["schedule"], "@daily");
}

#[test]
fn removing_the_trigger_removes_the_resolved_annotation() {
    let object = mutated(&deployment(good_annotations()), cluster(), &Settings::default());
    let mut untriggered = object.clone();
    let annotations = untriggered["metadata"]["annotations"].as_object_mut().unwrap();
    for key in [
        "stash.appscode.com/backup-blueprint",
        "stash.appscode.com/target-paths",
        "stash.appscode.com/volume-mounts",
    ] {
        annotations.remove(key);
    }
    let (outcome, calls) = admit_with(
        &untriggered,
        "UPDATE",
        MemoryCluster::new(cluster()),
        &Settings::default(),
    );
    let Decision::Mutate(cleaned) = outcome.decision else {
        panic!("not cleaned")
    };
    assert_eq!(cleaned["metadata"]["annotations"], json!({}));
    assert!(calls.is_empty());
}

#[test]
fn emission_can_be_switched_off() {
    let settings = Settings {
        emit_resolved_objects: false,
        ..Settings::default()
    };
    let (outcome, _) = admit(&deployment(good_annotations()), cluster(), &settings);
    assert_eq!(outcome.decision, Decision::Accept);
}

#[test]
fn switching_emission_off_removes_a_stale_annotation() {
    let object = mutated(&deployment(good_annotations()), cluster(), &Settings::default());
    let settings = Settings {
        emit_resolved_objects: false,
        ..Settings::default()
    };
    let cleaned = mutated(&object, cluster(), &settings);
    assert_eq!(cleaned, deployment(good_annotations()));
}

#[test]
fn an_existing_target_owns_its_backup_configuration() {
    let mut object = deployment(good_annotations());
    object["metadata"]["uid"] = json!("4f1c");
    let items = resolved_items(&mutated(&object, cluster(), &Settings::default()));
    assert_eq!(
        items[1]["metadata"]["ownerReferences"],
        json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "4f1c", "controller": true, "blockOwnerDeletion": true}])
    );
    assert_eq!(
        items[1]["metadata"]["annotations"],
        json!({"autobackup.kubewarden.io/target": "apps/v1/Deployment/demo/web"}),
        "no owner annotation: the ownerReference says it"
    );
    assert_eq!(
        items[0]["metadata"].get("ownerReferences"),
        None,
        "the Repository outlives the target"
    );
}

#[test]
fn objects_without_the_trigger_cause_no_lookup() {
    for object in [
        deployment(json!({})),
        deployment(json!({"stash.appscode.com/schedule": "@daily", "params.stash.appscode.com/x": "y"})),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "p", "namespace": "demo"}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": {"stash.appscode.com/backup-blueprint": "x"}}}),
    ] {
        let (outcome, calls) = admit(&object, cluster(), &Settings::default());
        assert_eq!(outcome.decision, Decision::Accept, "{object}");
        assert!(calls.is_empty(), "{object}: {calls:?}");
    }
}

#[test]
fn other_operations_are_accepted_untouched() {
    let object = with_annotation(
        deployment(good_annotations()),
        "stash.appscode.com/volume-mounts",
        "bad",
    );
    for operation in ["DELETE", "CONNECT"] {
        let (outcome, calls) = admit_with(&object, operation, MemoryCluster::new(cluster()), &Settings::default());
        assert_eq!(outcome.decision, Decision::Accept);
        assert!(calls.is_empty());
    }
}

#[test]
fn a_replicaset_of_a_deployment_is_left_alone() {
    let mut object = with_annotation(
        deployment(good_annotations()),
        "stash.appscode.com/volume-mounts",
        "bad",
    );
    object["kind"] = json!("ReplicaSet");
    object["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "u"}]);
    let (outcome, calls) = admit(&object, cluster(), &Settings::default());
    assert_eq!(outcome.decision, Decision::Accept);
    assert!(calls.is_empty());
    object["metadata"].as_object_mut().unwrap().remove("ownerReferences");
    assert!(matches!(
        admit(&object, cluster(), &Settings::default()).0.decision,
        Decision::Reject(_)
    ));
}

#[test]
fn an_object_being_deleted_is_left_alone() {
    let mut object = with_annotation(
        deployment(good_annotations()),
        "stash.appscode.com/volume-mounts",
        "bad",
    );
    object["metadata"]["deletionTimestamp"] = json!("2026-11-25T10:00:00Z");
    let (outcome, calls) = admit_with(&object, "UPDATE", MemoryCluster::new(cluster()), &Settings::default());
    assert_eq!(outcome.decision, Decision::Accept);
    assert!(calls.is_empty());
}

#[test]
fn an_incomplete_workload_trigger_is_reported_with_everything_else() {
    let object = deployment(json!({"stash.appscode.com/backup-blueprint": "gcs-daily"}));
    assert_eq!(
        rejection(&object, cluster()),
        "Deployment demo/web: auto-backup annotations are invalid:\n\
         - stash.appscode.com/backup-blueprint is set but stash.appscode.com/target-paths and stash.appscode.com/volume-mounts are missing; \
         Stash backs up a workload only when all of stash.appscode.com/backup-blueprint, stash.appscode.com/target-paths and \
         stash.appscode.com/volume-mounts are set"
    );
}

#[test]
fn volume_and_path_problems_are_listed_together() {
    let object = deployment(json!({
        "stash.appscode.com/backup-blueprint": "gcs-daily",
        "stash.appscode.com/target-paths": "/data,/var/log",
        "stash.appscode.com/volume-mounts": "dat:/data",
    }));
    assert_eq!(
        rejection(&object, cluster()),
        "Deployment demo/web: auto-backup annotations are invalid:\n\
         - stash.appscode.com/volume-mounts: volume 'dat' is not in the pod template's volumes (declared: data); use the name of a declared volume\n\
         - stash.appscode.com/target-paths: '/var/log' is not under any mount path of stash.appscode.com/volume-mounts (/data); mount the volume that holds it or fix the path"
    );
}

#[test]
fn a_bad_schedule_annotation_is_reported_even_without_its_blueprint() {
    let object = with_annotation(
        deployment(good_annotations()),
        "stash.appscode.com/schedule",
        "every 6 hours",
    );
    assert_eq!(
        rejection(&object, vec![secret("demo", "gcs-secret")]),
        "Deployment demo/web: auto-backup annotations are invalid:\n\
         - stash.appscode.com/schedule: 'every 6 hours' is not a valid cron schedule: expected 5 fields \
         (minute hour day-of-month month day-of-week), found 3; use 5 fields 'minute hour day-of-month month day-of-week' \
         or @hourly, @daily, @weekly, @monthly, @yearly\n\
         - BackupBlueprint 'gcs-daily' not found"
    );
}

#[test]
fn undefined_variables_are_all_reported_with_their_paths() {
    let bp = blueprint(
        "gcs-daily",
        json!({
            "backend": {"gcs": {"bucket": "${TEAM}", "prefix": "${TARGET_APP_RESOURCE}/${TARGET_PATHS}"}, "storageSecretName": "gcs-secret"},
            "schedule": "@daily",
            "retentionPolicy": {"name": "r", "prune": true},
        }),
    );
    assert_eq!(
        rejection(&deployment(good_annotations()), vec![bp, secret("demo", "gcs-secret")]),
        "Deployment demo/web: auto-backup annotations are invalid:\n\
         - BackupBlueprint 'gcs-daily' spec.backend.gcs.bucket: variable ${TEAM} is not defined; give it a default (${TEAM:=value}) \
         or define it with the annotation vars.autobackup.kubewarden.io/TEAM (the policy settings must allow it)\n\
         - BackupBlueprint 'gcs-daily' spec.backend.gcs.prefix: variable ${TARGET_APP_RESOURCE} is not defined; \
         TARGET_APP_RESOURCE is defined only for AppBindings and KubeDB databases, not for a Deployment\n\
         - BackupBlueprint 'gcs-daily' spec.backend.gcs.prefix: variable ${TARGET_PATHS} is not defined; it is not a blueprint variable \
         (built in: TARGET_API_VERSION, TARGET_KIND, TARGET_NAME, TARGET_NAMESPACE, TARGET_RESOURCE and, for databases, \
         TARGET_APP_VERSION, TARGET_APP_TYPE, TARGET_APP_GROUP, TARGET_APP_RESOURCE)"
    );
}

#[test]
fn malformed_expressions_are_reported_with_their_paths() {
    let bp = blueprint(
        "gcs-daily",
        json!({
            "backend": {"gcs": {"bucket": "b", "prefix": "${TARGET.NAME}"}, "storageSecretName": "gcs-secret"},
            "schedule": "@daily",
            "retentionPolicy": {"name": "r", "prune": true},
            "task": {"name": "${TARGET_NAME"},
        }),
    );
    let fix = "write a variable as ${NAME} or with an envsubst operator (${NAME:-default}, ${NAME^^}, …), and a literal $ as $$";
    assert_eq!(
        rejection(&deployment(good_annotations()), vec![bp, secret("demo", "gcs-secret")]),
        format!(
            "Deployment demo/web: auto-backup annotations are invalid:\n\
             - BackupBlueprint 'gcs-daily' spec.backend.gcs.prefix: malformed expression '${{TARGET.NAME}}': \
             invalid character '.' in variable name; {fix}\n\
             - BackupBlueprint 'gcs-daily' spec.task.name: malformed expression '${{TARGET_NAME': missing closing '}}'; {fix}"
        )
    );
}

#[test]
fn custom_variables_resolve_when_allowed() {
    let bp = blueprint(
        "gcs-daily",
        json!({
            "backend": {"gcs": {"bucket": "b", "prefix": "${TEAM}/${TARGET_NAME}"}, "storageSecretName": "gcs-secret"},
            "schedule": "@daily",
            "retentionPolicy": {"name": "r", "prune": true},
        }),
    );
    let object = with_annotation(
        deployment(good_annotations()),
        "vars.autobackup.kubewarden.io/TEAM",
        "blue",
    );
    let settings = Settings {
        custom_variables: CustomVariables {
            allowed: [("TEAM".to_string(), String::new())].into(),
            ..CustomVariables::default()
        },
        ..Settings::default()
    };
    let items = resolved_items(&mutated(
        &object,
        vec![bp.clone(), secret("demo", "gcs-secret")],
        &settings,
    ));
    assert_eq!(items[0]["spec"]["backend"]["gcs"]["prefix"], "blue/web");
    // Not allowed by default: one line, not a second "not defined" one.
    assert_eq!(
        rejection(&object, vec![bp, secret("demo", "gcs-secret")]),
        "Deployment demo/web: auto-backup annotations are invalid:\n\
         - vars.autobackup.kubewarden.io/TEAM: the policy settings do not allow the variable TEAM (no custom variable is allowed; \
         ask the administrator to add it to customVariables.allowed)"
    );
}

#[test]
fn a_missing_storage_secret_follows_the_setting() {
    let object = deployment(good_annotations());
    let line = "BackupBlueprint 'gcs-daily' spec.backend.storageSecretName: Secret 'gcs-secret' not found in namespace 'demo'; \
                create it there: Secrets are namespaced and every Repository namespace needs its own copy";
    assert_eq!(
        rejection(&object, vec![gcs_blueprint("gcs-daily")]),
        format!("Deployment demo/web: auto-backup annotations are invalid:\n- {line}")
    );
    let warn = Settings {
        storage_secret_check: Check::Warn,
        ..Settings::default()
    };
    let (outcome, _) = admit(&object, vec![gcs_blueprint("gcs-daily")], &warn);
    assert!(matches!(outcome.decision, Decision::Mutate(_)));
    assert_eq!(outcome.warnings, [line]);
    let skip = Settings {
        storage_secret_check: Check::Skip,
        ..Settings::default()
    };
    let (outcome, calls) = admit(&object, vec![gcs_blueprint("gcs-daily")], &skip);
    assert!(matches!(outcome.decision, Decision::Mutate(_)));
    assert_eq!(
        calls,
        [
            "BackupBlueprint gcs-daily",
            "Repository demo/deploy-web",
            "BackupConfiguration demo/deploy-web"
        ],
        "no Secret lookup"
    );
}

#[test]
fn host_failures_follow_on_lookup_error() {
    let object = deployment(good_annotations());
    let failing = || MemoryCluster::failing("ApiError: connection refused");
    let (outcome, _) = admit_with(&object, "CREATE", failing(), &Settings::default());
    assert_eq!(
        outcome.decision,
        Decision::Reject(
            "Deployment demo/web: auto-backup annotations are invalid:\n\
             - could not look up BackupBlueprint 'gcs-daily': ApiError: connection refused; the policy could not verify the backup, \
             retry later or ask the cluster administrator to check the policy-server's access (see rbac.yaml)"
                .into()
        )
    );
    let accept = Settings {
        on_lookup_error: OnLookupError::Accept,
        ..Settings::default()
    };
    let (outcome, _) = admit_with(&object, "CREATE", failing(), &accept);
    assert_eq!(outcome.decision, Decision::Accept);
    assert_eq!(
        outcome.warnings,
        [
            "could not look up BackupBlueprint 'gcs-daily': ApiError: connection refused; accepted unchecked because onLookupError is 'accept'"
        ]
    );
}

#[test]
fn one_lookup_per_blueprint_and_per_secret() {
    let object = with_annotation(
        deployment(good_annotations()),
        "stash.appscode.com/backup-blueprint",
        "gcs-daily,gcs-weekly",
    );
    let cluster = vec![
        gcs_blueprint("gcs-daily"),
        gcs_blueprint("gcs-weekly"),
        secret("demo", "gcs-secret"),
    ];
    let (outcome, calls) = admit(&object, cluster, &Settings::default());
    assert_eq!(
        calls,
        [
            "BackupBlueprint gcs-daily",
            "BackupBlueprint gcs-weekly",
            "Secret demo/gcs-secret",
            "Repository demo/deploy-web-gcs-daily",
            "BackupConfiguration demo/deploy-web-gcs-daily",
            "Repository demo/deploy-web-gcs-weekly",
            "BackupConfiguration demo/deploy-web-gcs-weekly",
        ]
    );
    let Decision::Mutate(object) = outcome.decision else {
        panic!("not mutated")
    };
    let items = resolved_items(&object);
    let names: Vec<&str> = items.iter().map(|i| i["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "deploy-web-gcs-daily",
            "deploy-web-gcs-daily",
            "deploy-web-gcs-weekly",
            "deploy-web-gcs-weekly"
        ]
    );
    assert_eq!(
        outcome.warnings,
        [
            "Deployment demo/web backs up with several BackupBlueprints: Stash injects one sidecar per BackupConfiguration into a Deployment \
          and they can conflict (stashed/stash#1139); prefer one blueprint per workload"
        ]
    );
}

#[test]
fn blueprints_generating_the_same_object_collide() {
    let shared_repo = |name: &str| {
        let mut bp = gcs_blueprint(name);
        bp["spec"]["repoNamespace"] = json!("backup");
        bp
    };
    let object = json!({
        "apiVersion": "appcatalog.appscode.com/v1alpha1", "kind": "AppBinding",
        "metadata": {"name": "db", "namespace": "demo", "annotations": {"stash.appscode.com/backup-blueprint": "a,b"}},
        "spec": {"type": "kubedb.com/postgres", "version": "16"},
    });
    // Names differ per blueprint, so these do not collide ...
    let cluster = vec![shared_repo("a"), shared_repo("b"), secret("backup", "gcs-secret")];
    assert!(matches!(
        admit(&object, cluster, &Settings::default()).0.decision,
        Decision::Mutate(_)
    ));
    // ... unless the names are cut to the same 63 characters.
    let long = "x".repeat(60);
    let (a, b) = (format!("{long}-a"), format!("{long}-b"));
    let object = with_annotation(object, "stash.appscode.com/backup-blueprint", &format!("{a},{b}"));
    let cluster = vec![shared_repo(&a), shared_repo(&b), secret("backup", "gcs-secret")];
    let fix = "give them different spec.backupNamespace or spec.repoNamespace, or keep one of them";
    assert_eq!(
        rejection(&object, cluster),
        format!(
            "AppBinding demo/db: auto-backup annotations are invalid:\n\
             - BackupBlueprints '{a}' and '{b}' both generate Repository backup/demo-app-db-{}; {fix}\n\
             - BackupBlueprints '{a}' and '{b}' both generate BackupConfiguration demo/app-db-{}; {fix}",
            &long[..51],
            &long[..56]
        )
    );
}

#[test]
fn a_kubedb_database_is_resolved_as_its_appbinding() {
    let object = json!({
        "apiVersion": "kubedb.com/v1", "kind": "Postgres",
        "metadata": {"name": "pg", "namespace": "demo", "uid": "db-uid", "annotations": {"stash.appscode.com/backup-blueprint": "pg"}},
        "spec": {"version": "16.1"},
    });
    let bp = blueprint(
        "pg",
        json!({
            "backend": {"s3": {"endpoint": "s3.amazonaws.com", "bucket": "b", "prefix": "${TARGET_APP_RESOURCE}/${TARGET_NAME}"}, "storageSecretName": "s3"},
            "task": {"name": "postgres-backup-${TARGET_APP_VERSION}"},
            "schedule": "@daily",
            "retentionPolicy": {"name": "r", "prune": true},
        }),
    );
    let items = resolved_items(&mutated(&object, vec![bp, secret("demo", "s3")], &Settings::default()));
    assert_eq!(items[0]["spec"]["backend"]["s3"]["prefix"], "postgres/pg");
    assert_eq!(items[1]["metadata"]["name"], "app-pg");
    assert_eq!(
        items[1]["metadata"]["annotations"],
        json!({"autobackup.kubewarden.io/owner": "AppBinding/pg",
               "autobackup.kubewarden.io/target": "appcatalog.appscode.com/v1alpha1/AppBinding/demo/pg"})
    );
    assert_eq!(items[1]["spec"]["task"], json!({"name": "postgres-backup-16.1"}));
    assert_eq!(
        items[1]["spec"]["target"],
        json!({"ref": {"apiVersion": "appcatalog.appscode.com/v1alpha1", "kind": "AppBinding", "name": "pg"}})
    );
}

#[test]
fn long_names_are_cut_with_a_warning() {
    let mut object = deployment(good_annotations());
    object["metadata"]["name"] = json!(format!("{}-end", "w".repeat(60)));
    let (outcome, _) = admit(&object, cluster(), &Settings::default());
    assert!(matches!(outcome.decision, Decision::Mutate(_)));
    assert_eq!(
        outcome.warnings,
        [format!(
            "BackupBlueprint 'gcs-daily' generates the name 'deploy-{0}-end', longer than 63 characters: it was cut to 'deploy-{1}'",
            "w".repeat(60),
            "w".repeat(56)
        )]
    );
}

#[test]
fn a_nameless_target_is_rejected() {
    let mut object = deployment(good_annotations());
    object["metadata"]["name"] = json!("");
    object["metadata"]["generateName"] = json!("web-");
    let message = rejection(&object, cluster());
    assert!(message.starts_with("Deployment demo/: auto-backup annotations are invalid:\n- metadata.name is empty: generated objects are named after the target, so set a name instead of generateName"), "{message}");
}

#[test]
fn malformed_objects_are_rejected_clearly() {
    let (outcome, calls) = admit(
        &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"annotations": {"a": 1}}}),
        cluster(),
        &Settings::default(),
    );
    assert_eq!(
        outcome.decision,
        Decision::Reject(
            "the object's metadata could not be read: metadata.annotations.a: expected a string, got a number".into()
        )
    );
    assert!(calls.is_empty());
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"annotations": {"a": 1}}});
    assert_eq!(
        admit(&pod, cluster(), &Settings::default()).0.decision,
        Decision::Accept
    );
}

#[test]
fn huge_inputs_are_bounded() {
    let many_mounts: Vec<String> = (0..5000).map(|i| format!("v{i}:/m{i}")).collect();
    let object = deployment(json!({
        "stash.appscode.com/backup-blueprint": "gcs-daily",
        "stash.appscode.com/target-paths": "/data",
        "stash.appscode.com/volume-mounts": many_mounts.join(","),
    }));
    assert_eq!(
        rejection(&object, cluster()),
        "Deployment demo/web: auto-backup annotations are invalid:\n\
         - stash.appscode.com/volume-mounts: 5000 entries listed; at most 100 are allowed on one object"
    );
}

#[test]
fn a_cut_inside_a_character_names_the_character_and_the_fix() {
    let bp = blueprint(
        "gcs-daily",
        json!({
            "backend": {"gcs": {"bucket": "b", "prefix": "${TEAM:0:1}/${TARGET_NAME}"}, "storageSecretName": "gcs-secret"},
            "schedule": "@daily",
            "retentionPolicy": {"name": "r", "prune": true},
        }),
    );
    let object = with_annotation(
        deployment(good_annotations()),
        "vars.autobackup.kubewarden.io/TEAM",
        "équipe",
    );
    let settings = settings(json!({"customVariables": {"allowed": ["TEAM"], "valuePattern": "^.*$"}}));
    let (outcome, _) = admit(&object, vec![bp, secret("demo", "gcs-secret")], &settings);
    assert_eq!(
        message_of(&outcome),
        "Deployment demo/web: auto-backup annotations are invalid:\n\
         - BackupBlueprint 'gcs-daily' spec.backend.gcs.prefix: '${TEAM:0:1}' cuts the character 'é' in two: \
         Stash counts offsets and lengths in bytes ('é' is 2 bytes); choose offsets between characters"
    );
}
