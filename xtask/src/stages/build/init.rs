//! `build-init`: the guest's PID 1 (the `init` crate) for the board's Rust target, with
//! one `rustc` command: the host's when it has the target, else Debian's rustc 1.63
//! and a private sysroot.

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use std::process::Command;

use crate::board::Board;
use crate::elf::check_guest;
use crate::engine::{run_stage, Ctx, Fingerprint, Report};
use crate::host::rust_std::{self, RustRoute};
use crate::layout;

/// The rustc flags init is built with on every route. init is `no_std` with
/// its own `_start` when built with `panic=abort` (init/src/main.rs): a static,
/// non-PIE executable (nothing would relocate it) without the C library's
/// start files; small, as code that runs for the first time is what costs
/// under emulation.
const INIT_RUSTFLAGS: &[&str] = &[
    "-C",
    "panic=abort",
    "-C",
    "target-feature=+crt-static",
    "-C",
    "relocation-model=static",
    "-C",
    "link-arg=-nostartfiles",
    "-C",
    "opt-level=s",
    "-C",
    "lto=fat",
    "-C",
    "codegen-units=1",
    "-C",
    "strip=symbols",
];

/// Runs the `build-init` stage.
pub fn init(ctx: &Ctx) -> Result<Report> {
    let board = ctx.board()?;
    let route = rust_std::route(board)?;
    let src = layout::workspace_root().join("init");
    let mut fp = Fingerprint::new("build-init");
    fp.tree(&src.join("src"))?
        .file(&src.join("Cargo.toml"))?
        .text(&board.spec.rust_target)
        .text(&format!("{route:?}"))
        .text(&INIT_RUSTFLAGS.join(" "));
    let out = board.init_bin();
    run_stage(
        ctx,
        "build-init",
        &fp,
        &[&out],
        Some(out.clone()),
        |stage| {
            let tmp_dir = out.parent().context("init output has no parent")?;
            fs_err::create_dir_all(tmp_dir)?;
            let tmp = tmp_dir.join("init.tmp");
            let target = &board.spec.rust_target;
            let linker = linker(board);
            let cmd = match &route {
                RustRoute::Host => {
                    stage.status(&format!("rustc for {target}"));
                    init_rustc("rustc", None, target, linker.as_deref(), &tmp)
                }
                RustRoute::DebianRustc { sysroot } => {
                    rust_std::ensure_debian_sysroot(stage, board, sysroot)?;
                    stage.status(&format!("/usr/bin/rustc for {target}"));
                    init_rustc(
                        "/usr/bin/rustc",
                        Some(sysroot),
                        target,
                        linker.as_deref(),
                        &tmp,
                    )
                }
            };
            stage.run(cmd)?;
            check_guest_binary(board, &tmp)?;
            fs_err::rename(&tmp, &out)?;
            Ok(())
        },
    )
}

/// The gcc that links for the guest, unless it is the host's `cc`.
fn linker(board: &Board) -> Option<String> {
    let prefix = &board.spec.cross_compile;
    (!prefix.is_empty()).then(|| format!("{prefix}gcc"))
}

/// `rustc` building init (one crate root, no dependencies) for `target` into `out`;
/// `sysroot` for a compiler whose own lacks the target, `linker` unless the default `cc`.
fn init_rustc(
    rustc: &str,
    sysroot: Option<&Utf8Path>,
    target: &str,
    linker: Option<&str>,
    out: &Utf8Path,
) -> Command {
    let mut cmd = Command::new(rustc);
    cmd.args(["--edition", "2021", "--crate-name", "init"])
        .args(["--crate-type", "bin", "--target", target]);
    if let Some(sysroot) = sysroot {
        cmd.arg("--sysroot").arg(sysroot);
    }
    if let Some(linker) = linker {
        cmd.arg("-C").arg(format!("linker={linker}"));
    }
    cmd.args(INIT_RUSTFLAGS)
        .arg("-o")
        .arg(out)
        .arg(layout::workspace_root().join("init/src/main.rs"));
    cmd
}

/// What was built must be a static binary for the board's machine.
fn check_guest_binary(board: &Board, path: &Utf8Path) -> Result<()> {
    let bytes = fs_err::read(path)?;
    match check_guest(&bytes, board.spec.elf_machine, true) {
        Ok(_) => Ok(()),
        Err(e) => bail!("built init {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use camino::Utf8PathBuf;

    /// The sysroot Debian's rustc needs for `board`: its own (`/usr`) for the host's
    /// target, else the private one when it is in the cache; `None` when this host has
    /// neither.
    fn debian_sysroot(board: &Board) -> Option<Utf8PathBuf> {
        let spec = &board.spec;
        if spec.debian_arch.is_none() {
            // Debian's rustc carries its own host's std only.
            let native =
                spec.cross_compile.is_empty() && rust_std::host_has_rust_std(&spec.rust_target);
            return native.then(|| Utf8PathBuf::from("/usr"));
        }
        let sysroot = rust_std::debian_sysroot(board).ok()?;
        let libs = sysroot.join("lib/rustlib").join(&spec.rust_target);
        libs.is_dir().then_some(sysroot)
    }

    /// Builds init with Debian's rustc for `board` into `dir`: `None` when this host
    /// cannot (no sysroot or linker), else the ELF machine and whether it is static.
    fn build_with_debian_rustc(board: &Board, dir: &Utf8Path) -> Option<Result<String, String>> {
        let sysroot = debian_sysroot(board)?;
        let linker = linker(board);
        layout::which(linker.as_deref().unwrap_or("cc"))?;
        let out = dir.join(format!("init-{}", board.name));
        let target = &board.spec.rust_target;
        let mut cmd = init_rustc(
            "/usr/bin/rustc",
            Some(&sysroot),
            target,
            linker.as_deref(),
            &out,
        );
        let built = cmd.output().map_err(|e| e.to_string()).and_then(|output| {
            if !output.status.success() {
                return Err(String::from_utf8_lossy(&output.stderr).into_owned());
            }
            let bytes = fs_err::read(&out).map_err(|e| e.to_string())?;
            let elf = crate::elf::Elf::parse(&bytes).ok_or("not an ELF file")?;
            let linking = if elf.interpreter { "dynamic" } else { "static" };
            Ok(format!(
                "{}: machine {}, {linking}",
                board.name, elf.machine
            ))
        });
        Some(built)
    }

    /// init keeps to Rust 1.63: Debian's rustc (where installed) builds its no_std
    /// guest variant, with the flags `build` uses, into a static executable for
    /// every board this host has the target libraries for.
    #[test]
    fn init_builds_with_debian_rustc_1_63() {
        if !std::path::Path::new("/usr/bin/rustc").exists() {
            eprintln!("skipped: /usr/bin/rustc is not installed (cargo xtask setup installs it)");
            return;
        }
        let dir = tempfile::tempdir().expect("a scratch directory");
        let dir = Utf8Path::from_path(dir.path()).expect("a UTF-8 temp path");
        for name in Board::names().expect("the boards") {
            let board = Board::load(&name).expect("a board");
            let target = &board.spec.rust_target;
            match build_with_debian_rustc(&board, dir) {
                None => {
                    eprintln!("{name}: skipped: no Debian rustc sysroot or linker for {target}")
                }
                Some(built) => {
                    let built = built.unwrap_or_else(|e| panic!("{name}: {e}"));
                    eprintln!("{built}");
                    let machine = board.spec.elf_machine;
                    assert_eq!(built, format!("{name}: machine {machine}, static"));
                }
            }
        }
    }
}
