//! `build-busybox`: a static busybox and its list of applets.

use anyhow::{bail, Result};
use camino::Utf8Path;

use super::distcc::Distcc;
use super::{compiler_version, config_assignments, make, run_make, BuildArgs};
use crate::board::Board;
use crate::elf::{check_guest, GuestElfError};
use crate::engine::{run_stage, Ctx, Fingerprint, Report, Stage};
use crate::fetched;

/// Runs the `build-busybox` stage.
pub fn busybox(ctx: &Ctx, args: &BuildArgs, distcc: Option<&Distcc>) -> Result<Report> {
    let board = ctx.board()?;
    let mut fp = Fingerprint::new("build-busybox");
    fp.source("busybox", fetched::identity(board, "busybox")?.as_deref())
        .text(&config_assignments(&board.busybox_config())?)
        .text(&compiler_version(board));
    let bin = board.busybox_bin();
    let links = board.busybox_links();
    run_stage(
        ctx,
        "build-busybox",
        &fp,
        &[&bin, &links],
        Some(bin.clone()),
        |stage| {
            let mut cmd = make(
                board,
                &board.busybox_src(),
                &board.busybox_build(),
                args,
                distcc,
            )?;
            cmd.args(["busybox", "busybox.links"]);
            run_make(stage, board, cmd, distcc)?;
            check_static(stage, board, &bin)
        },
    )
}

/// Busybox must run on the board, and a dynamically linked one cannot run in an initramfs
/// without a C library.
fn check_static(stage: &Stage, board: &Board, bin: &Utf8Path) -> Result<()> {
    let bytes = fs_err::read(bin)?;
    let elf = match check_guest(&bytes, board.spec.elf_machine, true) {
        Ok(elf) => elf,
        Err(GuestElfError::NotElf) => bail!("{bin}: not an ELF file"),
        Err(GuestElfError::Dynamic) => {
            bail!("{bin} is dynamically linked: set CONFIG_STATIC=y in the board's busybox.config")
        }
        Err(e) => bail!("{bin} {e}: check cross_compile in board.toml"),
    };
    stage.log(&format!("{bin}: static ELF, machine {}", elf.machine));
    Ok(())
}
