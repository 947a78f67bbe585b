//! `make bench`: every case of the hostile catalogue (tests/hostile/catalogue.rs) through
//! policy.wasm under wasmtime with Cranelift's optimizations, as policy-server runs it: the
//! settings validated once, then a fresh instance per request (instantiation and `validate`,
//! timed; for invalid settings, `validate_settings` is timed). Prints, per case, the median time
//! of a few runs, the guest's linear memory after the evaluation (its peak) and the lookups
//! answered; fails when the worst case exceeds 50 ms or 64 MiB.

#[path = "../tests/hostile/catalogue.rs"]
mod catalogue;

use std::path::Path;
use std::time::Duration;

use backup_blueprint_policy_e2e::engine::PolicyModule;
use backup_blueprint_policy_e2e::metadata::AllowList;
use backup_blueprint_policy_e2e::run::Runner;

const RUNS: usize = 5;
const MAX_TIME: Duration = Duration::from_millis(50);

fn main() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let policy = std::env::var_os("POLICY_WASM").map_or_else(|| root.join("policy.wasm"), Into::into);
    let module = PolicyModule::from_file_optimized(&policy).expect("policy.wasm compiles (make policy.wasm)");
    let allow_list = AllowList::from_metadata_file(&root.join("metadata.yml")).expect("metadata.yml");
    let runner = Runner::new(module, allow_list);
    let cases = catalogue::catalogue();
    println!(
        "{} hostile cases, {} ({RUNS} runs each, median)",
        cases.len(),
        policy.display()
    );
    println!("| case | decision | time (ms) | guest memory (MiB) | lookups |");
    println!("|---|---|---:|---:|---:|");
    let (mut worst_time, mut worst_memory, mut failures) = (Duration::ZERO, 0u64, Vec::new());
    for case in &cases {
        let mut times = Vec::with_capacity(RUNS);
        let mut observed = None;
        for _ in 0..RUNS {
            let run = case.run(&runner);
            times.push(run.time);
            observed = Some(run);
        }
        times.sort();
        let (time, observed) = (times[RUNS / 2], observed.expect("one run"));
        let problems = observed.problems(case);
        if !problems.is_empty() {
            failures.push(format!("{}: {}", case.name, problems.join("; ")));
        }
        println!(
            "| {} | {} | {:.2} | {:.2} | {} |",
            case.name,
            observed
                .decision
                .map_or_else(|| "ENGINE ERROR".to_string(), |d| format!("{d:?}")),
            time.as_secs_f64() * 1e3,
            observed.guest_memory as f64 / f64::from(1 << 20),
            observed.lookups.len()
        );
        worst_time = worst_time.max(time);
        worst_memory = worst_memory.max(observed.guest_memory);
    }
    println!(
        "worst: {:.2} ms (bound {} ms), {:.2} MiB (bound {} MiB)",
        worst_time.as_secs_f64() * 1e3,
        MAX_TIME.as_millis(),
        worst_memory as f64 / f64::from(1 << 20),
        catalogue::MAX_GUEST_MEMORY >> 20
    );
    if worst_time > MAX_TIME {
        failures.push(format!("the worst case takes {worst_time:?}"));
    }
    if worst_memory > catalogue::MAX_GUEST_MEMORY {
        failures.push(format!("the worst case uses {worst_memory} bytes of guest memory"));
    }
    if !failures.is_empty() {
        eprintln!("{}", failures.join("\n"));
        std::process::exit(1);
    }
}
