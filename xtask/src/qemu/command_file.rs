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
//!
//! Each file is locked (`flock`) while its boot lives; a process killed before it could
//! remove its own leaves it unlocked, and the next [`write`] in that dir removes it.

use anyhow::{Context, Result};
use camino::Utf8Path;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};
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

/// The file prefix and suffix of the initramfs files of `--exec` boots.
const PREFIX: &str = "exec-initramfs-";
const SUFFIX: &str = ".cpio";
/// How old an unlocked file must be to be taken as left behind: a new one is unlocked for
/// the moment between its creation and its lock.
const LEFT_BEHIND_AFTER: Duration = Duration::from_secs(60);

/// The initramfs of one `--exec` boot: removed when dropped, locked while it lives.
#[derive(Debug)]
pub struct ExecInitrd {
    path: TempPath,
    /// Holds the `flock` that tells [`remove_left_behind`] this file is in use.
    _lock: std::fs::File,
}

impl ExecInitrd {
    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Writes, in `dir`, a new file holding the command's archive followed by `initrd`; it is
/// removed when the returned value is dropped. Removes first the files of earlier boots
/// that no live process holds (their xtask was killed).
pub fn write(dir: &Utf8Path, initrd: &Utf8Path, command: &[u8]) -> Result<ExecInitrd> {
    let archive = archive(command)?;
    let packed = fs_err::read(initrd)?;
    fs_err::create_dir_all(dir)?;
    remove_left_behind(dir);
    let mut file = tempfile::Builder::new()
        .prefix(PREFIX)
        .suffix(SUFFIX)
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {dir}"))?;
    file.as_file()
        .lock()
        .with_context(|| format!("cannot lock {}", file.path().display()))?;
    file.write_all(&archive)
        .and_then(|()| file.write_all(&packed))
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write {}", file.path().display()))?;
    let (lock, path) = file.into_parts();
    Ok(ExecInitrd { path, _lock: lock })
}

/// Removes the `--exec` initramfs files in `dir` that are unlocked and older than
/// [`LEFT_BEHIND_AFTER`]; what cannot be read or removed stays, silently (it is only
/// space).
fn remove_left_behind(dir: &Utf8Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(PREFIX) && name.ends_with(SUFFIX)) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = std::fs::File::open(&path) else {
            continue;
        };
        let old = file
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|at| now.duration_since(at).unwrap_or_default() >= LEFT_BEHIND_AFTER);
        if old && file.try_lock().is_ok() {
            let _ = std::fs::remove_file(&path);
        }
    }
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
        let initrd = write(dir, &dir.join("initramfs.cpio.gz"), command).unwrap();
        let bytes = fs_err::read(initrd.path()).unwrap();
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
        let shown = initrd.path().to_path_buf();
        drop(initrd);
        assert!(!shown.exists(), "removed when dropped");
    }

    /// A file named as an `--exec` initramfs in `dir`, last modified `age` ago.
    fn exec_file(dir: &Utf8Path, name: &str, age: Duration) -> std::fs::File {
        let path = dir.join(format!("{PREFIX}{name}{SUFFIX}"));
        let file = std::fs::File::create(&path).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
        file
    }

    #[test]
    fn a_write_removes_only_the_files_no_live_boot_holds() {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(dir.path()).unwrap();
        fs_err::write(dir.join("initramfs.cpio"), b"").unwrap();
        let hour = Duration::from_secs(3600);
        drop(exec_file(dir, "killed", hour));
        let live = exec_file(dir, "live", hour);
        live.lock().unwrap();
        drop(exec_file(dir, "just-made", Duration::ZERO));
        fs_err::write(dir.join("other.cpio"), b"").unwrap();
        let initrd = write(dir, &dir.join("initramfs.cpio"), b"true").unwrap();
        let mut names: Vec<String> = fs_err::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !initrd.path().ends_with(n))
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "exec-initramfs-just-made.cpio",
                "exec-initramfs-live.cpio",
                "initramfs.cpio",
                "other.cpio"
            ]
        );
        // A live boot's file is locked, however old: another write leaves it.
        std::fs::File::options()
            .write(true)
            .open(initrd.path())
            .unwrap()
            .set_modified(SystemTime::now() - hour)
            .unwrap();
        drop(exec_file(dir, "killed-too", hour));
        let second = write(dir, &dir.join("initramfs.cpio"), b"true").unwrap();
        assert!(initrd.path().exists() && second.path().exists());
        assert!(!dir.join(format!("{PREFIX}killed-too{SUFFIX}")).exists());
    }
}
