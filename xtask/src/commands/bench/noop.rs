//! A rebuild with nothing changed: `cargo xtask all --exec true` up to QEMU's start, against
//! `make <image>` (the seed's `make zImage`; versatilepb now builds `Image`) in the kernel's
//! build directory.

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::outputs::require;
use super::report::{Row, Section, Target, Value};
use super::samples::{interleave, Plan, Stats, Variant};
use crate::board::Board;
use crate::engine::BoardLock;
use crate::layout;
use crate::render::render_command;

/// The issue's target for a no-op rebuild.
const TARGET: Target = Target::OursAtMost { seconds: 0.5 };

/// How often a timed `cargo xtask all` may turn out not to be a no-op before giving up.
const ATTEMPTS: usize = 3;

/// One `cargo xtask all --exec true`: until it printed the QEMU command, and in all.
#[derive(Debug, Clone)]
struct AllRun {
    before_qemu: Duration,
    total: Duration,
    /// What it rebuilt: stages that said `done`, and `xtask` if cargo recompiled it.
    rebuilt: Vec<String>,
}

/// Times both no-op rebuilds; each is run once first, untimed, so that it is a no-op.
pub fn run(board: &Board, plan: &Plan, _dir: &Utf8Path) -> Result<Section> {
    require(board.kernel_config(), "kernel .config")?;
    require(board.kernel_image(), "kernel image")?;
    let (make, image) = make_image(board)?;
    let make_label = format!("make {image}");
    eprintln!(
        "  warming up (builds whatever is stale): {} and {}",
        render_command(&all_command(board)),
        render_command(&make)
    );
    time_all(all_command(board), &board.spec.qemu.binary)?;
    time_make(board, &make)?;

    let mut all_runs: Vec<AllRun> = Vec::new();
    let mut repeated: Vec<String> = Vec::new();
    let mut variants = vec![
        Variant::new("cargo xtask all --exec true", || {
            time_no_op_all(board, &mut all_runs, &mut repeated)
        }),
        Variant::new(format!("{make_label} (nothing to do)"), || {
            time_make(board, &make)
        }),
    ];
    let samples = interleave(plan, &mut variants)?;
    drop(variants);
    Ok(Section {
        name: "noop".into(),
        title: format!("no-op rebuild: cargo xtask all vs {make_label}"),
        rows: rows(&samples, &all_runs, &make_label)?,
        notes: notes(board, &make, &repeated),
    })
}

/// `cargo xtask --board <board> -v all --exec true` from the workspace root.
fn all_command(board: &Board) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(layout::workspace_root()).args([
        "xtask",
        "--board",
        &board.name,
        "-v",
        "all",
        "--exec",
        "true",
    ]);
    cmd
}

/// One timed no-op `all` (into `runs`): others may change the work tree meanwhile, and a
/// run that rebuilt something is not a no-op, so it is run again (noted in `repeated`).
fn time_no_op_all(
    board: &Board,
    runs: &mut Vec<AllRun>,
    repeated: &mut Vec<String>,
) -> Result<Duration> {
    for _ in 0..ATTEMPTS {
        let run = time_all(all_command(board), &board.spec.qemu.binary)?;
        if run.rebuilt.is_empty() {
            let before_qemu = run.before_qemu;
            runs.push(run);
            return Ok(before_qemu);
        }
        repeated.push(run.rebuilt.join(", "));
    }
    bail!(
        "`cargo xtask all` rebuilt something {ATTEMPTS} times in a row ({}): is the \
         work tree changing?",
        repeated.join("; ")
    )
}

/// The rows: start → QEMU starts against make, then the whole run and QEMU's share.
fn rows(samples: &[Vec<Duration>], all_runs: &[AllRun], make_label: &str) -> Result<Vec<Row>> {
    let seconds = |durations: &[Duration]| -> Result<Value> {
        Stats::of_durations(durations)
            .map(Value::Seconds)
            .context("no runs measured")
    };
    let totals: Vec<Duration> = all_runs.iter().map(|r| r.total).collect();
    let boots: Vec<Duration> = all_runs.iter().map(|r| r.total - r.before_qemu).collect();
    Ok(vec![
        Row::compare(
            "no-op `cargo xtask all`, start → QEMU starts",
            seconds(&samples[0])?,
            make_label.to_string(),
            seconds(&samples[1])?,
        )
        .with_target(TARGET),
        Row::single("  `cargo xtask all --exec true` in all", seconds(&totals)?),
        Row::single("  of which QEMU (boot, `true`, stop)", seconds(&boots)?),
    ])
}

/// What was timed, and the runs left out because they rebuilt something.
fn notes(board: &Board, make: &Command, repeated: &[String]) -> Vec<String> {
    let mut notes = vec![
        format!(
            "ours: `{}` from the workspace root, timed until it prints the QEMU command line \
             (`-v` prints it just before starting QEMU): cargo's freshness check, the setup \
             check, and fetch, configure, build and pack finding nothing to do",
            render_command(&all_command(board))
        ),
        format!(
            "baseline: `{}` in the board's kernel build directory, nothing changed (run under \
             the board's lock)",
            render_command(make)
        ),
    ];
    if !repeated.is_empty() {
        notes.push(format!(
            "{} run(s) of `cargo xtask all` rebuilt something because the work tree changed \
             meanwhile ({}); they were left out and run again",
            repeated.len(),
            repeated.join("; ")
        ));
    }
    notes
}

/// `make -C <src> O=<build> ARCH=.. CROSS_COMPILE=.. [CC="ccache .."] -j<cpus> <image>`, the
/// build stage's own command line (`stages::build::make`), and the image's file name
/// (`zImage`, `Image`, `vmlinux`). Any other command line would not be a no-op: Kbuild
/// rebuilds every object whose compile command changed, so a `make` without the stage's
/// `CC=ccache ..` recompiles the kernel, and the next `all` recompiles it back.
fn make_image(board: &Board) -> Result<(Command, String)> {
    let src = require(board.kernel_src(), "kernel source tree")?;
    let image = board
        .spec
        .kernel
        .image
        .file_name()
        .context("[kernel] image has no file name")?
        .to_string();
    let mut cmd = crate::stages::build::make(
        board,
        &src,
        &board.kernel_build(),
        &Default::default(),
        None,
    )?;
    cmd.arg(&image);
    Ok((cmd, image))
}

fn time_make(board: &Board, make: &Command) -> Result<Duration> {
    let mut cmd = Command::new(make.get_program());
    cmd.args(make.get_args());
    let _lock = BoardLock::acquire(board)?;
    let start = Instant::now();
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .context("cannot run `make`")?;
    let took = start.elapsed();
    if !output.status.success() {
        bail!(
            "`{}` failed ({}):\n{}",
            render_command(&cmd),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(took)
}

/// Runs `cmd` (`cargo xtask -v all --exec true`), noting when its stderr shows `$ <qemu> ..`
/// and what it rebuilt.
fn time_all(mut cmd: Command, qemu: &str) -> Result<AllRun> {
    let shown = render_command(&cmd);
    let binary = std::env::current_exe().ok();
    let built_at = |binary: &Option<std::path::PathBuf>| {
        binary
            .as_ref()
            .and_then(|b| std::fs::metadata(b).and_then(|m| m.modified()).ok())
    };
    let before = built_at(&binary);
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run `{shown}`"))?;
    let stderr = child.stderr.take().context("no stderr")?;
    let marker = format!("$ {qemu} ");
    let mut before_qemu = None;
    let mut lines = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.context("reading cargo xtask's stderr")?;
        if before_qemu.is_none() && line.starts_with(&marker) {
            before_qemu = Some(start.elapsed());
        }
        lines.push(line);
    }
    let status = child.wait().context("waiting for cargo xtask")?;
    let total = start.elapsed();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    if !status.success() {
        bail!("`{shown}` failed ({status}):\n{tail}");
    }
    let Some(before_qemu) = before_qemu else {
        bail!("`{shown}` never printed the QEMU command line:\n{tail}");
    };
    let mut rebuilt = rebuilt_stages(&lines);
    // cargo (run with --quiet by the alias) says nothing when it recompiles xtask itself.
    if built_at(&binary) != before {
        rebuilt.push("xtask".to_string());
    }
    Ok(AllRun {
        before_qemu,
        total,
        rebuilt,
    })
}

/// The stages a run's progress lines say did work (`[build-init] done in 0.4s`).
fn rebuilt_stages(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| {
            let (stage, rest) = l.strip_prefix('[')?.split_once("] ")?;
            rest.starts_with("done in ").then(|| stage.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn stages_that_did_work_are_found_in_the_progress_lines() {
        let lines: Vec<String> = [
            "[fetch] started",
            "inputs unchanged: nothing to do",
            "[fetch] up to date in 0.0s",
            "[build-init] started",
            "[build-init] done in 0.4s",
            "[pack] done in 0.2s",
            "$ qemu-system-arm -M versatilepb",
            "guest said: [x] done in 1s",
        ]
        .map(String::from)
        .to_vec();
        expect![[r#"["build-init", "pack"]"#]].assert_eq(&format!("{:?}", rebuilt_stages(&lines)));
    }
}
