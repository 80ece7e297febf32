//! `cargo xtask setup`: the host packages the board (or every board) needs, and those
//! of the optional features, installed through apt (see `host/`).

use anyhow::Result;
use std::process::ExitCode;

use crate::board::Board;
use crate::engine::Ctx;
use crate::host::setup::setup;

/// Options of `cargo xtask setup`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SetupArgs {
    /// Only report what is missing, install nothing
    #[arg(long)]
    pub check: bool,
    /// Every board under boards/, not only --board
    #[arg(long)]
    pub all_boards: bool,
}

/// `cargo xtask setup`.
pub fn run(ctx: &Ctx, args: SetupArgs) -> Result<ExitCode> {
    if !args.all_boards {
        setup(ctx, args.check)?;
        return Ok(ExitCode::SUCCESS);
    }
    for name in Board::names()? {
        setup(
            &Ctx::for_board(Board::load(&name)?, ctx.verbose),
            args.check,
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
