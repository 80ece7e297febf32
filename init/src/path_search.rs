//! Where a command is looked for: the candidate paths `execvp` would try, in order.
//!
//! init starts programs with plain `execve` on each candidate (see `sys::spawn`)
//! instead of a C library's `execvpe`, which would also run a file lacking `#!`
//! with `/bin/sh`: like posix_spawnp, init reports such a file as `Exec format
//! error`. The candidates are built one at a time in a caller's buffer, so the
//! spawned child can try them without allocating.

use crate::cstr::CBuf;
use crate::errno::Errno;

/// glibc's search path when `PATH` is unset.
const DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";

/// The paths to try for a program, in order: the program itself when it
/// contains a `/`, else each directory of `PATH` joined with it, an empty
/// directory meaning the current one. None for an empty name, which names no file.
pub struct Candidates<'a> {
    program: &'a [u8],
    /// The directories not tried yet; `None` once all were.
    dirs: Option<&'a [u8]>,
}

impl<'a> Candidates<'a> {
    /// The candidates for `program` with `path`, `PATH`'s value (`None` when unset).
    pub fn new(program: &'a [u8], path: Option<&'a [u8]>) -> Candidates<'a> {
        let dirs = if program.is_empty() {
            None
        } else if program.contains(&b'/') {
            // One empty directory: the program as it is.
            Some(&[][..])
        } else {
            Some(path.unwrap_or(DEFAULT_PATH))
        };
        Candidates { program, dirs }
    }

    /// Writes the next candidate into `buf`; `None` when all were given, and
    /// `ENAMETOOLONG` for one that does not fit.
    pub fn next_into<const N: usize>(&mut self, buf: &mut CBuf<N>) -> Option<Result<(), Errno>> {
        let dirs = self.dirs?;
        let (dir, rest) = match dirs.iter().position(|&b| b == b':') {
            Some(colon) => (&dirs[..colon], dirs.get(colon + 1..)),
            None => (dirs, None),
        };
        self.dirs = rest;
        buf.clear();
        let joined = if dir.is_empty() {
            buf.push(self.program)
        } else {
            buf.push(dir)
                .and_then(|()| buf.push(b"/"))
                .and_then(|()| buf.push(self.program))
        };
        Some(joined)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(program: &str, path: Option<&str>, expect: &str) {
        let mut candidates = Candidates::new(program.as_bytes(), path.map(str::as_bytes));
        let mut buf = CBuf::<64>::new();
        let mut found = Vec::new();
        while let Some(result) = candidates.next_into(&mut buf) {
            found.push(match result {
                Ok(()) => String::from_utf8_lossy(buf.as_bytes()).into_owned(),
                Err(e) => format!("{e:?}"),
            });
        }
        assert_eq!(
            found.join(" "),
            expect,
            "program {program:?}, PATH {path:?}"
        );
    }

    #[test]
    fn a_name_is_looked_up_in_each_directory() {
        check(
            "ls",
            Some("/sbin:/usr/sbin:/bin"),
            "/sbin/ls /usr/sbin/ls /bin/ls",
        );
    }

    #[test]
    fn a_path_is_used_as_it_is() {
        check("/bin/sh", Some("/sbin"), "/bin/sh");
        check("./run", Some("/sbin"), "./run");
    }

    #[test]
    fn an_empty_directory_is_the_current_one() {
        check("x", Some(":/bin:"), "x /bin/x x");
    }

    #[test]
    fn without_path_the_c_librarys_default_applies() {
        check("ls", None, "/bin/ls /usr/bin/ls");
    }

    #[test]
    fn an_empty_name_has_no_candidates() {
        check("", Some("/bin"), "");
    }

    #[test]
    fn a_candidate_too_long_for_the_buffer_is_an_error() {
        check(
            "ls",
            Some("/a-directory-name-that-does-not-fit-in-sixty-four-bytes-at-all:/bin"),
            "Errno(36) /bin/ls",
        );
    }
}
