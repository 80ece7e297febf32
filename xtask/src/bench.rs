//! `bench`: minilinux side by side with what it replaces — the kernel's
//! `merge_config.sh`, `find | cpio | gzip` and `gen_init_cpio`, the seed's shell-script
//! `/init`, a no-op `make` — with medians, ratios and the targets, printed and
//! written to `target/minilinux/bench/` (docs/bench.md).

mod boot;
mod cli;
mod gen_init_cpio;
mod kconfig_merge;
mod noop;
mod outputs;
mod pack;
mod pipe;
mod report;
mod samples;

pub use cli::{run, BenchArgs};

/// Runs the boot part once per variant with its files in `dir`, for the end-to-end
/// suite: every variant must reach its prompt. Returns each row as `measure | baseline
/// tool`, then the notes; the times are not checked.
pub fn boot_smoke(ctx: &crate::engine::Ctx, dir: &camino::Utf8Path) -> anyhow::Result<Vec<String>> {
    let plan = samples::Plan {
        runs: 1,
        min_runs: 1,
        budget: std::time::Duration::ZERO,
    };
    let section = boot::run(ctx, &plan, dir)?;
    let rows = section.rows.iter().map(|row| match &row.baseline {
        Some(baseline) => format!("{} | {}", row.measure, baseline.tool),
        None => row.measure.clone(),
    });
    Ok(rows.chain(section.notes.iter().cloned()).collect())
}
