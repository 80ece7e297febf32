//! A running QEMU that cannot outlive its owner, and reading its console with deadlines.

use anyhow::{Context, Result};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use crate::render::render_command;

/// How long QEMU gets to exit after SIGTERM (it restores the terminal) before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(3);

/// A QEMU child process, stopped when dropped: no path leaves it running.
pub struct QemuProcess {
    child: Child,
    status: Option<ExitStatus>,
}

impl QemuProcess {
    /// Starts `cmd`; QEMU also dies with SIGKILL if this process dies first.
    pub fn spawn(mut cmd: Command) -> Result<QemuProcess> {
        let shown = render_command(&cmd);
        // SAFETY: prctl(2) is async-signal-safe; it runs in the child before exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().with_context(|| {
            format!("cannot start `{shown}`: run `cargo xtask setup` to install QEMU")
        })?;
        Ok(QemuProcess {
            child,
            status: None,
        })
    }

    /// The child, to take its pipes.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// QEMU's exit status if it has exited.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.child.try_wait().context("waiting for qemu")?;
        }
        Ok(self.status)
    }

    /// Waits up to `timeout` for QEMU to exit by itself.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops QEMU: SIGTERM, so it can restore the terminal, then SIGKILL.
    pub fn stop(&mut self) -> Result<ExitStatus> {
        if let Some(status) = self.try_wait()? {
            return Ok(status);
        }
        // SAFETY: kill(2) on our own child, which has not been reaped (try_wait said so).
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        if let Some(status) = self.wait_timeout(TERM_GRACE)? {
            return Ok(status);
        }
        let _ = self.child.kill();
        let status = self.child.wait().context("waiting for qemu")?;
        self.status = Some(status);
        Ok(status)
    }
}

impl Drop for QemuProcess {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// What one read with a deadline gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk {
    /// Some bytes.
    Data(Vec<u8>),
    /// The writer closed its end (QEMU exited); a pty master reports this as EIO.
    Eof,
    /// Nothing arrived before the deadline.
    Idle,
}

/// Reads whatever is available on `fd`, waiting at most until `deadline`.
pub fn read_until(fd: BorrowedFd<'_>, deadline: Instant) -> Result<Chunk> {
    let wait = deadline.saturating_duration_since(Instant::now());
    let mut pollfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = libc::c_int::try_from(wait.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd for the duration of the call.
    let ready = unsafe { libc::poll(&mut pollfd, 1, millis) };
    if ready < 0 {
        let err = std::io::Error::last_os_error();
        if err.kind() == std::io::ErrorKind::Interrupted {
            return Ok(Chunk::Idle);
        }
        return Err(err).context("waiting for the qemu console");
    }
    if ready == 0 {
        return Ok(Chunk::Idle);
    }
    let mut buf = vec![0u8; 64 * 1024];
    // SAFETY: `buf` is valid for `buf.len()` writable bytes.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        let err = std::io::Error::last_os_error();
        return match err.raw_os_error() {
            Some(libc::EIO) => Ok(Chunk::Eof),
            Some(libc::EINTR) | Some(libc::EAGAIN) => Ok(Chunk::Idle),
            _ => Err(err).context("reading the qemu console"),
        };
    }
    if n == 0 {
        return Ok(Chunk::Eof);
    }
    buf.truncate(n as usize);
    Ok(Chunk::Data(buf))
}
