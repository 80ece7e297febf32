//! The system calls std lacks, as thin safe wrappers over the C library.
//!
//! This is the only module with `unsafe`. Every wrapper turns the C convention
//! (-1 and `errno`) into `io::Result`, so callers report failures instead of
//! panicking. The numeric constants are the same on ARM (EABI) and x86_64,
//! the two targets init is built for; glibc's plain symbols are used, so on
//! 32-bit ARM `struct timespec` has a 32-bit `time_t` (`c_long`).

use std::ffi::{CStr, CString};
use std::io;
use std::os::raw::{c_char, c_int, c_long, c_uint, c_ulong, c_void};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

use crate::path_search;

/// `SIGHUP`: sent with `SIGTERM` at shutdown because interactive shells ignore `SIGTERM`.
pub const SIGHUP: c_int = 1;
/// `SIGINT`: the kernel's Ctrl-Alt-Del notification once CAD is turned off.
pub const SIGINT: c_int = 2;
/// `SIGQUIT`: sent by the terminal on Ctrl-backslash.
pub const SIGQUIT: c_int = 3;
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
const WNOHANG: c_int = 1;
const ECHILD: i32 = 10;
const MNT_DETACH: c_int = 2;
const SIG_SETMASK: c_int = 2;
const CLONE_VM: c_int = 0x0000_0100;
const CLONE_VFORK: c_int = 0x0000_4000;
/// Exit status of a child whose set-up or `exec` failed (as posix_spawn's).
const SPAWN_FAILED: c_int = 127;
/// Stack for the child of [`spawn`] until it calls `exec`: a few frames of
/// system call wrappers. glibc's posix_spawn gives its own 32 KiB; only the
/// pages the child touches are ever faulted in.
const CHILD_STACK: usize = 32 * 1024;
const EACCES: c_int = 13;
const ENOENT: c_int = 2;
const ENODEV: c_int = 19;
const ENOTDIR: c_int = 20;
const ETIMEDOUT: c_int = 110;
const ESTALE: c_int = 116;
const F_GETFD: c_int = 1;
const O_RDWR: c_int = 2;
/// `O_NOCTTY`: opening a terminal must not make it PID 1's controlling terminal.
const O_NOCTTY: c_int = 0o400;

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

/// The stack the child of [`spawn`] runs on, aligned for every ABI.
#[repr(C, align(16))]
struct ChildStack {
    bytes: [u8; CHILD_STACK],
}

/// What the child of [`spawn`] needs, prepared by the parent beforehand: the
/// child shares the parent's memory and must neither allocate nor unwind.
#[repr(C)]
struct ChildArgs {
    /// The paths to `execve` in turn, null-terminated.
    candidates: *const *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
    /// The terminal to open as stdio and controlling terminal, or null.
    terminal: *const c_char,
    /// Set by the child to `errno` when a step fails; 0 when `exec` succeeded.
    error: c_int,
}

/// The kernel's `struct statx` (256 bytes on every architecture).
#[repr(C)]
struct RawStatx {
    words: [u32; 64],
}

/// Index of `stx_dev_major` (byte offset 136) in [`RawStatx::words`]; `stx_dev_minor` follows.
const STATX_DEV_MAJOR: usize = 34;
const AT_FDCWD: c_int = -100;
const PATH: &CStr = cstr(b"PATH\0");
const O_RDONLY: c_int = 0;
const O_CLOEXEC: c_int = 0o2000000;

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
    fn sigfillset(set: *mut RawSigSet) -> c_int;
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
    fn read(fd: c_int, buf: *mut c_void, count: usize) -> isize;
    fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
    fn mkdir(path: *const c_char, mode: c_uint) -> c_int;
    fn symlink(target: *const c_char, link: *const c_char) -> c_int;
    fn chdir(path: *const c_char) -> c_int;
    fn getenv(name: *const c_char) -> *const c_char;
    fn statx(
        dirfd: c_int,
        path: *const c_char,
        flags: c_int,
        mask: c_uint,
        buf: *mut RawStatx,
    ) -> c_int;
    static mut environ: *const *const c_char;
    fn clone(
        child: extern "C" fn(*mut c_void) -> c_int,
        stack: *mut c_void,
        flags: c_int,
        arg: *mut c_void,
        ...
    ) -> c_int;
    fn setsid() -> c_int;
    fn execve(path: *const c_char, argv: *const *const c_char, envp: *const *const c_char)
        -> c_int;
    fn _exit(status: c_int) -> !;
    fn __errno_location() -> *mut c_int;
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

/// A NUL-terminated string constant as a `&CStr`, checked when the constant is
/// compiled: use it only to define constants, where a bad literal fails the
/// build instead of panicking at run time.
pub const fn cstr(bytes: &'static [u8]) -> &'static CStr {
    if bytes.is_empty() || bytes[bytes.len() - 1] != 0 {
        panic!("C string constant without a trailing NUL");
    }
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == 0 {
            panic!("C string constant with a NUL inside");
        }
        i += 1;
    }
    // SAFETY: checked above: one NUL, at the end.
    unsafe { CStr::from_bytes_with_nul_unchecked(bytes) }
}

/// The device of the filesystem holding `path` (following symlinks), as
/// `(major, minor)`; fails with `NotFound` when `path` does not exist.
///
/// `statx` directly: busybox's C library calls the same system call for
/// `stat`, so under emulation the kernel code is translated once for both.
pub fn device_of(path: &CStr) -> io::Result<(u32, u32)> {
    let mut buf = RawStatx { words: [0; 64] };
    // SAFETY: `path` is NUL-terminated and `buf` is as large as `struct statx`.
    check(unsafe { statx(AT_FDCWD, path.as_ptr(), 0, 0, &mut buf) })?;
    Ok((buf.words[STATX_DEV_MAJOR], buf.words[STATX_DEV_MAJOR + 1]))
}

/// Whether `path` exists (following symlinks).
pub fn exists(path: &CStr) -> bool {
    device_of(path).is_ok()
}

/// Creates the directory `path` with `mode` (less the umask).
pub fn make_dir(path: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: `path` is NUL-terminated.
    check(unsafe { mkdir(path.as_ptr(), mode) }).map(drop)
}

/// Creates the symbolic link `link` pointing to `target`.
pub fn make_symlink(target: &CStr, link: &CStr) -> io::Result<()> {
    // SAFETY: both are NUL-terminated.
    check(unsafe { symlink(target.as_ptr(), link.as_ptr()) }).map(drop)
}

/// Changes the working directory.
pub fn change_dir(path: &CStr) -> io::Result<()> {
    // SAFETY: `path` is NUL-terminated.
    check(unsafe { chdir(path.as_ptr()) }).map(drop)
}

/// Whether the environment variable `name` is set.
pub fn env_is_set(name: &CStr) -> bool {
    // SAFETY: `name` is NUL-terminated; init has one thread, so nothing changes
    // the environment meanwhile.
    !unsafe { getenv(name.as_ptr()) }.is_null()
}

/// Adds `entry` (`NAME=value`, for a name not yet set) to the environment that
/// `getenv` reads and children inherit.
///
/// It points `environ` at a new array, which POSIX allows a program to do;
/// glibc's `setenv` does the same with bookkeeping that costs several hundred
/// more instructions to translate under emulation. The array is never freed:
/// `environ` points to it for the rest of PID 1's life.
pub fn add_env(entry: &'static CStr) {
    // SAFETY: `environ` is null or a null-terminated array of C strings, and
    // init has one thread, so nothing changes it meanwhile.
    let current: &[*const c_char] = unsafe {
        let mut count = 0;
        while !environ.is_null() && !(*environ.add(count)).is_null() {
            count += 1;
        }
        if count == 0 {
            &[]
        } else {
            std::slice::from_raw_parts(environ, count)
        }
    };
    // Sized up front: growing a Vec would run realloc's code for one use.
    let mut entries: Vec<*const c_char> = Vec::with_capacity(current.len() + 2);
    entries.extend_from_slice(current);
    entries.push(entry.as_ptr());
    entries.push(std::ptr::null());
    let array: &'static mut [*const c_char] = entries.leak();
    // SAFETY: as above; the array and its strings live as long as the process.
    unsafe { environ = array.as_ptr() };
}

/// Reads a small file into `buf`; returns the number of bytes read (`buf.len()`
/// may mean the file is longer).
///
/// It stops at the first short read instead of reading again to see the end:
/// regular files, procfs and sysfs return all they have in one read when the
/// buffer is large enough, and under emulation each system call costs tens of
/// microseconds. Unlike `fs::read` it allocates nothing, and makes no `stat`
/// for a size hint and no seek.
pub fn read_file(path: &CStr, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `path` is NUL-terminated; no mode is needed without O_CREAT.
    let fd = check(unsafe { open(path.as_ptr(), O_RDONLY | O_CLOEXEC) })?;
    let mut filled = 0;
    let result = loop {
        let rest = match buf.get_mut(filled..) {
            Some(rest) if !rest.is_empty() => rest,
            _ => break Ok(filled),
        };
        let wanted = rest.len();
        // SAFETY: `rest` is valid for writes of `wanted` bytes.
        let got = unsafe { read(fd, rest.as_mut_ptr().cast(), wanted) };
        if got < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break Err(e);
        }
        let got = (got as usize).min(wanted);
        filled += got;
        if got < wanted {
            break Ok(filled);
        }
    };
    // SAFETY: `fd` was opened above and is not used afterwards.
    unsafe { close(fd) };
    result
}

/// Writes all of `bytes` to descriptor `fd`, retrying after partial writes and `EINTR`.
pub fn write_all(fd: c_int, bytes: &[u8]) -> io::Result<()> {
    let mut rest = bytes;
    while !rest.is_empty() {
        // SAFETY: `rest` is valid for reads of `rest.len()` bytes.
        let n = unsafe { write(fd, rest.as_ptr().cast(), rest.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "the write wrote nothing",
            ));
        }
        rest = rest.get(n as usize..).unwrap_or(&[]);
    }
    Ok(())
}

/// Mounts a filesystem of type `fstype` on `target` with `flags` and the option string `data`.
pub fn mount_fs(
    source: &CStr,
    target: &CStr,
    fstype: &CStr,
    flags: c_ulong,
    data: &CStr,
) -> io::Result<()> {
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
pub fn set_hostname(name: &[u8]) -> io::Result<()> {
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
pub fn fill_standard_fds(path: &CStr) -> io::Result<()> {
    let c = path;
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

/// Starts `argv` (looked up in PID 1's `PATH`) with PID 1's environment and no
/// blocked signals; returns its pid. `argv0` replaces the name the program sees.
///
/// With `terminal`, the child is a session leader whose stdio is `terminal`,
/// opened after `setsid` and without `O_NOCTTY`, so a real terminal (not
/// `/dev/console`) becomes its controlling terminal: job control and Ctrl-C work.
/// Without, it shares PID 1's stdio and session.
///
/// This is posix_spawn's method (`clone` with `CLONE_VM | CLONE_VFORK`: no page
/// tables are copied, the parent waits until the child has called `exec`, and
/// a failed `exec` comes back here as the error) without its general part: glibc's
/// child queries and resets all 64 signal handlers, one system call each, and
/// maps and unmaps a stack. PID 1 installs no handlers, so its child only sets
/// its mask, its session and stdio. Under emulation every system call costs tens
/// of microseconds (QEMU flushes its TLB whenever the ARMv5 kernel switches
/// access to user memory), so this takes milliseconds off the boot.
pub fn spawn(argv: &[String], argv0: Option<&[u8]>, terminal: Option<&CStr>) -> io::Result<i32> {
    let mut args = Vec::with_capacity(argv.len());
    for arg in argv {
        args.push(c_string(arg.as_bytes())?);
    }
    let program = match args.first() {
        Some(program) => program,
        None => return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty command")),
    };
    let name = match argv0 {
        Some(name) => Some(c_string(name)?),
        None => None,
    };
    let mut pointers: Vec<*const c_char> = Vec::with_capacity(args.len() + 1);
    pointers.push(name.as_ref().unwrap_or(program).as_ptr());
    pointers.extend(args.iter().skip(1).map(|a| a.as_ptr()));
    pointers.push(std::ptr::null());
    // The shell and rcS are given as paths: the usual start builds no search list.
    let mut searched: Vec<CString> = Vec::new();
    let mut candidate_pointers: Vec<*const c_char> = Vec::with_capacity(2);
    if program.to_bytes().contains(&b'/') {
        candidate_pointers.push(program.as_ptr());
    } else {
        // SAFETY: PATH is read while nothing changes the environment (one thread).
        let path = unsafe {
            let value = getenv(PATH.as_ptr());
            (!value.is_null()).then(|| CStr::from_ptr(value).to_bytes())
        };
        for candidate in path_search::candidates(program.to_bytes(), path) {
            searched.push(c_string(&candidate)?);
        }
        candidate_pointers.extend(searched.iter().map(|c| c.as_ptr()));
    }
    candidate_pointers.push(std::ptr::null());
    let mut child = ChildArgs {
        candidates: candidate_pointers.as_ptr(),
        argv: pointers.as_ptr(),
        // SAFETY: reading the C library's environment pointer; init has one thread.
        envp: unsafe { environ },
        terminal: terminal.map_or(std::ptr::null(), CStr::as_ptr),
        error: 0,
    };
    // Not zeroed: the child writes its stack before reading it, and zeroing would
    // touch (and fault in) every page of it.
    let mut stack = std::mem::MaybeUninit::<ChildStack>::uninit();
    // Stacks grow down on every target init is built for: the child starts at the end.
    let top = stack.as_mut_ptr().cast::<u8>().wrapping_add(CHILD_STACK);
    // SAFETY: `run_child` only makes system calls through the C library with the
    // pointers in `child`, which stay valid until it has called `exec` or exited:
    // with CLONE_VFORK this call returns only then. `top` is the end of a
    // 16-byte-aligned buffer that outlives the child's use of it.
    let pid = check(unsafe {
        clone(
            run_child,
            top.cast(),
            CLONE_VM | CLONE_VFORK | SIGCHLD,
            (&mut child as *mut ChildArgs).cast(),
        )
    })?;
    // SAFETY: `child` is a live local; volatile because the child wrote it behind
    // the compiler's back.
    let error = unsafe { std::ptr::read_volatile(&child.error) };
    if error != 0 {
        // The child has exited: reap it here, so no one reports it as ended.
        let _ = wait_for_child(pid);
        return Err(io::Error::from_raw_os_error(error));
    }
    Ok(pid)
}

/// Waits for the child `pid` to end; returns its raw wait status.
fn wait_for_child(pid: i32) -> io::Result<i32> {
    let mut status: c_int = 0;
    loop {
        // SAFETY: `status` is a valid, writable int.
        match check(unsafe { waitpid(pid, &mut status, 0) }) {
            Ok(_) => return Ok(status),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The child of [`spawn`], on its own stack in the parent's memory: no
/// allocation, no panic, only system calls; reports the failing step's `errno`.
extern "C" fn run_child(arg: *mut c_void) -> c_int {
    let child = arg.cast::<ChildArgs>();
    // SAFETY: `arg` is the `ChildArgs` the parent passed to clone, and the parent
    // does not touch it until this process has called `exec` or exited. All the
    // pointers in it are valid NUL-terminated strings or arrays of them.
    unsafe {
        // All bits clear: the empty set, as sigemptyset makes it.
        let empty = RawSigSet { bits: [0; 16] };
        if sigprocmask(SIG_SETMASK, &empty, std::ptr::null_mut()) == -1 {
            child_failed(child);
        }
        let terminal = (*child).terminal;
        if !terminal.is_null() {
            if setsid() == -1 {
                child_failed(child);
            }
            // Without O_NOCTTY: a session leader acquires the terminal it opens.
            let fd = open(terminal, O_RDWR);
            if fd == -1 {
                child_failed(child);
            }
            for target in 0..3 {
                if fd != target && dup2(fd, target) == -1 {
                    child_failed(child);
                }
            }
            if fd > 2 {
                close(fd);
            }
        }
        // As execvp, but without running a file that lacks `#!` with /bin/sh:
        // the errors that mean "not here" move on to the next candidate, any
        // other ends the search, and a file found but not executable wins
        // over "not found".
        let mut error = ENOENT;
        let mut denied = false;
        let mut at = (*child).candidates;
        while !(*at).is_null() {
            execve(*at, (*child).argv, (*child).envp);
            error = *__errno_location();
            match error {
                EACCES => denied = true,
                ENOENT | ENOTDIR | ENODEV | ETIMEDOUT | ESTALE => {}
                _ => break,
            }
            at = at.add(1);
        }
        if denied && (*at).is_null() {
            error = EACCES;
        }
        *__errno_location() = error;
        child_failed(child)
    }
}

/// Records `errno` for the parent of [`spawn`] and ends the child.
///
/// # Safety
/// `child` points to the parent's `ChildArgs`, as in [`run_child`].
unsafe fn child_failed(child: *mut ChildArgs) -> ! {
    let errno = *__errno_location();
    // A zero error would read as success in the parent.
    std::ptr::write_volatile(&mut (*child).error, if errno == 0 { 1 } else { errno });
    _exit(SPAWN_FAILED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wait_status::WaitStatus;

    /// Spawns `argv` without a terminal and waits: its status, or the spawn error.
    fn run(argv: &[&str], argv0: Option<&str>) -> String {
        let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
        match spawn(&argv, argv0.map(str::as_bytes), None) {
            Ok(pid) => match wait_for_child(pid) {
                Ok(status) => format!("{:?}", WaitStatus::from_raw(status)),
                Err(e) => format!("wait failed: {e}"),
            },
            Err(e) => format!("{:?}", e.kind()),
        }
    }

    #[test]
    fn spawn_runs_a_command_found_in_path() {
        assert_eq!(run(&["sh", "-c", "exit 3"], None), "Exited(3)");
        assert_eq!(run(&["/bin/sh", "-c", "kill -TERM $$"], None), "Killed(15)");
    }

    #[test]
    fn spawn_gives_the_program_its_name() {
        assert_eq!(
            run(&["/bin/sh", "-c", r#"test "$0" = -sh"#], Some("-sh")),
            "Exited(0)"
        );
    }

    #[test]
    fn spawn_reports_why_a_command_cannot_start() {
        assert_eq!(run(&["/nonexistent/program"], None), "NotFound");
        assert_eq!(run(&["no-such-program-anywhere"], None), "NotFound");
        assert_eq!(run(&["/"], None), "PermissionDenied");
        assert_eq!(run(&[], None), "InvalidInput");
    }

    #[test]
    fn a_file_without_interpreter_line_is_not_run_by_a_shell() {
        let dir = std::env::temp_dir().join(format!("init-spawn-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating a scratch directory");
        let script = dir.join("no-shebang");
        std::fs::write(&script, "exit 0\n").expect("writing the script");
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&script, mode).expect("making it executable");
        let argv = [script.to_string_lossy().into_owned()];
        let result = spawn(&argv, None, None).map_err(|e| e.raw_os_error());
        let _ = std::fs::remove_dir_all(&dir);
        // ENOEXEC, as posix_spawnp gives; execvp would have run it with /bin/sh.
        assert_eq!(result, Err(Some(8)));
    }

    #[test]
    fn the_child_starts_with_no_blocked_signals() {
        // As in PID 1; this test's thread is its own, so the mask goes with it.
        block_all_signals().expect("blocking signals");
        // SigBlk in /proc/self/status is the blocked mask, in hex.
        assert_eq!(
            run(
                &[
                    "sh",
                    "-c",
                    "grep -q '^SigBlk:[[:space:]]*0*$' /proc/self/status"
                ],
                None
            ),
            "Exited(0)"
        );
    }

    #[test]
    fn an_added_variable_is_seen_and_inherited() {
        const ENTRY: &CStr = cstr(b"INIT_TEST_ADDED=yes\0");
        const NAME: &CStr = cstr(b"INIT_TEST_ADDED\0");
        assert!(!env_is_set(NAME));
        add_env(ENTRY);
        assert!(env_is_set(NAME));
        assert_eq!(
            run(&["sh", "-c", r#"test "$INIT_TEST_ADDED" = yes"#], None),
            "Exited(0)"
        );
    }

    #[test]
    fn constants_are_c_strings() {
        assert_eq!(cstr(b"/proc\0").to_bytes(), b"/proc");
        assert_eq!(cstr(b"\0").to_bytes(), b"");
    }
}
