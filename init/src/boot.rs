//! PID 1 from its first instruction to the supervisor loop, in order.
//!
//! Under emulation (QEMU's TCG) the time to the shell prompt is mostly the
//! cost of translating code that runs for the first time, in init and in the
//! kernel, far more than of running it. So this path keeps to a few direct
//! system calls with constant C strings and stack buffers, and leaves std's
//! file, path, environment and formatting code to the rare paths (errors,
//! shutdown, the fallback without devtmpfs).

use std::ffi::CStr;

use crate::cmdline::{self, Config};
use crate::console;
use crate::mounts;
use crate::supervisor;
use crate::sys::{self, cstr};

/// `PATH` for init and every child, unless the kernel command line sets one.
const DEFAULT_PATH: &CStr = cstr(b"PATH=/sbin:/usr/sbin:/bin:/usr/bin\0");
const PATH: &CStr = cstr(b"PATH\0");
const ROOT: &CStr = cstr(b"/\0");
const CONSOLE: &CStr = cstr(b"/dev/console\0");
const NULL: &CStr = cstr(b"/dev/null\0");
const CMDLINE: &CStr = cstr(b"/proc/cmdline\0");
const HOSTNAME: &CStr = cstr(b"/etc/hostname\0");
const UPTIME: &CStr = cstr(b"/proc/uptime\0");

/// Room for `/proc/cmdline`: the kernel's `COMMAND_LINE_SIZE` is at most 4096.
const CMDLINE_MAX: usize = 4096;
/// Room for `/etc/hostname`'s first line: a host name has at most 64 bytes.
const HOSTNAME_MAX: usize = 256;

/// Boots the system and hands over to the supervisor; never returns.
pub fn run() -> ! {
    // First, so that no signal sent to PID 1 is lost before the loop takes it.
    if let Err(e) = sys::block_all_signals() {
        say!("cannot block signals: {e}");
    }
    if let Err(e) = sys::change_dir(ROOT) {
        say!("cannot change to /: {e}");
    }
    // The kernel gives init no PATH; children inherit this one, and the
    // command and shell are looked up in it.
    if !sys::env_is_set(PATH) {
        sys::add_env(DEFAULT_PATH);
    }
    mounts::mount_all();
    // Only now can the console be opened if the kernel found no /dev/console.
    if let Err(e) = sys::fill_standard_fds(CONSOLE) {
        say!("cannot open /dev/console: {e}");
        let _ = sys::fill_standard_fds(NULL);
    }
    if let Err(e) = sys::disable_ctrl_alt_del() {
        say!("cannot turn off Ctrl-Alt-Del: {e}");
    }
    let config = read_config();
    set_hostname(&config);
    print_banner();
    let terminal = console::active();
    supervisor::run(&config, &terminal)
}

fn read_config() -> Config {
    let mut buf = [0u8; CMDLINE_MAX];
    let text = match sys::read_file(CMDLINE, &mut buf) {
        Ok(n) => buf.get(..n).unwrap_or(&[]),
        Err(e) => {
            say!("cannot read /proc/cmdline: {e}: using defaults");
            &[]
        }
    };
    let config = cmdline::parse(text);
    for warning in &config.warnings {
        say!("{warning}");
    }
    config
}

/// Sets the host name from `init.hostname=`, else the first line of `/etc/hostname`.
fn set_hostname(config: &Config) {
    let mut buf = [0u8; HOSTNAME_MAX];
    let name = match &config.hostname {
        Some(name) => name.as_bytes(),
        None => match sys::read_file(HOSTNAME, &mut buf) {
            Ok(n) => first_line(buf.get(..n).unwrap_or(&[])),
            Err(_) => return,
        },
    };
    if name.is_empty() {
        return;
    }
    if let Err(e) = sys::set_hostname(name) {
        say!(
            "cannot set the host name to {}: {e}",
            String::from_utf8_lossy(name)
        );
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
    match sys::read_file(UPTIME, &mut buf) {
        Ok(n) => {
            let text = buf.get(..n).unwrap_or(&[]);
            let up = text
                .split(|b| b.is_ascii_whitespace())
                .next()
                .filter(|up| !up.is_empty())
                .unwrap_or(b"?");
            console::write_parts(&[b"minilinux init: up ", up, b" s"]);
        }
        Err(e) => {
            console::write_line("minilinux init");
            say!("cannot read /proc/uptime: {e}");
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
