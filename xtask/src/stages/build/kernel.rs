//! `build-linux`: the kernel image and dtb, and the uImage wrapping when the board boots one.

use anyhow::{bail, Context, Result};

use super::distcc::Distcc;
use super::{compiler_version, config_assignments, make, run_make, BuildArgs};
use crate::board::Board;
use crate::dtb;
use crate::engine::{run_stage, write_atomic, Ctx, Fingerprint, Report};
use crate::fetched;
use crate::uimage;

// --distcc and ccache are not part of the build fingerprints: the helpers run the same
// compiler and Kbuild sees the same command lines (see distcc.rs), ccache runs the same
// compiler, so outputs do not depend on them.
/// Runs the `build-linux` stage.
pub fn kernel(ctx: &Ctx, args: &BuildArgs, distcc: Option<&Distcc>) -> Result<Report> {
    let board = ctx.board()?;
    let mut fp = Fingerprint::new("build-linux");
    fp.source("linux", fetched::identity(board, "linux")?.as_deref())
        .text(&config_assignments(&board.kernel_config())?)
        .text(&board.spec.kernel.targets.join(" "))
        .text(&compiler_version(board))
        .text(&format!("{:?}", board.spec.kernel.uimage_load))
        .text(&board.spec.kernel.dtb_disable.join(" "));
    let built = board.kernel_built_image();
    let image = board.kernel_image();
    let (dtb_built, dtb) = (board.dtb_built(), board.dtb());
    // What make writes, then what the stage writes from it.
    let mut made = vec![built.as_path()];
    made.extend(dtb_built.as_deref());
    let mut outputs = made.clone();
    if image != built {
        outputs.push(&image);
    }
    if dtb != dtb_built {
        outputs.extend(dtb.as_deref());
    }
    run_stage(
        ctx,
        "build-linux",
        &fp,
        &outputs,
        Some(image.clone()),
        |stage| {
            stage.status("make");
            let mut cmd = make(
                board,
                &board.kernel_src(),
                &board.kernel_build(),
                args,
                distcc,
            )?;
            cmd.args(&board.spec.kernel.targets);
            run_make(stage, board, cmd, distcc)?;
            for out in &made {
                if !out.exists() {
                    bail!("make succeeded but {out} is missing: check [kernel] targets/image/dtb in board.toml");
                }
            }
            if let Some(load) = board.spec.kernel.uimage_load {
                stage.status("uimage");
                let payload = fs_err::read(&built)?;
                write_atomic(&image, &uimage::wrap(&payload, load, "Linux"))
                    .with_context(|| format!("writing {image}"))?;
            }
            if let (Some(from), Some(to)) = (&dtb_built, &dtb) {
                if from != to {
                    stage.status("dtb");
                    disable_dtb_nodes(board, from, to)?;
                }
            }
            Ok(())
        },
    )
}

/// Writes `to`: the dtb `from` with `[kernel] dtb_disable`'s nodes disabled.
fn disable_dtb_nodes(board: &Board, from: &camino::Utf8Path, to: &camino::Utf8Path) -> Result<()> {
    let blob = fs_err::read(from)?;
    let edited = dtb::disable_nodes(&blob, &board.spec.kernel.dtb_disable).with_context(|| {
        format!(
            "{}: [kernel] dtb_disable does not fit {from} (the guest lists its nodes under \
             /proc/device-tree; `dtc -I dtb -O dts` prints them on the host)",
            crate::layout::display_path(&board.dir.join("board.toml"))
        )
    })?;
    write_atomic(to, &edited).with_context(|| format!("writing {to}"))
}
