//! Initramfs builder: manifest -> file tree -> newc cpio -> compression.
//!
//! What it is: a library that reads a `rootfs.toml` manifest (or a kernel `gen_init_cpio` list),
//! resolves it against host files, writes a byte-reproducible newc archive the Linux kernel
//! unpacks (device nodes included, no root needed), compresses it the way the kernel's own
//! decompressors expect, and reads such archives back. The manifest format, reproducibility rules
//! and compressions are described in `docs/rootfs.md`.
//!
//! What it is not: it knows nothing of boards, QEMU, kernel configs or where build outputs live.
//! The caller passes paths in as variables ([`PackOptions::vars`]) and checks the kernel can
//! unpack the chosen [`Compression`] (see [`Compression::kernel_symbol`]).
//!
//! Entry points: [`pack`] (manifest to archive file), [`inputs`] (host paths a manifest reads,
//! for fingerprinting), [`archive_of_files`] (files in memory to an uncompressed archive), [`list`] and [`render_listing`] (archive to `ls -l`-style text).
//! Its benchmark against `find | cpio | gzip -9` is `benches/pack.rs`.

#![warn(missing_docs)]

mod compression;
mod declaration;
mod error;
mod guest_path;
mod initramfs_list;
mod listing;
mod manifest;
mod newc;
mod pack;
mod tree;
mod variables;

pub use compression::{Compression, GZIP_LEVEL, XZ_PRESET, ZSTD_LEVEL};
pub use error::{Error, Origin};
pub use listing::render_listing;
pub use newc::{Entry, EntryKind};
pub use pack::{
    archive_of_files, inputs, list, pack, pack_to_memory, InlineFile, PackOptions, PackReport,
    LARGEST_FILES,
};
