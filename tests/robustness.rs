//! Bad input of any size or shape: the policy answers (never panics) within bounds.

mod common;

use backup_blueprint_policy::evaluation::policy::{Admission, Decision, evaluate};
use backup_blueprint_policy::settings::Settings;
use common::admit;
use serde_json::{Value, json};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn text(&mut self, max_len: usize) -> String {
        const ALPHABET: &[char] = &[
            'a', 'b', 'Z', '0', '9', '-', '.', '_', ',', ':', '/', ' ', '$', '{', '}', '#', '%', '^', '*', '?', '[',
            ']', '=', 'é', '\u{0}', '\n',
        ];
        let len = self.below(max_len + 1);
        (0..len).map(|_| ALPHABET[self.below(ALPHABET.len())]).collect()
    }
}

fn blueprint(spec: Value) -> Value {
    json!({"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupBlueprint", "metadata": {"name": "bp"}, "spec": spec})
}

#[test]
fn random_annotations_and_blueprints_never_panic() {
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let keys = [
            "stash.appscode.com/backup-blueprint",
            "stash.appscode.com/target-paths",
            "stash.appscode.com/volume-mounts",
            "stash.appscode.com/schedule",
            "params.stash.appscode.com/args",
            "vars.autobackup.kubewarden.io/TEAM",
        ];
        let mut annotations = serde_json::Map::new();
        for key in keys {
            if random.below(4) > 0 {
                let value = match (key, random.below(3)) {
                    ("stash.appscode.com/backup-blueprint", 0) => "bp".to_string(),
                    _ => random.text(24),
                };
                annotations.insert(key.to_string(), json!(value));
            }
        }
        let kind = ["Deployment", "StatefulSet", "DaemonSet"][random.below(3)];
        let object = json!({
            "apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": random.text(10), "namespace": "demo", "annotations": annotations},
            "spec": {"template": {"spec": {"volumes": [{"name": random.text(5)}]}}},
        });
        let spec = json!({
            "backend": {"gcs": {"bucket": random.text(12), "prefix": random.text(40)}, "storageSecretName": random.text(8)},
            "backupNamespace": random.text(6),
            "schedule": random.text(16),
            "task": {"name": random.text(20), "params": [{"name": random.text(4), "value": random.text(20)}]},
            random.text(8): random.text(30),
            "retentionPolicy": {"name": random.text(8), "prune": true},
        });
        let (outcome, calls) = admit(&object, vec![blueprint(spec)], &Settings::default());
        assert!(calls.len() <= 3, "{calls:?}");
        if let Decision::Reject(message) = outcome.decision {
            assert!(message.len() < 64 * 1024, "message of {} bytes", message.len());
        }
    }
}

#[test]
fn deeply_nested_blueprints_are_rejected_not_overflowed() {
    // Blueprints come from the host as JSON text, which serde_json parses at most 128 deep.
    let mut deep = json!("${TARGET_NAME}");
    for _ in 0..120 {
        deep = json!({ "x": deep });
    }
    let spec = json!({
        "backend": {"gcs": {"bucket": "b"}, "storageSecretName": "s"},
        "schedule": "@daily",
        "retentionPolicy": {"name": "r", "prune": true},
        "hooks": deep,
    });
    let object = json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "p", "namespace": "demo", "annotations": {"stash.appscode.com/backup-blueprint": "bp"}},
    });
    let (outcome, _) = admit(&object, vec![blueprint(spec)], &Settings::default());
    let Decision::Reject(message) = outcome.decision else {
        panic!("accepted")
    };
    assert!(message.contains("nested deeper than"), "{message}");
}

#[test]
fn unreadable_objects_are_rejected() {
    for object in [json!([[[]]]), json!("apps/v1"), json!(42), Value::Null] {
        let admission = Admission {
            operation: "CREATE",
            namespace: "demo",
            object,
            old_object: None,
        };
        let cluster = backup_blueprint_policy::lookups::MemoryCluster::default();
        let outcome = evaluate(admission, &Settings::default(), &cluster);
        assert!(
            matches!(&outcome.decision, Decision::Reject(m) if m.starts_with("the object could not be read: ")),
            "{:?}",
            outcome.decision
        );
    }
}

#[test]
fn huge_annotation_values_are_handled() {
    let object = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "demo", "annotations": {
            "stash.appscode.com/backup-blueprint": ",".repeat(200_000),
            "stash.appscode.com/target-paths": "/a".repeat(100_000),
            "stash.appscode.com/volume-mounts": "x:".repeat(100_000),
        }},
    });
    let (outcome, calls) = admit(&object, vec![], &Settings::default());
    let Decision::Reject(message) = outcome.decision else {
        panic!("accepted")
    };
    assert!(message.len() < 64 * 1024);
    assert!(calls.is_empty());
}

/// Settings from JSON, as `validate_settings` reads them.
fn settings(json: Value) -> Settings {
    backup_blueprint_policy::settings::parse(json.to_string().as_bytes()).unwrap()
}

fn pvc(annotations: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "p", "namespace": "demo", "annotations": annotations},
    })
}

fn rejected(outcome: backup_blueprint_policy::evaluation::policy::Outcome) -> String {
    match outcome.decision {
        Decision::Reject(message) => message,
        // Not the object itself: a regression may make it gigabytes long.
        Decision::Accept => panic!("expected a rejection, got an acceptance"),
        Decision::Mutate(_) => panic!("expected a rejection, got a mutation"),
    }
}

#[test]
fn quoted_keys_names_and_values_escape_controls_and_bidi_overrides() {
    // Issue 9, hostile catalogue: a NUL in an annotation key or the object name, a right-to-left
    // override in a value, reached the message raw.
    let mut object = pvc(json!({
        "stash.appscode.com/backup-blueprint": "gcs\u{202e}yliad",
        "vars.autobackup.kubewarden.io/X\u{0}": "v",
    }));
    object["metadata"]["name"] = json!("p\u{0}\u{2066}");
    let message = rejected(
        admit(
            &object,
            common::cluster(),
            &settings(json!({"customVariables": {"allowed": ["X"]}})),
        )
        .0,
    );
    assert!(
        !message
            .chars()
            .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c) || c == '\u{2066}'),
        "{message:?}"
    );
    assert!(
        message.starts_with("PersistentVolumeClaim demo/p\\0\\u{2066}: "),
        "{message}"
    );
    assert!(message.contains("'gcs\\u{202e}yliad'"), "{message}");
    assert!(message.contains("vars.autobackup.kubewarden.io/X\\0: "), "{message}");
}

#[test]
fn rejections_and_settings_messages_are_at_most_4_kib() {
    // 100 variables that are not allowed (the most an object may define): 40 long lines were 7 KiB.
    let vars: serde_json::Map<String, Value> = (0..100)
        .map(|i| (format!("vars.autobackup.kubewarden.io/V{i}"), json!("v")))
        .chain([("stash.appscode.com/backup-blueprint".to_string(), json!("gcs-daily"))])
        .collect();
    let message = rejected(admit(&pvc(Value::Object(vars)), common::cluster(), &Settings::default()).0);
    assert!(message.len() <= 4096, "{} bytes", message.len());
    assert!(message.ends_with(" more problems"), "{message}");
    // 10,000 keys each with its undefined variable, in a blueprint.
    let mut spec = common::gcs_blueprint("gcs-daily")["spec"].clone();
    for i in 0..10_000 {
        spec["hooks"][format!("${{TARGET_NAME}}{i}${{X:-${{Y:-${{Z}}}}}}")] = json!(i);
    }
    let cluster = vec![
        common::blueprint("gcs-daily", spec),
        common::secret("demo", "gcs-secret"),
    ];
    let object = pvc(json!({"stash.appscode.com/backup-blueprint": "gcs-daily"}));
    let message = rejected(admit(&object, cluster, &Settings::default()).0);
    assert!(message.len() <= 4096, "{} bytes", message.len());
    // 10,000 unknown kinds in the settings: one problem each, 3.4 MB.
    let kinds: Vec<String> = (0..10_000).map(|i| format!("Kind{i}")).collect();
    let payload = json!({"requireBackup": {"kinds": kinds}}).to_string();
    let message = backup_blueprint_policy::settings::parse(payload.as_bytes()).unwrap_err();
    assert!(message.len() <= 4096, "{} bytes", message.len());
    assert!(
        message.starts_with("requireBackup.kinds[0]: 'Kind0' is not a kind"),
        "{message}"
    );
    assert!(message.ends_with(" more problems"), "{message}");
}

#[test]
fn amplifying_replacements_in_many_fields_are_bounded() {
    // `${X//a/${X}}` in 20,000 fields, each 65,025 bytes once substituted: 1.3 GB, the wasm
    // guest ran out of memory (a trap).
    let mut spec = common::gcs_blueprint("gcs-daily")["spec"].clone();
    for i in 0..20_000 {
        spec["hooks"][format!("h{i}")] = json!("${X//a/${X}}");
    }
    let cluster = vec![
        common::blueprint("gcs-daily", spec),
        common::secret("demo", "gcs-secret"),
    ];
    let object = pvc(json!({
        "stash.appscode.com/backup-blueprint": "gcs-daily",
        "vars.autobackup.kubewarden.io/X": "a".repeat(255),
    }));
    let settings = settings(json!({"customVariables": {"allowed": ["X"], "valuePattern": "^a*$"}}));
    let message = rejected(admit(&object, cluster, &settings).0);
    assert!(
        message.contains("the substituted blueprint grows past 2097152 bytes here"),
        "{message}"
    );
}

#[test]
fn objects_too_deep_to_return_mutated_are_rejected() {
    // policy-server reads the answer at most 128 levels deep: the mutated object sits one level
    // down in it, so 126 levels are returned and 127 are rejected (it was an engine error).
    let nested = |levels: usize| {
        let mut object = pvc(json!({"stash.appscode.com/backup-blueprint": "gcs-daily"}));
        object["spec"] = (1..levels).fold(json!("leaf"), |inner, _| json!({ "x": inner }));
        object
    };
    let (outcome, _) = admit(&nested(126), common::cluster(), &Settings::default());
    assert!(
        matches!(outcome.decision, Decision::Mutate(_)),
        "{:?}",
        outcome.decision
    );
    let message = rejected(admit(&nested(127), common::cluster(), &Settings::default()).0);
    assert_eq!(
        message,
        "the object is nested deeper than 126 levels of objects and arrays: it cannot be returned \
         with its backup annotations set; flatten it"
    );
}

#[test]
fn a_variable_not_allowed_lists_a_few_allowed_names() {
    // With thousands of allowed names, the message joined them all (and each variable was
    // checked against every name, and every name against the ones before it). They are listed
    // in name order.
    let allowed: Vec<String> = (0..10_000).map(|i| format!("V{i}")).collect();
    let settings = settings(json!({"customVariables": {"allowed": allowed}}));
    let object =
        pvc(json!({"stash.appscode.com/backup-blueprint": "gcs-daily", "vars.autobackup.kubewarden.io/TEAM": "a"}));
    let message = rejected(admit(&object, common::cluster(), &settings).0);
    assert!(
        message.ends_with(
            "- vars.autobackup.kubewarden.io/TEAM: the policy settings do not allow the variable TEAM \
             (allowed: V0, V1, V10, V100, V1000, V1001, V1002, V1003, V1004, V1005, … (10000 in all))"
        ),
        "{message}"
    );
    let twice = json!({"customVariables": {"allowed": ["A", "B", "A"]}}).to_string();
    assert_eq!(
        backup_blueprint_policy::settings::parse(twice.as_bytes()).unwrap_err(),
        "customVariables.allowed[2]: 'A' is listed twice"
    );
}

#[test]
fn thousands_of_params_and_variables_are_refused_before_any_work() {
    // Issue 9: 10,000 params.stash.appscode.com/* annotations took seconds (a quadratic merge
    // into the task's params) and 10,000 variables against 10,000 allowed names too.
    let allowed: Vec<String> = (0..10_000).map(|i| format!("V{i}")).collect();
    let settings = settings(json!({"customVariables": {"allowed": allowed}}));
    for (prefix, name) in [
        ("params.stash.appscode.com/", "p"),
        ("vars.autobackup.kubewarden.io/", "V"),
    ] {
        let annotations = |count: usize| -> Value {
            (0..count)
                .map(|i| (format!("{prefix}{name}{i}"), json!("v")))
                .chain([("stash.appscode.com/backup-blueprint".to_string(), json!("gcs-daily"))])
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let (outcome, _) = admit(&pvc(annotations(100)), common::cluster(), &settings);
        assert!(
            matches!(outcome.decision, Decision::Mutate(_)),
            "{:?}",
            outcome.decision
        );
        let message = rejected(admit(&pvc(annotations(10_000)), common::cluster(), &settings).0);
        assert!(
            message.ends_with(&format!(
                "\n- {prefix}*: 10000 annotations with this prefix; at most 100 are allowed on one object"
            )),
            "{message}"
        );
    }
}

#[test]
fn blueprint_access_messages_quote_the_namespace() {
    // A 60,000-character namespace made the access line longer than a whole message: it was
    // left out of the rejection instead of being shortened.
    let settings = settings(json!({"blueprintAccess": [{"blueprints": ["other"], "namespaces": ["x"]}]}));
    let mut object = pvc(json!({"stash.appscode.com/backup-blueprint": "gcs-daily"}));
    object["metadata"]["namespace"] = json!("a".repeat(60_000));
    let message = rejected(admit(&object, common::cluster(), &settings).0);
    assert!(message.len() <= 4096, "{} bytes", message.len());
    assert!(
        message.contains(&format!(
            "may not be used in namespace '{}…': no blueprintAccess rule",
            "a".repeat(80)
        )),
        "{message}"
    );
}

#[test]
fn emitted_objects_over_the_annotation_limit_are_rejected_with_the_reason() {
    let mut big = common::gcs_blueprint("gcs-daily");
    // Five notes of 60 KB: each under the 64 KiB a substituted string may have, 300 KB in all.
    let notes: serde_json::Map<String, Value> = (0..5)
        .map(|i| (format!("note-{i}"), json!("x".repeat(60_000))))
        .collect();
    big["spec"]["runtimeSettings"] = json!({"pod": {"annotations": notes}});
    let (outcome, _) = common::admit(
        &common::deployment(common::good_annotations()),
        vec![big, common::secret("demo", "gcs-secret")],
        &Settings::default(),
    );
    let Decision::Reject(message) = outcome.decision else {
        panic!("expected a rejection")
    };
    assert!(
        message.starts_with(
            "Deployment demo/web: auto-backup annotations are invalid:\n- with the emitted objects \
             (autobackup.kubewarden.io/resolved) its annotations would be "
        ),
        "{message}"
    );
    assert!(message.ends_with(
        " bytes, over Kubernetes' limit of 262144 bytes for all annotations of an object; make the blueprint \
         smaller or set the policy setting emitResolvedObjects to false"
    ));
}
