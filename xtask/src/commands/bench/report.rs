//! The benchmark's results: rows of "ours vs a baseline", rendered as a terminal table,
//! Markdown and JSON.

use serde::Serialize;

use super::samples::Stats;
use crate::render::human_size;

/// Everything one `cargo xtask bench` measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// When the run started, RFC 3339, UTC.
    pub date: String,
    /// The board whose outputs were measured.
    pub board: String,
    /// Runs wanted per variant (`--quick`: 3, else 10).
    pub runs: usize,
    /// How xtask (and so the kconfig and rootfs crates it times) was compiled.
    pub profile: String,
    /// The machine.
    pub host: Host,
    /// One per measured area, in the order they ran.
    pub sections: Vec<Section>,
}

/// The machine the figures come from.
#[derive(Debug, Clone, Serialize)]
pub struct Host {
    /// CPUs available to this process.
    pub cpus: usize,
    /// `/proc/loadavg`'s 1, 5 and 15 minute load averages when the run started.
    pub load_before: Option<[f64; 3]>,
    /// The same when it ended.
    pub load_after: Option<[f64; 3]>,
    /// First line of `qemu-system-* --version`.
    pub qemu: Option<String>,
}

/// One measured area (kconfig merge, pack, boot, no-op rebuild).
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// The `--only` name: `kconfig`, `pack`, `boot`, `noop`.
    pub name: String,
    /// A heading.
    pub title: String,
    /// The measurements.
    pub rows: Vec<Row>,
    /// What was measured and on which inputs, one sentence each.
    pub notes: Vec<String>,
}

/// A measured quantity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "unit", rename_all = "lowercase")]
pub enum Value {
    /// Wall time over several runs, in seconds.
    Seconds(Stats),
    /// A size.
    Bytes {
        /// Number of bytes.
        value: u64,
    },
    /// A count (redefinitions, archive entries).
    Count {
        /// The count.
        value: u64,
    },
}

/// What the issue asks of a row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// `baseline / ours` at least this (faster, or smaller).
    RatioAtLeast {
        /// The least ratio.
        ratio: f64,
    },
    /// `ours - baseline` at most this many seconds.
    DeltaAtMost {
        /// The largest difference, in seconds.
        seconds: f64,
    },
    /// Our median at most this many seconds.
    OursAtMost {
        /// The largest median, in seconds.
        seconds: f64,
    },
    /// Our size at most this many bytes.
    BytesAtMost {
        /// The largest size.
        bytes: u64,
    },
}

/// The thing compared against.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    /// The tool or setup, e.g. `merge_config.sh -m`.
    pub tool: String,
    /// What it measured.
    pub value: Value,
}

/// One line of the table: ours, the baseline, and how they compare.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// What is measured.
    pub measure: String,
    /// Our figure.
    pub ours: Value,
    /// The baseline's figure, if the row has one.
    pub baseline: Option<Baseline>,
    /// `baseline / ours` (medians): above 1 means ours is faster or smaller.
    pub ratio: Option<f64>,
    /// `ours - baseline` (medians), in the value's unit.
    pub delta: Option<f64>,
    /// What the issue asks, if anything.
    pub target: Option<Target>,
    /// Whether `target` is met.
    pub met: Option<bool>,
}

impl Value {
    /// The figure compared between rows: the median for times.
    pub fn central(&self) -> f64 {
        match self {
            Value::Seconds(stats) => stats.median,
            Value::Bytes { value } | Value::Count { value } => *value as f64,
        }
    }
}

impl Row {
    /// A figure with nothing to compare it to.
    pub fn single(measure: impl Into<String>, ours: Value) -> Row {
        Row {
            measure: measure.into(),
            ours,
            baseline: None,
            ratio: None,
            delta: None,
            target: None,
            met: None,
        }
    }

    /// Ours against `tool`'s figure.
    pub fn compare(
        measure: impl Into<String>,
        ours: Value,
        tool: impl Into<String>,
        baseline: Value,
    ) -> Row {
        let (o, b) = (ours.central(), baseline.central());
        let ratio = match ours {
            Value::Count { .. } => None,
            _ if o > 0.0 => Some(b / o),
            _ => None,
        };
        Row {
            measure: measure.into(),
            ours,
            baseline: Some(Baseline {
                tool: tool.into(),
                value: baseline,
            }),
            ratio,
            delta: Some(o - b),
            target: None,
            met: None,
        }
    }

    /// Adds what the issue asks of this row.
    pub fn with_target(mut self, target: Target) -> Row {
        self.met = match target {
            Target::RatioAtLeast { ratio } => self.ratio.map(|r| r >= ratio),
            Target::DeltaAtMost { seconds } => self.delta.map(|d| d <= seconds),
            Target::OursAtMost { seconds } => Some(self.ours.central() <= seconds),
            Target::BytesAtMost { bytes } => Some(self.ours.central() <= bytes as f64),
        };
        self.target = Some(target);
        self
    }
}

/// Table columns.
const HEADERS: [&str; 6] = [
    "measure",
    "ours",
    "baseline",
    "ratio",
    "Δ ours-base",
    "target",
];

impl Row {
    fn cells(&self) -> [String; 6] {
        let baseline = self
            .baseline
            .as_ref()
            .map(|b| format!("{}: {}", b.tool, value(&b.value)))
            .unwrap_or_default();
        let ratio = self.ratio.map(ratio).unwrap_or_default();
        let delta = match (self.delta, &self.ours) {
            (Some(d), Value::Seconds(_)) => signed(d, seconds),
            (Some(d), Value::Bytes { .. }) => signed(d, |b| human_size(b as u64)),
            (Some(d), Value::Count { .. }) => signed(d, |c| format!("{c}")),
            (None, _) => String::new(),
        };
        let target = match (self.target, self.met) {
            (Some(target), Some(met)) => {
                format!("{}: {}", describe(target), if met { "yes" } else { "NO" })
            }
            (Some(target), None) => describe(target),
            _ => String::new(),
        };
        [
            self.measure.clone(),
            value(&self.ours),
            baseline,
            ratio,
            delta,
            target,
        ]
    }
}

fn describe(target: Target) -> String {
    match target {
        Target::RatioAtLeast { ratio: r } => format!("≥ {}", ratio(r)),
        Target::DeltaAtMost { seconds: s } => format!("Δ ≤ {}", seconds(s)),
        Target::OursAtMost { seconds: s } => format!("≤ {}", seconds(s)),
        Target::BytesAtMost { bytes } => format!("≤ {}", human_size(bytes)),
    }
}

/// `12.3 ms (11.9–13.0, n=10)`, `1263456 B (1.2 MiB)`, `42`.
fn value(value: &Value) -> String {
    match value {
        Value::Seconds(s) => {
            let (scale, unit) = time_unit(s.median);
            format!(
                "{} {unit} ({}–{}, n={})",
                three_digits(s.median * scale),
                three_digits(s.min * scale),
                three_digits(s.max * scale),
                s.runs
            )
        }
        Value::Bytes { value } => format!("{value} B ({})", human_size(*value)),
        Value::Count { value } => value.to_string(),
    }
}

/// The unit a time reads best in: its scale from seconds and its symbol.
fn time_unit(secs: f64) -> (f64, &'static str) {
    let secs = secs.abs();
    if secs < 1e-3 {
        (1e6, "µs")
    } else if secs < 1.0 {
        (1e3, "ms")
    } else {
        (1.0, "s")
    }
}

fn seconds(secs: f64) -> String {
    let (scale, unit) = time_unit(secs);
    format!("{} {unit}", three_digits(secs * scale))
}

/// About three significant digits, never in exponent form.
fn three_digits(x: f64) -> String {
    match x.abs() {
        a if a >= 100.0 => format!("{x:.0}"),
        a if a >= 10.0 => format!("{x:.1}"),
        _ => format!("{x:.2}"),
    }
}

fn ratio(r: f64) -> String {
    format!("{}x", three_digits(r))
}

fn signed(x: f64, show: impl Fn(f64) -> String) -> String {
    let sign = if x < 0.0 { "-" } else { "+" };
    format!("{sign}{}", show(x.abs()))
}

impl Report {
    /// The terminal table: one block per section.
    pub fn to_text(&self) -> String {
        let mut out = self.header_lines().join("\n");
        out.push('\n');
        for section in &self.sections {
            out.push_str(&format!("\n== {} ==\n", section.title));
            let rows: Vec<[String; 6]> = section.rows.iter().map(Row::cells).collect();
            out.push_str(&aligned(&rows));
        }
        out
    }

    /// The same as Markdown: a heading, the run's conditions, and a table and notes per section.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("# minilinux benchmark\n\n");
        for line in self.header_lines() {
            out.push_str(&format!("- {line}\n"));
        }
        for section in &self.sections {
            out.push_str(&format!("\n## {}\n\n", section.title));
            out.push_str(&markdown_row(&HEADERS.map(String::from)));
            out.push_str(&markdown_row(&HEADERS.map(|_| "---".to_string())));
            for row in &section.rows {
                out.push_str(&markdown_row(&row.cells()));
            }
            if !section.notes.is_empty() {
                out.push('\n');
            }
            for note in &section.notes {
                out.push_str(&format!("- {note}\n"));
            }
        }
        out
    }

    /// Pretty-printed JSON of the whole report.
    pub fn to_json(&self) -> String {
        let mut json = serde_json::to_string_pretty(self).unwrap_or_else(|e| {
            // Only non-finite floats fail, and serde_json writes those as null anyway.
            format!("{{\"error\": \"{e}\"}}")
        });
        json.push('\n');
        json
    }

    fn header_lines(&self) -> Vec<String> {
        let load = |l: Option<[f64; 3]>| {
            l.map(|[a, b, c]| format!("{a:.2} {b:.2} {c:.2}"))
                .unwrap_or_else(|| "unknown".into())
        };
        let mut lines = vec![
            format!(
                "{} on board {}, {} runs per variant (median, min–max)",
                self.date, self.board, self.runs
            ),
            format!("xtask built with the {} profile", self.profile),
            format!(
                "{} CPUs, load average (1/5/15 min) {} before, {} after",
                self.host.cpus,
                load(self.host.load_before),
                load(self.host.load_after)
            ),
        ];
        if let Some(qemu) = &self.host.qemu {
            lines.push(qemu.clone());
        }
        lines.push(
            "ratio = baseline / ours (above 1: ours is faster or smaller); Δ = ours - baseline"
                .into(),
        );
        lines
    }
}

fn aligned(rows: &[[String; 6]]) -> String {
    let header = HEADERS.map(String::from);
    let all: Vec<&[String; 6]> = std::iter::once(&header).chain(rows).collect();
    let widths: Vec<usize> = (0..HEADERS.len())
        .map(|c| all.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in all {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn markdown_row(cells: &[String; 6]) -> String {
    let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
    format!("| {} |\n", cells.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn secs(values: &[f64]) -> Value {
        Value::Seconds(Stats::of(values).unwrap())
    }

    fn sample() -> Report {
        Report {
            date: "2024-01-02T03:04:05Z".into(),
            board: "versatilepb".into(),
            runs: 3,
            profile: "dev".into(),
            host: Host {
                cpus: 2,
                load_before: Some([1.5, 2.25, 3.0]),
                load_after: None,
                qemu: Some("QEMU emulator version 10.0.2".into()),
            },
            sections: vec![
                Section {
                    name: "kconfig".into(),
                    title: "kconfig merge".into(),
                    rows: vec![
                        Row::compare(
                            "merge allyesconfig",
                            secs(&[0.004, 0.005, 0.006]),
                            "merge_config.sh -m",
                            secs(&[34.0, 35.5, 36.0]),
                        )
                        .with_target(Target::RatioAtLeast { ratio: 1000.0 }),
                        Row::compare(
                            "redefinitions",
                            Value::Count { value: 12 },
                            "merge_config.sh -m",
                            Value::Count { value: 12 },
                        ),
                    ],
                    notes: vec!["base: the board's .config".into()],
                },
                Section {
                    name: "boot".into(),
                    title: "boot".into(),
                    rows: vec![
                        Row::compare(
                            "Run /init to prompt",
                            secs(&[0.0601, 0.07]),
                            "rdinit=/bin/sh",
                            secs(&[0.04, 0.05]),
                        )
                        .with_target(Target::DeltaAtMost { seconds: 0.015 }),
                        Row::compare(
                            "initramfs",
                            Value::Bytes { value: 1_300_000 },
                            "find | cpio | gzip -9",
                            Value::Bytes { value: 1_400_000 },
                        )
                        .with_target(Target::RatioAtLeast { ratio: 1.0 }),
                        Row::single("init binary", Value::Bytes { value: 41_000 })
                            .with_target(Target::BytesAtMost { bytes: 64 * 1024 }),
                        Row::single("no-op", secs(&[0.0004]))
                            .with_target(Target::OursAtMost { seconds: 0.5 }),
                    ],
                    notes: vec![],
                },
            ],
        }
    }

    #[test]
    fn text_table_aligns_columns_and_marks_targets() {
        expect![[r#"
            2024-01-02T03:04:05Z on board versatilepb, 3 runs per variant (median, min–max)
            xtask built with the dev profile
            2 CPUs, load average (1/5/15 min) 1.50 2.25 3.00 before, unknown after
            QEMU emulator version 10.0.2
            ratio = baseline / ours (above 1: ours is faster or smaller); Δ = ours - baseline

            == kconfig merge ==
            measure             ours                      baseline                                     ratio  Δ ours-base  target
            merge allyesconfig  5.00 ms (4.00–6.00, n=3)  merge_config.sh -m: 35.5 s (34.0–36.0, n=3)  7100x  -35.5 s      ≥ 1000x: yes
            redefinitions       12                        merge_config.sh -m: 12                              +0

            == boot ==
            measure              ours                      baseline                                    ratio  Δ ours-base  target
            Run /init to prompt  65.0 ms (60.1–70.0, n=2)  rdinit=/bin/sh: 45.0 ms (40.0–50.0, n=2)    0.69x  +20.0 ms     Δ ≤ 15.0 ms: NO
            initramfs            1300000 B (1.2 MiB)       find | cpio | gzip -9: 1400000 B (1.3 MiB)  1.08x  -97.7 KiB    ≥ 1.00x: yes
            init binary          41000 B (40.0 KiB)                                                                        ≤ 64.0 KiB: yes
            no-op                400 µs (400–400, n=1)                                                                     ≤ 500 ms: yes
        "#]]
        .assert_eq(&sample().to_text());
    }

    #[test]
    fn markdown_escapes_pipes_in_tool_names() {
        expect![[r#"
            # minilinux benchmark

            - 2024-01-02T03:04:05Z on board versatilepb, 3 runs per variant (median, min–max)
            - xtask built with the dev profile
            - 2 CPUs, load average (1/5/15 min) 1.50 2.25 3.00 before, unknown after
            - QEMU emulator version 10.0.2
            - ratio = baseline / ours (above 1: ours is faster or smaller); Δ = ours - baseline

            ## kconfig merge

            | measure | ours | baseline | ratio | Δ ours-base | target |
            | --- | --- | --- | --- | --- | --- |
            | merge allyesconfig | 5.00 ms (4.00–6.00, n=3) | merge_config.sh -m: 35.5 s (34.0–36.0, n=3) | 7100x | -35.5 s | ≥ 1000x: yes |
            | redefinitions | 12 | merge_config.sh -m: 12 |  | +0 |  |

            - base: the board's .config

            ## boot

            | measure | ours | baseline | ratio | Δ ours-base | target |
            | --- | --- | --- | --- | --- | --- |
            | Run /init to prompt | 65.0 ms (60.1–70.0, n=2) | rdinit=/bin/sh: 45.0 ms (40.0–50.0, n=2) | 0.69x | +20.0 ms | Δ ≤ 15.0 ms: NO |
            | initramfs | 1300000 B (1.2 MiB) | find \| cpio \| gzip -9: 1400000 B (1.3 MiB) | 1.08x | -97.7 KiB | ≥ 1.00x: yes |
            | init binary | 41000 B (40.0 KiB) |  |  |  | ≤ 64.0 KiB: yes |
            | no-op | 400 µs (400–400, n=1) |  |  |  | ≤ 500 ms: yes |
        "#]]
        .assert_eq(&sample().to_markdown());
    }

    #[test]
    fn json_carries_units_ratios_and_targets() {
        let mut report = sample();
        report.sections.truncate(1);
        report.sections[0].rows.truncate(1);
        expect![[r#"
            {
              "date": "2024-01-02T03:04:05Z",
              "board": "versatilepb",
              "runs": 3,
              "profile": "dev",
              "host": {
                "cpus": 2,
                "load_before": [
                  1.5,
                  2.25,
                  3.0
                ],
                "load_after": null,
                "qemu": "QEMU emulator version 10.0.2"
              },
              "sections": [
                {
                  "name": "kconfig",
                  "title": "kconfig merge",
                  "rows": [
                    {
                      "measure": "merge allyesconfig",
                      "ours": {
                        "unit": "seconds",
                        "median": 0.005,
                        "min": 0.004,
                        "max": 0.006,
                        "runs": 3
                      },
                      "baseline": {
                        "tool": "merge_config.sh -m",
                        "value": {
                          "unit": "seconds",
                          "median": 35.5,
                          "min": 34.0,
                          "max": 36.0,
                          "runs": 3
                        }
                      },
                      "ratio": 7100.0,
                      "delta": -35.495,
                      "target": {
                        "kind": "ratio_at_least",
                        "ratio": 1000.0
                      },
                      "met": true
                    }
                  ],
                  "notes": [
                    "base: the board's .config"
                  ]
                }
              ]
            }
        "#]]
        .assert_eq(&report.to_json());
    }
}
