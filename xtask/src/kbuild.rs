//! The kernel's and busybox's Kbuild, as configure and build drive it: the `make`
//! command for a source tree and its build folder, and reading the `.config` files
//! it writes (and the board's fragments).

mod tree;

pub use tree::{KernelKconfig, LoadedTree};

use anyhow::Result;
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
    let bytes = fs_err::read(path)?;
    Ok(Config::parse_bytes(&bytes, Config::DEFAULT_PREFIX)
        .map_err(|e| e.in_file(display_path(path).as_str()))?)
}
