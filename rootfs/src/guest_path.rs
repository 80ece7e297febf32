//! Normalised absolute paths inside the guest.

use std::cmp::Ordering;
use std::fmt;

/// A normalised path in the guest's tree: no `.`, `..`, empty or trailing components.
///
/// Stored without the leading `/` (the form written into the archive, as the kernel's
/// `gen_init_cpio` does); displayed with it. Ordered component by component, so a
/// directory sorts before everything inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GuestPath(String);

impl GuestPath {
    /// The root directory `/`.
    pub fn root() -> GuestPath {
        GuestPath(String::new())
    }

    /// Normalises `raw` (absolute, or relative to `/`); `Err` says why it is not a guest path.
    pub fn parse(raw: &str) -> Result<GuestPath, String> {
        if raw.is_empty() {
            return Err("empty guest path".to_string());
        }
        if raw.contains('\0') {
            return Err(format!("guest path {raw:?} contains a NUL byte"));
        }
        let mut parts: Vec<&str> = Vec::new();
        for part in raw.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(format!("guest path {raw:?} leaves `/`"));
                    }
                }
                _ => parts.push(part),
            }
        }
        Ok(GuestPath(parts.join("/")))
    }

    /// Whether this is `/`.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The name as written in the archive: `bin/busybox` (and `.` for the root).
    pub fn archive_name(&self) -> &str {
        if self.is_root() {
            "."
        } else {
            &self.0
        }
    }

    /// The components, outermost first.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|c| !c.is_empty())
    }

    /// The containing directory, or `None` for `/`.
    pub fn parent(&self) -> Option<GuestPath> {
        if self.is_root() {
            return None;
        }
        Some(match self.0.rfind('/') {
            Some(i) => GuestPath(self.0[..i].to_string()),
            None => GuestPath::root(),
        })
    }

    /// This directory's child called `name` (a single component, not `.` or `..`).
    pub(crate) fn child(&self, name: &str) -> GuestPath {
        debug_assert!(!name.is_empty() && !name.contains('/') && name != "." && name != "..");
        if self.is_root() {
            GuestPath(name.to_string())
        } else {
            GuestPath(format!("{}/{name}", self.0))
        }
    }

    /// The relative symlink target that leads from a link at `self` to `target`.
    pub fn relative_link_to(&self, target: &GuestPath) -> String {
        let mut dir: Vec<&str> = self.components().collect();
        dir.pop();
        let to: Vec<&str> = target.components().collect();
        let common = dir.iter().zip(&to).take_while(|(a, b)| a == b).count();
        let mut parts = vec![".."; dir.len() - common];
        parts.extend(&to[common..]);
        if parts.is_empty() {
            ".".to_string()
        } else {
            parts.join("/")
        }
    }
}

impl Ord for GuestPath {
    fn cmp(&self, other: &GuestPath) -> Ordering {
        self.components().cmp(other.components())
    }
}

impl PartialOrd for GuestPath {
    fn partial_cmp(&self, other: &GuestPath) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for GuestPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::GuestPath;
    use expect_test::{expect, Expect};

    fn check_parse(raw: &str, expect: Expect) {
        let got = match GuestPath::parse(raw) {
            Ok(p) => format!("{p} ({})", p.archive_name()),
            Err(e) => format!("error: {e}"),
        };
        expect.assert_eq(&got);
    }

    #[test]
    fn parse_normalises() {
        check_parse("/bin/busybox", expect!["/bin/busybox (bin/busybox)"]);
        check_parse("bin//./busybox/", expect!["/bin/busybox (bin/busybox)"]);
        check_parse("/usr/../sbin/init", expect!["/sbin/init (sbin/init)"]);
        check_parse("/", expect!["/ (.)"]);
        check_parse("/..", expect![[r#"error: guest path "/.." leaves `/`"#]]);
        check_parse(
            "/etc/../../x",
            expect![[r#"error: guest path "/etc/../../x" leaves `/`"#]],
        );
        check_parse("", expect!["error: empty guest path"]);
    }

    fn check_link(from: &str, to: &str, expect: Expect) {
        let from = GuestPath::parse(from).unwrap();
        let to = GuestPath::parse(to).unwrap();
        expect.assert_eq(&from.relative_link_to(&to));
    }

    #[test]
    fn relative_links_climb_to_the_common_ancestor() {
        check_link("/bin/ls", "/bin/busybox", expect!["busybox"]);
        check_link("/sbin/init", "/bin/busybox", expect!["../bin/busybox"]);
        check_link("/usr/bin/env", "/bin/busybox", expect!["../../bin/busybox"]);
        check_link("/linuxrc", "/bin/busybox", expect!["bin/busybox"]);
    }

    #[test]
    fn directories_sort_before_their_contents() {
        let mut paths: Vec<GuestPath> = ["/a-b", "/a/b", "/a", "/a.c", "/"]
            .iter()
            .map(|p| GuestPath::parse(p).unwrap())
            .collect();
        paths.sort();
        let shown: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
        expect![[r#"["/", "/a", "/a/b", "/a-b", "/a.c"]"#]].assert_eq(&format!("{shown:?}"));
    }
}
