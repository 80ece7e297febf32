//! kconfig merge against `scripts/kconfig/merge_config.sh -m`, same base, same fragments.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use kconfig::{Config, Fragment, MergeOptions};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::outputs::require;
use super::report::{Row, Section, Target, Value};
use super::samples::{interleave, Plan, Stats, Variant};
use crate::board::Board;
use crate::kbuild;

/// Sizes of the fragments cut from the `allyesconfig`; the whole of it is the third one.
const SMALL_FRAGMENTS: [usize; 2] = [10, 300];

/// The issue's target for merging the whole `allyesconfig`.
const ALLYES_TARGET: Target = Target::RatioAtLeast { ratio: 1000.0 };

/// One run of either tool: its time and the redefinitions it reported.
#[derive(Debug, Clone, Copy)]
struct Run {
    time: Duration,
    redefinitions: usize,
}

/// Times both tools on fragments of 10 and 300 lines and the whole ARM `allyesconfig`.
pub fn run(board: &Board, plan: &Plan, dir: &Utf8Path) -> Result<Section> {
    let src = require(board.kernel_src(), "kernel source tree")?;
    let script = require(
        src.join("scripts/kconfig/merge_config.sh"),
        "merge_config.sh",
    )?;
    let base = dir.join("base.config");
    let base_note = if board.kernel_config().is_file() {
        fs_err::copy(board.kernel_config(), &base)?;
        "the board's configured kernel .config".to_string()
    } else {
        let defconfig = &board.spec.kernel.defconfig;
        fs_err::copy(
            make_config(board, &src, &dir.join("defconfig"), defconfig)?,
            &base,
        )?;
        format!("`make {defconfig}` (the board is not configured yet)")
    };
    eprintln!("  generating the ARM allyesconfig");
    let allyes_path = make_config(board, &src, &dir.join("allyesconfig"), "allyesconfig")?;
    let allyes = fs_err::read_to_string(&allyes_path)?;

    let mut fragments: Vec<(String, Utf8PathBuf, Option<Target>)> = Vec::new();
    for lines in SMALL_FRAGMENTS {
        let path = dir.join(format!("fragment-{lines}.config"));
        fs_err::write(&path, pick_assignments(&allyes, lines))?;
        fragments.push((format!("{lines}-line fragment"), path, None));
    }
    fragments.push((
        format!("allyesconfig ({} lines)", allyes.lines().count()),
        allyes_path,
        Some(ALLYES_TARGET),
    ));

    let mut rows = Vec::new();
    let mut notes = vec![
        format!("base: {base_note}, {} lines", line_count(&base)?),
        "fragments: every k-th assignment line of `make ARCH=arm allyesconfig` (10 and 300 \
         lines), and the whole allyesconfig"
            .to_string(),
        "ours: read base and fragment, parse, merge, render the redefinitions, write the merged \
         .config (kconfig crate, in process); baseline: `bash merge_config.sh -m -O <dir> base \
         fragment` from the kernel tree, run in a scratch directory"
            .to_string(),
    ];
    for (name, fragment, target) in &fragments {
        let tools = Tools {
            base: &base,
            script: &script,
            dir,
        };
        let (fragment_rows, note) = compare(plan, &tools, name, fragment, *target)?;
        rows.extend(fragment_rows);
        notes.push(note);
    }
    Ok(Section {
        name: "kconfig".into(),
        title: "kconfig merge vs scripts/kconfig/merge_config.sh -m".into(),
        rows,
        notes,
    })
}

/// What both tools merge onto and where: the base `.config`, the kernel's script, the
/// scratch folder.
struct Tools<'a> {
    base: &'a Utf8Path,
    script: &'a Utf8Path,
    dir: &'a Utf8Path,
}

/// Both tools on one fragment: its time and redefinition rows, and the note saying whether
/// the merged `.config`s are the same.
fn compare(
    plan: &Plan,
    tools: &Tools,
    name: &str,
    fragment: &Utf8Path,
    target: Option<Target>,
) -> Result<(Vec<Row>, String)> {
    let ours_out = tools.dir.join("ours.config");
    let script_dir = tools.dir.join("merge_config");
    let mut variants = vec![
        Variant::new(format!("kconfig merge, {name}"), || {
            merge_ours(tools.base, fragment, &ours_out)
        }),
        Variant::new(format!("merge_config.sh -m, {name}"), || {
            merge_script(tools.script, tools.base, fragment, &script_dir)
        }),
    ];
    let samples = interleave(plan, &mut variants)?;
    drop(variants);
    let [ours, script_runs] = [&samples[0], &samples[1]];
    let times = |runs: &[Run]| {
        let durations: Vec<Duration> = runs.iter().map(|r| r.time).collect();
        Stats::of_durations(&durations).map(Value::Seconds)
    };
    let (Some(ours_time), Some(script_time)) = (times(ours), times(script_runs)) else {
        bail!("no runs measured");
    };
    let row = Row::compare(
        format!("merge {name}"),
        ours_time,
        "merge_config.sh -m",
        script_time,
    );
    let count = |runs: &[Run]| Value::Count {
        value: runs.first().map_or(0, |r| r.redefinitions as u64),
    };
    let rows = vec![
        match target {
            Some(target) => row.with_target(target),
            None => row,
        },
        Row::compare(
            format!("  redefinitions reported, {name}"),
            count(ours),
            "merge_config.sh -m",
            count(script_runs),
        ),
    ];
    let same = fs_err::read(&ours_out)? == fs_err::read(script_dir.join("out/.config"))?;
    let note = format!(
        "{name}: the merged .config is {} merge_config.sh's",
        if same {
            "byte for byte the same as"
        } else {
            "NOT the same as"
        }
    );
    Ok((rows, note))
}

/// `make -s -C <src> O=<out> ARCH=.. CROSS_COMPILE=.. <target>`; returns `<out>/.config`.
fn make_config(board: &Board, src: &Utf8Path, out: &Utf8Path, target: &str) -> Result<Utf8PathBuf> {
    fs_err::create_dir_all(out)?;
    let output = kbuild::make(board, src, out, Some(&board.spec.arch))
        .arg("-s")
        .arg(target)
        .output()
        .context("cannot run `make`: run `cargo xtask setup`")?;
    if !output.status.success() {
        bail!(
            "`make {target}` in {src} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(out.join(".config"))
}

/// `n` assignment lines (`CONFIG_X=..` or `# CONFIG_X is not set`) spread evenly over `config`.
fn pick_assignments(config: &str, n: usize) -> String {
    let assignments: Vec<&str> = config
        .lines()
        .filter(|l| {
            l.starts_with("CONFIG_") || (l.starts_with("# CONFIG_") && l.ends_with(" is not set"))
        })
        .collect();
    let n = n.min(assignments.len());
    let mut out = String::new();
    for i in 0..n {
        out.push_str(assignments[i * assignments.len() / n]);
        out.push('\n');
    }
    out
}

fn line_count(path: &Utf8Path) -> Result<usize> {
    Ok(fs_err::read_to_string(path)?.lines().count())
}

/// What `cargo xtask kconfig merge` does, in process: read, parse, merge, render, write.
fn merge_ours(base: &Utf8Path, fragment: &Utf8Path, out: &Utf8Path) -> Result<Run> {
    let start = Instant::now();
    let base_text = fs_err::read_to_string(base)?;
    let fragment_text = fs_err::read_to_string(fragment)?;
    let base_config = Config::parse(&base_text).with_context(|| format!("parsing {base}"))?;
    let fragment_config =
        Config::parse(&fragment_text).with_context(|| format!("parsing {fragment}"))?;
    let merged = kconfig::merge(
        &base_config,
        &[Fragment {
            name: fragment.as_str(),
            config: &fragment_config,
        }],
        MergeOptions::default(),
    );
    let mut messages = String::new();
    for redefinition in &merged.redefinitions {
        messages.push_str(&redefinition.to_string());
        messages.push('\n');
    }
    std::hint::black_box(&messages);
    fs_err::write(out, merged.config.to_string())?;
    Ok(Run {
        time: start.elapsed(),
        redefinitions: merged.redefinitions.len(),
    })
}

/// `bash merge_config.sh -m -O <dir>/out base fragment` with `<dir>` as working directory
/// (the script writes its temp files there); counts its `Value of .. is redefined` lines.
fn merge_script(
    script: &Utf8Path,
    base: &Utf8Path,
    fragment: &Utf8Path,
    dir: &Utf8Path,
) -> Result<Run> {
    let out = dir.join("out");
    fs_err::create_dir_all(&out)?;
    let start = Instant::now();
    let output = Command::new("bash")
        .current_dir(dir)
        .arg(script)
        .args(["-m", "-O"])
        .arg(&out)
        .arg(base)
        .arg(fragment)
        .stdin(Stdio::null())
        .output()
        .context("cannot run bash")?;
    let time = start.elapsed();
    if !output.status.success() {
        bail!(
            "merge_config.sh failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(Run {
        time,
        redefinitions: count_redefinitions(&String::from_utf8_lossy(&output.stdout)),
    })
}

/// The `Value of CONFIG_X is redefined by fragment ..:` lines merge_config.sh prints.
fn count_redefinitions(stdout: &str) -> usize {
    stdout
        .lines()
        .filter(|l| l.starts_with("Value of ") && l.contains(" is redefined by fragment "))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn fragments_are_assignments_spread_over_the_config() {
        let config = "#\n# Automatically generated\n#\nCONFIG_A=y\n# CONFIG_B is not set\n\
                      # comment\nCONFIG_C=m\nCONFIG_D=\"x\"\nCONFIG_E=0x10\nCONFIG_F=y\n";
        expect![[r#"
            CONFIG_A=y
            CONFIG_C=m
            CONFIG_E=0x10
        "#]]
        .assert_eq(&pick_assignments(config, 3));
        expect![[r#"
            CONFIG_A=y
            # CONFIG_B is not set
            CONFIG_C=m
            CONFIG_D="x"
            CONFIG_E=0x10
            CONFIG_F=y
        "#]]
        .assert_eq(&pick_assignments(config, 99));
    }

    #[test]
    fn only_redefinitions_count_not_redundant_values() {
        let stdout = "Using base.config as base\nMerging fragment.config\n\
                      Value of CONFIG_A is redefined by fragment fragment.config:\n\
                      Previous  value: CONFIG_A=y\nNew value:       CONFIG_A=m\n\n\
                      Value of CONFIG_B is redundant by fragment fragment.config:\n\
                      Value of CONFIG_C is redefined by fragment fragment.config:\n";
        expect!["2"].assert_eq(&count_redefinitions(stdout).to_string());
    }
}
