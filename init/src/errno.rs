//! Error numbers from the kernel, and the text a C library gives them.
//!
//! The numbers are the same on every architecture init is built for
//! (asm-generic/errno-base.h and errno.h; x86_64, ARM and arm64 share them).

/// A failed system call's error number (`errno`).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub struct Errno(pub i32);

impl Errno {
    /// No such file or directory.
    pub const ENOENT: Errno = Errno(2);
    /// Interrupted system call.
    pub const EINTR: Errno = Errno(4);
    /// Input/output error.
    pub const EIO: Errno = Errno(5);
    /// Argument list too long.
    pub const E2BIG: Errno = Errno(7);
    /// Exec format error (a file that is neither a binary nor a `#!` script).
    pub const ENOEXEC: Errno = Errno(8);
    /// No child processes.
    pub const ECHILD: Errno = Errno(10);
    /// Resource temporarily unavailable (a timed wait that timed out).
    pub const EAGAIN: Errno = Errno(11);
    /// Permission denied.
    pub const EACCES: Errno = Errno(13);
    /// File exists.
    pub const EEXIST: Errno = Errno(17);
    /// No such device (a filesystem type the kernel lacks).
    pub const ENODEV: Errno = Errno(19);
    /// Not a directory.
    pub const ENOTDIR: Errno = Errno(20);
    /// Invalid argument.
    pub const EINVAL: Errno = Errno(22);
    /// File name too long.
    pub const ENAMETOOLONG: Errno = Errno(36);
    /// Connection timed out.
    pub const ETIMEDOUT: Errno = Errno(110);
    /// Stale file handle.
    pub const ESTALE: Errno = Errno(116);

    /// What glibc's `strerror` says for this number, for the numbers init can meet.
    pub fn text(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "Operation not permitted",
            2 => "No such file or directory",
            3 => "No such process",
            4 => "Interrupted system call",
            5 => "Input/output error",
            6 => "No such device or address",
            7 => "Argument list too long",
            8 => "Exec format error",
            9 => "Bad file descriptor",
            10 => "No child processes",
            11 => "Resource temporarily unavailable",
            12 => "Cannot allocate memory",
            13 => "Permission denied",
            14 => "Bad address",
            16 => "Device or resource busy",
            17 => "File exists",
            19 => "No such device",
            20 => "Not a directory",
            21 => "Is a directory",
            22 => "Invalid argument",
            23 => "Too many open files in system",
            24 => "Too many open files",
            25 => "Inappropriate ioctl for device",
            26 => "Text file busy",
            28 => "No space left on device",
            30 => "Read-only file system",
            36 => "File name too long",
            38 => "Function not implemented",
            40 => "Too many levels of symbolic links",
            110 => "Connection timed out",
            116 => "Stale file handle",
            _ => return None,
        })
    }
}
