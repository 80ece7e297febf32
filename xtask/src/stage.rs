//! What every stage shares: the board lock, fingerprints, logs, progress and the summary.
//!
//! A stage is done when its fingerprint file `stamps/<stage>` holds the hash of
//! its inputs. The stamp is removed when a stage starts and written only after
//! it succeeded, so an interrupted or failed stage is never taken as done.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use fs_err::File;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::board::{display_path, Board};

/// Set by the Ctrl-C handler; running tools are stopped when it is.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler that stops child tools (they run in their own process group).
pub fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Options every stage sees.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The board being built.
    pub board: Board,
    /// Stream tool output to the terminal as well as to the log.
    pub verbose: bool,
}

/// How a stage ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The stage ran and succeeded.
    Done,
    /// The inputs were unchanged: nothing ran.
    Skipped,
    /// The stage failed.
    Failed,
}

/// One line of the end-of-run summary.
#[derive(Debug, Clone)]
pub struct Report {
    /// Stage name.
    pub stage: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Wall time.
    pub elapsed: Duration,
    /// Main output, if any.
    pub output: Option<Utf8PathBuf>,
}

/// Hash of everything a stage reads; equal fingerprints mean nothing to do.
#[derive(Debug, Clone, Default)]
pub struct Fingerprint {
    hasher: Sha256,
}

impl Fingerprint {
    /// An empty fingerprint for a stage, salted with the tool's version.
    pub fn new(stage: &str) -> Fingerprint {
        let mut fp = Fingerprint::default();
        fp.text("minilinux-fingerprint-v1");
        fp.text(stage);
        fp
    }

    /// Adds a string (a flag, a version, a path).
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.hasher.update((s.len() as u64).to_le_bytes());
        self.hasher.update(s.as_bytes());
        self
    }

    /// Adds a file's path and contents; a missing file counts as such.
    pub fn file(&mut self, path: &Utf8Path) -> Result<&mut Self> {
        self.text(path.as_str());
        match std::fs::File::open(path) {
            Ok(mut f) => {
                std::io::copy(&mut f, &mut self.hasher)
                    .with_context(|| format!("reading {path}"))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.text("<missing>");
            }
            Err(e) => return Err(e).with_context(|| format!("reading {path}")),
        }
        Ok(self)
    }

    /// Adds every file under a directory (sorted, with relative paths and contents).
    pub fn tree(&mut self, dir: &Utf8Path) -> Result<&mut Self> {
        let mut files = Vec::new();
        collect_files(dir, &mut files)?;
        files.sort();
        self.text(dir.as_str());
        for f in files {
            self.file(&f)?;
        }
        Ok(self)
    }

    /// Adds the source tree `name` (`linux`, `busybox`) as `fetch` recorded it in
    /// `fetch.toml`: what the tree is, not where it came from, so that a new mirror in
    /// `[sources]` rebuilds nothing and a new busybox does not rebuild the kernel. A
    /// missing record counts as such.
    pub fn source(&mut self, board: &Board, name: &str) -> Result<&mut Self> {
        self.text(name);
        match crate::fetch::recorded(board, name)? {
            Some(fetched) => Ok(self.text(&fetched.identity())),
            None => Ok(self.text("<not fetched>")),
        }
    }

    /// The hex digest.
    pub fn hex(&self) -> String {
        hex(&self.hasher.clone().finalize())
    }
}

fn collect_files(dir: &Utf8Path, out: &mut Vec<Utf8PathBuf>) -> Result<()> {
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        let path = Utf8PathBuf::try_from(entry.path()).context("non-UTF-8 path")?;
        let ty = entry.file_type()?;
        if ty.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a stage's stamp lives.
pub fn stamp_path(board: &Board, stage: &str) -> Utf8PathBuf {
    board.out_dir().join("stamps").join(stage)
}

/// An exclusive `flock` on a lock file, held until dropped.
pub struct FileLock {
    _file: std::fs::File,
}

impl FileLock {
    /// Locks `dir/lock`; if another process holds it, prints `waiting for {holder} ({path})` and waits.
    pub fn acquire(dir: &Utf8Path, holder: &str) -> Result<FileLock> {
        fs_err::create_dir_all(dir)?;
        let path = dir.join("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {path}"))?;
        FileLock::take(file, &path, holder)
    }

    /// Locks the folder `dir` itself (no lock file is created in it), waiting as
    /// [`FileLock::acquire`] does: for edits of files under version control.
    pub fn folder(dir: &Utf8Path, holder: &str) -> Result<FileLock> {
        let file = std::fs::File::open(dir).with_context(|| format!("opening {dir}"))?;
        FileLock::take(file, dir, holder)
    }

    fn take(file: std::fs::File, path: &Utf8Path, holder: &str) -> Result<FileLock> {
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                eprintln!("waiting for {holder} ({path})");
                wait_for_lock(&file, path)?;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {path}"))
            }
        }
        Ok(FileLock { _file: file })
    }
}

/// Polls `file`'s lock until it is free, giving up when Ctrl-C is pressed: a blocking
/// `flock` would leave the interrupted command to run whenever the holder finishes.
fn wait_for_lock(file: &std::fs::File, path: &Utf8Path) -> Result<()> {
    loop {
        if interrupted() {
            bail!("interrupted while waiting for {path}");
        }
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(50)),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {path}"))
            }
        }
    }
}

/// Holds the board's lock for the life of a run: two runs on one board wait.
pub struct BoardLock {
    _lock: FileLock,
}

impl BoardLock {
    /// Takes `target/minilinux/<board>/lock`, waiting (and saying so) if another run holds it.
    pub fn acquire(board: &Board) -> Result<BoardLock> {
        let holder = format!("another minilinux run on board {}", board.name);
        Ok(BoardLock {
            _lock: FileLock::acquire(&board.out_dir(), &holder)?,
        })
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
        let log_dir = ctx.board.log_dir();
        fs_err::create_dir_all(&log_dir)?;
        let log_path = log_dir.join(format!("{name}.log"));
        let log = File::create(&log_path)?.into_parts().0;
        Ok(Stage {
            name: name.to_string(),
            board: ctx.board.clone(),
            verbose: ctx.verbose,
            log_path,
            log: Arc::new(Mutex::new(log)),
            started: Instant::now(),
            progress: Progress::start(name, ctx.verbose),
        })
    }

    /// Whether the stage's stamp equals `fp` and every output exists.
    pub fn is_fresh(&self, fp: &Fingerprint, outputs: &[&Utf8Path]) -> bool {
        let stamp = stamp_path(&self.board, &self.name);
        let recorded = std::fs::read_to_string(&stamp).unwrap_or_default();
        recorded.trim() == fp.hex() && outputs.iter().all(|o| o.exists())
    }

    /// Forgets the stamp before doing work, so a half-done stage is never taken as done.
    pub fn invalidate(&self) -> Result<()> {
        let stamp = stamp_path(&self.board, &self.name);
        match fs_err::remove_file(&stamp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
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

    /// Like [`Stage::run`], feeding `input` to the tool's standard input.
    pub fn run_with_input(&self, cmd: &mut Command, input: &[u8]) -> Result<()> {
        let shown = render_command(cmd);
        self.log(&format!("$ {shown}"));
        self.progress.set(&shown);
        use std::os::unix::process::CommandExt;
        let stdin = if input.is_empty() {
            Stdio::null()
        } else {
            Stdio::piped()
        };
        cmd.stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot run `{shown}`"))?;
        if let Some(mut stdin) = child.stdin.take() {
            let input = input.to_vec();
            // A tool that stops reading early closes the pipe: that is fine.
            std::thread::spawn(move || stdin.write_all(&input));
        }
        let pumps: Vec<_> = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        .map(|stream| {
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
        })
        .collect();
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
        for p in pumps {
            let _ = p.join();
        }
        if !status.success() {
            bail!("`{shown}` failed ({status})");
        }
        Ok(())
    }

    /// Records the stage as done with fingerprint `fp`.
    pub fn done(self, fp: &Fingerprint, output: Option<Utf8PathBuf>) -> Result<Report> {
        let stamp = stamp_path(&self.board, &self.name);
        write_atomic(&stamp, format!("{}\n", fp.hex()).as_bytes())?;
        Ok(self.end(Outcome::Done, output))
    }

    /// Ends a stage that had nothing to do.
    pub fn skipped(self, output: Option<Utf8PathBuf>) -> Report {
        self.end(Outcome::Skipped, output)
    }

    /// Ends a stage with an error: the error keeps its causes, with a [`StageFailed`]
    /// context naming the stage and holding the end of its log.
    pub fn failed(self, err: anyhow::Error) -> anyhow::Error {
        self.progress
            .finish(&self.name, Outcome::Failed, self.started.elapsed());
        let tail = tail_lines(&self.log_path, 25);
        err.context(StageFailed {
            stage: self.name,
            log: self.log_path,
            tail,
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
}

impl std::fmt::Display for StageFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stage `{}` failed", self.stage)
    }
}

/// An error as the user reads it: its causes on one line (`{:#}`), then, when a stage
/// failed, the last lines of that stage's log and where the full log is.
pub fn render_error(err: &anyhow::Error) -> String {
    let mut text = format!("{err:#}");
    if let Some(failed) = err.downcast_ref::<StageFailed>() {
        if !failed.tail.is_empty() {
            text.push_str(&format!(
                "\n--- last lines of {} ---\n{}",
                display_path(&failed.log),
                failed.tail
            ));
        }
        text.push_str(&format!("\nfull log: {}", failed.log));
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
    if stage.is_fresh(fp, outputs) {
        stage.log("inputs unchanged: nothing to do");
        return Ok(stage.skipped(main_output));
    }
    stage.invalidate()?;
    match body(&stage) {
        Ok(()) if interrupted() => Err(stage.failed(anyhow::anyhow!("interrupted"))),
        Ok(()) => stage.done(fp, main_output),
        Err(e) => Err(stage.failed(e)),
    }
}

/// The last `n` lines of a file, for failure messages.
pub fn tail_lines(path: &Utf8Path, n: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Writes a file through a temp file in the same directory and a rename.
///
/// A symlink is written through: its target is replaced, the link stays a link.
///
/// A file that exists keeps its mode; a new one gets `0666` less the umask, as
/// `std::fs::write` would give it (a bare temp file would be `0600`). A file
/// path without a folder is written in the current one.
pub fn write_atomic(path: &Utf8Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = &follow_symlinks(path)?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_str().is_empty() => dir,
        _ => Utf8Path::new("."),
    };
    fs_err::create_dir_all(dir)?;
    let mode = match fs_err::metadata(path) {
        Ok(meta) => Some(meta.permissions()),
        Err(_) => None,
    };
    let mut tmp = tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .with_context(|| format!("creating a temp file in {dir}"))?;
    tmp.write_all(bytes)
        .with_context(|| format!("writing {path}"))?;
    if let Some(mode) = mode {
        fs_err::set_permissions(tmp.path(), mode)?;
    }
    tmp.persist(path)
        .with_context(|| format!("replacing {path}"))?;
    Ok(())
}

/// The file a path names once every symlink at its end is followed (a link to a link,
/// relative or absolute); `path` itself when it is not a symlink or does not exist.
pub fn follow_symlinks(path: &Utf8Path) -> Result<Utf8PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match fs_err::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = Utf8PathBuf::try_from(fs_err::read_link(&path)?)
                    .with_context(|| format!("{path} links to a non-UTF-8 path"))?;
                path = match path.parent() {
                    Some(dir) => dir.join(target),
                    None => target,
                };
            }
            _ => return Ok(path),
        }
    }
    bail!("{path}: too many levels of symbolic links")
}

/// A command as a shell-like line, for logs and messages.
pub fn render_command(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
            parts.push(format!("'{}'", a.replace('\'', "'\\''")));
        } else {
            parts.push(a.into_owned());
        }
    }
    parts.join(" ")
}

/// Prints the end-of-run table: stage, outcome, time, output and its size.
pub fn print_summary(reports: &[Report]) {
    if reports.is_empty() {
        return;
    }
    eprintln!();
    eprintln!("{:<18} {:<8} {:>8}  output", "stage", "result", "time");
    for r in reports {
        let outcome = match r.outcome {
            Outcome::Done => "done",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "FAILED",
        };
        let output = match &r.output {
            Some(p) => {
                let size = std::fs::metadata(p)
                    .map(|m| human_size(m.len()))
                    .unwrap_or_default();
                format!("{} {size}", display_path(p))
            }
            None => String::new(),
        };
        eprintln!(
            "{:<18} {:<8} {:>7.1}s  {}",
            r.stage,
            outcome,
            r.elapsed.as_secs_f64(),
            output
        );
    }
}

/// `1.2 MiB`-style sizes.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

/// The per-stage progress line: a spinner with elapsed time on a terminal, plain lines elsewhere.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn start(name: &str, verbose: bool) -> Progress {
        use std::io::IsTerminal;
        if verbose || !std::io::stderr().is_terminal() {
            eprintln!("[{name}] started");
            return Progress { bar: None };
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{prefix}] {elapsed:>4} {wide_msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_prefix(name.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }

    fn set(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_string());
        }
    }

    fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn finish(&self, name: &str, outcome: Outcome, elapsed: Duration) {
        let word = match outcome {
            Outcome::Done => "done",
            Outcome::Skipped => "up to date",
            Outcome::Failed => "failed",
        };
        let line = format!("[{name}] {word} in {:.1}s", elapsed.as_secs_f64());
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        eprintln!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Utf8Path) -> u32 {
        fs_err::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_failed_stage_keeps_its_causes_and_shows_its_log_tail_after_them() {
        let err = anyhow::Error::new(std::io::Error::other("disk full"))
            .context("writing initramfs.cpio")
            .context(StageFailed {
                stage: "pack".into(),
                log: "/w/target/minilinux/b/logs/pack.log".into(),
                tail: "line 1\nline 2".into(),
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

    #[test]
    fn write_atomic_gives_a_new_file_the_mode_std_would() {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(dir.path()).unwrap();
        std::fs::write(dir.join("by-std"), b"x").unwrap();
        write_atomic(&dir.join("ours"), b"x").unwrap();
        assert_eq!(mode(&dir.join("ours")), mode(&dir.join("by-std")));
    }

    #[test]
    fn write_atomic_writes_through_a_chain_of_symlinks_and_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(dir.path()).unwrap();
        fs_err::create_dir(dir.join("shared")).unwrap();
        std::fs::write(dir.join("shared/real"), b"old").unwrap();
        std::os::unix::fs::symlink("shared/real", dir.join("hop")).unwrap();
        std::os::unix::fs::symlink(dir.join("hop"), dir.join("link")).unwrap();
        write_atomic(&dir.join("link"), b"new").unwrap();
        assert!(fs_err::symlink_metadata(dir.join("link"))
            .unwrap()
            .is_symlink());
        assert!(fs_err::symlink_metadata(dir.join("hop"))
            .unwrap()
            .is_symlink());
        assert_eq!(std::fs::read(dir.join("shared/real")).unwrap(), b"new");
    }

    #[test]
    fn write_atomic_keeps_the_mode_of_a_file_it_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8Path::from_path(dir.path()).unwrap().join("f");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o751)).unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(mode(&path), 0o751);
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }
}
