//! `cargo xtask configure`: the kernel and busybox `.config` from defconfig + the board's fragments, as one stage run under the board lock.

use anyhow::Result;
use std::process::ExitCode;

use crate::engine::{print_summary, BoardLock, Ctx};
use crate::stages;
use crate::stages::configure::ConfigureArgs;

/// `cargo xtask configure`.
pub fn run(ctx: &Ctx, args: ConfigureArgs) -> Result<ExitCode> {
    let _lock = BoardLock::acquire(ctx.board()?)?;
    print_summary(&stages::configure::run(ctx, &args)?);
    Ok(ExitCode::SUCCESS)
}
