//! The system calls std lacks, as thin safe wrappers over the C library.
//!
//! This is the only module with `unsafe`. Every wrapper turns the C convention
//! (-1 and `errno`) into `io::Result`, so callers report failures instead of
//! panicking. The numeric constants are the same on ARM (EABI) and x86_64,
//! the two targets init is built for; glibc's plain symbols are used, so on
//! 32-bit ARM `struct timespec` has a 32-bit `time_t` (`c_long`).

use std::ffi::CString;
use std::io;
use std::os::raw::{c_char, c_int, c_long, c_uint, c_ulong, c_void};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// `SIGHUP`: sent with `SIGTERM` at shutdown because interactive shells ignore `SIGTERM`.
pub const SIGHUP: c_int = 1;
/// `SIGINT`: the kernel's Ctrl-Alt-Del notification once CAD is turned off.
pub const SIGINT: c_int = 2;
/// `SIGKILL`: the end of the shutdown grace period.
pub const SIGKILL: c_int = 9;
/// `SIGUSR1`: busybox `halt`.
pub const SIGUSR1: c_int = 10;
/// `SIGUSR2`: busybox `poweroff`.
pub const SIGUSR2: c_int = 12;
/// `SIGTERM`: busybox `reboot`, and the polite request at shutdown.
pub const SIGTERM: c_int = 15;
/// `SIGCHLD`: a child (or an orphan re-parented to PID 1) changed state.
pub const SIGCHLD: c_int = 17;
/// `SIGCONT`: wakes stopped processes so they can act on `SIGTERM`.
pub const SIGCONT: c_int = 18;

/// `S_IFCHR`: file type bits of a character device node.
pub const S_IFCHR: u32 = 0o020000;
/// `S_IFBLK`: file type bits of a block device node.
pub const S_IFBLK: u32 = 0o060000;

/// `MS_NOSUID` mount flag.
pub const MS_NOSUID: c_ulong = 2;
/// `MS_NODEV` mount flag.
pub const MS_NODEV: c_ulong = 4;
/// `MS_NOEXEC` mount flag.
pub const MS_NOEXEC: c_ulong = 8;

const SIG_BLOCK: c_int = 0;
const SIG_SETMASK: c_int = 2;
const WNOHANG: c_int = 1;
const ECHILD: i32 = 10;
const MNT_DETACH: c_int = 2;
const TIOCSCTTY: c_ulong = 0x540E;
const F_GETFD: c_int = 1;
const O_RDWR: c_int = 2;
/// `O_NOCTTY`: opening a terminal must not make it PID 1's controlling terminal.
pub const O_NOCTTY: c_int = 0o400;

const LINUX_REBOOT_CMD_RESTART: u32 = 0x0123_4567;
const LINUX_REBOOT_CMD_HALT: u32 = 0xCDEF_0123;
const LINUX_REBOOT_CMD_POWER_OFF: u32 = 0x4321_FEDC;
const LINUX_REBOOT_CMD_CAD_OFF: u32 = 0;

/// glibc's `sigset_t`: 1024 bits on every Linux target.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawSigSet {
    bits: [u64; 16],
}

#[repr(C)]
struct Timespec {
    tv_sec: c_long,
    tv_nsec: c_long,
}

extern "C" {
    fn mount(
        source: *const c_char,
        target: *const c_char,
        fstype: *const c_char,
        flags: c_ulong,
        data: *const c_void,
    ) -> c_int;
    fn umount2(target: *const c_char, flags: c_int) -> c_int;
    fn reboot(howto: c_int) -> c_int;
    fn sethostname(name: *const c_char, len: usize) -> c_int;
    fn ioctl(fd: c_int, request: c_ulong, ...) -> c_int;
    fn setsid() -> c_int;
    fn sigfillset(set: *mut RawSigSet) -> c_int;
    fn sigemptyset(set: *mut RawSigSet) -> c_int;
    fn sigprocmask(how: c_int, set: *const RawSigSet, old: *mut RawSigSet) -> c_int;
    fn sigtimedwait(set: *const RawSigSet, info: *mut c_void, timeout: *const Timespec) -> c_int;
    fn kill(pid: c_int, sig: c_int) -> c_int;
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    fn sync();
    fn mknod(path: *const c_char, mode: c_uint, dev: u64) -> c_int;
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    fn open(path: *const c_char, flags: c_int, ...) -> c_int;
    fn dup2(old: c_int, new: c_int) -> c_int;
    fn close(fd: c_int) -> c_int;
    fn write(fd: c_int, buf: *const c_void, len: usize) -> isize;
}

fn check(ret: c_int) -> io::Result<c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn c_string(s: &[u8]) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "nul byte in string"))
}

fn c_path(path: &Path) -> io::Result<CString> {
    c_string(path.as_os_str().as_bytes())
}

/// Mounts a filesystem of type `fstype` on `target` with `flags` and the option string `data`.
pub fn mount_fs(
    source: &str,
    target: &Path,
    fstype: &str,
    flags: c_ulong,
    data: &str,
) -> io::Result<()> {
    let source = c_string(source.as_bytes())?;
    let target = c_path(target)?;
    let fstype = c_string(fstype.as_bytes())?;
    let data = c_string(data.as_bytes())?;
    // SAFETY: all pointers are valid NUL-terminated strings that outlive the call.
    check(unsafe {
        mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            flags,
            data.as_ptr().cast(),
        )
    })
    .map(drop)
}

/// Unmounts `target`, lazily (`MNT_DETACH`) when `lazy` is set.
pub fn unmount(target: &Path, lazy: bool) -> io::Result<()> {
    let target = c_path(target)?;
    let flags = if lazy { MNT_DETACH } else { 0 };
    // SAFETY: `target` is a valid NUL-terminated string.
    check(unsafe { umount2(target.as_ptr(), flags) }).map(drop)
}

/// Sets the kernel's host name.
pub fn set_hostname(name: &str) -> io::Result<()> {
    // SAFETY: the pointer and length describe `name`'s bytes, which outlive the call.
    check(unsafe { sethostname(name.as_ptr().cast(), name.len()) }).map(drop)
}

/// Creates a device node at `path`; `mode` carries the file type bits and permissions.
pub fn make_node(path: &Path, mode: u32, dev: u64) -> io::Result<()> {
    let path = c_path(path)?;
    // SAFETY: `path` is a valid NUL-terminated string.
    check(unsafe { mknod(path.as_ptr(), mode, dev) }).map(drop)
}

/// What the reboot system call should do to the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RebootCmd {
    /// `LINUX_REBOOT_CMD_RESTART`.
    Restart,
    /// `LINUX_REBOOT_CMD_HALT`.
    Halt,
    /// `LINUX_REBOOT_CMD_POWER_OFF`.
    PowerOff,
}

/// Stops the machine; only returns on failure.
pub fn reboot_machine(cmd: RebootCmd) -> io::Error {
    let magic = match cmd {
        RebootCmd::Restart => LINUX_REBOOT_CMD_RESTART,
        RebootCmd::Halt => LINUX_REBOOT_CMD_HALT,
        RebootCmd::PowerOff => LINUX_REBOOT_CMD_POWER_OFF,
    };
    // SAFETY: reboot takes a plain integer.
    match check(unsafe { reboot(magic as c_int) }) {
        Ok(_) => io::Error::new(
            io::ErrorKind::Unsupported,
            "the kernel returned without stopping the machine",
        ),
        Err(e) => e,
    }
}

/// Makes the kernel send `SIGINT` to PID 1 on Ctrl-Alt-Del instead of rebooting at once.
pub fn disable_ctrl_alt_del() -> io::Result<()> {
    // SAFETY: reboot takes a plain integer.
    check(unsafe { reboot(LINUX_REBOOT_CMD_CAD_OFF as c_int) }).map(drop)
}

/// Flushes every filesystem's dirty data.
pub fn sync_all() {
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe { sync() }
}

/// Sends `sig` to `pid`; `-1` means every process but PID 1 itself.
pub fn send_signal(pid: i32, sig: c_int) -> io::Result<()> {
    // SAFETY: kill takes plain integers.
    check(unsafe { kill(pid, sig) }).map(drop)
}

/// One child reaped by [`reap_one`].
pub enum Reaped {
    /// A child ended: its pid and raw wait status.
    Child(i32, i32),
    /// Children exist but none has ended yet.
    NoneReady,
    /// There are no children at all.
    NoChildren,
}

/// Collects the status of one ended child, if any, without blocking.
pub fn reap_one() -> io::Result<Reaped> {
    let mut status: c_int = 0;
    // SAFETY: `status` is a valid, writable int.
    match check(unsafe { waitpid(-1, &mut status, WNOHANG) }) {
        Ok(0) => Ok(Reaped::NoneReady),
        Ok(pid) => Ok(Reaped::Child(pid, status)),
        Err(e) if e.raw_os_error() == Some(ECHILD) => Ok(Reaped::NoChildren),
        Err(e) => Err(e),
    }
}

/// Blocks every signal in the calling process, so they queue until [`wait_signal`].
pub fn block_all_signals() -> io::Result<()> {
    let mut set = RawSigSet { bits: [0; 16] };
    // SAFETY: `set` is a valid sigset_t-sized buffer.
    check(unsafe { sigfillset(&mut set) })?;
    // SAFETY: `set` is initialised; a null old-set pointer is allowed.
    check(unsafe { sigprocmask(SIG_BLOCK, &set, std::ptr::null_mut()) }).map(drop)
}

/// Clears the signal mask: children must not inherit PID 1's blocked signals.
fn unblock_all_signals() -> io::Result<()> {
    let mut set = RawSigSet { bits: [0; 16] };
    // SAFETY: `set` is a valid sigset_t-sized buffer.
    check(unsafe { sigemptyset(&mut set) })?;
    // SAFETY: `set` is initialised; a null old-set pointer is allowed.
    check(unsafe { sigprocmask(SIG_SETMASK, &set, std::ptr::null_mut()) }).map(drop)
}

/// Waits for any (blocked) signal, at most `timeout` when given; `None` on timeout.
pub fn wait_signal(timeout: Option<Duration>) -> io::Result<Option<c_int>> {
    let mut set = RawSigSet { bits: [0; 16] };
    // SAFETY: `set` is a valid sigset_t-sized buffer.
    check(unsafe { sigfillset(&mut set) })?;
    let spec = timeout.map(|t| Timespec {
        tv_sec: c_long::try_from(t.as_secs()).unwrap_or(c_long::MAX),
        tv_nsec: t.subsec_nanos() as c_long,
    });
    let spec_ptr = spec
        .as_ref()
        .map_or(std::ptr::null(), |s| s as *const Timespec);
    loop {
        // SAFETY: `set` is initialised, a null info pointer is allowed, `spec_ptr` is
        // null or points to `spec`, which outlives the call.
        match check(unsafe { sigtimedwait(&set, std::ptr::null_mut(), spec_ptr) }) {
            Ok(sig) => return Ok(Some(sig)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

fn fd_is_open(fd: c_int) -> bool {
    // SAFETY: F_GETFD takes no further argument and only inspects the descriptor.
    unsafe { fcntl(fd, F_GETFD) != -1 }
}

/// Opens `path` on each of the descriptors 0, 1 and 2 that is closed.
///
/// The kernel leaves them closed when the initramfs has no `/dev/console`.
pub fn fill_standard_fds(path: &Path) -> io::Result<()> {
    let c = c_path(path)?;
    for fd in 0..3 {
        if fd_is_open(fd) {
            continue;
        }
        // SAFETY: `c` is a valid NUL-terminated string; no mode is needed without O_CREAT.
        let got = check(unsafe { open(c.as_ptr(), O_RDWR | O_NOCTTY) })?;
        if got != fd {
            // SAFETY: both are descriptors this process owns.
            let dup = check(unsafe { dup2(got, fd) });
            // SAFETY: `got` was opened above and is not used afterwards.
            unsafe { close(got) };
            dup?;
        }
    }
    Ok(())
}

/// Makes `cmd`'s child start with no blocked signals and, with `session`, as a
/// session leader whose controlling terminal is its stdin.
///
/// A terminal that cannot be taken is reported by the child and not fatal: a
/// shell without job control beats no shell.
pub fn prepare_child(cmd: &mut Command, session: bool) {
    let hook = move || -> io::Result<()> {
        unblock_all_signals()?;
        if session {
            // SAFETY: setsid takes no arguments.
            check(unsafe { setsid() })?;
            // SAFETY: fd 0 is the terminal std installed; arg 1 steals it from a
            // previous session, which root may do.
            if let Err(e) = check(unsafe { ioctl(0, TIOCSCTTY, 1 as c_int) }) {
                let msg = format!("init: cannot make the console a controlling terminal: {e}\n");
                // SAFETY: writes a valid buffer to fd 2; the child is single-threaded.
                unsafe { write(2, msg.as_ptr().cast(), msg.len()) };
            }
        }
        Ok(())
    };
    // SAFETY: the hook runs between fork and exec in a single-threaded child and
    // only makes system calls and a small allocation.
    unsafe {
        cmd.pre_exec(hook);
    }
}
