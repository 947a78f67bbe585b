//! `policy-run`: evaluates requests with the compiled policy, offline, and prints the
//! AdmissionResponse exactly like `kwctl run` (or, with `--pretty`, for a person; with
//! `--output objects`, the objects the policy generates).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use serde_json::Value;

use crate::cluster::Cluster;
use crate::engine::{PolicyModule, check_wasm, read_policy};
use crate::host::{KubernetesBackend, NoClusterGiven};
use crate::inputs::{
    Documents, is_stdin, parse_document, parse_documents_until_error, parse_settings_json, read_document,
    read_settings, read_text,
};
use crate::metadata::{AllowList, PolicyMetadata, Rule, default_metadata_path};
use crate::policy::Evaluation;
use crate::record::Recorder;
use crate::replay::Replay;
use crate::request::{AdmissionRequest, manifest_kind, plural};
use crate::run::Runner;
use crate::{pretty, session};

/// The environment variable naming the compiled-policy cache directory.
pub const CACHE_DIR_VARIABLE: &str = "POLICY_RUN_CACHE_DIR";

/// Runs the backup-blueprint-policy wasm module on admission requests, offline.
///
/// Prints the AdmissionResponse as `kwctl run` does (or, with --output objects, the objects the
/// policy generates). Kubernetes lookups are answered from a file of cluster objects (--cluster)
/// or from a kwctl session (--replay).
#[derive(Debug, Parser)]
#[command(name = "policy-run", version)]
pub struct Args {
    /// The compiled policy, plain or annotated by `kwctl annotate`.
    #[arg(long, value_name = "WASM", default_value = "policy.wasm")]
    pub policy: PathBuf,

    /// The policy's metadata.yml: the contextAwareResources and hostCapabilities the policy is
    /// granted, and its rules [default: the metadata embedded by `kwctl annotate`, else
    /// metadata.yml beside the policy, else in the current directory].
    #[arg(long, value_name = "FILE")]
    pub metadata: Option<PathBuf>,

    /// An AdmissionReview or a bare AdmissionRequest (JSON or YAML; `-`: standard input), as
    /// for `kwctl run`.
    #[arg(long, short = 'r', value_name = "FILE", conflicts_with = "object")]
    pub request: Option<PathBuf>,

    /// Manifests to admit (YAML or JSON; several documents per file, `kind: List` expanded;
    /// directories read recursively; `-`: a YAML stream on standard input); policy-run builds
    /// the AdmissionRequests. One object prints its AdmissionResponse; several print one line
    /// each and a summary, leaving out (and counting) the kinds the policy's rules do not match.
    #[arg(long, short = 'o', value_name = "FILE|DIR|-", num_args = 1..)]
    pub object: Vec<PathBuf>,

    /// The operation of the request built from --object [default: UPDATE with --old-object,
    /// CREATE otherwise].
    #[arg(long, value_enum, requires = "object")]
    pub operation: Option<Operation>,

    /// The object before the change, for an UPDATE built from --object.
    #[arg(long, value_name = "FILE", requires = "object")]
    pub old_object: Option<PathBuf>,

    /// The namespace of the request built from --object [default: the object's, else `default`].
    #[arg(long, short = 'n', requires = "object")]
    pub namespace: Option<String>,

    /// The policy settings (YAML or JSON) [default: no settings].
    #[arg(long, short = 's', value_name = "FILE", conflicts_with = "settings_json")]
    pub settings: Option<PathBuf>,

    /// The policy settings as a JSON string.
    #[arg(long, value_name = "JSON")]
    pub settings_json: Option<String>,

    /// Cluster objects (multi-document YAML) that answer the policy's Kubernetes lookups.
    #[arg(long, short = 'c', value_name = "FILE", conflicts_with = "replay")]
    pub cluster: Option<PathBuf>,

    /// A kwctl host-capabilities session that answers the lookups, in order.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,

    /// Write the lookups answered from --cluster as a kwctl session (for
    /// `kwctl run --replay-host-capabilities-interactions`).
    #[arg(long, value_name = "FILE", requires = "cluster")]
    pub record: Option<PathBuf>,

    /// Also write the request as an AdmissionReview, for `kwctl run --request-path`.
    #[arg(long, value_name = "FILE")]
    pub save_request: Option<PathBuf>,

    /// What to print on stdout (with `objects`, the rejections, warnings, errors and the
    /// summary go to stderr).
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = OutputFormat::Response)]
    pub output: OutputFormat,

    /// Print the decision, the annotations given and those the policy added, the message, the
    /// warnings and the emitted objects, for a person.
    #[arg(long, conflicts_with = "output")]
    pub pretty: bool,

    /// Keep the compiled policy in this directory and reuse it on the next run
    /// [default: $POLICY_RUN_CACHE_DIR; no cache when unset].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Do not echo the policy's log lines on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Exit with status 1 when the policy rejects an object, when an object could not be
    /// evaluated (a malformed file, a document without apiVersion or kind), or when no object
    /// was evaluated at all.
    #[arg(long)]
    pub fail_on_reject: bool,
}

/// The operations policy-run builds requests for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum Operation {
    Create,
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Update => "UPDATE",
        }
    }
}

/// What policy-run prints on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The AdmissionResponse, as `kwctl run` prints it (several objects: one line each).
    Response,
    /// Only the objects the policy generates, as a YAML stream for `kubectl apply -f -`.
    Objects,
}

/// The usage error of a command line that gives nothing to evaluate.
pub const NOTHING_TO_EVALUATE: &str = "nothing to evaluate: give --object FILE|DIR|- (manifests: files, directories, or - \
     for standard input) or --request FILE (an AdmissionReview or AdmissionRequest); see policy-run --help";

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let mut stderr = std::io::stderr();
    if args.request.is_none() && args.object.is_empty() {
        let _ = writeln!(stderr, "error: {NOTHING_TO_EVALUATE}");
        return ExitCode::from(2);
    }
    let mut stdout = std::io::stdout().lock();
    let result = run(&args, &mut stdout, &mut stderr).and_then(|tally| Ok(stdout.flush().map(|()| tally)?));
    match result {
        Ok(tally) => {
            if !args.fail_on_reject || !tally.failed() {
                return ExitCode::SUCCESS;
            }
            if tally.evaluated() == 0 && tally.errors == 0 {
                let _ = writeln!(stderr, "Error: {NOTHING_EVALUATED}");
            }
            ExitCode::FAILURE
        }
        // `policy-run … | head`: the reader has what it wanted.
        Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(stderr, "Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The error line of `--fail-on-reject` when no object was evaluated.
pub const NOTHING_EVALUATED: &str = "no object was evaluated, and --fail-on-reject needs at least one";

fn broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Evaluates what `args` describes, prints the responses on `out` (and, with
/// `--output objects`, rejections, warnings and errors on `err`); returns the counts.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> Result<Summary> {
    if args.request.is_none() {
        let entries = load_objects(&args.object)?;
        let single = matches!(args.object.as_slice(), [only] if !only.is_dir());
        if !single || entries.len() > 1 {
            return preview(args, entries, out, err);
        }
        let object = match entries.into_iter().next() {
            Some(Entry::Object(manifest)) => manifest.object,
            Some(Entry::Error(error)) => bail!("{}", error.single()),
            None if is_stdin(&args.object[0]) => bail!("no object on standard input"),
            None => bail!("malformed object {}: the file is empty", args.object[0].display()),
        };
        let request = object_request(args, object)?;
        return evaluate_one(args, request, out, err);
    }
    let request = load_request(args)?;
    evaluate_one(args, request, out, err)
}

/// One request: its AdmissionResponse (or --pretty, or its generated objects).
fn evaluate_one(args: &Args, request: AdmissionRequest, out: &mut dyn Write, err: &mut dyn Write) -> Result<Summary> {
    if let Some(path) = &args.save_request {
        save_request(&request, path)?;
    }
    let settings = load_settings(args)?;
    let backend = load_backend(args)?;
    let (module, metadata) = load_policy(args, err)?;
    let allow_list = metadata.map(|m| m.allow_list).unwrap_or_default();
    let outcome = Runner::new(module, allow_list)
        .echo(!args.quiet)
        .evaluate(backend, &request, &settings)?;
    let evaluation = &outcome.evaluation;
    let mut summary = Summary::default();
    summary.count(evaluation);
    if args.output == OutputFormat::Objects {
        let source = match (&args.request, args.object.first()) {
            (Some(path), _) | (None, Some(path)) => display_path(path),
            (None, None) => String::new(),
        };
        write_objects(&request, evaluation, &source, &mut summary, out, err)?;
    } else if args.pretty {
        write!(out, "{}", pretty::render(&request, evaluation))?;
    } else {
        writeln!(out, "{}", serde_json::to_string(&evaluation.response)?)?;
    }
    Ok(summary)
}

/// `--output objects` for one evaluated object: its generated objects on `out`; its rejection
/// message, warnings, or an unreadable resolved annotation on `err`.
fn write_objects(
    request: &AdmissionRequest,
    evaluation: &Evaluation,
    source: &str,
    summary: &mut Summary,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let response = &evaluation.response;
    if !response.allowed {
        let message = response.message();
        writeln!(err, "REJECTED  {source}: {message}")?;
        return Ok(());
    }
    for warning in response.warnings.iter().flatten() {
        writeln!(err, "WARNING   {source}: {warning}")?;
    }
    match pretty::generated_objects(request, evaluation) {
        Ok(objects) => write!(out, "{}", pretty::yaml_stream(&objects))?,
        Err(message) => {
            summary.errors += 1;
            writeln!(err, "ERROR     {source}: {message}")?;
        }
    }
    Ok(())
}

/// An object of an `--object` file, and where it comes from (`FILE` or `FILE#N`).
pub struct Manifest {
    pub source: String,
    pub object: Value,
}

/// What an `--object` file holds, object by object: an object to admit, or a document that
/// cannot be one.
pub enum Entry {
    Object(Manifest),
    Error(ObjectError),
}

/// A document of an `--object` file that is not an object policy-run can admit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectError {
    /// `FILE` or `FILE#N`, as for the objects.
    pub source: String,
    pub problem: Problem,
}

/// Why a document is not an object to admit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A file of a directory that cannot be read.
    Unreadable(String),
    /// Not YAML (or JSON) from this document on: a parser cannot resume after it.
    Malformed { document: usize, error: String },
    /// A document that is not a Kubernetes object, or that no request can be built for.
    NotAnObject(String),
}

impl ObjectError {
    /// The line of a preview: `ERROR     FILE#N: …`.
    pub fn line(&self) -> String {
        let problem = match &self.problem {
            Problem::Unreadable(error) => format!("cannot read the file: {error}"),
            Problem::Malformed { document, error } => format!("malformed document {document}: {error}"),
            Problem::NotAnObject(why) => why.clone(),
        };
        format!("ERROR     {}: {problem}", self.source)
    }

    /// The error of a single object (`Error: malformed object FILE: …`).
    fn single(&self) -> String {
        match &self.problem {
            Problem::Unreadable(error) => format!("cannot read object {}: {error}", self.source),
            Problem::Malformed { document, error } => {
                format!("malformed object {}: document {document}: {error}", self.source)
            }
            Problem::NotAnObject(why) => format!("malformed object {}: {why}", self.source),
        }
    }
}

/// The objects of the `--object` files and directories (`-`: standard input), in order
/// (directories sorted), and the documents that are not objects. An argument that cannot be
/// read is an error; a file of a directory that cannot be read is an entry.
pub fn load_objects(paths: &[PathBuf]) -> Result<Vec<Entry>> {
    if paths.iter().filter(|p| is_stdin(p)).count() > 1 {
        bail!("--object - (standard input) can be given once");
    }
    let mut entries = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files = Vec::new();
            manifest_files(path, &mut files)?;
            for file in files {
                let text = std::fs::read_to_string(&file).map_err(|e| e.to_string());
                entries.extend(file_entries(&display_path(&file), text));
            }
        } else {
            let text = read_text(path, "object")?;
            entries.extend(file_entries(&display_path(path), Ok(text)));
        }
    }
    Ok(entries)
}

/// How a path is named in the output (`<stdin>` for `-`).
fn display_path(path: &Path) -> String {
    match is_stdin(path) {
        true => "<stdin>".to_string(),
        false => path.display().to_string(),
    }
}

/// The entries of one file: its objects (`kind: List` expanded), each document that is not an
/// object, and the first malformed document (a YAML parser cannot resume after it).
fn file_entries(file: &str, text: Result<String, String>) -> Vec<Entry> {
    let text = match text {
        Ok(text) => text,
        Err(error) => {
            let source = file.to_string();
            return vec![Entry::Error(ObjectError {
                source,
                problem: Problem::Unreadable(error),
            })];
        }
    };
    let Documents { documents, error } = parse_documents_until_error(&text);
    let mut problems: Vec<Result<Value, Problem>> = Vec::new();
    for (_, document) in documents {
        match document.get("items").and_then(Value::as_array) {
            Some(items) if document["kind"].as_str().is_some_and(|k| k.ends_with("List")) => {
                problems.extend(items.iter().cloned().map(kubernetes_object))
            }
            _ => problems.push(kubernetes_object(document)),
        }
    }
    if let Some(error) = error {
        problems.push(Err(Problem::Malformed {
            document: error.document,
            error: format!("{:#}", error.error),
        }));
    }
    let several = problems.len() > 1;
    (1..)
        .zip(problems)
        .map(|(index, problem)| {
            let source = match several {
                true => format!("{file}#{index}"),
                false => file.to_string(),
            };
            match problem {
                Ok(object) => Entry::Object(Manifest { source, object }),
                Err(problem) => Entry::Error(ObjectError { source, problem }),
            }
        })
        .collect()
}

/// A document that is a Kubernetes object: a mapping with a string `apiVersion` and `kind`.
fn kubernetes_object(document: Value) -> Result<Value, Problem> {
    let Some(map) = document.as_object() else {
        let what = match &document {
            Value::Array(_) => "a sequence",
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Null | Value::Object(_) => "null",
        };
        return Err(Problem::NotAnObject(format!(
            "not a Kubernetes object: {what}, not a mapping with apiVersion and kind"
        )));
    };
    let has = |key: &str| map.get(key).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    let missing = match (has("apiVersion"), has("kind")) {
        (true, true) => return Ok(document),
        (false, false) => "no apiVersion and no kind",
        (false, true) => "no apiVersion",
        (true, false) => "no kind",
    };
    Err(Problem::NotAnObject(format!("not a Kubernetes object: {missing}")))
}

/// The YAML and JSON files under `dir`, recursively, sorted.
fn manifest_files(dir: &Path, into: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot read directory {}", dir.display()))?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            manifest_files(&path, into)?;
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            into.push(path);
        }
    }
    Ok(())
}

/// Counts of the objects of a run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub accepted: usize,
    pub mutated: usize,
    pub warned: usize,
    pub rejected: usize,
    pub skipped: usize,
    /// Documents that are not objects to admit, and objects that could not be evaluated.
    pub errors: usize,
}

impl Summary {
    /// Counts one evaluation.
    fn count(&mut self, evaluation: &Evaluation) {
        let response = &evaluation.response;
        if response.allowed {
            self.accepted += 1;
            self.mutated += usize::from(response.patch.is_some());
            self.warned += usize::from(response.warnings.as_ref().is_some_and(|w| !w.is_empty()));
        } else {
            self.rejected += 1;
        }
    }

    /// The objects the policy evaluated.
    pub fn evaluated(&self) -> usize {
        self.accepted + self.rejected
    }

    /// What `--fail-on-reject` fails on: a rejection, an error, or nothing evaluated.
    pub fn failed(&self) -> bool {
        self.rejected > 0 || self.errors > 0 || self.evaluated() == 0
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} objects evaluated: {} accepted ({} mutated, {} with warnings), {} rejected; {} skipped (kinds the policy's rules do not match)",
            self.evaluated(),
            self.accepted,
            self.mutated,
            self.warned,
            self.rejected,
            self.skipped
        )?;
        match self.errors {
            0 => Ok(()),
            1 => write!(f, "; 1 error"),
            n => write!(f, "; {n} errors"),
        }
    }
}

/// Several objects: one line each (or, with --pretty, each in full; with --output objects,
/// their generated objects) and a summary.
fn preview(args: &Args, entries: Vec<Entry>, out: &mut dyn Write, err: &mut dyn Write) -> Result<Summary> {
    for (given, option) in [
        (args.old_object.is_some(), "--old-object"),
        (args.save_request.is_some(), "--save-request"),
        (args.record.is_some(), "--record"),
        (args.replay.is_some(), "--replay"),
    ] {
        if given {
            bail!("{option} needs a single object, but --object gave several");
        }
    }
    let settings = load_settings(args)?;
    let cluster = args.cluster.as_deref().map(Cluster::from_file).transpose()?;
    let (module, metadata) = load_policy(args, err)?;
    let (allow_list, rules) = match metadata {
        Some(metadata) => (metadata.allow_list, Some(metadata.rules)),
        None => (AllowList::default(), None),
    };
    let runner = Runner::new(module, allow_list).echo(!args.quiet);
    let operation = args.operation.unwrap_or(Operation::Create).as_str();
    let objects = args.output == OutputFormat::Objects;
    let mut summary = Summary::default();
    for entry in entries {
        let manifest = match entry {
            Entry::Object(manifest) => manifest,
            Entry::Error(error) => {
                summary.errors += 1;
                report(objects, out, err, error.line())?;
                continue;
            }
        };
        if !matched(rules.as_deref(), &manifest.object, operation) {
            summary.skipped += 1;
            continue;
        }
        let request = match AdmissionRequest::for_object(manifest.object, None, operation, args.namespace.as_deref()) {
            Ok(request) => request,
            Err(why) => {
                let error = ObjectError {
                    source: manifest.source,
                    problem: Problem::NotAnObject(why),
                };
                summary.errors += 1;
                report(objects, out, err, error.line())?;
                continue;
            }
        };
        let backend: Box<dyn KubernetesBackend> = match &cluster {
            Some(cluster) => Box::new(cluster.clone()),
            None => Box::new(NoClusterGiven),
        };
        let outcome = runner.evaluate(backend, &request, &settings)?;
        summary.count(&outcome.evaluation);
        if objects {
            write_objects(&request, &outcome.evaluation, &manifest.source, &mut summary, out, err)?;
        } else if args.pretty {
            writeln!(out, "== {}", manifest.source)?;
            writeln!(out, "{}", pretty::render(&request, &outcome.evaluation))?;
        } else {
            writeln!(
                out,
                "{}",
                pretty::one_line(&request, &outcome.evaluation, &manifest.source)
            )?;
        }
    }
    report(objects, out, err, &summary)?;
    Ok(summary)
}

/// A line of a preview: on stdout, but on stderr with --output objects (stdout is YAML).
fn report(objects: bool, out: &mut dyn Write, err: &mut dyn Write, line: impl std::fmt::Display) -> Result<()> {
    match objects {
        true => writeln!(err, "{line}")?,
        false => writeln!(out, "{line}")?,
    }
    Ok(())
}

/// True when the policy's rules send the object's requests to it (no rules: every object).
fn matched(rules: Option<&[Rule]>, object: &Value, operation: &str) -> bool {
    let (Some(api_version), Some(kind)) = (object["apiVersion"].as_str(), object["kind"].as_str()) else {
        return false;
    };
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    rules.is_none_or(|rules| {
        rules
            .iter()
            .any(|r| r.matches(group, version, &plural(kind), operation))
    })
}

fn load_request(args: &Args) -> Result<AdmissionRequest> {
    let path = args.request.as_deref().context(NOTHING_TO_EVALUATE)?;
    let name = display_path(path);
    let document = parse_document(&read_text(path, "request")?).with_context(|| format!("malformed request {name}"))?;
    if let Some(kind) = manifest_kind(&document) {
        bail!(
            "--request {name} is a {kind} manifest, not an AdmissionReview or AdmissionRequest: give manifests with --object"
        );
    }
    AdmissionRequest::from_document(document)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("malformed request {name}"))
}

/// The request for the one object of `--object`.
fn object_request(args: &Args, object: Value) -> Result<AdmissionRequest> {
    let old_object = args
        .old_object
        .as_deref()
        .map(|p| read_document(p, "old object"))
        .transpose()?;
    let operation = args.operation.unwrap_or(if old_object.is_some() {
        Operation::Update
    } else {
        Operation::Create
    });
    AdmissionRequest::for_object(object, old_object, operation.as_str(), args.namespace.as_deref())
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("malformed object {}", display_path(&args.object[0])))
}

fn save_request(request: &AdmissionRequest, path: &Path) -> Result<()> {
    let review =
        serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request});
    let text = serde_json::to_string_pretty(&review)?;
    std::fs::write(path, text + "\n").with_context(|| format!("cannot write request {}", path.display()))
}

fn load_settings(args: &Args) -> Result<Value> {
    match (&args.settings, &args.settings_json) {
        (Some(path), _) => read_settings(path),
        (None, Some(json)) => parse_settings_json(json),
        (None, None) => Ok(Value::Object(Default::default())),
    }
}

fn load_backend(args: &Args) -> Result<Box<dyn KubernetesBackend>> {
    if let Some(path) = &args.replay {
        return Ok(Box::new(Replay::new(session::read(path)?)));
    }
    let Some(path) = &args.cluster else {
        return Ok(Box::new(NoClusterGiven));
    };
    let cluster = Box::new(Cluster::from_file(path)?);
    Ok(match &args.record {
        Some(destination) => Box::new(Recorder::new(cluster, destination.clone())),
        None => cluster,
    })
}

fn cache_dir(args: &Args) -> Option<PathBuf> {
    args.cache_dir
        .clone()
        .or_else(|| std::env::var_os(CACHE_DIR_VARIABLE).map(PathBuf::from))
}

/// The compiled policy and its metadata: `--metadata`, else the metadata `kwctl annotate`
/// embedded (what kwctl and policy-server read), else a metadata.yml beside the policy or in
/// the current directory; `None` (with a warning on `err`) when there is none.
fn load_policy(args: &Args, err: &mut dyn Write) -> Result<(PolicyModule, Option<PolicyMetadata>)> {
    let bytes = read_policy(&args.policy)?;
    check_wasm(&bytes, &args.policy)?;
    let metadata = match &args.metadata {
        Some(path) => Some(PolicyMetadata::from_file(path)?),
        None => match PolicyMetadata::embedded(&bytes).with_context(|| format!("policy {}", args.policy.display()))? {
            Some(embedded) => Some(embedded),
            None => default_metadata_path(&args.policy)
                .map(|path| PolicyMetadata::from_file(&path))
                .transpose()?,
        },
    };
    if metadata.is_none() {
        writeln!(
            err,
            "warning: no metadata.yml found: the policy may read no Kubernetes resource (give --metadata)"
        )?;
    }
    let module = PolicyModule::from_bytes_cached(&bytes, &args.policy, cache_dir(args).as_deref())?;
    Ok((module, metadata))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Args::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("policy-run").chain(args.iter().copied()))
    }

    #[test]
    fn a_request_or_an_object_is_required() {
        // Checked by `main`, which says what to give (clap would only name --request).
        let nothing = parse(&[]).unwrap();
        assert!(nothing.request.is_none() && nothing.object.is_empty());
        assert_eq!(
            parse(&["-r", "a", "-o", "b"]).unwrap_err().kind(),
            clap::error::ErrorKind::ArgumentConflict
        );
    }

    #[test]
    fn host_sources_are_exclusive_and_record_needs_a_cluster() {
        assert_eq!(
            parse(&["-o", "a", "--cluster", "c", "--replay", "s"])
                .unwrap_err()
                .kind(),
            clap::error::ErrorKind::ArgumentConflict
        );
        assert_eq!(
            parse(&["-o", "a", "--record", "r"]).unwrap_err().kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
        assert!(parse(&["-o", "a", "--cluster", "c", "--record", "r"]).is_ok());
    }

    #[test]
    fn output_is_the_response_or_the_objects() {
        assert_eq!(parse(&["-o", "a"]).unwrap().output, OutputFormat::Response);
        assert_eq!(
            parse(&["-o", "a", "--output", "objects"]).unwrap().output,
            OutputFormat::Objects
        );
        assert_eq!(
            parse(&["-o", "a", "--output", "objects", "--pretty"])
                .unwrap_err()
                .kind(),
            clap::error::ErrorKind::ArgumentConflict
        );
        assert!(parse(&["-o", "a", "--pretty"]).unwrap().pretty);
    }

    #[test]
    fn summaries_count_errors_and_fail_without_objects() {
        let mut summary = Summary {
            accepted: 2,
            mutated: 1,
            skipped: 3,
            ..Default::default()
        };
        assert!(!summary.failed());
        assert_eq!(
            summary.to_string(),
            "2 objects evaluated: 2 accepted (1 mutated, 0 with warnings), 0 rejected; 3 skipped (kinds the policy's \
             rules do not match)"
        );
        summary.errors = 2;
        assert!(summary.failed());
        assert!(summary.to_string().ends_with("do not match); 2 errors"));
        assert!(Summary::default().failed(), "nothing evaluated");
    }

    #[test]
    fn every_document_of_a_file_is_an_entry() {
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\nkind: Kind\n---\n- 1\n---\n\
                    apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Service}, {a: 1}]\n---\nb: [\n";
        let lines: Vec<String> = file_entries("f.yaml", Ok(text.into()))
            .into_iter()
            .map(|entry| match entry {
                Entry::Object(manifest) => format!("object {}", manifest.source),
                Entry::Error(error) => error.line(),
            })
            .collect();
        assert_eq!(
            lines,
            [
                "object f.yaml#1",
                "ERROR     f.yaml#2: not a Kubernetes object: no apiVersion",
                "ERROR     f.yaml#3: not a Kubernetes object: a sequence, not a mapping with apiVersion and kind",
                "object f.yaml#4",
                "ERROR     f.yaml#5: not a Kubernetes object: no apiVersion and no kind",
                "ERROR     f.yaml#6: malformed document 5: did not find expected node content at line 14 column 1, \
                 while parsing a flow node",
            ]
        );
        let [Entry::Error(unreadable)] = &file_entries("g.yaml", Err("denied".into()))[..] else {
            panic!("one entry")
        };
        assert_eq!(unreadable.line(), "ERROR     g.yaml: cannot read the file: denied");
    }

    #[test]
    fn operations_are_upper_case() {
        assert_eq!(
            parse(&["-o", "a", "--operation", "UPDATE"]).unwrap().operation,
            Some(Operation::Update)
        );
        assert_eq!(
            parse(&["-o", "a", "--operation", "DELETE"]).unwrap_err().kind(),
            clap::error::ErrorKind::InvalidValue
        );
    }
}
