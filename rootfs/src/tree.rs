//! Resolving declarations against the host into the sorted, numbered list of archive entries.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::declaration::{
    BusyboxLinks, Declaration, FileSource, LinkStyle, Node, NodeKind, Overlay,
};
use crate::error::{Error, Origin};
use crate::guest_path::GuestPath;
use crate::manifest::Manifest;

/// File type bits of `st_mode`, as the newc format stores them.
pub(crate) mod file_type {
    /// Directory.
    pub(crate) const DIR: u32 = 0o040000;
    /// Regular file.
    pub(crate) const FILE: u32 = 0o100000;
    /// Symbolic link.
    pub(crate) const SYMLINK: u32 = 0o120000;
    /// Character device.
    pub(crate) const CHAR: u32 = 0o020000;
    /// Block device.
    pub(crate) const BLOCK: u32 = 0o060000;
    /// Named pipe.
    pub(crate) const FIFO: u32 = 0o010000;
    /// Unix socket.
    pub(crate) const SOCKET: u32 = 0o140000;
    /// Mask of the type bits.
    pub(crate) const MASK: u32 = 0o170000;
}

/// The guest's tree, ready to be written: sorted, parents first, inodes numbered.
#[derive(Debug)]
pub(crate) struct Tree {
    /// The entries in archive order.
    pub(crate) entries: Vec<TreeEntry>,
    /// Every host path read to build it (manifest, lists, sources, overlay contents).
    pub(crate) inputs: BTreeSet<PathBuf>,
}

/// One archive entry.
#[derive(Debug)]
pub(crate) struct TreeEntry {
    /// Its path in the guest.
    pub(crate) path: GuestPath,
    /// `st_mode`: file type and permission bits.
    pub(crate) mode: u32,
    /// Owner.
    pub(crate) uid: u32,
    /// Group.
    pub(crate) gid: u32,
    /// Link count: names of a regular file, 2 + subdirectories of a directory.
    pub(crate) nlink: u32,
    /// Inode number, shared by hard links.
    pub(crate) ino: u32,
    /// Device numbers of a device node.
    pub(crate) rdev: (u32, u32),
    /// The bytes that follow the header.
    pub(crate) body: Body,
}

/// What follows an entry's header in the archive.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// Nothing (directories, nodes, all but the last name of a hard-linked file).
    Empty,
    /// A host file's contents; `size` is what it had when the tree was resolved.
    Host { path: PathBuf, size: u64 },
    /// Literal bytes (inline files, symlink targets).
    Bytes(Vec<u8>),
}

impl Body {
    /// Its length in bytes.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Host { size, .. } => *size,
            Body::Bytes(bytes) => bytes.len() as u64,
        }
    }
}

/// Permission bits for a copied host file or directory, independent of the host's umask.
///
/// The owner's bits are kept; group and others get the owner's read and execute bits, never
/// write. So `0700`, `0750` and `0755` all give `0755`; `0600`, `0640` and `0664` give `0644`.
/// Set-id and sticky bits are dropped (declare the entry explicitly to keep them).
pub(crate) fn normalised_mode(host_mode: u32) -> u32 {
    let owner = (host_mode >> 6) & 0o7;
    let others = owner & 0o5;
    (owner << 6) | (others << 3) | others
}

impl Tree {
    /// Resolves `manifest` against the host: stats sources, walks overlays, reads applet lists,
    /// adds missing parent directories, checks for duplicates and numbers the inodes.
    pub(crate) fn build(manifest: &Manifest) -> Result<Tree, Error> {
        let mut builder = Builder {
            placed: BTreeMap::new(),
            inputs: manifest.files_read.iter().cloned().collect(),
        };
        let mut applet_lists = Vec::new();
        for declaration in &manifest.declarations {
            match declaration {
                Declaration::Node(node) => builder.node(node)?,
                Declaration::Overlay(overlay) => builder.overlay(overlay)?,
                Declaration::BusyboxLinks(links) => {
                    builder.busybox_links(links)?;
                    applet_lists.push(links);
                }
            }
        }
        for links in applet_lists {
            match builder.placed.get(&links.binary).map(|p| &p.kind) {
                Some(Kind::File(_)) => {}
                _ => {
                    return Err(Error::manifest(
                        &links.origin,
                        format!("busybox binary {} is not a regular file in the tree; add a [[file]] for it", links.binary),
                    ))
                }
            }
        }
        builder.add_parents()?;
        builder.number()
    }
}

/// An entry placed in the tree, before inode numbering.
#[derive(Debug)]
struct Placed {
    kind: Kind,
    /// Permission bits.
    mode: u32,
    uid: u32,
    gid: u32,
    origin: Origin,
    /// A directory that only exists because of an overlay or a child: another declaration of
    /// the same directory replaces it instead of being a duplicate.
    weak: bool,
}

#[derive(Debug)]
enum Kind {
    Dir,
    File(Body),
    Symlink(String),
    HardLink(GuestPath),
    Node { type_bits: u32, rdev: (u32, u32) },
}

struct Builder {
    placed: BTreeMap<GuestPath, Placed>,
    inputs: BTreeSet<PathBuf>,
}

impl Builder {
    fn place(&mut self, path: GuestPath, new: Placed) -> Result<(), Error> {
        let Some(old) = self.placed.get(&path) else {
            self.placed.insert(path, new);
            return Ok(());
        };
        match (&old.kind, &new.kind) {
            (Kind::Dir, Kind::Dir) if new.weak => Ok(()),
            (Kind::Dir, Kind::Dir) if old.weak => {
                self.placed.insert(path, new);
                Ok(())
            }
            _ => Err(Error::manifest(
                &new.origin,
                format!(
                    "duplicate guest path {path}, also declared at {}",
                    old.origin
                ),
            )),
        }
    }

    fn node(&mut self, node: &Node) -> Result<(), Error> {
        let (kind, default_mode) = match &node.kind {
            NodeKind::Dir => (Kind::Dir, 0o755),
            NodeKind::File(FileSource::Inline(bytes)) => {
                (Kind::File(Body::Bytes(bytes.clone())), 0o644)
            }
            NodeKind::File(FileSource::Host(path)) => {
                let meta = std::fs::metadata(path).map_err(|e| {
                    Error::manifest(
                        &node.origin,
                        format!(
                            "cannot read host file {} for {}: {e}",
                            path.display(),
                            node.path
                        ),
                    )
                })?;
                if !meta.is_file() {
                    return Err(Error::manifest(
                        &node.origin,
                        format!("host path {} for {} is not a regular file (use [[overlay]] for directories)", path.display(), node.path),
                    ));
                }
                self.inputs.insert(path.clone());
                let body = Body::Host {
                    path: path.clone(),
                    size: meta.len(),
                };
                (Kind::File(body), normalised_mode(meta.permissions().mode()))
            }
            NodeKind::Symlink(target) => (Kind::Symlink(target.clone()), 0o777),
            NodeKind::HardLink(target) => (Kind::HardLink(target.clone()), 0),
            NodeKind::CharDevice { major, minor } => (
                Kind::Node {
                    type_bits: file_type::CHAR,
                    rdev: (*major, *minor),
                },
                0o600,
            ),
            NodeKind::BlockDevice { major, minor } => (
                Kind::Node {
                    type_bits: file_type::BLOCK,
                    rdev: (*major, *minor),
                },
                0o600,
            ),
            NodeKind::Fifo => (
                Kind::Node {
                    type_bits: file_type::FIFO,
                    rdev: (0, 0),
                },
                0o600,
            ),
            NodeKind::Socket => (
                Kind::Node {
                    type_bits: file_type::SOCKET,
                    rdev: (0, 0),
                },
                0o600,
            ),
        };
        // A symlink's permissions mean nothing on Linux; 0777 is what every tool shows.
        let mode = if matches!(kind, Kind::Symlink(_)) {
            0o777
        } else {
            node.mode.unwrap_or(default_mode)
        };
        let placed = Placed {
            kind,
            mode,
            uid: node.uid,
            gid: node.gid,
            origin: node.origin.clone(),
            weak: node.weak,
        };
        self.place(node.path.clone(), placed)
    }

    fn overlay(&mut self, overlay: &Overlay) -> Result<(), Error> {
        let meta = std::fs::metadata(&overlay.source).map_err(|e| {
            Error::manifest(
                &overlay.origin,
                format!(
                    "cannot read overlay directory {}: {e}",
                    overlay.source.display()
                ),
            )
        })?;
        if !meta.is_dir() {
            return Err(Error::manifest(
                &overlay.origin,
                format!(
                    "overlay source {} is not a directory (use [[file]] for a single file)",
                    overlay.source.display()
                ),
            ));
        }
        self.inputs.insert(overlay.source.clone());
        if !overlay.dest.is_root() {
            let origin = Origin::new(&overlay.source, 0).via(&overlay.origin);
            let mode = normalised_mode(meta.permissions().mode());
            let placed = Placed {
                kind: Kind::Dir,
                mode,
                uid: overlay.uid,
                gid: overlay.gid,
                origin,
                weak: true,
            };
            self.place(overlay.dest.clone(), placed)?;
        }
        self.walk(&overlay.source, &overlay.dest, overlay)
    }

    fn walk(&mut self, dir: &Path, guest: &GuestPath, overlay: &Overlay) -> Result<(), Error> {
        let overlay_error = |path: &Path, message: String| {
            Error::manifest(&Origin::new(path, 0).via(&overlay.origin), message)
        };
        let mut children = Vec::new();
        for child in std::fs::read_dir(dir)
            .map_err(|e| overlay_error(dir, format!("cannot read overlay directory: {e}")))?
        {
            let child = child
                .map_err(|e| overlay_error(dir, format!("cannot read overlay directory: {e}")))?;
            children.push(child.path());
        }
        children.sort();
        for path in children {
            let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
                overlay_error(&path, "file name is not UTF-8; rename it".to_string())
            })?;
            let guest_child = guest.child(name);
            let meta = std::fs::symlink_metadata(&path)
                .map_err(|e| overlay_error(&path, format!("cannot read: {e}")))?;
            let origin = Origin::new(&path, 0).via(&overlay.origin);
            let mode = normalised_mode(meta.mode());
            let (kind, mode, weak) = if meta.is_dir() {
                (Kind::Dir, mode, true)
            } else if meta.is_file() {
                (
                    Kind::File(Body::Host {
                        path: path.clone(),
                        size: meta.len(),
                    }),
                    mode,
                    false,
                )
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path)
                    .map_err(|e| overlay_error(&path, format!("cannot read symlink: {e}")))?;
                let target = target
                    .to_str()
                    .ok_or_else(|| overlay_error(&path, "symlink target is not UTF-8".to_string()))?
                    .to_string();
                (Kind::Symlink(target), 0o777, false)
            } else {
                return Err(overlay_error(
                    &path,
                    "is a device, fifo or socket: these cannot be copied, declare it with [[node]] instead".to_string(),
                ));
            };
            self.inputs.insert(path.clone());
            let placed = Placed {
                kind,
                mode,
                uid: overlay.uid,
                gid: overlay.gid,
                origin,
                weak,
            };
            self.place(guest_child.clone(), placed)?;
            if meta.is_dir() {
                self.walk(&path, &guest_child, overlay)?;
            }
        }
        Ok(())
    }

    fn busybox_links(&mut self, links: &BusyboxLinks) -> Result<(), Error> {
        let text = std::fs::read_to_string(&links.list).map_err(|e| {
            Error::manifest(
                &links.origin,
                format!(
                    "cannot read busybox links file {}: {e}",
                    links.list.display()
                ),
            )
        })?;
        self.inputs.insert(links.list.clone());
        let absolute = links.binary.to_string();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let origin = Origin::new(&links.list, index + 1).via(&links.origin);
            let path = GuestPath::parse(line).map_err(|m| Error::manifest(&origin, m))?;
            if !line.starts_with('/') || path.is_root() {
                return Err(Error::manifest(
                    &origin,
                    format!("{line:?} is not an absolute applet path like /bin/ls"),
                ));
            }
            if path == links.binary || links.exclude.contains(&path) {
                continue;
            }
            let target = match links.style {
                LinkStyle::Relative => path.relative_link_to(&links.binary),
                LinkStyle::Absolute => absolute.clone(),
            };
            let placed = Placed {
                kind: Kind::Symlink(target),
                mode: 0o777,
                uid: 0,
                gid: 0,
                origin,
                weak: false,
            };
            self.place(path, placed)?;
        }
        Ok(())
    }

    /// Adds every missing ancestor directory, as `mkdir -p` would: mode 0755, owned by root.
    fn add_parents(&mut self) -> Result<(), Error> {
        let mut missing: BTreeMap<GuestPath, Origin> = BTreeMap::new();
        for (path, placed) in &self.placed {
            let mut parent = path.parent();
            while let Some(dir) = parent.filter(|p| !p.is_root()) {
                match self.placed.get(&dir) {
                    Some(Placed {
                        kind: Kind::Dir, ..
                    }) => break,
                    Some(other) => {
                        return Err(Error::manifest(
                            &placed.origin,
                            format!(
                                "{path} is inside {dir}, which is not a directory (declared at {})",
                                other.origin
                            ),
                        ))
                    }
                    None => {
                        missing
                            .entry(dir.clone())
                            .or_insert_with(|| placed.origin.clone());
                    }
                }
                parent = dir.parent();
            }
        }
        for (dir, origin) in missing {
            self.placed.insert(
                dir,
                Placed {
                    kind: Kind::Dir,
                    mode: 0o755,
                    uid: 0,
                    gid: 0,
                    origin,
                    weak: true,
                },
            );
        }
        Ok(())
    }

    /// Numbers inodes in archive order and turns hard-link groups into shared inodes.
    fn number(self) -> Result<Tree, Error> {
        // Each hard link names the file it finally resolves to; the group is file + links.
        let mut groups: BTreeMap<GuestPath, Vec<GuestPath>> = BTreeMap::new();
        for (path, placed) in &self.placed {
            let Kind::HardLink(first) = &placed.kind else {
                continue;
            };
            let mut target = first.clone();
            for _ in 0..=self.placed.len() {
                match self.placed.get(&target).map(|p| &p.kind) {
                    Some(Kind::HardLink(next)) => target = next.clone(),
                    Some(Kind::File(_)) => break,
                    _ => {
                        return Err(Error::manifest(
                            &placed.origin,
                            format!("hard link {path} points to {first}, which is not a regular file in the tree"),
                        ))
                    }
                }
            }
            if !matches!(
                self.placed.get(&target).map(|p| &p.kind),
                Some(Kind::File(_))
            ) {
                return Err(Error::manifest(
                    &placed.origin,
                    format!("hard link {path} is part of a cycle of hard links"),
                ));
            }
            groups.entry(target).or_default().push(path.clone());
        }
        let mut group_of: BTreeMap<GuestPath, GuestPath> = BTreeMap::new();
        for (file, links) in &groups {
            group_of.insert(file.clone(), file.clone());
            for link in links {
                group_of.insert(link.clone(), file.clone());
            }
        }
        let mut subdirs: BTreeMap<GuestPath, u32> = BTreeMap::new();
        for (path, placed) in &self.placed {
            if let (Kind::Dir, Some(parent)) = (&placed.kind, path.parent()) {
                *subdirs.entry(parent).or_default() += 1;
            }
        }
        // The last name of a group in archive order carries the data, as GNU cpio writes it:
        // the kernel, GNU cpio and libarchive all accept that layout.
        let last_of_group: BTreeMap<&GuestPath, &GuestPath> = groups
            .iter()
            .map(|(file, links)| (file, links.iter().chain([file]).max().unwrap_or(file)))
            .collect();
        let mut group_ino: BTreeMap<&GuestPath, u32> = BTreeMap::new();
        let mut next_ino = 1u32;
        let mut entries = Vec::with_capacity(self.placed.len());
        for (path, placed) in &self.placed {
            let group = group_of.get(path);
            let ino = match group {
                Some(file) => *group_ino.entry(file).or_insert_with(|| {
                    next_ino += 1;
                    next_ino - 1
                }),
                None => {
                    next_ino += 1;
                    next_ino - 1
                }
            };
            // Hard links take owner, group and mode from the file they name.
            let owner = group.map_or(placed, |file| &self.placed[file]);
            let (type_bits, nlink, rdev, body) = match (&placed.kind, group) {
                (Kind::File(_) | Kind::HardLink(_), Some(file)) => {
                    let Kind::File(body) = &self.placed[file].kind else {
                        unreachable!("groups name files")
                    };
                    let body = if last_of_group[file] == path {
                        body.clone()
                    } else {
                        Body::Empty
                    };
                    (file_type::FILE, groups[file].len() as u32 + 1, (0, 0), body)
                }
                (Kind::File(body), None) => (file_type::FILE, 1, (0, 0), body.clone()),
                (Kind::Dir, _) => (
                    file_type::DIR,
                    2 + subdirs.get(path).copied().unwrap_or(0),
                    (0, 0),
                    Body::Empty,
                ),
                (Kind::Symlink(target), _) => (
                    file_type::SYMLINK,
                    1,
                    (0, 0),
                    Body::Bytes(target.clone().into_bytes()),
                ),
                (Kind::Node { type_bits, rdev }, _) => (*type_bits, 1, *rdev, Body::Empty),
                (Kind::HardLink(_), None) => unreachable!("every hard link was grouped above"),
            };
            entries.push(TreeEntry {
                path: path.clone(),
                mode: type_bits | owner.mode,
                uid: owner.uid,
                gid: owner.gid,
                nlink,
                ino,
                rdev,
                body,
            });
        }
        Ok(Tree {
            entries,
            inputs: self.inputs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::normalised_mode;
    use expect_test::expect;

    #[test]
    fn copied_modes_follow_the_owner_bits_only() {
        let shown: Vec<String> = [
            0o700, 0o750, 0o755, 0o777, 0o600, 0o640, 0o664, 0o500, 0o4755, 0o1777, 0o000,
        ]
        .iter()
        .map(|&m| format!("{m:04o}->{:04o}", normalised_mode(m)))
        .collect();
        expect![[r#"["0700->0755", "0750->0755", "0755->0755", "0777->0755", "0600->0644", "0640->0644", "0664->0644", "0500->0555", "4755->0755", "1777->0755", "0000->0000"]"#]]
            .assert_eq(&format!("{shown:?}"));
    }
}
