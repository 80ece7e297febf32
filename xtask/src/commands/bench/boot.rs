//! Boot under TCG on one kernel with four first processes: the seed's shell-script
//! `/init`, our init, the floor (busybox `sh` as PID 1, `rdinit=/bin/sh`), and a
//! reference init in C without a C library doing init's boot work; and our init
//! booted quietly, as `cargo xtask qemu` boots it.

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use regex::bytes::Regex;
use std::process::Command;
use std::time::{Duration, Instant};

use super::gen_init_cpio::{self, render_list, ListEntry};
use super::outputs::require;
use super::pipe::run_pipeline;
use super::report::{Row, Section, Target, Value};
use super::samples::{interleave, paired_differences, Plan, Stats, Variant};
use crate::board::Board;
use crate::qemu::{Boot, BootRequest, FileOverrides, Session};
use crate::render::{human_size, render_command};

/// The seed recipe's `/init` (see the note at its top).
const SEED_INIT: &str = include_str!("seed_init.sh");

/// The reference init (its opening comment says what it is), compiled by the benchmark
/// against the kernel tree's `tools/include/nolibc`.
const REFERENCE_INIT: &str = include_str!("reference_init.c");

/// Added to every variant's command line so the kernel prints `Run /init as init process`
/// (a `pr_info`), whatever the board's console log level; the same for all three.
const LOGLEVEL: &str = "loglevel=7";

/// How long one boot may take before the benchmark gives up.
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

/// Issue 5's target: the shell within 15 ms of the floor once the kernel runs init. The
/// board's `[bench] prompt_within` is the target of the quiet boot.
const TO_PROMPT_TARGET: Target = Target::DeltaAtMost { seconds: 0.015 };

/// Issue 16's targets: the shell within 5 ms of the reference init (which does
/// init's boot work in C without a C library), and `/init` at most 64 KiB.
const TO_PROMPT_REFERENCE_TARGET: Target = Target::DeltaAtMost { seconds: 0.005 };
/// See [`TO_PROMPT_REFERENCE_TARGET`].
const INIT_SIZE_TARGET: Target = Target::BytesAtMost { bytes: 64 * 1024 };

/// Host times of one boot, from spawning QEMU.
#[derive(Debug, Clone, Copy)]
struct Phases {
    /// Until the console shows `Run <init> as init process`.
    to_init: Duration,
    /// From there until the shell's prompt.
    to_prompt: Duration,
}

/// Boots the variants in turn, `plan.runs` times each.
pub fn run(board: &Board, plan: &Plan, dir: &Utf8Path) -> Result<Section> {
    let setup = Setup::prepare(board, dir)?;
    let mut notes = setup.notes()?;
    let mut variants = vec![
        Variant::new("boot: seed /init", || boot_once(&setup.seed)),
        Variant::new("boot: ours", || boot_once(&setup.ours)),
        Variant::new("boot: floor (rdinit=/bin/sh)", || boot_once(&setup.floor)),
        Variant::new("boot: ours, quiet", || boot_quiet(&setup.quiet)),
    ];
    if let Some(reference) = &setup.reference {
        variants.push(Variant::new("boot: reference init", || {
            boot_once(reference)
        }));
    }
    let samples = interleave(plan, &mut variants)?;
    drop(variants);
    let rows = rows(board, &setup, &samples, &mut notes)?;
    notes.push(format!(
        "quiet: our initramfs booted with the board's own command line, `{}`, timed from \
         spawning QEMU to the prompt",
        setup.quiet.cmdline
    ));
    notes.push(format!("qemu: `{}`", render_command(&setup.ours.command())));
    Ok(Section {
        name: "boot".into(),
        title: "boot under TCG: seed /init vs ours vs rdinit=/bin/sh".into(),
        rows,
        notes,
    })
}

/// What the boot part measures: the files, copied so a rebuild meanwhile cannot change
/// them, and one prepared boot per variant.
struct Setup {
    kernel: Utf8PathBuf,
    ours_initrd: Utf8PathBuf,
    seed_initrd: Utf8PathBuf,
    /// The reference init's initramfs, or why it could not be built.
    reference_initrd: Result<Utf8PathBuf>,
    init: Utf8PathBuf,
    seed: Boot,
    ours: Boot,
    floor: Boot,
    quiet: Boot,
    reference: Option<Boot>,
}

impl Setup {
    fn prepare(board: &Board, dir: &Utf8Path) -> Result<Setup> {
        let src = require(board.kernel_src(), "kernel source tree")?;
        let copy = |from: Utf8PathBuf, what: &str, name: &str| -> Result<Utf8PathBuf> {
            let to = dir.join(name);
            fs_err::copy(require(from, what)?, &to)?;
            Ok(to)
        };
        let kernel = copy(board.kernel_image(), "kernel image", "kernel")?;
        let dtb = match board.dtb() {
            Some(dtb) => Some(copy(dtb, "device tree blob", "dtb")?),
            None => None,
        };
        let config = copy(board.kernel_config(), "kernel .config", "config")?;
        let ours_initrd = copy(board.current_initramfs(), "initramfs", "initramfs")?;
        let init = require(board.init_bin(), "init")?;
        let busybox = require(board.busybox_bin(), "busybox")?;
        let seed_initrd = seed_initramfs(&src, &busybox, dir)?;
        let reference_initrd = reference_initramfs(board, &src, dir);
        // `append`: the words after the board's command line.
        let prepare = |initrd: &Utf8Path, append: Vec<String>| -> Result<Boot> {
            let files = FileOverrides {
                kernel: Some(kernel.clone()),
                dtb: dtb.clone(),
                kernel_config: Some(config.clone()),
                initrd: Some(initrd.to_owned()),
            };
            Boot::prepare(
                board,
                &BootRequest {
                    files,
                    append,
                    exec: None,
                },
            )
        };
        // The boot log's level, then `extra`.
        let boot = |initrd: &Utf8Path, extra: &[&str]| -> Result<Boot> {
            let mut append = vec![LOGLEVEL.to_string()];
            append.extend(extra.iter().map(|s| s.to_string()));
            prepare(initrd, append)
        };
        let reference = match &reference_initrd {
            Ok(initrd) => Some(boot(initrd, &[])?),
            Err(_) => None,
        };
        Ok(Setup {
            seed: boot(&seed_initrd, &[])?,
            ours: boot(&ours_initrd, &[])?,
            floor: boot(&ours_initrd, &["rdinit=/bin/sh"])?,
            // As `cargo xtask qemu` boots: the board's own command line, no `loglevel=7`.
            quiet: prepare(&ours_initrd, Vec::new())?,
            reference,
            kernel,
            ours_initrd,
            seed_initrd,
            reference_initrd,
            init,
        })
    }

    /// What every row shares: the kernel, how times are taken, the initramfs variants.
    fn notes(&self) -> Result<Vec<String>> {
        Ok(vec![
            format!(
                "one kernel ({}), {} appended to its command line for every variant but the quiet boot: `{}`",
                human(&self.kernel)?,
                LOGLEVEL,
                self.ours.cmdline
            ),
            "times are host times from spawning QEMU on a pseudo-terminal to the moment the text \
             arrives: `Run <init> as init process`, then the shell prompt (`/ # ` or `~ # `)"
                .to_string(),
            format!(
                "seed: its shell-script /init and layout (busybox, bin/sh, dev/console, etc/init.d/rcS), \
                 packed by the kernel's gen_init_cpio + gzip -9, {}",
                human(&self.seed_initrd)?
            ),
            format!(
                "ours: the board's initramfs ({}); floor: the same initramfs with `rdinit=/bin/sh`",
                human(&self.ours_initrd)?
            ),
        ])
    }
}

/// The rows from the samples (seed, ours, floor, quiet, then the reference init's if it
/// ran); the reference init's note goes to `notes`.
fn rows(
    board: &Board,
    setup: &Setup,
    samples: &[Vec<Phases>],
    notes: &mut Vec<String>,
) -> Result<Vec<Row>> {
    let [seed_runs, ours_runs, floor_runs, quiet_runs] =
        [&samples[0], &samples[1], &samples[2], &samples[3]];
    let mut rows = vec![
        Row::compare(
            "QEMU start → Run /init",
            phase(ours_runs, to_init)?,
            SEED,
            phase(seed_runs, to_init)?,
        ),
        Row::compare(
            "QEMU start → Run /init",
            phase(ours_runs, to_init)?,
            FLOOR,
            phase(floor_runs, to_init)?,
        ),
        Row::compare(
            "Run /init → prompt",
            phase(ours_runs, to_prompt)?,
            SEED,
            phase(seed_runs, to_prompt)?,
        ),
        Row::compare(
            "Run /init → prompt",
            phase(ours_runs, to_prompt)?,
            FLOOR,
            phase(floor_runs, to_prompt)?,
        )
        .with_target(TO_PROMPT_TARGET),
    ];
    rows.extend(reference_row(setup, samples, notes)?);
    let mut quiet_row = Row::single(
        "QEMU start → prompt, quiet (as `cargo xtask qemu` boots)",
        phase(quiet_runs, total)?,
    );
    if let Some(seconds) = board.spec.bench.prompt_within {
        quiet_row = quiet_row.with_target(Target::OursAtMost { seconds });
    }
    let size = |path: &Utf8Path| -> Result<Value> {
        Ok(Value::Bytes {
            value: fs_err::metadata(path)?.len(),
        })
    };
    rows.extend([
        Row::compare(
            "QEMU start → prompt",
            phase(ours_runs, total)?,
            SEED,
            phase(seed_runs, total)?,
        ),
        Row::compare(
            "QEMU start → prompt",
            phase(ours_runs, total)?,
            FLOOR,
            phase(floor_runs, total)?,
        ),
        quiet_row,
        Row::compare(
            "initramfs size",
            size(&setup.ours_initrd)?,
            SEED,
            size(&setup.seed_initrd)?,
        ),
        Row::single("init binary size (static)", size(&setup.init)?).with_target(INIT_SIZE_TARGET),
    ]);
    Ok(rows)
}

/// The reference init's row against ours, and its note; when it was not built, why, as a
/// note.
fn reference_row(
    setup: &Setup,
    samples: &[Vec<Phases>],
    notes: &mut Vec<String>,
) -> Result<Option<Row>> {
    let (ours_runs, floor_runs) = (&samples[1], &samples[2]);
    match (&setup.reference_initrd, samples.get(4)) {
        (Ok(initrd), Some(reference_runs)) => {
            let reference_to_prompt = phase(reference_runs, to_prompt)?;
            let seconds = |runs: &[Phases]| -> Vec<f64> {
                runs.iter().map(|p| p.to_prompt.as_secs_f64()).collect()
            };
            if let Some(d) = paired_differences(&seconds(ours_runs), &seconds(reference_runs)) {
                notes.push(format!(
                    "reference init, round by round: `Run /init` → prompt, ours minus the \
                     reference's in the same round, median {} ({} to {}, n={}); less moved by \
                     the host's speed than the difference of the medians",
                    signed_ms(d.median),
                    signed_ms(d.min),
                    signed_ms(d.max),
                    d.runs
                ));
            }
            notes.push(format!(
                "reference init: xtask/src/commands/bench/reference_init.c, init's boot work (six \
                 mounts, /proc/cmdline, the host name, the banner, the active console, a shell in \
                 a new session on it) with one system call per step and no C library (the \
                 kernel's tools/include/nolibc), {}; it reaches the prompt {} after the floor: \
                 what that work costs here, however init is written",
                human(initrd)?,
                signed_ms(reference_to_prompt.central() - phase(floor_runs, to_prompt)?.central()),
            ));
            Ok(Some(
                Row::compare(
                    "Run /init → prompt",
                    phase(ours_runs, to_prompt)?,
                    REFERENCE,
                    reference_to_prompt,
                )
                .with_target(TO_PROMPT_REFERENCE_TARGET),
            ))
        }
        (Err(why), _) => {
            notes.push(format!("reference init: not built: {why:#}"));
            Ok(None)
        }
        (Ok(_), None) => Ok(None),
    }
}

/// The median (and spread) of one phase over runs.
fn phase(runs: &[Phases], pick: fn(&Phases) -> Duration) -> Result<Value> {
    let durations: Vec<Duration> = runs.iter().map(pick).collect();
    Stats::of_durations(&durations)
        .map(Value::Seconds)
        .context("no boots measured")
}

/// QEMU start to `Run /init`.
fn to_init(p: &Phases) -> Duration {
    p.to_init
}

/// `Run /init` to the prompt.
fn to_prompt(p: &Phases) -> Duration {
    p.to_prompt
}

/// QEMU start to the prompt.
fn total(p: &Phases) -> Duration {
    p.to_init + p.to_prompt
}

/// The baselines' names in the rows.
const SEED: &str = "seed /init";
/// See [`SEED`].
const FLOOR: &str = "rdinit=/bin/sh";
/// See [`SEED`].
const REFERENCE: &str = "reference init";

/// One boot to the shell prompt; QEMU is stopped as soon as the prompt shows.
fn boot_once(boot: &Boot) -> Result<Phases> {
    boot_to_prompt(boot, true)
}

/// The quiet boot: no `Run /init` line to wait for, so only QEMU start → prompt
/// (in `to_prompt`, with `to_init` zero).
fn boot_quiet(boot: &Boot) -> Result<Phases> {
    boot_to_prompt(boot, false)
}

fn boot_to_prompt(boot: &Boot, init_line: bool) -> Result<Phases> {
    let prompt = Regex::new(r"[~/] # ").context("prompt pattern")?;
    let start = Instant::now();
    let mut session = Session::spawn(boot)?;
    let at_init = if init_line {
        let pattern = Regex::new(r"Run \S+ as init process").context("init line pattern")?;
        session.expect(pattern, BOOT_TIMEOUT)?;
        start.elapsed()
    } else {
        Duration::ZERO
    };
    session.expect(prompt, BOOT_TIMEOUT)?;
    let at_prompt = start.elapsed();
    drop(session);
    Ok(Phases {
        to_init: at_init,
        to_prompt: at_prompt - at_init,
    })
}

/// The board's initramfs with the reference init as `/init`: built from the board's
/// `rootfs.toml` like ours, so the two differ in `/init` only. An error says why the
/// reference could not be built (e.g. a kernel tree without `tools/include/nolibc`).
fn reference_initramfs(board: &Board, src: &Utf8Path, dir: &Utf8Path) -> Result<Utf8PathBuf> {
    let nolibc = src.join("tools/include/nolibc/nolibc.h");
    if !nolibc.is_file() {
        anyhow::bail!("{nolibc} is missing (Linux 5.1 or newer has it)");
    }
    let source = dir.join("reference_init.c");
    fs_err::write(&source, REFERENCE_INIT)?;
    let binary = dir.join("reference-init");
    let gcc = format!("{}gcc", board.spec.cross_compile);
    let output = Command::new(&gcc)
        .args([
            "-Os",
            "-static",
            "-nostdlib",
            "-fno-asynchronous-unwind-tables",
            "-fno-stack-protector",
            "-include",
        ])
        .arg(&nolibc)
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .arg("-lgcc")
        .output()
        .with_context(|| format!("cannot run `{gcc}`: run `cargo xtask setup`"))?;
    if !output.status.success() {
        anyhow::bail!(
            "compiling {source} with {gcc} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut vars = crate::stages::pack::manifest_vars(board);
    vars.insert("init".to_string(), binary.into());
    let options = rootfs::PackOptions {
        manifest: board.manifest().into(),
        vars,
        compression: crate::stages::pack::compression(board, &Default::default())?,
        mtime: 0,
    };
    let (_, archive) = rootfs::pack_to_memory(&options)?;
    let out = dir.join("reference-initramfs");
    fs_err::write(&out, archive)?;
    Ok(out)
}

/// `+12.3 ms` for a difference in seconds.
fn signed_ms(seconds: f64) -> String {
    format!("{:+.1} ms", seconds * 1e3)
}

/// The seed's initramfs: its layout and `/init`, packed by gen_init_cpio + `gzip -9` (the
/// seed ran `gen_initramfs_list.sh -o ramfs.gz`, which does the same).
fn seed_initramfs(src: &Utf8Path, busybox: &Utf8Path, dir: &Utf8Path) -> Result<Utf8PathBuf> {
    let init = dir.join("seed-init.sh");
    fs_err::write(&init, SEED_INIT)?;
    let rcs = dir.join("seed-rcS");
    fs_err::write(&rcs, "")?;
    let list = dir.join("seed.list");
    fs_err::write(&list, render_list(&seed_layout(busybox, &init, &rcs)))?;
    let gen_init_cpio = gen_init_cpio::build(src, dir)?;
    let mut cmd = Command::new(&gen_init_cpio);
    cmd.arg(&list);
    let mut gzip = Command::new("gzip");
    gzip.arg("-9");
    let archive = run_pipeline(vec![cmd, gzip])?;
    let out = dir.join("seed-initramfs.cpio.gz");
    fs_err::write(&out, archive)?;
    Ok(out)
}

/// The seed's tree: `mkdir -pv bin dev etc/init.d sbin usr/{bin,sbin}`, busybox in bin,
/// `ln -s busybox bin/sh`, `mknod -m 644 dev/console c 5 1`, `init`, an empty
/// `etc/init.d/rcS`, and `chmod +x` on busybox, rcS and init.
fn seed_layout(busybox: &Utf8Path, init: &Utf8Path, rcs: &Utf8Path) -> Vec<ListEntry> {
    let dir = |path: &str| ListEntry::Dir {
        path: path.into(),
        mode: 0o755,
    };
    let file = |path: &str, source: &Utf8Path| ListEntry::File {
        path: path.into(),
        source: source.to_owned(),
        mode: 0o755,
    };
    vec![
        dir("/bin"),
        file("/bin/busybox", busybox),
        ListEntry::Symlink {
            path: "/bin/sh".into(),
            target: "busybox".into(),
            mode: 0o777,
        },
        dir("/dev"),
        ListEntry::Node {
            path: "/dev/console".into(),
            mode: 0o644,
            kind: 'c',
            major: 5,
            minor: 1,
        },
        dir("/etc"),
        dir("/etc/init.d"),
        file("/etc/init.d/rcS", rcs),
        file("/init", init),
        dir("/sbin"),
        dir("/usr"),
        dir("/usr/bin"),
        dir("/usr/sbin"),
    ]
}

fn human(path: &Utf8Path) -> Result<String> {
    Ok(human_size(fs_err::metadata(path)?.len()))
}

/// Runs the boot part once per variant with its files in `dir`, for the end-to-end
/// suite: every variant must reach its prompt. Returns each row as `measure | baseline
/// tool`, then the notes; the times are not checked.
pub fn smoke(board: &Board, dir: &Utf8Path) -> Result<Vec<String>> {
    let plan = Plan {
        runs: 1,
        min_runs: 1,
        budget: Duration::ZERO,
    };
    let section = run(board, &plan, dir)?;
    let rows = section.rows.iter().map(|row| match &row.baseline {
        Some(baseline) => format!("{} | {}", row.measure, baseline.tool),
        None => row.measure.clone(),
    });
    Ok(rows.chain(section.notes.iter().cloned()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn the_seed_layout_is_the_recipes_tree() {
        let list = render_list(&seed_layout(
            "/b/busybox".into(),
            "/s/init.sh".into(),
            "/s/rcS".into(),
        ));
        expect![[r#"
            dir /bin 755 0 0
            file /bin/busybox /b/busybox 755 0 0
            slink /bin/sh busybox 777 0 0
            dir /dev 755 0 0
            nod /dev/console 644 0 0 c 5 1
            dir /etc 755 0 0
            dir /etc/init.d 755 0 0
            file /etc/init.d/rcS /s/rcS 755 0 0
            file /init /s/init.sh 755 0 0
            dir /sbin 755 0 0
            dir /usr 755 0 0
            dir /usr/bin 755 0 0
            dir /usr/sbin 755 0 0
        "#]]
        .assert_eq(&list);
    }
}
