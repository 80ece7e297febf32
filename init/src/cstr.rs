//! NUL-terminated strings for system calls, without allocation: borrowed
//! ([`CStr`], e.g. constants written with [`c!`]) or built in a fixed buffer
//! ([`CBuf`], e.g. `/dev/` and a name read from sysfs).
//!
//! Rust 1.63 has no `core::ffi::CStr` (it came in 1.64), and init has no `alloc`.

use crate::errno::Errno;

/// A borrowed byte string followed by one NUL, with no NUL inside.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CStr<'a> {
    with_nul: &'a [u8],
}

/// A `CStr<'static>` constant from a string literal, checked when compiled: `c!("/proc")`.
macro_rules! c {
    ($s:literal) => {{
        const C: $crate::cstr::CStr<'static> =
            $crate::cstr::CStr::constant(concat!($s, "\0").as_bytes());
        C
    }};
}

impl<'a> CStr<'a> {
    /// `bytes` as a C string; for constants only (see [`c!`]): a literal without
    /// its trailing NUL, or with one inside, fails the build.
    pub const fn constant(bytes: &'a [u8]) -> CStr<'a> {
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
        CStr { with_nul: bytes }
    }

    /// `bytes` as a C string when it ends with its only NUL.
    pub fn from_bytes_with_nul(bytes: &'a [u8]) -> Option<CStr<'a>> {
        match bytes.iter().position(|&b| b == 0) {
            Some(at) if at + 1 == bytes.len() => Some(CStr { with_nul: bytes }),
            _ => None,
        }
    }

    /// The bytes before the NUL.
    pub fn to_bytes(self) -> &'a [u8] {
        self.with_nul
            .get(..self.with_nul.len().saturating_sub(1))
            .unwrap_or(&[])
    }

    /// A pointer to the first byte, for the kernel.
    pub fn as_ptr(self) -> *const u8 {
        self.with_nul.as_ptr()
    }
}

/// A C string built in a fixed buffer of `N` bytes (NUL included); the byte
/// after the string is always a NUL.
pub struct CBuf<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> CBuf<N> {
    /// An empty string.
    pub const fn new() -> CBuf<N> {
        CBuf {
            bytes: [0; N],
            len: 0,
        }
    }

    /// `parts` one after the other.
    pub fn from_parts(parts: &[&[u8]]) -> Result<CBuf<N>, Errno> {
        let mut buf = CBuf::new();
        for part in parts {
            buf.push(part)?;
        }
        Ok(buf)
    }

    /// Appends `bytes`; `ENAMETOOLONG` when they do not fit, `EINVAL` for a NUL
    /// among them. The string is unchanged on error.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), Errno> {
        if bytes.contains(&0) {
            return Err(Errno::EINVAL);
        }
        let end = self.len + bytes.len();
        // One byte stays free for the NUL.
        match self.bytes.get_mut(self.len..end) {
            Some(dest) if end < N => {
                dest.copy_from_slice(bytes);
                self.end_at(end);
                Ok(())
            }
            _ => Err(Errno::ENAMETOOLONG),
        }
    }

    /// Empties the string (the buffer is not cleared).
    pub fn clear(&mut self) {
        self.end_at(0);
    }

    /// Makes the string `len` bytes long (`len < N`), with its NUL after it.
    fn end_at(&mut self, len: usize) {
        if let Some(nul) = self.bytes.get_mut(len) {
            *nul = 0;
            self.len = len;
        }
    }

    /// The bytes so far.
    #[cfg(test)]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }

    /// The string as a [`CStr`].
    pub fn as_cstr(&self) -> CStr<'_> {
        // `push` keeps `len < N`, NULs out of the string and a NUL after it.
        CStr {
            with_nul: self.bytes.get(..self.len + 1).unwrap_or(&[0]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_c_strings() {
        assert_eq!(c!("/proc").to_bytes(), b"/proc");
        assert_eq!(c!("/proc").as_ptr(), c!("/proc").to_bytes().as_ptr());
        assert_eq!(c!("").to_bytes(), b"");
    }

    #[test]
    fn only_a_single_trailing_nul_makes_a_c_string() {
        fn check(bytes: &[u8]) -> Option<&[u8]> {
            CStr::from_bytes_with_nul(bytes).map(|c| c.to_bytes())
        }
        assert_eq!(check(b"ab\0"), Some(&b"ab"[..]));
        assert_eq!(check(b"ab"), None);
        assert_eq!(check(b"a\0b\0"), None);
        assert_eq!(check(b""), None);
    }

    #[test]
    fn a_buffer_refuses_what_does_not_fit_and_nuls() {
        let mut buf = CBuf::<8>::new();
        assert_eq!(buf.push(b"/dev/"), Ok(()));
        assert_eq!(buf.push(b"tty"), Err(Errno::ENAMETOOLONG));
        assert_eq!(buf.push(b"t\0"), Err(Errno::EINVAL));
        assert_eq!(buf.push(b"tt"), Ok(()));
        assert_eq!(buf.as_cstr().to_bytes(), b"/dev/tt");
        buf.clear();
        assert_eq!(buf.as_cstr().to_bytes(), b"");
        assert_eq!(buf.push(b"/sys"), Ok(()));
        assert_eq!(buf.as_cstr().to_bytes(), b"/sys");
    }
}
