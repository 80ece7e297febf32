//! Command mode: boot, let init run one command, stream its output and
//! return how it ended (or that the kernel panicked, or time ran out).

use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::process::{read_until, Chunk, QemuProcess};
use super::transcript::{
    classify, is_kernel_message, last_lines, GuestStatus, LineEvent, LineSplitter,
};
use crate::engine::interrupted;

/// After init's status line, how long the guest gets to stop QEMU by itself.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// After a panic starts, how long to collect the rest of its report.
const PANIC_GRACE: Duration = Duration::from_secs(3);
/// How often the loop looks at Ctrl-C while the console is quiet.
const TICK: Duration = Duration::from_millis(100);

/// What to show on stdout while the guest runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Nothing (the caller reads [`ExecResult`]).
    Quiet,
    /// The command's output: console lines after init's banner, before its
    /// status line, without time-stamped kernel messages.
    Command,
    /// The whole console, kernel messages included (`-v`).
    Console,
}

/// Options of one command-mode boot.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Stop QEMU after this long, counted from its start; `None`: never.
    pub timeout: Option<Duration>,
    /// What to print while it runs.
    pub echo: Echo,
}

/// How a command-mode boot ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecOutcome {
    /// init printed the command's status line.
    Exited(GuestStatus),
    /// The kernel panicked; QEMU was stopped.
    Panic,
    /// The timeout passed first; QEMU was stopped.
    Timeout,
    /// QEMU exited before init printed a status line.
    QemuExited(ExitStatus),
}

/// The result of [`run`] ([`Boot::exec`](super::boot::Boot::exec)).
#[derive(Debug, Clone)]
pub struct ExecResult {
    /// How it ended.
    pub outcome: ExecOutcome,
    /// The command's output (console lines after init's banner, before its
    /// status line, without time-stamped kernel messages).
    pub output: String,
    /// The whole serial console, `\r\n` turned into `\n`.
    pub console: String,
    /// What QEMU itself wrote to stderr.
    pub qemu_stderr: String,
    /// Whether QEMU had to be stopped after the status line (the guest did not end it).
    pub qemu_lingered: bool,
}

impl ExecResult {
    /// The command's exit status (`None` unless it exited normally).
    pub fn status(&self) -> Option<i32> {
        match self.outcome {
            ExecOutcome::Exited(GuestStatus::Exited(n)) => Some(n),
            _ => None,
        }
    }

    /// The last `n` console lines, for reports.
    pub fn last_lines(&self, n: usize) -> String {
        last_lines(&self.console, n)
    }
}

/// Where the console is in its story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Kernel messages, before init's banner.
    Kernel,
    /// After the banner: the command runs.
    Command,
    /// After the status line, waiting for QEMU to exit.
    Stopping(GuestStatus),
    /// A panic report is being printed.
    Panicking,
}

/// Runs `cmd`, the QEMU command of a boot prepared with an `--exec` command, and waits
/// for the command's status.
///
/// QEMU is stopped on every path: status line (if the guest does not end QEMU
/// itself), panic, timeout, Ctrl-C, error. Ctrl-C returns an error.
pub fn run(mut cmd: Command, options: &ExecOptions) -> Result<ExecResult> {
    // Its own process group: Ctrl-C reaches xtask, which stops QEMU and says so.
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let started = Instant::now();
    let mut qemu = QemuProcess::spawn(cmd)?;
    let console = qemu.child_mut().stdout.take().context("qemu stdout")?;
    let stderr = qemu.child_mut().stderr.take().context("qemu stderr")?;
    let stderr_text = Arc::new(Mutex::new(Vec::new()));
    let stderr_pump = {
        let text = Arc::clone(&stderr_text);
        let echo = options.echo == Echo::Console;
        std::thread::spawn(move || pump_stderr(stderr, &text, echo))
    };

    let deadline = options.timeout.map(|t| started + t);
    let mut splitter = LineSplitter::default();
    let mut output = String::new();
    let mut phase = Phase::Kernel;
    let mut phase_deadline: Option<Instant> = None;
    let mut stdout = std::io::stdout().lock();
    let mut lingered = false;
    let outcome = loop {
        if interrupted() {
            qemu.stop()?;
            bail!("interrupted: stopped qemu");
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) && !matches!(phase, Phase::Stopping(_)) {
            qemu.stop()?;
            break if phase == Phase::Panicking {
                ExecOutcome::Panic
            } else {
                ExecOutcome::Timeout
            };
        }
        if phase_deadline.is_some_and(|d| now >= d) {
            qemu.stop()?;
            match phase {
                Phase::Stopping(status) => {
                    lingered = true;
                    break ExecOutcome::Exited(status);
                }
                _ => break ExecOutcome::Panic,
            }
        }
        let wake = [Some(now + TICK), deadline, phase_deadline]
            .into_iter()
            .flatten()
            .min();
        let chunk = read_until(console.as_fd(), wake.unwrap_or(now + TICK))?;
        let bytes = match chunk {
            Chunk::Idle => continue,
            Chunk::Eof => {
                let status = match qemu.wait_timeout(STOP_GRACE)? {
                    Some(status) => status,
                    None => qemu.stop()?,
                };
                break match phase {
                    Phase::Stopping(guest) => ExecOutcome::Exited(guest),
                    Phase::Panicking => ExecOutcome::Panic,
                    Phase::Kernel | Phase::Command => ExecOutcome::QemuExited(status),
                };
            }
            Chunk::Data(bytes) => bytes,
        };
        for line in splitter.push(&bytes) {
            let text = String::from_utf8_lossy(&line);
            let event = classify(&text);
            if options.echo == Echo::Console {
                write_line(&mut stdout, &line);
            }
            match (phase, event) {
                // The report is complete: stop now rather than after the grace time.
                (Phase::Panicking, Some(LineEvent::PanicEnd)) => {
                    phase_deadline = Some(Instant::now())
                }
                (Phase::Stopping(_) | Phase::Panicking, _) => {}
                (_, Some(LineEvent::Panic | LineEvent::PanicEnd)) => {
                    phase = Phase::Panicking;
                    phase_deadline = Some(Instant::now() + PANIC_GRACE);
                }
                (Phase::Kernel, Some(LineEvent::Banner)) => phase = Phase::Command,
                (
                    Phase::Kernel | Phase::Command,
                    Some(LineEvent::Status {
                        output: last,
                        status,
                    }),
                ) => {
                    output.push_str(&last);
                    if options.echo == Echo::Command && !last.is_empty() {
                        let _ = writeln!(stdout, "{last}");
                    }
                    phase = Phase::Stopping(status);
                    phase_deadline = Some(Instant::now() + STOP_GRACE);
                }
                // The kernel prints on the console whenever it likes; -v shows it.
                (Phase::Command, _) if is_kernel_message(&text) => {}
                (Phase::Command, _) => {
                    output.push_str(&text);
                    output.push('\n');
                    if options.echo == Echo::Command {
                        write_line(&mut stdout, &line);
                    }
                }
                (Phase::Kernel, _) => {}
            }
        }
        let _ = stdout.flush();
    };
    let _ = stdout.flush();
    drop(stdout);
    qemu.stop()?;
    let _ = stderr_pump.join();
    let qemu_stderr =
        String::from_utf8_lossy(&stderr_text.lock().map(|t| t.clone()).unwrap_or_default())
            .into_owned();
    Ok(ExecResult {
        outcome,
        output,
        console: splitter.console(),
        qemu_stderr,
        qemu_lingered: lingered,
    })
}

fn write_line(out: &mut impl Write, line: &[u8]) {
    let _ = out.write_all(line);
    let _ = out.write_all(b"\n");
}

fn pump_stderr(mut stderr: impl Read, text: &Mutex<Vec<u8>>, echo: bool) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = stderr.read(&mut buf) {
        if n == 0 {
            break;
        }
        if echo {
            let _ = std::io::stderr().write_all(&buf[..n]);
        }
        if let Ok(mut text) = text.lock() {
            text.extend_from_slice(&buf[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qemu::boot::{test_boot, BootRequest};

    fn run(test: &str, exec: &str, append: &[&str], timeout: u64) -> Option<ExecResult> {
        let request = BootRequest {
            exec: Some(exec.to_string()),
            append: append.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        let boot = test_boot(test, request)?;
        let options = ExecOptions {
            timeout: Some(Duration::from_secs(timeout)),
            echo: Echo::Quiet,
        };
        Some(boot.exec(&options).unwrap())
    }

    #[test]
    fn exec_reports_status_and_output() {
        let Some(r) = run(
            "exec_reports_status_and_output",
            "sh -c 'echo one; echo two; exit 4'",
            // As `cargo xtask qemu --exec` does: late driver messages would land in the output.
            &["quiet"],
            120,
        ) else {
            return;
        };
        assert_eq!(
            (r.outcome.clone(), r.output.as_str()),
            (ExecOutcome::Exited(GuestStatus::Exited(4)), "one\ntwo\n"),
            "{}",
            r.console
        );
        assert!(!r.qemu_lingered, "{}", r.console);
    }

    #[test]
    fn exec_reports_panic_and_timeout() {
        let Some(panic) = run(
            "exec_reports_panic_and_timeout",
            "true",
            &["rdinit=/bin/false"],
            120,
        ) else {
            return;
        };
        assert_eq!(panic.outcome, ExecOutcome::Panic, "{}", panic.console);
        assert!(
            panic.last_lines(3).contains("---[ end Kernel panic"),
            "{}",
            panic.console
        );
        let Some(timeout) = run("exec_reports_panic_and_timeout", "sleep 600", &[], 15) else {
            return;
        };
        assert_eq!(timeout.outcome, ExecOutcome::Timeout, "{}", timeout.console);
    }
}
