//! The end-to-end suite: boots the real system in QEMU and checks what it prints.
//!
//! Interactive checks drive QEMU through a pseudo-terminal, as a user's terminal
//! would ([`Session`]); command checks run the real `xtask` binary, as a user
//! would. Each check returns a [`Failure`] naming the command, what was expected
//! and the console output.

use anyhow::Context;
use camino::{Utf8Path, Utf8PathBuf};
use regex::bytes::Regex;
use std::fmt;
use std::process::Command;
use std::time::Duration;

use crate::board::Board;
use crate::engine::Ctx;
use crate::kbuild::read_config;
use crate::qemu::{Boot, BootRequest, Session};
use crate::render::render_command;

mod cli;
mod console;
mod outputs;

use cli::{
    exec_any_bytes, exec_file, exec_statuses, exec_timeout, kconfig_set_boots, kernel_panic,
};
use console::{
    account_names, board_hostname, board_shows, boots_to_shell, ctrl_alt_del, job_control,
    login_profile, mounts_and_devices, reaps_orphans, respawns_shell, stops_qemu,
};
use outputs::{
    bench_boots, bench_timeline, every_compression, kconfig_round_trip, pack_reproducible,
};

/// How long a boot may take to reach the prompt under TCG.
const BOOT: Duration = Duration::from_secs(90);
/// How long one shell command may take.
const STEP: Duration = Duration::from_secs(20);

/// Why a check failed: the command, what was expected, and what the console showed.
#[derive(Debug, Clone)]
pub struct Failure {
    command: String,
    expected: String,
    output: String,
}

impl Failure {
    /// A failure of `command`, which should have given `expected` but gave `output`.
    pub fn new(command: &str, expected: &str, output: impl Into<String>) -> Failure {
        Failure {
            command: command.to_string(),
            expected: expected.to_string(),
            output: output.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command:  {}", self.command)?;
        writeln!(f, "expected: {}", self.expected)?;
        write!(f, "output:\n{}", self.output)
    }
}

type Outcome = Result<(), Failure>;

/// One end-to-end check.
struct Check {
    name: &'static str,
    run: fn(&Ctx, &Board) -> Outcome,
}

const CHECKS: &[Check] = &[
    Check {
        name: "boots to a shell: uname, cpuinfo, cmdline",
        run: boots_to_shell,
    },
    Check {
        name: "mounts, device nodes and busybox applets",
        run: mounts_and_devices,
    },
    Check {
        name: "shows what the board's [e2e] shows lists",
        run: board_shows,
    },
    Check {
        name: "accounts: id, ls -l and ps show names",
        run: account_names,
    },
    Check {
        name: "the host name is the board's",
        run: board_hostname,
    },
    Check {
        name: "the console's login shell reads /etc/profile",
        run: login_profile,
    },
    Check {
        name: "shell job control: Ctrl-C interrupts sleep",
        run: job_control,
    },
    Check {
        name: "orphaned zombies are reaped",
        run: reaps_orphans,
    },
    Check {
        name: "exit in the shell brings a new one",
        run: respawns_shell,
    },
    Check {
        name: "poweroff ends qemu",
        run: |ctx, board| stops_qemu(ctx, board, "poweroff"),
    },
    Check {
        name: "reboot ends qemu",
        run: |ctx, board| stops_qemu(ctx, board, "reboot"),
    },
    Check {
        name: "halt ends qemu",
        run: |ctx, board| stops_qemu(ctx, board, "halt"),
    },
    Check {
        name: "Ctrl-Alt-Del (SIGINT to PID 1) reboots, which ends qemu",
        run: ctrl_alt_del,
    },
    Check {
        name: "qemu --exec returns 0, 1 and 127",
        run: exec_statuses,
    },
    Check {
        name: "qemu --exec carries quotes, newlines, 64 KiB and non-UTF-8 bytes",
        run: exec_any_bytes,
    },
    Check {
        name: "qemu --exec-file runs a script as a script",
        run: exec_file,
    },
    Check {
        name: "qemu --timeout is reported as a timeout",
        run: exec_timeout,
    },
    Check {
        name: "a kernel panic is reported as such",
        run: kernel_panic,
    },
    Check {
        name: "boots with every compression the kernel supports",
        run: every_compression,
    },
    Check {
        name: "pack is reproducible and GNU cpio lists the manifest",
        run: pack_reproducible,
    },
    Check {
        name: "kconfig round-trips every defconfig of the fetched trees",
        run: kconfig_round_trip,
    },
    Check {
        name: "kconfig set then all --exec shows the new command line",
        run: kconfig_set_boots,
    },
    Check {
        name: "bench's boot part: every variant reaches its prompt",
        run: bench_boots,
    },
    Check {
        name: "bench --timeline attributes one boot, QEMU start to the prompt",
        run: bench_timeline,
    },
];

/// How many checks [`run`] runs with `filter`.
pub fn count(filter: Option<&str>) -> usize {
    CHECKS
        .iter()
        .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
        .count()
}

/// Runs every check whose name contains `filter`, reporting each result.
pub fn run(ctx: &Ctx, board: &Board, filter: Option<&str>, report: &mut dyn FnMut(&str, Outcome)) {
    for check in CHECKS
        .iter()
        .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
    {
        eprintln!("...      {}: {}", board.name, check.name);
        report(check.name, (check.run)(ctx, board));
    }
}

/// A shell on the guest's console, through a pty.
struct Shell {
    session: Session,
    counter: usize,
    /// The line of the first prompt, as the console showed it.
    first_prompt: String,
}

impl Shell {
    fn boot(board: &Board) -> Result<Shell, Failure> {
        let boot = prepare(board, BootRequest::default())?;
        let mut session = Session::spawn(&boot)
            .map_err(|e| Failure::new("qemu (interactive)", "qemu starts", format!("{e:#}")))?;
        let prompt = prompt_regex();
        let found = session
            .expect(prompt, BOOT)
            .map_err(|e| Failure::new("qemu (interactive)", "a shell prompt", format!("{e:#}")))?;
        Ok(Shell {
            session,
            counter: 0,
            first_prompt: found.matched.trim_start_matches(['\r', '\n']).to_string(),
        })
    }

    /// Runs `line` and returns its output and exit status (read from a marker line).
    fn run(&mut self, line: &str) -> Result<(String, i32), Failure> {
        self.counter += 1;
        let marker = format!("@{}@", self.counter);
        // The typed echo shows `$?`, never the digits: only the real output matches.
        let full = format!("{line}; echo \"{marker}$?{marker}\"");
        let fail = |s: &Self, e: anyhow::Error| {
            Failure::new(
                line,
                "the command finishes",
                format!("{e:#}\n{}", s.session.tail()),
            )
        };
        self.session.send_line(&full).map_err(|e| fail(self, e))?;
        let re = Regex::new(&format!(r"{marker}(\d+){marker}")).expect("valid regex");
        let found = self
            .session
            .expect(re.clone(), STEP)
            .map_err(|e| fail(self, e))?;
        let before = found.before.replace("\r\n", "\n");
        let status = re
            .captures(found.matched.as_bytes())
            .and_then(|c| std::str::from_utf8(&c[1]).ok()?.parse().ok())
            .unwrap_or(-1);
        // Drop the echoed command line itself, which the line editor may have
        // wrapped over several lines: it ends with the marker's literal `$?`.
        let before = before.replace('\r', "");
        let echo_end = format!("{marker}$?{marker}\"");
        let after_echo = before
            .find(&echo_end)
            .map(|at| &before[at + echo_end.len()..])
            .unwrap_or(&before);
        let output = after_echo
            .split_once('\n')
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_default();
        self.session
            .expect(prompt_regex(), STEP)
            .map_err(|e| fail(self, e))?;
        Ok((output, status))
    }

    /// Runs `line`, which must succeed and print text containing every one of `wanted`.
    fn expect_output(&mut self, line: &str, wanted: &[&str]) -> Outcome {
        let (output, status) = self.run(line)?;
        let missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|w| !output.contains(w))
            .collect();
        if status != 0 || !missing.is_empty() {
            return Err(Failure::new(
                line,
                &format!("exit status 0 and output containing {wanted:?}"),
                format!("status {status}\n{output}"),
            ));
        }
        Ok(())
    }

    fn poweroff(mut self) -> Outcome {
        let _ = self.session.send_line("poweroff");
        self.session
            .wait_exit(Duration::from_secs(30))
            .map(|_| ())
            .map_err(|e| {
                Failure::new(
                    "poweroff",
                    "qemu exits",
                    format!("{e:#}\n{}", self.session.tail()),
                )
            })
    }
}

/// busybox sh's root prompt: `~ # `, `/ # `.
fn prompt_regex() -> Regex {
    Regex::new(r"(?m)^[^\n]*[#$] $").expect("valid regex")
}

fn prepare(board: &Board, request: BootRequest) -> Result<Boot, Failure> {
    Boot::prepare(board, &request)
        .map_err(|e| Failure::new("qemu", "the boot files are ready", format!("{e:#}")))
}

/// The kernel's `CONFIG_CMDLINE`, from the board's configured `.config`.
fn builtin_cmdline(board: &Board) -> Result<String, Failure> {
    let config = read_config(&board.kernel_config())
        .map_err(|e| Failure::new("read .config", "a kernel .config", format!("{e:#}")))?;
    match config.get("CMDLINE") {
        Some(kconfig::Value::Str(s)) => Ok(s.clone()),
        other => Err(Failure::new(
            "CONFIG_CMDLINE",
            "a string in the kernel .config",
            format!("{other:?}"),
        )),
    }
}

/// Where [`pin_binary`] keeps the running `xtask`.
fn pinned_binary(board: &Board) -> Utf8PathBuf {
    board.out_dir().join("e2e/xtask")
}

/// Copies the running `xtask` aside: `cargo test` relinks `target/debug/xtask`
/// (dev-dependencies change its features), and the checks must run this one.
pub fn pin_binary(board: &Board) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("finding the running xtask")?;
    let pinned = pinned_binary(board);
    fs_err::create_dir_all(pinned.parent().context("e2e dir")?)?;
    let tmp = pinned.with_extension("tmp");
    fs_err::copy(&exe, &tmp)?;
    fs_err::rename(&tmp, &pinned)?;
    Ok(())
}

/// Runs the real `xtask` binary for the board; returns exit code, stdout and stderr.
fn xtask(
    board: &Board,
    args: &[&str],
    env: &[(&str, &Utf8Path)],
) -> Result<(i32, String, String), Failure> {
    let mut cmd = Command::new(pinned_binary(board));
    cmd.arg("--board").arg(&board.name).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let shown = render_command(&cmd);
    let out = cmd
        .output()
        .map_err(|e| Failure::new(&shown, "xtask runs", e.to_string()))?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Runs the real `xtask` binary for the board with any arguments; returns exit code, the
/// bytes of stdout and stderr's text.
fn xtask_bytes(
    board: &Board,
    args: &[std::ffi::OsString],
) -> Result<(i32, Vec<u8>, String), Failure> {
    let mut cmd = Command::new(pinned_binary(board));
    cmd.arg("--board").arg(&board.name).args(args);
    let out = cmd
        .output()
        .map_err(|e| Failure::new("xtask", "xtask runs", e.to_string()))?;
    Ok((
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

fn expect_exit(
    board: &Board,
    args: &[&str],
    code: i32,
    stdout_has: &str,
    stderr_has: &str,
) -> Outcome {
    let (got, stdout, stderr) = xtask(board, args, &[])?;
    if got != code || !stdout.contains(stdout_has) || !stderr.contains(stderr_has) {
        return Err(Failure::new(
            &format!("cargo xtask {}", args.join(" ")),
            &format!("exit code {code}, stdout containing {stdout_has:?}, stderr containing {stderr_has:?}"),
            format!("exit code {got}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"),
        ));
    }
    Ok(())
}
