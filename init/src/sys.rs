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
const POSIX_SPAWN_SETSIGMASK: i16 = 0x08;
const POSIX_SPAWN_SETSID: i16 = 0x80;
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

/// glibc's `posix_spawnattr_t` (336 bytes on 32-bit ARM), with room to spare.
#[repr(C)]
struct RawSpawnAttr {
    bits: [u64; 64],
}

/// glibc's `posix_spawn_file_actions_t` (76 bytes on 32-bit ARM), with room to spare.
#[repr(C)]
struct RawFileActions {
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
    static environ: *const *const c_char;
    fn posix_spawnattr_init(attr: *mut RawSpawnAttr) -> c_int;
    fn posix_spawnattr_destroy(attr: *mut RawSpawnAttr) -> c_int;
    fn posix_spawnattr_setflags(attr: *mut RawSpawnAttr, flags: i16) -> c_int;
    fn posix_spawnattr_setsigmask(attr: *mut RawSpawnAttr, set: *const RawSigSet) -> c_int;
    fn posix_spawn_file_actions_init(actions: *mut RawFileActions) -> c_int;
    fn posix_spawn_file_actions_destroy(actions: *mut RawFileActions) -> c_int;
    fn posix_spawn_file_actions_addopen(
        actions: *mut RawFileActions,
        fd: c_int,
        path: *const c_char,
        flags: c_int,
        mode: c_uint,
    ) -> c_int;
    fn posix_spawn_file_actions_adddup2(
        actions: *mut RawFileActions,
        fd: c_int,
        new_fd: c_int,
    ) -> c_int;
    fn posix_spawnp(
        pid: *mut c_int,
        file: *const c_char,
        actions: *const RawFileActions,
        attr: *const RawSpawnAttr,
        argv: *const *const c_char,
        envp: *const *const c_char,
    ) -> c_int;
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

/// posix_spawn functions return the error number instead of setting `errno`.
fn check_spawn(ret: c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(ret))
    }
}

/// Starts `argv` (looked up in PID 1's `PATH`) with PID 1's environment and no
/// blocked signals; returns its pid. `argv0` replaces the name the program sees.
///
/// With `terminal`, the child is a session leader whose stdio is `terminal`,
/// opened after `setsid` and without `O_NOCTTY`, so a real terminal (not
/// `/dev/console`) becomes its controlling terminal: job control and Ctrl-C work.
/// Without, it shares PID 1's stdio and session.
///
/// glibc's posix_spawn uses `CLONE_VFORK`: no page tables are copied, which is
/// measurably faster than `fork` under emulation, and a failed `exec` comes
/// back here as the error.
pub fn spawn(argv: &[String], argv0: Option<&str>, terminal: Option<&Path>) -> io::Result<i32> {
    let args = argv
        .iter()
        .map(|a| c_string(a.as_bytes()))
        .collect::<io::Result<Vec<CString>>>()?;
    let program = match args.first() {
        Some(program) => program,
        None => return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty command")),
    };
    let name = match argv0 {
        Some(name) => Some(c_string(name.as_bytes())?),
        None => None,
    };
    let mut pointers: Vec<*const c_char> = Vec::with_capacity(args.len() + 1);
    pointers.push(name.as_ref().unwrap_or(program).as_ptr());
    pointers.extend(args.iter().skip(1).map(|a| a.as_ptr()));
    pointers.push(std::ptr::null());
    let terminal = match terminal {
        Some(path) => Some(c_path(path)?),
        None => None,
    };

    let mut attr = RawSpawnAttr { bits: [0; 64] };
    let mut actions = RawFileActions { bits: [0; 16] };
    // SAFETY: both are zeroed buffers at least as large as glibc's types.
    check_spawn(unsafe { posix_spawnattr_init(&mut attr) })?;
    // SAFETY: as above.
    if let Err(e) = check_spawn(unsafe { posix_spawn_file_actions_init(&mut actions) }) {
        // SAFETY: `attr` was initialised above.
        unsafe { posix_spawnattr_destroy(&mut attr) };
        return Err(e);
    }
    let result = spawn_with(
        &mut attr,
        &mut actions,
        terminal.as_deref(),
        program,
        &pointers,
    );
    // SAFETY: both were initialised above and are not used afterwards.
    unsafe {
        posix_spawn_file_actions_destroy(&mut actions);
        posix_spawnattr_destroy(&mut attr);
    }
    result
}

fn spawn_with(
    attr: &mut RawSpawnAttr,
    actions: &mut RawFileActions,
    terminal: Option<&CStr>,
    program: &CStr,
    argv: &[*const c_char],
) -> io::Result<i32> {
    let mut empty = RawSigSet { bits: [0; 16] };
    // SAFETY: `empty` is a valid sigset_t-sized buffer.
    check(unsafe { sigemptyset(&mut empty) })?;
    let mut flags = POSIX_SPAWN_SETSIGMASK;
    if let Some(terminal) = terminal {
        flags |= POSIX_SPAWN_SETSID;
        // SAFETY: `actions` is initialised; glibc copies the path.
        check_spawn(unsafe {
            posix_spawn_file_actions_addopen(actions, 0, terminal.as_ptr(), O_RDWR, 0)
        })?;
        for fd in [1, 2] {
            // SAFETY: `actions` is initialised.
            check_spawn(unsafe { posix_spawn_file_actions_adddup2(actions, 0, fd) })?;
        }
    }
    // SAFETY: `attr` is initialised and `empty` is a valid signal set.
    check_spawn(unsafe { posix_spawnattr_setflags(attr, flags) })?;
    // SAFETY: as above.
    check_spawn(unsafe { posix_spawnattr_setsigmask(attr, &empty) })?;
    let mut pid: c_int = 0;
    // SAFETY: `program` is a valid string, `argv` a NULL-terminated array of valid
    // strings, `environ` is the process environment, and the
    // attribute objects are initialised.
    check_spawn(unsafe {
        posix_spawnp(
            &mut pid,
            program.as_ptr(),
            actions,
            attr,
            argv.as_ptr(),
            environ,
        )
    })?;
    Ok(pid)
}
