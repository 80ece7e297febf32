//! The console: where init's messages go and which terminal the shell gets.

use std::io::{self, Write};
use std::path::PathBuf;

/// Prints one `init: `-prefixed line on the console, ignoring write errors.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::console::write_line(&format!("init: {}", format_args!($($arg)*)))
    };
}

/// Writes `line` and a newline to stderr (the console) in one `write`.
///
/// One write keeps the line whole between a child's output; errors are
/// ignored because PID 1 has nowhere else to report them, and `eprintln!`
/// would panic on them.
pub fn write_line(line: &str) {
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    let _ = io::stderr().write_all(buf.as_bytes());
}

/// The terminal behind `/dev/console`: the last name in
/// `/sys/class/tty/console/active` (the kernel lists the preferred console
/// last), as `/dev/<name>` when that node exists, else `/dev/console`.
pub fn active() -> PathBuf {
    let fallback = PathBuf::from("/dev/console");
    let names = match std::fs::read_to_string("/sys/class/tty/console/active") {
        Ok(names) => names,
        Err(_) => return fallback,
    };
    match names.split_whitespace().last() {
        Some(name) if !name.contains('/') => {
            let path = PathBuf::from("/dev").join(name);
            if path.exists() {
                path
            } else {
                fallback
            }
        }
        _ => fallback,
    }
}
