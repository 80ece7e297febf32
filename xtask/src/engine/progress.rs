//! What the user sees of stages: a progress line while one runs, a report when it ends,
//! and the table of reports at the end of a run.

use camino::Utf8PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use crate::layout::display_path;
use crate::render::human_size;

/// How a stage ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The stage ran and succeeded.
    Done,
    /// The inputs were unchanged: nothing ran.
    Skipped,
    /// The stage failed.
    Failed,
}

/// One line of the end-of-run summary.
#[derive(Debug, Clone)]
pub struct Report {
    /// Stage name.
    pub stage: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Wall time.
    pub elapsed: Duration,
    /// Main output, if any.
    pub output: Option<Utf8PathBuf>,
}

/// Prints the end-of-run table: stage, outcome, time, output and its size.
pub fn print_summary(reports: &[Report]) {
    if reports.is_empty() {
        return;
    }
    eprintln!();
    eprintln!("{:<18} {:<8} {:>8}  output", "stage", "result", "time");
    for r in reports {
        let outcome = match r.outcome {
            Outcome::Done => "done",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "FAILED",
        };
        let output = match &r.output {
            Some(p) => {
                let size = std::fs::metadata(p)
                    .map(|m| human_size(m.len()))
                    .unwrap_or_default();
                format!("{} {size}", display_path(p))
            }
            None => String::new(),
        };
        eprintln!(
            "{:<18} {:<8} {:>7.1}s  {}",
            r.stage,
            outcome,
            r.elapsed.as_secs_f64(),
            output
        );
    }
}

/// Every spinner on the terminal: stages that run at once (the kernel, busybox and init
/// builds) each keep their own line, and lines printed above them do not tear them.
static SPINNERS: LazyLock<indicatif::MultiProgress> = LazyLock::new(indicatif::MultiProgress::new);

/// The per-stage progress line: a spinner with elapsed time on a terminal, plain lines elsewhere.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// Shows `[name] started`, and a spinner on a terminal unless `verbose`.
    pub fn start(name: &str, verbose: bool) -> Progress {
        use std::io::IsTerminal;
        if verbose || !std::io::stderr().is_terminal() {
            eprintln!("[{name}] started");
            return Progress { bar: None };
        }
        let bar = SPINNERS.add(indicatif::ProgressBar::new_spinner());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{prefix}] {elapsed:>4} {wide_msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_prefix(name.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }

    /// What the stage does now, next to the spinner.
    pub fn set(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_string());
        }
    }

    /// A line above the spinner.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Removes the spinner and prints how the stage ended and how long it took.
    pub fn finish(&self, name: &str, outcome: Outcome, elapsed: Duration) {
        let word = match outcome {
            Outcome::Done => "done",
            Outcome::Skipped => "up to date",
            Outcome::Failed => "failed",
        };
        let line = format!("[{name}] {word} in {:.1}s", elapsed.as_secs_f64());
        match &self.bar {
            Some(bar) => {
                bar.finish_and_clear();
                SPINNERS.remove(bar);
                // Above any other stage's spinner, which is redrawn after it.
                SPINNERS.suspend(|| eprintln!("{line}"));
            }
            None => eprintln!("{line}"),
        }
    }
}
