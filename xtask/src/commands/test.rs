//! `cargo xtask test`: the README's test command.
//!
//! Lints (fmt, clippy, zizmor on the workflow), `cargo test --workspace`, the build
//! pipeline (cached stages), then the end-to-end suite (`e2e`), which boots the real
//! system in QEMU: on the board given with `--board`, else on every board whose host
//! tools are present (the others are reported as not run, with what is missing).
//! Ends with one `N passed, N failed, N not run` line and a non-zero exit on any failure.

use anyhow::Result;
use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::board::{Board, DEFAULT_BOARD};
use crate::engine::{render_error, symlink_atomic, Ctx};
use crate::host::{setup, zizmor};
use crate::layout;
use crate::render::render_command;

mod e2e;
mod phases;

use e2e::Failure;
use phases::Phases;

/// Options of `cargo xtask test`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TestArgs {
    /// Skip the end-to-end suite (no kernel build, no QEMU)
    #[arg(long)]
    pub no_e2e: bool,
    /// Skip `cargo fmt --check` and `cargo clippy`
    #[arg(long)]
    pub no_lint: bool,
    /// Run only end-to-end checks whose name contains this
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
}

/// Pass/fail counts and the failures to report.
#[derive(Debug, Default)]
struct Tally {
    passed: usize,
    failed: usize,
    /// Checks that could not run on this host (a board's tools are missing).
    not_run: usize,
    failures: Vec<(String, Failure)>,
}

impl Tally {
    fn record(&mut self, name: &str, result: std::result::Result<(), Failure>) {
        match result {
            Ok(()) => {
                self.passed += 1;
                eprintln!("ok       {name}");
            }
            Err(failure) => {
                self.failed += 1;
                eprintln!("FAILED   {name}");
                self.failures.push((name.to_string(), failure));
            }
        }
    }

    /// Prints each failure, the `timing` line, then the counts; the exit code says whether
    /// anything failed.
    fn report(&self, timing: &str) -> ExitCode {
        for (name, failure) in &self.failures {
            eprintln!("\n=== FAILED: {name}\n{failure}");
        }
        println!("{timing}");
        println!(
            "{} passed, {} failed, {} not run",
            self.passed, self.failed, self.not_run
        );
        if self.failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }

    /// A check that cannot run here, and what to do about it.
    fn cannot_run(&mut self, name: &str, reason: &str) {
        self.not_run += 1;
        eprintln!("not run  {name}: {reason}");
    }

    /// `count` checks of `board` that cannot run here, and why.
    fn not_run(&mut self, board: &str, count: usize, reason: &str) {
        self.not_run += count;
        let checks = if count == 1 { "check" } else { "checks" };
        eprintln!("not run  {board}: {count} end-to-end {checks}: {reason}");
    }
}

/// `cargo xtask test`: on the board `--board` names; without `--board`, on every other
/// board whose host tools are present too. Ends with how long each phase took.
pub fn run(ctx: &Ctx, args: TestArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let board = ctx.board()?;
    // The suite tests optional features too (build --distcc).
    setup::ensure_with_optional(ctx)?;
    let others = if ctx.board_given() {
        Vec::new()
    } else {
        other_boards(board)?
    };
    if !args.no_e2e {
        for board in std::iter::once(board).chain(&others) {
            e2e::pin_binary(board)?;
        }
    }
    let mut tally = Tally::default();
    let mut phases = Phases::default();
    let ready = if args.no_e2e {
        Vec::new()
    } else {
        ready_boards(others, &args, &mut tally)
    };
    std::thread::scope(|scope| {
        // The other boards build from the start, niced: the lint, the first board's
        // link steps, cargo test and the boots under TCG leave a core idle much of
        // the time, and take it back when they need it.
        let (sender, built_others) = std::sync::mpsc::channel();
        let verbose = ctx.verbose;
        if !ready.is_empty() {
            scope.spawn(move || build_in_background(ready, verbose, sender));
        }
        if !args.no_lint {
            phases.time("lint", || lint(&mut tally));
        }
        // The fetched sources make the kconfig crate's tests check every defconfig and
        // compare with merge_config.sh; the build gives the e2e suite its system.
        let built = if args.no_e2e {
            Ok(())
        } else {
            phases.time(format!("build {}", board.name), || {
                build_system(ctx, "cargo xtask all --no-boot")
            })
        };
        let test = cargo_test_command(board, built.is_ok() && !args.no_e2e);
        phases.time("cargo test", || cargo_test(test, &mut tally));
        if !args.no_e2e {
            let tally = Mutex::new(&mut tally);
            let beside = phases.time("e2e", || {
                run_e2e_at_once(ctx, built, built_others, &args, &tally)
            });
            for (name, took) in beside {
                phases.add_background(name, took);
            }
        }
    });
    Ok(tally.report(&phases.render(started.elapsed())))
}

/// Every board but `board`.
fn other_boards(board: &Board) -> Result<Vec<Board>> {
    let mut others = Vec::new();
    for name in Board::names()? {
        if name != board.name {
            others.push(Board::load(&name)?);
        }
    }
    Ok(others)
}

/// The boards whose host tools are present, slowest to boot first (by their `[bench]
/// prompt_within`): their suites take longest, so they should start soonest. The
/// others' checks are counted as not run.
fn ready_boards(boards: Vec<Board>, args: &TestArgs, tally: &mut Tally) -> Vec<Board> {
    let mut ready = Vec::new();
    for board in boards {
        match setup::missing_tools(&board) {
            Some(reason) => {
                let count = e2e::count(args.filter.as_deref());
                tally.not_run(&board.name, count, &reason);
            }
            None => ready.push(board),
        }
    }
    ready.sort_by(|a, b| {
        let within = |board: &Board| board.spec.bench.prompt_within.unwrap_or(0.0);
        within(b).total_cmp(&within(a))
    });
    ready
}

/// A board's system built in the background: its context, the result, how long it took.
struct Built {
    ctx: Ctx,
    result: std::result::Result<(), Failure>,
    took: Duration,
}

/// Builds each board's system in turn at a lower CPU priority (this thread's, which the
/// tools it starts inherit), sending each with its result as it is done.
fn build_in_background(boards: Vec<Board>, verbose: bool, sender: Sender<Built>) {
    // SAFETY: setpriority on the calling thread (who = 0) only; failure leaves it as is.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
    for board in boards {
        let command = format!("cargo xtask --board {} all --no-boot", board.name);
        let ctx = Ctx::for_board(board, verbose);
        let start = Instant::now();
        let result = build_system(&ctx, &command);
        let took = start.elapsed();
        if sender.send(Built { ctx, result, took }).is_err() {
            return;
        }
    }
}

/// `cargo fmt --check` and `cargo clippy -D warnings` on the workspace, and zizmor on the
/// GitHub workflow (offline, findings of medium severity or higher fail).
fn lint(tally: &mut Tally) {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    tally.record("cargo fmt --check", run_tool(fmt));
    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    tally.record("cargo clippy -D warnings", run_tool(clippy));
    let name = "zizmor .github/workflows";
    match zizmor::find() {
        Some(bin) => tally.record(
            name,
            run_tool(zizmor::lint_command(&bin, &layout::workspace_root())),
        ),
        None => tally.cannot_run(name, &zizmor::missing_reason()),
    }
}

/// The cargo running this xtask, in the workspace root.
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(layout::workspace_root());
    cmd
}

/// Every stage before the boot, as the failure of `command` when it fails.
fn build_system(ctx: &Ctx, command: &str) -> std::result::Result<(), Failure> {
    super::all::build_all(ctx)
        .map_err(|e| Failure::new(command, "the pipeline builds", render_error(&e)))
}

/// `cargo test --workspace`; with the board `built`, pointed at its source trees (the
/// kconfig crate's tests read every defconfig) and, for the default board, its boot
/// files (the qemu integration tests boot them).
fn cargo_test_command(board: &Board, built: bool) -> Command {
    let mut test = cargo();
    // Every test binary runs, so the counts cover all of them. The unit tests are
    // about this repository's boards, wherever $MINILINUX_BOARDS_DIR points.
    test.args(["test", "--workspace", "--no-fail-fast"])
        .env_remove("MINILINUX_BOARDS_DIR");
    if !built {
        return test;
    }
    test.env("MINILINUX_KERNEL_SRC", board.kernel_src());
    test.env("MINILINUX_BUSYBOX_SRC", board.busybox_src());
    test.env("MINILINUX_BUSYBOX_BUILD", board.busybox_build());
    if board.name == DEFAULT_BOARD {
        match boot_files(board) {
            Ok(dir) => {
                test.env("MINILINUX_QEMU_TEST_FILES", dir);
            }
            Err(e) => {
                eprintln!("warning: the qemu integration tests will skip their boots: {e:#}")
            }
        }
    }
    test
}

/// The end-to-end suites of the first board (`built`) and of the others as their
/// builds arrive, all at once, each on its own thread: a boot under TCG keeps about one
/// core busy, and most of a suite is waiting on the guest. Returns each board's
/// background build and suite time, in the order they ended.
fn run_e2e_at_once(
    ctx: &Ctx,
    built: std::result::Result<(), Failure>,
    built_others: Receiver<Built>,
    args: &TestArgs,
    tally: &Mutex<&mut Tally>,
) -> Vec<(String, Duration)> {
    let (sender, times) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let first = sender.clone();
        scope.spawn(move || {
            let took = timed(|| run_e2e(ctx, built, args, tally));
            let _ = first.send((e2e_phase(ctx), took));
        });
        for Built { ctx, result, took } in built_others {
            let _ = sender.send((format!("build {}", board_name(&ctx)), took));
            let sender = sender.clone();
            scope.spawn(move || {
                let took = timed(|| run_e2e(&ctx, result, args, tally));
                let _ = sender.send((e2e_phase(&ctx), took));
            });
        }
    });
    drop(sender);
    times.into_iter().collect()
}

/// How long `work` took.
fn timed(work: impl FnOnce()) -> Duration {
    let start = Instant::now();
    work();
    start.elapsed()
}

/// The context's board name, or nothing when its board.toml does not load.
fn board_name(ctx: &Ctx) -> String {
    ctx.board().map(|b| b.name.clone()).unwrap_or_default()
}

/// `e2e <board>`: the phase name of a board's suite.
fn e2e_phase(ctx: &Ctx) -> String {
    format!("e2e {}", board_name(ctx))
}

/// The end-to-end checks on the context's board, named `<board>: <check>`, once its
/// system is built.
fn run_e2e(
    ctx: &Ctx,
    built: std::result::Result<(), Failure>,
    args: &TestArgs,
    tally: &Mutex<&mut Tally>,
) {
    let record = |name: &str, result| tally.lock().expect("tally").record(name, result);
    let board = match ctx.board() {
        Ok(board) => board,
        Err(e) => {
            return record(
                "load the board",
                Err(Failure::new("board.toml", "a board", format!("{e:#}"))),
            )
        }
    };
    let name = &board.name;
    match built {
        Ok(()) => e2e::run(ctx, board, args.filter.as_deref(), &mut |check, result| {
            record(&format!("{name}: {check}"), result)
        }),
        Err(failure) => record(&format!("{name}: pipeline builds the system"), Err(failure)),
    }
}

/// A directory of `kernel`, `dtb`, `config`, `initramfs` symlinks to the board's
/// build, for the qemu integration tests (`xtask/tests/it/qemu.rs`).
fn boot_files(board: &Board) -> Result<camino::Utf8PathBuf> {
    let dir = board.out_dir().join("test-files");
    fs_err::create_dir_all(&dir)?;
    let mut links = vec![
        ("kernel", board.kernel_image()),
        ("config", board.kernel_config()),
        ("initramfs", board.current_initramfs()),
    ];
    if let Some(dtb) = board.dtb() {
        links.push(("dtb", dtb));
    }
    for (name, target) in links {
        symlink_atomic(&target, &dir.join(name))?;
    }
    Ok(dir)
}

/// Runs a tool with its output on the terminal; a failure carries its exit status.
fn run_tool(mut cmd: Command) -> std::result::Result<(), Failure> {
    let shown = render_command(&cmd);
    eprintln!("$ {shown}");
    match cmd.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(Failure::new(
            &shown,
            "exit status 0",
            format!("{status} (output above)"),
        )),
        Err(e) => Err(Failure::new(&shown, "the tool runs", e.to_string())),
    }
}

/// Runs `cargo test`, streaming its output and adding its per-test counts to the tally.
fn cargo_test(mut cmd: Command, tally: &mut Tally) {
    let shown = render_command(&cmd);
    eprintln!("$ {shown}");
    cmd.stdout(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            return tally.record(
                &shown,
                Err(Failure::new(&shown, "cargo runs", e.to_string())),
            )
        }
    };
    let mut counted = false;
    let mut failed_lines = Vec::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
            println!("{line}");
            if let Some((passed, failed)) = parse_test_result(&line) {
                tally.passed += passed;
                tally.failed += failed;
                counted = true;
            }
            if line.starts_with("test ") && line.ends_with("FAILED") {
                failed_lines.push(line);
            }
        }
    }
    let status = child.wait();
    for line in failed_lines {
        tally.failures.push((
            line.clone(),
            Failure::new(&shown, "the test passes", "see its output above"),
        ));
    }
    match status {
        Ok(s) if s.success() => {}
        Ok(s) if counted && tally.failed > 0 => {
            let _ = s;
        }
        other => tally.record(
            &shown,
            Err(Failure::new(
                &shown,
                "exit status 0",
                format!("{other:?} (output above)"),
            )),
        ),
    }
}

/// Counts from a `test result: ok. 12 passed; 0 failed; ...` line.
fn parse_test_result(line: &str) -> Option<(usize, usize)> {
    let rest = line.strip_prefix("test result: ")?;
    let number_before = |word: &str| -> Option<usize> {
        let at = rest.find(word)?;
        rest[..at]
            .split_whitespace()
            .last()?
            .trim_end_matches(';')
            .parse()
            .ok()
    };
    Some((number_before(" passed")?, number_before(" failed")?))
}

#[cfg(test)]
mod tests {
    use super::parse_test_result;

    #[test]
    fn reads_cargo_test_result_lines() {
        let check = |line: &str, expect: Option<(usize, usize)>| {
            assert_eq!(parse_test_result(line), expect, "{line}")
        };
        check("test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s", Some((12, 0)));
        check(
            "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out",
            Some((3, 2)),
        );
        check("running 3 tests", None);
    }
}
