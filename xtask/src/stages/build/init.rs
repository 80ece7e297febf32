//! `build-init`: the guest's PID 1 (the `init` crate) for the board's Rust target, with
//! cargo when the host toolchain has the target's std, else with Debian's rustc and a
//! private sysroot.

use anyhow::{bail, Context, Result};
use camino::Utf8PathBuf;
use std::process::Command;

use crate::board::Board;
use crate::engine::{run_stage, Ctx, Fingerprint, Report};
use crate::layout;

/// How init is compiled for the board's Rust target.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RustRoute {
    /// The host's cargo has the target's standard library (rustup target add, or native).
    Cargo,
    /// Debian's rustc with the target's std from Debian packages in a private sysroot.
    DebianRustc { sysroot: Utf8PathBuf },
}

/// The rustc flags init is built with on every route.
const INIT_RUSTFLAGS: &[&str] = &[
    "-C",
    "target-feature=+crt-static",
    "-C",
    "panic=abort",
    "-C",
    "opt-level=s",
    "-C",
    "strip=symbols",
];

fn route(board: &Board) -> Result<RustRoute> {
    if crate::setup::host_has_rust_std(&board.spec.rust_target) {
        return Ok(RustRoute::Cargo);
    }
    let sysroot = crate::toolchain::debian_sysroot(board)?;
    Ok(RustRoute::DebianRustc { sysroot })
}

pub fn init(ctx: &Ctx) -> Result<Report> {
    let board = &ctx.board;
    let route = route(board)?;
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
            let target = &board.spec.rust_target;
            let linker = format!("{}gcc", board.spec.cross_compile);
            let tmp_dir = out.parent().context("init output has no parent")?;
            fs_err::create_dir_all(tmp_dir)?;
            let tmp = tmp_dir.join("init.tmp");
            match &route {
                RustRoute::Cargo => {
                    stage.status(&format!("cargo build for {target}"));
                    let mut cmd =
                        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
                    cmd.current_dir(layout::workspace_root())
                        .args(["build", "--release", "-p", "init", "--target", target])
                        .arg("--target-dir")
                        .arg(layout::target_dir().join("guest"))
                        .env("RUSTFLAGS", INIT_RUSTFLAGS.join(" "));
                    if !board.spec.cross_compile.is_empty() {
                        let var = format!(
                            "CARGO_TARGET_{}_LINKER",
                            target.to_uppercase().replace('-', "_")
                        );
                        cmd.env(var, &linker);
                    }
                    stage.run(cmd)?;
                    let built = layout::target_dir()
                        .join("guest")
                        .join(target)
                        .join("release/init");
                    fs_err::copy(&built, &tmp)?;
                }
                RustRoute::DebianRustc { sysroot } => {
                    crate::toolchain::ensure_debian_sysroot(stage, board, sysroot)?;
                    stage.status(&format!("/usr/bin/rustc for {target}"));
                    let mut cmd = Command::new("/usr/bin/rustc");
                    cmd.args([
                        "--edition",
                        "2021",
                        "--crate-name",
                        "init",
                        "--target",
                        target,
                    ])
                    .arg("--sysroot")
                    .arg(sysroot)
                    .arg("-C")
                    .arg(format!("linker={linker}"))
                    .args(INIT_RUSTFLAGS)
                    .arg("-o")
                    .arg(&tmp)
                    .arg(src.join("src/main.rs"));
                    stage.run(cmd)?;
                }
            }
            let bytes = fs_err::read(&tmp)?;
            let elf = crate::elf::Elf::parse(&bytes).context("built init is not an ELF file")?;
            if elf.machine != board.spec.elf_machine || elf.interpreter {
                bail!(
                "built init is for ELF machine {} (dynamic: {}), expected a static binary for machine {}",
                elf.machine,
                elf.interpreter,
                board.spec.elf_machine
            );
            }
            fs_err::rename(&tmp, &out)?;
            Ok(())
        },
    )
}
