//! `build-init`: the guest's PID 1 (the `init` crate) for the board's Rust target, with
//! cargo when the host toolchain has the target's std, else with Debian's rustc and a
//! private sysroot.

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use std::process::Command;

use crate::board::Board;
use crate::engine::{run_stage, Ctx, Fingerprint, Report, Stage};
use crate::host::rust_std::{self, RustRoute};
use crate::layout;

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
            match &route {
                RustRoute::Cargo => with_cargo(stage, board, &tmp)?,
                RustRoute::DebianRustc { sysroot } => {
                    rust_std::ensure_debian_sysroot(stage, board, sysroot)?;
                    with_debian_rustc(stage, board, sysroot, &src.join("src/main.rs"), &tmp)?;
                }
            }
            check_guest_binary(board, &tmp)?;
            fs_err::rename(&tmp, &out)?;
            Ok(())
        },
    )
}

/// The gcc that links for the guest.
fn linker(board: &Board) -> String {
    format!("{}gcc", board.spec.cross_compile)
}

/// `cargo build --release -p init --target <target>` into `target/guest/`, copied to `out`.
fn with_cargo(stage: &Stage, board: &Board, out: &Utf8Path) -> Result<()> {
    let target = &board.spec.rust_target;
    stage.status(&format!("cargo build for {target}"));
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
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
        cmd.env(var, linker(board));
    }
    stage.run(cmd)?;
    let built = layout::target_dir()
        .join("guest")
        .join(target)
        .join("release/init");
    fs_err::copy(&built, out)?;
    Ok(())
}

/// `/usr/bin/rustc` on the crate root `main`, with the Debian std in `sysroot`, to `out`.
fn with_debian_rustc(
    stage: &Stage,
    board: &Board,
    sysroot: &Utf8Path,
    main: &Utf8Path,
    out: &Utf8Path,
) -> Result<()> {
    let target = &board.spec.rust_target;
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
    .arg(format!("linker={}", linker(board)))
    .args(INIT_RUSTFLAGS)
    .arg("-o")
    .arg(out)
    .arg(main);
    stage.run(cmd)
}

/// What was built must be a static binary for the board's machine.
fn check_guest_binary(board: &Board, path: &Utf8Path) -> Result<()> {
    let bytes = fs_err::read(path)?;
    let elf = crate::elf::Elf::parse(&bytes).context("built init is not an ELF file")?;
    if elf.machine != board.spec.elf_machine || elf.interpreter {
        bail!(
            "built init is for ELF machine {} (dynamic: {}), expected a static binary for machine {}",
            elf.machine,
            elf.interpreter,
            board.spec.elf_machine
        );
    }
    Ok(())
}
