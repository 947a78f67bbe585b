//! `policy-run`: evaluates one request with the compiled policy, offline, and prints the
//! AdmissionResponse exactly like `kwctl run` (or, with `--pretty`, for a person).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use serde_json::Value;

use crate::cluster::Cluster;
use crate::engine::PolicyModule;
use crate::host::{KubernetesBackend, NoKubernetes};
use crate::inputs::{parse_settings_json, read_document, read_settings};
use crate::metadata::{AllowList, default_metadata_path};
use crate::record::Recorder;
use crate::replay::Replay;
use crate::request::AdmissionRequest;
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

    /// A manifest (YAML or JSON) to admit; policy-run builds the AdmissionRequest.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub object: Option<PathBuf>,

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
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Evaluates the request described by `args` and prints the response on `out`.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<()> {
    let request = load_request(args)?;
    if let Some(path) = &args.save_request {
        save_request(&request, path)?;
    }
    let settings = load_settings(args)?;
    let backend = load_backend(args)?;
    let allow_list = load_allow_list(args)?;
    let cache_dir = args
        .cache_dir
        .clone()
        .or_else(|| std::env::var_os(CACHE_DIR_VARIABLE).map(PathBuf::from));
    let module = PolicyModule::from_file_cached(&args.policy, cache_dir.as_deref())?;
    let outcome = Runner::new(module, allow_list)
        .echo(!args.quiet)
        .evaluate(backend, &request, &settings)?;
    if args.pretty {
        write!(out, "{}", pretty::render(&request, &outcome.evaluation))?;
    } else {
        writeln!(out, "{}", serde_json::to_string(&outcome.evaluation.response)?)?;
    }
    Ok(())
}

fn load_request(args: &Args) -> Result<AdmissionRequest> {
    if let Some(path) = &args.request {
        let document = read_document(path, "request")?;
        return AdmissionRequest::from_document(document)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("malformed request {}", path.display()));
    }
    let path = args.object.as_ref().context("give --request or --object")?;
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

fn load_allow_list(args: &Args) -> Result<AllowList> {
    let path = args
        .metadata
        .clone()
        .or_else(|| default_metadata_path(Path::new(&args.policy)));
    match path {
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
