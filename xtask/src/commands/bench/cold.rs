//! `bench --cold`: the first ten minutes of a new user, reproduced. A copy of the board
//! under another name (`cold-<board>`), an empty source cache, an empty cargo target
//! and an empty ccache, all in the scratch folder; then, timed: compiling xtask, the
//! setup check (and whatever it installs), `all --no-boot` stage by stage (its
//! summary table), a boot to a command's exit; and, after `clean`, `all --no-boot`
//! again with the compiler cache warm.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use super::report::{Row, Section, Target, Value};
use super::samples::{Plan, Stats};
use crate::board::Board;
use crate::layout;
use crate::render::render_command;

/// Issue 19's targets: cold `all` including setup, and a rebuild after `clean` with
/// the compiler cache warm.
const COLD_TARGET: Target = Target::OursAtMost { seconds: 480.0 };
const WARM_TARGET: Target = Target::OursAtMost { seconds: 90.0 };

/// The scratch world of one cold run: where each cache and the board copy live.
struct Scratch {
    board: String,
    cache: Utf8PathBuf,
    cargo_target: Utf8PathBuf,
    ccache: Utf8PathBuf,
    boards: Utf8PathBuf,
}

impl Scratch {
    /// Empty folders under `dir` and a copy of the board's folder named `cold-<board>`.
    fn new(board: &Board, dir: &Utf8Path) -> Result<Scratch> {
        let scratch = Scratch {
            board: format!("cold-{}", board.name),
            cache: dir.join("cache"),
            cargo_target: dir.join("cargo-target"),
            ccache: dir.join("ccache"),
            boards: dir.join("boards"),
        };
        let copy = scratch.boards.join(&scratch.board);
        fs_err::create_dir_all(&copy)?;
        for entry in fs_err::read_dir(&board.dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                fs_err::copy(entry.path(), copy.as_std_path().join(entry.file_name()))?;
            }
        }
        scratch.remove_outputs()?;
        Ok(scratch)
    }

    /// `target/minilinux/cold-<board>`, left by an earlier run or this one.
    fn remove_outputs(&self) -> Result<()> {
        let out = layout::target_dir().join("minilinux").join(&self.board);
        if out.exists() {
            fs_err::remove_dir_all(&out)?;
        }
        Ok(())
    }

    /// The scratch-built xtask on the board copy, with the scratch caches.
    fn xtask(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.cargo_target.join("debug").join("xtask"));
        cmd.arg("--board")
            .arg(&self.board)
            .args(args)
            .env("MINILINUX_CACHE", &self.cache)
            .env("MINILINUX_BOARDS_DIR", &self.boards)
            .env("CCACHE_DIR", &self.ccache)
            .env_remove("MINILINUX_BOARD")
            .current_dir(layout::workspace_root());
        cmd
    }
}

/// Runs `cmd` to the end, its output kept; the wall time in seconds and its stderr.
fn timed(mut cmd: Command) -> Result<(f64, String)> {
    let shown = render_command(&cmd);
    eprintln!("  $ {shown}");
    let started = Instant::now();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{shown}`"))?;
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        let lines: Vec<&str> = stderr.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        bail!("`{shown}` failed ({}):\n{tail}", out.status);
    }
    Ok((seconds, stderr))
}

/// The stage rows of `all`'s summary table (`fetch  done  20.1s  ...`), in order.
fn stage_times(stderr: &str) -> Vec<(String, f64)> {
    let Some(at) = stderr.rfind("stage              result") else {
        return Vec::new();
    };
    stderr[at..]
        .lines()
        .skip(1)
        .map_while(|line| {
            let mut fields = line.split_whitespace();
            let stage = fields.next()?.to_string();
            let _outcome = fields.next()?;
            let seconds = fields.next()?.strip_suffix('s')?.parse().ok()?;
            Some((stage, seconds))
        })
        .collect()
}

/// A time measured once.
fn once(seconds: f64) -> Value {
    Value::Seconds(Stats::of(&[seconds]).expect("one value"))
}

/// The cold run and, after `clean`, the warm-ccache one, as one section.
pub fn run(board: &Board, _plan: &Plan, dir: &Utf8Path) -> Result<Section> {
    let scratch = Scratch::new(board, dir)?;
    let result = measure(&scratch);
    scratch.remove_outputs()?;
    let Measured {
        mut rows,
        cold,
        warm,
    } = result?;
    rows.push(
        Row::single("total: cold start, compile to boot", once(cold)).with_target(COLD_TARGET),
    );
    rows.push(
        Row::single("total: all --no-boot after clean, ccache warm", once(warm))
            .with_target(WARM_TARGET),
    );
    Ok(Section {
        name: "cold".into(),
        title: format!("A cold start of board {}, measured once", board.name),
        rows,
        notes: vec![
            "cold: empty cargo target, source cache and ccache (all in the scratch folder); \
             crates already downloaded by cargo; the host's apt packages already installed, \
             so setup is its check plus zizmor's pip install"
                .into(),
            "after clean: `clean` then `all --no-boot` with the ccache the cold run filled".into(),
            "the build stages (kernel, busybox, init) run at once, so their rows overlap: \
             the totals add up wall times (xtask's compile, setup, `all --no-boot`, the boot)"
                .into(),
        ],
    })
}

/// The timed steps, one row each, and the two totals in wall time.
struct Measured {
    rows: Vec<Row>,
    /// xtask's compile, setup, the cold `all --no-boot` and the boot.
    cold: f64,
    /// `all --no-boot` after `clean`.
    warm: f64,
}

/// Runs and times each step.
fn measure(scratch: &Scratch) -> Result<Measured> {
    let mut rows = Vec::new();
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .args(["build", "--quiet", "-p", "xtask"])
        .env("CARGO_TARGET_DIR", &scratch.cargo_target)
        .current_dir(layout::workspace_root());
    let (compile, _) = timed(cargo)?;
    rows.push(Row::single("xtask compile (cold)", once(compile)));
    let (setup, _) = timed(scratch.xtask(&["setup"]))?;
    rows.push(Row::single("setup (cold)", once(setup)));
    // ccache is used whenever installed (`build --no-ccache` opts out): the cold pass
    // fills the scratch ccache, the pass after `clean` reads it.
    let cold_all = all_no_boot(scratch, "cold", &mut rows)?;
    timed(scratch.xtask(&["clean"]))?;
    let warm_all = all_no_boot(scratch, "after clean", &mut rows)?;
    let (boot, _) = timed(scratch.xtask(&["qemu", "--exec", "true"]))?;
    rows.push(Row::single("boot to `true`'s exit (cold)", once(boot)));
    Ok(Measured {
        rows,
        cold: compile + setup + cold_all + boot,
        warm: warm_all,
    })
}

/// `all --no-boot` as the `pass`: a row per stage of its summary and one of its wall
/// time, which it returns.
fn all_no_boot(scratch: &Scratch, pass: &str, rows: &mut Vec<Row>) -> Result<f64> {
    let (seconds, stderr) = timed(scratch.xtask(&["all", "--no-boot"]))?;
    let stages = stage_times(&stderr);
    if stages.is_empty() {
        bail!("no summary table in the output of `all --no-boot`:\n{stderr}");
    }
    for (stage, seconds) in stages {
        rows.push(Row::single(format!("{stage} ({pass})"), once(seconds)));
    }
    rows.push(Row::single(
        format!("all --no-boot, wall ({pass})"),
        once(seconds),
    ));
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::stage_times;

    #[test]
    fn reads_the_stage_rows_of_the_summary() {
        let stderr = "[pack] done in 0.0s\n\n\
            stage              result       time  output\n\
            fetch              done        20.1s  target/minilinux/b/fetch.toml 774 B\n\
            build-linux        done       213.1s  target/minilinux/b/kernel.uimage 5.4 MiB\n\
            pack               skipped      0.0s  \n";
        expect_test::expect![[r#"[("fetch", 20.1), ("build-linux", 213.1), ("pack", 0.0)]"#]]
            .assert_eq(&format!("{:?}", stage_times(stderr)));
    }
}
