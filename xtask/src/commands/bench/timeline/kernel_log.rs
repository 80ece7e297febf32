//! The kernel's log, as `dmesg` prints it with `printk.time=1` and `initcall_debug`:
//! each initcall's start and duration, the initramfs unpacking, `Run /init`, on the
//! kernel's clock (seconds since it started).

use regex::Regex;
use std::collections::HashMap;
use std::sync::LazyLock;

/// One line: `[    0.276766] text`, after an optional `<6>` syslog level.
static LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:<\d+>)?\[\s*(\d+\.\d+)\]\s?(.*?)\r?$").unwrap());
/// `calling  name+0x0/0x50 @ 1` (the name with or without its offset and ` [module]`).
static CALLING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^calling  (\S+?)(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?(?: \[\S+\])? @ \d+$").unwrap()
});
/// `initcall name+0x0/0x50 returned 0 after 1234 usecs`.
static RETURNED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^initcall (\S+?)(?:\+0x[0-9a-f]+/0x[0-9a-f]+)?(?: \[\S+\])? returned (-?\d+) after (\d+) usecs$",
    )
    .unwrap()
});
/// `Run /init as init process`.
static RUN_INIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^Run (\S+) as init process$").unwrap());

/// What the first line of the initramfs's unpacking says (`populate_rootfs`, often as
/// a background job that no initcall line covers).
const UNPACK_START: &str = "Trying to unpack rootfs image as initramfs...";
/// What its last line starts with.
const UNPACK_END: &str = "Freeing initrd memory";

/// One initcall, on the kernel's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Initcall {
    /// The function's name, without its offset (`pl011_init`).
    pub name: String,
    /// When it was called, in seconds.
    pub start: f64,
    /// How long it ran, in seconds: between its `calling` and `initcall` lines, else
    /// what the `initcall` line says.
    pub duration: f64,
    /// What it returned (0, or an error number such as -19).
    pub returned: i64,
}

/// What the kernel's log says about the boot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KernelLog {
    /// Every initcall with its `initcall ... returned` line, in the order they returned.
    pub initcalls: Vec<Initcall>,
    /// The initramfs's unpacking: (start, end) in seconds, when the log shows both ends.
    pub unpack: Option<(f64, f64)>,
    /// `Run <init> as init process`: the init program and when.
    pub run_init: Option<(String, f64)>,
    /// Lines with a time stamp.
    pub lines: usize,
}

/// Reads a kernel log; lines without a time stamp (a shell's echo, a wrapped line) are
/// skipped.
pub fn parse(text: &str) -> KernelLog {
    let mut log = KernelLog::default();
    let mut calling: HashMap<String, f64> = HashMap::new();
    let mut unpack_start = None;
    for line in text.lines() {
        let Some(caps) = LINE.captures(line) else {
            continue;
        };
        let Ok(at) = caps[1].parse::<f64>() else {
            continue;
        };
        let message = caps.get(2).map_or("", |m| m.as_str());
        log.lines += 1;
        if let Some(c) = CALLING.captures(message) {
            calling.insert(c[1].to_string(), at);
        } else if let Some(c) = RETURNED.captures(message) {
            let name = c[1].to_string();
            let reported = c[3].parse::<f64>().unwrap_or(0.0) / 1e6;
            let (start, duration) = match calling.remove(&name) {
                Some(start) => (start, at - start),
                None => (at - reported, reported),
            };
            log.initcalls.push(Initcall {
                name,
                start,
                duration,
                returned: c[2].parse().unwrap_or(0),
            });
        } else if let Some(c) = RUN_INIT.captures(message) {
            log.run_init.get_or_insert((c[1].to_string(), at));
        } else if message == UNPACK_START {
            unpack_start = Some(at);
        } else if message.starts_with(UNPACK_END) {
            log.unpack = unpack_start.map(|start| (start, at));
        }
    }
    log
}

/// The kernel's time stamp on a console line such as `[    3.012345] mark`, in seconds.
pub fn stamp(line: &str) -> Option<f64> {
    LINE.captures(line.trim_start_matches(['\r', '\n']))?[1]
        .parse()
        .ok()
}

/// Where the kernel's clock starts on the host's: each pair is (host time a line
/// arrived, its time stamp), in seconds. A line arrives after it is stamped, so the
/// least difference is the best estimate. `None` without pairs.
pub fn clock_offset(pairs: &[(f64, f64)]) -> Option<f64> {
    pairs
        .iter()
        .map(|(host, guest)| host - guest)
        .min_by(f64::total_cmp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    fn check(log: &str, expect: Expect) {
        let parsed = parse(log);
        let mut out = String::new();
        for call in &parsed.initcalls {
            out += &format!(
                "{} at {:.6} for {:.6} returned {}\n",
                call.name, call.start, call.duration, call.returned
            );
        }
        out += &format!(
            "unpack {:?}, run_init {:?}, lines {}",
            parsed.unpack, parsed.run_init, parsed.lines
        );
        expect.assert_eq(&out);
    }

    #[test]
    fn an_initcall_lasts_from_its_calling_line_to_its_returned_line() {
        check(
            "[    0.277366] calling  cpu_suspend_alloc_sp+0x0/0x7c @ 1\n\
             [    0.277437] initcall cpu_suspend_alloc_sp+0x0/0x7c returned 0 after 0 usecs\n",
            expect![[r#"
                cpu_suspend_alloc_sp at 0.277366 for 0.000071 returned 0
                unpack None, run_init None, lines 2"#]],
        );
    }

    #[test]
    fn without_its_calling_line_the_reported_usecs_place_it() {
        check(
            "[    3.367526] initcall physmap_init+0x0/0x10 returned 0 after 243845 usecs\n",
            expect![[r#"
                physmap_init at 3.123681 for 0.243845 returned 0
                unpack None, run_init None, lines 1"#]],
        );
    }

    #[test]
    fn nested_and_failing_initcalls_module_names_and_levels() {
        check(
            "<6>[    1.000000] calling  outer+0x0/0x10 @ 1\r\n\
             <6>[    1.100000] calling  inner+0x0/0x20 [mod] @ 1\r\n\
             <6>[    1.150000] some driver says hello\r\n\
             <6>[    1.200000] initcall inner+0x0/0x20 [mod] returned -19 after 99999 usecs\r\n\
             <6>[    1.500000] initcall outer+0x0/0x10 returned 0 after 500000 usecs\r\n",
            expect![[r#"
                inner at 1.100000 for 0.100000 returned -19
                outer at 1.000000 for 0.500000 returned 0
                unpack None, run_init None, lines 5"#]],
        );
    }

    #[test]
    fn the_unpacking_and_run_init_and_lines_without_a_stamp() {
        check(
            "/ # dmesg\n\
             [    0.000000] Booting Linux on physical CPU 0x0\n\
             [    2.285377] Trying to unpack rootfs image as initramfs...\n\
             [    3.321878] Freeing initrd memory: 2188K\n\
             [    3.783139] Run /init as init process\n\
             [    3.783247]   with arguments:\n\
             [    3.900000] Run /sbin/init as init process\n\
             minilinux init: up 2.93 s\n\
             [ 3.9x] not a stamp\n",
            expect![[r#"
                unpack Some((2.285377, 3.321878)), run_init Some(("/init", 3.783139)), lines 6"#]],
        );
    }

    #[test]
    fn stamps_and_the_clock_offset() {
        assert_eq!(stamp("\r\n[    3.012345] mark0"), Some(3.012345));
        assert_eq!(stamp("mark0"), None);
        assert_eq!(
            clock_offset(&[(5.0, 3.0), (5.5, 3.75), (6.0, 3.0)]),
            Some(1.75)
        );
        assert_eq!(clock_offset(&[]), None);
    }
}
