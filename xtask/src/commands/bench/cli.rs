//! `cargo xtask bench`: runs the selected parts in order and writes the report after each.

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use std::num::NonZeroUsize;
use std::process::{Command, ExitCode};

use super::report::{Host, Report, Section};
use super::samples::Plan;
use super::{boot, cold, kconfig_merge, kconfig_olddefconfig, noop, pack, timeline};
use crate::board::Board;
use crate::engine::{write_atomic, Ctx};
use crate::layout;
use crate::layout::display_path;

/// The parts, in the order they run, each a function producing one section.
const PARTS: [(&str, PartFn); 5] = [
    ("kconfig", kconfig_merge::run),
    ("olddefconfig", kconfig_olddefconfig::run),
    ("pack", pack::run),
    ("boot", boot::run),
    ("noop", noop::run),
];

/// One part of the benchmark: the board, the plan of runs and a scratch directory.
type PartFn = fn(&Board, &Plan, &Utf8Path) -> Result<Section>;

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BenchArgs {
    /// 3 runs per variant instead of 10 (and 1 for a variant slower than 20 s)
    #[arg(long)]
    pub quick: bool,
    /// N runs per variant instead of 10, for differences smaller than the run-to-run noise
    /// (a boot's is 10-20 ms under TCG)
    #[arg(long, value_name = "N", conflicts_with = "quick")]
    pub runs: Option<NonZeroUsize>,
    /// Run only this part: kconfig, olddefconfig, pack, boot or noop (repeatable)
    #[arg(long, value_name = "NAME", value_parser = ["kconfig", "olddefconfig", "pack", "boot", "noop"])]
    pub only: Vec<String>,
    /// Instead of the benchmark: boot once with initcall_debug and write the boot's
    /// timeline (phases, initcalls) as a table, an SVG and a JSON
    #[arg(long, conflicts_with_all = ["quick", "runs", "only", "compare"])]
    pub timeline: bool,
    /// Where --timeline writes <board>-boot-timeline.svg and .json [default: docs/ of the workspace]
    #[arg(long, value_name = "DIR", requires = "timeline")]
    pub timeline_dir: Option<Utf8PathBuf>,
    /// Instead of the benchmark: two timelines written by --timeline side by side
    #[arg(long, num_args = 2, value_names = ["A.json", "B.json"], conflicts_with_all = ["quick", "runs", "only"])]
    pub compare: Vec<Utf8PathBuf>,
    /// Only a cold start, measured once: xtask compiled, setup, `all` stage by stage and a
    /// boot, from empty caches in a scratch folder; then `all` after `clean` with ccache warm
    #[arg(long, conflicts_with_all = ["runs", "only", "timeline", "compare"])]
    pub cold: bool,
}

/// `cargo xtask bench`.
pub fn run(ctx: &Ctx, args: BenchArgs) -> Result<ExitCode> {
    if let [a, b] = args.compare.as_slice() {
        print!("{}", timeline::compare(a, b)?);
        return Ok(ExitCode::SUCCESS);
    }
    let board = ctx.board()?;
    if args.timeline {
        let dir = args
            .timeline_dir
            .unwrap_or_else(|| layout::workspace_root().join("docs"));
        timeline::run(board, &dir, load_average()).context("bench --timeline")?;
        return Ok(ExitCode::SUCCESS);
    }
    let plan = match (args.quick, args.runs) {
        (true, _) => Plan::QUICK,
        (false, Some(runs)) => Plan::with_runs(runs.get()),
        (false, None) => Plan::FULL,
    };
    let out_dir = out_dir();
    fs_err::create_dir_all(&out_dir)?;
    let scratch = tempfile::Builder::new()
        .prefix("scratch-")
        .tempdir_in(&out_dir)
        .with_context(|| format!("creating a scratch directory in {out_dir}"))?;
    let scratch = Utf8Path::from_path(scratch.path())
        .context("the scratch directory's path is not UTF-8")?
        .to_owned();
    let mut report = Report {
        date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        board: board.name.clone(),
        runs: plan.runs,
        profile: if cfg!(debug_assertions) {
            "dev (`cargo xtask`)".into()
        } else {
            "release".into()
        },
        host: Host {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            load_before: load_average(),
            load_after: None,
            qemu: first_line_of(Command::new(&board.spec.qemu.binary).arg("--version")),
        },
        sections: Vec::new(),
    };
    let parts: &[(&str, PartFn)] = match args.cold {
        true => &[("cold", cold::run)],
        false => &PARTS,
    };
    for &(name, part) in parts {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == name) {
            continue;
        }
        eprintln!("[bench {name}]");
        let dir = scratch.join(name);
        fs_err::create_dir_all(&dir)?;
        let section = part(board, &plan, &dir).with_context(|| format!("bench {name}"))?;
        report.sections.push(section);
        report.host.load_after = load_average();
        // Written after every part so a failure later keeps what was measured.
        write_report(&report, &out_dir)?;
    }
    let _ = fs_err::remove_dir_all(&scratch);
    println!("{}", report.to_text());
    eprintln!(
        "wrote {} and {}",
        display_path(&out_dir.join("bench.md")),
        display_path(&out_dir.join("bench.json"))
    );
    Ok(ExitCode::SUCCESS)
}

/// `target/minilinux/bench/`.
fn out_dir() -> Utf8PathBuf {
    layout::target_dir().join("minilinux").join("bench")
}

fn write_report(report: &Report, out_dir: &Utf8Path) -> Result<()> {
    write_atomic(&out_dir.join("bench.json"), report.to_json().as_bytes())?;
    write_atomic(&out_dir.join("bench.md"), report.to_markdown().as_bytes())
}

/// `/proc/loadavg`'s three load averages.
fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

/// The first line a command prints, if it runs.
fn first_line_of(cmd: &mut Command) -> Option<String> {
    let output = cmd.output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines().next().map(str::to_string)
}
