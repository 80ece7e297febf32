//! PID 1 of the minilinux guest.
//!
//! It mounts the kernel's API filesystems, starts a shell on the console with
//! job control (or, with `init.exec=`, runs one command and reports its exit
//! status), reaps every process, and stops the machine on the signals busybox's
//! `reboot`, `poweroff` and `halt` send. It is not a service manager: no
//! runlevels, no daemons, no logging besides the console. See docs/init.md.
//!
//! Built for the guest (with `-C panic=abort`), it is `#![no_std]` and
//! `#![no_main]`: no C library, its own `_start`, raw system calls for x86_64,
//! ARM and arm64 in `sys`, no heap (fixed buffers), no formatting machinery,
//! so it is a few kilobytes of code that start at once under emulation. Built
//! otherwise (a host `cargo build`, `cargo test`), it links std, which the
//! unit tests use. Rust 1.63 and no dependencies, so that Debian's `rustc`
//! builds it as one crate root.
#![cfg_attr(not(test), no_main)]
#![cfg_attr(all(not(test), panic = "abort"), no_std)]
// Only `sys` (the system calls) and `mem` (the C memory functions) may use `unsafe`.
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]
// The test harness brings its own `main`, so everything only `run` reaches is unused there.
#![cfg_attr(test, allow(dead_code))]

#[macro_use]
mod cstr;
#[macro_use]
mod console;
mod argv;
mod boot;
mod cmdline;
mod errno;
#[cfg(any(test, panic = "abort"))]
#[allow(unsafe_code)]
mod mem;
mod mount_table;
mod mounts;
mod path_search;
mod reaper;
mod shutdown;
mod stop;
mod supervisor;
#[allow(unsafe_code)]
mod sys;
mod uevent;
mod wait_status;

/// What the entry point in `sys` runs, with the environment the kernel gave.
fn run(env: sys::Env) -> ! {
    boot::run(env)
}
