//! PID 1 of the minilinux guest.
//!
//! It mounts the kernel's API filesystems, starts a shell on the console with
//! job control (or, with `init.exec=`, runs one command and reports its exit
//! status), reaps every process, and stops the machine on the signals busybox's
//! `reboot`, `poweroff` and `halt` send. It is not a service manager: no
//! runlevels, no daemons, no logging besides the console. See docs/init.md.
//!
//! std only and Rust 1.63, so that Debian's `rustc` can build it for ARMv5 as
//! one crate root. `#![no_main]`: std's own start-up would abort the process
//! (a kernel panic for PID 1) when descriptors 0-2 are closed, which is what the
//! kernel leaves when the initramfs has no `/dev/console`; init reopens them
//! itself once `/dev` is mounted.
#![cfg_attr(not(test), no_main)]
// The test harness brings its own `main`, so everything only `main` reaches is unused there.
#![cfg_attr(test, allow(dead_code))]

#[macro_use]
mod console;
mod boot;
mod cmdline;
mod mount_table;
mod mounts;
mod path_search;
mod shutdown;
mod supervisor;
mod sys;
mod uevent;
mod wait_status;

/// The C entry point; PID 1 never returns from it.
#[cfg(not(test))]
#[no_mangle]
pub extern "C" fn main() -> std::os::raw::c_int {
    boot::run()
}
