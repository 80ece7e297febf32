//! How a child ended, and the status line command mode prints for it.

use crate::console::{Line, Piece};
use crate::errno::Errno;

/// How a process ended.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub enum WaitStatus {
    /// It called `exit` with this code (or could not be started: 126, 127).
    Exited(i32),
    /// A signal with this number killed it.
    Killed(i32),
}

impl WaitStatus {
    /// Decodes a raw `waitpid` status (`WIFEXITED`/`WIFSIGNALED`).
    pub fn from_raw(status: i32) -> WaitStatus {
        let signal = status & 0x7f;
        if signal == 0 {
            WaitStatus::Exited((status >> 8) & 0xff)
        } else {
            WaitStatus::Killed(signal)
        }
    }

    /// The status a shell reports for a command it could not start: 127 when
    /// it does not exist, 126 when it exists but cannot be executed.
    pub fn not_started(error: Errno) -> WaitStatus {
        if error == Errno::ENOENT {
            WaitStatus::Exited(127)
        } else {
            WaitStatus::Exited(126)
        }
    }
}

/// The status line without the `init: ` prefix: `exit status 3`, `killed by signal 9`.
impl Piece for WaitStatus {
    fn put(&self, line: &mut Line) {
        match *self {
            WaitStatus::Exited(code) => {
                line.push(b"exit status ");
                line.put(&code);
            }
            WaitStatus::Killed(signal) => {
                line.push(b"killed by signal ");
                line.put(&signal);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(status: WaitStatus) -> String {
        let mut line = Line::new();
        line.put(&status);
        String::from_utf8_lossy(line.as_bytes()).into_owned()
    }

    fn check(raw: i32, expect: &str) {
        let status = WaitStatus::from_raw(raw);
        assert_eq!(
            format!("{status:?}: {}", text(status)),
            expect,
            "raw status {raw:#x}"
        );
    }

    #[test]
    fn exit_codes() {
        check(0x0000, "Exited(0): exit status 0");
        check(0x0300, "Exited(3): exit status 3");
        check(0xff00, "Exited(255): exit status 255");
    }

    #[test]
    fn signals_with_and_without_core() {
        check(0x0009, "Killed(9): killed by signal 9");
        check(0x0002, "Killed(2): killed by signal 2");
        check(0x008b, "Killed(11): killed by signal 11");
    }

    #[test]
    fn start_failures_follow_the_shell() {
        assert_eq!(
            format!(
                "{} / {}",
                text(WaitStatus::not_started(Errno::ENOENT)),
                text(WaitStatus::not_started(Errno::EACCES))
            ),
            "exit status 127 / exit status 126"
        );
    }
}
