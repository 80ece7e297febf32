//! PID 1's loop: starting children, reaping every process that ends, acting on stop signals.
//!
//! Signals are blocked in PID 1 (see `boot`) and taken one at a time with
//! `sigtimedwait`, so there are no signal handlers and no races between a
//! child ending and init starting to wait for it: `SIGCHLD` stays pending.

use std::ffi::CStr;
use std::io;
use std::time::{Duration, Instant};

use crate::cmdline::{Config, DEFAULT_SHELL};
use crate::console;
use crate::shutdown::{self, Stop};
use crate::sys::{self, cstr, Reaped};
use crate::wait_status::WaitStatus;

/// Script run once before the shell or command, when present.
const RC_SCRIPT: &str = "/etc/init.d/rcS";
const RC_SCRIPT_C: &CStr = cstr(b"/etc/init.d/rcS\0");
/// Shortest time between two starts of the shell, so a shell that cannot
/// start or exits at once does not flood the console.
const RESPAWN_SPACING: Duration = Duration::from_secs(1);

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
                say!("cannot reap children: {e}");
                return (found, false);
            }
        }
    }
}

/// Waits for `target` to end, a stop signal, or `deadline`, reaping every child
/// meanwhile; `None` means the deadline passed. With neither target nor deadline
/// it waits for a stop signal.
fn wait_event(target: Option<i32>, deadline: Option<Instant>) -> Option<Event> {
    loop {
        let (status, _) = reap_all(target);
        if let Some(status) = status {
            return Some(Event::Ended(status));
        }
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
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
                say!("cannot wait for signals: {e}");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// Waits until `pid` ends or a stop signal arrives.
fn wait_for(pid: i32) -> Event {
    loop {
        if let Some(event) = wait_event(Some(pid), None) {
            return event;
        }
    }
}

/// Reaps children until none are left (`true`) or `deadline` passes (`false`),
/// ignoring stop signals: used while the machine is already stopping.
pub fn wait_for_all(deadline: Instant) -> bool {
    loop {
        if reap_all(None).1 {
            return true;
        }
        let timeout = deadline.saturating_duration_since(Instant::now());
        if timeout == Duration::ZERO {
            return false;
        }
        match sys::wait_signal(Some(timeout)) {
            Ok(None) => return reap_all(None).1,
            Ok(Some(_)) => {}
            Err(e) => {
                say!("cannot wait for signals: {e}");
                return false;
            }
        }
    }
}

/// Starts `argv` on the console terminal as a session leader with it as
/// controlling terminal, so job control and Ctrl-C work.
fn spawn_on_console(argv: &[String], terminal: &CStr, login: bool) -> io::Result<i32> {
    // A leading dash makes the shell a login shell, which reads /etc/profile.
    let login_name = match argv.first() {
        Some(program) if login => Some(login_name(program)),
        _ => None,
    };
    sys::spawn(argv, login_name.as_deref(), Some(terminal))
}

/// `-` and the last component of `program`: `/bin/sh` gives `-sh`.
fn login_name(program: &str) -> Vec<u8> {
    let trimmed = program.trim_end_matches('/');
    let name = match trimmed.rsplit('/').next() {
        Some(name) if !name.is_empty() => name,
        _ => program,
    };
    let mut login = Vec::with_capacity(1 + name.len());
    login.push(b'-');
    login.extend_from_slice(name.as_bytes());
    login
}

/// Runs `/etc/init.d/rcS` to its end, with init's own stdio and no terminal.
fn run_rc_script(config: &Config) {
    if !sys::exists(RC_SCRIPT_C) {
        return;
    }
    let pid = match sys::spawn(&[RC_SCRIPT.to_string()], None, None) {
        Ok(pid) => pid,
        Err(e) => {
            say!("cannot run {RC_SCRIPT}: {e}");
            return;
        }
    };
    match wait_for(pid) {
        Event::Ended(WaitStatus::Exited(0)) => {}
        Event::Ended(status) => say!("{RC_SCRIPT} ended with {status}"),
        Event::Stop(stop) => shutdown::stop_machine(stop, config.poweroff_by_reboot),
    }
}

/// Command mode: runs `argv`, prints its status line, stops the machine.
fn run_command(config: &Config, argv: &[String], terminal: &CStr) -> ! {
    let status = match spawn_on_console(argv, terminal, false) {
        Ok(pid) => match wait_for(pid) {
            Event::Ended(status) => status,
            Event::Stop(stop) => shutdown::stop_machine(stop, config.poweroff_by_reboot),
        },
        Err(e) => {
            say!(
                "cannot run {}: {e}",
                argv.first().map_or("", String::as_str)
            );
            WaitStatus::not_started(&e)
        }
    };
    if let WaitStatus::Killed(sys::SIGINT | sys::SIGQUIT) = status {
        // The terminal echoed ^C or ^\ without a newline; keep the status on its own line.
        console::write_line("");
    }
    say!("{status}");
    shutdown::stop_machine(Stop::PowerOff, config.poweroff_by_reboot)
}

/// Interactive mode: keeps a shell running on the console until a stop signal.
fn run_shell(config: &Config, terminal: &CStr) -> ! {
    let shell = &config.shell;
    let mut last_start: Option<Instant> = None;
    loop {
        if let Some(start) = last_start {
            if let Some(Event::Stop(stop)) = wait_event(None, Some(start + RESPAWN_SPACING)) {
                shutdown::stop_machine(stop, config.poweroff_by_reboot);
            }
        }
        last_start = Some(Instant::now());
        let program = shell.first().map_or(DEFAULT_SHELL, String::as_str);
        let started = match spawn_on_console(shell, terminal, true) {
            Err(e) if program != DEFAULT_SHELL => {
                say!("cannot start {program}: {e}: trying {DEFAULT_SHELL}");
                spawn_on_console(&[DEFAULT_SHELL.to_string()], terminal, true)
            }
            other => other,
        };
        match started {
            Ok(pid) => match wait_for(pid) {
                Event::Ended(status) => say!("the shell ended ({status}): starting a new one"),
                Event::Stop(stop) => shutdown::stop_machine(stop, config.poweroff_by_reboot),
            },
            Err(e) => say!("cannot start {DEFAULT_SHELL}: {e}"),
        }
    }
}

/// Runs the rc script, then the command (command mode) or the shell; never returns.
pub fn run(config: &Config, terminal: &CStr) -> ! {
    run_rc_script(config);
    match &config.exec {
        Some(argv) => run_command(config, argv, terminal),
        None => run_shell(config, terminal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(program: &str, expect: &str) {
        assert_eq!(
            String::from_utf8_lossy(&login_name(program)),
            expect,
            "program: {program:?}"
        );
    }

    #[test]
    fn a_login_name_is_a_dash_and_the_file_name() {
        check("/bin/sh", "-sh");
        check("sh", "-sh");
        check("/usr/bin/bash/", "-bash");
        check("/", "-/");
    }
}
