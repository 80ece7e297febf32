//! Merge benchmark: a big fragment (ARM `allyesconfig`) onto a `.config`
//! (`versatile_defconfig`), this crate and `scripts/kconfig/merge_config.sh -m` side by side.
//!
//! `cargo bench -p kconfig --bench merge -- [BASE FRAGMENT] [--runs N] [--no-script]`
//!
//! Without files it needs `MINILINUX_KERNEL_SRC` (a kernel tree) and generates both configs
//! there with `make O=<temp dir>`. `merge_config.sh` is taken from that tree and takes
//! about half a minute on the full inputs; `--no-script` leaves it out.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kconfig::{merge, Config, Fragment, MergeOptions, ParseError};

fn main() {
    let mut files = Vec::new();
    let mut runs = 20;
    let mut script = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => {}
            "--no-script" => script = false,
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(runs),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    let src = std::env::var_os("MINILINUX_KERNEL_SRC").map(PathBuf::from);
    let scratch = tempfile::tempdir().expect("creating a temp dir");
    let (base, fragment) = match (files.as_slice(), &src) {
        ([base, fragment], _) => (base.clone(), fragment.clone()),
        ([], Some(src)) => (
            generate(src, scratch.path(), "versatile_defconfig"),
            generate(src, scratch.path(), "allyesconfig"),
        ),
        _ => {
            println!(
                "skipped: merge benchmark: give BASE FRAGMENT, or set MINILINUX_KERNEL_SRC to a kernel tree"
            );
            return;
        }
    };
    let base_text = std::fs::read_to_string(&base).expect("reading the base");
    let fragment_text = std::fs::read_to_string(&fragment).expect("reading the fragment");
    let timing = time_merge(&base_text, &fragment_text, runs)
        .unwrap_or_else(|e| panic!("cannot parse the inputs: {e}"));
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!(
        "kconfig merge: {}-line fragment onto {}-line base, best of {runs}: parse {:.2} ms, \
         merge {:.2} ms, render {:.2} ms, total {:.2} ms; {} redefinitions, {} lines out",
        fragment_text.lines().count(),
        base_text.lines().count(),
        ms(timing.parse),
        ms(timing.merge),
        ms(timing.render),
        ms(timing.total()),
        timing.redefinitions,
        timing.lines,
    );
    let Some(src) = src.filter(|_| script) else {
        return;
    };
    let out = scratch.path().join("script-out");
    std::fs::create_dir_all(&out).expect("creating the script's output dir");
    let start = Instant::now();
    let status = Command::new("bash")
        .current_dir(scratch.path())
        .arg(src.join("scripts/kconfig/merge_config.sh"))
        .args(["-m", "-O"])
        .arg(&out)
        .arg(&base)
        .arg(&fragment)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("running merge_config.sh");
    let script_time = start.elapsed();
    assert!(status.success(), "merge_config.sh failed: {status}");
    println!(
        "merge_config.sh -m: {:.1} s ({:.0}x the crate's total)",
        script_time.as_secs_f64(),
        script_time.as_secs_f64() * 1000.0 / ms(timing.total())
    );
}

/// `make ARCH=arm O=<scratch>/<target> <target>` in the kernel tree; returns the `.config`.
fn generate(src: &Path, scratch: &Path, target: &str) -> PathBuf {
    let out = scratch.join(target);
    let status = Command::new("make")
        .current_dir(src)
        .args(["-s", "ARCH=arm"])
        .arg(format!("O={}", out.display()))
        .arg(target)
        .status()
        .expect("running make");
    assert!(status.success(), "make {target} failed: {status}");
    out.join(".config")
}

/// The fastest of several runs of [`time_merge`], phase by phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MergeTiming {
    /// Parsing base and fragment.
    parse: Duration,
    /// [`merge`] itself.
    merge: Duration,
    /// Printing the merged config and one line per redefinition.
    render: Duration,
    /// Lines in the merged config.
    lines: usize,
    /// Redefinitions reported.
    redefinitions: usize,
}

impl MergeTiming {
    /// Parse, merge and render together.
    fn total(&self) -> Duration {
        self.parse + self.merge + self.render
    }
}

/// Runs parse + merge + render of `fragment` onto `base` `runs` times (at least once) and
/// returns the fastest run.
fn time_merge(base: &str, fragment: &str, runs: usize) -> Result<MergeTiming, ParseError> {
    let mut best: Option<MergeTiming> = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let base_config = Config::parse(base)?;
        let fragment_config = Config::parse(fragment)?;
        let parsed = Instant::now();
        let merged = merge(
            &base_config,
            &[Fragment {
                name: "fragment",
                config: &fragment_config,
            }],
            MergeOptions::default(),
        );
        let merged_at = Instant::now();
        let mut report = merged.config.to_string();
        for redefinition in &merged.redefinitions {
            report.push_str(&redefinition.to_string());
            report.push('\n');
        }
        let rendered = Instant::now();
        std::hint::black_box(&report);
        let timing = MergeTiming {
            parse: parsed - start,
            merge: merged_at - parsed,
            render: rendered - merged_at,
            lines: merged.config.lines().len(),
            redefinitions: merged.redefinitions.len(),
        };
        if best.is_none_or(|b| timing.total() < b.total()) {
            best = Some(timing);
        }
    }
    Ok(best.unwrap_or(MergeTiming {
        parse: Duration::ZERO,
        merge: Duration::ZERO,
        render: Duration::ZERO,
        lines: 0,
        redefinitions: 0,
    }))
}
