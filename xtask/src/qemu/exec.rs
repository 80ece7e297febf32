//! Command mode: boot, let init run one command, stream its output and
//! return how it ended (or that the kernel panicked, time ran out, the console stayed
//! silent, or QEMU did not start).

use anyhow::{bail, Context, Result};
use camino::Utf8PathBuf;
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

/// How long the console may stay silent after QEMU starts, by default: a kernel booted
/// quietly prints its first line (often init's banner) within a second or two.
pub const SILENT_CONSOLE: Duration = Duration::from_secs(30);
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
    /// Stop QEMU when the console printed nothing this long after its start; `None`: never.
    pub silent: Option<Duration>,
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
    /// The console printed nothing within [`ExecOptions::silent`]; QEMU was stopped.
    Silent,
    /// QEMU could not be started (`None`) or exited before the console printed anything.
    QemuFailed(Option<ExitStatus>),
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
    /// Where the console and QEMU's messages were written, if they could be.
    pub log: Option<Utf8PathBuf>,
}

impl ExecResult {
    /// QEMU could not be started, for `reason`.
    fn not_started(reason: String) -> ExecResult {
        ExecResult {
            outcome: ExecOutcome::QemuFailed(None),
            output: String::new(),
            console: String::new(),
            qemu_stderr: reason,
            qemu_lingered: false,
            log: None,
        }
    }

    /// What QEMU said first on stderr (why it failed to start), or `nothing on stderr`.
    pub fn qemu_said(&self) -> &str {
        self.qemu_stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("nothing on stderr")
    }

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
    let mut qemu = match QemuProcess::spawn(cmd) {
        Ok(qemu) => qemu,
        Err(e) => return Ok(ExecResult::not_started(format!("{e:#}"))),
    };
    let console = qemu.child_mut().stdout.take().context("qemu stdout")?;
    let stderr = qemu.child_mut().stderr.take().context("qemu stderr")?;
    let stderr_text = Arc::new(Mutex::new(Vec::new()));
    let stderr_pump = {
        let text = Arc::clone(&stderr_text);
        let echo = options.echo == Echo::Console;
        std::thread::spawn(move || pump_stderr(stderr, &text, echo))
    };
    let deadline = options.timeout.map(|t| started + t);
    let mut story = Story::new(options.echo, options.silent.map(|t| started + t));
    let mut splitter = LineSplitter::default();
    let mut stdout = std::io::stdout().lock();
    let (outcome, lingered) = loop {
        if interrupted() {
            qemu.stop()?;
            bail!("interrupted: stopped qemu");
        }
        let now = Instant::now();
        if let Some(end) = story.deadline_passed(now, deadline) {
            qemu.stop()?;
            break end;
        }
        let wake = [
            Some(now + TICK),
            deadline,
            story.phase_deadline,
            story.silent_until,
        ]
        .into_iter()
        .flatten()
        .min();
        match read_until(console.as_fd(), wake.unwrap_or(now + TICK))? {
            Chunk::Idle => {}
            Chunk::Eof => {
                let status = match qemu.wait_timeout(STOP_GRACE)? {
                    Some(status) => status,
                    None => qemu.stop()?,
                };
                break (story.at_exit(status), false);
            }
            Chunk::Data(bytes) => {
                story.silent_until = None;
                story.heard = true;
                for line in splitter.push(&bytes) {
                    story.line(&line, &mut stdout);
                }
                let _ = stdout.flush();
            }
        }
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
        output: story.output,
        console: splitter.console(),
        qemu_stderr,
        qemu_lingered: lingered,
        log: None,
    })
}

/// What the console said so far: the phase it is in, until when, and the command's output.
struct Story {
    phase: Phase,
    /// When the phase's grace time ends (the panic report, QEMU stopping by itself).
    phase_deadline: Option<Instant>,
    output: String,
    echo: Echo,
    /// Until the console's first byte: when its silence ends the run.
    silent_until: Option<Instant>,
    /// Whether the console printed anything.
    heard: bool,
}

impl Story {
    fn new(echo: Echo, silent_until: Option<Instant>) -> Story {
        Story {
            phase: Phase::Kernel,
            phase_deadline: None,
            output: String::new(),
            echo,
            silent_until,
            heard: false,
        }
    }

    /// How the run ends at `now`, if a deadline passed: the timeout (unless the command
    /// already reported), or the phase's grace time; `true` when QEMU lingered.
    fn deadline_passed(
        &self,
        now: Instant,
        timeout: Option<Instant>,
    ) -> Option<(ExecOutcome, bool)> {
        if self.silent_until.is_some_and(|d| now >= d) && timeout.is_none_or(|d| now < d) {
            return Some((ExecOutcome::Silent, false));
        }
        if timeout.is_some_and(|d| now >= d) && !matches!(self.phase, Phase::Stopping(_)) {
            return Some(if self.phase == Phase::Panicking {
                (ExecOutcome::Panic, false)
            } else {
                (ExecOutcome::Timeout, false)
            });
        }
        if self.phase_deadline.is_some_and(|d| now >= d) {
            return Some(match self.phase {
                Phase::Stopping(status) => (ExecOutcome::Exited(status), true),
                _ => (ExecOutcome::Panic, false),
            });
        }
        None
    }

    /// How the run ended when QEMU exited with `status`.
    fn at_exit(&self, status: ExitStatus) -> ExecOutcome {
        if !self.heard {
            return ExecOutcome::QemuFailed(Some(status));
        }
        match self.phase {
            Phase::Stopping(guest) => ExecOutcome::Exited(guest),
            Phase::Panicking => ExecOutcome::Panic,
            Phase::Kernel | Phase::Command => ExecOutcome::QemuExited(status),
        }
    }

    /// One console line: the phase it moves to, the output it adds, what is echoed.
    fn line(&mut self, line: &[u8], stdout: &mut impl Write) {
        let text = String::from_utf8_lossy(line);
        let event = classify(&text);
        if self.echo == Echo::Console {
            write_line(stdout, line);
        }
        match (self.phase, event) {
            // The report is complete: stop now rather than after the grace time.
            (Phase::Panicking, Some(LineEvent::PanicEnd)) => {
                self.phase_deadline = Some(Instant::now())
            }
            (Phase::Stopping(_) | Phase::Panicking, _) => {}
            (_, Some(LineEvent::Panic | LineEvent::PanicEnd)) => {
                self.phase = Phase::Panicking;
                self.phase_deadline = Some(Instant::now() + PANIC_GRACE);
            }
            (Phase::Kernel, Some(LineEvent::Banner)) => self.phase = Phase::Command,
            (Phase::Kernel | Phase::Command, Some(LineEvent::Status { output, status })) => {
                self.output.push_str(&output);
                if self.echo == Echo::Command && !output.is_empty() {
                    // The bytes as the guest wrote them, not the lossy text.
                    write_line(stdout, raw_before_status(line));
                }
                self.phase = Phase::Stopping(status);
                self.phase_deadline = Some(Instant::now() + STOP_GRACE);
            }
            // The kernel prints on the console whenever it likes; -v shows it.
            (Phase::Command, _) if is_kernel_message(&text) => {}
            (Phase::Command, _) => {
                self.output.push_str(&text);
                self.output.push('\n');
                if self.echo == Echo::Command {
                    write_line(stdout, line);
                }
            }
            (Phase::Kernel, _) => {}
        }
    }
}

/// The bytes of a status line before init's `init: ` (the command's unterminated last output).
fn raw_before_status(line: &[u8]) -> &[u8] {
    let marker = b"init: ";
    let at = line
        .windows(marker.len())
        .rposition(|w| w == marker)
        .unwrap_or(line.len());
    &line[..at]
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
            exec: Some(exec.as_bytes().to_vec()),
            append: append.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        let boot = test_boot(test, request)?;
        let options = ExecOptions {
            timeout: Some(Duration::from_secs(timeout)),
            echo: Echo::Quiet,
            silent: Some(SILENT_CONSOLE),
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
        // Short: the wait is idle time, and a timeout that fires before the boot ends is
        // reported as a timeout all the same.
        let Some(timeout) = run("exec_reports_panic_and_timeout", "sleep 600", &[], 5) else {
            return;
        };
        assert_eq!(timeout.outcome, ExecOutcome::Timeout, "{}", timeout.console);
    }
}
