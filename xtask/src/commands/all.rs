//! `cargo xtask all`: the setup check, every stage under the board lock, the summary,
//! then the boot.

use anyhow::Result;
use std::process::ExitCode;

use crate::engine::{print_summary, BoardLock, Ctx, Report};
use crate::host::setup;
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
    qemu: super::qemu::QemuArgs,
    /// Stop after packing, do not boot
    #[arg(long)]
    no_boot: bool,
}

/// `cargo xtask all`: setup check, then every stage, then the boot.
pub fn run(ctx: &Ctx, args: AllArgs) -> Result<ExitCode> {
    setup::ensure(ctx)?;
    build_with(ctx, &args)?;
    if args.no_boot {
        return Ok(ExitCode::SUCCESS);
    }
    super::qemu::run(ctx, args.qemu)
}

/// Every stage before the boot, with default options: what the test suite boots.
pub fn build_all(ctx: &Ctx) -> Result<()> {
    build_with(ctx, &AllArgs::default())
}

/// fetch, configure, build, pack under the board lock, then the summary.
fn build_with(ctx: &Ctx, args: &AllArgs) -> Result<()> {
    let mut reports: Vec<Report> = Vec::new();
    let result = (|| -> Result<()> {
        let _lock = BoardLock::acquire(ctx.board()?)?;
        reports.push(fetch::run(ctx, &args.fetch)?);
        reports.extend(configure::run(ctx, &args.configure)?);
        reports.extend(build::run(ctx, &args.build)?);
        reports.push(pack::run(ctx, &args.pack)?);
        Ok(())
    })();
    print_summary(&reports);
    result
}
