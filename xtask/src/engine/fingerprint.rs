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

    /// Adds a path as it is, never following it into something that is not a regular
    /// file: a regular file's mode and contents; a symlink's target text (and, when it
    /// leads to a regular file, that file's contents); a directory's mode; a device,
    /// FIFO or socket by its kind and device number, never read. A missing path counts
    /// as such.
    pub fn file(&mut self, path: &Utf8Path) -> Result<&mut Self> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        self.text(path.as_str());
        let meta = match std::fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(self.text("<missing>"));
            }
            Err(e) => return Err(e).with_context(|| format!("reading {path}")),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            let target = std::fs::read_link(path).with_context(|| format!("reading {path}"))?;
            self.text("symlink").text(&target.to_string_lossy());
            // A [[file]] source may be a link to the file read; a link to a directory,
            // a device or a FIFO is stored as a link and never read.
            if std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
                self.contents(path)?;
            }
        } else if kind.is_file() {
            self.text(&format!("file {:o}", meta.mode() & 0o7777));
            self.contents(path)?;
        } else if kind.is_dir() {
            self.text(&format!("dir {:o}", meta.mode() & 0o7777));
        } else {
            let what = if kind.is_fifo() {
                "fifo"
            } else if kind.is_socket() {
                "socket"
            } else {
                "device"
            };
            self.text(&format!("{what} {:x}", meta.rdev()));
        }
        Ok(self)
    }

    /// Adds the bytes of the regular file at `path` (links followed).
    fn contents(&mut self, path: &Utf8Path) -> Result<()> {
        let mut f = std::fs::File::open(path).with_context(|| format!("reading {path}"))?;
        let len =
            std::io::copy(&mut f, &mut self.hasher).with_context(|| format!("reading {path}"))?;
        self.hasher.update(len.to_le_bytes());
        Ok(())
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

/// Every file under `dir`, at any depth, sorted by path; a symlink is listed as a
/// file, never followed (a link to a directory is not walked).
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    /// The fingerprint of `dir`'s entries, each with [`Fingerprint::file`], computed in
    /// a thread that must end within 10 s (reading a FIFO or /dev/zero would not).
    fn entries_hex(dir: &Utf8Path) -> String {
        let dir = dir.to_path_buf();
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut fp = Fingerprint::new("test");
            for entry in ["file", "lib", "zero", "fifo", "usr"] {
                fp.file(&dir.join(entry)).unwrap();
            }
            let _ = send.send(fp.hex());
        });
        receive
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("fingerprinting hung on a link to a device or FIFO")
    }

    #[test]
    fn links_are_hashed_by_their_target_and_never_followed_into_what_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(dir.path()).unwrap();
        fs_err::create_dir_all(dir.join("usr/lib")).unwrap();
        std::fs::write(dir.join("file"), b"x").unwrap();
        symlink("usr/lib", dir.join("lib")).unwrap();
        symlink("/dev/zero", dir.join("zero")).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(dir.join("real-fifo"))
            .status()
            .unwrap();
        assert!(status.success());
        symlink("real-fifo", dir.join("fifo")).unwrap();
        let first = entries_hex(dir);
        assert_eq!(entries_hex(dir), first);
        // What a directory link leads to is not an input of the link.
        std::fs::write(dir.join("usr/lib/new"), b"y").unwrap();
        assert_eq!(entries_hex(dir), first);
        // The link's target and a file's mode are.
        fs_err::remove_file(dir.join("lib")).unwrap();
        symlink("usr", dir.join("lib")).unwrap();
        let relinked = entries_hex(dir);
        assert_ne!(relinked, first);
        let executable = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(dir.join("file"), executable).unwrap();
        assert_ne!(entries_hex(dir), relinked);
    }
}
