//! The build outputs a benchmark part measures with: they must exist already.

use anyhow::{bail, Result};
use camino::Utf8PathBuf;

use crate::layout::display_path;

/// `path`, or an error saying which stage makes it.
pub fn require(path: Utf8PathBuf, what: &str) -> Result<Utf8PathBuf> {
    if !path.exists() {
        bail!(
            "{what} {} not found: run `cargo xtask all --no-boot` first",
            display_path(&path)
        );
    }
    Ok(path)
}
