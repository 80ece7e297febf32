//! olddefconfig in process (the `kconfig` crate's evaluator, the tree from its cache file)
//! against `make olddefconfig` with `conf` already built, on the same input; and
//! `cargo xtask kconfig set CONFIG_CMDLINE=..` (the real binary, `--dry-run`) against the
//! light scan of every Kconfig file that `set` ran before.

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use kconfig::{Evaluation, SymbolIndex};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::outputs::require;
use super::report::{Row, Section, Target, Value};
use super::samples::{interleave, Plan, Stats, Variant};
use crate::board::Board;
use crate::fetched;
use crate::kbuild::{self, KernelKconfig};

/// The target for `kconfig set CONFIG_CMDLINE=..`.
const SET_TARGET: Target = Target::OursAtMost { seconds: 0.1 };

/// Times both olddefconfigs on the board's defconfig, and `kconfig set`.
pub fn run(board: &Board, plan: &Plan, dir: &Utf8Path) -> Result<Section> {
    let src = require(board.kernel_src(), "kernel source tree")?;
    let defconfig = src
        .join("arch")
        .join(kconfig::source_arch(&board.spec.arch))
        .join("configs")
        .join(&board.spec.kernel.defconfig);
    let (input, input_note) = if defconfig.is_file() {
        (
            fs_err::read_to_string(&defconfig)?,
            format!(
                "arch/.../configs/{} as .config",
                board.spec.kernel.defconfig
            ),
        )
    } else {
        let config = require(board.kernel_config(), "configured kernel .config")?;
        (
            fs_err::read_to_string(&config)?,
            "the board's configured kernel .config".to_string(),
        )
    };
    let cache = board.out_dir().join("kconfig");
    let run = KernelKconfig::for_board(board, src.clone(), fetched::identity(board, "linux")?);
    run.load(&cache)?;
    let make_dir = dir.join("make");
    fs_err::create_dir_all(&make_dir)?;
    eprintln!("  building conf (make olddefconfig once)");
    make_olddefconfig(board, &src, &make_dir, &input)?;
    let ours_out = dir.join("ours.config");
    let mut variants = vec![
        Variant::new("olddefconfig in process", || {
            let start = Instant::now();
            let tree = run.load(&cache)?.tree;
            let written = Evaluation::olddefconfig(&tree, &input);
            fs_err::write(&ours_out, written)?;
            Ok(start.elapsed())
        }),
        Variant::new("make olddefconfig", || {
            make_olddefconfig(board, &src, &make_dir, &input)
        }),
    ];
    let samples = interleave(plan, &mut variants)?;
    drop(variants);
    let same = fs_err::read(&ours_out)? == fs_err::read(make_dir.join(".config"))?;
    let mut rows = vec![Row::compare(
        format!("olddefconfig, {}", board.spec.kernel.defconfig),
        seconds(&samples[0])?,
        "make olddefconfig (conf built)",
        seconds(&samples[1])?,
    )];
    rows.push(set_row(plan, dir, &src, board)?);
    Ok(Section {
        name: "olddefconfig".into(),
        title: "kconfig olddefconfig in process vs make olddefconfig; kconfig set".into(),
        rows,
        notes: vec![
            format!("input: {input_note}"),
            "ours: the tree from its cache file (checked current: every Kconfig file's size \
             and mtime, the probes), evaluated, the .config written; baseline: `make -s O=.. \
             ARCH=.. CROSS_COMPILE=.. olddefconfig` with conf already built"
                .to_string(),
            format!(
                "the written .config is {} make's",
                if same {
                    "byte for byte the same as"
                } else {
                    "NOT the same as"
                }
            ),
            "set: `xtask kconfig set --dry-run CONFIG_CMDLINE=..` (the real binary: symbol \
             check and the warning check on the cached tree); baseline: the light scan of every \
             Kconfig file, in process, that each `set` ran before the tree was cached"
                .to_string(),
        ],
    })
}

/// Writes `input` as `<dir>/.config` and runs `make olddefconfig` there.
fn make_olddefconfig(
    board: &Board,
    src: &Utf8Path,
    dir: &Utf8Path,
    input: &str,
) -> Result<Duration> {
    fs_err::write(dir.join(".config"), input)?;
    let start = Instant::now();
    let output = kbuild::make(board, src, dir, Some(&board.spec.arch))
        .arg("-s")
        .arg("olddefconfig")
        .stdin(Stdio::null())
        .output()
        .context("cannot run `make`: run `cargo xtask setup`")?;
    let took = start.elapsed();
    if !output.status.success() {
        bail!(
            "`make olddefconfig` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(took)
}

/// `kconfig set --dry-run CONFIG_CMDLINE=..` (the real binary) against the scan it replaced.
fn set_row(plan: &Plan, dir: &Utf8Path, src: &Utf8Path, board: &Board) -> Result<Row> {
    let exe = std::env::current_exe().context("finding the xtask binary")?;
    let fragment = dir.join("fragment.config");
    fs_err::copy(board.kernel_fragment(), &fragment)?;
    let arch = board.spec.arch.clone();
    let mut variants = vec![
        Variant::new("kconfig set", || {
            let start = Instant::now();
            let status = Command::new(&exe)
                .args([
                    "kconfig",
                    "--board",
                    &board.name,
                    "--file",
                    fragment.as_str(),
                ])
                .args(["set", "--dry-run", "CONFIG_CMDLINE=console=ttyAMA0 quiet"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()?;
            if !status.success() {
                bail!("`xtask kconfig set` failed ({status})");
            }
            Ok(start.elapsed())
        }),
        Variant::new("light scan", || {
            let start = Instant::now();
            SymbolIndex::scan(src.as_std_path(), Some(&arch))?;
            Ok(start.elapsed())
        }),
    ];
    let samples = interleave(plan, &mut variants)?;
    Ok(Row::compare(
        "kconfig set CONFIG_CMDLINE (dry run)",
        seconds(&samples[0])?,
        "scan of every Kconfig file",
        seconds(&samples[1])?,
    )
    .with_target(SET_TARGET))
}

fn seconds(durations: &[Duration]) -> Result<Value> {
    Stats::of_durations(durations)
        .map(Value::Seconds)
        .context("no runs measured")
}
