//! `build-linux`: the kernel image and dtb, and the uImage wrapping when the board boots one.

use anyhow::{bail, Context, Result};

use super::distcc::Distcc;
use super::{compiler_version, config_assignments, make, run_make, BuildArgs};
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
        .text(&format!("{:?}", board.spec.kernel.uimage_load));
    let built = board.kernel_built_image();
    let image = board.kernel_image();
    let dtb = board.dtb();
    // What make writes, then what the stage writes from it.
    let mut made = vec![built.as_path()];
    made.extend(dtb.as_deref());
    let mut outputs = made.clone();
    if image != built {
        outputs.push(&image);
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
            Ok(())
        },
    )
}
