//! The whole `policy::evaluate_at` over a `MemoryCluster`, on a fixed day.
//!
//! Input, either
//! - a JSON bundle `{"operation", "namespace", "object", "settings", "cluster": [...]}` (the
//!   seeds: e2e scenarios and conformance cases, see fuzz/build_corpus.py), or
//! - anything else, read with `arbitrary` as a target object, its annotations, a few
//!   BackupBlueprints, Secrets, Namespaces, existing Repositories and BackupConfigurations, and
//!   settings, all built from a small vocabulary of names and `${TARGET_*}` expressions so that
//!   the fuzzer gets past the annotation syntax into resolution, checks and emission; and for
//!   KubeStash (SPEC §11) its trigger, session names and variables, namespaced
//!   BackupBlueprints with usage policies, backends, sessions and repositories, BackupStorages,
//!   RetentionPolicies, existing KubeStash Repositories and BackupConfigurations, and the
//!   `kubestash` settings.
//!
//! Checks: no panic; a rejection or warning is at most 4 KiB; the host calls stay within the
//! host-call budget of the target's generation (Stash: ≤ 1 Namespace + 16 × (1 BackupBlueprint +
//! 1 Secret + 2 collision lookups); KubeStash: ≤ 2 Namespaces + 1 BackupBlueprint + 8
//! BackupStorages + 8 RetentionPolicies + 32 Repositories + 1 BackupConfiguration) and none is
//! made twice; the answer is written as serde_json writes it; a mutated object evaluated again
//! as an UPDATE is accepted as it is.
//!
//! `FUZZ_DUMP=1` prints each case as a JSON bundle, then its decision and host calls.
#![no_main]

mod common;

use arbitrary::{Arbitrary, Unstructured};
use backup_blueprint_policy::evaluation::policy::{Admission, Decision, evaluate_at};
use backup_blueprint_policy::lookups::MemoryCluster;
use backup_blueprint_policy::settings::{self, Settings};
use backup_blueprint_policy::support::civil_date::{Date, FixedClock};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    let case = match data.first() {
        Some(b'{') => match Case::from_bundle(data) {
            Some(case) => case,
            None => return,
        },
        _ => match Input::arbitrary_take_rest(Unstructured::new(data)) {
            Ok(input) => input.case(),
            Err(_) => return,
        },
    };
    case.run();
});

/// One admission against one cluster.
struct Case {
    operation: String,
    namespace: String,
    object: String,
    settings: Settings,
    /// The settings as given (null for the defaults).
    settings_json: Value,
    cluster: Vec<Value>,
    failure: Option<String>,
}

impl Case {
    fn from_bundle(data: &[u8]) -> Option<Case> {
        let bundle: Value = serde_json::from_slice(data).ok()?;
        let text = |key: &str, default: &str| bundle.get(key).and_then(Value::as_str).unwrap_or(default).to_string();
        let settings_json = bundle.get("settings").cloned().unwrap_or(Value::Null);
        let settings = settings::parse(settings_json.to_string().as_bytes()).ok()?;
        let object = match bundle.get("object")? {
            Value::String(text) => text.clone(),
            value => value.to_string(),
        };
        Some(Case {
            operation: text("operation", "CREATE"),
            namespace: text("namespace", "default"),
            object,
            settings,
            settings_json,
            cluster: bundle
                .get("cluster")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            failure: bundle.get("failure").and_then(Value::as_str).map(str::to_string),
        })
    }

    fn cluster(&self) -> MemoryCluster {
        let mut cluster = MemoryCluster::new(self.cluster.clone());
        cluster.failure = self.failure.clone();
        cluster
    }

    /// The case as a JSON bundle (the seed format), which a test can read with the policy's
    /// own types: `FUZZ_DUMP=1 target/…/evaluate artifacts/evaluate/crash-…` prints it.
    fn bundle(&self) -> Value {
        json!({"operation": self.operation, "namespace": self.namespace, "object": self.object,
            "settings": self.settings_json, "cluster": self.cluster, "failure": self.failure})
    }

    fn run(&self) {
        static DUMP: OnceLock<bool> = OnceLock::new();
        let dump = *DUMP.get_or_init(|| std::env::var_os("FUZZ_DUMP").is_some());
        if dump {
            eprintln!("{}", self.bundle());
        }
        let clock = FixedClock(Date::parse("2027-01-15").unwrap());
        let cluster = self.cluster();
        // policy-server hands the policy parsed JSON: text that is not JSON never reaches it.
        let Ok(object) = serde_json::from_str::<Value>(&self.object) else {
            return;
        };
        let admission = Admission {
            operation: &self.operation,
            namespace: &self.namespace,
            object,
            old_object: None,
        };
        let outcome = evaluate_at(admission, &self.settings, &cluster, &clock);
        common::check_outcome(&outcome, &cluster.calls.borrow());
        if dump {
            let calls = cluster.calls.borrow();
            let decision = match &outcome.decision {
                Decision::Accept => "accept",
                Decision::Mutate(_) => "mutate",
                Decision::Reject(_) => "reject",
            };
            eprintln!(
                "decision: {decision}, {} host calls, {} warnings; calls: {}",
                calls.len(),
                outcome.warnings.len(),
                calls.join(", ")
            );
        }
        let Decision::Mutate(mutated) = &outcome.decision else {
            return;
        };
        // Idempotence: the mutated object, sent again as an UPDATE, needs no further change.
        let again = mutated.to_string();
        let cluster = self.cluster();
        let admission = Admission {
            operation: "UPDATE",
            namespace: &self.namespace,
            object: mutated.clone(),
            old_object: None,
        };
        let second = evaluate_at(admission, &self.settings, &cluster, &clock);
        common::check_outcome(&second, &cluster.calls.borrow());
        assert!(
            second.decision == Decision::Accept,
            "the mutated object is not accepted as it is: {:?}\nfirst object: {}\nmutated: {again}",
            second.decision,
            self.object
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The structured input
// ---------------------------------------------------------------------------------------------

/// Pieces text is made of: names the policy and the fixtures use, separators, expressions.
const WORDS: &[&str] = &[
    "web",
    "demo",
    "backup",
    "data",
    "db",
    "gcs-daily",
    "db-daily",
    "gold-hourly",
    "team-a-web",
    "shared-gcs",
    "gcs-secret",
    "/data",
    "/var/lib",
    "data:/data",
    ":",
    ",",
    "/",
    "-",
    ".",
    "..",
    " ",
    "*",
    "?",
    "=",
    "${TARGET_NAME}",
    "${TARGET_NAMESPACE}",
    "${TARGET_KIND}",
    "${TARGET_API_VERSION}",
    "${TARGET_RESOURCE}",
    "${TARGET_APP_RESOURCE}",
    "${TARGET_APP_VERSION}",
    "${TARGET_APP_TYPE}",
    "${TARGET_APP_GROUP}",
    "${TEAM}",
    "${TARGET_NAME:-x}",
    "${TARGET_NAME/e/E}",
    "${TARGET_NAME##*-}",
    "${TARGET_NAME:0:3}",
    "${TARGET_NAME^^}",
    "${",
    "}",
    "$$",
    "${TEAM:=${TARGET_NAME}}",
    "*/5 * * * *",
    "@daily",
    "@hourly",
    "@every 90m",
    "0 0 31 2 *",
    "0 3 * * 1",
    "CRON_TZ=UTC ",
    "TZ=Europe/Berlin ",
    "true",
    "false",
    "2027-01-20",
    "2026-01-01",
    "keep-last-5",
    "deploy-web",
    "sts-web",
    "demo-deploy-web",
    "deploy-web-gcs-daily",
    "pvc-data",
    "postgres",
    "kubedb.com/postgres",
    "11.11",
    "a",
    "é",
    "\u{0}",
    "\u{202e}",
    // KubeStash: its variables, the e2e cluster's names, JSON that a value would inject.
    "${namespace}",
    "${targetName}",
    "${paths}",
    "${namespace}-${targetName}",
    "/${namespace}/${targetName}",
    "shop-a",
    "workload-backup",
    "gcs-storage",
    "keep-30-days",
    "gcs-backend",
    "daily",
    "default-blueprint",
    "statefulset-db",
    "backup/workload-backup",
    "backup/*",
    "r\",\"deletionPolicy\":\"WipeOut",
    "\\",
    "\"",
    "\n",
];

#[derive(Arbitrary, Debug)]
enum Token {
    Word(u8),
    Raw(String),
}

/// Text built from tokens: mostly vocabulary, sometimes anything.
#[derive(Arbitrary, Debug)]
struct Text(Vec<Token>);

impl Text {
    fn render(&self) -> String {
        self.0
            .iter()
            .map(|t| match t {
                Token::Word(i) => WORDS[*i as usize % WORDS.len()].to_string(),
                Token::Raw(s) => s.clone(),
            })
            .collect()
    }
}

/// A name: usually one of a few, so that annotations, blueprints and the cluster agree.
#[derive(Arbitrary, Debug)]
enum Name {
    Known(u8),
    /// `bp-0` … `bp-23`: enough distinct blueprints to reach and pass the limit of 16.
    Numbered(u8),
    Text(Text),
}

const NAMES: &[&str] = &[
    "web",
    "backup/workload-backup",
    "gcs-daily",
    "db-daily",
    "gold-hourly",
    "team-a-web",
    "shared-gcs",
    "gcs-secret",
];
const NAMESPACES: &[&str] = &["demo", "backup", "team-a", "prod-1", "default", "shop-a"];
/// KubeStash blueprint, storage and session names, and the variables its blueprints use.
const KS_BLUEPRINTS: &[&str] = &["workload-backup", "postgres-default-backup-blueprint", "gcs-daily"];
const KS_STORAGES: &[&str] = &["gcs-storage", "keep-30-days", "s3-storage"];
const KS_BACKENDS: &[&str] = &["gcs-backend", "s3-backend"];
const KS_SESSIONS: &[&str] = &["daily", "frequent-backup", "weekly"];
const KS_VARIABLES: &[&str] = &["namespace", "targetName", "paths", "repo-name"];

impl Name {
    fn render(&self, names: &[&str]) -> String {
        match self {
            Name::Known(i) => names[*i as usize % names.len()].to_string(),
            Name::Numbered(i) => format!("bp-{}", i % 24),
            Name::Text(text) => text.render(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Kind {
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet { owned: bool },
    PersistentVolumeClaim,
    AppBinding { app_type: Text, version: Text },
    Postgres { version: Text, kubedb_v1: bool },
    ConfigMap,
}

#[derive(Arbitrary, Debug)]
enum AnnotationKey {
    /// One of common::KEYS, followed by a suffix for the prefixes.
    Known(u8, Option<Name>),
    Other(Text),
}

#[derive(Arbitrary, Debug)]
struct Volume {
    name: Name,
    persistent: bool,
    /// Mounted by a container at this path, with this subPath.
    mount: Option<(Text, Option<Text>)>,
}

#[derive(Arbitrary, Debug)]
enum Provider {
    Gcs,
    S3,
    Azure,
    Local { mount_path: Text },
    B2,
    Rest,
    Two,
    None,
    Other(Text),
}

#[derive(Arbitrary, Debug)]
struct Retention {
    name: Option<Text>,
    keep_last: Option<u8>,
    keep_daily: Option<u8>,
    keep_weekly: Option<i16>,
    prune: Option<bool>,
    dry_run: Option<bool>,
}

#[derive(Arbitrary, Debug)]
struct Blueprint {
    name: Name,
    provider: Provider,
    bucket: Text,
    prefix: Text,
    storage_secret: Option<Name>,
    backup_namespace: Option<Text>,
    schedule: Option<Text>,
    retention: Option<Retention>,
    task: Option<(Text, Vec<(Text, Text)>)>,
    wipe_out: Option<bool>,
    extra: Vec<(Text, Text)>,
}

#[derive(Arbitrary, Debug)]
enum Owner {
    None,
    This,
    Other(Text),
}

#[derive(Arbitrary, Debug)]
struct Existing {
    repository: bool,
    namespace: Name,
    name: Text,
    owner: Owner,
}

/// The metadata of an object that exists already: its place, and the target it records (this
/// one, another, or none).
fn existing_metadata(name: &Text, namespace: &Name, owner: &Owner, target_id: &str) -> Value {
    let mut metadata = json!({"name": name.render(), "namespace": namespace.render(NAMESPACES)});
    match owner {
        Owner::None => {}
        Owner::This => metadata["annotations"] = json!({"autobackup.kubewarden.io/target": target_id}),
        Owner::Other(text) => metadata["annotations"] = json!({"autobackup.kubewarden.io/target": text.render()}),
    }
    metadata
}

#[derive(Arbitrary, Debug)]
enum Check {
    Reject,
    Warn,
    Skip,
}

#[derive(Arbitrary, Debug)]
struct Rule {
    blueprints: Vec<Name>,
    namespaces: Vec<Text>,
    selector: Option<(Text, Text)>,
    kinds: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
struct SettingsInput {
    emit_resolved_objects: Option<bool>,
    storage_secret_check: Option<Check>,
    collision_check: Option<Check>,
    accept_on_lookup_error: bool,
    allowed_variables: Vec<Text>,
    value_pattern: Option<Text>,
    access: Vec<Rule>,
    require: Option<(Rule, bool)>,
    defaults: Vec<Rule>,
    minimum_frequency: Option<Text>,
    minimum_retention: Option<(Option<u8>, Option<u8>)>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    update: bool,
    stored: bool,
    uid: bool,
    deleting: bool,
    kind: Kind,
    name: Name,
    namespace: Name,
    annotations: Vec<(AnnotationKey, Text)>,
    /// The backup-blueprint annotation as a list of names, when given.
    blueprint_list: Option<Vec<Name>>,
    volumes: Vec<Volume>,
    blueprints: Vec<Blueprint>,
    secrets: Vec<(Name, Name)>,
    namespace_labels: Vec<(Name, Text, Text)>,
    existing: Vec<Existing>,
    settings: SettingsInput,
    failure: Option<Text>,
    kubestash: KubeStashInput,
}

/// KubeStash's side of a case: the trigger and its annotations, and the cluster's objects. Its
/// parts are arranged so that few bytes (arbitrary reads zeros past the end: the first variant,
/// `None`, `false`, an empty list) make a target that resolves: a trigger on `demo/workload-backup`
/// when the target has no Stash trigger, and without other blueprints a blueprint
/// `demo/workload-backup` with one backend on `gcs-storage` and one session with one repository.
#[derive(Arbitrary, Debug)]
struct KubeStashInput {
    trigger: KsTrigger,
    session_names: Option<Vec<Name>>,
    variables: Vec<(Name, Text)>,
    blueprints: Vec<KsBlueprint>,
    storages: Vec<KsStorage>,
    existing: Vec<KsExisting>,
    pinned: Vec<(Name, u8)>,
    value_pattern: Option<Text>,
}

/// `blueprint.kubestash.com/{name,namespace}`.
#[derive(Arbitrary, Debug)]
enum KsTrigger {
    /// Both, unless the target has Stash's trigger.
    Auto(Name, Name),
    /// Both, whatever Stash's.
    Always(Name, Name),
    Absent,
    NameOnly(Name),
    NamespaceOnly(Name),
}

#[derive(Arbitrary, Debug)]
enum UsagePolicy {
    Absent,
    All,
    Same,
    /// `matchLabels` and `matchExpressions` (key, operator index, values).
    Selector(Vec<(Text, Text)>, Vec<(Text, u8, Vec<Text>)>),
    Other(Text),
}

/// A backend: `storageRef` is `gcs-storage` in the blueprint's namespace unless given, or left
/// out with `no_storage`.
#[derive(Arbitrary, Debug)]
struct KsBackend {
    name: Name,
    storage: Option<(Name, Option<Name>)>,
    no_storage: bool,
    retention: Option<(Name, Option<Name>)>,
}

/// A repository: `default-blueprint` in `/default-blueprint` unless given.
#[derive(Arbitrary, Debug)]
struct KsRepository {
    name: Option<Text>,
    backend: Name,
    directory: Option<Text>,
}

/// A task: its name and params.
type KsTask = (Text, Vec<(Text, Text)>);

/// A session: scheduled `0 3 * * *`, addon `workload-addon` with task `logical-backup`, one
/// repository, unless given (or left out with the flags).
#[derive(Arbitrary, Debug)]
struct KsSession {
    name: Name,
    schedule: Option<Text>,
    no_scheduler: bool,
    /// The addon's name and its tasks' names and params.
    addon: Option<(Text, Vec<KsTask>)>,
    no_addon: bool,
    repositories: Vec<KsRepository>,
    no_repositories: bool,
}

#[derive(Arbitrary, Debug)]
struct KsBlueprint {
    name: Name,
    namespace: Name,
    usage: UsagePolicy,
    template_namespace: Option<Text>,
    backends: Vec<KsBackend>,
    sessions: Vec<KsSession>,
    deletion_policy: Option<Text>,
}

/// A BackupStorage, or a RetentionPolicy when `retention`; besides these, the cluster always has
/// BackupStorage `gcs-storage` and RetentionPolicy `keep-30-days` in the blueprints' namespaces,
/// usable from every namespace.
#[derive(Arbitrary, Debug)]
struct KsStorage {
    retention: bool,
    name: Name,
    namespace: Name,
    usage: UsagePolicy,
    last: Option<i16>,
    daily: Option<u8>,
}

/// An existing KubeStash Repository, or BackupConfiguration when not `repository`.
#[derive(Arbitrary, Debug)]
struct KsExisting {
    repository: bool,
    namespace: Name,
    name: Text,
    /// `spec.appRef` / `spec.target` names this target.
    this_target: bool,
    owner: Owner,
    storage: Option<Name>,
}

const KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "PersistentVolumeClaim",
    "AppBinding",
    "Postgres",
];

impl Input {
    fn case(&self) -> Case {
        let name = self.name.render(NAMES);
        let namespace = self.namespace.render(NAMESPACES);
        let (api_version, kind, spec) = self.kind_and_spec();
        let mut annotations = Map::new();
        for (key, value) in &self.annotations {
            let key = match key {
                AnnotationKey::Known(i, suffix) => {
                    let suffix = suffix
                        .as_ref()
                        .map(|s| s.render(&["TEAM", "args", "X", "namespace", "targetName"]))
                        .unwrap_or_default();
                    format!("{}{suffix}", common::KEYS[*i as usize % common::KEYS.len()])
                }
                AnnotationKey::Other(text) => text.render(),
            };
            annotations.insert(key, Value::String(value.render()));
        }
        if let Some(list) = &self.blueprint_list {
            let names: Vec<String> = list.iter().map(|n| n.render(NAMES)).collect();
            annotations.insert(common::KEYS[0].into(), Value::String(names.join(",")));
        }
        self.kubestash.annotate(&mut annotations);
        let mut metadata = json!({"name": name, "namespace": namespace, "annotations": annotations});
        if self.uid {
            metadata["uid"] = json!("0b5e2d5c-1111-2222-3333-444455556666");
        }
        if self.stored {
            metadata["resourceVersion"] = json!("12345");
        }
        if self.deleting {
            metadata["deletionTimestamp"] = json!("2027-01-15T00:00:00Z");
        }
        if let Kind::ReplicaSet { owned: true } = self.kind {
            metadata["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": name}]);
        }
        if let Kind::AppBinding { .. } = self.kind {
            metadata["ownerReferences"] = json!([{"apiVersion": "kubedb.com/v1", "kind": "Postgres", "name": name}]);
        }
        let object = json!({"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec});
        let target_id = format!("{api_version}/{kind}/{namespace}/{name}");

        let mut cluster = Vec::new();
        for blueprint in &self.blueprints {
            cluster.push(blueprint.object());
        }
        for (namespace, name) in &self.secrets {
            cluster.push(json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": name.render(NAMES), "namespace": namespace.render(NAMESPACES)}}));
        }
        for (namespace, key, value) in &self.namespace_labels {
            cluster.push(json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": namespace.render(NAMESPACES), "labels": {key.render(): value.render()}}}));
        }
        for existing in &self.existing {
            let (api_version, kind) = match existing.repository {
                true => ("stash.appscode.com/v1alpha1", "Repository"),
                false => ("stash.appscode.com/v1beta1", "BackupConfiguration"),
            };
            let metadata = existing_metadata(&existing.name, &existing.namespace, &existing.owner, &target_id);
            cluster.push(json!({"apiVersion": api_version, "kind": kind, "metadata": metadata}));
        }
        self.kubestash
            .objects(&mut cluster, api_version, kind, &name, &namespace, &target_id);
        let mut settings_json = self.settings.json();
        self.kubestash.settings(&mut settings_json);
        let settings = match settings::parse(settings_json.to_string().as_bytes()) {
            Ok(settings) => settings,
            Err(_) => {
                settings_json = Value::Null;
                Settings::default()
            }
        };
        Case {
            operation: if self.update { "UPDATE" } else { "CREATE" }.to_string(),
            namespace,
            object: object.to_string(),
            settings,
            settings_json,
            cluster,
            failure: self.failure.as_ref().map(Text::render),
        }
    }

    fn kind_and_spec(&self) -> (&'static str, &'static str, Value) {
        let mut volumes = Vec::new();
        let mut mounts = Vec::new();
        let mut claims = Vec::new();
        for volume in &self.volumes {
            let name = volume.name.render(&["data", "cache", "db"]);
            match volume.persistent {
                true => {
                    volumes.push(json!({"name": name, "persistentVolumeClaim": {"claimName": format!("{name}-pvc")}}))
                }
                false => volumes.push(json!({"name": name, "emptyDir": {}})),
            }
            if volume.persistent {
                claims.push(json!({"metadata": {"name": name}, "spec": {"accessModes": ["ReadWriteOnce"]}}));
            }
            if let Some((path, sub_path)) = &volume.mount {
                let mut mount = json!({"name": name, "mountPath": path.render()});
                if let Some(sub_path) = sub_path {
                    mount["subPath"] = json!(sub_path.render());
                }
                mounts.push(mount);
            }
        }
        let template = json!({"spec": {"containers": [{"name": "app", "image": "nginx", "volumeMounts": mounts}], "volumes": volumes}});
        match &self.kind {
            Kind::Deployment => ("apps/v1", "Deployment", json!({"template": template})),
            Kind::StatefulSet => (
                "apps/v1",
                "StatefulSet",
                json!({"template": template, "volumeClaimTemplates": claims}),
            ),
            Kind::DaemonSet => ("apps/v1", "DaemonSet", json!({"template": template})),
            Kind::ReplicaSet { .. } => ("apps/v1", "ReplicaSet", json!({"template": template})),
            Kind::PersistentVolumeClaim => ("v1", "PersistentVolumeClaim", json!({"accessModes": ["ReadWriteOnce"]})),
            Kind::AppBinding { app_type, version } => (
                "appcatalog.appscode.com/v1alpha1",
                "AppBinding",
                json!({"type": app_type.render(), "version": version.render()}),
            ),
            Kind::Postgres { version, kubedb_v1 } => (
                if *kubedb_v1 {
                    "kubedb.com/v1"
                } else {
                    "kubedb.com/v1alpha2"
                },
                "Postgres",
                json!({"version": version.render()}),
            ),
            Kind::ConfigMap => ("v1", "ConfigMap", Value::Null),
        }
    }
}

impl Blueprint {
    fn object(&self) -> Value {
        let mut backend = Map::new();
        let bucket = json!({"bucket": self.bucket.render(), "prefix": self.prefix.render()});
        match &self.provider {
            Provider::Gcs => {
                backend.insert("gcs".into(), bucket);
            }
            Provider::S3 => {
                backend.insert("s3".into(), json!({"endpoint": "s3.amazonaws.com", "bucket": self.bucket.render(), "prefix": self.prefix.render()}));
            }
            Provider::Azure => {
                backend.insert(
                    "azure".into(),
                    json!({"container": self.bucket.render(), "prefix": self.prefix.render()}),
                );
            }
            Provider::Local { mount_path } => {
                backend.insert(
                "local".into(),
                json!({"mountPath": mount_path.render(), "subPath": self.prefix.render(), "hostPath": {"path": "/backup"}}),
            );
            }
            Provider::B2 => {
                backend.insert("b2".into(), bucket);
            }
            Provider::Rest => {
                backend.insert("rest".into(), json!({"url": self.bucket.render()}));
            }
            Provider::Two => {
                backend.insert("gcs".into(), bucket.clone());
                backend.insert("s3".into(), bucket);
            }
            Provider::None => {}
            Provider::Other(name) => {
                backend.insert(name.render(), bucket);
            }
        }
        if let Some(secret) = &self.storage_secret {
            backend.insert("storageSecretName".into(), json!(secret.render(NAMES)));
        }
        let mut spec = json!({"backend": backend});
        if let Some(namespace) = &self.backup_namespace {
            spec["backupNamespace"] = json!(namespace.render());
        }
        if let Some(schedule) = &self.schedule {
            spec["schedule"] = json!(schedule.render());
        }
        if let Some(retention) = &self.retention {
            let mut policy = Map::new();
            if let Some(name) = &retention.name {
                policy.insert("name".into(), json!(name.render()));
            }
            let mut number = |key: &str, value: Option<i64>| {
                if let Some(value) = value {
                    policy.insert(key.into(), json!(value));
                }
            };
            number("keepLast", retention.keep_last.map(i64::from));
            number("keepDaily", retention.keep_daily.map(i64::from));
            number("keepWeekly", retention.keep_weekly.map(i64::from));
            if let Some(prune) = retention.prune {
                policy.insert("prune".into(), json!(prune));
            }
            if let Some(dry_run) = retention.dry_run {
                policy.insert("dryRun".into(), json!(dry_run));
            }
            spec["retentionPolicy"] = Value::Object(policy);
        }
        if let Some((name, params)) = &self.task {
            let params: Vec<Value> = params
                .iter()
                .map(|(n, v)| json!({"name": n.render(), "value": v.render()}))
                .collect();
            spec["task"] = json!({"name": name.render(), "params": params});
        }
        if let Some(wipe_out) = self.wipe_out {
            spec["wipeOut"] = json!(wipe_out);
        }
        for (key, value) in &self.extra {
            spec[key.render()] = json!(value.render());
        }
        json!({"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupBlueprint",
            "metadata": {"name": self.name.render(NAMES)}, "spec": spec})
    }
}

impl Check {
    fn json(&self) -> Value {
        json!(match self {
            Check::Reject => "reject",
            Check::Warn => "warn",
            Check::Skip => "skip",
        })
    }
}

impl Rule {
    fn matching(&self, rule: &mut Map<String, Value>) {
        if !self.namespaces.is_empty() {
            rule.insert(
                "namespaces".into(),
                self.namespaces.iter().map(|n| json!(n.render())).collect(),
            );
        }
        if let Some((key, value)) = &self.selector {
            rule.insert(
                "namespaceSelector".into(),
                json!({"matchLabels": {key.render(): value.render()}}),
            );
        }
    }

    fn kinds(&self) -> Value {
        self.kinds
            .iter()
            .map(|k| json!(KINDS[*k as usize % KINDS.len()]))
            .collect()
    }
}

impl SettingsInput {
    fn json(&self) -> Value {
        let mut settings = Map::new();
        if let Some(emit) = self.emit_resolved_objects {
            settings.insert("emitResolvedObjects".into(), json!(emit));
        }
        if let Some(check) = &self.storage_secret_check {
            settings.insert("storageSecretCheck".into(), check.json());
        }
        if let Some(check) = &self.collision_check {
            settings.insert("collisionCheck".into(), check.json());
        }
        if self.accept_on_lookup_error {
            settings.insert("onLookupError".into(), json!("accept"));
        }
        let mut variables = Map::new();
        variables.insert(
            "allowed".into(),
            self.allowed_variables.iter().map(|v| json!(v.render())).collect(),
        );
        if let Some(pattern) = &self.value_pattern {
            variables.insert("valuePattern".into(), json!(pattern.render()));
        }
        settings.insert("customVariables".into(), Value::Object(variables));
        if !self.access.is_empty() {
            let rules: Vec<Value> = self
                .access
                .iter()
                .map(|rule| {
                    let mut object = Map::new();
                    let globs: Vec<Value> = rule.blueprints.iter().map(|b| json!(b.render(NAMES))).collect();
                    object.insert("blueprints".into(), Value::Array(globs));
                    rule.matching(&mut object);
                    Value::Object(object)
                })
                .collect();
            settings.insert("blueprintAccess".into(), Value::Array(rules));
        }
        if let Some((rule, allow_opt_out)) = &self.require {
            let mut object = Map::new();
            object.insert("kinds".into(), rule.kinds());
            object.insert("allowOptOut".into(), json!(allow_opt_out));
            rule.matching(&mut object);
            settings.insert("requireBackup".into(), Value::Object(object));
        }
        if !self.defaults.is_empty() {
            let rules: Vec<Value> = self
                .defaults
                .iter()
                .map(|rule| {
                    let mut object = Map::new();
                    object.insert("kinds".into(), rule.kinds());
                    let blueprint = rule
                        .blueprints
                        .first()
                        .map_or("gcs-daily".to_string(), |b| b.render(NAMES));
                    object.insert("blueprint".into(), json!(blueprint));
                    rule.matching(&mut object);
                    Value::Object(object)
                })
                .collect();
            settings.insert("defaultBlueprints".into(), Value::Array(rules));
        }
        let mut guardrails = Map::new();
        if let Some(frequency) = &self.minimum_frequency {
            guardrails.insert("minimumFrequency".into(), json!(frequency.render()));
        }
        if let Some((keep_last, keep_daily)) = self.minimum_retention {
            let mut retention = Map::new();
            if let Some(n) = keep_last {
                retention.insert("keepLast".into(), json!(n));
            }
            if let Some(n) = keep_daily {
                retention.insert("keepDaily".into(), json!(n));
            }
            guardrails.insert("minimumRetention".into(), Value::Object(retention));
        }
        if !guardrails.is_empty() {
            settings.insert("guardrails".into(), Value::Object(guardrails));
        }
        Value::Object(settings)
    }
}

// ---------------------------------------------------------------------------------------------
// KubeStash
// ---------------------------------------------------------------------------------------------

const OPERATORS: &[&str] = &["In", "NotIn", "Exists", "DoesNotExist", "Bogus"];
const FACTS: &[&str] = &[
    "TARGET_NAMESPACE",
    "TARGET_NAME",
    "TARGET_KIND",
    "TARGET_APP_RESOURCE",
    "TARGET_APP_VERSION",
    "TARGET_OTHER",
];

impl UsagePolicy {
    fn json(&self) -> Option<Value> {
        let from = |from: &str| json!({"allowedNamespaces": {"from": from}});
        Some(match self {
            UsagePolicy::Absent => return None,
            UsagePolicy::All => from("All"),
            UsagePolicy::Same => from("Same"),
            UsagePolicy::Selector(labels, expressions) => {
                let labels: Map<String, Value> = labels.iter().map(|(k, v)| (k.render(), json!(v.render()))).collect();
                let expressions: Vec<Value> = expressions
                    .iter()
                    .map(|(key, operator, values)| {
                        let values: Vec<String> = values.iter().map(Text::render).collect();
                        json!({"key": key.render(), "operator": OPERATORS[*operator as usize % OPERATORS.len()],
                            "values": values})
                    })
                    .collect();
                json!({"allowedNamespaces": {"from": "Selector",
                    "selector": {"matchLabels": labels, "matchExpressions": expressions}}})
            }
            UsagePolicy::Other(text) => from(&text.render()),
        })
    }
}

fn object_name(reference: &(Name, Option<Name>), names: &[&str]) -> Value {
    let (name, namespace) = reference;
    match namespace {
        Some(namespace) => json!({"name": name.render(names), "namespace": namespace.render(NAMESPACES)}),
        None => json!({"name": name.render(names)}),
    }
}

impl KsBlueprint {
    fn object(&self) -> Value {
        let mut backends: Vec<Value> = self
            .backends
            .iter()
            .map(|backend| {
                let mut value = json!({"name": backend.name.render(KS_BACKENDS)});
                match &backend.storage {
                    _ if backend.no_storage => {}
                    Some(storage) => value["storageRef"] = object_name(storage, KS_STORAGES),
                    None => value["storageRef"] = json!({"name": KS_STORAGES[0]}),
                }
                if let Some(retention) = &backend.retention {
                    value["retentionPolicy"] = object_name(retention, KS_STORAGES);
                }
                value
            })
            .collect();
        if backends.is_empty() {
            backends.push(json!({"name": KS_BACKENDS[0], "storageRef": {"name": KS_STORAGES[0]}}));
        }
        let mut sessions: Vec<Value> = self.sessions.iter().map(KsSession::json).collect();
        if sessions.is_empty() {
            sessions.push(KsSession::default_json());
        }
        let mut template = json!({"backends": backends, "sessions": sessions});
        if let Some(namespace) = &self.template_namespace {
            template["namespace"] = json!(namespace.render());
        }
        if let Some(policy) = &self.deletion_policy {
            template["deletionPolicy"] = json!(policy.render());
        }
        let mut spec = json!({"backupConfigurationTemplate": template});
        if let Some(usage) = self.usage.json() {
            spec["usagePolicy"] = usage;
        }
        json!({"apiVersion": "core.kubestash.com/v1alpha1", "kind": "BackupBlueprint",
            "metadata": {"name": self.name.render(KS_BLUEPRINTS), "namespace": self.namespace.render(NAMESPACES)},
            "spec": spec})
    }
}

impl KsSession {
    fn default_json() -> Value {
        KsSession {
            name: Name::Known(0),
            schedule: None,
            no_scheduler: false,
            addon: None,
            no_addon: false,
            repositories: Vec::new(),
            no_repositories: false,
        }
        .json()
    }

    fn json(&self) -> Value {
        let mut repositories: Vec<Value> = self
            .repositories
            .iter()
            .map(|r| {
                let name = r.name.as_ref().map_or("default-blueprint".to_string(), Text::render);
                let directory = r
                    .directory
                    .as_ref()
                    .map_or("/default-blueprint".to_string(), Text::render);
                json!({"name": name, "backend": r.backend.render(KS_BACKENDS),
                    "directory": directory, "encryptionSecret": {"name": "encrypt-secret"}})
            })
            .collect();
        if repositories.is_empty() && !self.no_repositories {
            repositories.push(json!({"name": "default-blueprint", "backend": KS_BACKENDS[0],
                "directory": "/default-blueprint", "encryptionSecret": {"name": "encrypt-secret"}}));
        }
        let mut session = json!({"name": self.name.render(KS_SESSIONS), "repositories": repositories});
        if !self.no_scheduler {
            let schedule = self.schedule.as_ref().map_or("0 3 * * *".to_string(), Text::render);
            session["scheduler"] = json!({"schedule": schedule, "jobTemplate": {"backoffLimit": 1}});
        }
        if self.addon.is_none() && !self.no_addon {
            session["addon"] = json!({"name": "workload-addon", "tasks": [{"name": "logical-backup"}]});
        }
        if let Some((name, tasks)) = &self.addon {
            let tasks: Vec<Value> = tasks
                .iter()
                .map(|(name, params)| {
                    let params: Map<String, Value> =
                        params.iter().map(|(k, v)| (k.render(), json!(v.render()))).collect();
                    json!({"name": name.render(), "params": params})
                })
                .collect();
            session["addon"] = json!({"name": name.render(), "tasks": tasks});
        }
        session
    }
}

impl KubeStashInput {
    fn annotate(&self, annotations: &mut Map<String, Value>) {
        let (name, namespace) = match &self.trigger {
            KsTrigger::Auto(..) if annotations.contains_key(common::KEYS[0]) => (None, None),
            KsTrigger::Auto(name, namespace) | KsTrigger::Always(name, namespace) => (Some(name), Some(namespace)),
            KsTrigger::Absent => (None, None),
            KsTrigger::NameOnly(name) => (Some(name), None),
            KsTrigger::NamespaceOnly(namespace) => (None, Some(namespace)),
        };
        if let Some(name) = name {
            annotations.insert(common::KEYS[10].into(), json!(name.render(KS_BLUEPRINTS)));
        }
        if let Some(namespace) = namespace {
            annotations.insert(common::KEYS[11].into(), json!(namespace.render(NAMESPACES)));
        }
        if let Some(names) = &self.session_names {
            let names: Vec<String> = names.iter().map(|n| n.render(KS_SESSIONS)).collect();
            annotations.insert(common::KEYS[12].into(), json!(names.join(",")));
        }
        for (name, value) in &self.variables {
            annotations.insert(
                format!("{}{}", common::KEYS[13], name.render(KS_VARIABLES)),
                json!(value.render()),
            );
        }
    }

    fn objects(
        &self,
        cluster: &mut Vec<Value>,
        api_version: &str,
        kind: &str,
        name: &str,
        namespace: &str,
        target_id: &str,
    ) {
        let default = [KsBlueprint {
            name: Name::Known(0),
            namespace: Name::Known(0),
            usage: UsagePolicy::Absent,
            template_namespace: None,
            backends: Vec::new(),
            sessions: Vec::new(),
            deletion_policy: None,
        }];
        let blueprints = match self.blueprints.is_empty() {
            true => &default[..],
            false => &self.blueprints[..],
        };
        cluster.extend(blueprints.iter().map(KsBlueprint::object));
        let mut namespaces: Vec<String> = blueprints.iter().map(|b| b.namespace.render(NAMESPACES)).collect();
        namespaces.dedup();
        for namespace in namespaces {
            let all = json!({"allowedNamespaces": {"from": "All"}});
            cluster.push(
                json!({"apiVersion": "storage.kubestash.com/v1alpha1", "kind": "BackupStorage",
                "metadata": {"name": KS_STORAGES[0], "namespace": namespace},
                "spec": {"storage": {"provider": "gcs", "gcs": {"bucket": "b", "secretName": "gcs-secret"}},
                    "usagePolicy": all}}),
            );
            cluster.push(
                json!({"apiVersion": "storage.kubestash.com/v1alpha1", "kind": "RetentionPolicy",
                "metadata": {"name": KS_STORAGES[1], "namespace": namespace},
                "spec": {"successfulSnapshots": {"last": 10}, "usagePolicy": all}}),
            );
        }
        for storage in &self.storages {
            let kind = if storage.retention {
                "RetentionPolicy"
            } else {
                "BackupStorage"
            };
            let mut spec = match storage.retention {
                true => {
                    let mut snapshots = Map::new();
                    if let Some(last) = storage.last {
                        snapshots.insert("last".into(), json!(last));
                    }
                    if let Some(daily) = storage.daily {
                        snapshots.insert("daily".into(), json!(daily));
                    }
                    json!({"successfulSnapshots": snapshots})
                }
                false => json!({"storage": {"provider": "gcs", "gcs": {"bucket": "b", "secretName": "gcs-secret"}},
                    "deletionPolicy": "WipeOut"}),
            };
            if let Some(usage) = storage.usage.json() {
                spec["usagePolicy"] = usage;
            }
            cluster.push(json!({"apiVersion": "storage.kubestash.com/v1alpha1", "kind": kind,
                "metadata": {"name": storage.name.render(KS_STORAGES), "namespace": storage.namespace.render(NAMESPACES)},
                "spec": spec}));
        }
        let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
        let this = json!({"apiGroup": group, "kind": kind, "name": name, "namespace": namespace});
        for existing in &self.existing {
            let metadata = existing_metadata(&existing.name, &existing.namespace, &existing.owner, target_id);
            let reference = match existing.this_target {
                true => this.clone(),
                false => json!({"apiGroup": "apps", "kind": "StatefulSet", "name": "other", "namespace": namespace}),
            };
            let object = match existing.repository {
                true => {
                    let mut spec = json!({"appRef": reference, "path": "/p"});
                    if let Some(storage) = &existing.storage {
                        spec["storageRef"] = json!({"name": storage.render(KS_STORAGES), "namespace": existing.namespace.render(NAMESPACES)});
                    }
                    json!({"apiVersion": "storage.kubestash.com/v1alpha1", "kind": "Repository",
                        "metadata": metadata, "spec": spec})
                }
                false => json!({"apiVersion": "core.kubestash.com/v1alpha1", "kind": "BackupConfiguration",
                    "metadata": metadata, "spec": {"target": reference}}),
            };
            cluster.push(object);
        }
    }

    fn settings(&self, settings: &mut Value) {
        if self.pinned.is_empty() && self.value_pattern.is_none() {
            return;
        }
        let pinned: Map<String, Value> = self
            .pinned
            .iter()
            .map(|(name, fact)| (name.render(KS_VARIABLES), json!(FACTS[*fact as usize % FACTS.len()])))
            .collect();
        let mut kubestash = json!({"pinnedVariables": pinned});
        if let Some(pattern) = &self.value_pattern {
            kubestash["valuePattern"] = json!(pattern.render());
        }
        settings["kubestash"] = kubestash;
    }
}
