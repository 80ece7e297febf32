//! The high-level entry points: pack a manifest into a file, list what it reads, list an archive.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::compression::Compression;
use crate::declaration::{Declaration, FileSource, Node, NodeKind};
use crate::error::{Error, Origin};
use crate::guest_path::GuestPath;
use crate::manifest::Manifest;
use crate::newc::{self, Entry};
use crate::tree::{file_type, Tree};

/// Everything [`pack`] needs from the outside world.
#[derive(Debug, Clone)]
pub struct PackOptions {
    /// The manifest: `rootfs.toml`, or a kernel `gen_init_cpio` list if it does not end in `.toml`.
    pub manifest: PathBuf,
    /// Values of the `${name}` variables host paths may use (`busybox`, `busybox_links`, `init`, `board` ...).
    pub vars: BTreeMap<String, PathBuf>,
    /// How to compress the archive.
    pub compression: Compression,
    /// The mtime of every entry: `SOURCE_DATE_EPOCH`, or 0.
    pub mtime: u64,
}

/// What [`pack`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackReport {
    /// Number of entries, trailer excluded.
    pub entries: usize,
    /// Size of the uncompressed newc archive.
    pub raw_bytes: u64,
    /// Size of the file written.
    pub compressed_bytes: u64,
    /// The compression used.
    pub compression: Compression,
    /// Every host path read, sorted: see [`inputs`].
    pub inputs: Vec<PathBuf>,
    /// The largest regular files (at most [`LARGEST_FILES`]), largest first: guest path and
    /// size, for the caller to compare with the guest's memory.
    pub largest_files: Vec<(String, u64)>,
}

/// How many files [`PackReport::largest_files`] names.
pub const LARGEST_FILES: usize = 3;

/// Builds the archive `opts` describes and writes it to `out` atomically (temp file + rename).
///
/// On any error nothing is written: a bad manifest line, a missing host file, a duplicate guest
/// path or an out-of-range option each names its cause.
pub fn pack(opts: &PackOptions, out: &Path) -> Result<PackReport, Error> {
    let (report, bytes) = pack_to_memory(opts)?;
    let dir = match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .map_err(Error::io("cannot create a temporary file in", dir))?;
    temp.write_all(&bytes)
        .map_err(Error::io("cannot write", temp.path()))?;
    // The kernel image and archive are build outputs anyone may read, whatever the umask.
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(Error::io("cannot set permissions of", out))?;
    temp.persist(out).map_err(|e| Error::Io {
        action: "cannot write",
        path: out.to_path_buf(),
        error: e.error,
    })?;
    Ok(report)
}

/// Builds the (compressed) archive in memory; what [`pack`] writes.
pub fn pack_to_memory(opts: &PackOptions) -> Result<(PackReport, Vec<u8>), Error> {
    let mtime = u32::try_from(opts.mtime).map_err(|_| {
        Error::Option(format!(
            "mtime {} does not fit the newc format's 32 bits",
            opts.mtime
        ))
    })?;
    let manifest = Manifest::load(&opts.manifest, &opts.vars)?;
    let tree = Tree::build(&manifest)?;
    let raw = newc::write(&tree, mtime)?;
    let compressed = opts.compression.compress(&raw)?;
    let report = PackReport {
        entries: tree.entries.len(),
        raw_bytes: raw.len() as u64,
        compressed_bytes: compressed.len() as u64,
        compression: opts.compression,
        largest_files: largest_files(&tree),
        inputs: tree.inputs.into_iter().collect(),
    };
    Ok((report, compressed))
}

/// The [`LARGEST_FILES`] largest regular files of `tree`, largest first (ties by path).
fn largest_files(tree: &Tree) -> Vec<(String, u64)> {
    let mut files: Vec<(String, u64)> = tree
        .entries
        .iter()
        .filter(|e| e.mode & file_type::MASK == file_type::FILE && e.body.len() > 0)
        .map(|e| (e.path.to_string(), e.body.len()))
        .collect();
    files.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    files.truncate(LARGEST_FILES);
    files
}

/// A regular file given as bytes, for [`archive_of_files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InlineFile<'a> {
    /// Where it goes in the guest, e.g. `/.minilinux/exec`.
    pub path: &'a str,
    /// Permission bits (`0o7777` at most).
    pub mode: u32,
    /// The contents, any bytes.
    pub data: &'a [u8],
}

/// An uncompressed newc archive of `files`, with their missing parent directories (0755,
/// root), every mtime `mtime`: what the kernel unpacks from an archive put before (or
/// after) another, e.g. a file added to an initramfs for one boot without repacking it.
pub fn archive_of_files(files: &[InlineFile], mtime: u32) -> Result<Vec<u8>, Error> {
    let mut declarations = Vec::with_capacity(files.len());
    for file in files {
        let path = GuestPath::parse(file.path).map_err(Error::Option)?;
        if file.mode > 0o7777 {
            return Err(Error::Option(format!(
                "mode {:#o} of {path} has bits beyond 0o7777",
                file.mode
            )));
        }
        declarations.push(Declaration::Node(Node {
            path,
            kind: NodeKind::File(FileSource::Inline(file.data.to_vec())),
            mode: Some(file.mode),
            uid: 0,
            gid: 0,
            origin: Origin::new("(in memory)", 0),
            weak: false,
        }));
    }
    let manifest = Manifest {
        declarations,
        files_read: Vec::new(),
    };
    newc::write(&Tree::build(&manifest)?, mtime)
}

/// Every host path packing `manifest` reads, sorted: the manifest, included lists, `busybox.links`
/// files, source files, and overlay directories with everything in them.
///
/// The archive depends on these paths' contents, and on their permission bits (see
/// `docs/rootfs.md`), so a fingerprint of the stage hashes both.
pub fn inputs(manifest: &Path, vars: &BTreeMap<String, PathBuf>) -> Result<Vec<PathBuf>, Error> {
    let manifest = Manifest::load(manifest, vars)?;
    Ok(Tree::build(&manifest)?.inputs.into_iter().collect())
}

/// Reads an archive as [`pack`] writes it (or any newc archive, compressed or not): detects the
/// compression by its magic, decompresses, and parses every concatenated newc archive.
///
/// Like the kernel, it also reads uncompressed archives followed by a compressed one (the layout
/// of an early-microcode initramfs), with NUL padding in between.
pub fn list(archive: &[u8]) -> Result<Vec<Entry>, Error> {
    let mut entries = Vec::new();
    let mut rest = archive;
    loop {
        while rest.first() == Some(&0) {
            rest = &rest[1..];
        }
        if rest.is_empty() {
            return Ok(entries);
        }
        match Compression::detect(rest)? {
            None => {
                let (archive, used) = newc::read_one(rest)?;
                entries.extend(archive);
                rest = &rest[used..];
            }
            Some(compression) => {
                entries.extend(newc::read(&compression.decompress(rest)?)?);
                return Ok(entries);
            }
        }
    }
}
