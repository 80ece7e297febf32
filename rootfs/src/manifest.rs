//! `rootfs.toml`: the manifest format, parsed into [`Declaration`]s.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::declaration::{
    check_device_number, BusyboxLinks, Declaration, FileSource, LinkStyle, Node, NodeKind, Overlay,
};
use crate::error::{Error, Origin};
use crate::guest_path::GuestPath;
use crate::initramfs_list;
use crate::variables::expand_host_path;

/// A loaded manifest: its declarations and the files read to get them.
#[derive(Debug)]
pub(crate) struct Manifest {
    /// Everything it declares, in file order.
    pub(crate) declarations: Vec<Declaration>,
    /// The manifest itself and every `gen_init_cpio` list it included.
    pub(crate) files_read: Vec<PathBuf>,
}

impl Manifest {
    /// Reads `path`: TOML if it ends in `.toml`, else a kernel `gen_init_cpio` list.
    pub(crate) fn load(path: &Path, vars: &BTreeMap<String, PathBuf>) -> Result<Manifest, Error> {
        let text =
            std::fs::read_to_string(path).map_err(Error::io("cannot read manifest", path))?;
        let mut manifest = Manifest {
            declarations: Vec::new(),
            files_read: vec![path.to_path_buf()],
        };
        if path.extension().is_some_and(|e| e == "toml") {
            manifest.parse_toml(path, &text, vars)?;
        } else {
            let nodes = initramfs_list::parse(path, &text, vars, None)?;
            manifest
                .declarations
                .extend(nodes.into_iter().map(Declaration::Node));
        }
        Ok(manifest)
    }

    fn parse_toml(
        &mut self,
        file: &Path,
        text: &str,
        vars: &BTreeMap<String, PathBuf>,
    ) -> Result<(), Error> {
        let doc: ManifestToml = toml::from_str(text).map_err(|e| {
            let origin = Origin::at_offset(file, text, e.span().map_or(0, |s| s.start));
            Error::manifest(&origin, e.message().trim_end().to_string())
        })?;
        let cx = Context {
            file,
            text,
            vars,
            base: file.parent().unwrap_or(Path::new(".")),
        };
        let mut decls: Vec<(usize, Declaration)> = Vec::new();
        for dir in doc.dir {
            let table = dir.span().start;
            let dir = dir.into_inner();
            let paths = match (dir.path, dir.paths) {
                (Some(path), None) => vec![path],
                (None, Some(paths)) if !paths.is_empty() => paths,
                (None, _) => {
                    return Err(Error::manifest(
                        &cx.origin(table),
                        "a [[dir]] needs `path` or `paths`",
                    ))
                }
                (Some(path), Some(_)) => {
                    return Err(Error::manifest(
                        &cx.origin(path.span().start),
                        format!(
                            "a [[dir]] takes `path` or `paths`, not both: move {:?} into `paths`, or make it a [[dir]] of its own",
                            path.get_ref()
                        ),
                    ))
                }
            };
            let mode = cx.mode(dir.mode.as_ref())?;
            for path in paths {
                decls.push((
                    path.span().start,
                    cx.node(&path, NodeKind::Dir, mode, dir.uid, dir.gid)?,
                ));
            }
        }
        for file in doc.file {
            let origin = cx.origin(file.path.span().start);
            let source = match (file.source, file.contents) {
                (Some(source), None) => FileSource::Host(cx.host_path(&source)?),
                (None, Some(contents)) => FileSource::Inline(contents.into_inner().into_bytes()),
                _ => return Err(Error::manifest(
                    &origin,
                    "a [[file]] needs exactly one of `source` (a host file) or `contents` (text)",
                )),
            };
            let mode = cx.mode(file.mode.as_ref())?;
            decls.push((
                file.path.span().start,
                cx.node(&file.path, NodeKind::File(source), mode, file.uid, file.gid)?,
            ));
        }
        for link in doc.symlink {
            let target = link.target.into_inner();
            if target.is_empty() || target.contains('\0') {
                return Err(Error::manifest(
                    &cx.origin(link.path.span().start),
                    "a symlink target must be non-empty, without NUL bytes",
                ));
            }
            decls.push((
                link.path.span().start,
                cx.node(
                    &link.path,
                    NodeKind::Symlink(target),
                    None,
                    link.uid,
                    link.gid,
                )?,
            ));
        }
        for link in doc.hardlink {
            let target = cx.guest_path(&link.target)?;
            decls.push((
                link.path.span().start,
                cx.node(&link.path, NodeKind::HardLink(target), None, None, None)?,
            ));
        }
        for node in doc.node {
            let origin = cx.origin(node.path.span().start);
            let numbers = match (&node.major, &node.minor) {
                (Some(major), Some(minor)) => {
                    for (which, number) in [("major", major), ("minor", minor)] {
                        check_device_number(which, *number.get_ref())
                            .map_err(|m| Error::manifest(&cx.origin(number.span().start), m))?;
                    }
                    Some((*major.get_ref(), *minor.get_ref()))
                }
                (None, None) => None,
                _ => {
                    return Err(Error::manifest(
                        &origin,
                        "a device node needs both `major` and `minor`",
                    ))
                }
            };
            let kind = match (node.kind.get_ref().as_str(), numbers) {
                ("char" | "c", Some((major, minor))) => NodeKind::CharDevice { major, minor },
                ("block" | "b", Some((major, minor))) => NodeKind::BlockDevice { major, minor },
                ("char" | "c" | "block" | "b", None) => {
                    return Err(Error::manifest(&origin, format!("device node {} has no numbers: add `major = ..` and `minor = ..`", node.path.get_ref())))
                }
                ("fifo" | "pipe" | "p", None) => NodeKind::Fifo,
                ("socket" | "sock" | "s", None) => NodeKind::Socket,
                ("fifo" | "pipe" | "p" | "socket" | "sock" | "s", Some(_)) => {
                    return Err(Error::manifest(&origin, "only `char` and `block` nodes take `major` and `minor`"))
                }
                (other, _) => {
                    return Err(Error::manifest(
                        &cx.origin(node.kind.span().start),
                        format!("unknown node type {other:?}; expected \"char\", \"block\", \"fifo\" or \"socket\""),
                    ))
                }
            };
            let mode = cx.mode(node.mode.as_ref())?;
            decls.push((
                node.path.span().start,
                cx.node(&node.path, kind, mode, node.uid, node.gid)?,
            ));
        }
        for links in doc.busybox_links {
            let origin = cx.origin(links.list.span().start);
            let style = match links.target.as_ref().map(|t| t.get_ref().as_str()) {
                None | Some("relative") => LinkStyle::Relative,
                Some("absolute") => LinkStyle::Absolute,
                Some(other) => {
                    return Err(Error::manifest(&origin, format!("unknown link target style {other:?}; expected \"relative\" or \"absolute\"")))
                }
            };
            let mut exclude = BTreeSet::new();
            for path in links.exclude.unwrap_or_default() {
                exclude.insert(cx.guest_path(&path)?);
            }
            decls.push((
                links.list.span().start,
                Declaration::BusyboxLinks(BusyboxLinks {
                    list: cx.host_path(&links.list)?,
                    binary: cx.guest_path(&links.binary)?,
                    style,
                    exclude,
                    origin,
                }),
            ));
        }
        for overlay in doc.overlay {
            let dest = match &overlay.path {
                Some(path) => cx.guest_path(path)?,
                None => GuestPath::root(),
            };
            decls.push((
                overlay.source.span().start,
                Declaration::Overlay(Overlay {
                    source: cx.host_path(&overlay.source)?,
                    dest,
                    uid: overlay.uid.unwrap_or(0),
                    gid: overlay.gid.unwrap_or(0),
                    origin: cx.origin(overlay.source.span().start),
                }),
            ));
        }
        for list in doc.gen_init_cpio {
            let origin = cx.origin(list.list.span().start);
            let path = cx.host_path(&list.list)?;
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Error::manifest(
                    &origin,
                    format!("cannot read gen_init_cpio list {}: {e}", path.display()),
                )
            })?;
            let nodes = initramfs_list::parse(&path, &text, vars, Some(&origin))?;
            decls.extend(
                nodes
                    .into_iter()
                    .map(|n| (list.list.span().start, Declaration::Node(n))),
            );
            self.files_read.push(path);
        }
        decls.sort_by_key(|(offset, _)| *offset);
        self.declarations.extend(decls.into_iter().map(|(_, d)| d));
        Ok(())
    }
}

/// What converting a TOML value needs to know about where it came from.
struct Context<'a> {
    file: &'a Path,
    text: &'a str,
    vars: &'a BTreeMap<String, PathBuf>,
    base: &'a Path,
}

impl Context<'_> {
    fn origin(&self, offset: usize) -> Origin {
        Origin::at_offset(self.file, self.text, offset)
    }

    /// Reads an absolute guest path: a relative one (`etc`) is refused, since it could as
    /// well mean a host path relative to the manifest.
    fn guest_path(&self, raw: &Spanned<String>) -> Result<GuestPath, Error> {
        let origin = self.origin(raw.span().start);
        let text = raw.get_ref();
        if !text.is_empty() && !text.starts_with('/') {
            let path = GuestPath::parse(text).map_err(|m| Error::manifest(&origin, m))?;
            return Err(Error::manifest(
                &origin,
                format!("guest path {text:?} is relative: guest paths are absolute, write {path}"),
            ));
        }
        GuestPath::parse(text).map_err(|message| Error::manifest(&origin, message))
    }

    fn host_path(&self, raw: &Spanned<String>) -> Result<PathBuf, Error> {
        expand_host_path(
            raw.get_ref(),
            self.vars,
            self.base,
            &self.origin(raw.span().start),
        )
    }

    fn node(
        &self,
        path: &Spanned<String>,
        kind: NodeKind,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
    ) -> Result<Declaration, Error> {
        let origin = self.origin(path.span().start);
        let guest = self.guest_path(path)?;
        if guest.is_root() {
            return Err(Error::manifest(
                &origin,
                "`/` itself cannot be an entry: the kernel provides the root directory",
            ));
        }
        Ok(Declaration::Node(Node {
            path: guest,
            kind,
            mode,
            uid: uid.unwrap_or(0),
            gid: gid.unwrap_or(0),
            origin,
            weak: false,
        }))
    }

    /// Reads a mode written as a TOML octal integer (`0o755`) or an octal string (`"0755"`).
    fn mode(&self, raw: Option<&Spanned<ModeToml>>) -> Result<Option<u32>, Error> {
        let Some(raw) = raw else { return Ok(None) };
        let origin = self.origin(raw.span().start);
        let literal = self.text.get(raw.span()).unwrap_or("");
        let value = match raw.get_ref() {
            ModeToml::Int(n) if literal.starts_with("0o") => u32::try_from(*n).ok(),
            ModeToml::Int(n) => return Err(Error::manifest(&origin, not_octal(literal, *n))),
            ModeToml::Str(s) => {
                let digits = s.strip_prefix("0o").unwrap_or(s);
                if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                    return Err(Error::manifest(
                        &origin,
                        format!("mode {s:?} is not an octal number like \"0755\""),
                    ));
                }
                u32::from_str_radix(digits, 8).ok()
            }
        };
        match value {
            Some(mode) if mode <= 0o7777 => Ok(Some(mode)),
            _ => Err(Error::manifest(
                &origin,
                format!("mode {literal} is out of range: permission bits go up to 0o7777"),
            )),
        }
    }
}

/// Why a mode written as a TOML decimal (or hex, binary) integer is refused, and what to
/// write: `755` was meant as octal, so `0o755`; `493` is decimal for `0o755`, so `0o755` too.
fn not_octal(literal: &str, value: i64) -> String {
    let octal_digits = !literal.is_empty() && literal.bytes().all(|b| (b'0'..=b'7').contains(&b));
    if octal_digits {
        format!("mode {literal} is not octal: write it as 0o{literal} or \"0{literal}\"")
    } else if (0..=0o7777).contains(&value) {
        format!(
            "mode {literal} is not octal: TOML reads it as the number {value}, which is 0o{value:o} \
             in octal; write 0o{value:o} or \"0{value:o}\""
        )
    } else {
        format!("mode {literal} is out of range: permission bits are octal, up to 0o7777 (write e.g. 0o755)")
    }
}

/// The TOML document. Every table is an array so entries read as a list of `[[kind]]` blocks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestToml {
    #[serde(default)]
    dir: Vec<Spanned<DirToml>>,
    #[serde(default)]
    file: Vec<FileToml>,
    #[serde(default)]
    symlink: Vec<SymlinkToml>,
    #[serde(default)]
    hardlink: Vec<HardlinkToml>,
    #[serde(default)]
    node: Vec<NodeToml>,
    #[serde(default)]
    busybox_links: Vec<BusyboxLinksToml>,
    #[serde(default)]
    overlay: Vec<OverlayToml>,
    #[serde(default)]
    gen_init_cpio: Vec<ListToml>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ModeToml {
    Int(i64),
    Str(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirToml {
    path: Option<Spanned<String>>,
    paths: Option<Vec<Spanned<String>>>,
    mode: Option<Spanned<ModeToml>>,
    uid: Option<u32>,
    gid: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    path: Spanned<String>,
    source: Option<Spanned<String>>,
    contents: Option<Spanned<String>>,
    mode: Option<Spanned<ModeToml>>,
    uid: Option<u32>,
    gid: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SymlinkToml {
    path: Spanned<String>,
    target: Spanned<String>,
    uid: Option<u32>,
    gid: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HardlinkToml {
    path: Spanned<String>,
    target: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeToml {
    path: Spanned<String>,
    #[serde(rename = "type")]
    kind: Spanned<String>,
    major: Option<Spanned<u32>>,
    minor: Option<Spanned<u32>>,
    mode: Option<Spanned<ModeToml>>,
    uid: Option<u32>,
    gid: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BusyboxLinksToml {
    list: Spanned<String>,
    binary: Spanned<String>,
    target: Option<Spanned<String>>,
    exclude: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverlayToml {
    source: Spanned<String>,
    path: Option<Spanned<String>>,
    uid: Option<u32>,
    gid: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListToml {
    list: Spanned<String>,
}
