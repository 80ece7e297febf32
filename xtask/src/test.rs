//! `cargo xtask test`: the README's test command.
//!
//! Lints, `cargo test --workspace`, the build pipeline (cached stages), then the
//! end-to-end suite (`e2e`), which boots the real system in QEMU: on the board
//! given with `--board`, else on every board whose host tools are present (the
//! others are reported as not run, with what is missing). Ends with one
//! `N passed, N failed, N not run` line and a non-zero exit on any failure.

use anyhow::Result;
use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};

use crate::board::{Board, DEFAULT_BOARD};
use crate::e2e::{self, Failure};
use crate::engine::{render_error, Ctx};
use crate::host::setup;
use crate::layout;
use crate::pipeline;
use crate::render::render_command;

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

    /// `count` checks of `board` that cannot run here, and why.
    fn not_run(&mut self, board: &str, count: usize, reason: &str) {
        self.not_run += count;
        let checks = if count == 1 { "check" } else { "checks" };
        eprintln!("not run  {board}: {count} end-to-end {checks}: {reason}");
    }
}

/// `cargo xtask test`: on `ctx.board`, and with `every_board` on every other board
/// whose host tools are present too.
pub fn run(ctx: &Ctx, every_board: bool, args: &TestArgs) -> Result<ExitCode> {
    // The suite tests optional features too (build --distcc).
    setup::ensure_with_optional(&ctx.board)?;
    let mut others = Vec::new();
    if every_board {
        for name in Board::names()? {
            if name != ctx.board.name {
                others.push(Board::load(&name)?);
            }
        }
    }
    if !args.no_e2e {
        e2e::pin_binary(&ctx.board)?;
        for board in &others {
            e2e::pin_binary(board)?;
        }
    }
    let mut tally = Tally::default();
    let root = layout::workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());

    if !args.no_lint {
        let mut fmt = Command::new(&cargo);
        fmt.current_dir(&root)
            .args(["fmt", "--all", "--", "--check"]);
        tally.record("cargo fmt --check", run_tool(fmt));
        let mut clippy = Command::new(&cargo);
        clippy.current_dir(&root).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]);
        tally.record("cargo clippy -D warnings", run_tool(clippy));
    }

    // The fetched sources make the kconfig crate's tests check every defconfig and
    // compare with merge_config.sh; the build gives the e2e suite its system.
    let built = if args.no_e2e {
        Ok(())
    } else {
        pipeline::build_all(ctx).map_err(|e| {
            Failure::new(
                "cargo xtask all --no-boot",
                "the pipeline builds",
                render_error(&e),
            )
        })
    };

    let mut test = Command::new(&cargo);
    // Every test binary runs, so the counts cover all of them. The unit tests are
    // about this repository's boards, wherever $MINILINUX_BOARDS_DIR points.
    test.current_dir(&root)
        .args(["test", "--workspace", "--no-fail-fast"])
        .env_remove("MINILINUX_BOARDS_DIR");
    if built.is_ok() && !args.no_e2e {
        test.env("MINILINUX_KERNEL_SRC", ctx.board.kernel_src());
        test.env("MINILINUX_BUSYBOX_SRC", ctx.board.busybox_src());
        // The qemu integration tests boot the default board's files.
        if ctx.board.name == DEFAULT_BOARD {
            match boot_files(&ctx.board) {
                Ok(dir) => {
                    test.env("MINILINUX_QEMU_TEST_FILES", dir);
                }
                Err(e) => {
                    eprintln!("warning: the qemu integration tests will skip their boots: {e:#}")
                }
            }
        }
    }
    cargo_test(test, &mut tally);

    if !args.no_e2e {
        run_e2e(ctx, built, args, &mut tally);
        for board in others {
            let ctx = Ctx {
                board,
                verbose: ctx.verbose,
            };
            let name = &ctx.board.name;
            if let Some(reason) = setup::missing_tools(&ctx.board) {
                let count = e2e::count(args.filter.as_deref());
                tally.not_run(name, count, &reason);
                continue;
            }
            let built = pipeline::build_all(&ctx).map_err(|e| {
                Failure::new(
                    &format!("cargo xtask --board {name} all --no-boot"),
                    "the pipeline builds",
                    render_error(&e),
                )
            });
            run_e2e(&ctx, built, args, &mut tally);
        }
    }

    for (name, failure) in &tally.failures {
        eprintln!("\n=== FAILED: {name}\n{failure}");
    }
    println!(
        "{} passed, {} failed, {} not run",
        tally.passed, tally.failed, tally.not_run
    );
    Ok(if tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The end-to-end checks on `ctx.board`, named `<board>: <check>`, once its system is built.
fn run_e2e(ctx: &Ctx, built: std::result::Result<(), Failure>, args: &TestArgs, tally: &mut Tally) {
    let board = &ctx.board.name;
    match built {
        Ok(()) => e2e::run(ctx, args.filter.as_deref(), &mut |name, result| {
            tally.record(&format!("{board}: {name}"), result)
        }),
        Err(failure) => tally.record(
            &format!("{board}: pipeline builds the system"),
            Err(failure),
        ),
    }
}

/// A directory of `kernel`, `dtb`, `config`, `initramfs` symlinks to the board's
/// build, for the qemu integration tests (`xtask/tests/qemu.rs`).
fn boot_files(board: &crate::board::Board) -> Result<camino::Utf8PathBuf> {
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
        let link = dir.join(name);
        let _ = fs_err::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link)?;
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
