//! How long each phase of `cargo xtask test` took: one line at the end of the run.

use std::time::{Duration, Instant};

/// The phases in the order they ended, each with its wall time.
#[derive(Debug, Default)]
pub struct Phases {
    done: Vec<(String, Duration, bool)>,
}

impl Phases {
    /// Runs `work` as the phase `name`, timing it.
    pub fn time<T>(&mut self, name: impl Into<String>, work: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let result = work();
        self.done.push((name.into(), start.elapsed(), false));
        result
    }

    /// A phase timed elsewhere, which ran beside the others (a background build, one
    /// board's end-to-end suite among all of them).
    pub fn add_background(&mut self, name: impl Into<String>, took: Duration) {
        self.done.push((name.into(), took, true));
    }

    /// `time: lint 41.2s, build versatilepb 3.1s, ...; 312.0s in all`; a phase that ran
    /// beside the others is marked `(in parallel)`, so the phases may add up to more than
    /// the whole.
    pub fn render(&self, total: Duration) -> String {
        let phases: Vec<String> = self
            .done
            .iter()
            .map(|(name, took, background)| {
                let beside = if *background { " (in parallel)" } else { "" };
                format!("{name} {:.1}s{beside}", took.as_secs_f64())
            })
            .collect();
        let total = format!("{:.1}s in all", total.as_secs_f64());
        if phases.is_empty() {
            return format!("time: {total}");
        }
        format!("time: {}; {total}", phases.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::Phases;
    use expect_test::{expect, Expect};
    use std::time::Duration;

    fn check(phases: &[(&str, u64, bool)], total: u64, expect: Expect) {
        let mut timed = Phases::default();
        for &(name, millis, background) in phases {
            let took = Duration::from_millis(millis);
            if background {
                timed.add_background(name, took);
            } else {
                timed.done.push((name.to_string(), took, false));
            }
        }
        expect.assert_eq(&timed.render(Duration::from_millis(total)));
    }

    #[test]
    fn renders_each_phase_then_the_whole() {
        check(&[], 120, expect!["time: 0.1s in all"]);
        check(
            &[
                ("lint", 41_249, false),
                ("build versatilepb", 3_040, false),
                ("cargo test", 201_000, false),
                ("build x86_64", 290_400, true),
                ("e2e x86_64", 95_000, false),
            ],
            345_678,
            expect!["time: lint 41.2s, build versatilepb 3.0s, cargo test 201.0s, build x86_64 290.4s (in parallel), e2e x86_64 95.0s; 345.7s in all"],
        );
    }

    #[test]
    fn a_timed_phase_is_recorded_with_its_result() {
        let mut phases = Phases::default();
        assert_eq!(phases.time("lint", || 7), 7);
        assert!(phases.render(Duration::ZERO).starts_with("time: lint 0.0s"));
    }
}
