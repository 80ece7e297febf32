//! A timing entry point for benchmarks (`cargo bench`, `cargo xtask bench`): parse a base and
//! a fragment, merge, and render the config and the report.

use std::time::{Duration, Instant};

use crate::config::Config;
use crate::merge::{merge, Fragment, MergeOptions};
use crate::parse::ParseError;

/// The fastest of several runs of [`time_merge`], phase by phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeTiming {
    /// Parsing base and fragment.
    pub parse: Duration,
    /// [`merge`] itself.
    pub merge: Duration,
    /// Printing the merged config and one line per redefinition.
    pub render: Duration,
    /// Lines in the merged config.
    pub lines: usize,
    /// Redefinitions reported.
    pub redefinitions: usize,
}

impl MergeTiming {
    /// Parse, merge and render together.
    pub fn total(&self) -> Duration {
        self.parse + self.merge + self.render
    }
}

/// Runs parse + merge + render of `fragment` onto `base` `runs` times (at least once) and
/// returns the fastest run.
pub fn time_merge(base: &str, fragment: &str, runs: usize) -> Result<MergeTiming, ParseError> {
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
