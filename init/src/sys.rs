//! The kernel interface: raw system calls for x86_64, ARM (EABI) and arm64,
//! the process entry point, and the spawning child.
//!
//! This is the module to audit: with `mem.rs` (the C memory functions the
//! compiler calls) it holds all of init's `unsafe`, and every block says why
//! it is sound. Everything it exports is safe: system calls take C strings
//! and slices, return `Result<_, Errno>`, and never panic.
//!
//! Per architecture (the `arch` module): the system call numbers, one
//! instruction sequence to make a call, `_start`, and a `clone` that runs a
//! function on its own stack in the child. Error numbers, flags, signal
//! numbers and structure layouts used here are the same on all three
//! (asm-generic); 32-bit ARM uses the `_time64` calls, so every `timespec` is
//! two 64-bit fields.
//!
//! Built with `panic=abort` (the guest) the crate has no std: `_start` here
//! takes the kernel's initial stack and calls `crate::run`. Built otherwise
//! (a plain host `cargo build`, `cargo test`) std is linked and the C
//! library's start-up calls `main` here instead.

use core::mem::MaybeUninit;
use core::ptr;
use core::time::Duration;

use crate::argv::{Argv, ARGV_WORDS};
use crate::cstr::{CBuf, CStr};
use crate::errno::Errno;
use crate::path_search::Candidates;

/// `SIGHUP`: sent with `SIGTERM` at shutdown because interactive shells ignore `SIGTERM`.
pub const SIGHUP: i32 = 1;
/// `SIGINT`: the kernel's Ctrl-Alt-Del notification once CAD is turned off.
pub const SIGINT: i32 = 2;
/// `SIGQUIT`: sent by the terminal on Ctrl-backslash.
pub const SIGQUIT: i32 = 3;
/// `SIGKILL`: the end of the shutdown grace period.
pub const SIGKILL: i32 = 9;
/// `SIGUSR1`: busybox `halt`.
pub const SIGUSR1: i32 = 10;
/// `SIGUSR2`: busybox `poweroff`.
pub const SIGUSR2: i32 = 12;
/// `SIGTERM`: busybox `reboot`, and the polite request at shutdown.
pub const SIGTERM: i32 = 15;
/// `SIGCHLD`: a child (or an orphan re-parented to PID 1) changed state.
pub const SIGCHLD: i32 = 17;
/// `SIGCONT`: wakes stopped processes so they can act on `SIGTERM`.
pub const SIGCONT: i32 = 18;

/// `S_IFCHR`: file type bits of a character device node.
pub const S_IFCHR: u32 = 0o020000;
/// `S_IFBLK`: file type bits of a block device node.
pub const S_IFBLK: u32 = 0o060000;

/// `MS_NOSUID` mount flag.
pub const MS_NOSUID: usize = 2;
/// `MS_NODEV` mount flag.
pub const MS_NODEV: usize = 4;
/// `MS_NOEXEC` mount flag.
pub const MS_NOEXEC: usize = 8;

/// The longest path the kernel takes, NUL included.
const PATH_MAX: usize = 4096;
const AT_FDCWD: isize = -100;
const O_RDONLY: usize = 0;
const O_RDWR: usize = 2;
/// `O_NOCTTY`: opening a terminal must not make it PID 1's controlling terminal.
const O_NOCTTY: usize = 0o400;
const O_CLOEXEC: usize = 0o2000000;
const F_GETFD: usize = 1;
const SIG_BLOCK: usize = 0;
const SIG_SETMASK: usize = 2;
/// The kernel's signal set: 64 bits on every architecture.
const SIGSET_SIZE: usize = 8;
const WNOHANG: usize = 1;
const MNT_DETACH: usize = 2;
const CLOCK_MONOTONIC: usize = 1;
const CLONE_VM: usize = 0x0000_0100;
const CLONE_VFORK: usize = 0x0000_4000;
/// What [`spawn`]'s `clone` asks for: the parent's memory (no page tables
/// copied), the parent suspended until the child calls `exec` or exits, and
/// `SIGCHLD` when the child ends.
const SPAWN_CLONE_FLAGS: usize = CLONE_VM | CLONE_VFORK | SIGCHLD as usize;
/// Exit status of a child whose set-up or `exec` failed (as posix_spawn's).
const SPAWN_FAILED: i32 = 127;
/// Stack for the child of [`spawn`] until it calls `exec`: a few frames and
/// one path buffer. Only the pages the child touches are ever faulted in.
const CHILD_STACK: usize = 32 * 1024;
/// Index of `stx_dev_major` (byte offset 136) in a `struct statx` read as
/// 32-bit words; `stx_dev_minor` follows.
const STATX_DEV_MAJOR: usize = 34;
/// The most environment entries kept: the kernel gives init at most 32.
const ENV_MAX: usize = 64;

const LINUX_REBOOT_MAGIC1: usize = 0xfee1_dead;
const LINUX_REBOOT_MAGIC2: usize = 0x2812_1969;
const LINUX_REBOOT_CMD_RESTART: usize = 0x0123_4567;
const LINUX_REBOOT_CMD_HALT: usize = 0xCDEF_0123;
const LINUX_REBOOT_CMD_POWER_OFF: usize = 0x4321_FEDC;
const LINUX_REBOOT_CMD_CAD_OFF: usize = 0;

#[cfg(not(any(target_arch = "x86_64", target_arch = "arm", target_arch = "aarch64")))]
compile_error!("init makes system calls for x86_64, arm and aarch64 only");

/// x86_64: `syscall` with the number in `rax`, arguments in `rdi`, `rsi`,
/// `rdx`, `r10`, `r8`, `r9`; the kernel clobbers `rcx` and `r11`.
#[cfg(target_arch = "x86_64")]
mod arch {
    use core::arch::asm;

    pub const READ: usize = 0;
    pub const WRITE: usize = 1;
    pub const CLOSE: usize = 3;
    pub const RT_SIGPROCMASK: usize = 14;
    pub const DUP2: usize = 33;
    pub const CLONE: usize = 56;
    pub const EXECVE: usize = 59;
    pub const WAIT4: usize = 61;
    pub const KILL: usize = 62;
    pub const FCNTL: usize = 72;
    pub const CHDIR: usize = 80;
    pub const SETSID: usize = 112;
    pub const RT_SIGTIMEDWAIT: usize = 128;
    pub const SYNC: usize = 162;
    pub const MOUNT: usize = 165;
    pub const UMOUNT2: usize = 166;
    pub const REBOOT: usize = 169;
    pub const SETHOSTNAME: usize = 170;
    pub const GETDENTS64: usize = 217;
    pub const CLOCK_GETTIME: usize = 228;
    pub const CLOCK_NANOSLEEP: usize = 230;
    pub const OPENAT: usize = 257;
    pub const MKDIRAT: usize = 258;
    pub const MKNODAT: usize = 259;
    pub const SYMLINKAT: usize = 266;
    pub const FCHMODAT: usize = 268;
    pub const STATX: usize = 332;

    /// One system call.
    ///
    /// # Safety
    /// The arguments must be what system call `nr` expects: pointers valid
    /// for what the kernel reads or writes through them.
    #[inline(always)]
    pub unsafe fn syscall(nr: usize, a: [usize; 6]) -> isize {
        let ret: isize;
        // SAFETY: the caller vouches for the arguments; `syscall` changes only
        // rax, rcx and r11, and the kernel does not touch the user stack.
        unsafe {
            asm!(
                "syscall",
                inlateout("rax") nr as isize => ret,
                in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
                in("r10") a[3], in("r8") a[4], in("r9") a[5],
                lateout("rcx") _, lateout("r11") _,
                options(nostack),
            );
        }
        ret
    }

    /// `clone(flags, stack_top)`; the child calls `child(arg)` on that stack and
    /// exits with its result. Returns the child's pid (or `-errno`) in the parent.
    ///
    /// # Safety
    /// `stack_top` is the 16-byte-aligned end of memory the child may use as
    /// its stack until it exits or calls `exec`, and `child` must be sound to
    /// run there with `arg`, sharing the parent's memory when `flags` has `CLONE_VM`.
    pub unsafe fn clone_run(
        flags: usize,
        stack_top: *mut u8,
        child: extern "C" fn(*mut u8) -> i32,
        arg: *mut u8,
    ) -> isize {
        let ret: isize;
        // SAFETY: in the parent this is one `syscall` (rax, rcx, r11 change).
        // The child starts here with rax = 0 and rsp = stack_top, calls
        // `child` with a 16-byte-aligned stack and leaves with `exit`, never
        // coming back to the code after this block.
        unsafe {
            asm!(
                "syscall",
                "test rax, rax",
                "jnz 2f",
                "xor ebp, ebp",
                "mov rdi, r13",
                "call r12",
                "mov edi, eax",
                "mov eax, 60", // exit
                "syscall",
                "ud2",
                "2:",
                inlateout("rax") CLONE as isize => ret,
                in("rdi") flags, in("rsi") stack_top,
                in("rdx") 0usize, in("r10") 0usize, in("r8") 0usize,
                in("r12") child as usize, in("r13") arg,
                lateout("rcx") _, lateout("r11") _,
            );
        }
        ret
    }

    #[cfg(all(not(test), panic = "abort"))]
    core::arch::global_asm!(
        ".pushsection .text._start,\"ax\",%progbits",
        ".globl _start",
        ".type _start,%function",
        "_start:",
        "xor ebp, ebp",
        "mov rdi, rsp",
        "and rsp, -16",
        "call minilinux_init_start",
        "ud2",
        ".popsection",
    );
}

/// ARM EABI, ARM state: `svc 0` with the number in r7 and arguments in r0-r5;
/// only r0 changes. 32-bit times use the `_time64` calls.
#[cfg(target_arch = "arm")]
mod arch {
    use core::arch::asm;

    pub const READ: usize = 3;
    pub const WRITE: usize = 4;
    pub const CLOSE: usize = 6;
    pub const EXECVE: usize = 11;
    pub const CHDIR: usize = 12;
    pub const MOUNT: usize = 21;
    pub const SYNC: usize = 36;
    pub const KILL: usize = 37;
    pub const UMOUNT2: usize = 52;
    pub const FCNTL: usize = 55;
    pub const DUP2: usize = 63;
    pub const SETSID: usize = 66;
    pub const SETHOSTNAME: usize = 74;
    pub const REBOOT: usize = 88;
    pub const WAIT4: usize = 114;
    pub const CLONE: usize = 120;
    pub const RT_SIGPROCMASK: usize = 175;
    pub const GETDENTS64: usize = 217;
    pub const OPENAT: usize = 322;
    pub const MKDIRAT: usize = 323;
    pub const MKNODAT: usize = 324;
    pub const SYMLINKAT: usize = 331;
    pub const FCHMODAT: usize = 333;
    pub const STATX: usize = 397;
    pub const CLOCK_GETTIME: usize = 403; // clock_gettime64
    pub const CLOCK_NANOSLEEP: usize = 407; // clock_nanosleep_time64
    pub const RT_SIGTIMEDWAIT: usize = 421; // rt_sigtimedwait_time64

    /// One system call.
    ///
    /// # Safety
    /// The arguments must be what system call `nr` expects: pointers valid
    /// for what the kernel reads or writes through them.
    #[inline(always)]
    pub unsafe fn syscall(nr: usize, a: [usize; 6]) -> isize {
        let ret: isize;
        // SAFETY: the caller vouches for the arguments; `svc 0` changes only
        // r0, and the kernel does not touch the user stack.
        unsafe {
            asm!(
                "svc 0",
                inlateout("r0") a[0] as isize => ret,
                in("r1") a[1], in("r2") a[2], in("r3") a[3],
                in("r4") a[4], in("r5") a[5], in("r7") nr,
                options(nostack),
            );
        }
        ret
    }

    /// `clone(flags, stack_top)`; the child calls `child(arg)` on that stack and
    /// exits with its result. Returns the child's pid (or `-errno`) in the parent.
    ///
    /// # Safety
    /// As on x86_64: `stack_top` is the 16-byte-aligned end of memory the child
    /// may use as its stack, and `child` must be sound to run there with `arg`.
    pub unsafe fn clone_run(
        flags: usize,
        stack_top: *mut u8,
        child: extern "C" fn(*mut u8) -> i32,
        arg: *mut u8,
    ) -> isize {
        let ret: isize;
        // SAFETY: in the parent this is one `svc 0` (only r0 changes; the
        // unused 5th argument, the child tid pointer, is 0). The child starts
        // here with r0 = 0 and sp = stack_top, calls `child` and leaves with
        // `exit`, never coming back to the code after this block.
        unsafe {
            asm!(
                "svc 0",
                "cmp r0, #0",
                "bne 2f",
                "mov r11, #0",
                "mov r0, r8",
                "blx r5",
                "mov r7, #1", // exit
                "svc 0",
                "2:",
                inlateout("r0") flags as isize => ret,
                in("r1") stack_top, in("r2") 0usize, in("r3") 0usize, in("r4") 0usize,
                in("r5") child as usize, in("r8") arg, in("r7") CLONE,
            );
        }
        ret
    }

    #[cfg(all(not(test), panic = "abort"))]
    core::arch::global_asm!(
        ".pushsection .text._start,\"ax\",%progbits",
        ".globl _start",
        ".type _start,%function",
        "_start:",
        "mov r11, #0",
        "mov lr, #0",
        "mov r0, sp",
        "bic sp, sp, #15",
        "bl minilinux_init_start",
        "b .",
        ".popsection",
    );
}

/// arm64: `svc 0` with the number in x8 and arguments in x0-x5; only x0 changes.
#[cfg(target_arch = "aarch64")]
mod arch {
    use core::arch::asm;

    pub const DUP3: usize = 24;
    pub const FCNTL: usize = 25;
    pub const MKNODAT: usize = 33;
    pub const MKDIRAT: usize = 34;
    pub const SYMLINKAT: usize = 36;
    pub const UMOUNT2: usize = 39;
    pub const MOUNT: usize = 40;
    pub const CHDIR: usize = 49;
    pub const FCHMODAT: usize = 53;
    pub const OPENAT: usize = 56;
    pub const CLOSE: usize = 57;
    pub const GETDENTS64: usize = 61;
    pub const READ: usize = 63;
    pub const WRITE: usize = 64;
    pub const SYNC: usize = 81;
    pub const CLOCK_GETTIME: usize = 113;
    pub const CLOCK_NANOSLEEP: usize = 115;
    pub const KILL: usize = 129;
    pub const RT_SIGPROCMASK: usize = 135;
    pub const RT_SIGTIMEDWAIT: usize = 137;
    pub const REBOOT: usize = 142;
    pub const SETSID: usize = 157;
    pub const SETHOSTNAME: usize = 161;
    pub const CLONE: usize = 220;
    pub const EXECVE: usize = 221;
    pub const WAIT4: usize = 260;
    pub const STATX: usize = 291;

    /// One system call.
    ///
    /// # Safety
    /// The arguments must be what system call `nr` expects: pointers valid
    /// for what the kernel reads or writes through them.
    #[inline(always)]
    pub unsafe fn syscall(nr: usize, a: [usize; 6]) -> isize {
        let ret: isize;
        // SAFETY: the caller vouches for the arguments; `svc 0` changes only
        // x0, and the kernel does not touch the user stack.
        unsafe {
            asm!(
                "svc 0",
                inlateout("x0") a[0] as isize => ret,
                in("x1") a[1], in("x2") a[2], in("x3") a[3],
                in("x4") a[4], in("x5") a[5], in("x8") nr,
                options(nostack),
            );
        }
        ret
    }

    /// `clone(flags, stack_top)`; the child calls `child(arg)` on that stack and
    /// exits with its result. Returns the child's pid (or `-errno`) in the parent.
    ///
    /// # Safety
    /// As on x86_64: `stack_top` is the 16-byte-aligned end of memory the child
    /// may use as its stack, and `child` must be sound to run there with `arg`.
    pub unsafe fn clone_run(
        flags: usize,
        stack_top: *mut u8,
        child: extern "C" fn(*mut u8) -> i32,
        arg: *mut u8,
    ) -> isize {
        let ret: isize;
        // SAFETY: in the parent this is one `svc 0` (only x0 changes). The
        // child starts here with x0 = 0 and sp = stack_top, calls `child` and
        // leaves with `exit` (93), never coming back to the code after this block.
        unsafe {
            asm!(
                "svc 0",
                "cbnz x0, 2f",
                "mov x29, xzr",
                "mov x0, x21",
                "blr x20",
                "mov x8, #93",
                "svc 0",
                "2:",
                inlateout("x0") flags as isize => ret,
                in("x1") stack_top, in("x2") 0usize, in("x3") 0usize, in("x4") 0usize,
                in("x8") CLONE, in("x20") child as usize, in("x21") arg,
            );
        }
        ret
    }

    #[cfg(all(not(test), panic = "abort"))]
    core::arch::global_asm!(
        ".pushsection .text._start,\"ax\",%progbits",
        ".globl _start",
        ".type _start,%function",
        "_start:",
        "mov x29, xzr",
        "mov x30, xzr",
        "mov x0, sp",
        "and sp, x0, #-16",
        "bl minilinux_init_start",
        "brk #0",
        ".popsection",
    );
}

/// The entry point of the guest build: `_start` (above) passes the kernel's
/// initial stack: `argc`, the `argv` pointers and a null, the `envp` pointers
/// and a null.
///
/// # Safety
/// Only `_start` calls it, with the stack the kernel built.
#[cfg(all(not(test), panic = "abort"))]
#[no_mangle]
unsafe extern "C" fn minilinux_init_start(stack: *const usize) -> ! {
    // SAFETY: the layout the kernel gives every new program (fs/binfmt_elf.c
    // create_elf_tables): `envp` starts after argc, the argv pointers and their null.
    let env = unsafe {
        let argc = *stack;
        Env::from_envp(stack.add(argc + 2).cast())
    };
    crate::run(env)
}

/// The entry point of a host build with std, called by the C library's start-up.
///
/// # Safety
/// Only the C library calls it, with its `envp`.
#[cfg(all(not(test), not(panic = "abort")))]
#[no_mangle]
unsafe extern "C" fn main(_argc: i32, _argv: *const *const u8, envp: *const *const u8) -> i32 {
    // SAFETY: the C library passes the process's environment, which lives as long as it.
    crate::run(unsafe { Env::from_envp(envp) })
}

/// One system call with the number and arguments of this architecture.
///
/// # Safety
/// As [`arch::syscall`].
unsafe fn syscall(nr: usize, args: [usize; 6]) -> Result<usize, Errno> {
    // SAFETY: passed on from the caller.
    let ret = unsafe { arch::syscall(nr, args) };
    if (-4095..0).contains(&ret) {
        Err(Errno(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}

/// `args` padded with zeros to the six a system call takes.
fn args<const N: usize>(given: [usize; N]) -> [usize; 6] {
    let mut all = [0; 6];
    for (slot, value) in all.iter_mut().zip(given) {
        *slot = value;
    }
    all
}

/// A system call whose pointer arguments are all C strings or plain integers.
macro_rules! call {
    ($nr:expr $(, $arg:expr)* $(,)?) => {
        // SAFETY: every pointer passed is a `CStr` (NUL-terminated, alive for
        // the call) or a local this function owns for the call's duration.
        unsafe { syscall($nr, args([$($arg as usize),*])) }
    };
}

/// The environment the kernel gave PID 1, plus what init adds; children inherit it.
pub struct Env {
    /// Pointers to `NAME=value` strings that live as long as the process, then nulls.
    entries: [*const u8; ENV_MAX + 1],
    len: usize,
}

impl Env {
    /// An empty environment.
    pub const fn new() -> Env {
        Env {
            entries: [ptr::null(); ENV_MAX + 1],
            len: 0,
        }
    }

    /// The environment of `envp` (its first [`ENV_MAX`] entries).
    ///
    /// # Safety
    /// `envp` is null or a null-terminated array of NUL-terminated strings,
    /// all of which live as long as the process.
    unsafe fn from_envp(envp: *const *const u8) -> Env {
        let mut env = Env::new();
        if envp.is_null() {
            return env;
        }
        let mut at = envp;
        // SAFETY: the array is null-terminated: `at` stays within it.
        while env.len < ENV_MAX && unsafe { !(*at).is_null() } {
            // SAFETY: as above.
            env.entries[env.len] = unsafe { *at };
            env.len += 1;
            // SAFETY: the current entry was not the terminating null.
            at = unsafe { at.add(1) };
        }
        env
    }

    /// Entry `i` as bytes, without its NUL.
    fn entry(&self, i: usize) -> Option<&[u8]> {
        let start = *self.entries.get(i).filter(|_| i < self.len)?;
        // SAFETY: every entry below `len` points to a NUL-terminated string that
        // lives as long as the process (see `from_envp` and `add`).
        Some(unsafe { core::slice::from_raw_parts(start, strlen(start)) })
    }

    /// The value of variable `name`, if set.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        (0..self.len).find_map(|i| {
            let entry = self.entry(i)?;
            let value = entry.strip_prefix(name)?.strip_prefix(b"=")?;
            Some(value)
        })
    }

    /// Adds `entry` (`NAME=value`, for a name not yet set); `E2BIG` when full.
    pub fn add(&mut self, entry: CStr<'static>) -> Result<(), Errno> {
        if self.len >= ENV_MAX {
            return Err(Errno::E2BIG);
        }
        self.entries[self.len] = entry.as_ptr();
        self.len += 1;
        Ok(())
    }
}

/// C's `strlen`: `mem`'s in the guest, the C library's on the host.
///
/// # Safety
/// `s` points to a NUL-terminated string.
unsafe fn strlen(s: *const u8) -> usize {
    extern "C" {
        fn strlen(s: *const u8) -> usize;
    }
    // SAFETY: passed on from the caller.
    unsafe { strlen(s) }
}

/// An open file descriptor, closed when dropped.
struct Fd(i32);

impl Fd {
    fn open(path: CStr, flags: usize) -> Result<Fd, Errno> {
        let fd = call!(arch::OPENAT, AT_FDCWD, path.as_ptr(), flags, 0)?;
        Ok(Fd(fd as i32))
    }

    /// Reads up to `buf.len()` bytes, retrying after `EINTR`.
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        loop {
            // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
            let got = unsafe {
                syscall(
                    arch::READ,
                    args([self.0 as usize, buf.as_mut_ptr() as usize, buf.len()]),
                )
            };
            match got {
                Err(Errno::EINTR) => continue,
                other => return other.map(|n| n.min(buf.len())),
            }
        }
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        let _ = call!(arch::CLOSE, self.0);
    }
}

/// Reads a small file into `buf`; returns the number of bytes read (`buf.len()`
/// may mean the file is longer).
///
/// It stops at the first short read instead of reading again to see the end:
/// regular files, procfs and sysfs return all they have in one read when the
/// buffer is large enough, and under emulation each system call costs tens of
/// microseconds.
pub fn read_file(path: CStr, buf: &mut [u8]) -> Result<usize, Errno> {
    let fd = Fd::open(path, O_RDONLY | O_CLOEXEC)?;
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
        let wanted = rest.len();
        let got = fd.read(rest)?;
        filled += got;
        if got < wanted {
            break;
        }
    }
    Ok(filled)
}

/// Writes all of `bytes` to descriptor `fd`, retrying after partial writes and `EINTR`.
pub fn write_all(fd: i32, bytes: &[u8]) -> Result<(), Errno> {
    let mut rest = bytes;
    while !rest.is_empty() {
        // SAFETY: `rest` is valid for reads of `rest.len()` bytes.
        let wrote = unsafe {
            syscall(
                arch::WRITE,
                args([fd as usize, rest.as_ptr() as usize, rest.len()]),
            )
        };
        match wrote {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => rest = rest.get(n..).unwrap_or(&[]),
        }
    }
    Ok(())
}

/// The device of the filesystem holding `path` (following symlinks), as
/// `(major, minor)`; fails with `ENOENT` when `path` does not exist.
///
/// `statx` directly: busybox's C library calls the same system call for
/// `stat`, so under emulation the kernel code is translated once for both.
pub fn device_of(path: CStr) -> Result<(u32, u32), Errno> {
    /// The kernel's `struct statx`: 256 bytes on every architecture.
    #[repr(C, align(8))]
    struct Statx([u32; 64]);
    let mut buf = Statx([0; 64]);
    // SAFETY: `path` is NUL-terminated and `buf` is as large as `struct statx`.
    unsafe {
        syscall(
            arch::STATX,
            args([
                AT_FDCWD as usize,
                path.as_ptr() as usize,
                0,
                0,
                &mut buf as *mut Statx as usize,
            ]),
        )?;
    }
    Ok((buf.0[STATX_DEV_MAJOR], buf.0[STATX_DEV_MAJOR + 1]))
}

/// Whether `path` exists (following symlinks).
pub fn exists(path: CStr) -> bool {
    device_of(path).is_ok()
}

/// Creates the directory `path` with `mode` (less the umask).
pub fn make_dir(path: CStr, mode: u32) -> Result<(), Errno> {
    call!(arch::MKDIRAT, AT_FDCWD, path.as_ptr(), mode).map(drop)
}

/// Creates the symbolic link `link` pointing to `target`.
pub fn make_symlink(target: CStr, link: CStr) -> Result<(), Errno> {
    call!(arch::SYMLINKAT, target.as_ptr(), AT_FDCWD, link.as_ptr()).map(drop)
}

/// Creates a device node at `path`; `mode` carries the file type bits and
/// permissions, `dev` is the kernel's device number encoding.
pub fn make_node(path: CStr, mode: u32, dev: u32) -> Result<(), Errno> {
    call!(arch::MKNODAT, AT_FDCWD, path.as_ptr(), mode, dev).map(drop)
}

/// Sets the permission bits of `path`.
pub fn set_mode(path: CStr, mode: u32) -> Result<(), Errno> {
    call!(arch::FCHMODAT, AT_FDCWD, path.as_ptr(), mode).map(drop)
}

/// Changes the working directory.
pub fn change_dir(path: CStr) -> Result<(), Errno> {
    call!(arch::CHDIR, path.as_ptr()).map(drop)
}

/// Mounts a filesystem of type `fstype` on `target` with `flags` and the option string `data`.
pub fn mount_fs(
    source: CStr,
    target: CStr,
    fstype: CStr,
    flags: usize,
    data: CStr,
) -> Result<(), Errno> {
    call!(
        arch::MOUNT,
        source.as_ptr(),
        target.as_ptr(),
        fstype.as_ptr(),
        flags,
        data.as_ptr(),
    )
    .map(drop)
}

/// Unmounts `target`, lazily (`MNT_DETACH`) when `lazy` is set.
pub fn unmount(target: CStr, lazy: bool) -> Result<(), Errno> {
    let flags = if lazy { MNT_DETACH } else { 0 };
    call!(arch::UMOUNT2, target.as_ptr(), flags).map(drop)
}

/// Sets the kernel's host name.
pub fn set_hostname(name: &[u8]) -> Result<(), Errno> {
    // SAFETY: the pointer and length describe `name`'s bytes, alive for the call.
    unsafe {
        syscall(
            arch::SETHOSTNAME,
            args([name.as_ptr() as usize, name.len()]),
        )
    }
    .map(drop)
}

/// What the reboot system call should do to the machine.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub enum RebootCmd {
    /// `LINUX_REBOOT_CMD_RESTART`.
    Restart,
    /// `LINUX_REBOOT_CMD_HALT`.
    Halt,
    /// `LINUX_REBOOT_CMD_POWER_OFF`.
    PowerOff,
}

/// Stops the machine; only returns when that failed: with the error, or
/// `None` if the kernel returned without one.
pub fn reboot_machine(cmd: RebootCmd) -> Option<Errno> {
    let magic = match cmd {
        RebootCmd::Restart => LINUX_REBOOT_CMD_RESTART,
        RebootCmd::Halt => LINUX_REBOOT_CMD_HALT,
        RebootCmd::PowerOff => LINUX_REBOOT_CMD_POWER_OFF,
    };
    call!(
        arch::REBOOT,
        LINUX_REBOOT_MAGIC1,
        LINUX_REBOOT_MAGIC2,
        magic,
        0
    )
    .err()
}

/// Makes the kernel send `SIGINT` to PID 1 on Ctrl-Alt-Del instead of rebooting at once.
pub fn disable_ctrl_alt_del() -> Result<(), Errno> {
    call!(
        arch::REBOOT,
        LINUX_REBOOT_MAGIC1,
        LINUX_REBOOT_MAGIC2,
        LINUX_REBOOT_CMD_CAD_OFF,
        0
    )
    .map(drop)
}

/// Flushes every filesystem's dirty data.
pub fn sync_all() {
    let _ = call!(arch::SYNC);
}

/// Sends `sig` to `pid`; `-1` means every process but PID 1 itself.
pub fn send_signal(pid: i32, sig: i32) -> Result<(), Errno> {
    call!(arch::KILL, pid as isize, sig).map(drop)
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

/// `wait4(pid, &status, options)`: the pid (0: none ready) and raw status.
fn wait4(pid: isize, options: usize) -> Result<(i32, i32), Errno> {
    let mut status: i32 = 0;
    // SAFETY: `status` is a valid, writable int; no rusage is asked for.
    let got = unsafe {
        syscall(
            arch::WAIT4,
            args([pid as usize, &mut status as *mut i32 as usize, options, 0]),
        )
    }?;
    Ok((got as i32, status))
}

/// Collects the status of one ended child, if any, without blocking.
pub fn reap_one() -> Result<Reaped, Errno> {
    match wait4(-1, WNOHANG) {
        Ok((0, _)) => Ok(Reaped::NoneReady),
        Ok((pid, status)) => Ok(Reaped::Child(pid, status)),
        Err(Errno::ECHILD) => Ok(Reaped::NoChildren),
        Err(e) => Err(e),
    }
}

/// Waits for the child `pid` to end; returns its raw wait status.
pub fn wait_for_child(pid: i32) -> Result<i32, Errno> {
    loop {
        match wait4(pid as isize, 0) {
            Err(Errno::EINTR) => continue,
            other => return other.map(|(_, status)| status),
        }
    }
}

/// Blocks every signal in the calling thread, so they queue until [`wait_signal`].
pub fn block_all_signals() -> Result<(), Errno> {
    let all: u64 = !0;
    // SAFETY: `all` is a signal set of the kernel's size; no old set is asked for.
    unsafe {
        syscall(
            arch::RT_SIGPROCMASK,
            args([SIG_BLOCK, &all as *const u64 as usize, 0, SIGSET_SIZE]),
        )
    }
    .map(drop)
}

/// The kernel's `struct __kernel_timespec`.
#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

impl Timespec {
    fn of(d: Duration) -> Timespec {
        Timespec {
            sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            nsec: i64::from(d.subsec_nanos()),
        }
    }
}

/// Waits for any (blocked) signal, at most `timeout` when given; `None` on timeout.
pub fn wait_signal(timeout: Option<Duration>) -> Result<Option<i32>, Errno> {
    let all: u64 = !0;
    let spec = timeout.map(Timespec::of);
    let spec_ptr = spec.as_ref().map_or(ptr::null(), |s| s as *const Timespec);
    loop {
        // SAFETY: `all` is a signal set of the kernel's size, no siginfo is asked
        // for, `spec_ptr` is null or points to `spec`, which outlives the call.
        let got = unsafe {
            syscall(
                arch::RT_SIGTIMEDWAIT,
                args([
                    &all as *const u64 as usize,
                    0,
                    spec_ptr as usize,
                    SIGSET_SIZE,
                ]),
            )
        };
        match got {
            Ok(sig) => return Ok(Some(sig as i32)),
            Err(Errno::EAGAIN) => return Ok(None),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The time since some fixed point before boot (`CLOCK_MONOTONIC`).
pub fn now() -> Duration {
    let mut spec = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `spec` is a writable `__kernel_timespec`.
    let _ = unsafe {
        syscall(
            arch::CLOCK_GETTIME,
            args([CLOCK_MONOTONIC, &mut spec as *mut Timespec as usize]),
        )
    };
    Duration::new(
        u64::try_from(spec.sec).unwrap_or(0),
        u32::try_from(spec.nsec).unwrap_or(0) % 1_000_000_000,
    )
}

/// Sleeps for `d` (less if a signal handler runs, which never happens in init).
pub fn sleep(d: Duration) {
    let spec = Timespec::of(d);
    // SAFETY: `spec` is a `__kernel_timespec`; no remaining time is asked for.
    let _ = unsafe {
        syscall(
            arch::CLOCK_NANOSLEEP,
            args([CLOCK_MONOTONIC, 0, &spec as *const Timespec as usize, 0]),
        )
    };
}

/// `dup2(old, new)` (arm64 has only `dup3`, which refuses `old == new`).
fn dup2(old: i32, new: i32) -> Result<(), Errno> {
    #[cfg(target_arch = "aarch64")]
    let done = call!(arch::DUP3, old, new, 0);
    #[cfg(not(target_arch = "aarch64"))]
    let done = call!(arch::DUP2, old, new);
    done.map(drop)
}

/// Opens `path` on each of the descriptors 0, 1 and 2 that is closed.
///
/// The kernel leaves them closed when the initramfs has no `/dev/console`.
pub fn fill_standard_fds(path: CStr) -> Result<(), Errno> {
    for fd in 0..3 {
        if call!(arch::FCNTL, fd, F_GETFD).is_ok() {
            continue;
        }
        let opened = Fd::open(path, O_RDWR | O_NOCTTY)?;
        if opened.0 == fd {
            // Keep it: it is the descriptor that was missing.
            core::mem::forget(opened);
        } else {
            dup2(opened.0, fd)?;
        }
    }
    Ok(())
}

/// A directory being listed, with `getdents64`.
pub struct Dir {
    fd: Fd,
    buf: [u8; 2048],
    /// The unread records are `buf[pos..len]`.
    pos: usize,
    len: usize,
}

impl Dir {
    /// Opens the directory `path` for listing.
    pub fn open(path: CStr) -> Result<Dir, Errno> {
        Ok(Dir {
            fd: Fd::open(path, O_RDONLY | O_CLOEXEC)?,
            buf: [0; 2048],
            pos: 0,
            len: 0,
        })
    }

    /// The next entry's name, `.` and `..` left out; `None` at the end.
    pub fn next_name(&mut self) -> Result<Option<&[u8]>, Errno> {
        // A `struct linux_dirent64`: d_ino (8 bytes), d_off (8), d_reclen (2),
        // d_type (1), then the NUL-terminated name.
        const RECLEN: usize = 16;
        const NAME: usize = 19;
        let (start, end) = loop {
            if self.pos >= self.len {
                // SAFETY: `buf` is valid for writes of its length.
                let got = unsafe {
                    syscall(
                        arch::GETDENTS64,
                        args([
                            self.fd.0 as usize,
                            self.buf.as_mut_ptr() as usize,
                            self.buf.len(),
                        ]),
                    )
                }?;
                if got == 0 {
                    return Ok(None);
                }
                self.pos = 0;
                self.len = got.min(self.buf.len());
            }
            let record = self.buf.get(self.pos..self.len).unwrap_or(&[]);
            let reclen = match record.get(RECLEN..RECLEN + 2) {
                Some(&[a, b]) => usize::from(u16::from_ne_bytes([a, b])),
                _ => 0,
            };
            if reclen <= NAME || reclen > record.len() {
                // Not a record the kernel writes: stop listing.
                return Err(Errno::EIO);
            }
            let name = record.get(NAME..reclen).unwrap_or(&[]);
            let name_len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            let start = self.pos + NAME;
            self.pos += reclen;
            if !matches!(name.get(..name_len), Some(b".") | Some(b"..")) {
                break (start, start + name_len);
            }
        };
        Ok(self.buf.get(start..end))
    }
}

/// What the child of [`spawn`] needs, prepared by the parent beforehand: the
/// child shares the parent's memory and must not allocate, unwind or panic.
struct ChildArgs<'a> {
    argv: *const *const u8,
    envp: *const *const u8,
    program: &'a [u8],
    /// `PATH`'s value, when the program is to be looked up in it.
    path: Option<&'a [u8]>,
    /// The terminal to open as stdio and controlling terminal.
    terminal: Option<CStr<'a>>,
    /// Set by the child to the failing step's error number; 0 when `exec` succeeded.
    error: i32,
}

/// The stack the child of [`spawn`] runs on, aligned for every ABI.
#[repr(C, align(16))]
struct ChildStack([u8; CHILD_STACK]);

/// Starts `argv` (looked up in `PATH` when it has no `/`) with `env` and no
/// blocked signals; returns its pid. `argv0` replaces the name the program sees.
///
/// With `terminal`, the child is a session leader whose stdio is `terminal`,
/// opened after `setsid` and without `O_NOCTTY`, so a real terminal (not
/// `/dev/console`) becomes its controlling terminal: job control and Ctrl-C
/// work. Without, it shares PID 1's stdio and session.
///
/// This is posix_spawn's method (`clone` with `CLONE_VM | CLONE_VFORK`: no page
/// tables are copied, the parent waits until the child has called `exec`, and
/// a failed `exec` comes back here as the error) without its general part:
/// PID 1 installs no signal handlers, so its child only sets its mask, its
/// session and stdio.
pub fn spawn(
    argv: &Argv,
    argv0: Option<CStr>,
    terminal: Option<CStr>,
    env: &Env,
) -> Result<i32, Errno> {
    let program = argv.program().ok_or(Errno::EINVAL)?.to_bytes();
    // `argv.len() <= ARGV_WORDS`, so at least the last pointer stays null.
    let mut pointers = [ptr::null::<u8>(); ARGV_WORDS + 1];
    for (slot, word) in pointers.iter_mut().zip(argv.iter()) {
        *slot = word.as_ptr();
    }
    if let (Some(name), Some(first)) = (argv0, pointers.first_mut()) {
        *first = name.as_ptr();
    }
    let mut child = ChildArgs {
        argv: pointers.as_ptr(),
        envp: env.entries.as_ptr(),
        program,
        path: env.get(b"PATH"),
        terminal,
        error: 0,
    };
    // Not zeroed: the child writes its stack before reading it, and zeroing
    // would touch (and fault in) every page of it.
    let mut stack = MaybeUninit::<ChildStack>::uninit();
    // Stacks grow down on every target init is built for: the child starts at the end.
    let top = stack.as_mut_ptr().cast::<u8>().wrapping_add(CHILD_STACK);
    // SAFETY: `top` is the 16-byte-aligned end of `stack`, which outlives the
    // child's use of it: with CLONE_VFORK this call returns only once the child
    // has called `exec` or exited. `run_child` only makes system calls with
    // the pointers in `child`, which stay valid as long: `pointers`, the words
    // of `argv`, `env`'s entries, `argv0` and `terminal` are all borrowed here.
    let pid = unsafe {
        arch::clone_run(
            SPAWN_CLONE_FLAGS,
            top,
            run_child,
            (&mut child as *mut ChildArgs).cast(),
        )
    };
    if (-4095..0).contains(&pid) {
        return Err(Errno(-pid as i32));
    }
    let pid = pid as i32;
    // SAFETY: `child` is a live local, written by the child before `exec`.
    let error = unsafe { ptr::read_volatile(&child.error) };
    if error != 0 {
        // The child has exited: reap it here, so no one reports it as ended.
        let _ = wait_for_child(pid);
        return Err(Errno(error));
    }
    Ok(pid)
}

/// The child of [`spawn`], on its own stack in the parent's memory; on
/// failure records the error for the parent and exits with 127.
extern "C" fn run_child(arg: *mut u8) -> i32 {
    // SAFETY: `arg` is the `ChildArgs` the parent passed to clone, and the
    // parent does not touch it until this process has called `exec` or exited.
    let child = unsafe { &mut *arg.cast::<ChildArgs>() };
    let error = match start_child(child) {
        Ok(never) => match never {},
        Err(Errno(0)) => Errno::EIO,
        Err(e) => e,
    };
    // SAFETY: `child.error` is a valid int; volatile, as the parent reads it
    // behind the compiler's back.
    unsafe { ptr::write_volatile(&mut child.error, error.0) };
    SPAWN_FAILED
}

/// The steps of the child of [`spawn`]; returns only on failure.
fn start_child(child: &ChildArgs) -> Result<core::convert::Infallible, Errno> {
    let empty: u64 = 0;
    // SAFETY: `empty` is a signal set of the kernel's size.
    unsafe {
        syscall(
            arch::RT_SIGPROCMASK,
            args([SIG_SETMASK, &empty as *const u64 as usize, 0, SIGSET_SIZE]),
        )?;
    }
    if let Some(terminal) = child.terminal {
        call!(arch::SETSID)?;
        // Without O_NOCTTY: a session leader acquires the terminal it opens.
        let fd = call!(arch::OPENAT, AT_FDCWD, terminal.as_ptr(), O_RDWR, 0)? as i32;
        for target in 0..3 {
            if fd != target {
                dup2(fd, target)?;
            }
        }
        if fd > 2 {
            let _ = call!(arch::CLOSE, fd);
        }
    }
    // As execvp, but without running a file that lacks `#!` with /bin/sh:
    // the errors that mean "not here" move on to the next candidate, any other
    // ends the search, and a file found but not executable wins over "not found".
    let mut error = Errno::ENOENT;
    let mut denied = false;
    let mut searched_all = true;
    let mut candidates = Candidates::new(child.program, child.path);
    let mut path = CBuf::<PATH_MAX>::new();
    while let Some(joined) = candidates.next_into(&mut path) {
        if joined.is_err() {
            // Too long to be a path: not here.
            continue;
        }
        let path = path.as_cstr();
        // SAFETY: `path` is NUL-terminated; `argv` and `envp` are null-terminated
        // arrays of NUL-terminated strings (see `spawn`).
        error = match unsafe {
            syscall(
                arch::EXECVE,
                args([
                    path.as_ptr() as usize,
                    child.argv as usize,
                    child.envp as usize,
                ]),
            )
        } {
            Ok(_) => Errno::EIO,
            Err(e) => e,
        };
        match error {
            Errno::EACCES => denied = true,
            Errno::ENOENT | Errno::ENOTDIR | Errno::ENODEV | Errno::ETIMEDOUT | Errno::ESTALE => {}
            _ => {
                searched_all = false;
                break;
            }
        }
    }
    if denied && searched_all {
        error = Errno::EACCES;
    }
    Err(error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wait_status::WaitStatus;

    /// An environment with the test process's `PATH`.
    fn test_env() -> Env {
        let mut env = Env::new();
        env.add(c!("PATH=/usr/sbin:/usr/bin:/sbin:/bin"))
            .expect("room for PATH");
        env
    }

    /// Spawns `argv` without a terminal and waits: its status, or the spawn error.
    fn run(argv: &[&str], argv0: Option<CStr>, env: &Env) -> String {
        let words: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        match spawn(&Argv::of(&words), argv0, None, env) {
            Ok(pid) => match wait_for_child(pid) {
                Ok(status) => format!("{:?}", WaitStatus::from_raw(status)),
                Err(e) => format!("wait failed: {e:?}"),
            },
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn spawn_runs_a_command_found_in_path() {
        let env = test_env();
        assert_eq!(run(&["sh", "-c", "exit 3"], None, &env), "Exited(3)");
        assert_eq!(
            run(&["/bin/sh", "-c", "kill -TERM $$"], None, &env),
            "Killed(15)"
        );
    }

    #[test]
    fn spawn_gives_the_program_its_name() {
        assert_eq!(
            run(
                &["/bin/sh", "-c", r#"test "$0" = -sh"#],
                Some(c!("-sh")),
                &test_env()
            ),
            "Exited(0)"
        );
    }

    #[test]
    fn spawn_reports_why_a_command_cannot_start() {
        let env = test_env();
        assert_eq!(run(&["/nonexistent/program"], None, &env), "Errno(2)");
        assert_eq!(run(&["no-such-program-anywhere"], None, &env), "Errno(2)");
        assert_eq!(run(&["/"], None, &env), "Errno(13)");
        assert_eq!(run(&[], None, &env), "Errno(22)");
    }

    #[test]
    fn a_file_without_interpreter_line_is_not_run_by_a_shell() {
        let dir = std::env::temp_dir().join(format!("init-spawn-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating a scratch directory");
        let script = dir.join("no-shebang");
        std::fs::write(&script, "exit 0\n").expect("writing the script");
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&script, mode).expect("making it executable");
        let result = run(&[&script.to_string_lossy()], None, &test_env());
        let _ = std::fs::remove_dir_all(&dir);
        // ENOEXEC, as posix_spawnp gives; execvp would have run it with /bin/sh.
        assert_eq!(result, "Errno(8)");
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
                None,
                &test_env()
            ),
            "Exited(0)"
        );
    }

    #[test]
    fn the_child_gets_exactly_the_environment_given() {
        let mut env = test_env();
        assert_eq!(env.get(b"INIT_TEST_ADDED"), None);
        env.add(c!("INIT_TEST_ADDED=yes"))
            .expect("room for a variable");
        assert_eq!(env.get(b"INIT_TEST_ADDED"), Some(&b"yes"[..]));
        assert_eq!(env.get(b"INIT_TEST"), None);
        assert_eq!(
            run(
                &[
                    "sh",
                    "-c",
                    r#"test "$INIT_TEST_ADDED" = yes && test -z "$HOME""#
                ],
                None,
                &env
            ),
            "Exited(0)"
        );
    }

    #[test]
    fn an_environment_holds_a_bounded_number_of_entries() {
        let mut env = Env::new();
        for _ in 0..ENV_MAX {
            env.add(c!("A=1")).expect("room");
        }
        assert_eq!(env.add(c!("B=2")), Err(Errno::E2BIG));
        assert_eq!(env.get(b"B"), None);
    }

    #[test]
    fn files_are_read_whole_or_up_to_the_buffer() {
        let path = std::env::temp_dir().join(format!("init-read-test-{}\0", std::process::id()));
        let text = path.to_string_lossy();
        std::fs::write(text.trim_end_matches('\0'), "hello\n").expect("writing a file");
        let c_path = CStr::from_bytes_with_nul(text.as_bytes()).expect("a C string");
        let mut big = [0u8; 64];
        let mut small = [0u8; 3];
        let got = (read_file(c_path, &mut big), read_file(c_path, &mut small));
        let _ = std::fs::remove_file(text.trim_end_matches('\0'));
        assert_eq!(got, (Ok(6), Ok(3)));
        assert_eq!(&big[..6], b"hello\n");
        assert_eq!(
            read_file(c!("/nonexistent/file"), &mut big),
            Err(Errno::ENOENT)
        );
    }

    #[test]
    fn a_directory_lists_its_names_but_dots() {
        let dir = std::env::temp_dir().join(format!("init-dir-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).expect("creating a scratch directory");
        for name in ["a", "bb", "ccc"] {
            std::fs::write(dir.join(name), "").expect("writing a file");
        }
        let text = format!("{}\0", dir.to_string_lossy());
        let c_dir = CStr::from_bytes_with_nul(text.as_bytes()).expect("a C string");
        let mut names = Vec::new();
        let listed = Dir::open(c_dir).and_then(|mut d| {
            while let Some(name) = d.next_name()? {
                names.push(String::from_utf8_lossy(name).into_owned());
            }
            Ok(())
        });
        let _ = std::fs::remove_dir_all(&dir);
        names.sort();
        assert_eq!(
            (listed, names.join(" ")),
            (Ok(()), "a bb ccc sub".to_string())
        );
    }

    #[test]
    fn a_timed_wait_for_a_signal_times_out() {
        let start = now();
        let wait = Duration::from_millis(20);
        // Other tests' children may end meanwhile: their SIGCHLD can come here.
        loop {
            match wait_signal(Some(wait)) {
                Ok(None) => break,
                Ok(Some(SIGCHLD)) => continue,
                other => panic!("expected a timeout, got {other:?}"),
            }
        }
        assert!(now() >= start + wait);
    }

    #[test]
    fn statx_tells_the_device_and_whether_a_path_exists() {
        assert!(exists(c!("/")));
        assert!(!exists(c!("/nonexistent/path")));
        assert_eq!(device_of(c!("/nonexistent")), Err(Errno::ENOENT));
        assert_ne!(device_of(c!("/proc")).ok(), device_of(c!("/")).ok());
    }
}
