//! Writing outputs so that nothing is ever half-written: a temp file (or link) in the
//! same folder, then a rename.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use std::io::Write;

/// Writes a file through a temp file in the same directory and a rename.
///
/// A symlink is written through: its target is replaced, the link stays a link.
///
/// A file that exists keeps its mode; a new one gets `0666` less the umask, as
/// `std::fs::write` would give it (a bare temp file would be `0600`). A file
/// path without a folder is written in the current one.
pub fn write_atomic(path: &Utf8Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = &follow_symlinks(path)?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_str().is_empty() => dir,
        _ => Utf8Path::new("."),
    };
    fs_err::create_dir_all(dir)?;
    let mode = match fs_err::metadata(path) {
        Ok(meta) => Some(meta.permissions()),
        Err(_) => None,
    };
    let mut tmp = tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .with_context(|| format!("creating a temp file in {dir}"))?;
    tmp.write_all(bytes)
        .with_context(|| format!("writing {path}"))?;
    if let Some(mode) = mode {
        fs_err::set_permissions(tmp.path(), mode)?;
    }
    tmp.persist(path)
        .with_context(|| format!("replacing {path}"))?;
    Ok(())
}

/// The file a path names once every symlink at its end is followed (a link to a link,
/// relative or absolute); `path` itself when it is not a symlink or does not exist.
pub fn follow_symlinks(path: &Utf8Path) -> Result<Utf8PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match fs_err::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = Utf8PathBuf::try_from(fs_err::read_link(&path)?)
                    .with_context(|| format!("{path} links to a non-UTF-8 path"))?;
                path = match path.parent() {
                    Some(dir) => dir.join(target),
                    None => target,
                };
            }
            _ => return Ok(path),
        }
    }
    bail!("{path}: too many levels of symbolic links")
}

/// Points the symlink `link` at `target`, replacing whatever was there in one rename
/// (a temp link `.<name>.tmp` beside it first); nothing is written when `link` already
/// points there.
pub fn symlink_atomic(target: &Utf8Path, link: &Utf8Path) -> Result<()> {
    if std::fs::read_link(link).is_ok_and(|t| t == target) {
        return Ok(());
    }
    let dir = link.parent().context("a symlink needs a parent folder")?;
    fs_err::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.tmp", link.file_name().unwrap_or("link")));
    match fs_err::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    std::os::unix::fs::symlink(target, &tmp).with_context(|| format!("creating symlink {tmp}"))?;
    fs_err::rename(&tmp, link)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Utf8Path) -> u32 {
        fs_err::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn write_atomic_gives_a_new_file_the_mode_std_would() {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(dir.path()).unwrap();
        std::fs::write(dir.join("by-std"), b"x").unwrap();
        write_atomic(&dir.join("ours"), b"x").unwrap();
        assert_eq!(mode(&dir.join("ours")), mode(&dir.join("by-std")));
    }

    #[test]
    fn write_atomic_writes_through_a_chain_of_symlinks_and_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(dir.path()).unwrap();
        fs_err::create_dir(dir.join("shared")).unwrap();
        std::fs::write(dir.join("shared/real"), b"old").unwrap();
        std::os::unix::fs::symlink("shared/real", dir.join("hop")).unwrap();
        std::os::unix::fs::symlink(dir.join("hop"), dir.join("link")).unwrap();
        write_atomic(&dir.join("link"), b"new").unwrap();
        assert!(fs_err::symlink_metadata(dir.join("link"))
            .unwrap()
            .is_symlink());
        assert!(fs_err::symlink_metadata(dir.join("hop"))
            .unwrap()
            .is_symlink());
        assert_eq!(std::fs::read(dir.join("shared/real")).unwrap(), b"new");
    }

    #[test]
    fn write_atomic_keeps_the_mode_of_a_file_it_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8Path::from_path(dir.path()).unwrap().join("f");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o751)).unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(mode(&path), 0o751);
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn symlink_atomic_replaces_an_existing_link() {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::try_from(dir.path().join("gcc")).unwrap();
        symlink_atomic(Utf8Path::new("/old/distcc"), &path).unwrap();
        symlink_atomic(Utf8Path::new("/usr/bin/distcc"), &path).unwrap();
        symlink_atomic(Utf8Path::new("/usr/bin/distcc"), &path).unwrap();
        assert_eq!(
            std::fs::read_link(&path).unwrap(),
            std::path::Path::new("/usr/bin/distcc")
        );
    }
}
