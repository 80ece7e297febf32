//! How a child ended, and the status line command mode prints for it.

use std::fmt;
use std::io;

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    pub fn not_started(error: &io::Error) -> WaitStatus {
        match error.kind() {
            io::ErrorKind::NotFound => WaitStatus::Exited(127),
            _ => WaitStatus::Exited(126),
        }
    }
}

/// The status line without the `init: ` prefix: `exit status 3`, `killed by signal 9`.
impl fmt::Display for WaitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitStatus::Exited(code) => write!(f, "exit status {code}"),
            WaitStatus::Killed(signal) => write!(f, "killed by signal {signal}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: i32, expect: &str) {
        let status = WaitStatus::from_raw(raw);
        assert_eq!(
            format!("{status:?}: {status}"),
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
        let missing = io::Error::from_raw_os_error(2);
        let denied = io::Error::from_raw_os_error(13);
        assert_eq!(
            format!(
                "{} / {}",
                WaitStatus::not_started(&missing),
                WaitStatus::not_started(&denied)
            ),
            "exit status 127 / exit status 126"
        );
    }
}
