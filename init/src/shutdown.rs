//! Stopping the machine: the signals that ask for it and the sequence that does it.

use std::fmt;
use std::time::{Duration, Instant};

use crate::mounts;
use crate::supervisor;
use crate::sys::{self, RebootCmd};

/// How long processes get to act on `SIGTERM` before `SIGKILL`.
const GRACE: Duration = Duration::from_secs(2);
/// How long to wait for the kernel to deliver `SIGKILL` and the zombies to be reaped.
const KILL_WAIT: Duration = Duration::from_secs(1);

/// A request to stop the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stop::Reboot => "reboot",
            Stop::PowerOff => "poweroff",
            Stop::Halt => "halt",
        })
    }
}

/// Ends every process, unmounts the filesystems and stops the machine.
///
/// `SIGHUP` goes with `SIGTERM` because interactive shells ignore `SIGTERM`;
/// `SIGCONT` wakes stopped jobs so they can act on both. The grace period ends
/// early once every process is gone.
pub fn stop_machine(stop: Stop, poweroff_by_reboot: bool) -> ! {
    say!("{stop}: stopping all processes");
    for sig in [sys::SIGTERM, sys::SIGHUP, sys::SIGCONT] {
        // ESRCH only says there is no process left to signal.
        let _ = sys::send_signal(-1, sig);
    }
    if !supervisor::wait_for_all(Instant::now() + GRACE) {
        say!(
            "{stop}: killing processes still running after {} s",
            GRACE.as_secs()
        );
        let _ = sys::send_signal(-1, sys::SIGKILL);
        if !supervisor::wait_for_all(Instant::now() + KILL_WAIT) {
            say!("{stop}: some processes did not end");
        }
    }
    sys::sync_all();
    mounts::unmount_all();
    sys::sync_all();
    let error = sys::reboot_machine(stop.reboot_cmd(poweroff_by_reboot));
    say!("{stop}: the reboot system call failed: {error}");
    loop {
        // PID 1 must not exit: that is a kernel panic. Keep reaping instead,
        // sleeping in sigtimedwait once no child is left.
        if supervisor::wait_for_all(Instant::now() + Duration::from_secs(3600))
            && sys::wait_signal(None).is_err()
        {
            std::thread::sleep(Duration::from_secs(1));
        }
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
}
