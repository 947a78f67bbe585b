//! `make bench`, part 2: the real `kwctl bench` (Kubewarden 1.36) on this policy and on four
//! floor policies built from `benches/floors` — (1) decode and accept, (2) decode, the same
//! two lookups an annotated Deployment costs (its BackupBlueprint and its Secret) and one
//! annotation, (3) the same with the two collision lookups the policy makes on a CREATE (the
//! Repository and the BackupConfiguration it would generate, not found, which
//! policy-server does not cache), (4) decode, the six lookups of an annotated KubeStash
//! StatefulSet and one annotation — in one run, for an object without the trigger, an
//! annotated Deployment and a KubeStash StatefulSet. Lookups go to the fake Kubernetes API of the policy-server tests,
//! serving `examples/cluster.yaml`, as policy-server's kube client would ask a real one. Prints
//! the mean `validate` time of each (the median of three rounds, the policies taking turns, so
//! that a busy moment of a shared machine counts once) and the ratios to the floors.
//!
//! Needs kwctl on PATH and a loopback-only network namespace (the Makefile runs it through
//! `e2e-tests/in-netns`); skips with one line otherwise. `FLOOR_ACCEPT`, `FLOOR_LOOKUPS`,
//! `FLOOR_COLLISIONS` and `FLOOR_KUBESTASH` name the floor modules (`make floors` builds them).

#[path = "support/cases.rs"]
mod cases;
#[path = "../tests/policy_server/fake_api.rs"]
#[allow(dead_code)]
mod fake_api;

use std::path::{Path, PathBuf};
use std::process::Command;

use cases::{FLOOR_VARIABLES, KINDS, Kind};
use fake_api::{Contents, FakeApiServer};
use serde_json::json;

/// Seconds `kwctl bench` measures each case, in each round.
const MEASUREMENT_SECONDS: &str = "3";
/// Rounds of every case; the median is reported.
const ROUNDS: usize = 3;

fn repo_root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).to_path_buf()
}

fn main() {
    if let Some(why) = cannot_run() {
        println!("skipped: kwctl bench: {why}");
        return;
    }
    let root = repo_root();
    let work = tempfile::tempdir().expect("a scratch directory");
    // POLICY_WASM measures another build (an earlier commit's, say) against the same floors.
    let policy = std::env::var_os("POLICY_WASM").map_or_else(|| root.join("policy.wasm"), PathBuf::from);
    let annotated_policy = annotate(&policy, work.path(), "policy");
    let mut annotated = cases::variants(&policy).expect("checked by cannot_run");
    for (index, variant) in annotated.iter_mut().enumerate() {
        variant.wasm = match index {
            0 | 1 => annotated_policy.clone(),
            _ => annotate(&variant.wasm, work.path(), &format!("floor-{}", index - 1)),
        };
    }
    let api = start_api(&root);
    let kubeconfig = work.path().join("kubeconfig");
    std::fs::write(&kubeconfig, api.kubeconfig()).expect("kubeconfig written");
    let requests = KINDS.map(|(case, kind)| (case, kind, review_file(&root, work.path(), kind)));
    println!("kwctl bench, mean validate time (median of {ROUNDS} rounds of {MEASUREMENT_SECONDS} s per case):");
    for (case, kind, request) in &requests {
        let variants: Vec<_> = annotated
            .iter()
            .filter(|variant| variant.kinds.contains(kind))
            .collect();
        let mut rounds = vec![Vec::new(); variants.len()];
        let mut asked = Vec::new();
        let mut counts = Vec::new();
        for round in 0..ROUNDS {
            for (index, variant) in variants.iter().enumerate() {
                let before = api.request_count();
                let (micros, iterations) = bench(&variant.wasm, variant.settings, request, &kubeconfig);
                rounds[index].push(micros);
                if round == 0 {
                    counts.push((api.request_count() - before, iterations));
                    asked.push(objects_asked(&api.requests_since(before)));
                }
            }
        }
        let times: Vec<f64> = rounds.iter_mut().map(|times| median(times)).collect();
        for (variant, (micros, (api_requests, iterations))) in variants.iter().zip(times.iter().zip(&counts)) {
            let name = variant.name;
            println!(
                "  {case:<21} {name:<55} {micros:>8.1} µs  ({api_requests} API requests in {iterations} evaluations)"
            );
        }
        cases::print_ratios(case, *kind, &times);
        // The floor with the policy's lookups is the last one measured on this request.
        let floor = variants.len() - 1;
        if matches!(kind, Kind::Create | Kind::KubeStash) && asked[0] != asked[floor] {
            println!(
                "  {case:<22} note: {} does not ask the API server for what the policy asks: policy {:?}, floor {:?}",
                variants[floor].name, asked[0], asked[floor]
            );
        }
    }
}

fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// The objects a run asked the API server for (`GET` paths of one object, discovery left
/// out), each once.
fn objects_asked(requests: &[String]) -> Vec<String> {
    let mut objects: Vec<String> = requests
        .iter()
        .filter(|r| r.trim_start_matches("GET /").split('/').count() > 3)
        .cloned()
        .collect();
    objects.sort();
    objects.dedup();
    objects
}

/// Why the bench cannot run here, if it cannot.
fn cannot_run() -> Option<String> {
    let found = Command::new("kwctl").arg("--version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        return Some("kwctl is not installed".into());
    }
    let interfaces = std::fs::read_to_string("/proc/net/dev").unwrap_or_default();
    let only_loopback = interfaces.lines().skip(2).all(|l| l.trim_start().starts_with("lo:"));
    if !only_loopback {
        return Some("not in a loopback-only network namespace (run it with e2e-tests/in-netns)".into());
    }
    for var in FLOOR_VARIABLES {
        if std::env::var_os(var).is_none() {
            return Some(format!("{var} is not set (make floors builds the floor policies)"));
        }
    }
    None
}

/// `kwctl annotate`s `wasm` with the policy's metadata (the floors get the same context-aware
/// resources).
fn annotate(wasm: &Path, dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(format!("{name}.wasm"));
    let root = repo_root();
    let status = Command::new("kwctl")
        .args(["annotate", "-m"])
        .arg(root.join("metadata.yml"))
        .arg("-o")
        .arg(&out)
        .arg(wasm)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("kwctl runs");
    assert!(
        status.status.success(),
        "kwctl annotate {}: {}",
        wasm.display(),
        String::from_utf8_lossy(&status.stderr)
    );
    out
}

fn start_api(root: &Path) -> FakeApiServer {
    let contents = Contents {
        cluster: cases::cluster(root),
        kinds: cases::allow_list(root).resources().to_vec(),
        ..Contents::default()
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    FakeApiServer::start(port, contents).expect("the fake API server starts")
}

/// The AdmissionReview of `kind`'s request, written in `dir`.
fn review_file(root: &Path, dir: &Path, kind: Kind) -> PathBuf {
    let request = cases::admission_request(root, kind);
    let path = dir.join(format!("request-{kind:?}.json"));
    let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request});
    std::fs::write(&path, review.to_string()).expect("request written");
    path
}

/// The mean `validate` time of `kwctl bench`, in µs, and how many evaluations it ran.
fn bench(wasm: &Path, settings: &str, request: &Path, kubeconfig: &Path) -> (f64, String) {
    let output = Command::new("kwctl")
        .args([
            "bench",
            "--allow-context-aware",
            "--measurement-time",
            MEASUREMENT_SECONDS,
        ])
        .args(["--settings-json", settings, "--request-path"])
        .arg(request)
        .arg(wasm)
        .env("KUBECONFIG", kubeconfig)
        .env("RUST_BACKTRACE", "0")
        .env("NO_COLOR", "true")
        .output()
        .expect("kwctl bench runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "kwctl bench {}: {text}", wasm.display());
    let plain = strip_ansi(&text);
    let mean = mean_validate(&plain).unwrap_or_else(|| panic!("no validate mean in kwctl bench's output:\n{text}"));
    (mean, iterations(&plain).unwrap_or_else(|| "?".into()))
}

/// `5.0 thousand` from `validate [5.0 thousand iterations in 3.72s …]`.
fn iterations(plain: &str) -> Option<String> {
    let section = plain.split("validate [").nth(1)?;
    Some(section.split(" iterations").next()?.to_string())
}

/// The mean of the `validate` benchmark: the middle value of its `[min mean max]` line.
fn mean_validate(plain: &str) -> Option<f64> {
    let section = plain.split("validate [").nth(1)?;
    let line = section.lines().find(|l| l.contains("[min mean max]"))?;
    let values = line.split("]:").nth(1)?;
    let mean = values.trim().trim_start_matches('[').split_whitespace().nth(1)?;
    to_micros(mean)
}

fn to_micros(value: &str) -> Option<f64> {
    let units = [
        ("ns", 0.001),
        ("µs", 1.0),
        ("us", 1.0),
        ("ms", 1000.0),
        ("s", 1_000_000.0),
    ];
    units
        .iter()
        .find_map(|(unit, factor)| value.strip_suffix(unit)?.parse::<f64>().ok().map(|v| v * factor))
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            out.push(c);
        }
    }
    out
}
