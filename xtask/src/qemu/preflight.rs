//! Checks across stages before booting: a mismatch here would otherwise be a
//! silent hang or a panic in QEMU, so each error names the fix.

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use kconfig::{Config, Tristate, Value};
use rootfs::Compression;

use crate::board::Board;

use crate::elf::{check_guest, GuestElfError};
use crate::kbuild::read_config;
use crate::layout::display_path;

/// The built kernel's `.config`, or an error saying to configure first.
fn kernel_config(board: &Board) -> Result<Config> {
    let path = board.kernel_config();
    if !path.exists() {
        bail!(
            "{} is missing: run `cargo xtask configure`",
            display_path(&path)
        );
    }
    read_config(&path)
}

fn is_y(config: &Config, symbol: &str) -> bool {
    matches!(config.get(symbol), Some(Value::Tristate(Tristate::Yes)))
}

fn require_y(board: &Board, config: &Config, symbol: &str, why: &str) -> Result<()> {
    if is_y(config, symbol) {
        return Ok(());
    }
    bail!(
        "the kernel has CONFIG_{symbol} off, but {why}: run `cargo xtask kconfig set --board {} CONFIG_{symbol}=y`, then `cargo xtask all`",
        board.name
    )
}

/// The kernel must be able to unpack the initramfs compression.
pub fn check_compression(board: &Board, compression: Compression) -> Result<()> {
    let Some(symbol) = compression.kernel_symbol() else {
        return Ok(());
    };
    let config = kernel_config(board)?;
    let symbol = symbol.trim_start_matches("CONFIG_");
    require_y(
        board,
        &config,
        symbol,
        &format!("the initramfs is {compression:?}-compressed"),
    )
}

/// Everything that must hold before booting `initrd` with kernel command line `cmdline`.
pub fn check(board: &Board, initrd: &Utf8Path, cmdline: &str) -> Result<()> {
    let config = kernel_config(board)?;
    require_y(
        board,
        &config,
        "BLK_DEV_INITRD",
        "the system boots from an initramfs",
    )?;
    require_y(board, &config, "DEVTMPFS", "init mounts devtmpfs on /dev")?;
    check_console(board, cmdline)?;
    let bytes = fs_err::read(initrd)?;
    let compression = Compression::detect(&bytes).with_context(|| initrd.to_string())?;
    if let Some(compression) = compression {
        check_compression(board, compression)?;
    }
    let entries = rootfs::list(&bytes).with_context(|| initrd.to_string())?;
    let init = entries.iter().find(|e| e.name == "init").with_context(|| {
        format!(
            "{initrd} has no /init: add it to {}",
            display_path(&board.manifest())
        )
    })?;
    if init.mode & 0o111 == 0 {
        bail!(
            "/init in {initrd} is not executable: give it mode 0755 in {}",
            display_path(&board.manifest())
        );
    }
    // Not `static_only`: a manifest may bring its own dynamic loader and libraries.
    match check_guest(&init.data, board.spec.elf_machine, false) {
        Ok(_) => Ok(()),
        Err(GuestElfError::Machine { found, expected }) => bail!(
            "/init in {initrd} is an ELF for machine {found}, but board {} needs machine {expected}: rebuild it with `cargo xtask build`",
            board.name,
        ),
        Err(_) if init.data.starts_with(b"#!") => Ok(()),
        Err(_) => bail!("/init in {initrd} is neither an ELF nor a script"),
    }
}

/// `console=` on the command line must name the board's console, or the shell talks to nothing.
fn check_console(board: &Board, cmdline: &str) -> Result<()> {
    let consoles: Vec<&str> = cmdline
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("console="))
        .map(|c| c.split(',').next().unwrap_or(c))
        .collect();
    let want = &board.spec.qemu.console;
    if consoles.is_empty() || consoles.iter().any(|c| c == want) {
        return Ok(());
    }
    bail!(
        "the kernel command line sends the console to {} but board {} has its console on {want}: set console={want} in CONFIG_CMDLINE (`cargo xtask kconfig get CMDLINE`)",
        consoles.join(", "),
        board.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board() -> Board {
        Board::load("versatilepb").unwrap()
    }

    #[test]
    fn console_check_accepts_the_board_console_or_none() {
        assert!(check_console(&board(), "console=ttyAMA0 root=/dev/ram0").is_ok());
        assert!(check_console(&board(), "console=tty0 console=ttyAMA0,115200").is_ok());
        assert!(check_console(&board(), "quiet").is_ok());
    }

    #[test]
    fn console_check_names_the_fix() {
        let err = check_console(&board(), "console=ttyS0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("console=ttyAMA0 in CONFIG_CMDLINE"), "{err}");
    }
}
