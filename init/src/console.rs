//! The console: init's messages, put together without formatting machinery,
//! and the terminal the shell gets.
//!
//! A message is a [`Line`] of [`Piece`]s (text, numbers, error numbers, C
//! strings) written with one `write`, so it stays whole between a child's
//! output. `core::fmt` is not used: it would add kilobytes of code that runs
//! for the first time at boot, which under emulation costs more than the rest.

use crate::cstr::{CBuf, CStr};
use crate::errno::Errno;
use crate::sys;

/// Prints one `init: `-prefixed line on the console, made of [`Piece`]s:
/// `say!("cannot mount ", target, ": ", errno)`. Write errors are ignored.
macro_rules! say {
    ($($piece:expr),* $(,)?) => {{
        let mut line = $crate::console::Line::new();
        line.push(b"init: ");
        $( line.put(&$piece); )*
        line.write();
    }};
}

/// Where init's messages go: stderr, which is the console.
const STDERR: i32 = 2;
/// The longest line init prints; longer ones are cut short (the newline stays).
pub const LINE_MAX: usize = 512;

/// Room for `/dev/` and a terminal's name (the kernel's are at most 64 bytes).
pub type Terminal = CBuf<80>;

/// One line of console output being put together.
pub struct Line {
    buf: [u8; LINE_MAX],
    len: usize,
}

/// Something that can be written into a [`Line`].
pub trait Piece {
    /// Appends the text of `self` to `line`.
    fn put(&self, line: &mut Line);
}

impl Line {
    /// An empty line.
    pub const fn new() -> Line {
        Line {
            buf: [0; LINE_MAX],
            len: 0,
        }
    }

    /// Appends `bytes`, as much as fits (one byte stays for the newline).
    pub fn push(&mut self, bytes: &[u8]) {
        let room = LINE_MAX - 1 - self.len;
        let take = bytes.len().min(room);
        if let (Some(dest), Some(src)) = (
            self.buf.get_mut(self.len..self.len + take),
            bytes.get(..take),
        ) {
            dest.copy_from_slice(src);
            self.len += take;
        }
    }

    /// Appends `piece`.
    pub fn put<P: Piece + ?Sized>(&mut self, piece: &P) {
        piece.put(self);
    }

    /// The text so far.
    #[cfg(test)]
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// Writes the line and a newline to the console in one `write`.
    ///
    /// Errors are ignored: PID 1 has nowhere else to report them.
    pub fn write(&mut self) {
        if let Some(nl) = self.buf.get_mut(self.len) {
            *nl = b'\n';
        }
        let _ = sys::write_all(STDERR, self.buf.get(..self.len + 1).unwrap_or(&[]));
    }
}

impl Piece for str {
    fn put(&self, line: &mut Line) {
        line.push(self.as_bytes());
    }
}

impl Piece for [u8] {
    fn put(&self, line: &mut Line) {
        line.push(self);
    }
}

impl<const N: usize> Piece for [u8; N] {
    fn put(&self, line: &mut Line) {
        line.push(self);
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    fn put(&self, line: &mut Line) {
        (**self).put(line);
    }
}

impl Piece for CStr<'_> {
    fn put(&self, line: &mut Line) {
        line.push(self.to_bytes());
    }
}

impl Piece for u64 {
    fn put(&self, line: &mut Line) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = *self;
        loop {
            at -= 1;
            if let Some(d) = digits.get_mut(at) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 || at == 0 {
                break;
            }
        }
        line.push(digits.get(at..).unwrap_or(&[]));
    }
}

impl Piece for u32 {
    fn put(&self, line: &mut Line) {
        u64::from(*self).put(line);
    }
}

impl Piece for i32 {
    fn put(&self, line: &mut Line) {
        if *self < 0 {
            line.push(b"-");
        }
        u64::from(self.unsigned_abs()).put(line);
    }
}

/// As Rust's `io::Error` shows it: `No such file or directory (os error 2)`.
impl Piece for Errno {
    fn put(&self, line: &mut Line) {
        match self.text() {
            Some(text) => line.push(text.as_bytes()),
            None => {
                line.push(b"Unknown error ");
                self.0.put(line);
            }
        }
        line.push(b" (os error ");
        self.0.put(line);
        line.push(b")");
    }
}

/// The terminal behind `/dev/console`: the last name in
/// `/sys/class/tty/console/active` (the kernel lists the preferred console
/// last), as `/dev/<name>` when that node exists, else `/dev/console`.
pub fn active() -> Terminal {
    let mut buf = [0u8; 256];
    let found = match sys::read_file(c!("/sys/class/tty/console/active"), &mut buf) {
        Ok(n) => device_path(buf.get(..n).unwrap_or(&[])),
        Err(_) => None,
    };
    match found {
        Some(path) if sys::exists(path.as_cstr()) => path,
        _ => CBuf::from_parts(&[b"/dev/console"]).unwrap_or_else(|_| CBuf::new()),
    }
}

/// `/dev/<name>` for the last name in the text of `/sys/class/tty/console/active`.
fn device_path(names: &[u8]) -> Option<Terminal> {
    let name = names
        .rsplit(|b| b.is_ascii_whitespace())
        .find(|name| !name.is_empty())?;
    if name.contains(&b'/') {
        return None;
    }
    CBuf::from_parts(&[b"/dev/", name]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(names: &str, expect: &str) {
        let actual = format!(
            "{:?}",
            device_path(names.as_bytes())
                .map(|p| String::from_utf8_lossy(p.as_bytes()).into_owned())
        );
        assert_eq!(actual, expect, "names: {names:?}");
    }

    #[test]
    fn the_last_listed_console_is_the_terminal() {
        check("ttyAMA0\n", r#"Some("/dev/ttyAMA0")"#);
        check("tty0 ttyS0\n", r#"Some("/dev/ttyS0")"#);
    }

    #[test]
    fn no_name_or_a_path_falls_back() {
        check("\n", "None");
        check("", "None");
        check("../ttyS0\n", "None");
    }

    fn render(pieces: &[&dyn Piece]) -> String {
        let mut line = Line::new();
        for piece in pieces {
            line.put(*piece);
        }
        String::from_utf8_lossy(line.as_bytes()).into_owned()
    }

    #[test]
    fn pieces_render_as_text() {
        assert_eq!(
            render(&[&"mount ", &c!("/proc"), b": ", &Errno(2)]),
            "mount /proc: No such file or directory (os error 2)"
        );
        assert_eq!(
            render(&[&Errno(4095)]),
            "Unknown error 4095 (os error 4095)"
        );
        assert_eq!(
            render(&[&0u32, &" ", &u64::MAX, &" ", &-17i32, &" ", &i32::MIN]),
            "0 18446744073709551615 -17 -2147483648"
        );
    }

    #[test]
    fn a_long_line_is_cut_short() {
        let long = "x".repeat(LINE_MAX * 2);
        assert_eq!(render(&[&long.as_str()]).len(), LINE_MAX - 1);
    }
}
