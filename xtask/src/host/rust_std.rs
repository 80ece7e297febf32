//! Where the guest's init gets a Rust standard library for the board's target, decided
//! here once for setup, doctor and the build: the host toolchain's (rustup, or a native
//! target), else Debian's rustc with `libstd-rust-dev:<arch>` unpacked into a private
//! sysroot in the cache (Debian only: its archive alone carries every architecture).
//! init itself is `no_std`: of these it links only `core` and `compiler_builtins`.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use std::process::Command;

use super::os::OsRelease;
use crate::board::Board;
use crate::engine::Stage;
use crate::layout;

/// How init gets a standard library for the guest's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RustStd {
    /// The host toolchain has it (`rustup target add`, or a native target).
    Host,
    /// Debian's rustc plus `libstd-rust-dev:<arch>`, which needs `<arch>` added to dpkg.
    Debian {
        /// Debian architecture, e.g. `armel`.
        arch: String,
    },
    /// Neither: the user must add the target to their toolchain.
    Missing {
        /// The Rust target triple.
        target: String,
    },
}

/// Whether the host's `rustc` (rustup's, usually) has a std for `target`.
pub fn host_has_rust_std(target: &str) -> bool {
    let Ok(out) = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", target])
        .output()
    else {
        return false;
    };
    if !out.status.success() {
        return false;
    }
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
        })
        .unwrap_or(false)
}

/// Where init's std comes from on this host.
pub fn rust_std(board: &Board, os: &OsRelease) -> RustStd {
    let target = &board.spec.rust_target;
    if host_has_rust_std(target) {
        return RustStd::Host;
    }
    match &board.spec.debian_arch {
        // Only Debian's archive carries every architecture (Ubuntu has no armel).
        Some(arch) if os.is_debian() => RustStd::Debian { arch: arch.clone() },
        _ => RustStd::Missing {
            target: target.clone(),
        },
    }
}

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

/// How init is compiled for the board's Rust target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RustRoute {
    /// The host's rustc has the target's libraries (rustup target add, or native).
    Host,
    /// Debian's rustc with the target's libraries from Debian packages in a private sysroot.
    DebianRustc {
        /// `<sysroot>/lib/rustlib/<target>/lib` holds the target's std.
        sysroot: Utf8PathBuf,
    },
}

/// How the build compiles init on this host: [`rust_std`]'s decision, with the sysroot
/// for the Debian route.
pub fn route(board: &Board) -> Result<RustRoute> {
    match rust_std(board, &OsRelease::read()) {
        RustStd::Host => Ok(RustRoute::Host),
        RustStd::Debian { .. } => Ok(RustRoute::DebianRustc {
            sysroot: debian_sysroot(board)?,
        }),
        RustStd::Missing { target } => match &board.spec.debian_arch {
            None => bail!(
                "the host toolchain has no std for {target} and board.toml sets no debian_arch: \
                 run `rustup target add {target}`"
            ),
            Some(arch) => bail!(
                "the host toolchain has no std for {target}, and Debian's libstd-rust-dev:{arch} \
                 is only used on Debian: run `rustup target add {target}`"
            ),
        },
    }
}
