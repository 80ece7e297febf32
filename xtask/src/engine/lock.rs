//! Exclusive locks: one run per board, one fetch per cache, one edit per fragment.

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use std::time::Duration;

use super::interrupt::interrupted;
use crate::board::Board;

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
