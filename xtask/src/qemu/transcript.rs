//! Reading the guest's serial console: splitting it into lines and spotting
//! the lines that matter (init's banner and status line, a kernel panic).

/// Start of the line init prints once it runs (see docs/init.md).
pub const BANNER: &str = "minilinux init:";
/// What the kernel prints when it panics (kernel/panic.c).
pub const PANIC: &str = "Kernel panic - not syncing";
/// The last line of a panic report.
pub const PANIC_END: &str = "---[ end Kernel panic - not syncing";

/// How the guest's command ended, as init's status line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestStatus {
    /// `init: exit status N`.
    Exited(i32),
    /// `init: killed by signal N`.
    Killed(i32),
}

impl GuestStatus {
    /// The exit code a shell would give: the status, or 128 + the signal.
    pub fn exit_code(self) -> u8 {
        let code = match self {
            GuestStatus::Exited(n) => n,
            GuestStatus::Killed(n) => 128 + n,
        };
        u8::try_from(code).unwrap_or(u8::MAX)
    }
}

impl std::fmt::Display for GuestStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GuestStatus::Exited(n) => write!(f, "exit status {n}"),
            GuestStatus::Killed(n) => write!(f, "killed by signal {n}"),
        }
    }
}

/// What one console line means to the runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEvent {
    /// init's banner: the kernel's boot messages are over.
    Banner,
    /// init's status line; `output` is what the command printed on the same
    /// line before it (a last line without a newline).
    Status {
        /// The command's unterminated last output, often empty.
        output: String,
        /// How the command ended.
        status: GuestStatus,
    },
    /// The first line of a kernel panic.
    Panic,
    /// The last line of a kernel panic report.
    PanicEnd,
}

/// Classifies one console line (without its line ending).
pub fn classify(line: &str) -> Option<LineEvent> {
    let line = line.trim_end();
    if line.contains(PANIC_END) {
        return Some(LineEvent::PanicEnd);
    }
    if line.contains(PANIC) {
        return Some(LineEvent::Panic);
    }
    if line.trim_start().starts_with(BANNER) {
        return Some(LineEvent::Banner);
    }
    status_line(line).map(|(output, status)| LineEvent::Status {
        output: output.to_string(),
        status,
    })
}

/// Whether a line is a kernel message with a `CONFIG_PRINTK_TIME` stamp,
/// `[    3.070925] ...`: the kernel prints these on the console at any time,
/// also while the guest's command runs.
pub fn is_kernel_message(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let Some((stamp, text)) = rest.split_once(']') else {
        return false;
    };
    if !(text.is_empty() || text.starts_with(' ')) {
        return false;
    }
    let stamp = stamp.trim_start();
    match stamp.split_once('.') {
        Some((secs, micros)) => {
            !secs.is_empty()
                && !micros.is_empty()
                && secs
                    .bytes()
                    .chain(micros.bytes())
                    .all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// Splits `...init: exit status N` into the text before it and the status.
fn status_line(line: &str) -> Option<(&str, GuestStatus)> {
    let at = line.rfind("init: ")?;
    let (before, marker) = line.split_at(at);
    let rest = &marker["init: ".len()..];
    let number = |s: &str| -> Option<i32> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    if let Some(n) = rest.strip_prefix("exit status ").and_then(number) {
        return Some((before, GuestStatus::Exited(n)));
    }
    if let Some(n) = rest.strip_prefix("killed by signal ").and_then(number) {
        return Some((before, GuestStatus::Killed(n)));
    }
    None
}

/// Turns console bytes, arriving in arbitrary chunks, into lines; keeps the
/// whole console for reports.
#[derive(Debug, Default, Clone)]
pub struct LineSplitter {
    partial: Vec<u8>,
    console: Vec<u8>,
}

impl LineSplitter {
    /// Feeds a chunk; returns the lines it completed, without `\r\n` or `\n`.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Vec<u8>> {
        self.console.extend_from_slice(chunk);
        self.partial.extend_from_slice(chunk);
        let mut lines = Vec::new();
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.partial.drain(..=end).collect();
            line.pop();
            while line.last() == Some(&b'\r') {
                line.pop();
            }
            lines.push(line);
        }
        lines
    }

    /// The unterminated end of the console.
    #[cfg(test)]
    pub fn partial(&self) -> &[u8] {
        &self.partial
    }

    /// Everything seen so far, with `\r\n` turned into `\n`.
    pub fn console(&self) -> String {
        String::from_utf8_lossy(&self.console)
            .replace("\r\n", "\n")
            .replace('\r', "")
    }
}

/// The last `n` lines of a console text.
pub fn last_lines(console: &str, n: usize) -> String {
    let lines: Vec<&str> = console.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    #[test]
    fn kernel_messages_are_told_by_their_time_stamp() {
        let lines = [
            "[    3.070925] input: ImExPS/2 Generic Explorer Mouse",
            "[12345.000001] reboot: Restarting system",
            "[    2.044712] ",
            "[ 1.5] x",
            "[    3.07]no space after",
            "[    2.044712]",
            "[3] no fraction",
            "[a.b] letters",
            "[] empty",
            "plain output [    3.070925] later",
        ];
        let shown: Vec<String> = lines
            .iter()
            .map(|l| format!("{} {l}", is_kernel_message(l)))
            .collect();
        expect![[r#"
            true [    3.070925] input: ImExPS/2 Generic Explorer Mouse
            true [12345.000001] reboot: Restarting system
            true [    2.044712] 
            true [ 1.5] x
            false [    3.07]no space after
            true [    2.044712]
            false [3] no fraction
            false [a.b] letters
            false [] empty
            false plain output [    3.070925] later"#]]
        .assert_eq(&shown.join("\n"));
    }

    /// Feeds a transcript in chunks of `chunk` bytes and shows each line's event.
    fn check(transcript: &str, chunk: usize, expect: Expect) {
        let mut splitter = LineSplitter::default();
        let mut shown = String::new();
        for piece in transcript.as_bytes().chunks(chunk) {
            for line in splitter.push(piece) {
                let line = String::from_utf8_lossy(&line).into_owned();
                match classify(&line) {
                    Some(event) => shown.push_str(&format!("{line:?} -> {event:?}\n")),
                    None => shown.push_str(&format!("{line:?}\n")),
                }
            }
        }
        shown.push_str(&format!(
            "partial: {:?}",
            String::from_utf8_lossy(splitter.partial())
        ));
        expect.assert_eq(&shown);
    }

    #[test]
    fn exec_run_is_banner_output_status() {
        check(
            "Booting Linux on physical CPU 0x0\r\nRun /init as init process\r\n\
             minilinux init: up in 1.02 s\r\nLinux (none) 6.1.0 armv5tejl\r\n\
             init: exit status 0\r\nreboot: Restarting system\r\n",
            7,
            expect![[r#"
                "Booting Linux on physical CPU 0x0"
                "Run /init as init process"
                "minilinux init: up in 1.02 s" -> Banner
                "Linux (none) 6.1.0 armv5tejl"
                "init: exit status 0" -> Status { output: "", status: Exited(0) }
                "reboot: Restarting system"
                partial: """#]],
        );
    }

    #[test]
    fn status_after_output_without_newline() {
        check(
            "minilinux init: up\r\nno newlineinit: exit status 3\r\ninit: killed by signal 9\r\n",
            1,
            expect![[r#"
                "minilinux init: up" -> Banner
                "no newlineinit: exit status 3" -> Status { output: "no newline", status: Exited(3) }
                "init: killed by signal 9" -> Status { output: "", status: Killed(9) }
                partial: """#]],
        );
    }

    #[test]
    fn near_misses_are_plain_lines() {
        check(
            "init: exit status\r\ninit: exit status 3x\r\ninit: exit status -1\r\n\
             init: cannot mount /proc\r\n  minilinux init: indented banner\r\nprompt # ",
            64,
            expect![[r#"
                "init: exit status"
                "init: exit status 3x"
                "init: exit status -1"
                "init: cannot mount /proc"
                "  minilinux init: indented banner" -> Banner
                partial: "prompt # ""#]],
        );
    }

    #[test]
    fn kernel_panic_start_and_end() {
        check(
            "Run /bin/false as init process\r\n\
             Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100\r\n\
             CPU: 0 PID: 1 Comm: false Not tainted 6.1.0 #1\r\n\
             ---[ end Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100 ]---\r\n",
            5,
            expect![[r#"
                "Run /bin/false as init process"
                "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100" -> Panic
                "CPU: 0 PID: 1 Comm: false Not tainted 6.1.0 #1"
                "---[ end Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100 ]---" -> PanicEnd
                partial: """#]],
        );
    }

    #[test]
    fn exit_codes_follow_the_shell() {
        let codes: Vec<u8> = [
            GuestStatus::Exited(0),
            GuestStatus::Exited(127),
            GuestStatus::Killed(9),
            GuestStatus::Exited(300),
        ]
        .into_iter()
        .map(GuestStatus::exit_code)
        .collect();
        assert_eq!(codes, [0, 127, 137, 255]);
    }

    #[test]
    fn console_text_drops_carriage_returns_and_keeps_the_tail() {
        let mut splitter = LineSplitter::default();
        splitter.push(b"a\r\nb\r\nc\r\nd");
        expect![[r#"
            "a\nb\nc\nd"
            "c\nd""#]]
        .assert_eq(&format!(
            "{:?}\n{:?}",
            splitter.console(),
            last_lines(&splitter.console(), 2)
        ));
    }
}
