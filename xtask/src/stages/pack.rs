//! `pack`: the initramfs from the board's manifest and the build outputs.

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use rootfs::Compression;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::board::Board;

use crate::engine::{run_stage, symlink_atomic, Ctx, Fingerprint, Report};
use crate::layout::display_path;

/// Options of the pack stage (`cargo xtask pack` and `all`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PackStageArgs {
    /// Initramfs compression: gzip, zstd, xz, lz4 or none (default: the board's)
    #[arg(long, value_name = "KIND")]
    pub compression: Option<String>,
}

/// The variables a manifest can use in host paths.
pub fn manifest_vars(board: &Board) -> BTreeMap<String, PathBuf> {
    let mut vars = BTreeMap::new();
    vars.insert("busybox".to_string(), board.busybox_bin().into());
    vars.insert("busybox_links".to_string(), board.busybox_links().into());
    vars.insert("init".to_string(), board.init_bin().into());
    vars.insert("board".to_string(), board.dir.clone().into());
    vars.insert("kernel_build".to_string(), board.kernel_build().into());
    vars
}

/// The compression asked for, else the board's.
pub fn compression(board: &Board, args: &PackStageArgs) -> Result<Compression> {
    let name = args
        .compression
        .as_deref()
        .unwrap_or(&board.spec.rootfs.compression);
    name.parse::<Compression>()
        .with_context(|| format!("--compression {name}"))
}

/// `SOURCE_DATE_EPOCH`, else 0: the mtime of every archive entry.
fn mtime() -> Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v.trim().parse().with_context(|| {
            format!("SOURCE_DATE_EPOCH={v:?} is not a number of seconds: unset it or fix it")
        }),
        Err(_) => Ok(0),
    }
}

/// Runs the pack stage.
pub fn run(ctx: &Ctx, args: &PackStageArgs) -> Result<Report> {
    let board = ctx.board()?;
    let compression = compression(board, args)?;
    crate::qemu::preflight::check_compression(board, compression)?;
    let out = board.initramfs(compression.extension());
    let options = rootfs::PackOptions {
        manifest: board.manifest().into(),
        vars: manifest_vars(board),
        compression,
        mtime: mtime()?,
    };
    let mut fp = Fingerprint::new("pack");
    fp.file(&board.manifest())?
        .text(&format!("{compression:?} {}", options.mtime));
    let inputs = rootfs::inputs(&options.manifest, &options.vars)?;
    for input in inputs {
        let input = Utf8PathBuf::try_from(input)?;
        if input.is_dir() {
            fp.tree(&input)?;
        } else {
            fp.file(&input)?;
        }
    }
    let current = board.current_initramfs();
    let report = run_stage(ctx, "pack", &fp, &[&out], Some(out.clone()), |stage| {
        stage.status(&format!(
            "{} from {}",
            display_path(&out),
            display_path(&board.manifest())
        ));
        let report = rootfs::pack(&options, out.as_std_path())?;
        stage.log(&format!("{report:?}"));
        Ok(())
    })?;
    // `initramfs` -> `initramfs.cpio.<ext>`, relative: the folder may move.
    let name = out.file_name().context("initramfs has no file name")?;
    symlink_atomic(Utf8Path::new(name), &current)?;
    Ok(report)
}
