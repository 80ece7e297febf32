//! The engine every stage runs on: fingerprints and stamps, the stage's log and the
//! tools it runs (own process group, output to the log, Ctrl-C stops them), locks,
//! progress and the summary, atomic writes, and the Ctrl-C flag.
//!
//! It knows the board (where outputs, stamps and logs go) and nothing of any stage,
//! command, QEMU or host setup: those are built on it.

mod atomic;
mod ctx;
mod fingerprint;
mod interrupt;
mod lock;
mod progress;
mod stage;
mod stamp;

pub use atomic::{follow_symlinks, symlink_atomic, write_atomic};
pub use ctx::Ctx;
pub use fingerprint::{files_under, hex, Fingerprint};
pub use interrupt::{install_interrupt_handler, interrupted};
pub use lock::{BoardLock, FileLock};
pub use progress::{print_summary, Outcome, Report};
pub use stage::{forget_stamp, render_error, run_stage, Stage};
