//! The kernel's API filesystems: mounting them at boot, unmounting everything at shutdown.

use crate::cstr::{CBuf, CStr};
use crate::errno::Errno;
use crate::mount_table;
use crate::sys::{self, Dir, MS_NODEV, MS_NOEXEC, MS_NOSUID};
use crate::uevent::{self, DeviceNode, DEFAULT_MODE};

/// Room for a path init builds under `/dev` or `/sys`.
type Path = CBuf<512>;

/// One filesystem init mounts at boot; the strings are passed to the kernel as they are.
struct Filesystem {
    fstype: CStr<'static>,
    target: CStr<'static>,
    flags: usize,
    data: CStr<'static>,
}

const PROC: Filesystem = Filesystem {
    fstype: c!("proc"),
    target: c!("/proc"),
    flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
    data: c!(""),
};
const SYSFS: Filesystem = Filesystem {
    fstype: c!("sysfs"),
    target: c!("/sys"),
    flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
    data: c!(""),
};
const DEVTMPFS: Filesystem = Filesystem {
    fstype: c!("devtmpfs"),
    target: c!("/dev"),
    flags: MS_NOSUID,
    data: c!("mode=0755"),
};
const DEVPTS: Filesystem = Filesystem {
    fstype: c!("devpts"),
    target: c!("/dev/pts"),
    flags: MS_NOSUID | MS_NOEXEC,
    data: c!("mode=0620,ptmxmode=0666"),
};
const TMP: Filesystem = Filesystem {
    fstype: c!("tmpfs"),
    target: c!("/tmp"),
    flags: MS_NOSUID | MS_NODEV,
    data: c!("mode=1777"),
};
const RUN: Filesystem = Filesystem {
    fstype: c!("tmpfs"),
    target: c!("/run"),
    flags: MS_NOSUID | MS_NODEV,
    data: c!("mode=0755"),
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
) -> Result<(), Errno> {
    match sys::device_of(fs.target) {
        Ok(target) => {
            if matches!(parent(), Some(parent) if parent != target) {
                return Ok(());
            }
        }
        Err(Errno::ENOENT) => {
            // A failure here shows again, with more detail, as mount's error.
            match sys::make_dir(fs.target, 0o755) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => say!("cannot create ", fs.target, ": ", e),
            }
        }
        Err(_) => {}
    }
    sys::mount_fs(fs.fstype, fs.target, fs.fstype, fs.flags, fs.data)
}

/// Mounts proc, sysfs, devtmpfs (or fills `/dev` from sysfs), devpts and tmpfs
/// on `/tmp` and `/run`, reporting each failure and carrying on.
pub fn mount_all() {
    let root = sys::device_of(c!("/")).ok();
    let root = || root;
    if let Err(e) = mount_unless_mounted(&PROC, root) {
        say!("cannot mount proc on /proc: ", e);
    }
    if let Err(e) = mount_unless_mounted(&SYSFS, root) {
        say!("cannot mount sysfs on /sys: ", e);
    }
    match mount_unless_mounted(&DEVTMPFS, root) {
        Ok(()) => {}
        Err(Errno::ENODEV) => {
            say!("no devtmpfs in this kernel: creating /dev nodes from /sys/dev");
            fill_dev();
        }
        Err(e) => {
            say!(
                "cannot mount devtmpfs on /dev: ",
                e,
                ": creating /dev nodes from /sys/dev"
            );
            fill_dev();
        }
    }
    if let Err(e) = mount_unless_mounted(&DEVPTS, || sys::device_of(DEVTMPFS.target).ok()) {
        say!("cannot mount devpts on /dev/pts: ", e);
    }
    link_dev_fds();
    for fs in [&TMP, &RUN] {
        if let Err(e) = mount_unless_mounted(fs, root) {
            // Without CONFIG_TMPFS the kernel's internal tmpfs refuses user mounts.
            say!(
                "cannot mount tmpfs on ",
                fs.target,
                ": ",
                e,
                ": ",
                fs.target,
                " stays on the root filesystem (is CONFIG_TMPFS set?)"
            );
        }
    }
}

/// The links devtmpfs leaves to user space; a shell's `<(...)` and `/dev/stdin` need them.
fn link_dev_fds() {
    for (link, target) in [
        (c!("/dev/fd"), c!("/proc/self/fd")),
        (c!("/dev/stdin"), c!("/proc/self/fd/0")),
        (c!("/dev/stdout"), c!("/proc/self/fd/1")),
        (c!("/dev/stderr"), c!("/proc/self/fd/2")),
    ] {
        match sys::make_symlink(target, link) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => say!("cannot link ", link, " to ", target, ": ", e),
        }
    }
}

/// Creates a node in `/dev` for every device in `/sys/dev/char` and `/sys/dev/block`,
/// as devtmpfs would.
fn fill_dev() {
    for (dir, file_type) in [
        (c!("/sys/dev/char"), sys::S_IFCHR),
        (c!("/sys/dev/block"), sys::S_IFBLK),
    ] {
        let mut entries = match Dir::open(dir) {
            Ok(entries) => entries,
            Err(e) => {
                say!("cannot list ", dir, ": ", e);
                continue;
            }
        };
        let mut text = [0u8; 1024];
        // A listing error ends this directory, as a failed readdir would.
        while let Ok(Some(name)) = entries.next_name() {
            let path = match Path::from_parts(&[dir.to_bytes(), b"/", name, b"/uevent"]) {
                Ok(path) => path,
                Err(_) => continue,
            };
            let n = match sys::read_file(path.as_cstr(), &mut text) {
                Ok(n) => n,
                Err(_) => continue,
            };
            if let Some(node) = uevent::parse(text.get(..n).unwrap_or(&[])) {
                make_node(&node, file_type);
            }
        }
    }
}

fn make_node(node: &DeviceNode, file_type: u32) {
    // The directories between /dev and the node (`input/` for `input/event0`),
    // each made in turn, as `mkdir -p` does.
    for (slash, _) in node.name.iter().enumerate().filter(|(_, &b)| b == b'/') {
        let parent = node.name.get(..slash).unwrap_or(&[]);
        let made = Path::from_parts(&[b"/dev/", parent]).and_then(|dir| {
            match sys::make_dir(dir.as_cstr(), 0o755) {
                Err(Errno::EEXIST) => Ok(()),
                other => other,
            }
        });
        if let Err(e) = made {
            say!("cannot create /dev/", parent, ": ", e);
            return;
        }
    }
    let path = match Path::from_parts(&[b"/dev/", node.name]) {
        Ok(path) => path,
        Err(e) => {
            say!("cannot create /dev/", node.name, ": ", e);
            return;
        }
    };
    let mode = node.mode.unwrap_or(DEFAULT_MODE);
    match sys::make_node(path.as_cstr(), file_type | mode, node.dev()) {
        Ok(()) => {}
        Err(Errno::EEXIST) => return,
        Err(e) => {
            say!("cannot create ", path.as_cstr(), ": ", e);
            return;
        }
    }
    // mknod applies the umask; devtmpfs would not.
    if let Err(e) = sys::set_mode(path.as_cstr(), mode) {
        say!("cannot set the mode of ", path.as_cstr(), ": ", e);
    }
}

/// Unmounts everything but the root, newest first, lazily when a filesystem is busy.
pub fn unmount_all() {
    let mut buf = [0u8; 16384];
    let n = match sys::read_file(c!("/proc/self/mounts"), &mut buf) {
        Ok(n) => n,
        Err(e) => {
            say!("cannot read /proc/self/mounts: ", e, ": not unmounting");
            return;
        }
    };
    let mut text = buf.get(..n).unwrap_or(&[]);
    if n == buf.len() {
        // Cut short: leave out the last, partial line.
        let end = text.iter().rposition(|&b| b == b'\n').unwrap_or(0);
        text = text.get(..end).unwrap_or(&[]);
    }
    let mut target = CBuf::<4096>::new();
    for m in mount_table::newest_first(text) {
        if m.target == b"/" {
            continue;
        }
        if let Err(e) = mount_table::unescape(m.target, &mut target) {
            say!("cannot unmount ", m.target, ": ", e);
            continue;
        }
        if sys::unmount(target.as_cstr(), false).is_err() {
            if let Err(e) = sys::unmount(target.as_cstr(), true) {
                say!("cannot unmount ", target.as_cstr(), ": ", e);
            }
        }
    }
}
