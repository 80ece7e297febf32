//! `cargo xtask fetch`: download and verify the kernel and busybox sources, as one stage run under the board lock.

use anyhow::Result;
use std::process::ExitCode;

use crate::engine::{print_summary, BoardLock, Ctx};
use crate::stages;
use crate::stages::fetch::FetchArgs;

/// `cargo xtask fetch`.
pub fn run(ctx: &Ctx, args: FetchArgs) -> Result<ExitCode> {
    let _lock = BoardLock::acquire(ctx.board()?)?;
    print_summary(&[stages::fetch::run(ctx, &args)?]);
    Ok(ExitCode::SUCCESS)
}
