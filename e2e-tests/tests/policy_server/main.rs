//! The policy in Kubewarden's own policy-server (../shared/bin), the real engine: every
//! scenario of `scenarios/` is sent as an AdmissionReview to `/validate/<id>` (and, for a
//! stored object, to `/audit/<id>`), with the scenario cluster served by a fake Kubernetes API
//! server, and must get the answer policy-run gives; then the API server goes down, fails and
//! is slow, and policy-server must answer as `onLookupError` says or time out cleanly, and keep
//! serving.
//!
//! policy-server and the fake API server talk over loopback: the test runs itself again inside
//! a new network namespace that has only loopback (`unshare -n`), so nothing leaves the machine.
//! It skips with one line where policy-server, kwctl (to annotate the policy) or the privilege
//! to create the namespace is missing — and fails instead under `REQUIRE_REAL_ENGINE=1` (CI).
//! Each check counts itself in `$REAL_ENGINE_TALLY` for `make test`'s summary.
//!
//! policy-server logs an ERROR line for every lookup whose object does not exist (see
//! `logs.rs`), the expected answer of the policy's collision lookups on a first CREATE among
//! others. Every request's log lines are checked: exactly one such line per lookup policy-run
//! answered "not found", the API errors a scenario serves, and nothing else; the README's filter
//! for those lines is checked on the text and the JSON log. `POLICY_SERVER_LOAD_SECONDS=N`
//! also measures a load of N seconds per request kind with one worker (`load.rs`).

#[path = "../common/mod.rs"]
mod common;
mod fake_api;
mod http;
mod load;
mod logs;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backup_blueprint_policy_e2e::annotations;
use backup_blueprint_policy_e2e::callback_request::CallbackRequest;
use backup_blueprint_policy_e2e::cluster::Cluster;
use backup_blueprint_policy_e2e::host::KubernetesBackend;
use backup_blueprint_policy_e2e::inputs::read_document;
use backup_blueprint_policy_e2e::metadata::{AllowList, ContextAwareResource};
use backup_blueprint_policy_e2e::request::AdmissionRequest;
use backup_blueprint_policy_e2e::response::AdmissionResponse;
use backup_blueprint_policy_e2e::run::Outcome;
use backup_blueprint_policy_e2e::session::{self, Response};
use common::{Scenario, policy_path, repo_root, runner, scenarios_dir};
use fake_api::{Contents, Failure, FakeApiServer, Mode};
use serde_json::{Value, json};

/// Set in the environment of the run inside the network namespace.
const IN_NETNS: &str = "POLICY_SERVER_TESTS_IN_NETNS";
/// Ports inside our own network namespace: nothing else listens there.
const API_PORT: u16 = 6443;
const PORT: u16 = 3000;
const READINESS_PORT: u16 = 3001;
/// policy-server caches `get_resource` answers for about 5 seconds.
const CACHE_TTL: Duration = Duration::from_secs(6);
/// The evaluation timeout of the fault policies, and how slow the slow API server is.
const FAULT_TIMEOUT_SECONDS: u64 = 2;
const SLOW_API: Duration = Duration::from_secs(FAULT_TIMEOUT_SECONDS + 3);
/// policy-server's answer to an evaluation that ran past its time.
const TIMEOUT_MESSAGE: &str = "Policy execution interrupted because it exceeded the allowed execution time";
/// Stands for the host's error in the answers policy-run gives with a failing API server.
const HOST_ERROR: &str = "@@HOST-ERROR@@";

fn main() -> ExitCode {
    for tool in ["policy-server", "kwctl"] {
        if which(tool).is_none() {
            return skip(&format!("{tool} is not installed"));
        }
    }
    if !loopback_only() {
        return rerun_in_network_namespace();
    }
    match Harness::run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("policy-server tests: {e}");
            ExitCode::FAILURE
        }
    }
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(tool))
        .find(|path| path.is_file())
}

fn required() -> bool {
    std::env::var("REQUIRE_REAL_ENGINE").is_ok_and(|v| v == "1")
}

fn tally(line: &str) {
    if let Some(path) = std::env::var_os("REAL_ENGINE_TALLY") {
        use std::io::Write;
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path);
        if let Ok(mut file) = file {
            let _ = writeln!(file, "{line}");
        }
    }
}

fn skip(reason: &str) -> ExitCode {
    println!("skipped: policy-server tests: {reason}");
    tally("skipped policy-server the policy-server tests");
    if required() {
        eprintln!("REQUIRE_REAL_ENGINE=1 but {reason}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// True inside a network namespace whose only interface is loopback.
fn loopback_only() -> bool {
    let Ok(devices) = std::fs::read_to_string("/proc/self/net/dev") else {
        return false;
    };
    let names: Vec<&str> = devices
        .lines()
        .skip(2)
        .filter_map(|line| line.split(':').next())
        .map(str::trim)
        .collect();
    names == ["lo"]
}

fn rerun_in_network_namespace() -> ExitCode {
    if std::env::var_os(IN_NETNS).is_some() {
        eprintln!("policy-server tests: unshare -n gave a namespace with other interfaces than loopback");
        return ExitCode::FAILURE;
    }
    let unshare = Command::new("unshare")
        .args(["-n", "true"])
        .stderr(Stdio::null())
        .status();
    if !unshare.is_ok_and(|s| s.success()) {
        return skip("cannot create a loopback-only network namespace (unshare -n needs root)");
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let status = Command::new("unshare")
        .args(["-n", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(IN_NETNS, "1")
        .status();
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("policy-server tests failed ({status})");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("policy-server tests: cannot run unshare: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A backend that counts the lookups of another, and keeps the errors it answered.
struct Counting {
    inner: Box<dyn KubernetesBackend>,
    count: Arc<AtomicUsize>,
    failed: Arc<Mutex<Vec<String>>>,
}

impl KubernetesBackend for Counting {
    fn answer(&mut self, request: &CallbackRequest) -> Result<Vec<u8>, String> {
        self.count.fetch_add(1, Ordering::SeqCst);
        let answer = self.inner.answer(request);
        if let Err(error) = &answer {
            self.failed.lock().unwrap().push(error.clone());
        }
        answer
    }
}

/// A backend whose every lookup fails with this error (an API server that is down, failing).
struct FailWith(String);

impl KubernetesBackend for FailWith {
    fn answer(&mut self, _request: &CallbackRequest) -> Result<Vec<u8>, String> {
        Err(self.0.clone())
    }
}

/// One request to send to policy-server and what policy-run answers to it.
struct Case {
    name: String,
    policy_id: String,
    request: AdmissionRequest,
    /// The settings of its policy.
    settings: Value,
    contents: Contents,
    /// policy-run's answer, or its error (invalid settings).
    expected: Result<Outcome, String>,
    /// How many lookups policy-run made.
    lookups: usize,
    /// The errors policy-run's lookups were answered, in order: policy-server logs an ERROR
    /// line for each (`Cannot find …` for an object that does not exist).
    failed_lookups: Vec<String>,
}

impl Case {
    fn review(&self) -> String {
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": self.request}).to_string()
    }

    /// A stored object: a CREATE whose object already has a resourceVersion (the audit
    /// scanner's requests).
    fn is_stored(&self) -> bool {
        self.request.operation == "CREATE"
            && self
                .request
                .object
                .as_ref()
                .and_then(|o| o.pointer("/metadata/resourceVersion"))
                .is_some()
    }
}

/// Evaluates with policy-run's engine; returns the outcome (or error), the lookups made and
/// the errors they were answered.
fn policy_run(
    backend: Box<dyn KubernetesBackend>,
    request: &AdmissionRequest,
    settings: &Value,
) -> (Result<Outcome, String>, usize, Vec<String>) {
    let count = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(Mutex::new(Vec::new()));
    let counting = Counting {
        inner: backend,
        count: count.clone(),
        failed: failed.clone(),
    };
    let outcome = runner()
        .evaluate(Box::new(counting), request, settings)
        .map_err(|e| format!("{e:#}"));
    let failed = std::mem::take(&mut *failed.lock().unwrap());
    (outcome, count.load(Ordering::SeqCst), failed)
}

/// The fake API server's contents for a scenario: its cluster, or for a recorded session the
/// objects it returns and, for its errors other than "not found", the failures they stand for.
fn contents_of(scenario: &Scenario, kinds: &AllowList) -> Result<Contents, String> {
    let mut contents = Contents {
        kinds: kinds.resources().to_vec(),
        ..Contents::default()
    };
    let session = scenario.dir.join("session.yml");
    if !session.is_file() {
        contents.cluster = scenario.cluster();
        return Ok(contents);
    }
    for exchange in session::read(&session).map_err(|e| format!("{e:#}"))? {
        let CallbackRequest::KubernetesGetResource {
            api_version,
            kind,
            name,
            namespace,
            ..
        } = CallbackRequest::from_session_yaml(&exchange.request).map_err(|e| e.to_string())?;
        match exchange.response {
            Response::Success { payload } => {
                let object = serde_json::from_str(&payload).map_err(|e| e.to_string())?;
                contents.cluster.add_object(object).map_err(|e| format!("{e:#}"))?;
            }
            Response::Error { message } if message.starts_with("Cannot find ") => {}
            Response::Error { message } => {
                contents
                    .failures
                    .insert((api_version, kind, namespace, name), failure_of(&message));
            }
        }
    }
    Ok(contents)
}

/// The API answer behind a kube client error `ApiError: <message>: <reason> (Status { … code:
/// <code>, … })`; anything else stands for an unavailable API server (503).
fn failure_of(error: &str) -> Failure {
    let parsed = (|| {
        let rest = error.strip_prefix("ApiError: ")?;
        let (text, details) = rest.split_once(" (")?;
        let (message, reason) = text.rsplit_once(": ")?;
        let code = details.split_once("code: ")?.1.split([',', ' ']).next()?.parse().ok()?;
        Some(Failure {
            code,
            reason: reason.to_string(),
            message: message.to_string(),
        })
    })();
    parsed.unwrap_or(Failure {
        code: 503,
        reason: "ServiceUnavailable".into(),
        message: "the server is currently unable to handle the request".into(),
    })
}

/// How policy-server is started: its ports, worker threads and log format.
#[derive(Debug, Clone, Copy)]
struct Options {
    port: u16,
    readiness_port: u16,
    workers: usize,
    /// `text` (the default format) or `json`.
    log_fmt: &'static str,
}

impl Options {
    const fn on(port: u16, readiness_port: u16) -> Self {
        Self {
            port,
            readiness_port,
            workers: 2,
            log_fmt: "text",
        }
    }
}

/// policy-server started on a policies.yml; killed when dropped.
struct PolicyServer {
    child: Child,
    log: PathBuf,
    port: u16,
}

impl PolicyServer {
    fn start(dir: &Path, policies: &Value, kubeconfig: &Path, options: Options) -> Result<Self, String> {
        let Options {
            port,
            readiness_port,
            workers,
            log_fmt,
        } = options;
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let policies_file = dir.join("policies.yml");
        let text = serde_yaml_ng::to_string(policies).map_err(|e| e.to_string())?;
        std::fs::write(&policies_file, text).map_err(|e| e.to_string())?;
        let log = dir.join("policy-server.log");
        let out = File::create(&log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("policy-server")
            .args(["--addr", "127.0.0.1", "--port", &port.to_string()])
            .args(["--readiness-probe-port", &readiness_port.to_string()])
            .arg("--policies")
            .arg(&policies_file)
            .arg("--policies-download-dir")
            .arg(dir.join("downloads"))
            .arg("--sigstore-cache-dir")
            .arg(dir.join("sigstore"))
            .args([
                "--workers",
                &workers.to_string(),
                "--log-fmt",
                log_fmt,
                "--log-level",
                "warn",
            ])
            .env("KUBECONFIG", kubeconfig)
            .env("RUST_BACKTRACE", "0")
            // Plain text: this policy-server's `--log-no-color` (and NO_COLOR=true) switch the
            // colour codes on (tracing's `with_ansi(log_no_color)`), its default leaves them off.
            .env_remove("NO_COLOR")
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start policy-server: {e}"))?;
        Ok(Self { child, log, port })
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The length of the log so far: what is logged from now on is `log()[offset..]`.
    fn log_len(&self) -> usize {
        std::fs::metadata(&self.log).map_or(0, |m| m.len() as usize)
    }

    /// The log from `offset` on.
    fn log_since(&self, offset: usize) -> String {
        let log = self.log();
        log.get(offset..).unwrap_or_default().to_string()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `/readiness` answers 200, or the process exits (an error with its log).
    fn wait_ready(&mut self, readiness_port: u16, limit: Duration) -> Result<(), String> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("policy-server exited ({status}):\n{}", self.log()));
            }
            let ready = http::request(readiness_port, "GET", "/readiness", None, Duration::from_secs(2));
            if matches!(ready, Ok((200, _))) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("policy-server not ready after {limit:?}:\n{}", self.log()))
    }

    /// Waits for the process to exit; its status and log.
    fn wait_exit(&mut self, limit: Duration) -> Result<(std::process::ExitStatus, String), String> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Ok((status, self.log()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("policy-server still running after {limit:?}:\n{}", self.log()))
    }

    /// POSTs an AdmissionReview to `/<endpoint>/<id>`; the AdmissionResponse.
    fn review(&self, endpoint: &str, id: &str, review: &str) -> Result<AdmissionResponse, String> {
        let path = format!("/{endpoint}/{id}");
        let (code, body) = http::request(self.port, "POST", &path, Some(review), Duration::from_secs(60))?;
        if code != 200 {
            return Err(format!("POST {path}: HTTP {code}: {body}"));
        }
        let review: Value = serde_json::from_str(&body).map_err(|e| format!("POST {path}: {e}: {body}"))?;
        serde_json::from_value(review["response"].clone()).map_err(|e| format!("POST {path}: {e}: {body}"))
    }
}

impl Drop for PolicyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Same decision, message, warnings, audit annotations and patched object.
fn same_response(
    expected: &AdmissionResponse,
    actual: &AdmissionResponse,
    object: Option<&Value>,
) -> Result<(), String> {
    let differs = |what: &str, e: &dyn std::fmt::Debug, a: &dyn std::fmt::Debug| {
        Err(format!(
            "{what} differs:\n  policy-run:    {e:?}\n  policy-server: {a:?}"
        ))
    };
    if expected.uid != actual.uid {
        return differs("uid", &expected.uid, &actual.uid);
    }
    if expected.allowed != actual.allowed {
        return differs("allowed", &expected.allowed, &actual.allowed);
    }
    if expected.status != actual.status {
        return differs("status", &expected.status, &actual.status);
    }
    if expected.warnings != actual.warnings {
        return differs("warnings", &expected.warnings, &actual.warnings);
    }
    if expected.audit_annotations != actual.audit_annotations {
        return differs(
            "auditAnnotations",
            &expected.audit_annotations,
            &actual.audit_annotations,
        );
    }
    if expected.patch_type != actual.patch_type {
        return differs("patchType", &expected.patch_type, &actual.patch_type);
    }
    let object = object.cloned().unwrap_or(Value::Null);
    let (e, a) = (expected.apply_patch(&object)?, actual.apply_patch(&object)?);
    if e != a {
        return differs("the patched object", &e, &a);
    }
    Ok(())
}

/// The error the host gave, when `actual` is policy-run's `template` (an answer to lookups
/// failing with [`HOST_ERROR`]) with some error in its place.
fn host_error_in(template: &AdmissionResponse, actual: &AdmissionResponse) -> Option<String> {
    let texts = |r: &AdmissionResponse| -> Vec<String> {
        let message = r.status.as_ref().and_then(|s| s.message.clone());
        message
            .into_iter()
            .chain(r.warnings.clone().unwrap_or_default())
            .collect()
    };
    texts(template).iter().zip(texts(actual)).find_map(|(t, a)| {
        let (before, after) = t.split_once(HOST_ERROR)?;
        (a.len() >= before.len() + after.len() && a.starts_with(before) && a.ends_with(after))
            .then(|| a[before.len()..a.len() - after.len()].to_string())
    })
}

/// The ERROR lines policy-server logged for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Logged {
    /// All of them (an event with its continuation lines counts once).
    errors: usize,
    /// The lookups answered "not found" (the README's filter), as `Kind namespace/name`.
    not_found: Vec<String>,
}

/// Checks the log policy-server wrote for one request against the errors policy-run's lookups
/// were answered (`failed`, in order): each `Cannot find …` is one ERROR line that the
/// README's filter matches, with that error; each other error (an API error the scenario
/// serves) is the kube client's ERROR line and an ERROR line with that error, which the filter
/// keeps; and there is no other WARN or ERROR line.
fn check_log(section: &str, failed: &[String]) -> Result<Logged, String> {
    let events = logs::events(section);
    let (not_found, others): (Vec<&logs::Event>, Vec<&logs::Event>) =
        events.iter().partition(|e| e.is_expected_not_found());
    let unexpected = |what: &str| {
        let lines: Vec<&str> = events.iter().map(|e| e.text.as_str()).collect();
        Err(format!(
            "{what}\n  errors of policy-run's lookups: {failed:#?}\n  policy-server's log for the request:\n{}",
            lines.join("\n")
        ))
    };
    let expected_not_found: Vec<&str> = failed
        .iter()
        .map(String::as_str)
        .filter(|e| logs::is_not_found_error(e))
        .collect();
    let logged_not_found: Vec<&str> = not_found.iter().filter_map(|e| e.callback_error()).collect();
    if logged_not_found != expected_not_found {
        return unexpected(&format!(
            "{} 'not found' ERROR lines, policy-run's lookups were answered 'not found' {} times",
            logged_not_found.len(),
            expected_not_found.len()
        ));
    }
    let expected_failures: Vec<&str> = failed
        .iter()
        .map(String::as_str)
        .filter(|e| !logs::is_not_found_error(e))
        .collect();
    let logged_failures: Vec<&str> = others.iter().filter_map(|e| e.callback_error()).collect();
    let client_lines = others
        .iter()
        .filter(|e| e.level == "ERROR" && e.target == logs::KUBE_CLIENT_TARGET)
        .count();
    if logged_failures != expected_failures
        || client_lines != expected_failures.len()
        || others.len() != 2 * expected_failures.len()
    {
        return unexpected("other log lines than the lookup errors policy-run saw");
    }
    Ok(Logged {
        errors: events.iter().filter(|e| e.level == "ERROR").count(),
        not_found: logged_not_found.iter().map(|e| logs::describe_not_found(e)).collect(),
    })
}

/// The API groups of each generation's CRDs.
const STASH_GROUPS: &[&str] = &["stash.appscode.com"];
const KUBESTASH_GROUPS: &[&str] = &["core.kubestash.com", "storage.kubestash.com"];

/// Name of the derived case of a re-applied target.
const REAPPLIED_UPDATE: &str = "re-applied UPDATE (the deployment as the policy mutated it)";

/// The ERROR lines the README describes: each case and the lookups it logs as not found.
const PROMISED: &[(&str, &[&str])] = &[
    // An annotated CREATE: its two collision lookups, nothing else.
    (
        "scenario deployment",
        &["Repository demo/deploy-web", "BackupConfiguration demo/deploy-web"],
    ),
    // Re-applied: no collision lookup, no line.
    (REAPPLIED_UPDATE, &[]),
    // Re-applied CREATE whose generated objects exist and record this target: found, no line.
    ("scenario reapply-own-objects", &[]),
    // An object without the trigger: no lookup.
    ("scenario not-a-target", &[]),
    // A missing storage Secret in warn mode: the Secret and the two collision lookups.
    (
        "scenario storage-secret-warn",
        &[
            "Secret staging/gcs-secret",
            "Repository staging/deploy-web",
            "BackupConfiguration staging/deploy-web",
        ],
    ),
    // A BackupConfiguration of the generated name exists (a collision): only the Repository
    // is not found.
    ("scenario collision-foreign", &["Repository demo/deploy-api"]),
    // A misspelt blueprint: not found, and the target is rejected for it (no collision lookup).
    ("scenario reject-blueprint-not-found", &["BackupBlueprint gcs-dialy"]),
];

struct Harness {
    dir: tempfile::TempDir,
    api: FakeApiServer,
    server: PolicyServer,
    settings: BTreeMap<String, Value>,
    results: Vec<(String, Result<(), String>)>,
    /// The ERROR lines of each request checked with [`check_log`].
    logged: Vec<(String, Logged)>,
}

impl Harness {
    fn run() -> Result<bool, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let module = annotate(dir.path())?;
        let manifest_path = repo_root().join("examples/cluster-admission-policy.yaml");
        let manifest = read_document(&manifest_path, "policy manifest").map_err(|e| format!("{e:#}"))?;
        let base_id = format!(
            "clusterwide-{}",
            manifest["metadata"]["name"].as_str().unwrap_or_default()
        );
        let base = policy_entry(&manifest, &module);
        let kinds = AllowList::from_metadata_file(&repo_root().join("metadata.yml")).map_err(|e| format!("{e:#}"))?;

        // The scenarios, and a stored object derived from the deployment scenario.
        let mut cases = Vec::new();
        let mut policies = BTreeMap::from([(base_id.clone(), base.clone())]);
        let mut settings_of = BTreeMap::from([(base_id.clone(), base["settings"].clone())]);
        for name in scenario_names()? {
            let scenario = Scenario::new(&name);
            let (policy_id, settings) = if scenario.dir.join("settings.yaml").is_file() {
                let id = format!("{base_id}-{name}");
                let mut entry = base.clone();
                entry["settings"] = scenario.settings();
                policies.insert(id.clone(), entry);
                (id, scenario.settings())
            } else {
                (base_id.clone(), base["settings"].clone())
            };
            settings_of.insert(policy_id.clone(), settings.clone());
            let request = scenario.request();
            let (expected, lookups, failed_lookups) = policy_run(scenario.backend(), &request, &settings);
            let contents = contents_of(&scenario, &kinds)?;
            cases.push(Case {
                name: format!("scenario {name}"),
                policy_id,
                request,
                settings,
                contents,
                expected,
                lookups,
                failed_lookups,
            });
        }
        let deployment = Scenario::new("deployment");
        let mut stored = deployment.object();
        stored["metadata"]["resourceVersion"] = json!("4711");
        stored["metadata"]["uid"] = json!("6a1b2c3d-0000-4000-8000-000000000001");
        // A request on the deployment scenario's cluster, with the base policy.
        let deployment_case = |name: &str, request: AdmissionRequest| -> Result<Case, String> {
            let (expected, lookups, failed_lookups) =
                policy_run(Box::new(deployment.cluster()), &request, &base["settings"]);
            Ok(Case {
                name: name.into(),
                policy_id: base_id.clone(),
                request,
                settings: base["settings"].clone(),
                contents: contents_of(&deployment, &kinds)?,
                expected,
                lookups,
                failed_lookups,
            })
        };
        let request = AdmissionRequest::for_object(stored, None, "CREATE", None)?;
        cases.push(deployment_case(
            "stored object (the deployment with a resourceVersion)",
            request,
        )?);
        // The deployment re-applied: an UPDATE whose old and new object are the object as the
        // policy mutated it on CREATE (its resolved annotation records the generated objects).
        let created = deployment.request();
        let (answer, _, _) = policy_run(Box::new(deployment.cluster()), &created, &base["settings"]);
        let mutated = answer?
            .evaluation
            .response
            .apply_patch(created.object.as_ref().ok_or("the deployment has no object")?)?;
        let request = AdmissionRequest::for_object(mutated.clone(), Some(mutated), "UPDATE", None)?;
        cases.push(deployment_case(REAPPLIED_UPDATE, request)?);

        // Policies that policy-server refuses to load (invalid settings) are tested alone.
        let (refused, served): (Vec<Case>, Vec<Case>) = cases.into_iter().partition(|c| c.expected.is_err());
        for case in &refused {
            policies.remove(&case.policy_id);
        }
        for (id, on_lookup_error) in [("fault-reject", "reject"), ("fault-accept", "accept")] {
            let mut entry = base.clone();
            entry["settings"]["onLookupError"] = json!(on_lookup_error);
            entry["timeoutEvalSeconds"] = json!(FAULT_TIMEOUT_SECONDS);
            settings_of.insert(id.to_string(), entry["settings"].clone());
            policies.insert(id.to_string(), entry);
        }

        let groups = groups_of(served);
        let first = groups.first().map(|(c, _)| c.clone()).unwrap_or_default();
        let api = FakeApiServer::start(API_PORT, first).map_err(|e| format!("fake API server: {e}"))?;
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, api.kubeconfig()).map_err(|e| e.to_string())?;
        let policies = Value::Object(policies.into_iter().collect());
        let started = Instant::now();
        let options = Options::on(PORT, READINESS_PORT);
        let mut server = PolicyServer::start(&dir.path().join("server"), &policies, &kubeconfig, options)?;
        server.wait_ready(READINESS_PORT, Duration::from_secs(180))?;
        println!("policy-server: ready after {:.1?}", started.elapsed());
        let mut harness = Harness {
            dir,
            api,
            server,
            settings: settings_of,
            results: Vec::new(),
            logged: Vec::new(),
        };
        harness.scenarios(&groups);
        let result = harness.promised_error_lines();
        harness.record("ERROR lines: what the README says of them", result);
        let keeps_serving = groups
            .iter()
            .flat_map(|(_, cases)| cases)
            .find(|c| c.name == "scenario deployment")
            .ok_or("no deployment scenario")?;
        harness.faults(keeps_serving);
        let kubestash = groups
            .iter()
            .flat_map(|(_, cases)| cases)
            .find(|c| c.name == "scenario kubestash-statefulset")
            .ok_or("no kubestash-statefulset scenario")?;
        for (index, (operator, missing)) in [("Stash", KUBESTASH_GROUPS), ("KubeStash", STASH_GROUPS)]
            .into_iter()
            .enumerate()
        {
            let port = PORT + 30 + 10 * index as u16;
            let result = harness.one_generation(&policies, &kubeconfig, port, missing, keeps_serving, kubestash);
            harness.record(&format!("a cluster with only {operator}'s CRDs"), result);
        }
        let result = harness.json_log(&policies, &kubeconfig, keeps_serving);
        harness.record("--log-fmt json: the README's filter on the JSON log", result);
        for case in &refused {
            let result = harness.refused(case, &kubeconfig);
            harness.record(&format!("{}: refused at start", case.name), result);
        }
        harness.error_line_totals();
        if let Some(seconds) = load::seconds() {
            let reapplied = groups
                .iter()
                .flat_map(|(_, cases)| cases)
                .find(|c| c.name == REAPPLIED_UPDATE)
                .ok_or("no re-applied UPDATE")?;
            let untouched = groups
                .iter()
                .flat_map(|(_, cases)| cases)
                .find(|c| c.name == "scenario not-a-target")
                .ok_or("no not-a-target scenario")?;
            load::run(
                &harness,
                &policies,
                &kubeconfig,
                seconds,
                [keeps_serving, reapplied, untouched],
            )?;
        }
        Ok(harness.summary())
    }

    fn record(&mut self, name: &str, result: Result<(), String>) {
        match &result {
            Ok(()) => println!("policy-server: {name} ... ok"),
            Err(e) => println!("policy-server: {name} ... FAILED\n{e}"),
        }
        tally(&format!("ran policy-server {name}"));
        self.results.push((name.to_string(), result));
    }

    /// Records a request's check with the ERROR lines it logged.
    fn record_logged(&mut self, name: &str, result: Result<Logged, String>) {
        let result = result.map(|logged| {
            let lines = if logged.errors == 1 { "line" } else { "lines" };
            let not_found = if logged.not_found.is_empty() {
                String::new()
            } else {
                format!(", expected not-found: {}", logged.not_found.join(", "))
            };
            println!("policy-server: {name}: {} ERROR {lines}{not_found}", logged.errors);
            self.logged.push((name.to_string(), logged));
        });
        self.record(name, result);
    }

    /// The cases of [`PROMISED`] logged exactly the not-found lines it lists.
    fn promised_error_lines(&self) -> Result<(), String> {
        let mut wrong = Vec::new();
        for (name, promised) in PROMISED {
            match self.logged.iter().find(|(n, _)| n == name) {
                Some((_, logged)) if logged.not_found == *promised && logged.errors == promised.len() => {}
                Some((_, logged)) => wrong.push(format!("{name}: expected {promised:?}, logged {logged:?}")),
                None => wrong.push(format!("{name}: not sent (or its check failed)")),
            }
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong.join("\n"))
        }
    }

    /// How many ERROR lines the requests logged, and an example of an expected not-found.
    fn error_line_totals(&self) {
        let requests = self.logged.len();
        let errors: usize = self.logged.iter().map(|(_, l)| l.errors).sum();
        let not_found: usize = self.logged.iter().map(|(_, l)| l.not_found.len()).sum();
        println!(
            "policy-server: {requests} requests checked logged {errors} ERROR lines, {not_found} of them a lookup whose 'not found' the policy expects"
        );
        let log = logs::events(&self.server.log());
        if let Some(example) = log.iter().find(|e| e.is_expected_not_found()) {
            println!("policy-server: an expected not-found, as logged:\n{}", example.text);
        }
    }

    fn summary(&self) -> bool {
        let failed: Vec<&String> = self
            .results
            .iter()
            .filter(|(_, r)| r.is_err())
            .map(|(n, _)| n)
            .collect();
        println!(
            "policy-server: {} tests ran, {} failed{}",
            self.results.len(),
            failed.len(),
            if failed.is_empty() {
                String::new()
            } else {
                format!(": {failed:?}")
            }
        );
        if !failed.is_empty() {
            let log = self.server.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            println!("policy-server log (the end):\n{}", tail.join("\n"));
        }
        failed.is_empty()
    }

    /// Every case through `/validate` (and `/audit` for a stored object), each group of
    /// cases with its cluster, waiting out policy-server's cache between clusters.
    fn scenarios(&mut self, groups: &[(Contents, Vec<Case>)]) {
        for (index, (contents, cases)) in groups.iter().enumerate() {
            if index > 0 {
                self.api.serve(contents.clone());
                std::thread::sleep(CACHE_TTL);
            }
            for case in cases {
                let result = self.check(case, "validate");
                self.record_logged(&case.name, result);
                if case.is_stored() {
                    let result = self.check(case, "audit");
                    self.record_logged(&format!("{} through /audit", case.name), result);
                }
            }
        }
    }

    /// Sends a case, one request at a time: the same answer as policy-run, no API request
    /// where policy-run made no lookup, and the ERROR lines of [`check_log`].
    fn check(&self, case: &Case, endpoint: &str) -> Result<Logged, String> {
        let expected = case.expected.as_ref().map_err(Clone::clone)?;
        let before = self.api.request_count();
        let log_before = self.server.log_len();
        let actual = self.server.review(endpoint, &case.policy_id, &case.review())?;
        same_response(&expected.evaluation.response, &actual, case.request.object.as_ref())?;
        let requests = self.api.requests_since(before);
        if case.lookups == 0 && !requests.is_empty() {
            return Err(format!(
                "policy-run made no lookup, policy-server asked the API server: {requests:?}"
            ));
        }
        check_log(&self.server.log_since(log_before), &case.failed_lookups)
    }

    /// The API server down, failing, slow: the onLookupError behaviour or a clean timeout,
    /// then policy-server still answers `keeps_serving` right.
    fn faults(&mut self, keeps_serving: &Case) {
        let faults = [
            ("down", Mode::Down, "Connect"),
            ("answering 500", Mode::Failing, "InternalError"),
            ("slower than the policy's timeout", Mode::Slow(SLOW_API), ""),
        ];
        for (fault, mode, marker) in faults {
            for policy_id in ["fault-reject", "fault-accept"] {
                let result = self.fault(policy_id, fault, mode, marker, keeps_serving);
                self.record(&format!("API server {fault}: {policy_id}, then serving again"), result);
            }
        }
    }

    fn fault(
        &self,
        policy_id: &str,
        fault: &str,
        mode: Mode,
        marker: &str,
        keeps_serving: &Case,
    ) -> Result<(), String> {
        // A blueprint name of its own: policy-server's cache cannot answer it.
        let blueprint = format!("{}-{policy_id}", fault.split(' ').next().unwrap_or(fault));
        let request = deployment_with_blueprint(&blueprint)?;
        let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request});
        let settings = &self.settings[policy_id];

        self.api.set_mode(mode);
        let log_before = self.server.log_len();
        let started = Instant::now();
        let answer = self.server.review("validate", policy_id, &review.to_string());
        let elapsed = started.elapsed();
        self.api.set_mode(Mode::Up);
        let actual = answer?;
        // The README's filter keeps the lines of a real failure.
        let kept: Vec<logs::Event> = logs::events(&self.server.log_since(log_before))
            .into_iter()
            .filter(|e| e.level == "ERROR" && !e.is_expected_not_found())
            .collect();
        let limit = match mode {
            Mode::Slow(delay) => delay + Duration::from_secs(10),
            _ => Duration::from_secs(10),
        };
        if elapsed > limit {
            return Err(format!("answered after {elapsed:?} (more than {limit:?})"));
        }
        let timed_out = !actual.allowed
            && actual.status.as_ref().and_then(|s| s.message.as_deref()) == Some(TIMEOUT_MESSAGE)
            && actual.status.as_ref().and_then(|s| s.code) == Some(500);
        if timed_out {
            if !kept.iter().any(|e| e.body.contains("policy execution time exceeded")) {
                return Err(format!("no ERROR line of the timeout the filter keeps: {kept:#?}"));
            }
            println!("policy-server: API server {fault}: {policy_id}: timed out cleanly after {elapsed:.1?}");
        } else {
            let (template, _, _) = policy_run(Box::new(FailWith(HOST_ERROR.into())), &request, settings);
            let template = template?.evaluation.response;
            let error = host_error_in(&template, &actual).ok_or_else(|| {
                format!("neither a clean timeout nor the onLookupError behaviour:\n  policy-server: {actual:?}\n  policy-run with a failing API server: {template:?}")
            })?;
            if !error.contains(marker) {
                return Err(format!("the host error does not say '{marker}': {error}"));
            }
            if !kept
                .iter()
                .any(|e| e.callback_error().is_some_and(|e| e.starts_with(&error)))
            {
                return Err(format!("no ERROR line of the host error the filter keeps: {kept:#?}"));
            }
            let (expected, _, _) = policy_run(Box::new(FailWith(error.clone())), &request, settings);
            same_response(&expected?.evaluation.response, &actual, request.object.as_ref())?;
            println!(
                "policy-server: API server {fault}: {policy_id}: allowed={} after {elapsed:.1?}, host error: {error:?}",
                actual.allowed
            );
        }
        self.check(keeps_serving, "validate")
            .map(|_| ())
            .map_err(|e| format!("policy-server does not serve the next request right: {e}"))
    }

    /// A cluster with one generation's CRDs (the API server serves no kind of `missing`'s
    /// groups), on a fresh policy-server (one that has discovered no kind yet, as after a
    /// restart, and has cached no answer): the target of the served generation is answered as
    /// with both, and the other generation's target is refused for a lookup error that says
    /// its BackupBlueprint's kind is not served.
    fn one_generation(
        &self,
        policies: &Value,
        kubeconfig: &Path,
        port: u16,
        missing: &[&str],
        stash: &Case,
        kubestash: &Case,
    ) -> Result<(), String> {
        let group_of = |api_version: &str| api_version.rsplit_once('/').map_or("", |(group, _)| group).to_string();
        let in_missing = |api_version: &str| missing.contains(&group_of(api_version).as_str());
        let mut stripped = stash.contents.clone();
        stripped.cluster = Cluster::default();
        for object in stash.contents.cluster.objects() {
            if !in_missing(object["apiVersion"].as_str().unwrap_or_default()) {
                stripped
                    .cluster
                    .add_object(object.clone())
                    .map_err(|e| format!("{e:#}"))?;
            }
        }
        stripped.kinds.retain(|k| !in_missing(&k.api_version));
        let (served, refused) = match missing == STASH_GROUPS {
            true => (kubestash, stash),
            false => (stash, kubestash),
        };
        self.api.serve(stripped);
        let result = (|| {
            let options = Options::on(port, port + 1);
            let dir = self.dir.path().join(format!("one-generation-{port}"));
            let mut server = PolicyServer::start(&dir, policies, kubeconfig, options)?;
            server.wait_ready(options.readiness_port, Duration::from_secs(180))?;
            let answer = server.review("validate", &served.policy_id, &served.review())?;
            let expected = served.expected.as_ref().map_err(|e| e.clone())?;
            same_response(&expected.evaluation.response, &answer, served.request.object.as_ref())?;
            let answer = server.review("validate", &refused.policy_id, &refused.review())?;
            let message = answer
                .status
                .as_ref()
                .and_then(|s| s.message.clone())
                .unwrap_or_default();
            let blueprint_kind = match missing == STASH_GROUPS {
                true => "stash.appscode.com/v1beta1/BackupBlueprint",
                false => "core.kubestash.com/v1alpha1/BackupBlueprint",
            };
            let says = format!("the API server does not serve {blueprint_kind}: the operator's CRDs are not installed");
            if answer.allowed || !message.contains(&says) {
                return Err(format!("{}: expected '{says}', got {answer:?}", refused.name));
            }
            println!(
                "policy-server: {missing:?} not served: {} answered as usual; {}: {message}",
                served.name, refused.name
            );
            Ok(())
        })();
        self.api.serve(stash.contents.clone());
        result
    }

    /// policy-server with `--log-fmt json`: the README's filter for the JSON log (`level`,
    /// `target`, `fields.message`, `fields.operation`, `fields.error`) keeps the line of a
    /// Stash whose Repository CRD is missing, matches exactly the lookups of the deployment's
    /// CREATE that policy-run answered "not found", and keeps the line of an API error.
    fn json_log(&self, policies: &Value, kubeconfig: &Path, deployment: &Case) -> Result<(), String> {
        let options = Options {
            log_fmt: "json",
            ..Options::on(PORT + 20, READINESS_PORT + 20)
        };
        let mut server = PolicyServer::start(&self.dir.path().join("json-log"), policies, kubeconfig, options)?;
        server.wait_ready(options.readiness_port, Duration::from_secs(180))?;
        let json_lines = |text: &str| -> Result<Vec<Value>, String> {
            text.lines()
                .filter(|line| !line.trim().is_empty())
                .map(|line| serde_json::from_str(line).map_err(|e| format!("not a JSON line ({e}): {line}")))
                .collect()
        };

        // The Repository kind not served (its CRD not installed): the kube client's discovery
        // fails with `Cannot find resource …`, a real error. First, while this policy-server
        // has not discovered the kind.
        let mut without_crd = deployment.contents.clone();
        without_crd.cluster = Cluster::default();
        for object in deployment.contents.cluster.objects() {
            if object["kind"] != "Repository" {
                without_crd
                    .cluster
                    .add_object(object.clone())
                    .map_err(|e| format!("{e:#}"))?;
            }
        }
        without_crd.kinds.retain(|k| k.kind != "Repository");
        without_crd.kinds.push(ContextAwareResource {
            api_version: "stash.appscode.com/v1alpha1".into(),
            kind: "Recovery".into(),
        });
        self.api.serve(without_crd);
        let before = server.log_len();
        let answer = server.review("validate", &deployment.policy_id, &deployment.review());
        self.api.serve(deployment.contents.clone());
        answer?;
        let text = server.log_since(before);
        let missing_kind = json_lines(&text)?.into_iter().find(|e| {
            e["fields"]["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("Cannot find resource stash.appscode.com/v1alpha1/Repository"))
        });
        match missing_kind {
            Some(line) if line["level"] == "ERROR" && !logs::json_is_expected_not_found(&line) => {}
            _ => {
                return Err(format!(
                    "no ERROR line of the missing kind that the filter keeps:\n{text}"
                ));
            }
        }

        let before = server.log_len();
        server.review("validate", &deployment.policy_id, &deployment.review())?;
        let text = server.log_since(before);
        let events = json_lines(&text)?;
        let matched: Vec<&str> = events
            .iter()
            .filter(|e| logs::json_is_expected_not_found(e))
            .filter_map(|e| e["fields"]["error"].as_str())
            .collect();
        let expected: Vec<&str> = deployment.failed_lookups.iter().map(String::as_str).collect();
        if matched != expected || events.len() != expected.len() {
            return Err(format!(
                "the filter matched {matched:#?}, policy-run's lookups were answered {expected:#?}; the log:\n{text}"
            ));
        }
        if let Some(line) = text.lines().next() {
            println!("policy-server: an expected not-found, as logged with --log-fmt json:\n{line}");
        }

        let request = deployment_with_blueprint("json-log-api-error")?;
        let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request});
        self.api.set_mode(Mode::Failing);
        let before = server.log_len();
        let answer = server.review("validate", "fault-reject", &review.to_string());
        self.api.set_mode(Mode::Up);
        answer?;
        let text = server.log_since(before);
        let events = json_lines(&text)?;
        let kept = events.iter().any(|e| {
            e["level"] == "ERROR"
                && e["target"] == logs::CALLBACK_TARGET
                && e["fields"]["error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("ApiError: "))
        });
        if !kept || events.iter().any(logs::json_is_expected_not_found) {
            return Err(format!(
                "the filter does not keep exactly the API error's lines:\n{text}"
            ));
        }
        Ok(())
    }

    /// A policy with invalid settings: policy-server refuses to start, with the policy's
    /// message (policy-run fails with the same message).
    fn refused(&self, case: &Case, kubeconfig: &Path) -> Result<(), String> {
        let error = case.expected.as_ref().err().ok_or("policy-run accepted the settings")?;
        let message = error
            .strip_prefix("Provided settings are not valid: ")
            .ok_or_else(|| format!("policy-run failed otherwise: {error}"))?;
        let mut entry = policy_entry(
            &read_document(&repo_root().join("examples/cluster-admission-policy.yaml"), "manifest")
                .map_err(|e| format!("{e:#}"))?,
            &format!("file://{}", self.dir.path().join("annotated-policy.wasm").display()),
        );
        entry["settings"] = case.settings.clone();
        let policies = json!({ (case.policy_id.clone()): entry });
        let dir = self.dir.path().join(format!("refused-{}", case.policy_id));
        let mut server = PolicyServer::start(&dir, &policies, kubeconfig, Options::on(PORT + 10, READINESS_PORT + 10))?;
        let (status, log) = server.wait_exit(Duration::from_secs(120))?;
        let expected = format!("Policy settings are invalid: {message}");
        if status.success() || !log.contains(&expected) {
            return Err(format!("expected an exit with '{expected}', got {status}:\n{log}"));
        }
        Ok(())
    }
}

/// The deployment scenario's CREATE with another blueprint.
fn deployment_with_blueprint(blueprint: &str) -> Result<AdmissionRequest, String> {
    let mut object = Scenario::new("deployment").object();
    object["metadata"]["annotations"][annotations::BACKUP_BLUEPRINT] = json!(blueprint);
    AdmissionRequest::for_object(object, None, "CREATE", None)
}

fn scenario_names() -> Result<Vec<String>, String> {
    let mut names: Vec<String> = std::fs::read_dir(scenarios_dir())
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("object.yaml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// Cases grouped by the cluster they need, in first-seen order, the group of the deployment
/// scenario last (the fault tests use its cluster).
fn groups_of(cases: Vec<Case>) -> Vec<(Contents, Vec<Case>)> {
    let mut groups: Vec<(Contents, Vec<Case>)> = Vec::new();
    for case in cases {
        match groups.iter_mut().find(|(contents, _)| *contents == case.contents) {
            Some((_, group)) => group.push(case),
            None => groups.push((case.contents.clone(), vec![case])),
        }
    }
    groups.sort_by_key(|(_, cases)| cases.iter().any(|c| c.name == "scenario deployment"));
    groups
}

/// `kwctl annotate`: policy-server loads only annotated policies. Returns the module URL.
fn annotate(dir: &Path) -> Result<String, String> {
    let annotated = dir.join("annotated-policy.wasm");
    let root = repo_root();
    let output = Command::new("kwctl")
        .arg("annotate")
        .arg("-m")
        .arg(root.join("metadata.yml"))
        .arg("-u")
        .arg(root.join("README.md"))
        .arg("-o")
        .arg(&annotated)
        .arg(policy_path())
        .env("RUST_BACKTRACE", "0")
        .output()
        .map_err(|e| format!("cannot run kwctl: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "kwctl annotate failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(format!("file://{}", annotated.display()))
}

/// The policies.yml entry the Kubewarden controller writes for a ClusterAdmissionPolicy.
fn policy_entry(manifest: &Value, module: &str) -> Value {
    let spec = &manifest["spec"];
    let mut entry = json!({
        "module": module,
        "policyMode": spec.get("mode").cloned().unwrap_or(json!("protect")),
        "allowedToMutate": spec.get("mutating").cloned().unwrap_or(json!(false)),
        "settings": spec.get("settings").cloned().unwrap_or(json!({})),
        "contextAwareResources": spec.get("contextAwareResources").cloned().unwrap_or(json!([])),
        "hostCapabilities": ["*"],
    });
    if let Some(timeout) = spec.get("timeoutEvalSeconds") {
        entry["timeoutEvalSeconds"] = timeout.clone();
    }
    entry
}
