//! `build`: the kernel image and dtb, a static busybox, and the guest's init.
//!
//! Three sub-stages with their own fingerprints, so editing the kernel fragment
//! rebuilds only the kernel and editing init only init.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use std::process::Command;

use crate::board::Board;
use crate::distcc::Distcc;
use crate::engine::{run_stage, write_atomic, Ctx, Fingerprint, Report, Stage};
use crate::fetched;
use crate::kbuild;
use crate::layout;
use crate::uimage;

/// Options of `cargo xtask build`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BuildArgs {
    /// Compile C through ccache (when installed)
    #[arg(long)]
    pub ccache: bool,
    /// Compile the kernel's and busybox's C on distcc helpers: HOSTS as in DISTCC_HOSTS,
    /// e.g. "192.168.1.5/8 192.168.1.6/4" (docs/distcc.md)
    #[arg(long, value_name = "HOSTS")]
    pub distcc: Option<String>,
    /// Parallel make jobs (default: number of cores, or with --distcc the hosts' job slots)
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

/// Runs the build stages: kernel, busybox, init.
pub fn run(ctx: &Ctx, args: &BuildArgs) -> Result<Vec<Report>> {
    let distcc = args.distcc.as_deref().map(Distcc::probe).transpose()?;
    let distcc = distcc.as_ref();
    Ok(vec![
        kernel(ctx, args, distcc)?,
        busybox(ctx, args, distcc)?,
        init(ctx)?,
    ])
}

fn jobs(args: &BuildArgs, distcc: Option<&Distcc>) -> usize {
    args.jobs.or(distcc.map(|d| d.slots)).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

/// `make` in `src` with output in `build`, for the board's arch and cross compiler.
fn make(
    board: &Board,
    src: &Utf8Path,
    build: &Utf8Path,
    args: &BuildArgs,
    distcc: Option<&Distcc>,
) -> Result<Command> {
    let mut cmd = kbuild::make(board, src, build, Some(&board.spec.arch));
    let compiler = format!("{}gcc", board.spec.cross_compile);
    let ccache = args.ccache && crate::layout::which("ccache").is_some();
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
fn run_make(stage: &Stage, board: &Board, cmd: Command, distcc: Option<&Distcc>) -> Result<()> {
    let Some(distcc) = distcc else {
        return stage.run(cmd);
    };
    stage.log(&distcc.describe());
    stage.run(cmd)?;
    let log = fs_err::read_to_string(stage.log_path())?;
    let fallbacks = crate::distcc::local_fallbacks(&log);
    if fallbacks > 0 {
        let compiler = format!("{}gcc", board.spec.cross_compile);
        stage.note(&crate::distcc::fallback_warning(
            fallbacks,
            &distcc.hosts,
            &compiler,
        ));
    }
    Ok(())
}

/// A `.config`'s assignments, without its comments: busybox writes the date into
/// its header, which must not make an unchanged config look new.
fn config_assignments(path: &Utf8Path) -> Result<String> {
    let config = kbuild::read_config(path)
        .with_context(|| format!("{path}: run `cargo xtask configure` first"))?;
    Ok(config
        .assignments()
        .map(|(symbol, value)| format!("{symbol}={value}\n"))
        .collect())
}

fn compiler_version(board: &Board) -> String {
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

// --distcc is not part of the build fingerprints: the helpers run the same compiler
// and Kbuild sees the same command lines (see distcc.rs), so outputs do not depend on it.
fn kernel(ctx: &Ctx, args: &BuildArgs, distcc: Option<&Distcc>) -> Result<Report> {
    let board = &ctx.board;
    let mut fp = Fingerprint::new("build-linux");
    fp.source("linux", fetched::identity(board, "linux")?.as_deref())
        .text(&config_assignments(&board.kernel_config())?)
        .text(&board.spec.kernel.targets.join(" "))
        .text(&compiler_version(board))
        .text(&args.ccache.to_string())
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

fn busybox(ctx: &Ctx, args: &BuildArgs, distcc: Option<&Distcc>) -> Result<Report> {
    let board = &ctx.board;
    let mut fp = Fingerprint::new("build-busybox");
    fp.source("busybox", fetched::identity(board, "busybox")?.as_deref())
        .text(&config_assignments(&board.busybox_config())?)
        .text(&compiler_version(board))
        .text(&args.ccache.to_string());
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
            check_static(stage, &bin)
        },
    )
}

/// A dynamically linked busybox cannot run in an initramfs without a C library.
fn check_static(stage: &Stage, bin: &Utf8Path) -> Result<()> {
    let bytes = fs_err::read(bin)?;
    let elf = crate::elf::Elf::parse(&bytes).with_context(|| format!("{bin}: not an ELF file"))?;
    if elf.interpreter {
        bail!("{bin} is dynamically linked: set CONFIG_STATIC=y in the board's busybox.config");
    }
    stage.log(&format!("{bin}: static ELF, machine {}", elf.machine));
    Ok(())
}

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

fn init(ctx: &Ctx) -> Result<Report> {
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
