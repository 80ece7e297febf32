//! A tree given with `--kernel-src`/`--busybox-src`: checked to look like one and used in place.

use anyhow::{bail, Context, Result};
use camino::Utf8Path;

use super::cache::{tree_version, version_matches};
use super::REQUIRED_SOURCES;
use crate::board::SourceSpec;
use crate::engine::Stage;
use crate::fetched::Fetched;

/// A tree given with `--kernel-src`/`--busybox-src`: checked to look like one, used in place.
pub fn local_tree(
    stage: &Stage,
    name: &str,
    spec: Option<&SourceSpec>,
    path: &Utf8Path,
) -> Result<Fetched> {
    let flag = if name == "linux" {
        "--kernel-src".to_string()
    } else {
        format!("--{name}-src")
    };
    let tree = path
        .canonicalize_utf8()
        .with_context(|| format!("{flag} {path}: no such directory"))?;
    if !tree.is_dir() {
        bail!("{flag} {path}: not a directory");
    }
    let marker = REQUIRED_SOURCES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, m)| *m);
    for file in std::iter::once("Makefile").chain(marker) {
        if !tree.join(file).is_file() {
            bail!("{flag} {path}: has no {file}, so it is not a {name} source tree");
        }
    }
    if tree.join(".config").exists() {
        bail!(
            "{flag} {path}: the tree is configured in place (has .config), which `make O=` refuses: \
             run `make mrproper` in it or use a clean copy"
        );
    }
    let version = tree_version(&tree)?;
    if let Some(spec) = spec {
        if !version_matches(&spec.version, &version) {
            let warning = format!(
                "warning: {flag} {path} is {name} {version}, the board says {}: using it anyway",
                spec.version
            );
            stage.log(&warning);
            eprintln!("{warning}");
        }
    }
    Ok(Fetched {
        route: "local".into(),
        version,
        signature: Some(tree_signature(&tree)),
        tree,
        ..Fetched::default()
    })
}

/// Number of files and newest modification time under a local tree (`.git` aside):
/// editing the tree changes it, so fetch records a new stamp and the build reruns make.
pub fn tree_signature(tree: &Utf8Path) -> String {
    fn walk(dir: &std::path::Path, count: &mut u64, newest: &mut std::time::SystemTime) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if let Ok(modified) = meta.modified() {
                *newest = (*newest).max(modified);
            }
            *count += 1;
            if meta.is_dir() && entry.file_name() != ".git" {
                walk(&entry.path(), count, newest);
            }
        }
    }
    let (mut count, mut newest) = (0, std::time::UNIX_EPOCH);
    walk(tree.as_std_path(), &mut count, &mut newest);
    let nanos = newest
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{count} files, newest {nanos}")
}
