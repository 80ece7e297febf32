//! Which signal to PID 1 asks to stop the machine, and how.

use crate::console::{Line, Piece};
use crate::sys::{self, RebootCmd};

/// A request to stop the machine.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub enum Stop {
    /// `reboot` (`SIGTERM`) or Ctrl-Alt-Del (`SIGINT`).
    Reboot,
    /// `poweroff` (`SIGUSR2`), and the end of command mode.
    PowerOff,
    /// `halt` (`SIGUSR1`).
    Halt,
}

impl Stop {
    /// The request a signal to PID 1 stands for, as busybox's applets send them.
    pub fn from_signal(sig: i32) -> Option<Stop> {
        match sig {
            sys::SIGTERM | sys::SIGINT => Some(Stop::Reboot),
            sys::SIGUSR2 => Some(Stop::PowerOff),
            sys::SIGUSR1 => Some(Stop::Halt),
            _ => None,
        }
    }

    /// The reboot system call for this request; a board that cannot power off
    /// reboots instead of halting, so QEMU run with `-no-reboot` exits.
    pub fn reboot_cmd(self, poweroff_by_reboot: bool) -> RebootCmd {
        match (self, poweroff_by_reboot) {
            (Stop::Reboot, _) | (_, true) => RebootCmd::Restart,
            (Stop::PowerOff, false) => RebootCmd::PowerOff,
            (Stop::Halt, false) => RebootCmd::Halt,
        }
    }
}

impl Piece for Stop {
    fn put(&self, line: &mut Line) {
        let name: &[u8] = match self {
            Stop::Reboot => b"reboot",
            Stop::PowerOff => b"poweroff",
            Stop::Halt => b"halt",
        };
        line.push(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sig: i32, poweroff_by_reboot: bool, expect: &str) {
        let actual = format!(
            "{:?}",
            Stop::from_signal(sig).map(|s| (s, s.reboot_cmd(poweroff_by_reboot)))
        );
        assert_eq!(
            actual, expect,
            "signal {sig}, poweroff_by_reboot {poweroff_by_reboot}"
        );
    }

    #[test]
    fn busybox_signals_on_a_board_that_powers_off() {
        check(sys::SIGTERM, false, "Some((Reboot, Restart))");
        check(sys::SIGUSR2, false, "Some((PowerOff, PowerOff))");
        check(sys::SIGUSR1, false, "Some((Halt, Halt))");
        check(sys::SIGINT, false, "Some((Reboot, Restart))");
    }

    #[test]
    fn every_stop_reboots_when_the_board_cannot_power_off() {
        check(sys::SIGUSR2, true, "Some((PowerOff, Restart))");
        check(sys::SIGUSR1, true, "Some((Halt, Restart))");
    }

    #[test]
    fn other_signals_do_not_stop() {
        check(sys::SIGCHLD, false, "None");
        check(sys::SIGHUP, false, "None");
    }

    #[test]
    fn the_request_is_named_as_the_command() {
        let mut line = Line::new();
        for stop in [Stop::Reboot, Stop::PowerOff, Stop::Halt] {
            line.put(&stop);
            line.push(b" ");
        }
        assert_eq!(line.as_bytes(), b"reboot poweroff halt ");
    }
}
