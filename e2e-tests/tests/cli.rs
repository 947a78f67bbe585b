//! The `policy-run` binary: kwctl's output shape, the host sources, the examples, and clear
//! failures for bad arguments and files.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{policy_path, repo_root, scenarios_dir};

fn policy_run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_policy-run"))
        .args(["--policy", policy_path().to_str().unwrap(), "--quiet"])
        .args(args)
        .env(
            "POLICY_RUN_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("policy-cache"),
        )
        .current_dir(repo_root())
        .output()
        .expect("policy-run starts")
}

/// Runs policy-run in `dir` with exactly these arguments (no default --policy), `input` on
/// its stdin.
fn run_in(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_policy-run"))
        .args(args)
        .env(
            "POLICY_RUN_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("policy-cache"),
        )
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("policy-run starts");
    let mut stdin = child.stdin.take().unwrap();
    // policy-run may stop reading early (an argument error): a write error is no failure.
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// Runs policy-run from the repository root with the policy under test, `--quiet` and `input`
/// on its stdin.
fn policy_run_stdin(args: &[&str], input: &str) -> Output {
    let policy = policy_path();
    let mut all = vec!["--policy", policy.to_str().unwrap(), "--quiet"];
    all.extend_from_slice(args);
    run_in(&repo_root(), &all, input)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn scenario_file(scenario: &str, file: &str) -> String {
    scenarios_dir().join(scenario).join(file).to_string_lossy().into_owned()
}

fn cluster() -> String {
    scenarios_dir().join("cluster.yaml").to_string_lossy().into_owned()
}

/// Runs and expects success; returns stdout.
/// The answer for a scenario's object, with the AdmissionReview evaluated saved in a scratch
/// folder (kept as long as the returned guard).
fn saved_review(scenario: &str) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let review = dir.path().join("review.json");
    let object = scenario_file(scenario, "object.yaml");
    let answer = evaluated(&[
        "--object",
        &object,
        "--cluster",
        &cluster(),
        "--save-request",
        review.to_str().unwrap(),
    ]);
    (dir, review, answer)
}

fn evaluated(args: &[&str]) -> String {
    let output = policy_run(args);
    assert!(
        output.status.success(),
        "policy-run {args:?} failed:\n{}",
        stderr(&output)
    );
    stdout(&output)
}

/// Runs and expects a failure with this exit code; returns stderr.
fn failed(args: &[&str], code: i32) -> String {
    let output = policy_run(args);
    assert_eq!(
        output.status.code(),
        Some(code),
        "policy-run {args:?}:\n{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(stdout(&output).is_empty(), "nothing on stdout when it fails");
    stderr(&output)
}

#[test]
fn prints_the_admission_response_like_kwctl() {
    let out = evaluated(&[
        "--object",
        &scenario_file("deployment", "object.yaml"),
        "--cluster",
        &cluster(),
    ]);
    assert!(
        out.starts_with(r#"{"uid":"policy-run-web","allowed":true,"patchType":"JSONPatch","patch":""#),
        "{out}"
    );
    assert!(out.ends_with("\"auditAnnotations\":null,\"warnings\":null}\n"), "{out}");
    assert_eq!(out.lines().count(), 1, "compact JSON on one line");

    let out = evaluated(&[
        "--object",
        &scenario_file("reject-volumes", "object.yaml"),
        "--cluster",
        &cluster(),
    ]);
    assert!(out.starts_with(
        r#"{"uid":"policy-run-web","allowed":false,"status":{"message":"Deployment demo/web: auto-backup"#
    ));
}

#[test]
fn a_saved_request_gives_the_same_answer() {
    let (_dir, review, first) = saved_review("kubedb-postgres");
    let again = evaluated(&["--request", review.to_str().unwrap(), "--cluster", &cluster()]);
    assert_eq!(first, again);
}

#[test]
fn a_json_request_holding_nul_is_read_as_json() {
    // Issue 9: YAML refuses `\u0000`, kwctl (JSON) does not; policy-run must read it too.
    let dir = tempfile::tempdir().unwrap();
    let review = dir.path().join("review.json");
    let object = serde_json::json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "p", "namespace": "demo", "annotations": {
            "stash.appscode.com/backup-blueprint": "gcs-daily\u{0}",
            "note\u{0}": "\u{202e}x\u{0}",
        }},
    });
    let request = serde_json::json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "nul", "kind": {"group": "", "version": "v1", "kind": "PersistentVolumeClaim"},
            "resource": {"group": "", "version": "v1", "resource": "persistentvolumeclaims"},
            "namespace": "demo", "operation": "CREATE", "userInfo": {}, "object": object,
        },
    });
    let text = request.to_string();
    assert!(text.contains("\\u0000"), "{text}");
    std::fs::write(&review, text).unwrap();
    let out = evaluated(&["--request", review.to_str().unwrap(), "--cluster", &cluster()]);
    assert!(out.starts_with(r#"{"uid":"nul","allowed":false,"#), "{out}");
    assert!(
        out.contains("gcs-daily\\\\0"),
        "the name is quoted with its NUL escaped: {out}"
    );
}

#[test]
fn a_recorded_session_replays_to_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("session.yml");
    for scenario in ["deployment", "reject-storage-secret"] {
        let object = scenario_file(scenario, "object.yaml");
        let recorded = evaluated(&[
            "--object",
            &object,
            "--cluster",
            &cluster(),
            "--record",
            session.to_str().unwrap(),
        ]);
        let text = std::fs::read_to_string(&session).unwrap();
        assert!(
            text.starts_with("- type: Exchange\n  request: |\n    !KubernetesGetResource\n"),
            "{text}"
        );
        let replayed = evaluated(&["--object", &object, "--replay", session.to_str().unwrap()]);
        assert_eq!(recorded, replayed, "{scenario}");
    }
}

#[test]
fn replay_errors_reach_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.yml");
    std::fs::write(&empty, "[]\n").unwrap();
    let object = scenario_file("deployment", "object.yaml");
    let out = evaluated(&["--object", &object, "--replay", empty.to_str().unwrap()]);
    assert!(out.contains("the list of recorded responses is empty"), "{out}");

    let other = scenario_file("host-error-reject", "session.yml");
    let object = scenario_file("reject-blueprint-not-found", "object.yaml");
    let out = evaluated(&["--object", &object, "--replay", &other]);
    assert!(
        out.contains("Replay error: unexpected request. Was expecting KubernetesGetResource"),
        "{out}"
    );
}

#[test]
fn pretty_shows_the_examples_for_a_person() {
    let examples = repo_root().join("examples");
    let run = |file: &str| {
        let object = examples.join(file).to_string_lossy().into_owned();
        let cluster = examples.join("cluster.yaml").to_string_lossy().into_owned();
        evaluated(&["--object", &object, "--cluster", &cluster, "--pretty"])
    };
    let good = run("deployment-good.yaml");
    assert!(
        good.starts_with("ACCEPTED (mutated): CREATE Deployment demo/shop\n"),
        "{good}"
    );
    assert!(
        good.contains("\n---\napiVersion: stash.appscode.com/v1alpha1\nkind: Repository\n"),
        "{good}"
    );
    assert!(
        good.contains("\n---\napiVersion: stash.appscode.com/v1beta1\nkind: BackupConfiguration\n"),
        "{good}"
    );
    let broken = run("deployment-broken.yaml");
    assert!(
        broken.starts_with(
            "REJECTED: CREATE Deployment staging/shop\n\nannotations:\n  \
             stash.appscode.com/backup-blueprint: workload-backups\n  \
             stash.appscode.com/target-paths: /var/lib/shop,/var/log/shop\n  \
             stash.appscode.com/volume-mounts: shop-data:/var/lib/shop\n\nmessage:\n  Deployment staging/shop:"
        ),
        "{broken}"
    );
    assert!(
        broken.contains("volume 'shop-data' is not in the pod template's volumes"),
        "{broken}"
    );
    let postgres = run("postgres.yaml");
    assert!(
        postgres.starts_with("ACCEPTED (mutated): CREATE Postgres demo/orders-db\n"),
        "{postgres}"
    );
    assert!(
        postgres.contains("    kind: AppBinding\n      name: orders-db\n"),
        "{postgres}"
    );
}

#[test]
fn invalid_settings_fail_with_kwctls_message() {
    let object = scenario_file("deployment", "object.yaml");
    let err = failed(
        &[
            "--object",
            &object,
            "--settings",
            &scenario_file("invalid-settings", "settings.yaml"),
        ],
        1,
    );
    assert_eq!(
        err,
        "Error: Provided settings are not valid: storageSecretCheck: expected reject, warn or skip, got 'maybe'\n"
    );
    let err = failed(&["--object", &object, "--settings-json", "{\"onLookupError\":"], 1);
    assert!(
        err.starts_with("Error: malformed --settings-json: EOF while parsing"),
        "{err}"
    );
}

#[test]
fn bad_arguments_and_files_fail_clearly() {
    let output = run_in(&repo_root(), &[], "");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: nothing to evaluate: give --object FILE|DIR|- (manifests: files, directories, or - for standard \
         input) or --request FILE (an AdmissionReview or AdmissionRequest); see policy-run --help\n"
    );
    let err = failed(&["--object", "nope.yaml"], 1);
    assert!(
        err.starts_with("Error: cannot read object nope.yaml: No such file or directory"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let bad_yaml = write("bad.yaml", "metadata: [unclosed\n");
    let err = failed(&["--object", bad_yaml.to_str().unwrap()], 1);
    assert!(
        err.starts_with(&format!("Error: malformed object {}: ", bad_yaml.display())),
        "{err}"
    );
    let nameless = write("nameless.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n");
    let err = failed(&["--object", nameless.to_str().unwrap()], 1);
    assert!(err.ends_with("the object has no metadata.name\n"), "{err}");
    let not_a_request = write("request.json", "{\"hello\": 1}");
    let err = failed(&["--request", not_a_request.to_str().unwrap()], 1);
    assert!(
        err.contains("not an AdmissionRequest or AdmissionReview: missing field `uid`"),
        "{err}"
    );
    let bad_session = write("session.yml", "- type: Exchange\n");
    let err = failed(
        &[
            "--object",
            &scenario_file("deployment", "object.yaml"),
            "--replay",
            bad_session.to_str().unwrap(),
        ],
        1,
    );
    assert!(err.starts_with("Error: malformed host capabilities session"), "{err}");
    let object = scenario_file("deployment", "object.yaml");
    let err = failed(&["--object", &object, "--cluster", bad_yaml.to_str().unwrap()], 1);
    assert!(err.starts_with("Error: malformed cluster file"), "{err}");
    let output = Command::new(env!("CARGO_BIN_EXE_policy-run"))
        .args(["--policy", "missing.wasm", "--object", &object])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("Error: cannot read policy missing.wasm"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_manifest_given_as_a_request_says_to_use_object() {
    let err = failed(&["--request", "examples/deployment-good.yaml"], 1);
    assert_eq!(
        err,
        "Error: --request examples/deployment-good.yaml is a Deployment manifest, not an AdmissionReview or \
         AdmissionRequest: give manifests with --object\n"
    );
}

#[test]
fn a_policy_that_is_not_webassembly_is_one_line() {
    let output = run_in(
        &repo_root(),
        &["--policy", "README.md", "--object", "examples/deployment-good.yaml"],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "Error: the policy README.md is not a WebAssembly module: give --policy a compiled policy (policy.wasm, \
         annotated-policy.wasm)\n"
    );
}

#[test]
fn lookups_without_a_cluster_say_to_give_one() {
    let out = evaluated(&["--object", "examples/deployment-good.yaml"]);
    assert!(out.starts_with(r#"{"uid":"policy-run-shop","allowed":false,"#), "{out}");
    assert!(
        out.contains(
            "could not look up BackupBlueprint 'workload-backup': policy-run has no cluster to look this up in: \
             lookups need --cluster FILE or --replay SESSION; "
        ),
        "{out}"
    );
    assert!(!out.contains("kube::Client"), "{out}");
}

/// Runs with the examples' cluster; returns the exit code and stdout.
fn preview(args: &[&str]) -> (Option<i32>, String) {
    let cluster = repo_root().join("examples/cluster.yaml");
    let mut all = vec!["--cluster", cluster.to_str().unwrap()];
    all.extend_from_slice(args);
    let output = policy_run(&all);
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
    (output.status.code(), stdout(&output))
}

#[test]
fn previews_the_examples_directory_one_line_per_object() {
    let (code, out) = preview(&["--object", "examples"]);
    assert_eq!(code, Some(0), "{out}");
    // The README shows the whole output (checked by tests/readme.rs); here, its shape: one line
    // per document, each naming its file, then the summary.
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 12 + 3 + 1, "{out}");
    for line in &lines[..lines.len() - 1] {
        assert!(
            ["ACCEPTED  ", "REJECTED  ", "ERROR     "]
                .iter()
                .any(|p| line.starts_with(p))
                && line.contains("examples/"),
            "{line}"
        );
    }
    assert_eq!(
        lines.last().copied(),
        Some(
            "12 objects evaluated: 7 accepted (5 mutated, 0 with warnings), 5 rejected; 31 skipped (kinds the policy's \
             rules do not match); 3 errors"
        )
    );
    // Without settings, the tenancy, protection and KubeStash examples have no rules to meet
    // (the KubeStash StatefulSets lack the variables the settings pin). The objects of
    // cluster.yaml (Namespaces, Secrets, both generations' blueprints and storage objects, a
    // BackupConfiguration, a Repository) and the ClusterAdmissionPolicy are the 31 skipped ones;
    // the three settings files are no objects.
    let (code, _) = preview(&["--object", "examples", "--fail-on-reject"]);
    assert_eq!(code, Some(1), "--fail-on-reject: a rejection exits 1");
}

/// A repository of manifests: a multi-document file mixing kinds, a `List`, a subdirectory,
/// a file that is not a Kubernetes object, and a file of another extension.
fn manifests_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let examples = repo_root().join("examples");
    let good = std::fs::read_to_string(examples.join("deployment-good.yaml")).unwrap();
    let broken = std::fs::read_to_string(examples.join("deployment-broken.yaml")).unwrap();
    let config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: demo}\ndata: {a: b}\n";
    std::fs::write(dir.path().join("app.yaml"), format!("{good}---\n{config_map}---\n")).unwrap();
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    std::fs::write(dir.path().join("nested/broken.yml"), &broken).unwrap();
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "shop", "namespace": "demo"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "plain", "namespace": "demo"},
         "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}}},
    ]});
    std::fs::write(dir.path().join("list.json"), list.to_string()).unwrap();
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [app.yaml]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("README.md"), "not a manifest\n").unwrap();
    dir
}

#[test]
fn previews_a_directory_mixing_kinds() {
    let dir = manifests_dir();
    let root = dir.path().to_str().unwrap();
    let (code, out) = preview(&["--object", root, "--fail-on-reject"]);
    assert_eq!(code, Some(1), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(
        lines[0],
        format!("ACCEPTED  Deployment demo/shop (mutated)  [{root}/app.yaml#1]")
    );
    assert_eq!(
        lines[1],
        format!("ACCEPTED  Deployment demo/plain  [{root}/list.json#2]")
    );
    assert!(
        lines[2].starts_with("REJECTED  Deployment staging/shop: stash.appscode.com/volume-mounts: ")
            && lines[2].ends_with(&format!(" (and 2 more)  [{root}/nested/broken.yml]")),
        "{}",
        lines[2]
    );
    // ConfigMap, Service, Kustomization; README.md is not read.
    assert_eq!(
        lines[3],
        "3 objects evaluated: 2 accepted (1 mutated, 0 with warnings), 1 rejected; 3 skipped (kinds the policy's rules \
         do not match)"
    );
    let (code, _) = preview(&["--object", root]);
    assert_eq!(
        code,
        Some(0),
        "without --fail-on-reject a rejection is a result, not a failure"
    );
}

#[test]
fn several_files_and_pretty_show_each_object_in_full() {
    let examples = repo_root().join("examples");
    let good = examples.join("deployment-good.yaml");
    let postgres = examples.join("postgres.yaml");
    let (code, out) = preview(&[
        "--object",
        good.to_str().unwrap(),
        postgres.to_str().unwrap(),
        "--pretty",
    ]);
    assert_eq!(code, Some(0));
    let good_at = out
        .find(&format!(
            "== {}\nACCEPTED (mutated): CREATE Deployment demo/shop\n",
            good.display()
        ))
        .expect(&out);
    let postgres_at = out
        .find(&format!(
            "== {}\nACCEPTED (mutated): CREATE Postgres demo/orders-db\n",
            postgres.display()
        ))
        .expect(&out);
    assert!(good_at < postgres_at);
    assert_eq!(out.matches("kind: BackupConfiguration").count(), 2, "{out}");
    assert!(
        out.ends_with(
            "2 objects evaluated: 2 accepted (2 mutated, 0 with warnings), 0 rejected; 0 skipped (kinds the \
             policy's rules do not match)\n"
        ),
        "{out}"
    );
}

#[test]
fn single_object_options_refuse_several_objects() {
    let dir = manifests_dir();
    let err = failed(
        &[
            "--object",
            dir.path().to_str().unwrap(),
            "--record",
            "session.yml",
            "--cluster",
            &cluster(),
        ],
        1,
    );
    assert_eq!(
        err,
        "Error: --record needs a single object, but --object gave several\n"
    );
}

#[test]
fn a_single_rejection_fails_with_fail_on_reject() {
    let object = scenario_file("reject-volumes", "object.yaml");
    let output = policy_run(&["--object", &object, "--cluster", &cluster(), "--fail-on-reject"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).starts_with(r#"{"uid":"policy-run-web","allowed":false"#));
    let accepted = scenario_file("deployment", "object.yaml");
    let output = policy_run(&["--object", &accepted, "--cluster", &cluster(), "--fail-on-reject"]);
    assert_eq!(output.status.code(), Some(0));
}

/// `policy.wasm` with the repository's metadata.yml embedded the way `kwctl annotate` embeds
/// it: a custom section `io.kubewarden.metadata` holding the metadata as JSON.
fn annotate(policy: &[u8]) -> Vec<u8> {
    fn leb128(mut n: usize, into: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                into.push(byte);
                return;
            }
            into.push(byte | 0x80);
        }
    }
    let metadata = backup_blueprint_policy_e2e::inputs::read_document(&repo_root().join("metadata.yml"), "metadata")
        .unwrap()
        .to_string();
    let name = "io.kubewarden.metadata";
    let mut section = Vec::new();
    leb128(name.len(), &mut section);
    section.extend_from_slice(name.as_bytes());
    section.extend_from_slice(metadata.as_bytes());
    let mut wasm = policy.to_vec();
    wasm.push(0);
    leb128(section.len(), &mut wasm);
    wasm.extend_from_slice(&section);
    wasm
}

#[test]
fn an_annotated_policy_brings_its_own_metadata() {
    // Issue 17: the annotated policy a user downloads, with no metadata.yml anywhere near.
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read(policy_path()).unwrap();
    std::fs::write(dir.path().join("annotated-policy.wasm"), annotate(&plain)).unwrap();
    std::fs::write(dir.path().join("policy.wasm"), &plain).unwrap();
    let examples = repo_root().join("examples");
    let cluster = examples.join("cluster.yaml");
    let object = examples.join("deployment-good.yaml");
    let run = |policy: &str| {
        let args = [
            "--policy",
            policy,
            "--quiet",
            "--cluster",
            cluster.to_str().unwrap(),
            "--object",
            object.to_str().unwrap(),
            "--pretty",
        ];
        run_in(dir.path(), &args, "")
    };
    let output = run("annotated-policy.wasm");
    assert_eq!(stderr(&output), "", "no warning: the metadata is embedded");
    assert!(
        stdout(&output).starts_with("ACCEPTED (mutated): CREATE Deployment demo/shop\n"),
        "{}",
        stdout(&output)
    );
    // The same policy without the section: no metadata at all, so no lookup is granted.
    let output = run("policy.wasm");
    assert_eq!(
        stderr(&output),
        "warning: no metadata.yml found: the policy may read no Kubernetes resource (give --metadata)\n"
    );
    assert!(
        stdout(&output).contains("Policy has not been granted access to Kubernetes"),
        "{}",
        stdout(&output)
    );
    // The embedded rules choose the objects of a preview: the ConfigMap is skipped.
    let stream = format!(
        "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\n",
        std::fs::read_to_string(&object).unwrap()
    );
    let output = run_in(
        dir.path(),
        &[
            "--policy",
            "annotated-policy.wasm",
            "--cluster",
            cluster.to_str().unwrap(),
            "--object",
            "-",
        ],
        &stream,
    );
    assert_eq!(
        stdout(&output),
        "ACCEPTED  Deployment demo/shop (mutated)  [<stdin>#1]\n\
         1 objects evaluated: 1 accepted (1 mutated, 0 with warnings), 0 rejected; 1 skipped (kinds the policy's \
         rules do not match)\n"
    );
}

/// The three examples, as `kustomize build` prints them.
fn examples_stream() -> String {
    ["deployment-good.yaml", "deployment-broken.yaml", "postgres.yaml"]
        .map(|name| std::fs::read_to_string(repo_root().join("examples").join(name)).unwrap())
        .join("---\n")
}

#[test]
fn objects_from_standard_input() {
    let cluster = cluster_of_examples();
    let output = policy_run_stdin(&["--cluster", &cluster, "--object", "-"], &examples_stream());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "ACCEPTED  Deployment demo/shop (mutated)  [<stdin>#1]\n\
         REJECTED  Deployment staging/shop: stash.appscode.com/volume-mounts: volume 'shop-data' is not in the pod \
         template's volumes (declared: data); use the name of a declared volume (and 2 more)  [<stdin>#2]\n\
         ACCEPTED  Postgres demo/orders-db (mutated)  [<stdin>#3]\n\
         3 objects evaluated: 2 accepted (2 mutated, 0 with warnings), 1 rejected; 0 skipped (kinds the policy's \
         rules do not match)\n"
    );
    // One object on stdin is evaluated like one file: its AdmissionResponse.
    let good = std::fs::read_to_string(repo_root().join("examples/deployment-good.yaml")).unwrap();
    let output = policy_run_stdin(&["--cluster", &cluster, "--object", "-"], &good);
    let from_file = evaluated(&["--cluster", &cluster, "--object", "examples/deployment-good.yaml"]);
    assert_eq!(stdout(&output), from_file);
    let output = policy_run_stdin(&["--cluster", &cluster, "--object", "-"], "");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output), "Error: no object on standard input\n");
    let output = policy_run_stdin(&["--object", "-", "-"], "");
    assert_eq!(
        stderr(&output),
        "Error: --object - (standard input) can be given once\n"
    );
}

#[test]
fn a_request_from_standard_input() {
    let (_dir, review, first) = saved_review("deployment");
    let text = std::fs::read_to_string(&review).unwrap();
    let output = policy_run_stdin(&["--request", "-", "--cluster", &cluster()], &text);
    assert_eq!(stdout(&output), first);
}

fn cluster_of_examples() -> String {
    repo_root().join("examples/cluster.yaml").to_string_lossy().into_owned()
}

#[test]
fn output_objects_prints_only_the_generated_objects() {
    let cluster = cluster_of_examples();
    let output = policy_run(&[
        "--cluster",
        &cluster,
        "--object",
        "examples/deployment-good.yaml",
        "--output",
        "objects",
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stderr(&output), "");
    let yaml = stdout(&output);
    assert!(
        yaml.starts_with("---\napiVersion: stash.appscode.com/v1alpha1\nkind: Repository\n"),
        "{yaml}"
    );
    let kinds: Vec<String> = serde_yaml_ng::Deserializer::from_str(&yaml)
        .map(|document| {
            let object = <serde_json::Value as serde::Deserialize>::deserialize(document).unwrap();
            format!(
                "{} {}",
                object["kind"].as_str().unwrap(),
                object["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(kinds, ["Repository deploy-shop", "BackupConfiguration deploy-shop"]);

    // A rejection: its message on stderr, nothing on stdout.
    let output = policy_run(&[
        "--cluster",
        &cluster,
        "--object",
        "examples/deployment-broken.yaml",
        "--output",
        "objects",
        "--fail-on-reject",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        "REJECTED  examples/deployment-broken.yaml: Deployment staging/shop: auto-backup annotations are invalid:\n\
         - stash.appscode.com/volume-mounts: volume 'shop-data' is not in the pod template's volumes (declared: \
         data); use the name of a declared volume\n\
         - stash.appscode.com/target-paths: '/var/log/shop' is not under any mount path of \
         stash.appscode.com/volume-mounts (/var/lib/shop); mount the volume that holds it or fix the path\n\
         - BackupBlueprint 'workload-backups' not found\n"
    );

    // Several objects: the objects of each accepted one, one stream; the summary on stderr.
    let output = policy_run_stdin(
        &["--cluster", &cluster, "--object", "-", "--output", "objects"],
        &examples_stream(),
    );
    let yaml = stdout(&output);
    assert_eq!(yaml.matches("\n---\n").count() + 1, 4, "{yaml}");
    assert!(yaml.contains("\nkind: BackupConfiguration\n") && yaml.contains("      kind: AppBinding\n"));
    let err = stderr(&output);
    assert!(
        err.starts_with("REJECTED  <stdin>#2: Deployment staging/shop: "),
        "{err}"
    );
    assert!(
        err.ends_with(
            "\n3 objects evaluated: 2 accepted (2 mutated, 0 with warnings), 1 rejected; 0 skipped (kinds the \
             policy's rules do not match)\n"
        ),
        "{err}"
    );
    // A warning goes to stderr too; the objects are still generated.
    let output = policy_run(&[
        "--cluster",
        &scenarios_dir().join("cluster.yaml").to_string_lossy(),
        "--settings",
        &scenario_file("storage-secret-warn", "settings.yaml"),
        "--object",
        &scenario_file("storage-secret-warn", "object.yaml"),
        "--output",
        "objects",
    ]);
    assert_eq!(
        stderr(&output),
        format!(
            "WARNING   {}: BackupBlueprint 'gcs-daily' spec.backend.storageSecretName: Secret 'gcs-secret' not found \
             in namespace 'staging'; create it there: Secrets are namespaced and every Repository namespace needs its \
             own copy\n",
            scenario_file("storage-secret-warn", "object.yaml")
        )
    );
    assert_eq!(stdout(&output).matches("\nkind: BackupConfiguration\n").count(), 1);
    // --pretty is for a person, --output objects for kubectl: not both.
    let output = policy_run(&[
        "--object",
        "examples/deployment-good.yaml",
        "--output",
        "objects",
        "--pretty",
    ]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn every_file_of_a_directory_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let examples = repo_root().join("examples");
    let good = std::fs::read_to_string(examples.join("deployment-good.yaml")).unwrap();
    let broken = std::fs::read_to_string(examples.join("deployment-broken.yaml")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "a.yaml",
        &format!("{good}---\nkind: ConfigMap\nmetadata: {{name: c}}\n"),
    );
    write("b.yaml", "metadata: [unclosed\n");
    write("c.yaml", &broken);
    write(
        "d.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {namespace: demo}\n",
    );
    let root = dir.path().to_str().unwrap();
    let (code, out) = preview(&["--object", root, "--fail-on-reject"]);
    assert_eq!(code, Some(1), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert_eq!(
        lines[0],
        format!("ACCEPTED  Deployment demo/shop (mutated)  [{root}/a.yaml#1]")
    );
    assert_eq!(
        lines[1],
        format!("ERROR     {root}/a.yaml#2: not a Kubernetes object: no apiVersion")
    );
    assert_eq!(
        lines[2],
        format!(
            "ERROR     {root}/b.yaml: malformed document 1: did not find expected ',' or ']' at line 2 column 1, \
             while parsing a flow sequence at line 1 column 11"
        )
    );
    assert!(
        lines[3].starts_with("REJECTED  Deployment staging/shop: ") && lines[3].ends_with(&format!("[{root}/c.yaml]")),
        "{}",
        lines[3]
    );
    assert_eq!(
        lines[4],
        format!("ERROR     {root}/d.yaml: the object has no metadata.name")
    );
    assert_eq!(
        lines[5],
        "2 objects evaluated: 1 accepted (1 mutated, 0 with warnings), 1 rejected; 0 skipped (kinds the policy's \
         rules do not match); 3 errors"
    );
    // An error alone fails --fail-on-reject; without the flag the preview is a report.
    std::fs::remove_file(dir.path().join("c.yaml")).unwrap();
    let (code, _) = preview(&["--object", root, "--fail-on-reject"]);
    assert_eq!(code, Some(1));
    let (code, _) = preview(&["--object", root]);
    assert_eq!(code, Some(0));
}

#[test]
fn fail_on_reject_needs_an_evaluated_object() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let summary = "0 objects evaluated: 0 accepted (0 mutated, 0 with warnings), 0 rejected; 0 skipped (kinds the \
                   policy's rules do not match)\n";
    let output = policy_run(&["--object", root, "--fail-on-reject"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), summary);
    assert_eq!(
        stderr(&output),
        "Error: no object was evaluated, and --fail-on-reject needs at least one\n"
    );
    // Only kinds the rules do not match: nothing evaluated either.
    std::fs::write(
        dir.path().join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    )
    .unwrap();
    let output = policy_run(&["--object", root, "--fail-on-reject"]);
    assert_eq!(output.status.code(), Some(1));
    let output = policy_run(&["--object", root]);
    assert_eq!(output.status.code(), Some(0), "without the flag: a report");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // `policy-run … | head -1`: the reader goes away before policy-run writes.
    let policy = policy_path();
    let mut child = Command::new(env!("CARGO_BIN_EXE_policy-run"))
        .args(["--policy", policy.to_str().unwrap(), "--quiet", "--pretty"])
        .args(["--cluster", &cluster_of_examples(), "--object", "examples"])
        .env(
            "POLICY_RUN_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("policy-cache"),
        )
        .current_dir(repo_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(stderr(&output), "");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn pretty_shows_the_annotations_the_policy_added() {
    // `make run`: the defaulted StatefulSet has no annotation; the policy adds three.
    let out = evaluated(&[
        "--cluster",
        &cluster_of_examples(),
        "--settings",
        "examples/protection-settings.yaml",
        "--object",
        "examples/statefulset-defaulted.yaml",
        "--pretty",
    ]);
    assert!(
        out.starts_with(
            "ACCEPTED (mutated): CREATE StatefulSet prod-eu/db\n\n\
             annotations: none\n\n\
             annotations added by the policy:\n  \
             stash.appscode.com/backup-blueprint: workload-backup\n  \
             stash.appscode.com/target-paths: /var/lib/postgresql,/var/log/postgresql\n  \
             stash.appscode.com/volume-mounts: data:/var/lib/postgresql:pgdata,logs:/var/log/postgresql\n\n\
             emitted objects (autobackup.kubewarden.io/resolved):\n---\n"
        ),
        "{out}"
    );
    // A target the policy only emits objects for: its annotations, none added.
    let out = evaluated(&[
        "--cluster",
        &cluster_of_examples(),
        "--object",
        "examples/postgres.yaml",
        "--pretty",
    ]);
    assert!(
        out.starts_with(
            "ACCEPTED (mutated): CREATE Postgres demo/orders-db\n\n\
             annotations:\n  stash.appscode.com/backup-blueprint: postgres-backup\n\n\
             emitted objects (autobackup.kubewarden.io/resolved):\n"
        ),
        "{out}"
    );
}
