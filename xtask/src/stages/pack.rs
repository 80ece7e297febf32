//! `pack`: the initramfs from the board's manifest and the build outputs.

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use rootfs::Compression;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::board::{is_hostname_byte, Board};

use crate::engine::{run_stage, symlink_atomic, write_atomic, Ctx, Fingerprint, Report};
use crate::layout::display_path;
use crate::render::human_size;

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
    vars.insert("hostname".to_string(), board.hostname_file().into());
    vars
}

/// Writes the file behind `${hostname}`: the board's host name and a newline, unless
/// it already says so (its mtime is then kept). A name the kernel would refuse is an
/// error naming board.toml.
fn write_hostname(board: &Board) -> Result<()> {
    let name = board.hostname();
    let valid = !name.is_empty() && name.len() <= 64 && name.bytes().all(is_hostname_byte);
    if !valid {
        anyhow::bail!(
            "{}: [rootfs] hostname {name:?}: a host name is 1 to 64 letters, digits, `-` and `.`",
            board.dir.join("board.toml")
        );
    }
    let text = format!("{name}\n");
    let path = board.hostname_file();
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        write_atomic(&path, text.as_bytes())?;
    }
    Ok(())
}

/// The compression asked for, else the board's (checked when `board.toml` was read).
pub fn compression(board: &Board, args: &PackStageArgs) -> Result<Compression> {
    match args.compression.as_deref() {
        Some(name) => name
            .parse::<Compression>()
            .with_context(|| format!("--compression {name}")),
        None => Ok(board.spec.rootfs.compression),
    }
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

/// A warning when the archive and the files it unpacks to take more than half the guest's
/// memory (`ram`, bytes; `None` when `-m` does not parse): the kernel holds both while it
/// unpacks, beside itself and init, so such a guest is likely to run out of memory at boot.
fn memory_warning(report: &rootfs::PackReport, ram: Option<u64>) -> Option<String> {
    let ram = ram?;
    let needed = report.raw_bytes + report.compressed_bytes;
    if needed <= ram / 2 {
        return None;
    }
    let largest: Vec<String> = report
        .largest_files
        .iter()
        .map(|(path, size)| format!("{path} ({})", human_size(*size)))
        .collect();
    Some(format!(
        "warning: the initramfs ({}) unpacks to {} in a guest with {} of memory (`-m` in \
         board.toml's [qemu] args): archive and files must fit at once, so the boot will likely \
         run out of memory; largest files: {}. Leave big files out of rootfs.toml or give the \
         guest more memory",
        human_size(report.compressed_bytes),
        human_size(report.raw_bytes),
        human_size(ram),
        largest.join(", ")
    ))
}

/// Runs the pack stage.
pub fn run(ctx: &Ctx, args: &PackStageArgs) -> Result<Report> {
    let board = ctx.board()?;
    let compression = compression(board, args)?;
    crate::qemu::preflight::check_compression(board, compression)?;
    let out = board.initramfs(compression.extension());
    write_hostname(board)?;
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
        // Every entry of an overlay is an input of its own: a directory adds its
        // mode, a symlink its target, never what it leads to (`lib -> usr/lib`,
        // a link to /dev/zero or a FIFO is stored as a link).
        fp.file(&input)?;
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
        if let Some(warning) = memory_warning(&report, board.guest_ram()) {
            stage.note(&warning);
        }
        Ok(())
    })?;
    // `initramfs` -> `initramfs.cpio.<ext>`, relative: the folder may move.
    let name = out.file_name().context("initramfs has no file name")?;
    symlink_atomic(Utf8Path::new(name), &current)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::memory_warning;
    use expect_test::expect;

    fn report(raw: u64, compressed: u64, largest: &[(&str, u64)]) -> rootfs::PackReport {
        rootfs::PackReport {
            entries: 3,
            raw_bytes: raw,
            compressed_bytes: compressed,
            compression: rootfs::Compression::None,
            inputs: Vec::new(),
            largest_files: largest.iter().map(|(p, s)| (p.to_string(), *s)).collect(),
        }
    }

    #[test]
    fn an_initramfs_too_big_for_the_guest_is_named_with_its_largest_files() {
        let ram = Some(128 << 20);
        let big = report(
            600 << 20,
            600 << 20,
            &[("/big.bin", 600 << 20), ("/bin/busybox", 1 << 20)],
        );
        expect!["Some(\"warning: the initramfs (600.0 MiB) unpacks to 600.0 MiB in a guest with 128.0 MiB of memory (`-m` in board.toml's [qemu] args): archive and files must fit at once, so the boot will likely run out of memory; largest files: /big.bin (600.0 MiB), /bin/busybox (1.0 MiB). Leave big files out of rootfs.toml or give the guest more memory\")"]
            .assert_eq(&format!("{:?}", memory_warning(&big, ram)));
        let usual = report(3 << 20, 3 << 20, &[("/bin/busybox", 2 << 20)]);
        assert_eq!(memory_warning(&usual, ram), None);
        assert_eq!(memory_warning(&big, Some(4 << 30)), None);
    }
}
