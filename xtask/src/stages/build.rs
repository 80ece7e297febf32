//! `build`: the kernel image and dtb, a static busybox, and the guest's init.
//!
//! Three sub-stages with their own fingerprints, so editing the kernel fragment
//! rebuilds only the kernel and editing init only init.

use anyhow::{Context, Result};
use camino::Utf8Path;
use std::process::Command;

use crate::board::Board;
use crate::engine::{Ctx, Report, Stage};
use crate::kbuild;

mod busybox;
mod distcc;
mod init;
mod kernel;

use distcc::Distcc;

/// Options of `cargo xtask build`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BuildArgs {
    /// Compile C directly, not through ccache (which is used whenever it is installed)
    #[arg(long)]
    pub no_ccache: bool,
    /// Compile the kernel's and busybox's C on distcc helpers: HOSTS as in DISTCC_HOSTS,
    /// e.g. "192.168.1.5/8 192.168.1.6/4" (docs/distcc.md)
    #[arg(long, value_name = "HOSTS")]
    pub distcc: Option<String>,
    /// Parallel make jobs (default: number of cores, or with --distcc the hosts' job slots)
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<std::num::NonZeroUsize>,
}

/// Runs the build stages: kernel, busybox, init.
pub fn run(ctx: &Ctx, args: &BuildArgs) -> Result<Vec<Report>> {
    let distcc = args.distcc.as_deref().map(Distcc::probe).transpose()?;
    let distcc = distcc.as_ref();
    // At once: each is a `make -jN` (or rustc) with serial stretches (the kernel's link
    // and kallsyms passes, busybox's configuration and link) that leave cores idle,
    // which the others fill. A failure waits for the other builds to end, then the
    // first in this order is the error (the others' ends show on their own lines).
    let (kernel, busybox, init) = std::thread::scope(|scope| {
        let busybox = scope.spawn(|| busybox::busybox(ctx, args, distcc));
        let init = scope.spawn(|| init::init(ctx));
        let kernel = kernel::kernel(ctx, args, distcc);
        let join = |handle: std::thread::ScopedJoinHandle<'_, Result<Report>>| {
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        };
        (kernel, join(busybox), join(init))
    });
    Ok(vec![kernel?, busybox?, init?])
}

fn jobs(args: &BuildArgs, distcc: Option<&Distcc>) -> usize {
    args.jobs
        .map(|n| n.get())
        .or(distcc.map(|d| d.slots))
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

/// Whether C goes through ccache: whenever it is installed, unless `--no-ccache`. Not part
/// of the build fingerprints: ccache runs the same compiler on the same command lines,
/// so the outputs do not depend on it (as with distcc).
pub fn uses_ccache(args: &BuildArgs) -> bool {
    !args.no_ccache && crate::layout::which("ccache").is_some()
}

/// `make` in `src` with output in `build`, for the board's arch and cross compiler.
pub fn make(
    board: &Board,
    src: &Utf8Path,
    build: &Utf8Path,
    args: &BuildArgs,
    distcc: Option<&Distcc>,
) -> Result<Command> {
    let mut cmd = kbuild::make(board, src, build, Some(&board.spec.arch));
    let compiler = format!("{}gcc", board.spec.cross_compile);
    let ccache = uses_ccache(args);
    if ccache {
        cmd.arg(format!("CC=ccache {compiler}"));
    }
    if let Some(distcc) = distcc {
        distcc.route(&mut cmd, &compiler, ccache, &board.out_dir().join("distcc"))?;
    }
    cmd.arg(format!("-j{}", jobs(args, distcc)));
    Ok(cmd)
}

/// Runs a build's make; with distcc, logs the hosts and warns about compiles it kept here.
pub fn run_make(stage: &Stage, board: &Board, cmd: Command, distcc: Option<&Distcc>) -> Result<()> {
    let Some(distcc) = distcc else {
        return stage.run(cmd);
    };
    stage.log(&distcc.describe());
    stage.run(cmd)?;
    let log = fs_err::read_to_string(stage.log_path())?;
    let fallbacks = distcc::local_fallbacks(&log);
    if fallbacks > 0 {
        let compiler = format!("{}gcc", board.spec.cross_compile);
        stage.note(&distcc::fallback_warning(
            fallbacks,
            &distcc.hosts,
            &compiler,
        ));
    }
    Ok(())
}

/// A `.config`'s assignments, without its comments: busybox writes the date into
/// its header, which must not make an unchanged config look new.
pub fn config_assignments(path: &Utf8Path) -> Result<String> {
    let config = kbuild::read_config(path)
        .with_context(|| format!("{path}: run `cargo xtask configure` first"))?;
    Ok(config
        .assignments()
        .map(|(symbol, value)| format!("{symbol}={value}\n"))
        .collect())
}

/// The cross compiler's `--version` line, for the fingerprints: a new gcc rebuilds.
pub fn compiler_version(board: &Board) -> String {
    let gcc = format!("{}gcc", board.spec.cross_compile);
    Command::new(&gcc)
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_else(|_| format!("{gcc} missing"))
}
