//! `fetch.toml`: what each source tree of a board is and where it came from. Written by
//! the fetch stage; read by the stages that build from the trees, which chain on what a
//! tree is ([`Fetched::identity`]), not on the fetch stage itself.

use anyhow::{Context, Result};
use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::board::Board;

/// What a source tree is and where it came from: one table of `fetch.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fetched {
    /// `url`, `debian-installed`, `debian-archive` or `local`.
    pub route: String,
    /// Whether the tree was already in the cache (its origin is the recorded route).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
    /// The URL the tarball came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The Debian package the tarball came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// That package's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_version: Option<String>,
    /// The tarball that was unpacked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tarball: Option<Utf8PathBuf>,
    /// Its sha256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The version the tree's Makefile declares.
    pub version: String,
    /// The source tree.
    pub tree: Utf8PathBuf,
    /// A local tree's file count and newest change ([`tree_signature`]): editing it
    /// changes this, and with it what the build stages see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Fetched {
    /// What the build stages chain on: the tarball's sha256 (a local tree's signature),
    /// the version and where the tree is. Not the route, URL, package or whether it was
    /// cached: the same tarball from another mirror is the same tree.
    pub fn identity(&self) -> String {
        format!(
            "sha256={} signature={} version={} tree={}",
            self.sha256.as_deref().unwrap_or("-"),
            self.signature.as_deref().unwrap_or("-"),
            self.version,
            self.tree
        )
    }
}

/// The source `name` as the board's last fetch recorded it in `fetch.toml`, or `None`
/// before the first fetch.
pub fn recorded(board: &Board, name: &str) -> Result<Option<Fetched>> {
    let path = board.fetch_record();
    let text = match fs_err::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut record: BTreeMap<String, Fetched> = toml::from_str(&text)
        .with_context(|| format!("{path}: not a fetch record: run `cargo xtask fetch`"))?;
    Ok(record.remove(name))
}

/// What the source `name` is, as the last fetch recorded it ([`Fetched::identity`]), for
/// the fingerprints of the stages that build from it; `None` before the first fetch.
pub fn identity(board: &Board, name: &str) -> Result<Option<String>> {
    Ok(recorded(board, name)?.map(|fetched| fetched.identity()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn a_trees_identity_leaves_out_where_its_tarball_came_from() {
        let from_url = Fetched {
            route: "url".into(),
            url: Some("https://cdn.example/linux-6.1.187.tar.xz".into()),
            tarball: Some("/cache/downloads/linux-6.1.187.tar.xz".into()),
            sha256: Some("1b6e79".into()),
            version: "6.1.187".into(),
            tree: "/cache/src/linux-6.1-1b6e79".into(),
            ..Fetched::default()
        };
        let from_mirror_cached = Fetched {
            cached: true,
            url: Some("https://mirror.example/linux-6.1.187.tar.xz".into()),
            ..from_url.clone()
        };
        assert_eq!(from_url.identity(), from_mirror_cached.identity());
        expect!["sha256=1b6e79 signature=- version=6.1.187 tree=/cache/src/linux-6.1-1b6e79"]
            .assert_eq(&from_url.identity());
        let other_tarball = Fetched {
            sha256: Some("cacdc3".into()),
            ..from_url.clone()
        };
        assert_ne!(from_url.identity(), other_tarball.identity());
        let local = |signature: &str| Fetched {
            route: "local".into(),
            signature: Some(signature.into()),
            version: "6.1.5".into(),
            tree: "/src/linux".into(),
            ..Fetched::default()
        };
        assert_ne!(
            local("2 files, newest 1").identity(),
            local("3 files, newest 2").identity()
        );
    }
}
