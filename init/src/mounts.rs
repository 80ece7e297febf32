//! The kernel's API filesystems: mounting them at boot, unmounting everything at shutdown.

use std::ffi::CStr;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::mount_table;
use crate::sys::{self, cstr, MS_NODEV, MS_NOEXEC, MS_NOSUID};
use crate::uevent::{self, DEFAULT_MODE};

const ENODEV: i32 = 19;

/// One filesystem init mounts at boot; the strings are C strings, passed to
/// the kernel as they are.
struct Filesystem {
    fstype: &'static CStr,
    target: &'static CStr,
    flags: std::os::raw::c_ulong,
    data: &'static CStr,
}

const ROOT: &CStr = cstr(b"/\0");

impl Filesystem {
    fn target(&self) -> std::borrow::Cow<'_, str> {
        self.target.to_string_lossy()
    }
}

const PROC: Filesystem = Filesystem {
    fstype: cstr(b"proc\0"),
    target: cstr(b"/proc\0"),
    flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
    data: cstr(b"\0"),
};
const SYSFS: Filesystem = Filesystem {
    fstype: cstr(b"sysfs\0"),
    target: cstr(b"/sys\0"),
    flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
    data: cstr(b"\0"),
};
const DEVTMPFS: Filesystem = Filesystem {
    fstype: cstr(b"devtmpfs\0"),
    target: cstr(b"/dev\0"),
    flags: MS_NOSUID,
    data: cstr(b"mode=0755\0"),
};
const DEVPTS: Filesystem = Filesystem {
    fstype: cstr(b"devpts\0"),
    target: cstr(b"/dev/pts\0"),
    flags: MS_NOSUID | MS_NOEXEC,
    data: cstr(b"mode=0620,ptmxmode=0666\0"),
};
const TMP: Filesystem = Filesystem {
    fstype: cstr(b"tmpfs\0"),
    target: cstr(b"/tmp\0"),
    flags: MS_NOSUID | MS_NODEV,
    data: cstr(b"mode=1777\0"),
};
const RUN: Filesystem = Filesystem {
    fstype: cstr(b"tmpfs\0"),
    target: cstr(b"/run\0"),
    flags: MS_NOSUID | MS_NODEV,
    data: cstr(b"mode=0755\0"),
};

/// Mounts `fs` unless its target is already a mount point (its device differs
/// from the device of the directory holding it, which `parent` gives: init may
/// run on a root where some are, e.g. a disk root with `CONFIG_DEVTMPFS_MOUNT`),
/// creating the target when it is missing.
///
/// One `statx` of the target answers both questions, so the usual case (the
/// directory exists, nothing is mounted) makes no `mkdir` call, and `parent`
/// is only asked when the target exists: under emulation every system call
/// and every new kernel path costs time.
fn mount_unless_mounted(
    fs: &Filesystem,
    parent: impl FnOnce() -> Option<(u32, u32)>,
) -> io::Result<()> {
    match sys::device_of(fs.target) {
        Ok(target) => {
            if matches!(parent(), Some(parent) if parent != target) {
                return Ok(());
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // A failure here shows again, with more detail, as mount's error.
            if let Err(e) = sys::make_dir(fs.target, 0o755) {
                if e.kind() != io::ErrorKind::AlreadyExists {
                    say!("cannot create {}: {e}", fs.target());
                }
            }
        }
        Err(_) => {}
    }
    sys::mount_fs(fs.fstype, fs.target, fs.fstype, fs.flags, fs.data)
}

/// Mounts proc, sysfs, devtmpfs (or fills `/dev` from sysfs), devpts and tmpfs
/// on `/tmp` and `/run`, reporting each failure and carrying on.
pub fn mount_all() {
    let root = sys::device_of(ROOT).ok();
    let root = || root;
    if let Err(e) = mount_unless_mounted(&PROC, root) {
        say!("cannot mount proc on /proc: {e}");
    }
    if let Err(e) = mount_unless_mounted(&SYSFS, root) {
        say!("cannot mount sysfs on /sys: {e}");
    }
    match mount_unless_mounted(&DEVTMPFS, root) {
        Ok(()) => {}
        Err(e) => {
            if e.raw_os_error() == Some(ENODEV) {
                say!("no devtmpfs in this kernel: creating /dev nodes from /sys/dev");
            } else {
                say!("cannot mount devtmpfs on /dev: {e}: creating /dev nodes from /sys/dev");
            }
            fill_dev();
        }
    }
    if let Err(e) = mount_unless_mounted(&DEVPTS, || sys::device_of(DEVTMPFS.target).ok()) {
        say!("cannot mount devpts on /dev/pts: {e}");
    }
    link_dev_fds();
    for fs in [&TMP, &RUN] {
        if let Err(e) = mount_unless_mounted(fs, root) {
            // Without CONFIG_TMPFS the kernel's internal tmpfs refuses user mounts.
            say!(
                "cannot mount tmpfs on {}: {e}: {} stays on the root filesystem (is CONFIG_TMPFS set?)",
                fs.target(),
                fs.target()
            );
        }
    }
}

/// The links devtmpfs leaves to user space; a shell's `<(...)` and `/dev/stdin` need them.
fn link_dev_fds() {
    for (link, target) in [
        (cstr(b"/dev/fd\0"), cstr(b"/proc/self/fd\0")),
        (cstr(b"/dev/stdin\0"), cstr(b"/proc/self/fd/0\0")),
        (cstr(b"/dev/stdout\0"), cstr(b"/proc/self/fd/1\0")),
        (cstr(b"/dev/stderr\0"), cstr(b"/proc/self/fd/2\0")),
    ] {
        match sys::make_symlink(target, link) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                say!(
                    "cannot link {} to {}: {e}",
                    link.to_string_lossy(),
                    target.to_string_lossy()
                );
            }
            _ => {}
        }
    }
}

/// Creates a node in `/dev` for every device in `/sys/dev/char` and `/sys/dev/block`,
/// as devtmpfs would.
fn fill_dev() {
    for (kind, file_type) in [("char", sys::S_IFCHR), ("block", sys::S_IFBLK)] {
        let dir = format!("/sys/dev/{kind}");
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                say!("cannot list {dir}: {e}");
                continue;
            }
        };
        for entry in entries.flatten() {
            let text = match fs::read_to_string(entry.path().join("uevent")) {
                Ok(text) => text,
                Err(_) => continue,
            };
            if let Some(node) = uevent::parse(&text) {
                make_node(&node, file_type);
            }
        }
    }
}

fn make_node(node: &uevent::DeviceNode, file_type: u32) {
    let path = Path::new("/dev").join(&node.name);
    if let Some(parent) = path.parent() {
        if let Err(e) = fs::create_dir_all(parent) {
            say!("cannot create {}: {e}", parent.display());
            return;
        }
    }
    let mode = node.mode.unwrap_or(DEFAULT_MODE);
    match sys::make_node(&path, file_type | mode, node.dev()) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return,
        Err(e) => {
            say!("cannot create {}: {e}", path.display());
            return;
        }
    }
    // mknod applies the umask; devtmpfs would not.
    if let Err(e) = fs::set_permissions(&path, fs::Permissions::from_mode(mode)) {
        say!("cannot set the mode of {}: {e}", path.display());
    }
}

/// Unmounts everything but the root, newest first, lazily when a filesystem is busy.
pub fn unmount_all() {
    let text = match fs::read_to_string("/proc/self/mounts") {
        Ok(text) => text,
        Err(e) => {
            say!("cannot read /proc/self/mounts: {e}: not unmounting");
            return;
        }
    };
    for m in mount_table::parse(&text).iter().rev() {
        if m.target == "/" {
            continue;
        }
        let target = Path::new(&m.target);
        if sys::unmount(target, false).is_err() {
            if let Err(e) = sys::unmount(target, true) {
                say!("cannot unmount {}: {e}", m.target);
            }
        }
    }
}
