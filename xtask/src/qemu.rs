//! Booting the board's kernel and initramfs in QEMU: the QEMU command and the kernel
//! command line ([`Boot`]), KVM or TCG, one command through init's command mode
//! ([`Boot::exec`]), an interactive session on a pty ([`Session`]), and the checks
//! across stages before a boot ([`preflight`]). The `qemu` command, the end-to-end
//! suite and the boot benchmark are built on it.

mod accel;
mod boot;
mod cmdline;
mod command_file;
mod exec;
pub mod preflight;
mod process;
pub mod qmp;
mod session;
mod transcript;

pub use accel::Accel;
pub use accel::{is_native, open_dev_kvm, probe_summary};
pub use boot::{Boot, BootRequest, FileOverrides, QemuMissing};
pub use cmdline::CmdlineError;
pub use exec::{Echo, ExecOptions, ExecOutcome, SILENT_CONSOLE};
pub use process::QemuProcess;
pub use session::Session;
