//! Reaping every process that ends and waiting for the signals PID 1 acts on.
//!
//! Signals are blocked in PID 1 (see `boot`) and taken one at a time with
//! `sigtimedwait`, so there are no signal handlers and no races between a
//! child ending and init starting to wait for it: `SIGCHLD` stays pending.
//! Deadlines are times of [`sys::now`].

use core::time::Duration;

use crate::stop::Stop;
use crate::sys::{self, Reaped};
use crate::wait_status::WaitStatus;

/// What ended a wait.
pub enum Event {
    /// The awaited child ended.
    Ended(WaitStatus),
    /// A signal asked PID 1 to stop the machine.
    Stop(Stop),
}

/// Reaps every ended child; returns `target`'s status if it was among them and
/// whether no children are left at all.
fn reap_all(target: Option<i32>) -> (Option<WaitStatus>, bool) {
    let mut found = None;
    loop {
        match sys::reap_one() {
            Ok(Reaped::Child(pid, status)) => {
                if Some(pid) == target {
                    found = Some(WaitStatus::from_raw(status));
                }
            }
            Ok(Reaped::NoneReady) => return (found, false),
            Ok(Reaped::NoChildren) => return (found, true),
            Err(e) => {
                say!("cannot reap children: ", e);
                return (found, false);
            }
        }
    }
}

/// The time left until `deadline`.
fn left(deadline: Duration) -> Duration {
    deadline.saturating_sub(sys::now())
}

/// Waits for `target` to end, a stop signal, or `deadline`, reaping every child
/// meanwhile; `None` means the deadline passed. With neither target nor deadline
/// it waits for a stop signal.
pub fn wait_event(target: Option<i32>, deadline: Option<Duration>) -> Option<Event> {
    loop {
        if let (Some(status), _) = reap_all(target) {
            return Some(Event::Ended(status));
        }
        let timeout = deadline.map(left);
        if timeout == Some(Duration::ZERO) {
            return None;
        }
        match sys::wait_signal(timeout) {
            Ok(None) => return None,
            // Reaped at the top of the loop.
            Ok(Some(sys::SIGCHLD)) => {}
            Ok(Some(sig)) => {
                if let Some(stop) = Stop::from_signal(sig) {
                    return Some(Event::Stop(stop));
                }
            }
            Err(e) => {
                say!("cannot wait for signals: ", e);
                sys::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// Waits until `pid` ends or a stop signal arrives.
pub fn wait_for(pid: i32) -> Event {
    loop {
        if let Some(event) = wait_event(Some(pid), None) {
            return event;
        }
    }
}

/// Reaps children until none are left (`true`) or `deadline` passes (`false`),
/// ignoring stop signals: used while the machine is already stopping.
pub fn wait_for_all(deadline: Duration) -> bool {
    loop {
        if reap_all(None).1 {
            return true;
        }
        let timeout = left(deadline);
        if timeout == Duration::ZERO {
            return false;
        }
        match sys::wait_signal(Some(timeout)) {
            Ok(None) => return reap_all(None).1,
            Ok(Some(_)) => {}
            Err(e) => {
                say!("cannot wait for signals: ", e);
                return false;
            }
        }
    }
}
