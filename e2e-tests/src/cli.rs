//! `policy-run`: evaluates one request with the compiled policy, offline, and prints the
//! AdmissionResponse exactly like `kwctl run` (or, with `--pretty`, for a person).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use serde_json::Value;

use crate::cluster::Cluster;
use crate::engine::PolicyModule;
use crate::host::{KubernetesBackend, NoKubernetes};
use crate::inputs::{parse_settings_json, read_document, read_documents, read_settings};
use crate::metadata::{AllowList, Rule, default_metadata_path, read_rules};
use crate::record::Recorder;
use crate::replay::Replay;
use crate::request::{AdmissionRequest, plural};
use crate::run::Runner;
use crate::{pretty, session};

/// The environment variable naming the compiled-policy cache directory.
pub const CACHE_DIR_VARIABLE: &str = "POLICY_RUN_CACHE_DIR";

/// Runs the backup-blueprint-policy wasm module on one admission request, offline.
///
/// Prints the AdmissionResponse as `kwctl run` does. Kubernetes lookups are answered from a
/// file of cluster objects (--cluster) or from a kwctl session (--replay).
#[derive(Debug, Parser)]
#[command(name = "policy-run", version)]
pub struct Args {
    /// The compiled policy.
    #[arg(long, value_name = "WASM", default_value = "policy.wasm")]
    pub policy: PathBuf,

    /// The policy's metadata.yml: the contextAwareResources and hostCapabilities the policy is
    /// granted [default: metadata.yml beside the policy, else in the current directory].
    #[arg(long, value_name = "FILE")]
    pub metadata: Option<PathBuf>,

    /// An AdmissionReview or a bare AdmissionRequest (JSON or YAML), as for `kwctl run`.
    #[arg(
        long,
        short = 'r',
        value_name = "FILE",
        required_unless_present = "object",
        conflicts_with = "object"
    )]
    pub request: Option<PathBuf>,

    /// Manifests to admit (YAML or JSON; several documents per file, `kind: List` expanded;
    /// directories read recursively); policy-run builds the AdmissionRequests. One object
    /// prints its AdmissionResponse; several print one line each and a summary, leaving out
    /// (and counting) the kinds the policy's rules do not match.
    #[arg(long, short = 'o', value_name = "FILE|DIR", num_args = 1..)]
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

    /// Print the decision, message, warnings and emitted objects for a person.
    #[arg(long)]
    pub pretty: bool,

    /// Keep the compiled policy in this directory and reuse it on the next run
    /// [default: $POLICY_RUN_CACHE_DIR; no cache when unset].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Do not echo the policy's log lines on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Exit with status 1 when the policy rejects an object.
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

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let mut stdout = std::io::stdout().lock();
    match run(&args, &mut stdout) {
        Ok(rejected) if rejected && args.fail_on_reject => ExitCode::FAILURE,
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Evaluates the request described by `args` and prints the response on `out`; true when the
/// policy rejected it (or, for several objects, any of them).
pub fn run(args: &Args, out: &mut dyn Write) -> Result<bool> {
    if args.request.is_none() {
        let objects = load_objects(&args.object)?;
        if args.object.len() > 1 || args.object.iter().any(|p| p.is_dir()) || objects.len() > 1 {
            return preview(args, objects, out);
        }
    }
    let request = load_request(args)?;
    if let Some(path) = &args.save_request {
        save_request(&request, path)?;
    }
    let settings = load_settings(args)?;
    let backend = load_backend(args)?;
    let allow_list = load_allow_list(args)?;
    let module = PolicyModule::from_file_cached(&args.policy, cache_dir(args).as_deref())?;
    let outcome = Runner::new(module, allow_list)
        .echo(!args.quiet)
        .evaluate(backend, &request, &settings)?;
    if args.pretty {
        write!(out, "{}", pretty::render(&request, &outcome.evaluation))?;
    } else {
        writeln!(out, "{}", serde_json::to_string(&outcome.evaluation.response)?)?;
    }
    Ok(!outcome.evaluation.response.allowed)
}

/// An object of an `--object` file, and where it comes from (`FILE` or `FILE#N`).
pub struct Manifest {
    pub source: String,
    pub object: Value,
}

/// The objects of the `--object` files and directories, in order (directories sorted).
pub fn load_objects(paths: &[PathBuf]) -> Result<Vec<Manifest>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            manifest_files(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    let mut manifests = Vec::new();
    for file in files {
        let mut objects = Vec::new();
        for document in read_documents(&file, "object")? {
            match document.get("items").and_then(Value::as_array) {
                Some(items) if document["kind"].as_str().is_some_and(|k| k.ends_with("List")) => {
                    objects.extend(items.iter().cloned())
                }
                _ => objects.push(document),
            }
        }
        let several = objects.len() > 1;
        for (index, object) in objects.into_iter().enumerate() {
            let source = match several {
                true => format!("{}#{}", file.display(), index + 1),
                false => file.display().to_string(),
            };
            manifests.push(Manifest { source, object });
        }
    }
    Ok(manifests)
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

/// Counts of a preview of several objects.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub accepted: usize,
    pub mutated: usize,
    pub warned: usize,
    pub rejected: usize,
    pub skipped: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} objects evaluated: {} accepted ({} mutated, {} with warnings), {} rejected; {} skipped (kinds the policy's rules do not match)",
            self.accepted + self.rejected,
            self.accepted,
            self.mutated,
            self.warned,
            self.rejected,
            self.skipped
        )
    }
}

/// Several objects: one line each (or, with --pretty, each in full) and a summary.
fn preview(args: &Args, manifests: Vec<Manifest>, out: &mut dyn Write) -> Result<bool> {
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
    let metadata = metadata_path(args);
    let rules = metadata.as_deref().map(read_rules).transpose()?;
    let allow_list = load_allow_list(args)?;
    let cluster = args.cluster.as_deref().map(Cluster::from_file).transpose()?;
    let module = PolicyModule::from_file_cached(&args.policy, cache_dir(args).as_deref())?;
    let runner = Runner::new(module, allow_list).echo(!args.quiet);
    let operation = args.operation.unwrap_or(Operation::Create).as_str();
    let mut summary = Summary::default();
    for manifest in manifests {
        if !matched(rules.as_deref(), &manifest.object, operation) {
            summary.skipped += 1;
            continue;
        }
        let request = AdmissionRequest::for_object(manifest.object, None, operation, args.namespace.as_deref())
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("malformed object {}", manifest.source))?;
        let backend: Box<dyn KubernetesBackend> = match &cluster {
            Some(cluster) => Box::new(cluster.clone()),
            None => Box::new(NoKubernetes),
        };
        let outcome = runner.evaluate(backend, &request, &settings)?;
        let response = &outcome.evaluation.response;
        if response.allowed {
            summary.accepted += 1;
            summary.mutated += usize::from(response.patch.is_some());
            summary.warned += usize::from(response.warnings.as_ref().is_some_and(|w| !w.is_empty()));
        } else {
            summary.rejected += 1;
        }
        if args.pretty {
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
    writeln!(out, "{summary}")?;
    Ok(summary.rejected > 0)
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
    if let Some(path) = &args.request {
        let document = read_document(path, "request")?;
        return AdmissionRequest::from_document(document)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("malformed request {}", path.display()));
    }
    let path = args.object.first().context("give --request or --object")?;
    let object = read_document(path, "object")?;
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
        .with_context(|| format!("malformed object {}", path.display()))
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
        return Ok(Box::new(NoKubernetes));
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

fn metadata_path(args: &Args) -> Option<PathBuf> {
    args.metadata
        .clone()
        .or_else(|| default_metadata_path(Path::new(&args.policy)))
}

fn load_allow_list(args: &Args) -> Result<AllowList> {
    match metadata_path(args) {
        Some(path) => AllowList::from_metadata_file(&path),
        None => {
            eprintln!("warning: no metadata.yml found: the policy may read no Kubernetes resource (give --metadata)");
            Ok(AllowList::default())
        }
    }
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
        assert_eq!(
            parse(&[]).unwrap_err().kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
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
