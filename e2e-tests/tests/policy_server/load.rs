//! `POLICY_SERVER_LOAD_SECONDS=N`: a measurement, not a check. For each kind of request, a
//! fresh policy-server with one worker (`--workers 1`) gets N seconds of that request, sent
//! back to back by two clients, its lookups answered by the fake API server (which then serves
//! the deployment scenario's cluster); printed as a table: requests per second, ERROR lines
//! per request (and how many of them the README's filter matches), API requests per request,
//! policy-server's peak and final resident memory.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{Case, Harness, Options, PORT, PolicyServer, READINESS_PORT, logs};

/// Clients sending requests at the same time.
const CLIENTS: usize = 2;

/// The seconds of load per kind of request, when asked for.
pub fn seconds() -> Option<u64> {
    std::env::var("POLICY_SERVER_LOAD_SECONDS")
        .ok()?
        .parse()
        .ok()
        .filter(|s| *s > 0)
}

/// Measures `create` (an annotated CREATE, then the same with `collisionCheck: skip`),
/// `reapplied` and `untouched` (an object without the trigger).
pub fn run(
    harness: &Harness,
    policies: &Value,
    kubeconfig: &Path,
    seconds: u64,
    [create, reapplied, untouched]: [&Case; 3],
) -> Result<(), String> {
    const SKIP_ID: &str = "load-collision-check-skip";
    let mut policies = policies.clone();
    let mut skip = policies[&create.policy_id].clone();
    skip["settings"]["collisionCheck"] = json!("skip");
    policies[SKIP_ID] = skip;
    let kinds = [
        (
            "annotated CREATE, `collisionCheck: reject`",
            create.policy_id.as_str(),
            create.review(),
        ),
        ("annotated CREATE, `collisionCheck: skip`", SKIP_ID, create.review()),
        ("re-applied UPDATE", reapplied.policy_id.as_str(), reapplied.review()),
        (
            "object without the trigger",
            untouched.policy_id.as_str(),
            untouched.review(),
        ),
    ];
    println!(
        "policy-server load: --workers 1, {CLIENTS} clients, {seconds} s per kind of request, a fresh policy-server for each:\n\
         | request | requests/s | ERROR lines per request | of them expected not-found | API requests per request | peak RSS (MiB) | RSS at the end (MiB) |\n\
         |---|---|---|---|---|---|---|"
    );
    for (index, (name, policy_id, review)) in kinds.iter().enumerate() {
        let offset = 30 + 2 * index as u16;
        let options = Options {
            workers: 1,
            ..Options::on(PORT + offset, READINESS_PORT + offset)
        };
        let dir = harness.dir.path().join(format!("load-{index}"));
        let mut server = PolicyServer::start(&dir, &policies, kubeconfig, options)?;
        server.wait_ready(options.readiness_port, Duration::from_secs(180))?;
        // One request first: the kube client's discovery and the cache of the found objects.
        server.review("validate", policy_id, review)?;
        let log_before = server.log_len();
        let api_before = harness.api.request_count();
        let (answered, failed) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        std::thread::scope(|scope| {
            for _ in 0..CLIENTS {
                scope.spawn(|| {
                    while Instant::now() < deadline {
                        match server.review("validate", policy_id, review) {
                            Ok(_) => answered.fetch_add(1, Ordering::Relaxed),
                            Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                        };
                    }
                });
            }
        });
        let elapsed = started.elapsed().as_secs_f64();
        let (peak, now) = memory_kib(server.pid());
        let events = logs::events(&server.log_since(log_before));
        let errors = events.iter().filter(|e| e.level == "ERROR").count();
        let not_found = events.iter().filter(|e| e.is_expected_not_found()).count();
        let api = harness.api.request_count() - api_before;
        let (answered, failed) = (answered.into_inner(), failed.into_inner());
        if failed > 0 || answered == 0 {
            return Err(format!("{name}: {failed} requests failed, {answered} answered"));
        }
        let per_request = |n: usize| n as f64 / answered as f64;
        let mib = |kib: u64| kib as f64 / 1024.0;
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} | {:.1} |",
            answered as f64 / elapsed,
            per_request(errors),
            per_request(not_found),
            per_request(api),
            mib(peak),
            mib(now)
        );
        println!(
            "policy-server load: {name}: {answered} requests in {elapsed:.2} s, {errors} ERROR lines ({not_found} expected not-found), {api} API requests"
        );
    }
    Ok(())
}

/// policy-server's peak and current resident memory (`VmHWM`, `VmRSS`), in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}
