//! The kernel's API filesystems: mounting them at boot, unmounting everything at shutdown.

use std::fs;
use std::io;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;

use crate::mount_table;
use crate::sys::{self, MS_NODEV, MS_NOEXEC, MS_NOSUID};
use crate::uevent::{self, DEFAULT_MODE};

const ENODEV: i32 = 19;

/// One filesystem init mounts at boot.
struct Filesystem {
    fstype: &'static str,
    target: &'static str,
    flags: std::os::raw::c_ulong,
    data: &'static str,
}

const PROC: Filesystem = Filesystem {
    fstype: "proc",
    target: "/proc",
    flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
    data: "",
};
const SYSFS: Filesystem = Filesystem {
    fstype: "sysfs",
    target: "/sys",
    flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
    data: "",
};
const DEVTMPFS: Filesystem = Filesystem {
    fstype: "devtmpfs",
    target: "/dev",
    flags: MS_NOSUID,
    data: "mode=0755",
};
const DEVPTS: Filesystem = Filesystem {
    fstype: "devpts",
    target: "/dev/pts",
    flags: MS_NOSUID | MS_NOEXEC,
    data: "mode=0620,ptmxmode=0666",
};
const TMP: Filesystem = Filesystem {
    fstype: "tmpfs",
    target: "/tmp",
    flags: MS_NOSUID | MS_NODEV,
    data: "mode=1777",
};
const RUN: Filesystem = Filesystem {
    fstype: "tmpfs",
    target: "/run",
    flags: MS_NOSUID | MS_NODEV,
    data: "mode=0755",
};

/// Whether `target` is already a mount point (its device differs from its
/// parent's): init may run on a root where some are, e.g. a disk root with
/// `CONFIG_DEVTMPFS_MOUNT`. Cheaper than reading the mount table, which matters
/// under emulation, where every new kernel path costs translation time.
fn is_mount_point(target: &Path) -> bool {
    let parent = target.parent().unwrap_or(target);
    match (fs::metadata(target), fs::metadata(parent)) {
        (Ok(t), Ok(p)) => t.dev() != p.dev(),
        _ => false,
    }
}

fn mount(fs: &Filesystem) -> io::Result<()> {
    let target = Path::new(fs.target);
    match fs::create_dir(target) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            say!("cannot create {}: {e}", fs.target);
        }
        _ => {}
    }
    sys::mount_fs(fs.fstype, target, fs.fstype, fs.flags, fs.data)
}

fn mount_unless_mounted(fs: &Filesystem) -> io::Result<()> {
    if is_mount_point(Path::new(fs.target)) {
        return Ok(());
    }
    mount(fs)
}

/// Mounts proc, sysfs, devtmpfs (or fills `/dev` from sysfs), devpts and tmpfs
/// on `/tmp` and `/run`, reporting each failure and carrying on.
pub fn mount_all() {
    if let Err(e) = mount_unless_mounted(&PROC) {
        say!("cannot mount proc on /proc: {e}");
    }
    if let Err(e) = mount_unless_mounted(&SYSFS) {
        say!("cannot mount sysfs on /sys: {e}");
    }
    match mount_unless_mounted(&DEVTMPFS) {
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
    if let Err(e) = mount_unless_mounted(&DEVPTS) {
        say!("cannot mount devpts on /dev/pts: {e}");
    }
    link_dev_fds();
    for fs in [&TMP, &RUN] {
        if let Err(e) = mount_unless_mounted(fs) {
            // Without CONFIG_TMPFS the kernel's internal tmpfs refuses user mounts.
            say!(
                "cannot mount tmpfs on {}: {e}: {} stays on the root filesystem (is CONFIG_TMPFS set?)",
                fs.target,
                fs.target
            );
        }
    }
}

/// The links devtmpfs leaves to user space; a shell's `<(...)` and `/dev/stdin` need them.
fn link_dev_fds() {
    for (link, target) in [
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"),
    ] {
        match symlink(target, link) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                say!("cannot link {link} to {target}: {e}");
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
