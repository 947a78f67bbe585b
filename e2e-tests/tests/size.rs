//! policy.wasm is pulled by every policy-server: it stays within its size budget.

mod common;

/// Issue 9: at most 300 KB with every feature, after `wasm-opt -Oz` (`make policy.wasm`).
const BUDGET_BYTES: u64 = 300_000;

#[test]
fn policy_wasm_stays_within_its_size_budget() {
    // Without binaryen, `make policy.wasm` copies the unoptimised module: nothing to compare.
    let wasm_opt = std::env::var_os("WASM_OPT").unwrap_or_else(|| "wasm-opt".into());
    if std::process::Command::new(&wasm_opt).arg("--version").output().is_err() {
        eprintln!(
            "skipped: {} is not installed, so policy.wasm is not size-optimised",
            wasm_opt.display()
        );
        return;
    }
    let path = common::policy_path();
    let size = std::fs::metadata(&path).expect("policy.wasm is readable").len();
    assert!(
        size <= BUDGET_BYTES,
        "{} is {size} bytes, over its budget of {BUDGET_BYTES}: see README, Size and speed, for where the bytes go",
        path.display()
    );
}
