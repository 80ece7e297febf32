//! `cargo xtask bench --timeline`: one boot attributed end to end, QEMU's start-up,
//! the kernel's initcalls and init on the host's clock; and `--compare A.json B.json`.
//!
//! The boot is the board's own (quiet where the board is) with `initcall_debug
//! printk.time=1 log_buf_len=1M` added, so the kernel logs each initcall without
//! printing it. At the prompt, three lines written to `/dev/kmsg` at an error level
//! reach the console with the kernel's time stamp: the host's arrival times put the
//! kernel's clock on the host's. Then `dmesg` gives the log (docs/bench.md).

mod compare;
mod kernel_log;
mod model;
mod svg;
mod symbols;

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use regex::bytes::Regex;
use std::time::{Duration, Instant};

use crate::board::Board;
use crate::engine::write_atomic;
use crate::layout::display_path;
use crate::qemu::{qmp, Accel, Boot, BootRequest, Session};
use model::{HostTimes, Timeline};

/// Added to the board's command line for the timeline's boot only.
pub const TIMELINE_PARAMS: [&str; 3] = ["initcall_debug", "printk.time=1", "log_buf_len=1M"];

/// How long the boot may take, and each step after it.
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);
/// See [`BOOT_TIMEOUT`].
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// The marker written to `/dev/kmsg` to line the clocks up.
const MARK: &str = "minilinux-timeline-mark";

/// How many initcalls the terminal's table and the comparison list.
const SLOWEST: usize = 15;

/// Boots `board` once, prints the timeline's table, writes `<board>-boot-timeline.svg`
/// and `.json` into `out_dir`; returns the timeline.
pub fn run(board: &Board, out_dir: &Utf8Path, load: Option<[f64; 3]>) -> Result<Timeline> {
    let timeline = boot(board, load)?;
    println!("{}", timeline.to_text(SLOWEST));
    let (svg_path, json_path) = paths(out_dir, &board.name);
    fs_err::create_dir_all(out_dir)?;
    write_atomic(&svg_path, svg::render(&timeline).as_bytes())?;
    let json = serde_json::to_string_pretty(&timeline).context("the timeline as JSON")?;
    write_atomic(&json_path, format!("{json}\n").as_bytes())?;
    eprintln!(
        "wrote {} and {}",
        display_path(&svg_path),
        display_path(&json_path)
    );
    Ok(timeline)
}

/// `<out_dir>/<board>-boot-timeline.svg` and `.json`.
pub fn paths(out_dir: &Utf8Path, board: &str) -> (Utf8PathBuf, Utf8PathBuf) {
    let stem = out_dir.join(format!("{board}-boot-timeline"));
    (stem.with_extension("svg"), stem.with_extension("json"))
}

/// `--compare A.json B.json`: the two timelines side by side.
pub fn compare(a: &Utf8Path, b: &Utf8Path) -> Result<String> {
    let read = |path: &Utf8Path| -> Result<Timeline> {
        let text = fs_err::read_to_string(path)?;
        serde_json::from_str(&text).with_context(|| {
            format!("{path} is not a timeline written by `cargo xtask bench --timeline`")
        })
    };
    Ok(compare::compare(&read(a)?, &read(b)?, 2 * SLOWEST))
}

/// One boot to the prompt, the clocks lined up, the kernel's log read.
fn boot(board: &Board, load: Option<[f64; 3]>) -> Result<Timeline> {
    let request = BootRequest {
        append: TIMELINE_PARAMS.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    };
    let boot = Boot::prepare(board, &request)?;
    let date = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let prompt = Regex::new(r"[~/] # ").context("prompt pattern")?;
    let monitor = tempfile::tempdir().context("a folder for QEMU's monitor socket")?;
    let socket = Utf8PathBuf::try_from(monitor.path().join("qmp.sock"))?;
    let mut command = boot.command();
    command
        .arg("-qmp")
        .arg(format!("unix:{socket},server=on,wait=off"));
    let start = Instant::now();
    let mut session = Session::spawn_command(command)?;
    let (_, prompt_at) = session.expect_at(prompt.clone(), BOOT_TIMEOUT)?;
    // Asked at the prompt, before the marks and dmesg add code of their own.
    let tcg_blocks = translated_blocks(&socket);
    let since = |at: Instant| at.duration_since(start).as_secs_f64();
    let first_byte = session.first_byte_at().map_or(0.0, since);
    let mut pairs = Vec::new();
    for i in 0..3 {
        session.send_line(&format!("echo '<3>{MARK}{i}' > /dev/kmsg"))?;
        let line = Regex::new(&format!(r"\[\s*\d+\.\d+\] {MARK}{i}")).context("mark pattern")?;
        let (found, at) = session
            .expect_at(line, STEP_TIMEOUT)
            .with_context(|| format!("the kernel did not print {MARK}{i} written to /dev/kmsg"))?;
        let stamp = kernel_log::stamp(&found.matched).context("the mark's time stamp")?;
        pairs.push((since(at), stamp));
        session.expect(prompt.clone(), STEP_TIMEOUT)?;
    }
    session.send_line("dmesg")?;
    let log = session.expect(prompt, STEP_TIMEOUT)?.before;
    drop(session);
    let host = HostTimes {
        first_byte,
        prompt: since(prompt_at),
        kernel_zero: kernel_log::clock_offset(&pairs).context("no marks")?,
    };
    let log = kernel_log::parse(&log);
    let (phases, marks) = match model::attribute(host, &log) {
        Ok(parts) => parts,
        Err(why) => bail!("{why}; the kernel ran with `{}`", boot.cmdline),
    };
    Ok(Timeline {
        board: board.name.clone(),
        date,
        load,
        accel: match boot.accel {
            Accel::Kvm => "KVM".into(),
            Accel::Tcg | Accel::Default => "TCG".into(),
        },
        cmdline: boot.cmdline.clone(),
        phases,
        marks,
        initcalls: named(board, model::initcall_spans(host, &log)),
        tcg_blocks,
    })
}

/// How many blocks of guest code TCG translated so far, from QEMU's monitor; `None`
/// under KVM or when the monitor does not answer (the timeline is still written).
fn translated_blocks(socket: &Utf8Path) -> Option<u64> {
    let mut monitor = qmp::Qmp::connect(socket, STEP_TIMEOUT).ok()?;
    qmp::translated_blocks(&monitor.human("info jit").ok()?)
}

/// The initcalls with names from the kernel's `System.map` where the log gave
/// addresses (no `CONFIG_KALLSYMS`); unchanged when the map cannot be read.
fn named(board: &Board, mut initcalls: Vec<model::Span>) -> Vec<model::Span> {
    let map_path = board.kernel_build().join("System.map");
    if let Ok(text) = fs_err::read_to_string(&map_path) {
        let map = symbols::SymbolMap::parse(&text);
        for call in &mut initcalls {
            call.name = map.resolve(&call.name);
        }
    }
    initcalls
}

/// `--timeline` into `dir`, for the end-to-end suite: the boot's phases follow one
/// another from QEMU's start to the prompt, the log gave initcalls, and the JSON reads
/// back as the same timeline. Returns the table; an error says what is wrong.
pub fn smoke(board: &Board, dir: &Utf8Path) -> Result<String> {
    let timeline = run(board, dir, None)?;
    let ends = timeline
        .phases
        .windows(2)
        .all(|w| w[0].end_ms == w[1].start_ms);
    let forward = timeline.phases.iter().all(|p| p.duration_ms() >= 0.0);
    if !ends || !forward || timeline.phases.first().map(|p| p.start_ms) != Some(0.0) {
        bail!(
            "the phases do not follow one another from 0:\n{}",
            timeline.to_text(SLOWEST)
        );
    }
    if timeline.initcalls.len() < 10 {
        bail!("fewer than 10 initcalls:\n{}", timeline.to_text(SLOWEST));
    }
    let (svg, json) = paths(dir, &board.name);
    let svg = fs_err::read_to_string(svg)?;
    if !svg.starts_with("<svg ") || !svg.contains(r#"class="initcall""#) {
        bail!("the SVG has no initcall rows");
    }
    // serde_json's float_roundtrip reads every float back bit for bit.
    let read: Timeline = serde_json::from_str(&fs_err::read_to_string(json)?)?;
    if read != timeline {
        bail!("the JSON does not read back as the timeline");
    }
    Ok(timeline.to_text(SLOWEST))
}
