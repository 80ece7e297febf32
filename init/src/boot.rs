//! PID 1 from its first instruction to the supervisor loop, in order.

use std::fs;
use std::path::Path;

use crate::cmdline::{self, Config};
use crate::console;
use crate::mounts;
use crate::supervisor;
use crate::sys;

/// `PATH` for init and every child, unless the kernel command line sets one.
const DEFAULT_PATH: &str = "/sbin:/usr/sbin:/bin:/usr/bin";

/// Boots the system and hands over to the supervisor; never returns.
pub fn run() -> ! {
    // First, so that no signal sent to PID 1 is lost before the loop takes it.
    if let Err(e) = sys::block_all_signals() {
        say!("cannot block signals: {e}");
    }
    if let Err(e) = std::env::set_current_dir("/") {
        say!("cannot change to /: {e}");
    }
    // The kernel gives init no PATH; children inherit this one, and the
    // command and shell are looked up in it.
    if std::env::var_os("PATH").is_none() {
        std::env::set_var("PATH", DEFAULT_PATH);
    }
    mounts::mount_all();
    // Only now can the console be opened if the kernel found no /dev/console.
    if let Err(e) = sys::fill_standard_fds(Path::new("/dev/console")) {
        say!("cannot open /dev/console: {e}");
        let _ = sys::fill_standard_fds(Path::new("/dev/null"));
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
    let text = match fs::read("/proc/cmdline") {
        Ok(text) => text,
        Err(e) => {
            say!("cannot read /proc/cmdline: {e}: using defaults");
            Vec::new()
        }
    };
    let config = cmdline::parse(&text);
    for warning in &config.warnings {
        say!("{warning}");
    }
    config
}

/// Sets the host name from `init.hostname=`, else the first line of `/etc/hostname`.
fn set_hostname(config: &Config) {
    let name = match &config.hostname {
        Some(name) => name.clone(),
        None => match fs::read_to_string("/etc/hostname") {
            Ok(text) => text.lines().next().unwrap_or("").trim().to_string(),
            Err(_) => return,
        },
    };
    if name.is_empty() {
        return;
    }
    if let Err(e) = sys::set_hostname(&name) {
        say!("cannot set the host name to {name}: {e}");
    }
}

/// Prints `minilinux init: up 1.23 s`, the time since the kernel started.
fn print_banner() {
    match fs::read_to_string("/proc/uptime") {
        Ok(text) => {
            let up = text.split_whitespace().next().unwrap_or("?");
            console::write_line(&format!("minilinux init: up {up} s"));
        }
        Err(e) => {
            console::write_line("minilinux init");
            say!("cannot read /proc/uptime: {e}");
        }
    }
}
