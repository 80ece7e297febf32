//! `cargo xtask clean`: a board's outputs, and with `--cache` the source cache.

use anyhow::{bail, Context, Result};
use std::process::ExitCode;

use crate::engine::{BoardLock, Ctx, FileLock};
use crate::layout::display_path;

/// Options of `cargo xtask clean`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CleanArgs {
    /// Also remove the download and source cache (shared by all boards)
    #[arg(long)]
    cache: bool,
}

/// `cargo xtask clean`: empties `target/minilinux/<board>/` (the lock stays) and, with
/// `--cache`, removes the source cache, but only one that carries minilinux's tag, and
/// under the cache lock, so a fetch in progress is waited for.
pub fn run(ctx: &Ctx, args: CleanArgs) -> Result<ExitCode> {
    let out = ctx.board()?.out_dir();
    let outputs = crate::layout::target_dir().join("minilinux");
    if !out.starts_with(&outputs) || out == outputs {
        bail!(
            "refusing to clean {out}: board outputs live in a folder of their own under {outputs}"
        );
    }
    let cache = crate::layout::cache_dir();
    if args.cache && cache.exists() && !crate::layout::is_marked_cache(&cache) {
        bail!(
            "refusing to remove {cache}: it has no CACHEDIR.TAG written by minilinux, so it may \
             not be minilinux's cache (check MINILINUX_CACHE / XDG_CACHE_HOME; remove it by hand \
             if it is)"
        );
    }
    {
        let _lock = BoardLock::acquire(ctx.board()?)?;
        for entry in fs_err::read_dir(&out).into_iter().flatten() {
            let entry = entry?;
            if entry.file_name() == "lock" {
                continue;
            }
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                fs_err::remove_dir_all(&path)?;
            } else {
                fs_err::remove_file(&path)?;
            }
        }
    }
    eprintln!("removed {}", display_path(&out));
    if args.cache && cache.exists() {
        let _lock = FileLock::acquire(&cache, "a fetch using the cache")?;
        // The lock file goes last: a fetch that starts meanwhile waits on it, then finds
        // no cache and builds a new one.
        for entry in fs_err::read_dir(&cache)? {
            let entry = entry?;
            if entry.file_name() == "lock" {
                continue;
            }
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                fs_err::remove_dir_all(&path)
            } else {
                fs_err::remove_file(&path)
            }
            .with_context(|| format!("removing {cache}"))?;
        }
        fs_err::remove_dir_all(&cache).with_context(|| format!("removing {cache}"))?;
        eprintln!("removed {cache}");
    }
    Ok(ExitCode::SUCCESS)
}
