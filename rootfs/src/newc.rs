//! The newc (`070701`) cpio format: writing a [`Tree`] and reading archives back.
//!
//! Each entry is a 110-byte ASCII header (magic and 13 fields of 8 hex digits), the NUL-terminated
//! name padded to a multiple of 4 bytes, then the body padded the same way; a `TRAILER!!!` entry
//! ends the archive. This is the layout the kernel's `init/initramfs.c` unpacks.

use std::io::Read;

use crate::error::Error;
use crate::tree::{file_type, Body, Tree};

const MAGIC: &[u8; 6] = b"070701";
/// Same layout with a checksum field; read but never written.
const MAGIC_CRC: &[u8; 6] = b"070702";
const HEADER_LEN: usize = 110;
const TRAILER: &str = "TRAILER!!!";

/// One entry read from an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name as stored, e.g. `bin/busybox` (no leading `/`).
    pub name: String,
    /// Inode number; hard links share it.
    pub ino: u32,
    /// `st_mode`: file type and permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Link count.
    pub nlink: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: u32,
    /// Major and minor number of a device node.
    pub rdev: (u32, u32),
    /// The body: file contents or symlink target.
    pub data: Vec<u8>,
}

/// What kind of file an [`Entry`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// Directory.
    Dir,
    /// Regular file.
    File,
    /// Symbolic link.
    Symlink,
    /// Character device.
    CharDevice,
    /// Block device.
    BlockDevice,
    /// Named pipe.
    Fifo,
    /// Unix socket.
    Socket,
    /// A type the kernel would not create.
    Unknown,
}

impl Entry {
    /// The file type.
    pub fn kind(&self) -> EntryKind {
        match self.mode & file_type::MASK {
            file_type::DIR => EntryKind::Dir,
            file_type::FILE => EntryKind::File,
            file_type::SYMLINK => EntryKind::Symlink,
            file_type::CHAR => EntryKind::CharDevice,
            file_type::BLOCK => EntryKind::BlockDevice,
            file_type::FIFO => EntryKind::Fifo,
            file_type::SOCKET => EntryKind::Socket,
            _ => EntryKind::Unknown,
        }
    }

    /// The target of a symlink (lossily decoded), `None` for other kinds.
    pub fn symlink_target(&self) -> Option<String> {
        (self.kind() == EntryKind::Symlink)
            .then(|| String::from_utf8_lossy(&self.data).into_owned())
    }

    /// The permission bits (`mode & 0o7777`).
    pub fn permissions(&self) -> u32 {
        self.mode & 0o7777
    }
}

/// The exact size of the archive [`write`] will produce for `tree`.
pub(crate) fn archive_len(tree: &Tree) -> u64 {
    let bodies: u64 = tree.entries.iter().map(|e| pad4(e.body.len())).sum();
    let headers: u64 = tree
        .entries
        .iter()
        .map(|e| header_len(e.path.archive_name()))
        .sum();
    headers + bodies + header_len(TRAILER)
}

/// Writes `tree` as a newc archive with every mtime set to `mtime`, reading host files as it goes.
pub(crate) fn write(tree: &Tree, mtime: u32) -> Result<Vec<u8>, Error> {
    let total = archive_len(tree);
    let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for entry in &tree.entries {
        let size = u32::try_from(entry.body.len()).map_err(|_| {
            Error::Option(format!(
                "{} is larger than the 4 GiB a newc entry can hold",
                entry.path
            ))
        })?;
        let fields = [
            entry.ino,
            entry.mode,
            entry.uid,
            entry.gid,
            entry.nlink,
            mtime,
            size,
            0,
            0,
            entry.rdev.0,
            entry.rdev.1,
        ];
        push_header(&mut out, &fields, entry.path.archive_name());
        match &entry.body {
            Body::Empty => {}
            Body::Bytes(bytes) => out.extend_from_slice(bytes),
            Body::Host { path, size } => {
                let file = std::fs::File::open(path).map_err(Error::io("cannot read", path))?;
                let before = out.len();
                // One byte more than expected, to notice a file that grew since it was stat'ed.
                file.take(size + 1)
                    .read_to_end(&mut out)
                    .map_err(Error::io("cannot read", path))?;
                if (out.len() - before) as u64 != *size {
                    return Err(Error::Io {
                        action: "file changed size while packing",
                        path: path.clone(),
                        error: std::io::Error::other(format!(
                            "expected {size} bytes, read {}",
                            out.len() - before
                        )),
                    });
                }
            }
        }
        pad_to_4(&mut out);
    }
    push_header(&mut out, &[0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], TRAILER);
    debug_assert_eq!(out.len() as u64, total);
    Ok(out)
}

/// Parses one or more concatenated uncompressed newc archives (NUL padding between them allowed).
pub(crate) fn read(mut data: &[u8]) -> Result<Vec<Entry>, Error> {
    let mut entries = Vec::new();
    let mut offset = 0usize;
    loop {
        // The kernel skips NUL padding between archives in steps of 4 bytes.
        while data.len() >= 4 && data[..4] == [0; 4] {
            data = &data[4..];
            offset += 4;
        }
        if data.iter().all(|&b| b == 0) {
            return Ok(entries);
        }
        let (archive, used) = read_one_at(data, offset)?;
        entries.extend(archive);
        data = &data[used..];
        offset += used;
    }
}

/// Parses one archive up to and including its trailer; returns the entries and bytes consumed.
pub(crate) fn read_one(data: &[u8]) -> Result<(Vec<Entry>, usize), Error> {
    read_one_at(data, 0)
}

/// [`read_one`] of an archive found at offset `base` of a larger buffer (for messages).
fn read_one_at(data: &[u8], base: usize) -> Result<(Vec<Entry>, usize), Error> {
    let mut entries = Vec::new();
    let mut pos = 0usize;
    loop {
        let at = base + pos;
        let header = data
            .get(pos..pos + HEADER_LEN)
            .ok_or_else(|| Error::Archive(format!("truncated header at offset {at}")))?;
        if &header[..6] != MAGIC && &header[..6] != MAGIC_CRC {
            return Err(Error::Archive(format!(
                "no newc magic at offset {at} (found {:?}); only the newc (070701) format is supported",
                String::from_utf8_lossy(&header[..6])
            )));
        }
        let mut fields = [0u32; 13];
        for (i, field) in fields.iter_mut().enumerate() {
            let hex = &header[6 + 8 * i..14 + 8 * i];
            *field = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    Error::Archive(format!(
                        "bad header field {i} at offset {at}: {:?}",
                        String::from_utf8_lossy(hex)
                    ))
                })?;
        }
        let [ino, mode, uid, gid, nlink, mtime, size, _dev_major, _dev_minor, rdev_major, rdev_minor, namesize, _check] =
            fields;
        let name_start = pos + HEADER_LEN;
        let name_bytes = data
            .get(name_start..name_start + namesize as usize)
            .filter(|n| n.last() == Some(&0))
            .ok_or_else(|| Error::Archive(format!("bad or truncated name at offset {at}")))?;
        let name = String::from_utf8_lossy(&name_bytes[..name_bytes.len() - 1]).into_owned();
        let body_start = pad4((name_start + namesize as usize) as u64) as usize;
        let body = data
            .get(body_start..body_start + size as usize)
            .ok_or_else(|| Error::Archive(format!("truncated body of {name:?} at offset {at}")))?;
        pos = pad4((body_start + size as usize) as u64) as usize;
        if name == TRAILER {
            return Ok((entries, pos.min(data.len())));
        }
        entries.push(Entry {
            name,
            ino,
            mode,
            uid,
            gid,
            nlink,
            mtime,
            rdev: (rdev_major, rdev_minor),
            data: body.to_vec(),
        });
    }
}

fn push_header(out: &mut Vec<u8>, fields: &[u32; 11], name: &str) {
    use std::io::Write;
    let namesize = name.len() as u32 + 1;
    out.extend_from_slice(MAGIC);
    for field in fields.iter().chain(&[namesize, 0]) {
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{field:08X}");
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad_to_4(out);
}

fn header_len(name: &str) -> u64 {
    pad4((HEADER_LEN + name.len() + 1) as u64)
}

fn pad4(n: u64) -> u64 {
    (n + 3) & !3
}

fn pad_to_4(out: &mut Vec<u8>) {
    out.resize(pad4(out.len() as u64) as usize, 0);
}
