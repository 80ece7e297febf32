//! `all`, `boards`, `clean`: chaining stages and the per-run summary.

use anyhow::{bail, Context, Result};
use std::process::ExitCode;

use crate::board::Board;

use crate::engine::{print_summary, BoardLock, Ctx, FileLock, Report};
use crate::host::setup;
use crate::layout::display_path;
use crate::qemu;
use crate::stages::{build, configure, fetch, pack};

/// Options of `cargo xtask all`: those of every stage it runs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AllArgs {
    #[command(flatten)]
    fetch: fetch::FetchArgs,
    #[command(flatten)]
    configure: configure::ConfigureArgs,
    #[command(flatten)]
    build: build::BuildArgs,
    #[command(flatten)]
    pack: pack::PackStageArgs,
    #[command(flatten)]
    qemu: qemu::QemuArgs,
    /// Stop after packing, do not boot
    #[arg(long)]
    no_boot: bool,
}

/// `cargo xtask all`: setup check, then every stage, then the boot.
pub fn all(ctx: &Ctx, args: AllArgs) -> Result<ExitCode> {
    setup::ensure(&ctx.board)?;
    build_with(ctx, &args)?;
    if args.no_boot {
        return Ok(ExitCode::SUCCESS);
    }
    qemu::command(ctx, &args.qemu)
}

/// Every stage before the boot, with default options: what the test suite boots.
pub fn build_all(ctx: &Ctx) -> Result<()> {
    build_with(ctx, &AllArgs::default())
}

/// fetch, configure, build, pack under the board lock, then the summary.
fn build_with(ctx: &Ctx, args: &AllArgs) -> Result<()> {
    let mut reports: Vec<Report> = Vec::new();
    let result = (|| -> Result<()> {
        let _lock = BoardLock::acquire(&ctx.board)?;
        reports.push(fetch::run(ctx, &args.fetch)?);
        reports.extend(configure::run(ctx, &args.configure)?);
        reports.extend(build::run(ctx, &args.build)?);
        reports.push(pack::run(ctx, &args.pack)?);
        Ok(())
    })();
    print_summary(&reports);
    result
}

/// Runs one stage (or a group of them) under the board lock and prints the summary.
pub fn single<R: IntoReports>(ctx: &Ctx, stage: impl FnOnce(&Ctx) -> Result<R>) -> Result<()> {
    let _lock = BoardLock::acquire(&ctx.board)?;
    let reports = stage(ctx)?.into_reports();
    print_summary(&reports);
    Ok(())
}

/// A stage's result: one report or several (configure and build have one per package).
pub trait IntoReports {
    /// The reports, in order.
    fn into_reports(self) -> Vec<Report>;
}

impl IntoReports for Report {
    fn into_reports(self) -> Vec<Report> {
        vec![self]
    }
}

impl IntoReports for Vec<Report> {
    fn into_reports(self) -> Vec<Report> {
        self
    }
}

/// `cargo xtask boards`: each board, whether this host has its tools, and its description.
pub fn boards() -> Result<()> {
    for name in Board::names()? {
        let board = Board::load(&name)?;
        let missing = setup::missing_tools(&board);
        print!(
            "{}",
            board_line(&name, &board.spec.description, missing.as_deref())
        );
    }
    Ok(())
}

/// One board in `cargo xtask boards`: name, `ready` or `missing`, description, and
/// for a missing one a second line with what is missing and the fix.
fn board_line(name: &str, description: &str, missing: Option<&str>) -> String {
    match missing {
        None => format!("{name:<14} ready    {description}\n"),
        Some(what) => format!(
            "{name:<14} missing  {description}\n{:<14}          {what}: run `cargo xtask setup --board {name}`\n",
            ""
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::board_line;
    use expect_test::expect;

    #[test]
    fn boards_lists_status_then_description_and_the_fix_when_missing() {
        let text = board_line("versatilepb", "ARM Versatile PB", None)
            + &board_line(
                "x86_64",
                "x86_64 QEMU microvm",
                Some("qemu-system-x86_64 not found (package qemu-system-x86)"),
            );
        expect![[r#"
            versatilepb    ready    ARM Versatile PB
            x86_64         missing  x86_64 QEMU microvm
                                    qemu-system-x86_64 not found (package qemu-system-x86): run `cargo xtask setup --board x86_64`
        "#]]
        .assert_eq(&text);
    }
}

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
pub fn clean(ctx: &Ctx, args: &CleanArgs) -> Result<()> {
    let out = ctx.board.out_dir();
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
        let _lock = BoardLock::acquire(&ctx.board)?;
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
    Ok(())
}
