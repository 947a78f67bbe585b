//! What the README shows a user of `policy-run` is what policy-run does: every `$ policy-run …`
//! line of a `console` block is run (from the repository root, through `sh`, so that its pipes
//! and redirections work) and must print exactly the lines that follow it; every other
//! `policy-run …` line (an example with the user's own files) must at least be accepted by the
//! argument parser. The README is embedded in the policy (`kwctl annotate -u README.md`), so
//! this is also what `kwctl inspect` and Artifact Hub show.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// One command of a `console` block, with the output the README shows for it.
#[derive(Debug)]
struct Shown {
    /// The README line of the command, for messages.
    line: usize,
    command: String,
    /// `None` for a command shown without a prompt: an example, not a transcript.
    output: Option<String>,
}

fn repo_root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).to_path_buf()
}

/// The `policy-run` commands of the `console` blocks of `markdown`.
fn shown_commands(markdown: &str) -> Vec<Shown> {
    let mut shown: Vec<Shown> = Vec::new();
    let mut in_console = false;
    let mut transcript: Option<usize> = None;
    for (index, line) in markdown.lines().enumerate() {
        let number = index + 1;
        if line.starts_with("```") {
            in_console = !in_console && line == "```console";
            transcript = None;
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            transcript = None;
            if command.starts_with("policy-run ") {
                shown.push(Shown {
                    line: number,
                    command: command.to_string(),
                    output: Some(String::new()),
                });
                transcript = Some(shown.len() - 1);
            }
            continue;
        }
        if let Some(at) = transcript {
            let output = shown[at].output.get_or_insert_with(String::new);
            output.push_str(line);
            output.push('\n');
            continue;
        }
        if line.starts_with("policy-run ") {
            shown.push(Shown {
                line: number,
                command: line.to_string(),
                output: None,
            });
        }
    }
    shown
}

fn run(command: &str) -> std::process::Output {
    let binary = Path::new(env!("CARGO_BIN_EXE_policy-run"));
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(repo_root())
        .env("PATH", path)
        .env("POLICY_WASM", common::policy_path())
        // Compiled once for all the commands (the cache is keyed by the module's contents).
        .env(
            "POLICY_RUN_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("readme-policy-cache"),
        )
        .output()
        .expect("sh runs")
}

#[test]
fn every_policy_run_transcript_of_the_readme_is_what_policy_run_prints() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let shown = shown_commands(&readme);
    let transcripts: Vec<&Shown> = shown.iter().filter(|s| s.output.is_some()).collect();
    assert!(
        transcripts.len() >= 5,
        "the README shows {} policy-run transcripts",
        transcripts.len()
    );
    for transcript in &transcripts {
        let command = transcript
            .command
            .replacen("policy-run ", "policy-run --policy \"$POLICY_WASM\" ", 1);
        let printed = String::from_utf8_lossy(&run(&command).stdout).into_owned();
        let expected = transcript.output.as_deref().unwrap_or_default();
        assert!(
            printed == expected,
            "README.md line {}: `$ {}` prints something else; update the README:\n--- README\n{expected}--- policy-run\n{printed}",
            transcript.line,
            transcript.command
        );
    }
    eprintln!("README: {} policy-run transcripts checked", transcripts.len());
}

/// The examples with the user's own files: the options must exist; the run may only fail on the
/// files (policy-run's usage errors exit with status 2).
#[test]
fn every_policy_run_example_of_the_readme_uses_existing_options() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let examples: Vec<Shown> = shown_commands(&readme)
        .into_iter()
        .filter(|s| s.output.is_none())
        .collect();
    assert!(
        examples.len() >= 5,
        "the README shows {} policy-run examples",
        examples.len()
    );
    for example in &examples {
        // Only policy-run itself: the part before a pipe or a redirection.
        let command = example.command.split(['|', '>']).next().unwrap_or_default();
        let output = run(command);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_ne!(
            output.status.code(),
            Some(2),
            "README.md line {}: `{}` is not a valid policy-run command line: {stderr}",
            example.line,
            example.command
        );
    }
}

#[test]
fn transcripts_and_examples_are_told_apart() {
    let markdown = "```console\n$ policy-run --a\none\n\ntwo\n$ other\nnot output\npolicy-run --b\n```\n\
                    ```text\n$ policy-run --c\n```\n";
    let shown = shown_commands(markdown);
    // The transcript of `--a` and the example `--b`; neither `$ other` nor the text block.
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert_eq!(shown[0].command, "policy-run --a");
    assert_eq!(shown[0].output.as_deref(), Some("one\n\ntwo\n"));
    assert_eq!(shown[1].command, "policy-run --b");
    assert_eq!(shown[1].output, None);
}
