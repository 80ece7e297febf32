//! PID 1's work after boot: rcS, then the shell (started again whenever it
//! exits) or command mode, until a signal asks to stop the machine.

use core::time::Duration;

use crate::argv::Argv;
use crate::cmdline::{Config, DEFAULT_SHELL};
use crate::console::{Line, Terminal};
use crate::cstr::{CBuf, CStr};
use crate::errno::Errno;
use crate::reaper::{self, Event};
use crate::shutdown;
use crate::stop::Stop;
use crate::sys::{self, Env};
use crate::wait_status::WaitStatus;

/// Script run once before the shell or command, when present.
const RC_SCRIPT: &[u8] = b"/etc/init.d/rcS";
/// Shortest time between two starts of the shell, so a shell that cannot
/// start or exits at once does not flood the console.
const RESPAWN_SPACING: Duration = Duration::from_secs(1);

/// What the supervisor works with.
struct Context<'a> {
    config: &'a Config<'a>,
    terminal: CStr<'a>,
    env: &'a Env,
}

/// `-` and the last component of `program`, as a login shell's `argv[0]`:
/// `/bin/sh` gives `-sh`.
fn login_name(program: &[u8]) -> Result<CBuf<256>, Errno> {
    let end = program
        .iter()
        .rposition(|&b| b != b'/')
        .map_or(0, |last| last + 1);
    let trimmed = program.get(..end).unwrap_or(&[]);
    let name = match trimmed.rsplit(|&b| b == b'/').next() {
        Some(name) if !name.is_empty() => name,
        _ => program,
    };
    CBuf::from_parts(&[b"-", name])
}

/// Starts `argv` on the console terminal as a session leader with it as
/// controlling terminal, so job control and Ctrl-C work; as a login shell
/// (`argv[0]` with a leading dash, so it reads /etc/profile) when `login`.
fn spawn_on_console(cx: &Context, argv: &Argv, login: bool) -> Result<i32, Errno> {
    let program = argv.program().ok_or(Errno::EINVAL)?;
    let mut name = if login {
        Some(login_name(program.to_bytes())?)
    } else {
        None
    };
    let argv0 = name.as_mut().map(|n| n.as_cstr());
    sys::spawn(argv, argv0, Some(cx.terminal), cx.env)
}

/// Runs `/etc/init.d/rcS` to its end, with init's own stdio and no terminal.
fn run_rc_script(cx: &Context) {
    if !sys::exists(c!("/etc/init.d/rcS")) {
        return;
    }
    let pid = match sys::spawn(&Argv::of(&[RC_SCRIPT]), None, None, cx.env) {
        Ok(pid) => pid,
        Err(e) => {
            say!("cannot run ", RC_SCRIPT, ": ", e);
            return;
        }
    };
    match reaper::wait_for(pid) {
        Event::Ended(WaitStatus::Exited(0)) => {}
        Event::Ended(status) => say!(RC_SCRIPT, " ended with ", status),
        Event::Stop(stop) => shutdown::stop_machine(stop, cx.config.poweroff_by_reboot),
    }
}

/// Command mode with the command in a file: runs it as `execvp` runs a script, directly
/// when the kernel can (a `#!` line, a binary), else with `/bin/sh`.
fn run_command_file(cx: &Context, path: &[u8]) -> ! {
    let direct = Argv::of(&[path]);
    let started = match spawn_on_console(cx, &direct, false) {
        Err(Errno::ENOEXEC) => spawn_on_console(cx, &Argv::of(&[DEFAULT_SHELL, path]), false),
        other => other,
    };
    finish_command(cx, &direct, started)
}

/// Command mode: runs `argv`, prints its status line, stops the machine.
fn run_command(cx: &Context, argv: &Argv) -> ! {
    finish_command(cx, argv, spawn_on_console(cx, argv, false))
}

/// Command mode once `argv` was started (or not): waits, prints the status line, stops.
fn finish_command(cx: &Context, argv: &Argv, started: Result<i32, Errno>) -> ! {
    let status = match started {
        Ok(pid) => match reaper::wait_for(pid) {
            Event::Ended(status) => status,
            Event::Stop(stop) => shutdown::stop_machine(stop, cx.config.poweroff_by_reboot),
        },
        Err(e) => {
            let program = argv.program().map_or(&[][..], |p| p.to_bytes());
            say!("cannot run ", program, ": ", e);
            WaitStatus::not_started(e)
        }
    };
    if let WaitStatus::Killed(sys::SIGINT | sys::SIGQUIT) = status {
        // The terminal echoed ^C or ^\ without a newline; keep the status on its own line.
        Line::new().write();
    }
    say!(status);
    shutdown::stop_machine(Stop::PowerOff, cx.config.poweroff_by_reboot)
}

/// Interactive mode: keeps a shell running on the console until a stop signal.
fn run_shell(cx: &Context) -> ! {
    let shell = &cx.config.shell;
    let program = shell.program().map_or(DEFAULT_SHELL, |p| p.to_bytes());
    let mut last_start: Option<Duration> = None;
    loop {
        if let Some(start) = last_start {
            let next = start.saturating_add(RESPAWN_SPACING);
            if let Some(Event::Stop(stop)) = reaper::wait_event(None, Some(next)) {
                shutdown::stop_machine(stop, cx.config.poweroff_by_reboot);
            }
        }
        last_start = Some(sys::now());
        let started = match spawn_on_console(cx, shell, true) {
            Err(e) if program != DEFAULT_SHELL => {
                say!(
                    "cannot start ",
                    program,
                    ": ",
                    e,
                    ": trying ",
                    DEFAULT_SHELL
                );
                spawn_on_console(cx, &Argv::of(&[DEFAULT_SHELL]), true)
            }
            other => other,
        };
        match started {
            Ok(pid) => match reaper::wait_for(pid) {
                Event::Ended(status) => say!("the shell ended (", status, "): starting a new one"),
                Event::Stop(stop) => shutdown::stop_machine(stop, cx.config.poweroff_by_reboot),
            },
            Err(e) => say!("cannot start ", DEFAULT_SHELL, ": ", e),
        }
    }
}

/// Runs the rc script, then the command (command mode) or the shell; never returns.
pub fn run(config: &Config, terminal: &mut Terminal, env: &Env) -> ! {
    let cx = Context {
        config,
        terminal: terminal.as_cstr(),
        env,
    };
    run_rc_script(&cx);
    match (config.exec_file, &config.exec) {
        (Some(path), _) => run_command_file(&cx, path),
        (None, Some(argv)) => run_command(&cx, argv),
        (None, None) => run_shell(&cx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(program: &str, expect: &str) {
        let name = login_name(program.as_bytes())
            .map(|n| String::from_utf8_lossy(n.as_bytes()).into_owned());
        assert_eq!(name, Ok(expect.to_string()), "program: {program:?}");
    }

    #[test]
    fn a_login_name_is_a_dash_and_the_file_name() {
        check("/bin/sh", "-sh");
        check("sh", "-sh");
        check("/usr/bin/bash/", "-bash");
        check("/", "-/");
    }
}
