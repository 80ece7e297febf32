//! Where things live: the workspace, `target/`, and the source cache.

use camino::Utf8PathBuf;

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

/// The full path of `program` on `PATH`, if it is there.
pub fn which(program: &str) -> Option<Utf8PathBuf> {
    let path = std::env::var("PATH").ok()?;
    path.split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Utf8PathBuf::from(dir).join(program))
        .find(|p| p.is_file())
}
