//! Shell-style pipelines (`a | b | c`) run without a shell, for the baselines.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::process::{Child, Command, Stdio};

use crate::render::render_command;

/// Runs `commands` with each one's stdout on the next one's stdin; returns the last one's
/// stdout. Fails if any of them fails, naming the last that did (as a shell's pipeline
/// status is the last command's). stderr is left to the caller's.
pub fn run_pipeline(commands: Vec<Command>) -> Result<Vec<u8>> {
    let mut children: Vec<(String, Child)> = Vec::new();
    let mut previous: Option<std::process::ChildStdout> = None;
    for mut cmd in commands {
        let shown = render_command(&cmd);
        if let Some(stdout) = previous.take() {
            cmd.stdin(Stdio::from(stdout));
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run `{shown}`"))?;
        previous = child.stdout.take();
        children.push((shown, child));
    }
    let mut out = Vec::new();
    if let Some(mut stdout) = previous {
        stdout
            .read_to_end(&mut out)
            .context("reading the pipeline's output")?;
    }
    let mut failed = None;
    for (shown, mut child) in children {
        let status = child
            .wait()
            .with_context(|| format!("waiting for `{shown}`"))?;
        if !status.success() {
            failed = Some((shown, status));
        }
    }
    // The last failure is the cause: a command before it only died of the broken pipe.
    if let Some((shown, status)) = failed {
        bail!("`{shown}` failed ({status})");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn cmd(program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args);
        cmd
    }

    #[test]
    fn each_stdout_feeds_the_next_stdin() {
        let out = run_pipeline(vec![
            cmd("printf", &["b\\na\\nc\\n"]),
            cmd("sort", &[]),
            cmd("tr", &["a-z", "A-Z"]),
        ])
        .unwrap();
        expect![[r#"
            A
            B
            C
        "#]]
        .assert_eq(&String::from_utf8_lossy(&out));
    }

    #[test]
    fn the_last_failing_stage_is_named() {
        let err = run_pipeline(vec![cmd("yes", &[]), cmd("false", &[])]).unwrap_err();
        expect!["`false` failed (exit status: 1)"].assert_eq(&err.to_string());
    }
}
