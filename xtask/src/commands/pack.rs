//! `cargo xtask pack`: the pack stage under the board lock, or with `--list`, an
//! archive's entries.

use anyhow::{bail, Context, Result};
use camino::Utf8PathBuf;
use std::process::ExitCode;

use crate::engine::{print_summary, BoardLock, Ctx};
use crate::layout::display_path;
use crate::stages;
use crate::stages::pack::PackStageArgs;

/// Options of `cargo xtask pack`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PackArgs {
    #[command(flatten)]
    stage: PackStageArgs,
    /// List an archive (default: the board's packed initramfs) instead of packing
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
    list: Option<String>,
}

/// `cargo xtask pack`: pack, or with `--list`, list an archive.
pub fn run(ctx: &Ctx, args: PackArgs) -> Result<ExitCode> {
    let Some(list) = args.list else {
        let _lock = BoardLock::acquire(ctx.board()?)?;
        print_summary(&[stages::pack::run(ctx, &args.stage)?]);
        return Ok(ExitCode::SUCCESS);
    };
    let path = if list.is_empty() {
        let current = ctx.board()?.current_initramfs();
        if !current.exists() {
            bail!(
                "{} does not exist: run `cargo xtask pack` first",
                display_path(&current)
            );
        }
        current
    } else {
        Utf8PathBuf::from(list)
    };
    let bytes = fs_err::read(&path)?;
    let entries = rootfs::list(&bytes).with_context(|| path.to_string())?;
    print!("{}", rootfs::render_listing(&entries));
    Ok(ExitCode::SUCCESS)
}
