//! The kernel's `usr/gen_init_cpio` list format, so existing initramfs lists work as is.
//!
//! ```text
//! file <name> <location> <mode> <uid> <gid> [<hard links>...]
//! dir <name> <mode> <uid> <gid>
//! nod <name> <mode> <uid> <gid> <dev_type> <maj> <min>
//! slink <name> <target> <mode> <uid> <gid>
//! pipe <name> <mode> <uid> <gid>
//! sock <name> <mode> <uid> <gid>
//! ```
//!
//! `#` starts a comment line. `<location>` may use `${name}` variables (from the caller's
//! variables, not the environment) and is relative to the list's directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::declaration::{check_device_number, FileSource, Node, NodeKind};
use crate::error::{Error, Origin};
use crate::guest_path::GuestPath;
use crate::variables::expand_host_path;

/// Parses a `gen_init_cpio` list read from `file`; `via` is the manifest line that included it.
pub(crate) fn parse(
    file: &Path,
    text: &str,
    vars: &BTreeMap<String, PathBuf>,
    via: Option<&Origin>,
) -> Result<Vec<Node>, Error> {
    let base = file.parent().unwrap_or(Path::new("."));
    let mut nodes = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut origin = Origin::new(file, index + 1);
        if let Some(via) = via {
            origin = origin.via(via);
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some((&keyword, args)) = fields.split_first() else {
            continue;
        };
        if keyword.starts_with('#') {
            continue;
        }
        let line = Line {
            origin: &origin,
            keyword,
            args,
        };
        match keyword {
            "file" => {
                line.arity(5, usize::MAX, "file <name> <location> <mode> <uid> <gid> [<hard links>...]")?;
                let path = line.guest_path(args[0])?;
                let source = expand_host_path(args[1], vars, base, &origin)?;
                let node = line.node(path.clone(), NodeKind::File(FileSource::Host(source)), &args[2..5])?;
                let extra: Vec<Node> = args[5..]
                    .iter()
                    .map(|name| line.node(line.guest_path(name)?, NodeKind::HardLink(path.clone()), &args[2..5]))
                    .collect::<Result<_, _>>()?;
                nodes.push(node);
                nodes.extend(extra);
            }
            "dir" => {
                line.arity(4, 4, "dir <name> <mode> <uid> <gid>")?;
                nodes.push(line.node(line.guest_path(args[0])?, NodeKind::Dir, &args[1..4])?);
            }
            "nod" => {
                line.arity(7, 7, "nod <name> <mode> <uid> <gid> <dev_type> <maj> <min>")?;
                let major = line.number(args[5], "major")?;
                let minor = line.number(args[6], "minor")?;
                check_device_number("major", major)
                    .and_then(|()| check_device_number("minor", minor))
                    .map_err(|m| Error::manifest(&origin, m))?;
                let kind = match args[4] {
                    "c" => NodeKind::CharDevice { major, minor },
                    "b" => NodeKind::BlockDevice { major, minor },
                    other => return Err(Error::manifest(&origin, format!("device type {other:?} is neither `c` nor `b`"))),
                };
                nodes.push(line.node(line.guest_path(args[0])?, kind, &args[1..4])?);
            }
            "slink" => {
                line.arity(5, 5, "slink <name> <target> <mode> <uid> <gid>")?;
                let kind = NodeKind::Symlink(args[1].to_string());
                nodes.push(line.node(line.guest_path(args[0])?, kind, &args[2..5])?);
            }
            "pipe" | "sock" => {
                line.arity(4, 4, "pipe|sock <name> <mode> <uid> <gid>")?;
                let kind = if keyword == "pipe" { NodeKind::Fifo } else { NodeKind::Socket };
                nodes.push(line.node(line.guest_path(args[0])?, kind, &args[1..4])?);
            }
            other => {
                return Err(Error::manifest(
                    &origin,
                    format!("unknown gen_init_cpio keyword `{other}`; expected file, dir, nod, slink, pipe or sock"),
                ))
            }
        }
    }
    Ok(nodes)
}

/// One non-comment line being parsed.
struct Line<'a> {
    origin: &'a Origin,
    keyword: &'a str,
    args: &'a [&'a str],
}

impl Line<'_> {
    fn arity(&self, min: usize, max: usize, usage: &str) -> Result<(), Error> {
        if (min..=max).contains(&self.args.len()) {
            return Ok(());
        }
        Err(Error::manifest(
            self.origin,
            format!(
                "`{}` takes {} fields, got {}; usage: {usage}",
                self.keyword,
                min,
                self.args.len()
            ),
        ))
    }

    fn guest_path(&self, raw: &str) -> Result<GuestPath, Error> {
        let path = GuestPath::parse(raw).map_err(|m| Error::manifest(self.origin, m))?;
        if path.is_root() {
            return Err(Error::manifest(
                self.origin,
                "`/` itself cannot be an entry: the kernel provides the root directory",
            ));
        }
        Ok(path)
    }

    fn number(&self, raw: &str, what: &str) -> Result<u32, Error> {
        raw.parse().map_err(|_| {
            Error::manifest(
                self.origin,
                format!("{what} {raw:?} is not a decimal number"),
            )
        })
    }

    /// A node with `<mode> <uid> <gid>` taken from `mode_uid_gid`.
    fn node(&self, path: GuestPath, kind: NodeKind, mode_uid_gid: &[&str]) -> Result<Node, Error> {
        let raw_mode = mode_uid_gid[0];
        let mode = u32::from_str_radix(raw_mode, 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .ok_or_else(|| {
                Error::manifest(
                    self.origin,
                    format!("mode {raw_mode:?} is not octal permission bits like 0755"),
                )
            })?;
        Ok(Node {
            path,
            kind,
            mode: Some(mode),
            uid: self.number(mode_uid_gid[1], "uid")?,
            gid: self.number(mode_uid_gid[2], "gid")?,
            origin: self.origin.clone(),
            weak: false,
        })
    }
}
