//! The README runs top to bottom: every ```sh block, in order, in one `bash` with
//! `set -euo pipefail`, against a fresh service and a fresh config dir, with `fleet` on PATH.
//! A block that cannot run here (installing, starting a service, production settings) is
//! preceded by `<!-- readme-test: skip (why) -->`, so skipping is visible in the source.

use std::path::Path;
use std::process::Command;

use crate::common::cli::Cli;
use crate::common::server::TestServer;

const SKIP_MARK: &str = "<!-- readme-test: skip";

/// The README's runnable blocks: (line of the opening fence, body).
fn runnable_blocks(readme: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut previous = "";
    let mut open: Option<(usize, bool, String)> = None;
    for (index, line) in readme.lines().enumerate() {
        match &mut open {
            Some((start, skip, body)) => {
                if line.trim_start().starts_with("```") {
                    if !*skip {
                        blocks.push((*start, std::mem::take(body)));
                    }
                    open = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
            None => {
                let fence = line.trim_start();
                if let Some(lang) = fence.strip_prefix("```") {
                    let skip = lang.trim() != "sh" || previous.starts_with(SKIP_MARK);
                    open = Some((index + 1, skip, String::new()));
                }
            }
        }
        if !line.trim().is_empty() {
            previous = line.trim();
        }
    }
    blocks
}

fn has(program: &str) -> bool {
    Command::new(program)
        .arg(if program == "openssl" {
            "version"
        } else {
            "--version"
        })
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_readme_runs_top_to_bottom() {
    use std::io::Write as _;
    if let Some(missing) = ["bash", "jq", "openssl"].into_iter().find(|p| !has(p)) {
        // CI installs them: there a skip would hide a README that no longer runs.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the README test needs {missing} under CI"
        );
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the README test needs bash, jq and openssl on PATH ({missing} is missing; \
             .ci/run installs them)"
        );
        return;
    }
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("read README.md");
    let blocks = runnable_blocks(&readme);
    assert!(
        blocks.len() >= 6,
        "the README's walkthrough has blocks: {blocks:?}"
    );
    let mut script = String::from("set -euo pipefail\n");
    for (line, body) in &blocks {
        script.push_str(&format!("echo '## README.md line {line}' >&2\n{body}"));
    }
    script.push_str("echo '## README done' >&2\n");

    let server = TestServer::start();
    let cli = Cli::against(&server);
    let work = tempfile::tempdir().expect("work dir");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_fleet"))
        .parent()
        .expect("the binary's directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The sealed environment of every other CLI test: temp HOME and config dir, NO_COLOR.
    let sealed = cli.std_command();
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(work.path())
        .env_clear()
        .envs(sealed.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .env("PATH", path)
        .output()
        .expect("run bash");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let failed_at = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("## README"))
        .unwrap_or("before the first block");
    assert!(
        output.status.success() && stderr.contains("## README done"),
        "the README stopped at {failed_at}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    // The examples do what their text says, not only exit 0: no bulk example selects nothing,
    // and sn-0001 ends with every configuration layer the Configurations section describes
    // (the beta cohort's log level, its own override as the berlin bulk override wrote it).
    assert!(
        !stderr.contains("no devices matched"),
        "an example selected nothing\n--- stderr\n{stderr}"
    );
    let effective = cli
        .run(&[
            "config",
            "show",
            "--device",
            "sn-0001",
            "--effective",
            "-o",
            "json",
        ])
        .success()
        .json();
    assert_eq!(
        effective.pointer("/document/log"),
        Some(&"debug".into()),
        "{effective}"
    );
    assert_eq!(
        effective.pointer("/document/sampling/rate_s"),
        Some(&30.into()),
        "{effective}"
    );
}

#[test]
fn blocks_are_found_and_skip_marks_are_honoured() {
    let readme = "intro\n```sh\nfleet a\n```\n<!-- readme-test: skip (starts a service) -->\n\n```sh\nfleet server\n```\n```text\nnot shell\n```\n```sh\nfleet b\nfleet c\n```\n";
    let blocks = runnable_blocks(readme);
    assert_eq!(
        blocks,
        vec![
            (2, "fleet a\n".to_owned()),
            (13, "fleet b\nfleet c\n".to_owned())
        ]
    );
}
