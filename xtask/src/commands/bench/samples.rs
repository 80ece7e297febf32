//! Repeated measurements: how many runs, interleaving the variants, and median/min/max.

use anyhow::{bail, Result};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Median, fastest and slowest of a set of samples (seconds, or any other unit).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// The middle value; the mean of the two middle ones for an even count.
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// How many samples.
    pub runs: usize,
}

impl Stats {
    /// Median, min and max of `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Stats> {
        let mut sorted: Vec<f64> = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let (&min, &max) = (sorted.first()?, sorted.last()?);
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Stats {
            median,
            min,
            max,
            runs: n,
        })
    }

    /// Stats of durations, in seconds.
    pub fn of_durations(durations: &[Duration]) -> Option<Stats> {
        let secs: Vec<f64> = durations.iter().map(Duration::as_secs_f64).collect();
        Stats::of(&secs)
    }
}

/// Stats of `a[i] - b[i]` for the runs both have: the difference round by round, which a
/// change in the machine's speed between rounds moves far less than it moves the medians.
pub fn paired_differences(a: &[f64], b: &[f64]) -> Option<Stats> {
    let differences: Vec<f64> = a.iter().zip(b).map(|(a, b)| a - b).collect();
    Stats::of(&differences)
}

/// How often to run each variant of a measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Runs wanted per variant.
    pub runs: usize,
    /// A variant slower than `budget` in total still gets this many runs.
    pub min_runs: usize,
    /// Time a variant may take over all its runs before it stops short of `runs`.
    pub budget: Duration,
}

impl Plan {
    /// The full benchmark: 10 runs, at least 3, about two minutes per variant at most.
    pub const FULL: Plan = Plan {
        runs: 10,
        min_runs: 3,
        budget: Duration::from_secs(120),
    };
    /// `--runs N`: `N` runs, with the full plan's floor of 3 and its time budget per run
    /// (12 s), so a slow variant still stops short as it does in the full plan.
    pub fn with_runs(runs: usize) -> Plan {
        let per_run = Plan::FULL.budget / Plan::FULL.runs as u32;
        Plan {
            runs,
            min_runs: Plan::FULL.min_runs.min(runs),
            budget: per_run * u32::try_from(runs).unwrap_or(u32::MAX),
        }
    }

    /// `--quick`: 3 runs, 1 for a variant that takes more than 20 s.
    pub const QUICK: Plan = Plan {
        runs: 3,
        min_runs: 1,
        budget: Duration::from_secs(20),
    };
}

/// One way of doing the measured work: its name (for progress lines) and one run of it.
pub struct Variant<'a, S> {
    /// Shown in progress lines.
    pub name: String,
    /// Does the work once and returns what was measured.
    pub run: Box<dyn FnMut() -> Result<S> + 'a>,
}

impl<'a, S> Variant<'a, S> {
    /// A variant named `name` running `run`.
    pub fn new(name: impl Into<String>, run: impl FnMut() -> Result<S> + 'a) -> Variant<'a, S> {
        Variant {
            name: name.into(),
            run: Box::new(run),
        }
    }
}

/// Runs the variants round by round (one run of each per round) so that a change in the
/// machine's load hits every variant alike; returns the samples of each, in order.
///
/// A variant stops after `plan.runs` runs, or earlier once it has `plan.min_runs` and its
/// runs together took longer than `plan.budget`.
pub fn interleave<S>(plan: &Plan, variants: &mut [Variant<'_, S>]) -> Result<Vec<Vec<S>>> {
    let mut samples: Vec<Vec<S>> = variants.iter().map(|_| Vec::new()).collect();
    let mut spent = vec![Duration::ZERO; variants.len()];
    for round in 0..plan.runs.max(1) {
        for (i, variant) in variants.iter_mut().enumerate() {
            if round >= plan.min_runs.max(1) && spent[i] >= plan.budget {
                continue;
            }
            if crate::engine::interrupted() {
                bail!("interrupted");
            }
            let start = Instant::now();
            let sample = (variant.run)()?;
            let took = start.elapsed();
            spent[i] += took;
            samples[i].push(sample);
            eprintln!(
                "  {:<44} run {:>2}/{}  {:>9.1} ms",
                variant.name,
                round + 1,
                plan.runs,
                took.as_secs_f64() * 1e3
            );
        }
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    fn check(values: &[f64], expected: Expect) {
        expected.assert_eq(&format!("{:?}", Stats::of(values)));
    }

    #[test]
    fn median_of_an_odd_count_is_the_middle_value() {
        check(
            &[3.0, 1.0, 2.0],
            expect!["Some(Stats { median: 2.0, min: 1.0, max: 3.0, runs: 3 })"],
        );
    }

    #[test]
    fn median_of_an_even_count_is_the_mean_of_the_middle_two() {
        check(
            &[4.0, 1.0, 10.0, 2.0],
            expect!["Some(Stats { median: 3.0, min: 1.0, max: 10.0, runs: 4 })"],
        );
    }

    #[test]
    fn one_sample_is_its_own_median_min_and_max() {
        check(
            &[0.5],
            expect!["Some(Stats { median: 0.5, min: 0.5, max: 0.5, runs: 1 })"],
        );
    }

    #[test]
    fn no_samples_no_stats() {
        check(&[], expect!["None"]);
    }

    #[test]
    fn durations_become_seconds() {
        expect!["Some(Stats { median: 0.25, min: 0.25, max: 0.25, runs: 1 })"].assert_eq(&format!(
            "{:?}",
            Stats::of_durations(&[Duration::from_millis(250)])
        ));
    }

    /// Runs two variants that do nothing under `plan`; returns how often each ran. Budgets in
    /// these tests are zero or an hour, so the outcome never depends on the machine's speed.
    fn counted(plan: Plan) -> Vec<usize> {
        let mut counts = [0usize; 2];
        let [a, b] = &mut counts;
        let mut variants = vec![
            Variant::new("a", || {
                *a += 1;
                Ok(())
            }),
            Variant::new("b", || {
                *b += 1;
                Ok(())
            }),
        ];
        let samples = interleave(&plan, &mut variants).unwrap();
        drop(variants);
        assert_eq!(samples.iter().map(Vec::len).collect::<Vec<_>>(), counts);
        counts.to_vec()
    }

    #[test]
    fn every_variant_gets_the_planned_runs_within_budget() {
        let plan = Plan {
            runs: 4,
            min_runs: 2,
            budget: Duration::from_secs(3600),
        };
        expect!["[4, 4]"].assert_eq(&format!("{:?}", counted(plan)));
    }

    #[test]
    fn an_exhausted_budget_stops_a_variant_at_its_minimum_runs() {
        let plan = Plan {
            runs: 10,
            min_runs: 2,
            budget: Duration::ZERO,
        };
        expect!["[2, 2]"].assert_eq(&format!("{:?}", counted(plan)));
    }

    #[test]
    fn paired_differences_are_taken_round_by_round() {
        // The first series is slower in every round, by 1 to 3, while the rounds drift
        // by 100; the second has a fifth run with no pair, which moves its median (297
        // against 250) but not the pairs.
        let ours = [100.0, 200.0, 300.0, 400.0];
        let theirs = [99.0, 198.0, 297.0, 398.0, 500.0];
        check_paired(
            &ours,
            &theirs,
            expect!["Some(Stats { median: 2.0, min: 1.0, max: 3.0, runs: 4 })"],
        );
        check_paired(&[], &theirs, expect!["None"]);
    }

    fn check_paired(a: &[f64], b: &[f64], expected: Expect) {
        expected.assert_eq(&format!("{:?}", paired_differences(a, b)));
    }

    #[test]
    fn runs_asked_for_keep_the_full_plans_floor_and_budget_per_run() {
        let plans = [1, 3, 30].map(Plan::with_runs);
        expect![[r#"
            [
                Plan {
                    runs: 1,
                    min_runs: 1,
                    budget: 12s,
                },
                Plan {
                    runs: 3,
                    min_runs: 3,
                    budget: 36s,
                },
                Plan {
                    runs: 30,
                    min_runs: 3,
                    budget: 360s,
                },
            ]
        "#]]
        .assert_debug_eq(&plans);
    }

    #[test]
    fn runs_are_interleaved_round_by_round() {
        let order = std::cell::RefCell::new(String::new());
        let mut variants = vec![
            Variant::new("a", || {
                order.borrow_mut().push('a');
                Ok(())
            }),
            Variant::new("b", || {
                order.borrow_mut().push('b');
                Ok(())
            }),
        ];
        let plan = Plan {
            runs: 3,
            min_runs: 3,
            budget: Duration::from_secs(3600),
        };
        interleave(&plan, &mut variants).unwrap();
        drop(variants);
        expect!["ababab"].assert_eq(&order.into_inner());
    }
}
