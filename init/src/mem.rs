//! The C runtime symbols a no_std binary on a Linux target must bring itself:
//! the memory functions the compiler calls (`memcpy`, `memmove`, `memset`,
//! `memcmp`, `bcmp`, `strlen`), and the unwinding personality routines the prebuilt
//! `core` names (never called: init is built with `panic=abort`).
//!
//! Every access is volatile: the optimiser recognises a plain copy or fill
//! loop as the idiom it is and replaces it with a call to `memcpy` or
//! `memset`, which here would be a call to itself. Copies and fills go a word
//! at a time when both ends are word-aligned; init's are small, so nothing
//! cleverer pays for its code.
//!
//! Only the guest build exports them; unit tests call them under their names
//! while the host's C library serves everyone else.

use core::mem::size_of;
use core::ptr::{read_volatile, write_volatile};

const WORD: usize = size_of::<usize>();

/// Copies `n` bytes forwards, a word at a time while both pointers are aligned.
///
/// # Safety
/// `src` is valid for reads and `dest` for writes of `n` bytes, and where they
/// overlap `dest` is not after `src`.
unsafe fn copy_forward(dest: *mut u8, src: *const u8, n: usize) {
    let mut i = 0;
    if (dest as usize | src as usize) % WORD == 0 {
        while i + WORD <= n {
            // SAFETY: in bounds (i + WORD <= n) and aligned (both starts are,
            // and i is a multiple of WORD).
            unsafe {
                write_volatile(
                    dest.add(i).cast::<usize>(),
                    read_volatile(src.add(i).cast::<usize>()),
                )
            };
            i += WORD;
        }
    }
    while i < n {
        // SAFETY: i < n.
        unsafe { write_volatile(dest.add(i), read_volatile(src.add(i))) };
        i += 1;
    }
}

/// C's `memcpy`.
///
/// # Safety
/// `src` is valid for reads and `dest` for writes of `n` bytes; they do not overlap.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: as the caller promises; no overlap at all.
    unsafe { copy_forward(dest, src, n) };
    dest
}

/// C's `memmove`.
///
/// # Safety
/// `src` is valid for reads and `dest` for writes of `n` bytes; they may overlap.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize) <= (src as usize) {
        // SAFETY: as the caller promises; `dest` is not after `src`.
        unsafe { copy_forward(dest, src, n) };
    } else {
        let mut i = n;
        while i > 0 {
            i -= 1;
            // SAFETY: i < n; going backwards, each byte is read before it is overwritten.
            unsafe { write_volatile(dest.add(i), read_volatile(src.add(i))) };
        }
    }
    dest
}

/// C's `memset`.
///
/// # Safety
/// `s` is valid for writes of `n` bytes.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memset(s: *mut u8, c: i32, n: usize) -> *mut u8 {
    let byte = c as u8;
    let mut i = 0;
    if s as usize % WORD == 0 {
        let word = usize::from_ne_bytes([byte; WORD]);
        while i + WORD <= n {
            // SAFETY: in bounds and aligned, as in `copy_forward`.
            unsafe { write_volatile(s.add(i).cast::<usize>(), word) };
            i += WORD;
        }
    }
    while i < n {
        // SAFETY: i < n.
        unsafe { write_volatile(s.add(i), byte) };
        i += 1;
    }
    s
}

/// C's `memcmp`: the difference of the first differing bytes, or 0.
///
/// # Safety
/// `a` and `b` are valid for reads of `n` bytes.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n.
        let (x, y) = unsafe { (read_volatile(a.add(i)), read_volatile(b.add(i))) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// C's `strlen`: the bytes before the first NUL.
///
/// # Safety
/// `s` points to a NUL-terminated string.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: the string goes on at least until its NUL.
    while unsafe { read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}

/// The personality routine `core`'s unwind tables name. Nothing unwinds in a
/// `panic=abort` build, so it is never called; it only has to exist.
#[cfg(not(test))]
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

/// The ARM EHABI personality routines the unwind tables (`.ARM.exidx`) name;
/// never called, as [`rust_eh_personality`].
#[cfg(all(not(test), target_arch = "arm"))]
#[no_mangle]
pub extern "C" fn __aeabi_unwind_cpp_pr0() {}

/// As [`__aeabi_unwind_cpp_pr0`], for frames with more to unwind.
#[cfg(all(not(test), target_arch = "arm"))]
#[no_mangle]
pub extern "C" fn __aeabi_unwind_cpp_pr1() {}

/// C's `bcmp`: 0 when the bytes are equal (the compiler calls it for `==` on slices).
///
/// # Safety
/// `a` and `b` are valid for reads of `n` bytes.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: as the caller promises.
    unsafe { memcmp(a, b, n) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `memmove` of `len` bytes from `from` to `to` inside `0..40`, at every alignment.
    fn moved(from: usize, to: usize, len: usize) -> Vec<u8> {
        let mut buf: Vec<u8> = (0..40).collect();
        // SAFETY: both ranges are inside `buf`.
        unsafe { memmove(buf.as_mut_ptr().add(to), buf.as_ptr().add(from), len) };
        buf
    }

    #[test]
    fn memmove_copies_overlapping_ranges_both_ways() {
        for (from, to, len) in [(0, 8, 24), (8, 0, 24), (1, 3, 30), (3, 1, 30), (5, 5, 9)] {
            let mut want: Vec<u8> = (0..40).collect();
            want.copy_within(from..from + len, to);
            assert_eq!(
                moved(from, to, len),
                want,
                "from {from} to {to}, {len} bytes"
            );
        }
    }

    #[test]
    fn memcpy_and_memset_cover_aligned_and_unaligned_ends() {
        for start in 0..9 {
            for len in [0, 1, 7, 8, 9, 17, 31] {
                let src: Vec<u8> = (100..140).collect();
                let mut dest = vec![0u8; 48];
                // SAFETY: `start + len <= 40` bytes of both.
                unsafe { memcpy(dest.as_mut_ptr().add(start), src.as_ptr().add(start), len) };
                assert_eq!(dest[start..start + len], src[start..start + len]);
                assert!(dest[..start]
                    .iter()
                    .chain(&dest[start + len..])
                    .all(|&b| b == 0));
                // SAFETY: as above.
                unsafe { memset(dest.as_mut_ptr().add(start), 0xab, len) };
                assert!(dest[start..start + len].iter().all(|&b| b == 0xab));
                assert!(dest[..start]
                    .iter()
                    .chain(&dest[start + len..])
                    .all(|&b| b == 0));
            }
        }
    }

    #[test]
    fn memcmp_orders_by_the_first_difference() {
        let cmp = |a: &[u8], b: &[u8]| {
            // SAFETY: both have `a.len()` bytes.
            unsafe {
                (
                    memcmp(a.as_ptr(), b.as_ptr(), a.len()),
                    bcmp(a.as_ptr(), b.as_ptr(), a.len()),
                )
            }
        };
        assert_eq!(cmp(b"abc", b"abc"), (0, 0));
        assert_eq!(cmp(b"abc", b"abd"), (-1, -1));
        assert_eq!(cmp(b"\xffbc", b"\x00bc"), (255, 255));
        assert_eq!(cmp(b"", b""), (0, 0));
    }

    #[test]
    fn strlen_counts_up_to_the_nul() {
        // SAFETY: both are NUL-terminated.
        unsafe {
            assert_eq!(strlen(b"init\0".as_ptr()), 4);
            assert_eq!(strlen(b"\0x\0".as_ptr()), 0);
        }
    }
}
