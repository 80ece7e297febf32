//! The Rust standard library for the guest when rustup cannot provide it:
//! Debian's `libstd-rust-dev:<arch>` unpacked into a private sysroot in the cache.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use std::process::Command;

use crate::board::Board;
use crate::engine::Stage;
use crate::layout;

/// Where the private sysroot for the board's target lives: `<sysroot>` such that
/// `<sysroot>/lib/rustlib/<target>/lib` holds the target's std. Nothing is downloaded.
pub fn debian_sysroot(board: &Board) -> Result<Utf8PathBuf> {
    let target = &board.spec.rust_target;
    let Some(arch) = board.spec.debian_arch.as_deref() else {
        bail!(
            "the host toolchain has no std for {target} and board.toml sets no debian_arch: \
             run `rustup target add {target}`"
        );
    };
    if !std::path::Path::new("/usr/bin/rustc").exists() {
        bail!("/usr/bin/rustc is missing (Debian's rustc builds init for {target}): run `cargo xtask setup`");
    }
    let version = debian_rustc_version()?;
    Ok(layout::cache_dir()
        .join("rust-sysroot")
        .join(format!("{arch}-{version}"))
        .join("usr"))
}

/// Makes sure the sysroot of [`debian_sysroot`] holds the target's std, downloading
/// Debian's `libstd-rust-dev:<arch>` and `libstd-rust-<version>:<arch>` on first use.
pub fn ensure_debian_sysroot(stage: &Stage, board: &Board, sysroot: &Utf8Path) -> Result<()> {
    let target = &board.spec.rust_target;
    if sysroot
        .join("lib/rustlib")
        .join(target)
        .join("lib")
        .is_dir()
    {
        return Ok(());
    }
    let arch = board
        .spec
        .debian_arch
        .as_deref()
        .context("board.toml sets no debian_arch")?;
    let version = debian_rustc_version()?;
    let root = sysroot.parent().context("sysroot has no parent")?;
    let cache = root.parent().context("sysroot has no parent")?;
    layout::claim_cache(&layout::cache_dir())?;
    fs_err::create_dir_all(cache)?;
    let tmp = tempfile::tempdir_in(cache)?;
    let tmp_path = Utf8PathBuf::try_from(tmp.path().to_path_buf())?;
    // apt downloads as the unprivileged `_apt` user when it can enter the directory.
    use std::os::unix::fs::PermissionsExt;
    fs_err::set_permissions(&tmp_path, std::fs::Permissions::from_mode(0o755))?;
    let packages = [
        format!("libstd-rust-dev:{arch}"),
        format!("libstd-rust-{version}:{arch}"),
    ];
    stage.status(&format!("apt-get download {}", packages.join(" ")));
    let mut download = Command::new("apt-get");
    download
        .arg("download")
        .args(&packages)
        .current_dir(&tmp_path);
    stage.run(download).with_context(|| {
        format!("downloading Debian's std for {target}: run `cargo xtask setup` (it adds the {arch} architecture)")
    })?;
    let unpacked = tmp_path.join("root");
    for deb in fs_err::read_dir(&tmp_path)? {
        let deb = deb?.path();
        if deb.extension().is_some_and(|e| e == "deb") {
            let mut extract = Command::new("dpkg-deb");
            extract.arg("-x").arg(&deb).arg(&unpacked);
            stage.run(extract)?;
        }
    }
    if !unpacked
        .join("usr/lib/rustlib")
        .join(target)
        .join("lib")
        .is_dir()
    {
        bail!("Debian's libstd-rust-dev:{arch} has no std for {target}");
    }
    fs_err::rename(&unpacked, root)?;
    Ok(())
}
/// `1.63` from `/usr/bin/rustc --version`.
fn debian_rustc_version() -> Result<String> {
    let out = Command::new("/usr/bin/rustc").arg("--version").output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let full = text
        .split_whitespace()
        .nth(1)
        .context("unexpected rustc --version output")?;
    Ok(full.split('.').take(2).collect::<Vec<_>>().join("."))
}
