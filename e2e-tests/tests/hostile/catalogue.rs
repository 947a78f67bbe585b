//! The hostile catalogue (issue 9): requests, blueprints and settings built to hurt, generated
//! here (no fixture is committed), and one evaluation of each through policy.wasm as kwctl and
//! policy-server run it. Shared by `tests/hostile.rs` (the bounds, in `make test`) and
//! `benches/hostile.rs` (time and memory, in `make bench`).
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use backup_blueprint_policy_e2e::callback_request::CallbackRequest;
use backup_blueprint_policy_e2e::cluster::Cluster;
use backup_blueprint_policy_e2e::host::{Counting, KubernetesBackend};
use backup_blueprint_policy_e2e::request::{AdmissionRequest, GroupVersionKind, GroupVersionResource};
use backup_blueprint_policy_e2e::run::Runner;
use serde_json::{Map, Value, json};

/// Kubernetes' limit on the annotations of one object (keys and values): 256 KiB.
pub const ANNOTATIONS_LIMIT: usize = 256 * 1024;
/// The largest object etcd stores (the API server's request limit is 3 MiB): 1.5 MiB.
pub const OBJECT_LIMIT: usize = 1536 * 1024;
/// A message the policy returns (a rejection, a warning) is at most this long.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// The guest's linear memory after any case.
pub const MAX_GUEST_MEMORY: u64 = 64 * 1024 * 1024;
/// The host-call budget: at most this many blueprints are ever looked up.
pub const MAX_BLUEPRINTS: usize = 16;

const BLUEPRINT: &str = "stash.appscode.com/backup-blueprint";
const TARGET_PATHS: &str = "stash.appscode.com/target-paths";
const VOLUME_MOUNTS: &str = "stash.appscode.com/volume-mounts";
const SCHEDULE: &str = "stash.appscode.com/schedule";
const PARAMS: &str = "params.stash.appscode.com/";
const VARS: &str = "vars.autobackup.kubewarden.io/";
const RESOLVED: &str = "autobackup.kubewarden.io/resolved";
const TARGET: &str = "autobackup.kubewarden.io/target";
const SKIP: &str = "autobackup.kubewarden.io/skip";
const SKIP_REASON: &str = "autobackup.kubewarden.io/skip-reason";
const SKIP_UNTIL: &str = "autobackup.kubewarden.io/skip-until";
const KS_NAME: &str = "blueprint.kubestash.com/name";
const KS_NAMESPACE: &str = "blueprint.kubestash.com/namespace";
const KS_SESSIONS: &str = "blueprint.kubestash.com/session-names";
const KS_VARS: &str = "variables.kubestash.com/";

/// What a case must be answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Allowed (with or without a patch).
    Accepted,
    Rejected,
    /// `validate_settings` refuses the settings (kwctl and policy-server then never call
    /// `validate`).
    InvalidSettings,
}

/// One hostile input.
pub struct Case {
    pub name: String,
    pub request: AdmissionRequest,
    pub settings: Value,
    /// Objects added to the e2e cluster (`scenarios/cluster.yaml`).
    pub cluster: Vec<Value>,
    /// BackupBlueprints answered with this JSON text verbatim (what a `Value` cannot hold:
    /// `1e400`, 2^64).
    pub raw_blueprints: Vec<(String, String)>,
    pub expect: Expect,
    /// The most lookups this case may make (the host-call budget, for its blueprints and settings).
    pub max_calls: usize,
}

/// What one evaluation of a case gave.
#[derive(Debug)]
pub struct Observed {
    pub decision: Option<Expect>,
    /// The rejection or the invalid-settings message.
    pub message: Option<String>,
    pub warnings: Vec<String>,
    /// An engine error: a trap, an unreadable response, a failed instantiation (the HTTP 500 of
    /// policy-server).
    pub engine_error: Option<String>,
    /// The guest's linear memory after the evaluation, in bytes.
    pub guest_memory: u64,
    /// The lookups the backend answered.
    pub lookups: Vec<CallbackRequest>,
    /// What policy-server spends per request: a fresh instance and `validate` (it validates
    /// the settings once, when it loads the policy); `validate_settings` for invalid settings.
    pub time: Duration,
}

impl Observed {
    /// Every way the case misses its bounds; empty when it is answered properly.
    pub fn problems(&self, case: &Case) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(error) = &self.engine_error {
            problems.push(format!("engine error: {}", cut(error)));
        }
        if self.decision.is_some() && self.decision != Some(case.expect) {
            problems.push(format!(
                "expected {:?}, got {:?}: {}",
                case.expect,
                self.decision,
                cut(self.message.as_deref().unwrap_or(""))
            ));
        }
        for text in self.message.iter().chain(&self.warnings) {
            if text.len() > MAX_MESSAGE_BYTES {
                problems.push(format!("a message of {} bytes: {}", text.len(), cut(text)));
            }
            if let Some(c) = text.chars().find(|&c| is_unsafe_in_message(c)) {
                problems.push(format!("a message holds the raw character {:?}: {}", c, cut(text)));
            }
        }
        if self.guest_memory > MAX_GUEST_MEMORY {
            problems.push(format!("guest memory of {} MiB", self.guest_memory >> 20));
        }
        problems.extend(budget_problems(&self.lookups, case.max_calls));
        problems
    }
}

/// A character that must reach a message escaped: controls other than the line breaks the
/// message is made of; the bidirectional marks, embeddings, overrides and isolates that
/// reorder the text shown to a person (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069);
/// the line and paragraph separators (U+2028, U+2029); zero-width characters (U+200B–U+200D,
/// U+2060, U+FEFF).
pub fn is_unsafe_in_message(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(
            c,
            '\u{61c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
        )
}

include!("../../../tests/support/kubestash_budget.rs");

/// Whether a lookup is of KubeStash's API groups (`*.kubestash.com`).
fn is_kubestash(api_version: &str) -> bool {
    api_version
        .split_once('/')
        .is_some_and(|(group, _)| group.ends_with(".kubestash.com"))
}

/// The host-call budget, never the same lookup twice, and at most `max_calls` (0 where the
/// annotations alone make the object invalid). A case whose lookups include a KubeStash kind is
/// held to KubeStash's budget ([`KUBESTASH_BUDGET`]), with only KubeStash kinds besides
/// Namespaces; any other to Stash's: at most one Namespace, at most 16 BackupBlueprints, per
/// blueprint one Secret and two collision lookups, nothing else.
pub fn budget_problems(lookups: &[CallbackRequest], max_calls: usize) -> Vec<String> {
    let mut problems = Vec::new();
    let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let kubestash = lookups.iter().any(|lookup| is_kubestash(lookup.resource_type().0));
    for lookup in lookups {
        let CallbackRequest::KubernetesGetResource {
            api_version,
            kind,
            name,
            namespace,
            ..
        } = lookup;
        *per_kind.entry(kind.as_str()).or_default() += 1;
        if !seen.insert(format!("{lookup:?}")) {
            problems.push(format!("looked up twice: {kind} {namespace:?}/{}", cut(name)));
        }
        if kubestash && kind != "Namespace" && !is_kubestash(api_version) {
            problems.push(format!("a lookup of a {api_version} {kind} for a KubeStash target"));
        }
    }
    let count = |kind: &str| per_kind.get(kind).copied().unwrap_or(0);
    if kubestash {
        for (kind, most) in KUBESTASH_BUDGET {
            if count(kind) > most {
                problems.push(format!("{} {kind} lookups, at most {most} for KubeStash", count(kind)));
            }
        }
        for kind in per_kind.keys() {
            if !KUBESTASH_BUDGET.iter().any(|(known, _)| known == kind) {
                problems.push(format!("a lookup of a {kind}"));
            }
        }
    } else {
        let blueprints = count("BackupBlueprint");
        if count("Namespace") > 1 {
            problems.push(format!("{} Namespace lookups", count("Namespace")));
        }
        if blueprints > MAX_BLUEPRINTS {
            problems.push(format!("{blueprints} BackupBlueprint lookups"));
        }
        for kind in ["Secret", "Repository", "BackupConfiguration"] {
            if count(kind) > blueprints {
                problems.push(format!("{} {kind} lookups for {blueprints} blueprints", count(kind)));
            }
        }
        for kind in per_kind.keys() {
            if ![
                "Namespace",
                "BackupBlueprint",
                "Secret",
                "Repository",
                "BackupConfiguration",
            ]
            .contains(kind)
            {
                problems.push(format!("a lookup of a {kind}"));
            }
        }
    }
    if lookups.len() > max_calls {
        problems.push(format!("{} lookups, at most {max_calls} expected", lookups.len()));
    }
    problems
}

fn cut(text: &str) -> String {
    match text.len() > 300 {
        true => format!("{}… ({} bytes)", &text[..text.floor_char_boundary(300)], text.len()),
        false => text.to_string(),
    }
}

/// The e2e cluster the cases add their objects to.
pub fn base_cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/cluster.yaml");
        Cluster::from_file(&path).expect("scenarios/cluster.yaml")
    })
}

/// Answers some BackupBlueprints with raw JSON text, the rest from a cluster.
struct RawBlueprints {
    cluster: Cluster,
    raw: Vec<(String, String)>,
}

impl KubernetesBackend for RawBlueprints {
    fn answer(&mut self, request: &CallbackRequest) -> Result<Vec<u8>, String> {
        let CallbackRequest::KubernetesGetResource { kind, name, .. } = request;
        match self
            .raw
            .iter()
            .find(|(raw_name, _)| kind == "BackupBlueprint" && raw_name == name)
        {
            Some((_, text)) => Ok(text.as_bytes().to_vec()),
            None => self.cluster.answer(request),
        }
    }
}

impl Case {
    /// The cluster of this case.
    pub fn backend(&self) -> Box<dyn KubernetesBackend> {
        let mut cluster = base_cluster().clone();
        for object in &self.cluster {
            cluster.add_object(object.clone()).expect("a cluster object");
        }
        Box::new(RawBlueprints {
            cluster,
            raw: self.raw_blueprints.clone(),
        })
    }

    /// One evaluation as policy-server performs it: the settings are checked on one instance
    /// (`protocol_version`, `validate_settings`, as when it loads the policy), then the request
    /// is evaluated on a fresh one (`validate`), whose memory and lookups are measured.
    pub fn run(&self, runner: &Runner) -> Observed {
        let mut observed = Observed {
            decision: None,
            message: None,
            warnings: Vec::new(),
            engine_error: None,
            guest_memory: 0,
            lookups: Vec::new(),
            time: Duration::ZERO,
        };
        let start = Instant::now();
        let mut policy = match runner.instantiate(self.backend()) {
            Ok(policy) => policy,
            Err(e) => {
                observed.engine_error = Some(format!("instantiation: {e:#}"));
                return observed;
            }
        };
        if let Err(e) = policy.protocol_version() {
            observed.engine_error = Some(format!("protocol_version: {e:#}"));
            return observed;
        }
        let settings = policy.validate_settings(&self.settings);
        observed.time = start.elapsed();
        observed.guest_memory = policy.instance().memory_size();
        if !settings.valid {
            let message = settings.message.unwrap_or_default();
            // policy-evaluator's texts when the call itself failed (a trap, an unreadable answer).
            match message.starts_with("Error invoking settings validation callback") || message.starts_with("error: ") {
                true => observed.engine_error = Some(message),
                false => {
                    observed.decision = Some(Expect::InvalidSettings);
                    observed.message = Some(message);
                }
            }
            return observed;
        }
        let (backend, answered) = Counting::new(self.backend());
        let start = Instant::now();
        let mut policy = match runner.instantiate(Box::new(backend)) {
            Ok(policy) => policy,
            Err(e) => {
                observed.engine_error = Some(format!("instantiation: {e:#}"));
                return observed;
            }
        };
        let evaluation = policy.validate(&self.request, &self.settings);
        observed.time = start.elapsed();
        let response = evaluation.response;
        let status = response.status.unwrap_or_default();
        match status.code {
            Some(500) => observed.engine_error = status.message,
            _ => {
                observed.decision = Some(match response.allowed {
                    true => Expect::Accepted,
                    false => Expect::Rejected,
                });
                observed.message = status.message;
                observed.warnings = response.warnings.unwrap_or_default();
            }
        }
        observed.guest_memory = policy.instance().memory_size();
        observed.lookups = answered.lock().unwrap().clone();
        observed
    }
}

// ---------------------------------------------------------------------------------------------
// Building blocks.

/// The request the API server would send for `object`; a malformed object (metadata not a
/// mapping, no name) still gets one, as a Deployment in `demo`.
pub fn request(object: Value, operation: &str) -> AdmissionRequest {
    if let Ok(request) = AdmissionRequest::for_object(object.clone(), None, operation, None) {
        return request;
    }
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("apps/v1");
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("Deployment")
        .to_string();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    AdmissionRequest {
        uid: "hostile".into(),
        kind: GroupVersionKind {
            group: group.into(),
            version: version.into(),
            kind: kind.clone(),
        },
        resource: GroupVersionResource {
            group: group.into(),
            version: version.into(),
            resource: backup_blueprint_policy_e2e::request::plural(&kind),
        },
        sub_resource: None,
        request_kind: None,
        request_resource: None,
        request_sub_resource: None,
        name: Some("web".into()),
        namespace: Some("demo".into()),
        operation: operation.into(),
        user_info: json!({"username": "hostile"}),
        object: Some(object),
        old_object: None,
        dry_run: Some(false),
        options: None,
    }
}

fn pvc(annotations: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "p", "namespace": "demo", "annotations": annotations},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    })
}

fn deployment(annotations: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "demo", "annotations": annotations},
        "spec": {"template": {"spec": {
            "containers": [{"name": "app", "image": "nginx", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
            "volumes": [{"name": "data", "emptyDir": {}}],
        }}},
    })
}

fn statefulset(namespace: &str, annotations: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": namespace, "annotations": annotations},
        "spec": {"serviceName": "db", "template": {"spec": {
            "containers": [{"name": "db", "image": "postgres", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
        }}, "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {}}]},
    })
}

/// The three annotations of a good workload trigger on `gcs-daily`.
fn workload_trigger() -> Map<String, Value> {
    let mut annotations = Map::new();
    annotations.insert(BLUEPRINT.into(), json!("gcs-daily"));
    annotations.insert(TARGET_PATHS.into(), json!("/data"));
    annotations.insert(VOLUME_MOUNTS.into(), json!("data:/data"));
    annotations
}

fn pvc_trigger(blueprint: &str) -> Map<String, Value> {
    let mut annotations = Map::new();
    annotations.insert(BLUEPRINT.into(), json!(blueprint));
    annotations
}

/// gcs-daily's spec: a blueprint that resolves.
fn good_spec() -> Value {
    json!({
        "backend": {"gcs": {"bucket": "acme-backups", "prefix": "${TARGET_NAMESPACE}/${TARGET_KIND}/${TARGET_NAME}"},
                    "storageSecretName": "gcs-secret"},
        "schedule": "*/5 * * * *",
        "retentionPolicy": {"name": "keep-last-5", "keepLast": 5, "prune": true},
    })
}

fn blueprint(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupBlueprint", "metadata": {"name": name}, "spec": spec})
}

/// good_spec() with `pointer` (`/backend/gcs/prefix`) set to `value`.
fn spec_with(pointer: &str, value: Value) -> Value {
    let mut spec = good_spec();
    set(&mut spec, pointer, value);
    spec
}

fn set(target: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("a JSON pointer");
    let parent = if parent.is_empty() {
        target
    } else {
        target.pointer_mut(parent).expect("the parent exists")
    };
    match parent {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
        }
        other => panic!("not a mapping: {other}"),
    }
}

/// `depth` levels of `{"x": …}` around `leaf`.
fn nest(depth: usize, leaf: Value) -> Value {
    (0..depth).fold(leaf, |inner, _| json!({ "x": inner }))
}

/// Settings that let a target define `${X}` with values of any length made of `a`.
fn variable_x_settings() -> Value {
    json!({"customVariables": {"allowed": ["X"], "valuePattern": "^a*$"}})
}

fn annotations_of(pairs: impl IntoIterator<Item = (String, String)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
}

/// A builder: every case starts from an object and is given what it needs.
pub struct Builder {
    case: Case,
}

fn case(name: &str, object: Value) -> Builder {
    Builder {
        case: Case {
            name: name.to_string(),
            request: request(object, "CREATE"),
            settings: json!({}),
            cluster: Vec::new(),
            raw_blueprints: Vec::new(),
            expect: Expect::Rejected,
            // One blueprint: its lookup, its Secret, two collision lookups, the Namespace.
            max_calls: 5,
        },
    }
}

impl Builder {
    fn settings(mut self, settings: Value) -> Self {
        self.case.settings = settings;
        self
    }
    fn with(mut self, object: Value) -> Self {
        self.case.cluster.push(object);
        self
    }
    fn raw_blueprint(mut self, name: &str, text: String) -> Self {
        self.case.raw_blueprints.push((name.to_string(), text));
        self
    }
    fn operation(mut self, operation: &str, old: Option<Value>) -> Self {
        self.case.request.operation = operation.to_string();
        self.case.request.old_object = old;
        self
    }
    fn calls(mut self, max_calls: usize) -> Self {
        self.case.max_calls = max_calls;
        self
    }
    fn accepted(mut self) -> Case {
        self.case.expect = Expect::Accepted;
        self.case
    }
    fn rejected(mut self) -> Case {
        self.case.expect = Expect::Rejected;
        self.case
    }
    fn invalid_settings(mut self) -> Case {
        self.case.expect = Expect::InvalidSettings;
        self.case.max_calls = 0;
        self.case
    }
}

/// A PVC triggering blueprint `hostile`, whose spec is `spec`.
fn hostile_blueprint(name: &str, spec: Value) -> Builder {
    case(name, pvc(Value::Object(pvc_trigger("hostile")))).with(blueprint("hostile", spec))
}

/// A PVC triggering blueprint `hostile`, answered with `text`.
fn raw_hostile_blueprint(name: &str, text: String) -> Builder {
    case(name, pvc(Value::Object(pvc_trigger("hostile")))).raw_blueprint("hostile", text)
}

fn raw_blueprint_text(spec_text: &str) -> String {
    format!(
        r#"{{"apiVersion":"stash.appscode.com/v1beta1","kind":"BackupBlueprint","metadata":{{"name":"hostile"}},"spec":{spec_text}}}"#
    )
}

/// good_spec() as text with `retentionPolicy.keepLast` written as `number`.
fn keep_last_text(number: &str) -> String {
    raw_blueprint_text(&format!(
        r#"{{"backend":{{"gcs":{{"bucket":"b","prefix":"p"}},"storageSecretName":"gcs-secret"}},"schedule":"@daily","retentionPolicy":{{"name":"r","keepLast":{number},"prune":true}}}}"#
    ))
}

// ---------------------------------------------------------------------------------------------
// The catalogue.

pub fn catalogue() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(sizes());
    cases.extend(nesting());
    cases.extend(wrong_types());
    cases.extend(text());
    cases.extend(substitution_bombs());
    cases.extend(numbers());
    cases.extend(thousands());
    cases.extend(forged());
    cases.extend(go_text());
    cases.extend(near_misses());
    cases.extend(kubestash_annotations());
    cases.extend(kubestash_templates());
    cases.extend(kubestash_usage());
    cases
}

/// Up to Kubernetes' own limits.
fn sizes() -> Vec<Case> {
    let fill = |used: usize| "a".repeat(ANNOTATIONS_LIMIT - used);
    let mut one_big = Map::new();
    one_big.insert("example.com/blob".into(), json!(fill(100)));

    let mut big_list = Map::new();
    big_list.insert(
        BLUEPRINT.into(),
        json!("gcs-daily,".repeat((ANNOTATIONS_LIMIT - 100) / 10)),
    );

    let mut big_paths = workload_trigger();
    big_paths.insert(
        TARGET_PATHS.into(),
        json!("/data/x,".repeat((ANNOTATIONS_LIMIT - 200) / 8)),
    );

    let mut big_mounts = workload_trigger();
    big_mounts.insert(
        VOLUME_MOUNTS.into(),
        json!("data:/d,".repeat((ANNOTATIONS_LIMIT - 200) / 8)),
    );

    let mut big_param = pvc_trigger("gcs-daily");
    big_param.insert(format!("{PARAMS}args"), json!(fill(200)));

    let mut big_var = pvc_trigger("gcs-daily");
    big_var.insert(format!("{VARS}X"), json!(format!("{}!", fill(200))));

    let mut big_schedule = pvc_trigger("gcs-daily");
    big_schedule.insert(
        SCHEDULE.into(),
        json!(format!("*/5 {}", "1,".repeat((ANNOTATIONS_LIMIT - 200) / 2))),
    );

    // A 1.5 MiB Deployment: a container environment of 1.5 MiB.
    let big_deployment = |annotations: Value| {
        let mut object = deployment(annotations);
        let env: Vec<Value> = (0..OBJECT_LIMIT / 1024)
            .map(|i| json!({"name": format!("V{i}"), "value": "v".repeat(1000)}))
            .collect();
        object["spec"]["template"]["spec"]["containers"][0]["env"] = Value::Array(env);
        object
    };
    // A 1.5 MiB blueprint: unknown fields (carried through) and a 1.5 MiB one that would be
    // emitted into an annotation.
    let mut many_fields = good_spec();
    for i in 0..OBJECT_LIMIT / 1100 {
        many_fields["hooks"][format!("h{i}")] = json!(format!("${{TARGET_NAME}}{}", "h".repeat(1000)));
    }
    let big_string = spec_with("/timeOut", json!("t".repeat(OBJECT_LIMIT - 1000)));

    vec![
        case("annotations 256 KiB, no trigger", deployment(Value::Object(one_big)))
            .calls(0)
            .accepted(),
        case("annotations 256 KiB blueprint list", pvc(Value::Object(big_list)))
            .calls(0)
            .rejected(),
        // The blueprint list is usable: it is looked up, the other problems reported.
        case("annotations 256 KiB target-paths", deployment(Value::Object(big_paths))).rejected(),
        case(
            "annotations 256 KiB volume-mounts",
            deployment(Value::Object(big_mounts)),
        )
        .rejected(),
        // The param is copied into the emitted objects: over Kubernetes' 256 KiB of annotations.
        case("annotations 256 KiB param value", pvc(Value::Object(big_param))).rejected(),
        case("annotations 256 KiB variable value", pvc(Value::Object(big_var)))
            .settings(variable_x_settings())
            .rejected(),
        case("annotations 256 KiB schedule", pvc(Value::Object(big_schedule))).rejected(),
        case("object 1.5 MiB, no trigger", big_deployment(json!({})))
            .calls(0)
            .accepted(),
        case(
            "object 1.5 MiB, triggered",
            big_deployment(Value::Object(workload_trigger())),
        )
        .accepted(),
        // Carried through into the emitted objects: over Kubernetes' 256 KiB of annotations.
        hostile_blueprint("blueprint 1.5 MiB of fields", many_fields).rejected(),
        hostile_blueprint("blueprint 1.5 MiB string", big_string).rejected(),
    ]
}

/// Nesting around serde_json's recursion limit (128), which policy-server's decoder applies.
fn nesting() -> Vec<Case> {
    let mut cases = Vec::new();
    for depth in [125, 126, 127, 128, 129, 1000] {
        // The object is `depth` levels deep: the object, then `spec` and its nesting. The policy
        // reads the request as policy-server sends it, with serde_json's limit of 128 levels:
        // up to 125 levels (all policy-server itself delivers inside an AdmissionReview) the
        // object is read and the mutated one fits in a ValidationResponse; a deeper request
        // cannot be read and is rejected.
        let mut object = pvc(Value::Object(pvc_trigger("gcs-daily")));
        object["spec"] = nest(depth - 1, json!("leaf"));
        let expect = if depth <= 125 {
            Expect::Accepted
        } else {
            Expect::Rejected
        };
        let mut built = case(&format!("object nested {depth} levels"), object);
        built.case.expect = expect;
        cases.push(built.case);
        // The blueprint document is `depth` levels deep: itself, `spec`, `hooks` and its nesting.
        let spec = spec_with("/hooks", nest(depth - 2, json!("${TARGET_NAME}")));
        cases.push(hostile_blueprint(&format!("blueprint nested {depth} levels"), spec).rejected());
    }
    // Nested arrays in an annotation-free object under no trigger: the first read of the
    // request skips everything but the object's type and metadata, at any depth.
    for depth in [125, 127] {
        let mut object = deployment(json!({}));
        object["spec"]["x"] = (0..depth - 3).fold(json!([]), |inner, _| json!([inner]));
        cases.push(
            case(&format!("arrays nested {depth} levels, no trigger"), object)
                .calls(0)
                .accepted(),
        );
    }
    cases
}

/// Every field the policy reads, with the wrong JSON type.
fn wrong_types() -> Vec<Case> {
    let mut cases = Vec::new();
    let with_metadata = |metadata: Value| {
        let mut object = deployment(json!({}));
        object["metadata"] = metadata;
        object
    };
    cases.push(
        case("metadata is a string", with_metadata(json!("web")))
            .calls(0)
            .rejected(),
    );
    cases.push(
        case(
            "annotations are a list",
            with_metadata(json!({"name": "web", "namespace": "demo", "annotations": [BLUEPRINT, "gcs-daily"]})),
        )
        .calls(0)
        .rejected(),
    );
    let mut numbers = Map::new();
    numbers.insert(BLUEPRINT.into(), json!(42));
    numbers.insert(TARGET_PATHS.into(), json!(true));
    numbers.insert(VOLUME_MOUNTS.into(), json!(["data:/data"]));
    cases.push(
        case("annotation values are numbers", deployment(Value::Object(numbers)))
            .calls(0)
            .rejected(),
    );
    let mut spec_array = deployment(Value::Object(workload_trigger()));
    spec_array["spec"] = json!([1, 2]);
    cases.push(case("spec is an array", spec_array).rejected());
    let mut volumes_object = deployment(Value::Object(workload_trigger()));
    volumes_object["spec"]["template"]["spec"]["volumes"] = json!({"data": {"emptyDir": {}}});
    cases.push(case("volumes are an object", volumes_object).rejected());
    let mut containers_string = deployment(Value::Object(workload_trigger()));
    containers_string["spec"]["template"]["spec"]["containers"] = json!("nginx");
    containers_string["spec"]["template"]["spec"]["volumes"][0]["name"] = json!(7);
    cases.push(case("containers a string, volume name a number", containers_string).rejected());
    cases.push(case("the object is an array", json!([1, 2, 3])).calls(0).rejected());
    let mut null_object = request(pvc(Value::Object(pvc_trigger("gcs-daily"))), "DELETE");
    null_object.old_object = null_object.object.take();
    cases.push(Case {
        name: "DELETE without object".into(),
        request: null_object,
        settings: json!({}),
        cluster: Vec::new(),
        raw_blueprints: Vec::new(),
        expect: Expect::Accepted,
        max_calls: 0,
    });
    let mut old_string = case(
        "UPDATE with old object a string",
        pvc(Value::Object(pvc_trigger("gcs-daily"))),
    )
    .operation("UPDATE", Some(json!("old")));
    old_string.case.expect = Expect::Accepted;
    cases.push(old_string.case);

    // Blueprint spec fields.
    cases.push(hostile_blueprint("blueprint spec is an array", json!([good_spec()])).rejected());
    cases.push(hostile_blueprint("blueprint backend is a string", spec_with("/backend", json!("gcs://b"))).rejected());
    cases.push(
        hostile_blueprint(
            "blueprint retention of wrong types",
            spec_with(
                "/retentionPolicy",
                json!({"name": 5, "keepLast": "5", "keepDaily": [1], "prune": "yes", "dryRun": "no"}),
            ),
        )
        .rejected(),
    );
    cases.push(hostile_blueprint("blueprint schedule is a number", spec_with("/schedule", json!(5))).rejected());
    let mut task = spec_with("/task", json!({"name": ["t"], "params": {"name": "a", "value": 1}}));
    task["backupNamespace"] = json!({"ns": 1});
    task["backend"]["storageSecretName"] = json!(12);
    cases.push(hostile_blueprint("blueprint task, namespace, secret of wrong types", task).rejected());

    // Settings of wrong types.
    let target = || pvc(Value::Object(pvc_trigger("gcs-daily")));
    for (name, settings) in [
        (
            "settings: emitResolvedObjects a string",
            json!({"emitResolvedObjects": "yes"}),
        ),
        (
            "settings: blueprintAccess an object",
            json!({"blueprintAccess": {"blueprints": ["*"]}}),
        ),
        (
            "settings: requireBackup kinds a string",
            json!({"requireBackup": {"kinds": "StatefulSet"}}),
        ),
        (
            "settings: customVariables allowed numbers",
            json!({"customVariables": {"allowed": [1, 2], "valuePattern": 7}}),
        ),
        (
            "settings: guardrails of wrong types",
            json!({"guardrails": {"minimumFrequency": 24, "minimumRetention": {"keepLast": "5"}}}),
        ),
        ("settings: a list", json!([1, 2])),
    ] {
        cases.push(case(name, target()).settings(settings).invalid_settings());
    }
    cases
}

/// Unicode, NUL, right-to-left marks.
fn text() -> Vec<Case> {
    let with = |key: &str, value: &str| {
        let mut annotations = pvc_trigger("gcs-daily");
        annotations.insert(key.to_string(), json!(value));
        pvc(Value::Object(annotations))
    };
    let workload_with = |key: &str, value: &str| {
        let mut annotations = workload_trigger();
        annotations.insert(key.to_string(), json!(value));
        deployment(Value::Object(annotations))
    };
    let mut combining = pvc(Value::Object(pvc_trigger("gcs-daily")));
    combining["metadata"]["name"] = json!("we\u{301}b\u{301}\u{301}\u{301}");
    let mut nul_everywhere = pvc(Value::Object(pvc_trigger("gcs-daily")));
    nul_everywhere["metadata"]["name"] = json!("p\u{0}");
    nul_everywhere["metadata"]["annotations"]["x\u{0}y"] = json!("\u{0}");
    vec![
        case("multi-byte blueprint name", with(BLUEPRINT, "ブループリント"))
            .calls(0)
            .rejected(),
        case("emoji blueprint names, 256 KiB", with(BLUEPRINT, &"😀".repeat(60_000)))
            .calls(0)
            .rejected(),
        case("emoji in a target path", workload_with(TARGET_PATHS, "/data/😀")).accepted(),
        case("combining marks in the object name", combining).rejected(),
        case("NUL in the blueprint name", with(BLUEPRINT, "gcs-daily\u{0}"))
            .calls(0)
            .rejected(),
        case(
            "NUL in a param name and value",
            with(&format!("{PARAMS}a\u{0}b"), "v\u{0}"),
        )
        .accepted(),
        case("NUL in a variable name", with(&format!("{VARS}X\u{0}"), "v"))
            .settings(variable_x_settings())
            .rejected(),
        case("NUL in object name and annotation keys", nul_everywhere).rejected(),
        case(
            "right-to-left override in the blueprint name",
            with(BLUEPRINT, "gcs\u{202e}yliad"),
        )
        .calls(0)
        .rejected(),
        case(
            "right-to-left mark, line separator and zero-width space in the blueprint name",
            with(BLUEPRINT, "gcs\u{200f}-daily\u{2028}\u{200b}"),
        )
        .calls(0)
        .rejected(),
        case(
            "right-to-left override in the schedule",
            with(SCHEDULE, "\u{202e}@daily"),
        )
        .rejected(),
        case(
            "right-to-left override in a target path",
            workload_with(TARGET_PATHS, "/data/\u{202e}txt.exe"),
        )
        .accepted(),
        case(
            "isolates and controls in volume-mounts",
            workload_with(VOLUME_MOUNTS, "data:/da\u{2066}ta\u{7}\u{1b}[31m"),
        )
        .rejected(),
    ]
}

/// `${` bombs, backtracking globs, amplifying replacements.
fn substitution_bombs() -> Vec<Case> {
    let deep_default = |depth: usize| format!("{}x{}", "${A:-".repeat(depth), "}".repeat(depth));
    let long_x = |len: usize| {
        let mut annotations = pvc_trigger("hostile");
        annotations.insert(format!("{VARS}X"), json!("a".repeat(len)));
        pvc(Value::Object(annotations))
    };
    let with_prefix = |prefix: String| spec_with("/backend/gcs/prefix", json!(prefix));
    let x_case = |name: &str, len: usize, prefix: &str| {
        case(name, long_x(len))
            .settings(variable_x_settings())
            .with(blueprint("hostile", with_prefix(prefix.to_string())))
    };
    let mut bomb_in_param = pvc_trigger("gcs-daily");
    bomb_in_param.insert(format!("{PARAMS}args"), json!(deep_default(20_000)));
    let mut bomb_in_var = pvc_trigger("hostile");
    bomb_in_var.insert(format!("{VARS}X"), json!(deep_default(100)));
    let mut amplify_fields = good_spec();
    for i in 0..20_000 {
        amplify_fields["hooks"][format!("h{i}")] = json!("${X//a/${X}}");
    }
    let mut bomb_keys = good_spec();
    for i in 0..10_000 {
        bomb_keys["hooks"][format!("${{TARGET_NAME}}{i}${{X:-${{Y:-${{Z}}}}}}")] = json!(i);
    }
    let access_settings = json!({"blueprintAccess": [
        {"blueprints": ["*a*a*a*a*a*a*a*a*b"], "namespaces": ["*a*a*a*a*a*a*a*a*b"]},
        {"blueprints": ["*a*a*a*a*a*a*a*a*"], "namespaceSelector": {"matchLabels": {"team": "a"}}},
    ]});
    let long_namespace = "a".repeat(60_000);
    let mut in_long_namespace = pvc(Value::Object(pvc_trigger(&"a".repeat(253))));
    in_long_namespace["metadata"]["namespace"] = json!(long_namespace);
    vec![
        hostile_blueprint("defaults nested 20 levels", with_prefix(deep_default(20))).rejected(),
        hostile_blueprint("defaults nested 20,000 levels", with_prefix(deep_default(20_000))).rejected(),
        hostile_blueprint(
            "10,000 ${X} undefined in one string",
            with_prefix("${X}".repeat(10_000)),
        )
        .rejected(),
        hostile_blueprint(
            "10,000 ${TARGET_NAME} in one string",
            with_prefix("${TARGET_NAME}/".repeat(10_000)),
        )
        .accepted(),
        hostile_blueprint(
            "40,000 ${TARGET_NAMESPACE} in one string",
            with_prefix("${TARGET_NAMESPACE}/".repeat(40_000)),
        )
        .rejected(),
        hostile_blueprint("50,000 $$ then ${", with_prefix(format!("{}${{", "$$".repeat(50_000)))).rejected(),
        hostile_blueprint("unclosed ${ 100,000 times", with_prefix("${".repeat(100_000))).rejected(),
        hostile_blueprint("10,000 keys with nested defaults", bomb_keys).rejected(),
        case("a ${ bomb in a param (verbatim)", pvc(Value::Object(bomb_in_param))).accepted(),
        case("a ${ bomb in a variable value", pvc(Value::Object(bomb_in_var)))
            .settings(json!({"customVariables": {"allowed": ["X"], "valuePattern": "^.*$"}}))
            .with(blueprint("hostile", with_prefix("${X}".into())))
            .accepted(),
        x_case("glob ${X##*a*a*a*a*a*b} on 60,000 a", 60_000, "${X##*a*a*a*a*a*b}").accepted(),
        x_case("glob ${X%%*a*a*a*a*a*b} on 60,000 a", 60_000, "${X%%*a*a*a*a*a*b}").accepted(),
        x_case("glob ${X//*a*a*a*b/c} on 60,000 a", 60_000, "${X//*a*a*a*b/c}").accepted(),
        x_case("glob ${X/#*a*a*a*a*b/c} on 60,000 a", 60_000, "${X/#*a*a*a*a*b/c}").accepted(),
        x_case("amplify ${X//a/${X}} with X of 10,000 a", 10_000, "${X//a/${X}}").rejected(),
        x_case("amplify ${X//a/${X}} with X of 255 a", 255, "p/${X//a/${X}}").accepted(),
        case("amplify ${X//a/${X}} in 20,000 fields", long_x(255))
            .settings(variable_x_settings())
            .with(blueprint("hostile", amplify_fields))
            .rejected(),
        case("access globs on a 60,000-char namespace", in_long_namespace)
            .settings(access_settings.clone())
            .calls(1)
            .rejected(),
        case(
            "access globs on a 253-char blueprint name",
            pvc(Value::Object(pvc_trigger(&format!("{}b", "a".repeat(252))))),
        )
        .settings(access_settings)
        .calls(1)
        .rejected(),
    ]
}

/// Numbers that overflow.
fn numbers() -> Vec<Case> {
    let with = |key: &str, value: &str| {
        let mut annotations = pvc_trigger("gcs-daily");
        annotations.insert(key.to_string(), json!(value));
        pvc(Value::Object(annotations))
    };
    let guardrails = |keep_last: Value| json!({"guardrails": {"minimumRetention": {"keepLast": keep_last}}});
    vec![
        raw_hostile_blueprint("keepLast 1e400", keep_last_text("1e400")).rejected(),
        raw_hostile_blueprint("keepLast -1", keep_last_text("-1")).rejected(),
        raw_hostile_blueprint("keepLast 2^64", keep_last_text("18446744073709551616")).rejected(),
        raw_hostile_blueprint("keepLast 1.5", keep_last_text("1.5")).rejected(),
        case("schedule step 2^64+1", with(SCHEDULE, "*/18446744073709551617 * * * *")).rejected(),
        case("schedule range 0-4294967296", with(SCHEDULE, "0-4294967296 * * * *")).rejected(),
        case("skip-until year 99999999999", {
            let mut object = statefulset("prod-eu", json!({}));
            object["metadata"]["annotations"] =
                json!({SKIP: "true", SKIP_REASON: "r", SKIP_UNTIL: "99999999999-12-31"});
            object
        })
        .settings(json!({"requireBackup": {"kinds": ["StatefulSet"], "allowOptOut": true}}))
        .calls(1)
        .rejected(),
        hostile_blueprint(
            "substring offsets beyond 2^64",
            spec_with(
                "/backend/gcs/prefix",
                json!("${TARGET_NAME:18446744073709551616:-99999999999999999999999}"),
            ),
        )
        .accepted(),
        case("settings: guardrails keepLast 2^64", with(SCHEDULE, "@daily"))
            .settings(guardrails(json!(18446744073709551616.0_f64)))
            .invalid_settings(),
        case("settings: guardrails keepLast -1", with(SCHEDULE, "@daily"))
            .settings(guardrails(json!(-1)))
            .invalid_settings(),
        case("settings: minimumFrequency 10^20 hours", with(SCHEDULE, "@daily"))
            .settings(json!({"guardrails": {"minimumFrequency": "100000000000000000000h"}}))
            .invalid_settings(),
    ]
}

/// Thousands of params, variables, keys, names.
fn thousands() -> Vec<Case> {
    let pvc_with = |pairs: Vec<(String, String)>, blueprint: &str| {
        let mut annotations = pvc_trigger(blueprint);
        annotations.extend(annotations_of(pairs));
        pvc(Value::Object(annotations))
    };
    let params: Vec<(String, String)> = (0..10_000)
        .map(|i| (format!("{PARAMS}p{i}"), format!("v{i}")))
        .collect();
    let vars: Vec<(String, String)> = (0..10_000).map(|i| (format!("{VARS}V{i}"), format!("v{i}"))).collect();
    let allowed: Vec<String> = (0..10_000).map(|i| format!("V{i}")).collect();
    let unrelated: Vec<(String, String)> = (0..10_000)
        .map(|i| (format!("example.com/k{i}"), "v".to_string()))
        .collect();
    let mut ten_thousand_keys = good_spec();
    for i in 0..10_000 {
        ten_thousand_keys["runtimeSettings"][format!("k{i}")] = json!("${TARGET_NAMESPACE}");
    }
    let names = |count: usize, name: &dyn Fn(usize) -> String| (0..count).map(name).collect::<Vec<_>>().join(",");
    let sixteen = names(16, &|i| format!("missing-{i}"));
    let seventeen = names(17, &|i| format!("missing-{i}"));
    let twenty_thousand = names(20_000, &|i| format!("bp-{i}"));
    let duplicates = names(10_000, &|_| "gcs-daily".to_string());
    let rules: Vec<Value> = (0..10_000)
        .map(|i| json!({"blueprints": [format!("bp-{i}-*")], "namespaces": [format!("ns-{i}-*")]}))
        .collect();
    let kinds: Vec<String> = (0..10_000).map(|i| format!("Kind{i}")).collect();
    let hundred = |pairs: &Vec<(String, String)>| pairs[..100].to_vec();
    vec![
        case("100 params", pvc_with(hundred(&params), "gcs-daily")).accepted(),
        case("10,000 params", pvc_with(params, "gcs-daily")).rejected(),
        case("10,000 variables, none allowed", pvc_with(vars.clone(), "gcs-daily")).rejected(),
        case("100 variables, all allowed", pvc_with(hundred(&vars), "gcs-daily"))
            .settings(json!({"customVariables": {"allowed": allowed.clone()}}))
            .accepted(),
        case("10,000 variables, all allowed", pvc_with(vars, "gcs-daily"))
            .settings(json!({"customVariables": {"allowed": allowed}}))
            .rejected(),
        case(
            "10,000 unrelated annotations",
            pvc(Value::Object(annotations_of(unrelated))),
        )
        .calls(0)
        .accepted(),
        hostile_blueprint("blueprint spec with 10,000 keys", ten_thousand_keys).accepted(),
        case("16 blueprints, none found", pvc_with(vec![], &sixteen))
            .calls(1 + 4 * 16)
            .rejected(),
        case("17 blueprints", pvc_with(vec![], &seventeen)).calls(0).rejected(),
        case("20,000 blueprint names", pvc_with(vec![], &twenty_thousand))
            .calls(0)
            .rejected(),
        case("10,000 times the same blueprint", pvc_with(vec![], &duplicates))
            .calls(0)
            .rejected(),
        case(
            "10,000 target paths",
            deployment(Value::Object({
                let mut annotations = workload_trigger();
                annotations.insert(TARGET_PATHS.into(), json!(names(10_000, &|i| format!("/data/{i}"))));
                annotations
            })),
        )
        .rejected(),
        case("10,000 access rules", pvc_with(vec![], "gcs-daily"))
            .settings(json!({"blueprintAccess": rules}))
            .calls(0)
            .rejected(),
        case("requireBackup with 10,000 kinds", statefulset("prod-eu", json!({})))
            .settings(json!({"requireBackup": {"kinds": kinds}}))
            .invalid_settings(),
    ]
}

/// The policy's own annotations, forged.
fn forged() -> Vec<Case> {
    let with_resolved = |resolved: Value, trigger: bool| {
        let mut annotations = if trigger { pvc_trigger("gcs-daily") } else { Map::new() };
        annotations.insert(RESOLVED.into(), resolved);
        pvc(Value::Object(annotations))
    };
    let fake_list =
        json!({"apiVersion": "v1", "kind": "List", "items": [{"kind": "Secret", "metadata": {"name": "stolen"}}]})
            .to_string();
    let existing = |name: &str, annotations: Value| {
        json!({"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupConfiguration",
               "metadata": {"name": name, "namespace": "demo", "annotations": annotations}, "spec": {}})
    };
    let ours = "v1/PersistentVolumeClaim/demo/p";
    let mut stored = with_resolved(json!(fake_list), true);
    stored["metadata"]["resourceVersion"] = json!("42");
    stored["metadata"]["uid"] = json!("0000");
    let mut stored_huge = with_resolved(json!("[".repeat(200_000)), true);
    stored_huge["metadata"]["resourceVersion"] = json!("42");
    let opt_out = |reason: String, until: &str| {
        let mut object = statefulset("prod-eu", json!({}));
        object["metadata"]["annotations"] = json!({SKIP: "true", SKIP_REASON: reason, SKIP_UNTIL: until});
        object
    };
    let require = json!({"requireBackup": {"kinds": ["StatefulSet"], "allowOptOut": true}});
    vec![
        case("forged resolved, no trigger", with_resolved(json!(fake_list), false))
            .calls(0)
            .accepted(),
        case("forged resolved, triggered", with_resolved(json!(fake_list), true)).accepted(),
        case(
            "forged resolved of 256 KiB",
            with_resolved(json!("x".repeat(ANNOTATIONS_LIMIT - 100)), true),
        )
        .accepted(),
        case("forged resolved a number", with_resolved(json!(1e300), true)).rejected(),
        case("forged resolved on a stored object", stored).rejected(),
        case("forged resolved of 200,000 [ on a stored object", stored_huge).rejected(),
        case(
            "forged target on an existing object",
            pvc(Value::Object(pvc_trigger("gcs-daily"))),
        )
        .with(existing("pvc-p", json!({TARGET: ours})))
        .accepted(),
        case(
            "existing object with a 256 KiB target",
            pvc(Value::Object(pvc_trigger("gcs-daily"))),
        )
        .with(existing(
            "pvc-p",
            json!({TARGET: format!("{ours}{}", "\u{202e}".repeat(80_000))}),
        ))
        .rejected(),
        case(
            "existing object with a numeric target",
            pvc(Value::Object(pvc_trigger("gcs-daily"))),
        )
        .with(existing("pvc-p", json!({TARGET: 7})))
        .rejected(),
        case(
            "existing object with annotations a list",
            pvc(Value::Object(pvc_trigger("gcs-daily"))),
        )
        .with(existing("pvc-p", json!([TARGET, ours])))
        .rejected(),
        case(
            "skip with a 256 KiB reason",
            opt_out("r".repeat(ANNOTATIONS_LIMIT - 200), "2099-01-01"),
        )
        .settings(require.clone())
        .calls(1)
        .rejected(),
        case(
            "skip with a 256 KiB date",
            opt_out("ok".into(), &"9".repeat(ANNOTATIONS_LIMIT - 200)),
        )
        .settings(require.clone())
        .calls(1)
        .rejected(),
        case("skip TRUE with NUL", {
            let mut object = opt_out("ok".into(), "2099-01-01");
            object["metadata"]["annotations"][SKIP] = json!("true\u{0}");
            object
        })
        .settings(require)
        .calls(1)
        .rejected(),
    ]
}

/// Go's text rules on multi-byte values: trims try every byte length (a partial character reads
/// as U+FFFD to `?`, `*` and `[^…]`), offsets count bytes.
fn go_text() -> Vec<Case> {
    // 21,000 three-byte characters: 63,000 bytes, under the 64 KiB of one substituted value.
    let wide_x = || {
        let mut annotations = pvc_trigger("hostile");
        annotations.insert(format!("{VARS}X"), json!("日".repeat(21_000)));
        pvc(Value::Object(annotations))
    };
    let settings = json!({"customVariables": {"allowed": ["X"], "valuePattern": "^.*$"}});
    let wide_case = |name: &str, prefix: &str| {
        case(name, wide_x())
            .settings(settings.clone())
            .with(blueprint("hostile", spec_with("/backend/gcs/prefix", json!(prefix))))
    };
    vec![
        wide_case(
            "glob ${X##*?*?*?*?*b} on 21,000 three-byte characters",
            "${X##*?*?*?*?*b}",
        )
        .accepted(),
        wide_case(
            "glob ${X%%*[^b]*[^b]*b} on 21,000 three-byte characters",
            "${X%%*[^b]*[^b]*b}",
        )
        .accepted(),
        wide_case("glob ${X#*?} cuts a three-byte character", "${X#*?}").rejected(),
        wide_case("offset ${X:1:62998} inside a three-byte character", "${X:1:62998}").rejected(),
        wide_case(
            "${#X} and ${X:3:62994} on 21,000 three-byte characters",
            "${#X}/${X:3:62994}",
        )
        .accepted(),
    ]
}

/// Annotation keys that look like Stash's, KubeStash's or the policy's: warned at no lookup, a
/// few warnings at most, whatever their number and size.
fn near_misses() -> Vec<Case> {
    let mut many = Map::new();
    for i in 0..6_000 {
        many.insert(format!("stash.appscode.com/backup-bluprint{i}"), json!("x"));
    }
    let mut huge = Map::new();
    huge.insert(
        format!("stash.appscode.com/{}", "backup-blueprint".repeat(10_000)),
        json!("x"),
    );
    huge.insert(
        format!("{}/backup-blueprint", "stash.appscode.com".repeat(5_000)),
        json!("x"),
    );
    let mut hidden = Map::new();
    hidden.insert("stash.appscode.com/backup-\u{202e}bluprint".into(), json!("x"));
    hidden.insert("stash.appscode.com/schedul\u{0}\u{1b}[31m".into(), json!("x"));
    vec![
        case("6,000 near misses of the trigger", pvc(Value::Object(many)))
            .calls(0)
            .accepted(),
        case("a 160 KB near miss and a 90 KB prefix", pvc(Value::Object(huge)))
            .calls(0)
            .accepted(),
        case("near misses with hidden characters", pvc(Value::Object(hidden)))
            .calls(0)
            .accepted(),
    ]
}

// ---------------------------------------------------------------------------------------------
// KubeStash (SPEC §11): its annotations, its namespaced blueprints, its storage objects.

/// A KubeStash trigger on `namespace/name`, with the `paths` variable the e2e cluster's
/// `backup/workload-backup` needs.
fn ks_trigger(name: &str, namespace: &str) -> Map<String, Value> {
    let mut annotations = Map::new();
    annotations.insert(KS_NAME.into(), json!(name));
    annotations.insert(KS_NAMESPACE.into(), json!(namespace));
    annotations.insert(format!("{KS_VARS}paths"), json!("/var/lib/db"));
    annotations
}

/// The kubestash-statefulset scenario's settings: `namespace` and `targetName` pinned.
fn ks_settings() -> Value {
    json!({"kubestash": {"pinnedVariables": {"namespace": "TARGET_NAMESPACE", "targetName": "TARGET_NAME"}}})
}

/// StatefulSet shop-a/db (its namespace labelled backup=enabled) with `annotations`.
fn ks_case(name: &str, annotations: Map<String, Value>) -> Builder {
    case(name, statefulset("shop-a", Value::Object(annotations)))
        .settings(ks_settings())
        // The blueprint, the target's Namespace, the BackupStorage, the RetentionPolicy, the
        // BackupConfiguration and the Repository (kubestash-statefulset).
        .calls(6)
}

/// StatefulSet shop-a/db on `backup/workload-backup` with `extra` annotations.
fn ks_workload(name: &str, extra: impl IntoIterator<Item = (String, String)>) -> Builder {
    let mut annotations = ks_trigger("workload-backup", "backup");
    annotations.extend(annotations_of(extra));
    ks_case(name, annotations)
}

fn ks_backend(name: &str, storage: &str, retention: &str) -> Value {
    json!({"name": name, "storageRef": {"name": storage, "namespace": "backup"},
           "retentionPolicy": {"name": retention, "namespace": "backup"}})
}

fn ks_repository(name: &str, directory: &str) -> Value {
    json!({"name": name, "backend": "gcs-backend", "directory": directory,
           "encryptionSecret": {"name": "encrypt-secret", "namespace": "backup"}})
}

fn ks_session(name: &str, repositories: Vec<Value>) -> Value {
    json!({"name": name, "scheduler": {"schedule": "0 3 * * *", "jobTemplate": {"backoffLimit": 1}},
           "repositories": repositories,
           "addon": {"name": "workload-addon", "tasks": [{"name": "logical-backup", "params": {"paths": "${paths}"}}]}})
}

/// backup/workload-backup's template: one backend (backup/gcs-storage, backup/keep-30-days),
/// one session `daily` with one repository.
fn ks_template() -> Value {
    json!({
        "backends": [ks_backend("gcs-backend", "gcs-storage", "keep-30-days")],
        "sessions": [ks_session("daily", vec![ks_repository("${namespace}-${targetName}", "/${namespace}/${targetName}")])],
    })
}

/// BackupBlueprint backup/hostile with `usagePolicy` and `template`.
fn ks_blueprint(usage: Value, template: Value) -> Value {
    json!({"apiVersion": "core.kubestash.com/v1alpha1", "kind": "BackupBlueprint",
           "metadata": {"name": "hostile", "namespace": "backup"},
           "spec": {"usagePolicy": usage, "backupConfigurationTemplate": template}})
}

fn ks_all() -> Value {
    json!({"allowedNamespaces": {"from": "All"}})
}

/// StatefulSet shop-a/db on backup/hostile (usable from every namespace), whose template is
/// `template`: no Namespace lookup.
fn ks_hostile(name: &str, template: Value) -> Builder {
    ks_case(name, ks_trigger("hostile", "backup"))
        .with(ks_blueprint(ks_all(), template))
        .calls(5)
}

/// A storage object in `backup` with a usage policy.
fn ks_storage(kind: &str, name: &str, usage: Value, spec: Value) -> Value {
    let mut spec = spec;
    spec["usagePolicy"] = usage;
    json!({"apiVersion": "storage.kubestash.com/v1alpha1", "kind": kind,
           "metadata": {"name": name, "namespace": "backup"}, "spec": spec})
}

/// A selector of `count` `NotIn` requirements of `values` values each: every namespace without
/// those labels (all of the e2e cluster's) matches, after every requirement is read.
fn huge_not_in(count: usize, values: usize) -> Value {
    let expressions: Vec<Value> = (0..count)
        .map(|i| {
            let values: Vec<String> = (0..values).map(|v| format!("v{v}")).collect();
            json!({"key": format!("example.com/k{i}"), "operator": "NotIn", "values": values})
        })
        .collect();
    json!({"allowedNamespaces": {"from": "Selector", "selector": {"matchExpressions": expressions}}})
}

/// A selector of one `In` requirement on `backup` of `values` values, none `enabled`: denied.
fn huge_in(values: usize) -> Value {
    let values: Vec<String> = (0..values).map(|v| format!("value-{v}")).collect();
    json!({"allowedNamespaces": {"from": "Selector", "selector": {
        "matchExpressions": [{"key": "backup", "operator": "In", "values": values}]}}})
}

/// KubeStash's annotations, hostile: values that would inject JSON, thousands of variables and
/// session names, conflicting pins, both generations at once. All are wrong on the annotations
/// alone, so nothing is looked up, but where named.
fn kubestash_annotations() -> Vec<Case> {
    let var = |name: &str, value: &str| vec![(format!("{KS_VARS}{name}"), value.to_string())];
    let ten_thousand: Vec<(String, String)> = (0..10_000)
        .map(|i| (format!("{KS_VARS}v{i}"), format!("v{i}")))
        .collect();
    // With `paths`, exactly 100: the limit.
    let ninety_nine: Vec<(String, String)> = (0..99).map(|i| (format!("{KS_VARS}v{i}"), format!("v{i}"))).collect();
    let injections: Vec<(String, String)> = (0..99)
        .map(|i| (format!("{KS_VARS}v{i}"), format!(r#"r{i}","deletionPolicy":"WipeOut"#)))
        .collect();
    let sessions = |value: String| vec![(KS_SESSIONS.to_string(), value)];
    let names = |count: usize| (0..count).map(|i| format!("s{i}")).collect::<Vec<_>>().join(",");
    let both = |extra: Vec<(String, String)>| {
        let mut annotations = ks_trigger("workload-backup", "backup");
        annotations.extend(workload_trigger());
        annotations.extend(annotations_of(extra));
        annotations
    };
    let twenty_thousand_stash = vec![(
        BLUEPRINT.to_string(),
        (0..20_000).map(|i| format!("bp-{i}")).collect::<Vec<_>>().join(","),
    )];
    let mut name_only = Map::new();
    name_only.insert(KS_NAME.into(), json!("workload-backup"));
    let mut huge_name = Map::new();
    huge_name.insert(KS_NAME.into(), json!("a".repeat(ANNOTATIONS_LIMIT - 100)));
    huge_name.insert(KS_NAMESPACE.into(), json!("b\u{202e}".repeat(1000)));
    let thousand_pins: Map<String, Value> = (0..1_000).map(|i| (format!("p{i}"), json!("TARGET_NAME"))).collect();
    let mut thousand_pins_settings = ks_settings();
    thousand_pins_settings["kubestash"]["pinnedVariables"]
        .as_object_mut()
        .expect("a map")
        .extend(thousand_pins);
    vec![
        ks_workload(
            "KubeStash value injecting JSON fields",
            var("paths", r#"r","deletionPolicy":"WipeOut"#),
        )
        .calls(0)
        .rejected(),
        ks_workload(
            "KubeStash value of backslashes and an escaped quote",
            var("paths", r#"\\\u0022}\"x"#),
        )
        .calls(0)
        .rejected(),
        ks_workload(
            "KubeStash value with NUL, ESC, CR, LF and DEL",
            var("paths", "a\u{0}b\u{1b}[31m\r\n\u{7f}"),
        )
        .calls(0)
        .rejected(),
        ks_workload(
            "KubeStash variable name with a right-to-left override and NUL",
            var("pa\u{202e}ths\u{0}", "x"),
        )
        .calls(0)
        .rejected(),
        // Bidirectional and zero-width characters are no JSON hazard: accepted, and never raw in
        // a message.
        ks_workload(
            "KubeStash value with bidi overrides and zero-width characters",
            var("paths", "/var/\u{202e}lib\u{2066}\u{200f}\u{200b}\u{feff}/db"),
        )
        .accepted(),
        ks_workload("KubeStash 99 variables injecting JSON", injections)
            .calls(0)
            .rejected(),
        ks_workload("10,000 KubeStash variables", ten_thousand)
            .calls(0)
            .rejected(),
        ks_workload("100 KubeStash variables, the limit", ninety_nine).accepted(),
        ks_workload("KubeStash value of 1 MiB", var("paths", &"a".repeat(1 << 20)))
            .calls(0)
            .rejected(),
        ks_workload(
            "KubeStash value of 1,024 four-byte characters",
            var("paths", &"😀".repeat(1024)),
        )
        .accepted(),
        ks_workload("100,000 KubeStash session names", sessions(names(100_000)))
            .calls(0)
            .rejected(),
        ks_workload(
            "KubeStash session-names of 1 MiB of commas",
            sessions(",".repeat(1 << 20)),
        )
        .calls(0)
        .rejected(),
        // Usable: the blueprint (after its usage policy's Namespace) is read, and has none of them.
        ks_workload("32 KubeStash session names, none in the blueprint", sessions(names(32)))
            .calls(2)
            .rejected(),
        ks_workload(
            "KubeStash session names with bidi, NUL and blanks",
            sessions("daily,\u{202e}x\u{0}, daily ,,daily".to_string()),
        )
        .calls(0)
        .rejected(),
        ks_case("KubeStash and Stash triggers at once", both(vec![]))
            .calls(0)
            .rejected(),
        ks_case(
            "both triggers, 20,000 Stash blueprints and 10,000 KubeStash variables",
            both(
                twenty_thousand_stash
                    .into_iter()
                    .chain((0..10_000).map(|i| (format!("{KS_VARS}v{i}"), "x".to_string())))
                    .collect(),
            ),
        )
        .calls(0)
        .rejected(),
        ks_case("KubeStash name without namespace", name_only)
            .calls(0)
            .rejected(),
        ks_case("KubeStash name of 256 KiB, namespace of RLOs", huge_name)
            .calls(0)
            .rejected(),
        ks_workload(
            "KubeStash pinned variable with a conflicting annotation",
            var("namespace", "shop-b"),
        )
        .calls(0)
        .rejected(),
        ks_workload(
            "KubeStash pinned variable conflicting with 200 KiB of RLOs",
            var("targetName", &"\u{202e}x".repeat(50_000)),
        )
        .calls(0)
        .rejected(),
        ks_workload("KubeStash with 1,000 pinned variables", vec![])
            .settings(thousand_pins_settings)
            .accepted(),
        ks_workload(
            "KubeStash valuePattern on 100 values of 1,024 characters",
            (0..99)
                .map(|i| (format!("{KS_VARS}v{i}"), "a".repeat(1024)))
                .collect::<Vec<_>>(),
        )
        .settings(json!({"kubestash": {
            "pinnedVariables": {"namespace": "TARGET_NAMESPACE", "targetName": "TARGET_NAME"},
            "valuePattern": "^(a|aa)*b$"}}))
        .calls(0)
        .rejected(),
    ]
}

/// KubeStash blueprints built to hurt: thousands of sessions, backends, repositories; nesting.
fn kubestash_templates() -> Vec<Case> {
    let sessions = |count: usize, name: &dyn Fn(usize) -> String| {
        let sessions: Vec<Value> = (0..count)
            .map(|i| {
                ks_session(
                    &name(i),
                    vec![ks_repository(
                        &format!("r{i}-${{targetName}}"),
                        &format!("/${{namespace}}/{i}"),
                    )],
                )
            })
            .collect();
        let mut template = ks_template();
        template["sessions"] = Value::Array(sessions);
        template
    };
    let backends = |count: usize| {
        let backends: Vec<Value> = (0..count)
            .map(|i| ks_backend(&format!("b{i}"), &format!("storage-{i}"), &format!("retention-{i}")))
            .collect();
        let mut template = ks_template();
        template["backends"] = Value::Array(backends);
        template["sessions"][0]["repositories"][0]["backend"] = json!("b0");
        template
    };
    let repositories = |count: usize, directory: &dyn Fn(usize) -> String| {
        let repositories: Vec<Value> = (0..count)
            .map(|i| ks_repository(&format!("r{i}-${{targetName}}"), &directory(i)))
            .collect();
        let mut template = ks_template();
        template["sessions"][0]["repositories"] = Value::Array(repositories);
        template
    };
    let nested = |depth: usize| {
        let mut template = ks_template();
        // The blueprint document is `depth` levels deep: itself, spec, the template, sessions,
        // the session, addon, tasks, the task, params and its nesting.
        template["sessions"][0]["addon"]["tasks"][0]["params"] = nest(depth - 9, json!("${paths}"));
        template
    };
    let mut undefined = ks_template();
    undefined["sessions"][0]["addon"]["tasks"][0]["params"]["x"] =
        json!((0..10_000).map(|i| format!("${{u{i}}}")).collect::<String>());
    // 5,000 × "/var/lib/db": 55,000 bytes, under the 64 KiB of one substituted value.
    let mut many_uses = ks_template();
    many_uses["sessions"][0]["addon"]["tasks"][0]["params"]["x"] = json!("${paths}".repeat(5_000));
    let mut too_many_uses = ks_template();
    too_many_uses["sessions"][0]["addon"]["tasks"][0]["params"]["x"] = json!("${paths}".repeat(10_000));
    let one_chosen = {
        let mut annotations = ks_trigger("hostile", "backup");
        annotations.insert(KS_SESSIONS.into(), json!("s4999"));
        // More than 32 sessions: refused before anything is substituted.
        ks_case("KubeStash blueprint of 5,000 sessions, one chosen", annotations)
            .with(ks_blueprint(ks_all(), sessions(5_000, &|i| format!("s{i}"))))
            .calls(1)
    };
    let mut cases = vec![
        ks_hostile("KubeStash blueprint that resolves", ks_template()).accepted(),
        // More than 32 repositories: refused before any storage or Repository lookup.
        ks_hostile(
            "KubeStash blueprint of 5,000 sessions",
            sessions(5_000, &|i| format!("s{i}")),
        )
        .calls(1)
        .rejected(),
        one_chosen.rejected(),
        ks_hostile(
            "KubeStash blueprint of 5,000 sessions of one name",
            sessions(5_000, &|_| "daily".to_string()),
        )
        .calls(1)
        .rejected(),
        ks_hostile("KubeStash blueprint of 5,000 backends", backends(5_000))
            .calls(1)
            .rejected(),
        // At the limit, each storage object distinct and missing: all 16 are looked up.
        ks_hostile("KubeStash blueprint of 8 backends, none found", backends(8))
            .calls(1 + 16)
            .rejected(),
        ks_hostile(
            "KubeStash blueprint of 5,000 repositories of one directory",
            repositories(5_000, &|_| "/same".to_string()),
        )
        .calls(1)
        .rejected(),
        ks_hostile(
            "KubeStash blueprint of 5,000 repositories",
            repositories(5_000, &|i| format!("/${{namespace}}/{i}")),
        )
        .calls(1)
        .rejected(),
        // At the limit: every repository is looked up.
        ks_hostile(
            "KubeStash blueprint of 32 repositories",
            repositories(32, &|i| format!("/${{namespace}}/{i}")),
        )
        .calls(4 + 32)
        .accepted(),
        ks_hostile("KubeStash template with 10,000 undefined variables", undefined)
            .calls(1)
            .rejected(),
        ks_hostile("KubeStash template with 5,000 ${paths}", many_uses).accepted(),
        // Over 64 KiB once substituted.
        ks_hostile("KubeStash template with 10,000 ${paths}", too_many_uses)
            .calls(1)
            .rejected(),
    ];
    // A session is substituted alone, at most 64 levels of objects and arrays deep (the session
    // is the first): up to 69 levels of the blueprint resolve, 70 and 125 are refused with the
    // field's path; 1000 are beyond serde_json's 128 and the answer is unreadable.
    for depth in [69, 70, 125, 1000] {
        let built = ks_hostile(&format!("KubeStash blueprint nested {depth} levels"), nested(depth));
        cases.push(match depth <= 69 {
            true => built.accepted(),
            false => built.calls(1).rejected(),
        });
    }
    cases
}

/// Usage policies with huge selectors, on the blueprint and on the storage objects.
fn kubestash_usage() -> Vec<Case> {
    let invalid: Vec<Value> = (0..10_000)
        .map(|i| json!({"key": format!("k{i}\u{202e}"), "operator": "Bogus", "values": ["x"]}))
        .collect();
    let invalid = json!({"allowedNamespaces": {"from": "Selector", "selector": {"matchExpressions": invalid}}});
    let labels: Map<String, Value> = (0..10_000).map(|i| (format!("example.com/l{i}"), json!("v"))).collect();
    let labels = json!({"allowedNamespaces": {"from": "Selector", "selector": {"matchLabels": labels}}});
    let hostile_storage = |usage: Value| {
        let mut template = ks_template();
        template["backends"] = json!([ks_backend("gcs-backend", "hostile-storage", "hostile-retention")]);
        (
            template,
            ks_storage(
                "BackupStorage",
                "hostile-storage",
                usage.clone(),
                json!({"storage": {"provider": "gcs", "gcs": {"bucket": "b", "secretName": "gcs-secret"}},
                       "deletionPolicy": "WipeOut"}),
            ),
            ks_storage(
                "RetentionPolicy",
                "hostile-retention",
                usage,
                json!({"successfulSnapshots": {"last": 10}}),
            ),
        )
    };
    let usage_case = |name: &str, blueprint_usage: Value, storage_usage: Value| {
        let (template, storage, retention) = hostile_storage(storage_usage);
        ks_case(name, ks_trigger("hostile", "backup"))
            .with(ks_blueprint(blueprint_usage, template))
            .with(storage)
            .with(retention)
    };
    let wrong_retention = {
        let mut template = ks_template();
        template["backends"] = json!([ks_backend("gcs-backend", "gcs-storage", "hostile-retention")]);
        ks_case(
            "KubeStash RetentionPolicy of wrong types under minimumRetention",
            ks_trigger("hostile", "backup"),
        )
        .settings(json!({
                "kubestash": {"pinnedVariables": {"namespace": "TARGET_NAMESPACE", "targetName": "TARGET_NAME"}},
                "guardrails": {"minimumRetention": {"keepLast": 5, "keepDaily": 7, "keepHourly": 1, "keepWeekly": 1}}}))
        .with(ks_blueprint(ks_all(), template))
        .with(ks_storage(
            "RetentionPolicy",
            "hostile-retention",
            json!({"allowedNamespaces": {"from": "Same"}}),
            json!({"successfulSnapshots": {"last": -1, "daily": "30", "hourly": 1e300, "weekly": [7]}}),
        ))
        .calls(3)
        .rejected()
    };
    // Eight backends, each with its own BackupStorage and RetentionPolicy, each with a usage
    // policy of 1,000 requirements (160 KB): the most storage objects one target reads.
    let biggest_storage = storage_objects(
        "KubeStash 8 BackupStorages and 8 RetentionPolicies of 1,000-requirement selectors",
        8,
        1_000,
    );
    vec![
        // Each answer (167 KB) is over the 64 KiB the policy reads of a storage object.
        biggest_storage.rejected(),
        // A selector over 256 requirements and values is refused unread.
        ks_case(
            "KubeStash usagePolicy of 5,000 matchExpressions",
            ks_trigger("hostile", "backup"),
        )
        .with(ks_blueprint(huge_not_in(5_000, 20), ks_template()))
        .calls(1)
        .rejected(),
        ks_case(
            "KubeStash usagePolicy In 100,000 values",
            ks_trigger("hostile", "backup"),
        )
        .with(ks_blueprint(huge_in(100_000), ks_template()))
        .calls(2)
        .rejected(),
        ks_case(
            "KubeStash usagePolicy of 10,000 labels",
            ks_trigger("hostile", "backup"),
        )
        .with(ks_blueprint(labels, ks_template()))
        .calls(2)
        .rejected(),
        ks_case(
            "KubeStash usagePolicy of 10,000 invalid expressions",
            ks_trigger("hostile", "backup"),
        )
        .with(ks_blueprint(invalid, ks_template()))
        .calls(1)
        .rejected(),
        // Both Namespaces: the target's (the blueprint's selector), the BackupConfiguration's
        // (the storage objects' selectors).
        usage_case(
            "KubeStash blueprint, BackupStorage and RetentionPolicy of 5,000 matchExpressions",
            huge_not_in(5_000, 20),
            huge_not_in(5_000, 20),
        )
        .calls(1)
        .rejected(),
        usage_case(
            "KubeStash BackupStorage and RetentionPolicy In 100,000 values",
            ks_all(),
            huge_in(100_000),
        )
        .calls(5)
        .rejected(),
        wrong_retention,
    ]
}

/// StatefulSet shop-a/db on backup/hostile, whose template has `backends` backends, each with its
/// own BackupStorage and RetentionPolicy, each of those with a usage policy of `requirements`
/// `NotIn` requirements of 20 values (160 bytes each: 9,000 make 1.4 MB, under etcd's 1.5 MiB).
pub fn storage_objects(name: &str, backends: usize, requirements: usize) -> Builder {
    let list: Vec<Value> = (0..backends)
        .map(|i| ks_backend(&format!("b{i}"), &format!("storage-{i}"), &format!("retention-{i}")))
        .collect();
    let mut template = ks_template();
    template["backends"] = Value::Array(list);
    template["sessions"][0]["repositories"][0]["backend"] = json!("b0");
    let mut built = ks_case(name, ks_trigger("hostile", "backup")).with(ks_blueprint(ks_all(), template));
    for i in 0..backends {
        built = built
            .with(ks_storage(
                "BackupStorage",
                &format!("storage-{i}"),
                huge_not_in(requirements, 20),
                json!({"storage": {"provider": "gcs", "gcs": {"bucket": "b", "secretName": "s"}}}),
            ))
            .with(ks_storage(
                "RetentionPolicy",
                &format!("retention-{i}"),
                huge_not_in(requirements, 20),
                json!({"successfulSnapshots": {"last": 10}}),
            ));
    }
    // The blueprint, the storage objects, the BackupConfiguration's Namespace (their
    // selectors), the BackupConfiguration and the Repository.
    built.calls(1 + 2 * backends + 3)
}

/// `storage_objects` at etcd's size limit, for 1 to 8 backends: each answer is over the 64 KiB
/// the policy reads of a storage object, so none is parsed; a lookup error each (rejected).
pub fn storage_objects_at_the_limit() -> Vec<Case> {
    [1, 2, 3, 4, 8]
        .into_iter()
        .map(|backends| {
            storage_objects(
                &format!("KubeStash {backends} BackupStorages and RetentionPolicies of 1.4 MB selectors"),
                backends,
                9_000,
            )
            .rejected()
        })
        .collect()
}
