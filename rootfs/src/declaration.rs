//! What a manifest asks for, before the host is consulted.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::error::Origin;
use crate::guest_path::GuestPath;

/// One line's worth of a manifest: a single entry, or a rule that expands into many.
#[derive(Debug, Clone)]
pub(crate) enum Declaration {
    /// One entry of the tree.
    Node(Node),
    /// A host directory copied into the tree.
    Overlay(Overlay),
    /// Symlinks to busybox for every applet in a `busybox.links` file.
    BusyboxLinks(BusyboxLinks),
}

/// A single entry of the guest's tree, as declared.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Where it goes in the guest.
    pub(crate) path: GuestPath,
    /// What it is.
    pub(crate) kind: NodeKind,
    /// Permission bits (`0o7777` at most); `None` takes the kind's default.
    pub(crate) mode: Option<u32>,
    /// Owner.
    pub(crate) uid: u32,
    /// Group.
    pub(crate) gid: u32,
    /// The line that declared it.
    pub(crate) origin: Origin,
    /// Whether another declaration of the same directory may take its place.
    pub(crate) weak: bool,
}

/// The type of a [`Node`] and what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NodeKind {
    /// A directory.
    Dir,
    /// A regular file.
    File(FileSource),
    /// A symbolic link with this target, kept verbatim.
    Symlink(String),
    /// Another name for the regular file at this guest path.
    HardLink(GuestPath),
    /// A character device.
    CharDevice { major: u32, minor: u32 },
    /// A block device.
    BlockDevice { major: u32, minor: u32 },
    /// A named pipe.
    Fifo,
    /// A unix socket.
    Socket,
}

/// Where a regular file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileSource {
    /// A host file (symlinks followed).
    Host(PathBuf),
    /// Bytes given in the manifest.
    Inline(Vec<u8>),
}

/// `[[overlay]]`: a host directory tree copied under a guest directory.
#[derive(Debug, Clone)]
pub(crate) struct Overlay {
    /// The host directory.
    pub(crate) source: PathBuf,
    /// The guest directory it lands in.
    pub(crate) dest: GuestPath,
    /// Owner of every copied entry.
    pub(crate) uid: u32,
    /// Group of every copied entry.
    pub(crate) gid: u32,
    /// The manifest line.
    pub(crate) origin: Origin,
}

/// `[[busybox_links]]`: one symlink per line of a `busybox.links` file.
#[derive(Debug, Clone)]
pub(crate) struct BusyboxLinks {
    /// The host `busybox.links` file.
    pub(crate) list: PathBuf,
    /// The busybox binary in the guest, which every link points to.
    pub(crate) binary: GuestPath,
    /// Whether targets are relative (`../bin/busybox`) or absolute (`/bin/busybox`).
    pub(crate) style: LinkStyle,
    /// Applet paths not to link.
    pub(crate) exclude: BTreeSet<GuestPath>,
    /// The manifest line.
    pub(crate) origin: Origin,
}

/// How an applet symlink names the busybox binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkStyle {
    /// `../bin/busybox`: still right when the tree is inspected from the host.
    Relative,
    /// `/bin/busybox`.
    Absolute,
}

/// The largest major number the kernel keeps: `dev_t` has 12 bits of major.
pub(crate) const MAX_MAJOR: u32 = (1 << 12) - 1;
/// The largest minor number the kernel keeps: `dev_t` has 20 bits of minor.
pub(crate) const MAX_MINOR: u32 = (1 << 20) - 1;

/// Checks a device node's `which` number (`"major"` or `"minor"`) fits the kernel's `dev_t`;
/// `Err` says the limit. A larger number would be packed, and the kernel would read it as
/// another device.
pub(crate) fn check_device_number(which: &str, value: u32) -> Result<(), String> {
    let (max, bits) = if which == "major" {
        (MAX_MAJOR, 12)
    } else {
        (MAX_MINOR, 20)
    };
    if value <= max {
        return Ok(());
    }
    Err(format!(
        "{which} {value} is too large: the kernel's device numbers have {bits} bits of {which} \
         (0 to {max}), a larger one is read as another device; use a number up to {max}"
    ))
}
