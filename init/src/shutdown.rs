//! Stopping the machine: the sequence after a stop signal or the end of
//! command mode, and what a panic does.

use core::time::Duration;

use crate::mounts;
use crate::reaper;
use crate::stop::Stop;
use crate::sys;

/// How long processes get to act on `SIGTERM` before `SIGKILL`.
const GRACE: Duration = Duration::from_secs(2);
/// How long to wait for the kernel to deliver `SIGKILL` and the zombies to be reaped.
const KILL_WAIT: Duration = Duration::from_secs(1);

/// Ends every process, unmounts the filesystems and stops the machine.
///
/// `SIGHUP` goes with `SIGTERM` because interactive shells ignore `SIGTERM`;
/// `SIGCONT` wakes stopped jobs so they can act on both. The grace period ends
/// early once every process is gone.
pub fn stop_machine(stop: Stop, poweroff_by_reboot: bool) -> ! {
    say!(stop, ": stopping all processes");
    for sig in [sys::SIGTERM, sys::SIGHUP, sys::SIGCONT] {
        // ESRCH only says there is no process left to signal.
        let _ = sys::send_signal(-1, sig);
    }
    if !reaper::wait_for_all(sys::now().saturating_add(GRACE)) {
        say!(
            stop,
            ": killing processes still running after ",
            GRACE.as_secs(),
            " s"
        );
        let _ = sys::send_signal(-1, sys::SIGKILL);
        if !reaper::wait_for_all(sys::now().saturating_add(KILL_WAIT)) {
            say!(stop, ": some processes did not end");
        }
    }
    sys::sync_all();
    mounts::unmount_all();
    sys::sync_all();
    match sys::reboot_machine(stop.reboot_cmd(poweroff_by_reboot)) {
        Some(e) => say!(stop, ": the reboot system call failed: ", e),
        None => say!(
            stop,
            ": the reboot system call failed: the kernel returned without stopping the machine"
        ),
    }
    reap_forever()
}

/// PID 1 must not exit (that is a kernel panic): reap whatever ends, for ever,
/// sleeping in `sigtimedwait` once no child is left.
fn reap_forever() -> ! {
    loop {
        if reaper::wait_for_all(sys::now().saturating_add(Duration::from_secs(3600)))
            && sys::wait_signal(None).is_err()
        {
            sys::sleep(Duration::from_secs(1));
        }
    }
}

/// A panic (a bug: init is written not to panic) cannot unwind and PID 1 must
/// not exit, so init says where it happened and restarts the machine, as a
/// watchdog would: `init: internal error at src/x.rs:12: restarting`. Under
/// QEMU's `-no-reboot` that ends QEMU, so `xtask qemu --exec` fails at once
/// instead of waiting for its timeout. No unmounting (the state is unknown),
/// only `sync`. Should the restart fail, init keeps reaping.
#[cfg(all(not(test), panic = "abort"))]
#[panic_handler]
fn on_panic(info: &core::panic::PanicInfo) -> ! {
    use core::sync::atomic::{AtomicBool, Ordering};
    /// Set by the first panic, so a panic while handling it goes straight to reaping.
    static PANICKING: AtomicBool = AtomicBool::new(false);
    if !PANICKING.load(Ordering::Relaxed) {
        PANICKING.store(true, Ordering::Relaxed);
        match info.location() {
            Some(at) => say!(
                "internal error at ",
                at.file(),
                ":",
                at.line(),
                ": restarting"
            ),
            None => say!("internal error: restarting"),
        }
        sys::sync_all();
        let _ = sys::reboot_machine(sys::RebootCmd::Restart);
    }
    reap_forever()
}
