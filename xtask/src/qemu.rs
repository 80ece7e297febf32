//! `qemu`: boot the board's kernel and initramfs in QEMU, interactively or
//! running one command through init's command mode; and the same machinery
//! as an API for the end-to-end tests ([`Boot::exec`], [`Session`]).

mod accel;
mod boot;
mod cli;
mod cmdline;
#[allow(
    dead_code,
    reason = "ExecResult's fields are read by the end-to-end suite"
)]
mod exec;
mod process;
#[allow(
    dead_code,
    reason = "the pty session is the end-to-end suite's API, not the CLI's"
)]
mod session;
mod transcript;

pub use cli::{command, QemuArgs};
#[allow(unused_imports, reason = "the end-to-end suite's API")]
pub use {
    accel::{is_native, open_dev_kvm, probe_summary, Accel},
    boot::{Boot, BootFiles, BootRequest, FileOverrides},
    exec::{Echo, ExecOptions, ExecOutcome, ExecResult},
    session::{Found, Needle, Session},
    transcript::GuestStatus,
};
