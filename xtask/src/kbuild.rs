//! The kernel's and busybox's Kbuild, as configure and build drive it: the `make`
//! command for a source tree and its build folder, and reading the `.config` files
//! it writes (and the board's fragments).

mod tree;

pub use tree::{busybox_generated, load_busybox, KernelKconfig, LoadedTree};

use anyhow::{bail, Result};
use camino::Utf8Path;
use kconfig::Config;
use std::process::Command;

use crate::board::Board;
use crate::layout::display_path;

/// `make -C <src> O=<build> [ARCH=] [CROSS_COMPILE=]` for the board: Kbuild reads the
/// tree in `src`, which stays untouched, and writes everything under `build`.
pub fn make(board: &Board, src: &Utf8Path, build: &Utf8Path, arch: Option<&str>) -> Command {
    let mut cmd = Command::new("make");
    cmd.arg("-C").arg(src).arg(format!("O={build}"));
    if let Some(arch) = arch {
        cmd.arg(format!("ARCH={arch}"));
    }
    if !board.spec.cross_compile.is_empty() {
        cmd.arg(format!("CROSS_COMPILE={}", board.spec.cross_compile));
    }
    cmd
}

/// Reads and parses a `.config` or fragment; a bad line is reported as `file:line:column`
/// (the file relative to the workspace when it is inside it).
pub fn read_config(path: &Utf8Path) -> Result<Config> {
    require_regular(path)?;
    let bytes = fs_err::read(path)?;
    Ok(Config::parse_bytes(&bytes, Config::DEFAULT_PREFIX)
        .map_err(|e| e.in_file(display_path(path).as_str()))?)
}

/// Refuses a path that is not a regular file (links followed): a FIFO would block the
/// read forever and a device such as `/dev/zero` would never end it.
fn require_regular(path: &Utf8Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(()); // reading it says why it cannot be read
    };
    let kind = meta.file_type();
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a device"
    };
    bail!(
        "{}: is {what}, not a regular file: give the path of a config file",
        display_path(path)
    )
}
