//! The console: where init's messages go and which terminal the shell gets.

use std::ffi::{CStr, CString};

use crate::sys::{self, cstr};

/// Prints one `init: `-prefixed line on the console, ignoring write errors.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::console::write_line(&format!("init: {}", format_args!($($arg)*)))
    };
}

/// Where init's messages go: stderr, which is the console.
const STDERR: i32 = 2;
/// Lines up to this long are put together on the stack, without allocating.
const LINE_MAX: usize = 256;

const CONSOLE: &CStr = cstr(b"/dev/console\0");
const CONSOLE_ACTIVE: &CStr = cstr(b"/sys/class/tty/console/active\0");

/// Writes `line` and a newline to the console in one `write`.
pub fn write_line(line: &str) {
    write_parts(&[line.as_bytes()]);
}

/// Writes `parts` and a newline to the console in one `write`.
///
/// One write keeps the line whole between a child's output; errors are
/// ignored because PID 1 has nowhere else to report them, and `eprintln!`
/// would panic on them. A plain `write` on descriptor 2 rather than std's
/// `stderr()`, whose lock and set-up code would run for nothing.
pub fn write_parts(parts: &[&[u8]]) {
    let len = parts.iter().map(|p| p.len()).sum::<usize>() + 1;
    let mut stack = [0u8; LINE_MAX];
    let mut heap = Vec::new();
    let buf: &mut [u8] = if len <= LINE_MAX {
        &mut stack
    } else {
        heap.resize(len, 0);
        &mut heap
    };
    let mut at = 0;
    for part in parts.iter().copied().chain([&b"\n"[..]]) {
        if let Some(dest) = buf.get_mut(at..at + part.len()) {
            dest.copy_from_slice(part);
            at += part.len();
        }
    }
    let _ = sys::write_all(STDERR, buf.get(..at).unwrap_or(&[]));
}

/// The terminal behind `/dev/console`: the last name in
/// `/sys/class/tty/console/active` (the kernel lists the preferred console
/// last), as `/dev/<name>` when that node exists, else `/dev/console`.
pub fn active() -> CString {
    let mut buf = [0u8; 256];
    match sys::read_file(CONSOLE_ACTIVE, &mut buf) {
        Ok(n) => device_path(buf.get(..n).unwrap_or(&[]))
            .filter(|path| sys::exists(path))
            .unwrap_or_else(|| CONSOLE.to_owned()),
        Err(_) => CONSOLE.to_owned(),
    }
}

/// `/dev/<name>` for the last name in the text of `/sys/class/tty/console/active`.
fn device_path(names: &[u8]) -> Option<CString> {
    let name = names
        .rsplit(|b| b.is_ascii_whitespace())
        .find(|name| !name.is_empty())?;
    if name.contains(&b'/') {
        return None;
    }
    // Room for the NUL too, so CString::new does not reallocate.
    let mut path = Vec::with_capacity(b"/dev/".len() + name.len() + 1);
    path.extend_from_slice(b"/dev/");
    path.extend_from_slice(name);
    CString::new(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(names: &str, expect: &str) {
        let actual = format!("{:?}", device_path(names.as_bytes()));
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
}
