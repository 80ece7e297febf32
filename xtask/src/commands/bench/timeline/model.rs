//! One boot on one axis: host milliseconds since QEMU was spawned, the kernel's log
//! moved onto it; the phases, the marks and the initcalls, and their terminal table.

use serde::{Deserialize, Serialize};

use super::kernel_log::KernelLog;

/// A named stretch of the boot, in milliseconds since QEMU was spawned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// What it is: a phase, an initcall's function, `initramfs unpacking`.
    pub name: String,
    /// When it started.
    pub start_ms: f64,
    /// When it ended.
    pub end_ms: f64,
}

impl Span {
    /// Its length in milliseconds.
    pub fn duration_ms(&self) -> f64 {
        self.end_ms - self.start_ms
    }
}

/// A moment of the boot: `first console byte`, `kernel clock 0`, `Run /init`, `prompt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// Its name.
    pub name: String,
    /// When, in milliseconds since QEMU was spawned.
    pub at_ms: f64,
}

/// One boot, attributed end to end (the `--timeline` JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// The board booted.
    pub board: String,
    /// When, RFC 3339, UTC.
    pub date: String,
    /// `/proc/loadavg` before the boot.
    pub load: Option<[f64; 3]>,
    /// KVM or TCG.
    pub accel: String,
    /// The kernel command line of this boot.
    pub cmdline: String,
    /// Back to back, QEMU start to the prompt.
    pub phases: Vec<Span>,
    /// The moments the phases are cut at, and the first console byte.
    pub marks: Vec<Mark>,
    /// Every initcall, and the initramfs unpacking when it ran as a background job.
    pub initcalls: Vec<Span>,
    /// Blocks of guest code TCG translated by the prompt (QEMU's `info jit`): the
    /// boot's cost in work, which the host's load does not stretch; `None` under KVM
    /// and in timelines written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcg_blocks: Option<u64>,
}

/// What the host saw of one boot, in seconds since QEMU was spawned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostTimes {
    /// The first byte on the console.
    pub first_byte: f64,
    /// The first byte of the shell's prompt.
    pub prompt: f64,
    /// Where the kernel's clock starts on the host's (`kernel_log::clock_offset`).
    pub kernel_zero: f64,
}

/// The name of the initramfs unpacking's row.
pub const UNPACK: &str = "initramfs unpacking (populate_rootfs)";

/// The phases and marks of a boot, from what the host saw and the kernel's log; an
/// error names what the log lacks.
pub fn attribute(host: HostTimes, log: &KernelLog) -> Result<(Vec<Span>, Vec<Mark>), String> {
    let ms = |guest: f64| (host.kernel_zero + guest) * 1e3;
    let first = log.initcalls.iter().map(|c| c.start).min_by(f64::total_cmp);
    let last = log
        .initcalls
        .iter()
        .map(|c| c.start + c.duration)
        .max_by(f64::total_cmp);
    let (Some(first), Some(last)) = (first, last) else {
        return Err("the kernel's log has no initcall lines (initcall_debug)".into());
    };
    let Some((_, run_init)) = log.run_init else {
        return Err("the kernel's log has no `Run <init> as init process` line".into());
    };
    let cuts = [
        0.0,
        ms(0.0),
        ms(first),
        ms(last).min(ms(run_init)),
        ms(run_init),
        host.prompt * 1e3,
    ];
    let names = [
        "QEMU start → kernel clock 0",
        "kernel, before the initcalls",
        "initcalls",
        "kernel, after the initcalls → Run /init",
        "Run /init → prompt",
    ];
    let phases = names
        .iter()
        .zip(cuts.windows(2))
        .map(|(name, w)| Span {
            name: name.to_string(),
            start_ms: w[0],
            end_ms: w[1],
        })
        .collect();
    let mark = |name: &str, at_ms: f64| Mark {
        name: name.into(),
        at_ms,
    };
    let marks = vec![
        mark("kernel clock 0", cuts[1]),
        mark("first console byte", host.first_byte * 1e3),
        mark("Run /init", cuts[4]),
        mark("prompt", cuts[5]),
    ];
    Ok((phases, marks))
}

/// The initcalls on the host's axis, and the unpacking when the log shows it.
pub fn initcall_spans(host: HostTimes, log: &KernelLog) -> Vec<Span> {
    let ms = |guest: f64| (host.kernel_zero + guest) * 1e3;
    let mut spans: Vec<Span> = log
        .initcalls
        .iter()
        .map(|c| Span {
            name: c.name.clone(),
            start_ms: ms(c.start),
            end_ms: ms(c.start + c.duration),
        })
        .collect();
    if let Some((start, end)) = log.unpack {
        spans.push(Span {
            name: UNPACK.into(),
            start_ms: ms(start),
            end_ms: ms(end),
        });
    }
    spans.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
    spans
}

impl Timeline {
    /// QEMU start to the prompt, in milliseconds.
    pub fn total_ms(&self) -> f64 {
        self.phases.last().map_or(0.0, |p| p.end_ms)
    }

    /// The `n` longest initcalls, longest first; equal ones in the order they ran.
    pub fn slowest(&self, n: usize) -> Vec<&Span> {
        let mut calls: Vec<&Span> = self.initcalls.iter().collect();
        calls.sort_by(|a, b| {
            b.duration_ms()
                .total_cmp(&a.duration_ms())
                .then(a.start_ms.total_cmp(&b.start_ms))
        });
        calls.truncate(n);
        calls
    }

    /// The terminal's table: the phases, the marks, then the `n` slowest initcalls.
    pub fn to_text(&self, n: usize) -> String {
        let mut out = format!(
            "boot timeline: {}, {}, {} (load {})\n{}\n\n{:<44} {:>9} {:>9} {:>10}\n",
            self.board,
            self.date,
            self.accel,
            load_text(self.load),
            self.cmdline,
            "phase",
            "start",
            "end",
            "duration"
        );
        for p in &self.phases {
            out += &format!(
                "{:<44} {:>9} {:>9} {:>10}\n",
                p.name,
                ms(p.start_ms),
                ms(p.end_ms),
                ms(p.duration_ms())
            );
        }
        out += &format!(
            "{:<44} {:>9} {:>9} {:>10}\n",
            "QEMU start → prompt",
            "",
            "",
            ms(self.total_ms())
        );
        for m in &self.marks {
            out += &format!("  {} at {}\n", m.name, ms(m.at_ms));
        }
        if let Some(blocks) = self.tcg_blocks {
            out += &format!("  TCG translated {blocks} blocks of guest code by the prompt\n");
        }
        out += &format!(
            "\n{} slowest initcalls\n{:<44} {:>9} {:>10}\n",
            n, "initcall", "start", "duration"
        );
        for c in self.slowest(n) {
            out += &format!(
                "{:<44} {:>9} {:>10}\n",
                c.name,
                ms(c.start_ms),
                ms(c.duration_ms())
            );
        }
        out
    }
}

/// `12.3 ms`.
pub fn ms(value: f64) -> String {
    format!("{value:.1} ms")
}

/// `2.10 / 3.40 / 2.70`, or `unknown`.
pub fn load_text(load: Option<[f64; 3]>) -> String {
    load.map_or("unknown".into(), |[a, b, c]| {
        format!("{a:.2} / {b:.2} / {c:.2}")
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::kernel_log::parse;
    use super::*;
    use expect_test::expect;

    /// A small boot: three initcalls, an unpacking, `Run /init`; the kernel's clock
    /// starting 100 ms after QEMU, the prompt at 400 ms.
    pub fn sample() -> Timeline {
        let log = parse(
            "[    0.010000] calling  early+0x0/0x4 @ 1\n\
             [    0.012000] initcall early+0x0/0x4 returned 0 after 2000 usecs\n\
             [    0.050000] calling  pl011_init+0x0/0x44 @ 1\n\
             [    0.120000] initcall pl011_init+0x0/0x44 returned 0 after 70000 usecs\n\
             [    0.130000] Trying to unpack rootfs image as initramfs...\n\
             [    0.130000] calling  inet_init+0x0/0x274 @ 1\n\
             [    0.160000] initcall inet_init+0x0/0x274 returned 0 after 30000 usecs\n\
             [    0.200000] Freeing initrd memory: 2188K\n\
             [    0.250000] Run /init as init process\n",
        );
        let host = HostTimes {
            first_byte: 0.3,
            prompt: 0.4,
            kernel_zero: 0.1,
        };
        let (phases, marks) = attribute(host, &log).unwrap();
        Timeline {
            board: "versatilepb".into(),
            date: "2026-12-02T13:00:00Z".into(),
            load: Some([1.0, 2.0, 3.0]),
            accel: "TCG".into(),
            cmdline: "console=ttyAMA0 quiet initcall_debug".into(),
            phases,
            marks,
            initcalls: initcall_spans(host, &log),
            tcg_blocks: Some(31188),
        }
    }

    #[test]
    fn the_table_of_phases_and_slowest_initcalls() {
        expect![[r#"
            boot timeline: versatilepb, 2026-12-02T13:00:00Z, TCG (load 1.00 / 2.00 / 3.00)
            console=ttyAMA0 quiet initcall_debug

            phase                                            start       end   duration
            QEMU start → kernel clock 0                     0.0 ms  100.0 ms   100.0 ms
            kernel, before the initcalls                  100.0 ms  110.0 ms    10.0 ms
            initcalls                                     110.0 ms  260.0 ms   150.0 ms
            kernel, after the initcalls → Run /init       260.0 ms  350.0 ms    90.0 ms
            Run /init → prompt                            350.0 ms  400.0 ms    50.0 ms
            QEMU start → prompt                                                400.0 ms
              kernel clock 0 at 100.0 ms
              first console byte at 300.0 ms
              Run /init at 350.0 ms
              prompt at 400.0 ms
              TCG translated 31188 blocks of guest code by the prompt

            2 slowest initcalls
            initcall                                         start   duration
            initramfs unpacking (populate_rootfs)         230.0 ms    70.0 ms
            pl011_init                                    150.0 ms    70.0 ms
        "#]]
        .assert_eq(&sample().to_text(2));
    }

    /// Every float a boot produces reads back from the JSON bit for bit: a value one
    /// unit in the last place off reorders equal initcalls in the slowest table.
    #[test]
    fn the_json_reads_back_bit_for_bit() {
        let mut t = sample();
        let mut at = 147.0;
        for i in 0..2000 {
            let start = at + f64::from(i) * 0.1 / 3.0 + 1e-9 * f64::from(i);
            t.initcalls.push(Span {
                name: format!("call_{i}"),
                start_ms: start,
                end_ms: start + (0.000_1 * f64::from(i % 7)).sqrt(),
            });
            at *= 1.000_000_3;
        }
        let text = serde_json::to_string_pretty(&t).unwrap();
        let read: Timeline = serde_json::from_str(&text).unwrap();
        assert!(
            read == t,
            "the timeline changed on its way through the JSON"
        );
        assert_eq!(read.to_text(15), t.to_text(15));
    }

    #[test]
    fn a_log_without_initcalls_or_run_init_is_an_error() {
        let host = HostTimes {
            first_byte: 0.0,
            prompt: 1.0,
            kernel_zero: 0.0,
        };
        let no_calls = parse("[    0.250000] Run /init as init process\n");
        assert_eq!(
            attribute(host, &no_calls).unwrap_err(),
            "the kernel's log has no initcall lines (initcall_debug)"
        );
        let no_init = parse(
            "[    0.010000] calling  early+0x0/0x4 @ 1\n\
             [    0.012000] initcall early+0x0/0x4 returned 0 after 2000 usecs\n",
        );
        assert_eq!(
            attribute(host, &no_init).unwrap_err(),
            "the kernel's log has no `Run <init> as init process` line"
        );
    }
}
