//! Packing the initramfs against `find . | cpio -o -H newc | gzip -9` and the kernel's
//! `gen_init_cpio`, all on the board's root file system.

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use rootfs::{Compression, PackOptions};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::gen_init_cpio::{self, list_tree, render_list};
use super::outputs::require;
use super::pipe::run_pipeline;
use super::report::{Row, Section, Target, Value};
use super::samples::{interleave, Plan, Stats, Variant};
use crate::board::Board;

/// One packing run: how long it took and what it wrote.
#[derive(Debug, Clone)]
struct Run {
    time: Duration,
    archive: Vec<u8>,
}

/// Times `rootfs` (what `cargo xtask pack` runs) against the GNU and kernel tools.
pub fn run(board: &Board, plan: &Plan, dir: &Utf8Path) -> Result<Section> {
    let src = require(board.kernel_src(), "kernel source tree")?;
    require(board.busybox_bin(), "busybox")?;
    require(board.busybox_links(), "busybox.links")?;
    require(board.init_bin(), "init")?;
    let options = PackOptions {
        manifest: board.manifest().into(),
        vars: crate::stages::pack::manifest_vars(board),
        compression: Compression::Gzip,
        mtime: 0,
    };
    let tree = dir.join("tree");
    let mut notes = stage_tree(&options, &tree)?;
    let gen_init_cpio = gen_init_cpio::build(&src, dir)?;
    let list = dir.join("tree.list");
    fs_err::write(&list, render_list(&list_tree(&tree)?))?;
    let gen_initramfs = src.join("usr/gen_initramfs.sh");

    let mut variants = vec![
        Variant::new("rootfs (gzip)", || {
            let start = Instant::now();
            let (_, archive) = rootfs::pack_to_memory(&options)?;
            Ok(Run {
                time: start.elapsed(),
                archive,
            })
        }),
        Variant::new(FIND_CPIO, || {
            timed(|| {
                run_pipeline(vec![
                    in_dir(&tree, "find", &["."]),
                    in_dir(&tree, "cpio", &["-o", "-H", "newc", "--quiet"]),
                    gzip(),
                ])
            })
        }),
        Variant::new(GEN_INIT_CPIO, || {
            timed(|| {
                let mut cmd = Command::new(&gen_init_cpio);
                cmd.arg(&list);
                run_pipeline(vec![cmd, gzip()])
            })
        }),
        Variant::new(GEN_INITRAMFS, || {
            timed(|| {
                let mut cmd = Command::new("sh");
                cmd.current_dir(dir).arg(&gen_initramfs).arg(&tree);
                run_pipeline(vec![cmd, gzip()])
            })
        }),
    ];
    let samples = interleave(plan, &mut variants)?;
    drop(variants);
    let rows = rows(&samples)?;
    notes.extend([
        "ours: `rootfs::pack_to_memory` of the board's rootfs.toml with gzip (libdeflate level 9), \
         what `cargo xtask pack` runs without its fingerprint check; the baselines pack the same \
         files, staged into a directory"
            .to_string(),
        format!(
            "{GEN_INIT_CPIO}: the kernel's usr/gen_init_cpio.c compiled with `cc -O2`, reading a \
             list of the staged tree written beforehand; {GEN_INITRAMFS}: the kernel's script \
             lists the tree itself (the seed's `gen_initramfs_list.sh` route)"
        ),
        "`find .` lists `.` too, hence one entry more".to_string(),
    ]);
    Ok(Section {
        name: "pack".into(),
        title: "pack vs find | cpio | gzip -9 and the kernel's gen_init_cpio".into(),
        rows,
        notes,
    })
}

/// The rows: time, size and entries of ours against each baseline.
fn rows(samples: &[Vec<Run>]) -> Result<Vec<Row>> {
    let time = |runs: &[Run]| -> Result<Value> {
        let durations: Vec<Duration> = runs.iter().map(|r| r.time).collect();
        Stats::of_durations(&durations)
            .map(Value::Seconds)
            .context("no runs measured")
    };
    let size = |runs: &[Run]| Value::Bytes {
        value: runs.first().map_or(0, |r| r.archive.len() as u64),
    };
    let entries = |runs: &[Run]| -> Result<Value> {
        let archive = runs.first().map_or(&[][..], |r| &r.archive[..]);
        let listed = rootfs::list(archive)?;
        Ok(Value::Count {
            value: listed.len() as u64,
        })
    };
    let [ours, find, gen, script] = [&samples[0], &samples[1], &samples[2], &samples[3]];
    Ok(vec![
        Row::compare("pack time", time(ours)?, FIND_CPIO, time(find)?)
            .with_target(Target::RatioAtLeast { ratio: 2.0 }),
        Row::compare("pack time", time(ours)?, GEN_INIT_CPIO, time(gen)?),
        Row::compare("pack time", time(ours)?, GEN_INITRAMFS, time(script)?),
        Row::compare("archive size", size(ours), FIND_CPIO, size(find))
            .with_target(Target::RatioAtLeast { ratio: 1.0 }),
        Row::compare("archive size", size(ours), GEN_INIT_CPIO, size(gen)),
        Row::compare("archive entries", entries(ours)?, FIND_CPIO, entries(find)?),
    ])
}

const FIND_CPIO: &str = "find . | cpio -o -H newc | gzip -9";
const GEN_INIT_CPIO: &str = "gen_init_cpio list | gzip -9";
const GEN_INITRAMFS: &str = "gen_initramfs.sh dir | gzip -9";

fn timed(work: impl FnOnce() -> Result<Vec<u8>>) -> Result<Run> {
    let start = Instant::now();
    let archive = work()?;
    Ok(Run {
        time: start.elapsed(),
        archive,
    })
}

fn in_dir(dir: &Utf8Path, program: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir).args(args);
    cmd
}

fn gzip() -> Command {
    let mut cmd = Command::new("gzip");
    cmd.arg("-9");
    cmd
}

/// Unpacks the board's archive, uncompressed, into `tree` with GNU cpio: the same files,
/// links and nodes as a directory the baselines can walk. Returns notes on what differs.
fn stage_tree(options: &PackOptions, tree: &Utf8Path) -> Result<Vec<String>> {
    let raw = PackOptions {
        compression: Compression::None,
        ..options.clone()
    };
    let (report, archive) = rootfs::pack_to_memory(&raw)?;
    fs_err::create_dir_all(tree)?;
    let mut cpio = Command::new("cpio")
        .current_dir(tree)
        .args(["-i", "-d", "-m", "--quiet", "--no-absolute-filenames"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run `cpio`: run `cargo xtask setup`")?;
    cpio.stdin
        .take()
        .context("cpio has no stdin")?
        .write_all(&archive)
        .context("writing to cpio")?;
    let output = cpio.wait_with_output().context("waiting for cpio")?;
    let mut notes = vec![format!(
        "tree: the board's rootfs, {} entries, {} bytes as newc",
        report.entries, report.raw_bytes
    )];
    if !output.status.success() {
        // SAFETY: geteuid(2) has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            bail!(
                "unpacking the rootfs with cpio failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        notes.push(
            "not run as root: cpio could not create the device nodes, so the baselines pack \
             fewer entries"
                .into(),
        );
    }
    Ok(notes)
}
