//! `cargo xtask qemu`: interactive on a terminal, `--exec CMD` otherwise.

use anyhow::{bail, Context, Result};
use camino::Utf8PathBuf;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::os::unix::ffi::OsStringExt;
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use crate::engine::{interrupted, render_error, Ctx};
use crate::layout::display_path;
use crate::qemu::{
    preflight, Boot, BootRequest, CmdlineError, Echo, ExecOptions, ExecOutcome, FileOverrides,
    QemuMissing, QemuProcess, SILENT_CONSOLE,
};

/// `--timeout` when `--exec` is given without one.
pub const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(120);
/// Exit code when the timeout passed (as timeout(1)).
pub const EXIT_TIMEOUT: u8 = 124;
/// Exit code when the guest kernel panicked.
pub const EXIT_PANIC: u8 = 125;
/// Exit code when the console printed nothing within `--silent-timeout`.
pub const EXIT_SILENT: u8 = 123;
/// Exit code when the kernel command line would not parse (refused before booting).
pub const EXIT_CMDLINE: u8 = 122;
/// Exit code when QEMU did not start: missing, not executable, or exited before any output.
pub const EXIT_QEMU_START: u8 = 121;
/// `--append` words, plus `quiet` in command mode: kernel messages printed while
/// the command runs (driver probes, input devices) would otherwise interleave with
/// its output. `-v` shows the whole console, so it keeps them.
fn exec_append(user: &[String], exec: bool, verbose: bool) -> Vec<String> {
    let mut append = user.to_vec();
    let chose_level = user
        .iter()
        .any(|w| w == "quiet" || w.starts_with("loglevel="));
    if exec && !verbose && !chose_level {
        append.push("quiet".to_string());
    }
    append
}

/// What runs when there is no terminal and no `--exec`.
pub const SMOKE_COMMAND: &str = "uname -a";
/// How many console lines a failure shows.
const REPORT_LINES: usize = 30;

/// Options of `cargo xtask qemu`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct QemuArgs {
    /// Run CMD in the guest with /bin/sh instead of a shell, stream its output and exit with its status (any quotes, newlines, length)
    #[arg(long, value_name = "CMD", conflicts_with = "exec_file")]
    pub exec: Option<OsString>,
    /// Like --exec, with the script in FILE (run directly when it starts with `#!`, else with /bin/sh)
    #[arg(long, value_name = "FILE")]
    pub exec_file: Option<Utf8PathBuf>,
    /// Stop QEMU and fail (exit 124) after SECS seconds [default with --exec: 120; 0: never]
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// With --exec: stop QEMU and fail (exit 123) when the console prints nothing for SECS after QEMU starts [default: 30; 0: never]
    #[arg(long, value_name = "SECS")]
    pub silent_timeout: Option<u64>,
    /// Add to the kernel command line (the board's CONFIG_CMDLINE is kept); repeatable
    #[arg(long, value_name = "ARGS")]
    pub append: Vec<String>,
    /// Boot this initramfs instead of the packed one
    #[arg(long, value_name = "FILE")]
    pub initrd: Option<Utf8PathBuf>,
    /// Boot this kernel image instead of the built one
    #[arg(long, value_name = "FILE", requires = "kernel_config")]
    pub kernel: Option<Utf8PathBuf>,
    /// With --kernel: the .config it was built from (read for CONFIG_CMDLINE)
    #[arg(long, value_name = "FILE")]
    pub kernel_config: Option<Utf8PathBuf>,
    /// Boot with this device tree blob instead of the built one
    #[arg(long, value_name = "FILE")]
    pub dtb: Option<Utf8PathBuf>,
}

/// `cargo xtask qemu`: returns the guest command's exit status with `--exec`.
pub fn run(ctx: &Ctx, args: QemuArgs) -> Result<ExitCode> {
    let board = ctx.board()?;
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let exec = match (exec_script(&args)?, terminal) {
        (Some(script), _) => Some(script),
        (None, true) => None,
        (None, false) => {
            eprintln!("not on a terminal: running `{SMOKE_COMMAND}` in the guest (--exec CMD runs another command)");
            Some(SMOKE_COMMAND.as_bytes().to_vec())
        }
    };
    let request = BootRequest {
        files: FileOverrides {
            kernel: args.kernel.clone(),
            dtb: args.dtb.clone(),
            kernel_config: args.kernel_config.clone(),
            initrd: args.initrd.clone(),
        },
        append: exec_append(&args.append, exec.is_some(), ctx.verbose),
        exec: exec.clone(),
    };
    let boot = match Boot::prepare(board, &request) {
        Ok(boot) => boot,
        Err(e) => return refused(e),
    };
    // The cross-stage checks read the board's .config: meaningless for a kernel from elsewhere.
    if args.kernel.is_none() && args.kernel_config.is_none() {
        preflight::check(board, &boot.files.initrd, &boot.cmdline)?;
    }
    for warning in &boot.warnings {
        eprintln!("warning: {warning}");
    }
    for note in &boot.notes {
        eprintln!("note: {note}");
    }
    let timeout = match (args.timeout, &exec) {
        (Some(0), _) => None,
        (Some(secs), _) => Some(Duration::from_secs(secs)),
        (None, Some(_)) => Some(DEFAULT_EXEC_TIMEOUT),
        (None, None) => None,
    };
    let silent = match args.silent_timeout {
        Some(0) => None,
        Some(secs) => Some(Duration::from_secs(secs)),
        None => Some(SILENT_CONSOLE),
    };
    match exec {
        Some(_) => run_exec(ctx, &boot, timeout, silent),
        None => run_interactive(ctx, &boot, timeout),
    }
}

/// A boot refused before QEMU ran: its exit code when it is a classified failure
/// (docs/testing.md), else the error as it is.
fn refused(e: anyhow::Error) -> Result<ExitCode> {
    let code = if e.downcast_ref::<CmdlineError>().is_some() {
        EXIT_CMDLINE
    } else if e.downcast_ref::<QemuMissing>().is_some() {
        EXIT_QEMU_START
    } else {
        return Err(e);
    };
    eprintln!("error: {}", render_error(&e));
    Ok(ExitCode::from(code))
}

/// The script of `--exec` or `--exec-file`, as bytes.
fn exec_script(args: &QemuArgs) -> Result<Option<Vec<u8>>> {
    if let Some(path) = &args.exec_file {
        // std, not fs_err: the message names the path once.
        let script =
            std::fs::read(path).with_context(|| format!("--exec-file {path}: cannot read"))?;
        return Ok(Some(script));
    }
    let Some(cmd) = &args.exec else {
        return Ok(None);
    };
    let cmd = cmd.clone().into_vec();
    if cmd.iter().all(u8::is_ascii_whitespace) {
        bail!("--exec needs a command, e.g. --exec 'uname -a'");
    }
    Ok(Some(cmd))
}

fn run_exec(
    ctx: &Ctx,
    boot: &Boot,
    timeout: Option<Duration>,
    silent: Option<Duration>,
) -> Result<ExitCode> {
    let echo = if ctx.verbose {
        Echo::Console
    } else {
        Echo::Command
    };
    if ctx.verbose {
        eprintln!("$ {}", crate::render::render_command(&boot.command()));
    }
    let result = boot.exec(&ExecOptions {
        timeout,
        echo,
        silent,
    })?;
    let _ = std::io::stdout().flush();
    let log = match &result.log {
        Some(path) => format!("the console and qemu's messages: {}", display_path(path)),
        None => format!("(could not write {})", display_path(&boot.log)),
    };
    let secs = |d: Option<Duration>| d.map_or(0, |t| t.as_secs());
    let (code, diagnosis) = match result.outcome {
        ExecOutcome::Exited(status) => {
            if result.qemu_lingered {
                eprintln!(
                    "warning: qemu kept running after the guest stopped and was killed; \
                     check `can_poweroff` in the board's [qemu]"
                );
            }
            if ctx.verbose {
                eprintln!("guest command: {status}");
            }
            return Ok(ExitCode::from(status.exit_code()));
        }
        ExecOutcome::Panic => (
            EXIT_PANIC,
            format!(
                "the guest kernel panicked; last console lines:\n{}",
                result.last_lines(REPORT_LINES)
            ),
        ),
        ExecOutcome::Timeout => (
            EXIT_TIMEOUT,
            format!(
                "timed out after {}s (--timeout) before the guest command ended; \
                 last console lines:\n{}",
                secs(timeout),
                result.last_lines(REPORT_LINES)
            ),
        ),
        ExecOutcome::Silent => (EXIT_SILENT, silent_diagnosis(boot, secs(silent))),
        ExecOutcome::QemuFailed(status) => (
            EXIT_QEMU_START,
            format!(
                "qemu failed to start ({}): {}",
                status.map_or_else(|| "not run".to_string(), |s| s.to_string()),
                result.qemu_said()
            ),
        ),
        ExecOutcome::QemuExited(status) => bail!(
            "qemu exited ({status}) before init reported the command's status; \
             last console lines:\n{}\nqemu said: {}\n{log}",
            result.last_lines(REPORT_LINES),
            result.qemu_said()
        ),
    };
    eprintln!("error: {diagnosis}\n{log}");
    Ok(ExitCode::from(code))
}

/// Why a console can stay silent, for the board's machine and console.
fn silent_diagnosis(boot: &Boot, secs: u64) -> String {
    format!(
        "the console printed nothing within {secs}s of qemu's start (--silent-timeout): \
         the kernel did not run (is {} a kernel for QEMU's `{}` machine?) or wrote elsewhere \
         (does console= name the board's serial port?); `-v` shows kernel messages",
        display_path(&boot.files.kernel),
        boot.qemu.machine
    )
}

fn run_interactive(ctx: &Ctx, boot: &Boot, timeout: Option<Duration>) -> Result<ExitCode> {
    let mut cmd = boot.command();
    if ctx.verbose {
        eprintln!("$ {}", crate::render::render_command(&cmd));
    }
    eprintln!(
        "booting {} in QEMU; to quit, type `poweroff` in the guest or press Ctrl-A then x",
        ctx.board()?.name
    );
    // QEMU stays in our process group: it must own the terminal to read it.
    cmd.stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    let mut qemu = match QemuProcess::spawn(cmd) {
        Ok(qemu) => qemu,
        Err(e) => {
            eprintln!("error: qemu failed to start: {e:#}");
            return Ok(ExitCode::from(EXIT_QEMU_START));
        }
    };
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    loop {
        if let Some(status) = qemu.wait_timeout(Duration::from_millis(100))? {
            return Ok(match status.code() {
                Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
                None => ExitCode::FAILURE,
            });
        }
        if interrupted() {
            qemu.stop()?;
            bail!("interrupted: stopped qemu");
        }
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            qemu.stop()?;
            eprintln!(
                "\nerror: timed out after {}s (--timeout): stopped qemu",
                timeout.map_or(0, |t| t.as_secs())
            );
            return Ok(ExitCode::from(EXIT_TIMEOUT));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::exec_append;

    #[test]
    fn command_mode_is_quiet_unless_verbose_or_chosen() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            exec_append(&words(&["a=1"]), true, false),
            words(&["a=1", "quiet"])
        );
        assert_eq!(exec_append(&words(&["a=1"]), true, true), words(&["a=1"]));
        assert_eq!(exec_append(&words(&["a=1"]), false, false), words(&["a=1"]));
        assert_eq!(
            exec_append(&words(&["loglevel=7"]), true, false),
            words(&["loglevel=7"])
        );
    }
}
