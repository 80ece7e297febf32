//! A stage: its fingerprint check, its log, the tools it runs, and how it ends.
//!
//! A stage is done when its stamp `stamps/<stage>` holds the hash of its inputs and
//! every output is still what it wrote (size and sha256, see `stamp.rs`). The stamp is
//! removed when a stage starts and written only after it succeeded, so an interrupted
//! or failed stage is never taken as done; an output found damaged is removed first.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use fs_err::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::atomic::write_atomic;
use super::ctx::Ctx;
use super::fingerprint::Fingerprint;
use super::interrupt::interrupted;
use super::progress::{Outcome, Progress, Report};
use super::stamp::{Stale, Stamp};
use crate::board::Board;
use crate::layout::display_path;
use crate::render::render_command;

/// Where a stage's stamp lives.
fn stamp_path(board: &Board, stage: &str) -> Utf8PathBuf {
    board.out_dir().join("stamps").join(stage)
}

/// Removes stage `name`'s stamp, so that it runs next time whatever it finds.
pub fn forget_stamp(board: &Board, name: &str) -> Result<()> {
    let stamp = stamp_path(board, name);
    match fs_err::remove_file(&stamp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

/// A running stage: its log, its progress line, its fingerprint.
pub struct Stage {
    name: String,
    board: Board,
    verbose: bool,
    log_path: Utf8PathBuf,
    log: Arc<Mutex<std::fs::File>>,
    started: Instant,
    progress: Progress,
}

impl Stage {
    /// Starts a stage: opens a fresh log and shows its progress line.
    pub fn begin(ctx: &Ctx, name: &str) -> Result<Stage> {
        let log_dir = ctx.board()?.log_dir();
        fs_err::create_dir_all(&log_dir)?;
        let log_path = log_dir.join(format!("{name}.log"));
        let log = File::create(&log_path)?.into_parts().0;
        Ok(Stage {
            name: name.to_string(),
            board: ctx.board()?.clone(),
            verbose: ctx.verbose,
            log_path,
            log: Arc::new(Mutex::new(log)),
            started: Instant::now(),
            progress: Progress::start(name, ctx.verbose),
        })
    }

    /// Whether the stage's stamp records inputs `fp` and every output is what it wrote
    /// then; why not otherwise.
    fn freshness(&self, fp: &Fingerprint, outputs: &[&Utf8Path]) -> Result<(), Stale> {
        self.stamp().ok_or(Stale::NoStamp)?.check(fp, outputs)
    }

    /// The stage's stamp, if it has one that records its outputs.
    fn stamp(&self) -> Option<Stamp> {
        let path = stamp_path(&self.board, &self.name);
        Stamp::parse(&std::fs::read_to_string(path).ok()?)
    }

    /// Removes the outputs the stamp recorded that are no longer what the stage wrote
    /// (a truncated image, a retargeted link; never a folder), saying so, so that the
    /// tool that makes them cannot take them for up to date when the stage runs again.
    fn remove_damaged(&self, fp: &Fingerprint, outputs: &[&Utf8Path]) -> Result<()> {
        let Some(stamp) = self.stamp() else {
            return Ok(());
        };
        for stale in stamp.damaged(fp, outputs).unwrap_or_default() {
            let Stale::Output { path, .. } = &stale else {
                continue;
            };
            self.note(&stale.to_string());
            match std::fs::symlink_metadata(path) {
                Ok(meta) if !meta.is_dir() => fs_err::remove_file(path)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Forgets the stamp before doing work, so a half-done stage is never taken as done.
    pub fn invalidate(&self) -> Result<()> {
        forget_stamp(&self.board, &self.name)
    }

    /// The stage's log file.
    pub fn log_path(&self) -> &Utf8Path {
        &self.log_path
    }

    /// Writes a line to the stage's log (and to the terminal with `-v`).
    pub fn log(&self, line: &str) {
        if let Ok(mut log) = self.log.lock() {
            let _ = writeln!(log, "{line}");
        }
        if self.verbose {
            eprintln!("{line}");
        }
    }

    /// Prints a line for the user (above the progress line) and logs it.
    pub fn note(&self, line: &str) {
        if let Ok(mut log) = self.log.lock() {
            let _ = writeln!(log, "{line}");
        }
        self.progress.println(&format!("[{}] {line}", self.name));
    }

    /// Shows what the stage is doing now on its progress line.
    pub fn status(&self, what: &str) {
        self.progress.set(what);
        self.log(&format!("## {what}"));
    }

    /// Runs a tool with its output going to the log; fails with the tool's status.
    pub fn run(&self, cmd: impl Into<Command>) -> Result<()> {
        let mut cmd: Command = cmd.into();
        self.run_with_input(&mut cmd, b"")
    }

    /// Like [`Stage::run`], with `what` on the progress line instead of the command.
    pub fn run_as(&self, mut cmd: Command, what: &str) -> Result<()> {
        self.run_inner(&mut cmd, b"", Some(what))
    }

    /// Like [`Stage::run`], feeding `input` to the tool's standard input.
    pub fn run_with_input(&self, cmd: &mut Command, input: &[u8]) -> Result<()> {
        self.run_inner(cmd, input, None)
    }

    fn run_inner(&self, cmd: &mut Command, input: &[u8], what: Option<&str>) -> Result<()> {
        let shown = render_command(cmd);
        self.log(&format!("$ {shown}"));
        self.progress.set(what.unwrap_or(&shown));
        use std::os::unix::process::CommandExt;
        let stdin = if input.is_empty() {
            Stdio::null()
        } else {
            Stdio::piped()
        };
        // One pipe for both streams, as `2>&1`: the log keeps the order the tool wrote in.
        let (reader, writer) = std::io::pipe().context("cannot create a pipe")?;
        cmd.stdin(stdin)
            .stdout(writer.try_clone().context("cannot create a pipe")?)
            .stderr(writer)
            .process_group(0);
        die_with_parent(cmd);
        let spawned = cmd.spawn();
        // The command keeps its copies of the pipe's write end until replaced: without
        // this the reader would never see the end of the output.
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let mut child = spawned.with_context(|| format!("cannot run `{shown}`"))?;
        if let Some(mut stdin) = child.stdin.take() {
            let input = input.to_vec();
            // A tool that stops reading early closes the pipe: that is fine.
            std::thread::spawn(move || stdin.write_all(&input));
        }
        let pump = self.pump(reader);
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if interrupted() {
                // SAFETY: kill(2) on the child's own process group.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGTERM) };
                let _ = child.wait();
                bail!("interrupted while running `{shown}`");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let _ = pump.join();
        if !status.success() {
            bail!("`{shown}` failed ({status})");
        }
        Ok(())
    }

    /// Copies the tool's output, line by line, into the stage log (and to the terminal
    /// with `--verbose`) on a thread of its own.
    fn pump(&self, stream: impl Read + Send + 'static) -> std::thread::JoinHandle<()> {
        let log = Arc::clone(&self.log);
        let verbose = self.verbose;
        std::thread::spawn(move || {
            for line in BufReader::new(stream).split(b'\n').map_while(|l| l.ok()) {
                if let Ok(mut log) = log.lock() {
                    let _ = log.write_all(&line);
                    let _ = log.write_all(b"\n");
                }
                if verbose {
                    eprintln!("{}", String::from_utf8_lossy(&line));
                }
            }
        })
    }

    /// Records the stage as done with fingerprint `fp`, and what its `outputs` are now.
    pub fn done(
        self,
        fp: &Fingerprint,
        outputs: &[&Utf8Path],
        output: Option<Utf8PathBuf>,
    ) -> Result<Report> {
        let stamp = stamp_path(&self.board, &self.name);
        let record = Stamp::new(fp, outputs)?;
        write_atomic(&stamp, record.render().as_bytes())?;
        Ok(self.end(Outcome::Done, output))
    }

    /// Ends a stage that did its work and keeps no stamp (`setup`: the host is its record).
    pub fn finished(self) -> Report {
        self.end(Outcome::Done, None)
    }

    /// Ends a stage that had nothing to do.
    pub fn skipped(self, output: Option<Utf8PathBuf>) -> Report {
        self.end(Outcome::Skipped, output)
    }

    /// Ends a stage with an error: the error keeps its causes, with a [`StageFailed`]
    /// context naming the stage and holding the end of its log.
    pub fn failed(self, err: anyhow::Error) -> anyhow::Error {
        self.failed_rerun(err, None)
    }

    /// Like [`Stage::failed`], with the command that runs the stage again, which
    /// [`render_error`] shows last.
    pub fn failed_rerun(self, err: anyhow::Error, rerun: Option<String>) -> anyhow::Error {
        self.progress
            .finish(&self.name, Outcome::Failed, self.started.elapsed());
        let tail = tail_lines(&self.log_path, 25);
        err.context(StageFailed {
            stage: self.name,
            log: self.log_path,
            tail,
            rerun,
        })
    }

    fn end(self, outcome: Outcome, output: Option<Utf8PathBuf>) -> Report {
        let elapsed = self.started.elapsed();
        self.progress.finish(&self.name, outcome, elapsed);
        Report {
            stage: self.name,
            outcome,
            elapsed,
            output,
        }
    }
}

/// The context a failed stage adds to its error: which stage, and the end of its log,
/// which [`render_error`] shows after the causes.
#[derive(Debug)]
pub struct StageFailed {
    /// Stage name.
    pub stage: String,
    /// The stage's log file.
    pub log: Utf8PathBuf,
    /// Its last lines.
    pub tail: String,
    /// The command that runs the stage again, if the stage names one.
    pub rerun: Option<String>,
}

impl std::fmt::Display for StageFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stage `{}` failed", self.stage)
    }
}

/// An error as the user reads it: its causes on one line, each once (a cause whose text the
/// one before already contains, as `tempfile` and `fs` errors repeat their OS error, is
/// left out), then, when a stage failed, the last lines of that stage's log and where the
/// full log is.
pub fn render_error(err: &anyhow::Error) -> String {
    let mut text = String::new();
    let mut previous = String::new();
    for cause in err.chain() {
        let message = cause.to_string();
        if message.is_empty() || previous.contains(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
        previous = message;
    }
    if let Some(failed) = err.downcast_ref::<StageFailed>() {
        if !failed.tail.is_empty() {
            text.push_str(&format!(
                "\n--- last lines of {} ---\n{}",
                display_path(&failed.log),
                failed.tail
            ));
        }
        text.push_str(&format!("\nfull log: {}", failed.log));
        if let Some(rerun) = &failed.rerun {
            text.push_str(&format!("\nto run it again: {rerun}"));
        }
    }
    text
}

/// Runs `body` as stage `name`: skip when fresh, record on success, explain on failure.
pub fn run_stage(
    ctx: &Ctx,
    name: &str,
    fp: &Fingerprint,
    outputs: &[&Utf8Path],
    main_output: Option<Utf8PathBuf>,
    body: impl FnOnce(&Stage) -> Result<()>,
) -> Result<Report> {
    let stage = Stage::begin(ctx, name)?;
    match stage.freshness(fp, outputs) {
        Ok(()) => {
            stage.log("inputs unchanged, outputs as written: nothing to do");
            return Ok(stage.skipped(main_output));
        }
        Err(stale) => stage.log(&format!("running: {stale}")),
    }
    stage.remove_damaged(fp, outputs)?;
    stage.invalidate()?;
    match body(&stage) {
        Ok(()) if interrupted() => Err(stage.failed(anyhow::anyhow!("interrupted"))),
        Ok(()) => stage.done(fp, outputs, main_output),
        Err(e) => Err(stage.failed(e)),
    }
}

/// Makes the tool `cmd` starts get SIGTERM when xtask dies, however it dies (`kill -9`
/// included, which no handler sees): a `bsdtar` or `make` must not go on writing into
/// a folder the next run reclaims. make passes the signal on to the jobs it runs.
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: prctl(2) and getppid(2) are async-signal-safe and allocate nothing; this
    // runs in the child between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // xtask died before the prctl: the signal will never come.
            if libc::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// The last `n` lines of a file, for failure messages.
fn tail_lines(path: &Utf8Path, n: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_stage_keeps_its_causes_and_shows_its_log_tail_after_them() {
        let err = anyhow::Error::new(std::io::Error::other("disk full"))
            .context("writing initramfs.cpio")
            .context(StageFailed {
                stage: "pack".into(),
                log: "/w/target/minilinux/b/logs/pack.log".into(),
                tail: "line 1\nline 2".into(),
                rerun: None,
            });
        assert!(err.downcast_ref::<std::io::Error>().is_some());
        expect_test::expect![[r#"
            stage `pack` failed: writing initramfs.cpio: disk full
            --- last lines of /w/target/minilinux/b/logs/pack.log ---
            line 1
            line 2
            full log: /w/target/minilinux/b/logs/pack.log"#]]
        .assert_eq(&render_error(&err));
    }
}
