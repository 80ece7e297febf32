//! The `--exec` channel: the command travels as a file of the initramfs, not on the
//! kernel command line, so any bytes of any length reach the guest intact.
//!
//! For one boot, xtask writes a temp file in the board's output dir: a small uncompressed
//! newc archive holding the command as [`GUEST_PATH`], padded to 4 bytes, then the packed
//! initramfs as it is. The kernel unpacks concatenated archives in order (init/initramfs.c
//! `unpack_to_rootfs`), as it does for early-microcode archives, which go first for the same
//! reason: the end of an uncompressed archive is exact, while where a compressed stream ends
//! is not known to every decompressor. The cached initramfs is never modified. The kernel
//! command line carries only [`PARAM`], which tells init where the file is.

use anyhow::{Context, Result};
use camino::Utf8Path;
use std::io::Write;
use tempfile::TempPath;

/// Where the command lands in the guest (not under `/run`: init mounts a tmpfs there).
pub const GUEST_PATH: &str = "/.minilinux/exec";
/// The kernel parameter naming the file to init (see docs/init.md).
pub const PARAM: &str = "init.exec_file=/.minilinux/exec";

/// The archive holding `command` as [`GUEST_PATH`] (mode 0755: init runs it as a script),
/// padded with NULs to a multiple of 4 bytes so that the next archive starts aligned.
pub fn archive(command: &[u8]) -> Result<Vec<u8>> {
    let file = rootfs::InlineFile {
        path: GUEST_PATH,
        mode: 0o755,
        data: command,
    };
    let mut bytes =
        rootfs::archive_of_files(&[file], 0).context("writing the command's archive")?;
    bytes.resize(bytes.len().next_multiple_of(4), 0);
    Ok(bytes)
}

/// Writes, in `dir`, a new file holding the command's archive followed by `initrd`; it is
/// removed when the returned path is dropped.
pub fn write(dir: &Utf8Path, initrd: &Utf8Path, command: &[u8]) -> Result<TempPath> {
    let archive = archive(command)?;
    let packed = fs_err::read(initrd)?;
    fs_err::create_dir_all(dir)?;
    let mut file = tempfile::Builder::new()
        .prefix("exec-initramfs-")
        .suffix(".cpio")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {dir}"))?;
    file.write_all(&archive)
        .and_then(|()| file.write_all(&packed))
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write {}", file.path().display()))?;
    Ok(file.into_temp_path())
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn the_command_goes_first_and_the_initramfs_follows_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(dir.path()).unwrap();
        let files = [rootfs::InlineFile {
            path: "/init",
            mode: 0o755,
            data: b"\x7fELF",
        }];
        fs_err::write(
            dir.join("initramfs.cpio"),
            rootfs::archive_of_files(&files, 0).unwrap(),
        )
        .unwrap();
        let gzip = std::process::Command::new("gzip")
            .args(["-n", "-k", dir.join("initramfs.cpio").as_str()])
            .status()
            .expect("gzip runs");
        assert!(gzip.success());
        let packed = fs_err::read(dir.join("initramfs.cpio.gz")).unwrap();
        let command = b"echo \"it's\"\nprintf '\xff'\n";
        let path = write(dir, &dir.join("initramfs.cpio.gz"), command).unwrap();
        let bytes = fs_err::read(&path).unwrap();
        assert!(bytes.ends_with(&packed), "the initramfs follows as it is");
        let entries = rootfs::list(&bytes).unwrap();
        expect![[r#"
            drwxr-xr-x 2 0 0  0 /.minilinux
            -rwxr-xr-x 1 0 0 23 /.minilinux/exec
            -rwxr-xr-x 1 0 0  4 /init
        "#]]
        .assert_eq(&rootfs::render_listing(&entries));
        let exec = entries
            .iter()
            .find(|e| e.name == ".minilinux/exec")
            .unwrap();
        assert_eq!(exec.data, command);
        let shown = path.to_path_buf();
        drop(path);
        assert!(!shown.exists(), "removed when dropped");
    }
}
