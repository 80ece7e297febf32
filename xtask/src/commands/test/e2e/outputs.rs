//! Checks of what the stages built: every compression boots, pack is reproducible, the
//! kconfig crate round-trips every defconfig, the boot benchmark's variants boot.

use anyhow::Context;
use camino::Utf8PathBuf;
use std::process::Command;
use std::time::Duration;

use super::{builtin_cmdline, prepare, Failure, Outcome};
use crate::board::Board;
use crate::engine::{files_under, Ctx};
use crate::kbuild::read_config;
use crate::qemu::{BootRequest, Echo, ExecOptions, FileOverrides, SILENT_CONSOLE};

/// The initramfs boots with every compression the kernel can unpack (at least two).
pub fn every_compression(_: &Ctx, board: &Board) -> Outcome {
    let cmdline = builtin_cmdline(board)?;
    let config = read_config(&board.kernel_config())
        .map_err(|e| Failure::new("read .config", "a kernel .config", format!("{e:#}")))?;
    let dir =
        tempfile::tempdir().map_err(|e| Failure::new("tempdir", "a temp dir", e.to_string()))?;
    let mut tried = Vec::new();
    for compression in &rootfs::Compression::ALL {
        if let Some(symbol) = compression.kernel_symbol() {
            let symbol = symbol.trim_start_matches("CONFIG_");
            if !matches!(
                config.get(symbol),
                Some(kconfig::Value::Tristate(kconfig::Tristate::Yes))
            ) {
                continue;
            }
        }
        let out = Utf8PathBuf::try_from(dir.path().join(format!("initramfs.{compression:?}")))
            .expect("utf-8 temp path");
        let options = rootfs::PackOptions {
            manifest: board.manifest().into(),
            vars: crate::stages::pack::manifest_vars(board),
            compression: *compression,
            mtime: 0,
        };
        rootfs::pack(&options, out.as_std_path()).map_err(|e| {
            Failure::new(
                &format!("pack {compression:?}"),
                "an archive",
                e.to_string(),
            )
        })?;
        let request = BootRequest {
            files: FileOverrides {
                initrd: Some(out.clone()),
                ..FileOverrides::default()
            },
            exec: Some(b"cat /proc/cmdline".to_vec()),
            ..BootRequest::default()
        };
        let boot = prepare(board, request)?;
        let result = boot
            .exec(&ExecOptions {
                timeout: Some(Duration::from_secs(120)),
                echo: Echo::Quiet,
                silent: Some(SILENT_CONSOLE),
            })
            .map_err(|e| {
                Failure::new(
                    &format!("boot {compression:?} initramfs"),
                    "a boot",
                    format!("{e:#}"),
                )
            })?;
        if result.status() != Some(0) || !result.output.contains(&cmdline) {
            return Err(Failure::new(
                &format!("qemu --initrd {out} --exec 'cat /proc/cmdline'"),
                &format!("exit status 0 and output containing {cmdline:?}"),
                result.last_lines(40),
            ));
        }
        tried.push(format!("{compression:?}"));
    }
    if tried.len() < 2 {
        return Err(Failure::new(
            "every compression",
            "at least gzip and one more enabled in the kernel",
            format!("booted: {tried:?}"),
        ));
    }
    Ok(())
}

/// `cargo xtask bench --only boot` once per variant, in a temp dir: the seed's `/init`,
/// ours, the floor, ours booted quietly and the reference init each reach a prompt.
/// Times are not checked (they are the benchmark's business).
pub fn bench_boots(_: &Ctx, board: &Board) -> Outcome {
    let dir =
        tempfile::tempdir().map_err(|e| Failure::new("tempdir", "a temp dir", e.to_string()))?;
    let dir = camino::Utf8Path::from_path(dir.path())
        .ok_or_else(|| Failure::new("tempdir", "a UTF-8 path", "not UTF-8".to_string()))?;
    let lines = crate::commands::bench::boot_smoke(board, dir).map_err(|e| {
        Failure::new(
            "bench --only boot (one run each)",
            "every variant boots to its prompt",
            format!("{e:#}"),
        )
    })?;
    let wanted = [
        "Run /init → prompt | rdinit=/bin/sh",
        "Run /init → prompt | seed /init",
        "Run /init → prompt | reference init",
        "QEMU start → prompt, quiet (as `cargo xtask qemu` boots)",
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|want| !lines.iter().any(|line| line == want))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            "bench --only boot (one run each)",
            &format!("rows {missing:?}"),
            lines.join("\n"),
        ))
    }
}

/// `cargo xtask bench --timeline` into a temp dir: one boot attributed from QEMU's start
/// to the prompt, with the kernel's initcalls, as a table, an SVG and a JSON.
pub fn bench_timeline(_: &Ctx, board: &Board) -> Outcome {
    let dir =
        tempfile::tempdir().map_err(|e| Failure::new("tempdir", "a temp dir", e.to_string()))?;
    let dir = camino::Utf8Path::from_path(dir.path())
        .ok_or_else(|| Failure::new("tempdir", "a UTF-8 path", "not UTF-8".to_string()))?;
    crate::commands::bench::timeline_smoke(board, dir)
        .map(|_| ())
        .map_err(|e| {
            Failure::new(
                "bench --timeline",
                "phases from QEMU start to the prompt, initcalls, an SVG and a JSON",
                format!("{e:#}"),
            )
        })
}

/// Packing twice gives the same bytes, and GNU cpio lists what the rootfs crate does.
pub fn pack_reproducible(_: &Ctx, board: &Board) -> Outcome {
    let dir =
        tempfile::tempdir().map_err(|e| Failure::new("tempdir", "a temp dir", e.to_string()))?;
    let options = rootfs::PackOptions {
        manifest: board.manifest().into(),
        vars: crate::stages::pack::manifest_vars(board),
        compression: rootfs::Compression::None,
        mtime: 0,
    };
    let a = dir.path().join("a.cpio");
    let b = dir.path().join("b.cpio");
    for out in [&a, &b] {
        rootfs::pack(&options, out)
            .map_err(|e| Failure::new("pack", "an archive", e.to_string()))?;
    }
    let (bytes_a, bytes_b) = (
        std::fs::read(&a).unwrap_or_default(),
        std::fs::read(&b).unwrap_or_default(),
    );
    if bytes_a != bytes_b || bytes_a.is_empty() {
        return Err(Failure::new(
            "pack twice",
            "identical, non-empty archives",
            format!("{} and {} bytes differ", bytes_a.len(), bytes_b.len()),
        ));
    }
    let ours: Vec<String> = rootfs::list(&bytes_a)
        .map_err(|e| Failure::new("rootfs::list", "a listing", e.to_string()))?
        .into_iter()
        .map(|e| e.name)
        .collect();
    let cpio = Command::new("cpio")
        .args(["-it", "--quiet", "-F"])
        .arg(&a)
        .output()
        .map_err(|e| Failure::new("cpio -it", "cpio runs", e.to_string()))?;
    let theirs: Vec<String> = String::from_utf8_lossy(&cpio.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    if !cpio.status.success() || ours != theirs {
        return Err(Failure::new(
            "cpio -it",
            "the archive's entries as rootfs lists them",
            format!("ours: {ours:?}\ncpio: {theirs:?}"),
        ));
    }
    Ok(())
}

/// Every defconfig of the fetched trees, and both `.config`s, print back byte for byte.
pub fn kconfig_round_trip(_: &Ctx, board: &Board) -> Outcome {
    let kernel = board.kernel_src().join("arch");
    let arches = fs_err::read_dir(&kernel)
        .map_err(|e| Failure::new("list arches", "the fetched kernel tree", e.to_string()))?;
    let mut folders: Vec<Utf8PathBuf> = arches
        .flatten()
        .filter_map(|arch| Utf8PathBuf::try_from(arch.path().join("configs")).ok())
        .collect();
    folders.push(board.busybox_src().join("configs"));
    let mut files = Vec::new();
    for folder in folders.iter().filter(|f| f.is_dir()) {
        let found = files_under(folder)
            .map_err(|e| Failure::new("list defconfigs", "a readable tree", format!("{e:#}")))?;
        files.extend(found);
    }
    files.push(board.kernel_config());
    files.push(board.busybox_config());
    if files.len() < 100 {
        return Err(Failure::new(
            "list defconfigs",
            "the fetched trees' defconfigs",
            format!("only {} files under {kernel}", files.len()),
        ));
    }
    let mut bad = Vec::new();
    for f in &files {
        let text = match std::fs::read(f)
            .context("read")
            .and_then(|b| String::from_utf8(b).context("utf-8"))
        {
            Ok(text) => text,
            Err(e) => {
                bad.push(format!("{f}: {e:#}"));
                continue;
            }
        };
        match kconfig::Config::parse(&text) {
            Ok(config) if config.to_string() == text => {}
            Ok(_) => bad.push(format!("{f}: printed back differently")),
            Err(e) => bad.push(format!("{f}: {e}")),
        }
    }
    if !bad.is_empty() {
        return Err(Failure::new(
            "parse and print every defconfig",
            &format!("{} files byte-identical", files.len()),
            bad.join("\n"),
        ));
    }
    Ok(())
}
