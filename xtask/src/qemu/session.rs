//! An interactive QEMU on a pseudo-terminal, driven the way a user at a
//! terminal drives it: type keys, wait for text. For the end-to-end tests.
//!
//! QEMU runs as a session leader with the pty's slave as its controlling
//! terminal and stdio, exactly like `cargo xtask qemu` in a terminal, so it
//! puts the terminal in raw mode and `-nographic`'s Ctrl-A prefix works.
//!
//! ```ignore
//! let boot = Boot::prepare(&board, &BootRequest::default())?;
//! let mut s = Session::spawn(&boot)?;
//! s.expect("# ", Duration::from_secs(60))?;
//! s.send_line("uname -m")?;
//! s.expect("armv5tejl", Duration::from_secs(10))?;
//! s.send_line("poweroff")?;
//! s.wait_exit(Duration::from_secs(30))?;
//! ```

use anyhow::{bail, Context, Result};
use regex::bytes::Regex;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::boot::Boot;
use super::process::{read_until, Chunk, QemuProcess};
use super::transcript::last_lines;

/// How many console lines an error shows.
const REPORT_LINES: usize = 30;

/// What [`Session::expect`] waits for.
#[derive(Debug, Clone)]
pub enum Needle {
    /// Literal text.
    Text(String),
    /// A regular expression over the console bytes.
    Regex(Regex),
}

impl From<&str> for Needle {
    fn from(text: &str) -> Needle {
        Needle::Text(text.to_string())
    }
}

impl From<String> for Needle {
    fn from(text: String) -> Needle {
        Needle::Text(text)
    }
}

impl From<Regex> for Needle {
    fn from(re: Regex) -> Needle {
        Needle::Regex(re)
    }
}

impl std::fmt::Display for Needle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Needle::Text(text) => write!(f, "{text:?}"),
            Needle::Regex(re) => write!(f, "/{}/", re.as_str()),
        }
    }
}

impl Needle {
    /// Byte range of the first match in `haystack`.
    fn find(&self, haystack: &[u8]) -> Option<(usize, usize)> {
        match self {
            Needle::Text(text) if text.is_empty() => Some((0, 0)),
            Needle::Text(text) => haystack
                .windows(text.len())
                .position(|w| w == text.as_bytes())
                .map(|at| (at, at + text.len())),
            Needle::Regex(re) => re.find(haystack).map(|m| (m.start(), m.end())),
        }
    }
}

/// What [`Session::expect`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Console output between the previous match and this one.
    pub before: String,
    /// The matched text.
    pub matched: String,
}

/// A QEMU (or a `cargo xtask qemu`) running on a pseudo-terminal we hold the master of.
pub struct Session {
    // Declared first so it is stopped before the pty closes.
    qemu: QemuProcess,
    master: File,
    unread: Vec<u8>,
    console: Vec<u8>,
    /// Where each read began in `console`, and when it arrived.
    arrivals: Vec<(usize, Instant)>,
}

impl Session {
    /// Boots `boot` on a new pseudo-terminal.
    pub fn spawn(boot: &Boot) -> Result<Session> {
        Session::spawn_command(boot.command())
    }

    /// Runs any command on a new pseudo-terminal as its controlling terminal
    /// (e.g. the `xtask` binary itself, to test `cargo xtask qemu`).
    pub fn spawn_command(mut cmd: Command) -> Result<Session> {
        let (master, slave) = open_pty()?;
        cmd.stdin(Stdio::from(slave.try_clone()?))
            .stdout(Stdio::from(slave.try_clone()?))
            .stderr(Stdio::from(slave));
        // SAFETY: setsid(2) and ioctl(2) are async-signal-safe; they run in the child before exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let qemu = QemuProcess::spawn(cmd)?;
        Ok(Session {
            qemu,
            master: File::from(master),
            unread: Vec::new(),
            console: Vec::new(),
            arrivals: Vec::new(),
        })
    }

    /// Types `bytes` (e.g. `b"\x03"` for Ctrl-C).
    pub fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.master
            .write_all(bytes)
            .context("writing to the qemu terminal")?;
        self.master.flush().context("writing to the qemu terminal")
    }

    /// Types `line` and Enter.
    pub fn send_line(&mut self, line: &str) -> Result<()> {
        self.send(format!("{line}\r").as_bytes())
    }

    /// Waits up to `timeout` for `needle`; consumes the output up to the end of the match.
    pub fn expect(&mut self, needle: impl Into<Needle>, timeout: Duration) -> Result<Found> {
        self.expect_at(needle, timeout).map(|(found, _)| found)
    }

    /// [`Session::expect`], and when the first byte of the match arrived from the terminal.
    pub fn expect_at(
        &mut self,
        needle: impl Into<Needle>,
        timeout: Duration,
    ) -> Result<(Found, Instant)> {
        let needle = needle.into();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some((start, end)) = needle.find(&self.unread) {
                let at = self.arrival(self.console.len() - self.unread.len() + start);
                let taken: Vec<u8> = self.unread.drain(..end).collect();
                let found = Found {
                    before: String::from_utf8_lossy(&taken[..start]).into_owned(),
                    matched: String::from_utf8_lossy(&taken[start..]).into_owned(),
                };
                return Ok((found, at));
            }
            if Instant::now() >= deadline {
                bail!(
                    "timed out after {}s waiting for {needle}; last console lines:\n{}",
                    timeout.as_secs_f64(),
                    self.tail()
                );
            }
            if !self.read_some(deadline)? {
                bail!(
                    "qemu exited while waiting for {needle}; last console lines:\n{}",
                    self.tail()
                );
            }
        }
    }

    /// Waits up to `timeout` for QEMU to exit (reading its output meanwhile); stops it if it does not.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.qemu.try_wait()? {
                return Ok(status);
            }
            if !self.read_some(deadline.min(Instant::now() + Duration::from_millis(100)))? {
                if let Some(status) = self.qemu.wait_timeout(Duration::from_secs(5))? {
                    return Ok(status);
                }
            }
        }
        self.qemu.stop()?;
        bail!(
            "qemu did not exit within {}s; last console lines:\n{}",
            timeout.as_secs_f64(),
            self.tail()
        )
    }

    /// Everything the terminal showed so far, `\r\n` turned into `\n`.
    pub fn console(&self) -> String {
        String::from_utf8_lossy(&self.console).replace("\r\n", "\n")
    }

    /// The last lines of the console, for error messages.
    pub fn tail(&self) -> String {
        last_lines(&self.console(), REPORT_LINES)
    }

    /// When the first byte of the console arrived, if any has.
    pub fn first_byte_at(&self) -> Option<Instant> {
        self.arrivals.first().map(|&(_, at)| at)
    }

    /// When the console's byte at `offset` arrived (now, for an empty match on nothing read).
    fn arrival(&self, offset: usize) -> Instant {
        let after = self.arrivals.partition_point(|&(start, _)| start <= offset);
        self.arrivals
            .get(after.saturating_sub(1))
            .map_or_else(Instant::now, |&(_, at)| at)
    }

    /// Reads what arrives until `deadline`; `false` once the terminal closed.
    fn read_some(&mut self, deadline: Instant) -> Result<bool> {
        match read_until(self.master.as_fd(), deadline)? {
            Chunk::Data(bytes) => {
                self.arrivals.push((self.console.len(), Instant::now()));
                self.unread.extend_from_slice(&bytes);
                self.console.extend_from_slice(&bytes);
                Ok(true)
            }
            Chunk::Idle => Ok(true),
            Chunk::Eof => Ok(false),
        }
    }
}

/// A new pseudo-terminal: (master, slave), both close-on-exec.
fn open_pty() -> Result<(OwnedFd, OwnedFd)> {
    let mut master: libc::c_int = -1;
    let mut slave: libc::c_int = -1;
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: valid out-pointers; a null name and termios are allowed.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error()).context("openpty");
    }
    // SAFETY: openpty returned two fresh descriptors that nothing else owns.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    for fd in [&master, &slave] {
        // SAFETY: fcntl(2) on a descriptor we own.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
            return Err(std::io::Error::last_os_error()).context("fcntl");
        }
    }
    Ok((master, slave))
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn shell_session(script: &str) -> Session {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script);
        Session::spawn_command(cmd).unwrap()
    }

    #[test]
    fn boots_to_a_shell_that_poweroff_ends() {
        let Some(boot) = super::super::boot::test_boot(
            "boots_to_a_shell_that_poweroff_ends",
            Default::default(),
        ) else {
            return;
        };
        let mut s = Session::spawn(&boot).unwrap();
        s.expect("minilinux init:", Duration::from_secs(90))
            .unwrap();
        s.expect("# ", Duration::from_secs(30)).unwrap();
        s.send_line("echo $((6 * 7))-answer").unwrap();
        s.expect("42-answer", Duration::from_secs(30)).unwrap();
        s.send_line("poweroff").unwrap();
        let status = s.wait_exit(Duration::from_secs(30)).unwrap();
        assert!(status.success(), "{status}\n{}", s.tail());
    }

    #[test]
    fn expect_consumes_up_to_each_match() {
        let mut s = shell_session("printf 'one\\ntwo 42\\nthree\\n'");
        let first = s.expect("two", Duration::from_secs(10)).unwrap();
        let second = s
            .expect(Regex::new(r"\d+").unwrap(), Duration::from_secs(10))
            .unwrap();
        s.wait_exit(Duration::from_secs(10)).unwrap();
        expect![[r#"
            Found { before: "one\r\n", matched: "two" }
            Found { before: " ", matched: "42" }"#]]
        .assert_eq(&format!("{first:?}\n{second:?}"));
    }

    #[test]
    fn the_child_has_the_pty_as_controlling_terminal() {
        let mut s = shell_session("tty -s && echo is-a-tty; read line; echo got:$line");
        s.expect("is-a-tty", Duration::from_secs(10)).unwrap();
        s.send_line("hello").unwrap();
        s.expect("got:hello", Duration::from_secs(10)).unwrap();
        assert!(s.wait_exit(Duration::from_secs(10)).unwrap().success());
    }

    #[test]
    fn expect_reports_exit_and_timeout_with_the_console_tail() {
        let mut s = shell_session("echo last words");
        let err = s.expect("never", Duration::from_secs(30)).unwrap_err();
        expect![[r#"
            qemu exited while waiting for "never"; last console lines:
            last words"#]]
        .assert_eq(&err.to_string());

        let mut s = shell_session("echo waiting; sleep 30");
        s.expect("waiting", Duration::from_secs(10)).unwrap();
        let err = s.expect("never", Duration::from_millis(200)).unwrap_err();
        expect![[r#"
            timed out after 0.2s waiting for "never"; last console lines:
            waiting"#]]
        .assert_eq(&err.to_string());
    }
}
