//! The crate's error type and the manifest locations errors point at.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Where a tree entry was declared: a line of a manifest, list or links file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file that declared the entry.
    pub file: PathBuf,
    /// 1-based line number in `file`; 0 when the entry stands for the whole file.
    pub line: usize,
    /// The manifest line that pulled `file` in (a `busybox_links` or `gen_init_cpio` entry).
    pub via: Option<Box<Origin>>,
}

impl Origin {
    /// A location with no outer manifest line.
    pub fn new(file: impl Into<PathBuf>, line: usize) -> Origin {
        Origin {
            file: file.into(),
            line,
            via: None,
        }
    }

    /// The same location, noting that `via` pulled its file in.
    pub(crate) fn via(mut self, via: &Origin) -> Origin {
        self.via = Some(Box::new(via.clone()));
        self
    }

    /// The line of byte offset `offset` in `text`, read from `file`.
    pub(crate) fn at_offset(file: &Path, text: &str, offset: usize) -> Origin {
        let line = text.as_bytes()[..offset.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        Origin::new(file, line)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(via) = &self.via {
            write!(f, " (from {via})")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong while reading a manifest, packing or listing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifest (or a file it pulls in) says something wrong; `message` says what to do.
    #[error("{origin}: {message}")]
    Manifest {
        /// The offending line.
        origin: Origin,
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// A host file or directory could not be read or written. The message ends with the
    /// operating system's error, so it is not also given as [`std::error::Error::source`]:
    /// each cause is printed once.
    #[error("{action} {}: {error}", path.display())]
    Io {
        /// What was being done: "cannot read", "cannot write" ...
        action: &'static str,
        /// The host path involved.
        path: PathBuf,
        /// The operating system's error.
        error: io::Error,
    },
    /// An archive given to [`crate::list`] is not a valid (compressed) newc archive.
    #[error("bad archive: {0}")]
    Archive(String),
    /// A compressor or decompressor failed.
    #[error("{compression} {what}: {message}")]
    Compression {
        /// The format involved.
        compression: crate::Compression,
        /// "compression" or "decompression".
        what: &'static str,
        /// The library's message.
        message: String,
    },
    /// A value given by the caller (not the manifest) is out of range.
    #[error("{0}")]
    Option(String),
}

impl Error {
    /// A manifest error at `origin`.
    pub(crate) fn manifest(origin: &Origin, message: impl Into<String>) -> Error {
        Error::Manifest {
            origin: origin.clone(),
            message: message.into(),
        }
    }

    /// An I/O error on `path` while doing `action`.
    pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Error {
        let path = path.to_path_buf();
        move |error| Error::Io {
            action,
            path,
            error,
        }
    }
}
