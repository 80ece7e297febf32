//! The Ctrl-C flag: set by the handler, read by everything that waits on a tool, a
//! lock or QEMU, which then stops it and fails with "interrupted".

use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the Ctrl-C handler; running tools are stopped when it is.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler that stops child tools (they run in their own process group).
pub fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
