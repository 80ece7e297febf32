//! `cargo xtask build`: the kernel, busybox and init, as one stage run under the board lock.

use anyhow::Result;
use std::process::ExitCode;

use crate::engine::{print_summary, BoardLock, Ctx};
use crate::stages;
use crate::stages::build::BuildArgs;

/// `cargo xtask build`.
pub fn run(ctx: &Ctx, args: BuildArgs) -> Result<ExitCode> {
    let _lock = BoardLock::acquire(ctx.board()?)?;
    print_summary(&stages::build::run(ctx, &args)?);
    Ok(ExitCode::SUCCESS)
}
