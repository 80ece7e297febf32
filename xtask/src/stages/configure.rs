//! `configure`: defconfig + board fragment -> `.config`, checked after `olddefconfig`.
//!
//! For each package: the defconfig gives the base `.config`; the board's fragment is
//! merged onto it with the `kconfig` crate (later wins, every redefinition reported);
//! Kconfig then fills in the rest (`olddefconfig`); and every value the fragment asked
//! for is checked in the result.
//!
//! The kernel is configured in process by the `kconfig` crate's evaluator (the tree
//! parsed once per source and kept under `target/minilinux/<board>/kconfig/`): a
//! defconfig file is expanded as `conf --defconfig` does, and `olddefconfig` is
//! `conf --olddefconfig`, byte for byte; a defconfig that is a make target
//! (`tinyconfig`) runs `make` once, its result kept beside the tree's cache.
//! `--make-olddefconfig` runs the kernel's own `conf` through `make` for both steps
//! instead. Busybox always runs its `make`.

use anyhow::{bail, Context, Result};
use kconfig::{Config, Evaluation, Fragment, Kconfig, MergeOptions, SymbolIndex};
use std::process::Command;

use crate::board::Board;
use crate::fetched;
use crate::kbuild::{self, read_config, KernelKconfig, LoadedTree};

use crate::engine::{run_stage, write_atomic, Ctx, Fingerprint, Report, Stage};
use crate::layout::display_path;

/// Options of `cargo xtask configure`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigureArgs {
    /// Warn instead of failing when a requested value does not survive olddefconfig
    #[arg(long)]
    pub allow_dropped: bool,
    /// Configure the kernel with `make <defconfig>` and `make olddefconfig` (the kernel's
    /// conf) instead of in process
    #[arg(long)]
    pub make_olddefconfig: bool,
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
    /// Whether the Kconfig steps run in process (the kernel, without `--make-olddefconfig`).
    in_process: bool,
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
        in_process: !args.make_olddefconfig,
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
        in_process: false,
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
        .text(&board.spec.cross_compile)
        .text(if pkg.in_process { "in process" } else { "make" });
    run_stage(
        ctx,
        pkg.stage,
        &fp,
        &[&config_path],
        Some(config_path.clone()),
        |stage| {
            let fragment = read_config(&pkg.fragment)?;
            fs_err::create_dir_all(&pkg.build)?;
            let tree = match pkg.in_process {
                true => Some(load_tree(ctx, stage, pkg)?),
                false => None,
            };
            let base = base_config(board, stage, pkg, tree.as_ref())?;
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
            let merged = merged.config.to_string();
            match &tree {
                Some(tree) => {
                    stage.status("olddefconfig (in process)");
                    let written = Evaluation::olddefconfig(&tree.tree, &merged);
                    write_atomic(&config_path, written.as_bytes())?;
                    stage.log(&format!("olddefconfig in process: wrote {config_path}"));
                }
                None => {
                    write_atomic(&config_path, merged.as_bytes())?;
                    stage.status(&format!("make {}", pkg.old_config_target));
                    let mut old = make(board, pkg, pkg.old_config_target);
                    // Answer any new question with its default, like `yes "" | make oldconfig`.
                    stage.run_with_input(&mut old, &b"\n".repeat(4096))?;
                }
            }
            let actual = read_config(&config_path)?;
            let why = tree.as_ref().map(|t| (&t.tree, merged.as_str()));
            check_requested(stage, pkg, &fragment, &actual, why, args.allow_dropped)
        },
    )
}

/// The kernel's Kconfig tree for the board, from the cache when it is current.
fn load_tree(ctx: &Ctx, stage: &Stage, pkg: &Package) -> Result<LoadedTree> {
    let board = ctx.board()?;
    stage.status("reading the Kconfig tree");
    let run = KernelKconfig::for_board(
        board,
        pkg.src.clone(),
        fetched::identity(board, pkg.source)?,
    );
    let loaded = run.load(&board.out_dir().join("kconfig"))?;
    stage.log(&loaded.how());
    for message in loaded.tree.messages() {
        stage.log(message);
    }
    Ok(loaded)
}

/// The `.config` the defconfig gives: with a `tree`, a defconfig file expanded in
/// process (`conf --defconfig`), or a make target's (`tinyconfig`) result from the
/// tree's cache; else `make <defconfig>` (kept for the tree when there is one).
fn base_config(
    board: &Board,
    stage: &Stage,
    pkg: &Package,
    tree: Option<&LoadedTree>,
) -> Result<Config> {
    let config_path = pkg.build.join(".config");
    let file = pkg
        .src
        .join("arch")
        .join(kconfig::source_arch(pkg.arch.unwrap_or("")))
        .join("configs")
        .join(pkg.defconfig);
    if let (Some(tree), true) = (tree, file.is_file()) {
        stage.status(&format!("{} (in process)", pkg.defconfig));
        let text = fs_err::read_to_string(&file)?;
        let expanded = tree.expand_defconfig(&text)?;
        stage.log(&format!("defconfig in process: {file} expanded"));
        return Config::parse(&expanded).map_err(|e| e.in_file(file.as_str()).into());
    }
    // A make target (`tinyconfig`): its result is a function of the tree, arch and
    // compiler, so the in-process route keeps it beside the tree's cache.
    let kept = tree.map(|t| t.make_target_base(pkg.defconfig));
    if let Some(kept) = kept.as_ref().filter(|k| k.is_file()) {
        stage.log(&format!("make {} from the cache: {kept}", pkg.defconfig));
        return read_config(kept);
    }
    stage.status(&format!("make {}", pkg.defconfig));
    stage.run(make(board, pkg, pkg.defconfig))?;
    let config = read_config(&config_path)?;
    if let Some(kept) = kept {
        write_atomic(&kept, config.to_string().as_bytes())?;
    }
    Ok(config)
}

fn make(board: &Board, pkg: &Package, target: &str) -> Command {
    let mut cmd = kbuild::make(board, &pkg.src, &pkg.build, pkg.arch);
    cmd.arg(target);
    cmd
}

/// Fails (or warns) for every value of `fragment` that `actual` lost, saying why: with
/// the tree and the input olddefconfig read, `why`'s chain of unmet conditions and its
/// checked fix; else the light scan's reason.
fn check_requested(
    stage: &Stage,
    pkg: &Package,
    fragment: &Config,
    actual: &Config,
    why: Option<(&Kconfig, &str)>,
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
    let mut report = String::new();
    match why {
        Some((tree, input)) => {
            let name = display_path(&pkg.fragment).to_string();
            let sources = [Fragment {
                name: &name,
                config: fragment,
            }];
            let mut e = Evaluation::read(tree, input);
            for d in &dropped {
                report.push_str(&format!("  {d}\n"));
                let requested = match &d.requested {
                    kconfig::Value::NotSet => "n".to_string(),
                    other => other.to_string(),
                };
                if let Some(why) = e.why(&d.symbol, Some(&requested), &sources) {
                    for line in why.to_string().lines() {
                        report.push_str(&format!("    {line}\n"));
                    }
                }
            }
        }
        None => {
            let index = SymbolIndex::scan(pkg.src.as_std_path(), pkg.arch)
                .with_context(|| format!("scanning the Kconfig files of {}", pkg.src))?;
            for d in &dropped {
                report.push_str(&format!("  {d}\n"));
                for line in d.explain(&index, actual).to_string().lines() {
                    report.push_str(&format!("    {line}\n"));
                }
            }
        }
    }
    let what = format!(
        "{} requested value(s) from {} did not survive {}:\n{report}",
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
