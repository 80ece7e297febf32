//! What a stage read, hashed: equal fingerprints mean nothing to do.

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use sha2::{Digest, Sha256};

/// Hash of everything a stage reads; equal fingerprints mean nothing to do.
#[derive(Debug, Clone, Default)]
pub struct Fingerprint {
    hasher: Sha256,
}

impl Fingerprint {
    /// An empty fingerprint for a stage, salted with the tool's version.
    pub fn new(stage: &str) -> Fingerprint {
        let mut fp = Fingerprint::default();
        fp.text("minilinux-fingerprint-v1");
        fp.text(stage);
        fp
    }

    /// Adds a string (a flag, a version, a path).
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.hasher.update((s.len() as u64).to_le_bytes());
        self.hasher.update(s.as_bytes());
        self
    }

    /// Adds a file's path and contents; a missing file counts as such.
    pub fn file(&mut self, path: &Utf8Path) -> Result<&mut Self> {
        self.text(path.as_str());
        match std::fs::File::open(path) {
            Ok(mut f) => {
                std::io::copy(&mut f, &mut self.hasher)
                    .with_context(|| format!("reading {path}"))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.text("<missing>");
            }
            Err(e) => return Err(e).with_context(|| format!("reading {path}")),
        }
        Ok(self)
    }

    /// Adds every file under a directory (sorted, with relative paths and contents).
    pub fn tree(&mut self, dir: &Utf8Path) -> Result<&mut Self> {
        let files = files_under(dir)?;
        self.text(dir.as_str());
        for f in files {
            self.file(&f)?;
        }
        Ok(self)
    }

    /// Adds the source tree `name` (`linux`, `busybox`) by what it is (`identity`, as
    /// fetch recorded it), not by where it came from, so that a new mirror rebuilds
    /// nothing and a new busybox does not rebuild the kernel; `None`: not fetched yet.
    pub fn source(&mut self, name: &str, identity: Option<&str>) -> &mut Self {
        self.text(name).text(identity.unwrap_or("<not fetched>"))
    }

    /// The hex digest.
    pub fn hex(&self) -> String {
        hex(&self.hasher.clone().finalize())
    }
}

/// Every file under `dir`, at any depth, sorted by path.
pub fn files_under(dir: &Utf8Path) -> Result<Vec<Utf8PathBuf>> {
    fn walk(dir: &Utf8Path, out: &mut Vec<Utf8PathBuf>) -> Result<()> {
        for entry in fs_err::read_dir(dir)? {
            let entry = entry?;
            let path = Utf8PathBuf::try_from(entry.path()).context("non-UTF-8 path")?;
            if entry.file_type()?.is_dir() {
                walk(&path, out)?;
            } else {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    Ok(files)
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
