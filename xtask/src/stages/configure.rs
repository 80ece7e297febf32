//! `configure`: defconfig + board fragment -> `.config`, checked after `olddefconfig`.
//!
//! For each package: `make <defconfig>` writes the base `.config`; the board's
//! fragment is merged onto it with the `kconfig` crate (later wins, every
//! redefinition reported); Kconfig then fills in the rest (`olddefconfig`); and
//! every value the fragment asked for is checked in the result.

use anyhow::{bail, Context, Result};
use kconfig::{Config, Fragment, MergeOptions, SymbolIndex};
use std::process::Command;

use crate::board::Board;
use crate::fetched;
use crate::kbuild::{self, read_config};

use crate::engine::{run_stage, write_atomic, Ctx, Fingerprint, Report, Stage};
use crate::layout::display_path;

/// Options of `cargo xtask configure`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigureArgs {
    /// Warn instead of failing when a requested value does not survive olddefconfig
    #[arg(long)]
    pub allow_dropped: bool,
}

/// What differs between configuring the kernel and busybox.
struct Package<'a> {
    /// Stage name.
    stage: &'static str,
    /// Its `[sources.<name>]`.
    source: &'static str,
    src: camino::Utf8PathBuf,
    build: camino::Utf8PathBuf,
    defconfig: &'a str,
    fragment: camino::Utf8PathBuf,
    /// Busybox's kconfig is older than `olddefconfig`: `oldconfig` answering every question with its default.
    old_config_target: &'static str,
    /// Kernel: `ARCH=` selects the Kconfig tree.
    arch: Option<&'a str>,
}

/// Runs the configure stages: kernel, then busybox.
pub fn run(ctx: &Ctx, args: &ConfigureArgs) -> Result<Vec<Report>> {
    let board = ctx.board()?;
    let kernel = Package {
        stage: "configure-linux",
        source: "linux",
        src: board.kernel_src(),
        build: board.kernel_build(),
        defconfig: &board.spec.kernel.defconfig,
        fragment: board.kernel_fragment(),
        old_config_target: "olddefconfig",
        arch: Some(&board.spec.arch),
    };
    let busybox = Package {
        stage: "configure-busybox",
        source: "busybox",
        src: board.busybox_src(),
        build: board.busybox_build(),
        defconfig: &board.spec.busybox.defconfig,
        fragment: board.busybox_fragment(),
        old_config_target: "oldconfig",
        arch: None,
    };
    Ok(vec![
        configure(ctx, &kernel, args)?,
        configure(ctx, &busybox, args)?,
    ])
}

fn configure(ctx: &Ctx, pkg: &Package, args: &ConfigureArgs) -> Result<Report> {
    let board = ctx.board()?;
    let config_path = pkg.build.join(".config");
    let mut fp = Fingerprint::new(pkg.stage);
    fp.source(pkg.source, fetched::identity(board, pkg.source)?.as_deref())
        .file(&pkg.fragment)?
        .text(pkg.defconfig)
        .text(pkg.arch.unwrap_or(""))
        .text(&board.spec.cross_compile);
    run_stage(
        ctx,
        pkg.stage,
        &fp,
        &[&config_path],
        Some(config_path.clone()),
        |stage| {
            let fragment = read_config(&pkg.fragment)?;
            fs_err::create_dir_all(&pkg.build)?;
            stage.status(&format!("make {}", pkg.defconfig));
            stage.run(make(board, pkg, pkg.defconfig))?;
            let base = read_config(&config_path)?;
            let fragment_name = display_path(&pkg.fragment).to_string();
            let merged = kconfig::merge(
                &base,
                &[Fragment {
                    name: &fragment_name,
                    config: &fragment,
                }],
                MergeOptions::default(),
            );
            for redefinition in &merged.redefinitions {
                stage.note(&format!("{redefinition}"));
            }
            write_atomic(&config_path, merged.config.to_string().as_bytes())?;
            stage.status(&format!("make {}", pkg.old_config_target));
            let mut old = make(board, pkg, pkg.old_config_target);
            // Answer any new question with its default, like `yes "" | make oldconfig`.
            stage.run_with_input(&mut old, &b"\n".repeat(4096))?;
            let actual = read_config(&config_path)?;
            check_requested(stage, pkg, &fragment, &actual, args.allow_dropped)
        },
    )
}

fn make(board: &Board, pkg: &Package, target: &str) -> Command {
    let mut cmd = kbuild::make(board, &pkg.src, &pkg.build, pkg.arch);
    cmd.arg(target);
    cmd
}

/// Fails (or warns) for every value of `fragment` that `actual` lost, saying why.
fn check_requested(
    stage: &Stage,
    pkg: &Package,
    fragment: &Config,
    actual: &Config,
    allow_dropped: bool,
) -> Result<()> {
    let dropped = kconfig::dropped(fragment, actual);
    if dropped.is_empty() {
        stage.log(&format!(
            "every value of {} survived {}",
            pkg.fragment, pkg.old_config_target
        ));
        return Ok(());
    }
    let index = SymbolIndex::scan(pkg.src.as_std_path(), pkg.arch)
        .with_context(|| format!("scanning the Kconfig files of {}", pkg.src))?;
    let mut report = String::new();
    for d in &dropped {
        report.push_str(&format!("  {d}\n"));
        for line in d.explain(&index, actual).to_string().lines() {
            report.push_str(&format!("    {line}\n"));
        }
    }
    let what = format!(
        "{} requested value(s) from {} did not survive `make {}`:\n{report}",
        dropped.len(),
        display_path(&pkg.fragment),
        pkg.old_config_target
    );
    if allow_dropped {
        stage.note(&format!("warning: {what}"));
        return Ok(());
    }
    bail!("{what}fix the fragment (or pass --allow-dropped to continue anyway)")
}
