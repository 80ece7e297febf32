//! Where a command is looked for: the candidate paths `execvp` would try, in order.
//!
//! init starts programs with plain `execve` on each candidate (see `sys::spawn`)
//! instead of glibc's `execvpe`, which would also run a file lacking `#!` with
//! `/bin/sh`: like posix_spawnp, init reports such a file as `Exec format error`.

/// glibc's search path when `PATH` is unset.
const DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";

/// The paths to try for `program`, in order: `program` itself when it contains
/// a `/`, else each directory of `path` (`PATH`'s value, `None` when unset)
/// joined with it, an empty directory meaning the current one. Empty for an
/// empty name, which names no file.
pub fn candidates(program: &[u8], path: Option<&[u8]>) -> Vec<Vec<u8>> {
    if program.is_empty() {
        return Vec::new();
    }
    if program.contains(&b'/') {
        return vec![program.to_vec()];
    }
    path.unwrap_or(DEFAULT_PATH)
        .split(|&b| b == b':')
        .map(|dir| {
            let mut candidate = Vec::with_capacity(dir.len() + 1 + program.len());
            if !dir.is_empty() {
                candidate.extend_from_slice(dir);
                candidate.push(b'/');
            }
            candidate.extend_from_slice(program);
            candidate
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(program: &str, path: Option<&str>, expect: &str) {
        let actual = candidates(program.as_bytes(), path.map(str::as_bytes))
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(actual, expect, "program {program:?}, PATH {path:?}");
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
}
