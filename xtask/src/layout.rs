//! Where things live: the workspace, `target/`, and the source cache.

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};

/// Root of the workspace (the parent of `xtask/`).
pub fn workspace_root() -> Utf8PathBuf {
    let manifest_dir = Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Utf8PathBuf::from)
        .unwrap_or(manifest_dir)
}

/// Folder holding one sub-folder per board: `$MINILINUX_BOARDS_DIR`, else `boards/` in the workspace.
pub fn boards_dir() -> Utf8PathBuf {
    match std::env::var_os("MINILINUX_BOARDS_DIR") {
        Some(dir) => Utf8PathBuf::from(dir.to_string_lossy().into_owned()),
        None => workspace_root().join("boards"),
    }
}

/// The workspace's `target/` directory.
pub fn target_dir() -> Utf8PathBuf {
    workspace_root().join("target")
}

/// Download and source cache, outside `target/` so `clean` keeps it:
/// `$MINILINUX_CACHE`, else `$XDG_CACHE_HOME/minilinux`, else `~/.cache/minilinux`.
pub fn cache_dir() -> Utf8PathBuf {
    if let Some(dir) = std::env::var_os("MINILINUX_CACHE") {
        return Utf8PathBuf::from(dir.to_string_lossy().into_owned());
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Utf8PathBuf::from(dir.to_string_lossy().into_owned()).join("minilinux");
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    Utf8PathBuf::from(home).join(".cache/minilinux")
}

/// The file that marks a folder as minilinux's cache: a standard cache directory tag
/// (<https://bford.info/cachedir/>), so backup tools skip it too.
const CACHE_TAG: &str = "CACHEDIR.TAG";

/// The tag's text; the second line is what [`is_marked_cache`] looks for.
const CACHE_TAG_TEXT: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by minilinux (cargo xtask).\n\
# For information about cache directory tags, see https://bford.info/cachedir/\n";

/// What minilinux itself puts in its cache: a folder holding only these (and no tag)
/// is an unmarked cache of an older minilinux, and is marked.
const CACHE_ENTRIES: [&str; 5] = ["downloads", "src", "rust-sysroot", "tools", "lock"];

/// Creates the cache folder `dir` if needed and marks it as minilinux's own, so that
/// `clean --cache` can later tell it from any other folder. A folder that exists,
/// holds other things and carries no tag is left unmarked: it is used, never removed.
pub fn claim_cache(dir: &Utf8Path) -> Result<()> {
    fs_err::create_dir_all(dir)?;
    if is_marked_cache(dir) {
        return Ok(());
    }
    let ours_only = fs_err::read_dir(dir)?.all(|entry| {
        entry.is_ok_and(|e| {
            let name = e.file_name();
            CACHE_ENTRIES.iter().any(|known| name == *known)
        })
    });
    if ours_only {
        let tag = dir.join(CACHE_TAG);
        fs_err::write(&tag, CACHE_TAG_TEXT).with_context(|| format!("marking the cache {dir}"))?;
    }
    Ok(())
}

/// Whether `dir` carries the tag [`claim_cache`] writes.
pub fn is_marked_cache(dir: &Utf8Path) -> bool {
    std::fs::read_to_string(dir.join(CACHE_TAG))
        .is_ok_and(|text| text.lines().nth(1) == CACHE_TAG_TEXT.lines().nth(1))
}

/// A path relative to the workspace root when it is inside it, for messages.
pub fn display_path(path: &Utf8Path) -> &Utf8Path {
    path.strip_prefix(workspace_root()).unwrap_or(path)
}

/// The full path of `program` on `PATH`, if it is there.
pub fn which(program: &str) -> Option<Utf8PathBuf> {
    let path = std::env::var("PATH").ok()?;
    path.split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Utf8PathBuf::from(dir).join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claimed(setup: impl FnOnce(&Utf8Path)) -> bool {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(tmp.path()).unwrap().join("cache");
        setup(&dir);
        claim_cache(&dir).unwrap();
        is_marked_cache(&dir)
    }

    #[test]
    fn a_new_or_empty_folder_or_an_older_unmarked_cache_is_marked() {
        assert!(claimed(|_| {}));
        assert!(claimed(|dir| fs_err::create_dir(dir).unwrap()));
        assert!(claimed(|dir| {
            fs_err::create_dir_all(dir.join("downloads")).unwrap();
            fs_err::create_dir_all(dir.join("src")).unwrap();
            fs_err::write(dir.join("lock"), "").unwrap();
        }));
    }

    #[test]
    fn a_folder_holding_anything_else_is_used_but_never_marked() {
        assert!(!claimed(|dir| {
            fs_err::create_dir_all(dir.join("downloads")).unwrap();
            fs_err::write(dir.join(".bashrc"), "").unwrap();
        }));
    }
}
