//! `policy-run`: see `backup_blueprint_policy_e2e::cli`.

fn main() -> std::process::ExitCode {
    backup_blueprint_policy_e2e::cli::main()
}
