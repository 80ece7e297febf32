//! The Rust standard library for the guest when rustup cannot provide it:
//! Debian's `libstd-rust-dev:<arch>` unpacked into a private sysroot in the cache.

use anyhow::{bail, Context, Result};
use camino::Utf8PathBuf;
use std::process::Command;

use crate::board::Board;
use crate::layout;

/// Returns `<sysroot>` such that `<sysroot>/lib/rustlib/<target>/lib` holds the target's std,
/// downloading and unpacking Debian's packages on first use.
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
    let root = layout::cache_dir()
        .join("rust-sysroot")
        .join(format!("{arch}-{version}"));
    let sysroot = root.join("usr");
    if sysroot
        .join("lib/rustlib")
        .join(target)
        .join("lib")
        .is_dir()
    {
        return Ok(sysroot);
    }
    fs_err::create_dir_all(root.parent().context("cache dir")?)?;
    let tmp = tempfile::tempdir_in(root.parent().context("cache dir")?)?;
    let tmp_path = Utf8PathBuf::try_from(tmp.path().to_path_buf())?;
    let packages = [
        format!("libstd-rust-dev:{arch}"),
        format!("libstd-rust-{version}:{arch}"),
    ];
    let status = Command::new("apt-get")
        .arg("download")
        .args(&packages)
        .current_dir(&tmp_path)
        .status()
        .context("running apt-get download")?;
    if !status.success() {
        bail!(
            "apt-get download {} failed: run `cargo xtask setup` (it adds the {arch} architecture)",
            packages.join(" ")
        );
    }
    let unpacked = tmp_path.join("root");
    for deb in fs_err::read_dir(&tmp_path)? {
        let deb = deb?.path();
        if deb.extension().is_some_and(|e| e == "deb") {
            let status = Command::new("dpkg-deb")
                .arg("-x")
                .arg(&deb)
                .arg(&unpacked)
                .status()?;
            if !status.success() {
                bail!("dpkg-deb -x {} failed", deb.display());
            }
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
    fs_err::rename(&unpacked, &root)?;
    Ok(sysroot)
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
