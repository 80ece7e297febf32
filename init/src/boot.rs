//! PID 1 from its first instruction to the supervisor loop, in order.
//!
//! Under emulation (QEMU's TCG) the time to the shell prompt is mostly the
//! cost of translating code that runs for the first time, in init and in the
//! kernel, far more than of running it. So this path keeps to a few direct
//! system calls with constant C strings and stack buffers.

use crate::cmdline::{self, Config};
use crate::console::{self, Line};
use crate::mounts;
use crate::supervisor;
use crate::sys::{self, Env};

/// Room for `/proc/cmdline`: the kernel's `COMMAND_LINE_SIZE` is at most 4096.
const CMDLINE_MAX: usize = 4096;
/// Room for `/etc/hostname`'s first line: a host name has at most 64 bytes.
const HOSTNAME_MAX: usize = 256;

/// Boots the system and hands over to the supervisor; never returns.
pub fn run(mut env: Env) -> ! {
    // First, so that no signal sent to PID 1 is lost before the loop takes it.
    if let Err(e) = sys::block_all_signals() {
        say!("cannot block signals: ", e);
    }
    if let Err(e) = sys::change_dir(c!("/")) {
        say!("cannot change to /: ", e);
    }
    // The kernel gives init no PATH; children inherit this one, and the
    // command and shell are looked up in it.
    if env.get(b"PATH").is_none() {
        if let Err(e) = env.add(c!("PATH=/sbin:/usr/sbin:/bin:/usr/bin")) {
            say!("cannot set PATH: ", e);
        }
    }
    mounts::mount_all();
    // Only now can the console be opened if the kernel found no /dev/console.
    if let Err(e) = sys::fill_standard_fds(c!("/dev/console")) {
        say!("cannot open /dev/console: ", e);
        let _ = sys::fill_standard_fds(c!("/dev/null"));
    }
    if let Err(e) = sys::disable_ctrl_alt_del() {
        say!("cannot turn off Ctrl-Alt-Del: ", e);
    }
    let mut cmdline = [0u8; CMDLINE_MAX];
    let config = read_config(&mut cmdline);
    set_hostname(&config);
    print_banner();
    let mut terminal = console::active();
    supervisor::run(&config, &mut terminal, &env)
}

fn read_config(buf: &mut [u8; CMDLINE_MAX]) -> Config<'_> {
    let text = match sys::read_file(c!("/proc/cmdline"), buf) {
        Ok(n) => buf.get(..n).unwrap_or(&[]),
        Err(e) => {
            say!("cannot read /proc/cmdline: ", e, ": using defaults");
            &[]
        }
    };
    let config = cmdline::parse(text);
    for warning in config.warnings.iter() {
        say!(warning);
    }
    config
}

/// Sets the host name from `init.hostname=`, else the first line of `/etc/hostname`.
fn set_hostname(config: &Config) {
    let mut buf = [0u8; HOSTNAME_MAX];
    let name = match config.hostname {
        Some(name) => name,
        None => match sys::read_file(c!("/etc/hostname"), &mut buf) {
            Ok(n) => first_line(buf.get(..n).unwrap_or(&[])),
            Err(_) => return,
        },
    };
    if name.is_empty() {
        return;
    }
    if let Err(e) = sys::set_hostname(name) {
        say!("cannot set the host name to ", name, ": ", e);
    }
}

/// The first line of `text` without surrounding whitespace.
fn first_line(text: &[u8]) -> &[u8] {
    let line = text.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let start = line
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    line.get(start..end).unwrap_or(&[])
}

/// Prints `minilinux init: up 1.23 s`, the time since the kernel started.
fn print_banner() {
    let mut buf = [0u8; 64];
    let mut line = Line::new();
    match sys::read_file(c!("/proc/uptime"), &mut buf) {
        Ok(n) => {
            let text = buf.get(..n).unwrap_or(&[]);
            let up = text
                .split(|b| b.is_ascii_whitespace())
                .next()
                .filter(|up| !up.is_empty())
                .unwrap_or(b"?");
            line.push(b"minilinux init: up ");
            line.push(up);
            line.push(b" s");
            line.write();
        }
        Err(e) => {
            line.push(b"minilinux init");
            line.write();
            say!("cannot read /proc/uptime: ", e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect: &str) {
        let actual = String::from_utf8_lossy(first_line(text.as_bytes()));
        assert_eq!(actual, expect, "text: {text:?}");
    }

    #[test]
    fn the_host_name_is_the_trimmed_first_line() {
        check("minilinux\n", "minilinux");
        check("  box \t\nsecond\n", "box");
        check("box", "box");
    }

    #[test]
    fn an_empty_or_blank_file_gives_no_name() {
        check("", "");
        check("\n", "");
        check("   \nbox\n", "");
    }
}
