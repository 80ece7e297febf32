//! The source cache: verified tarballs in `downloads/`, extracted trees in
//! `src/<name>-<version>-<sha256 prefix>/` with their provenance beside them. A tree is
//! unpacked under a `.tmp` name and renamed only once its version is checked.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::process::Command;

use crate::engine::{hex, write_atomic, Stage};
use crate::fetched::Fetched;

/// `6.1.192` from a kbuild top-level Makefile (`VERSION`, `PATCHLEVEL`, `SUBLEVEL`, `EXTRAVERSION`).
pub fn makefile_version(makefile: &str) -> Option<String> {
    let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
    for line in makefile.lines().take(30) {
        if let Some((key, value)) = line.split_once('=') {
            let key = key.trim();
            if ["VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION"].contains(&key) {
                fields.entry(key).or_insert(value.trim());
            }
        }
    }
    let mut version = fields.get("VERSION").filter(|v| !v.is_empty())?.to_string();
    for key in ["PATCHLEVEL", "SUBLEVEL"] {
        match fields.get(key) {
            Some(v) if !v.is_empty() => version.push_str(&format!(".{v}")),
            _ => break,
        }
    }
    version.push_str(fields.get("EXTRAVERSION").copied().unwrap_or(""));
    Some(version)
}

/// Whether `found` (e.g. `6.1.192`) is the `declared` version (e.g. `6.1`): every
/// dotted component of `declared` equals the one of `found` in its place.
pub fn version_matches(declared: &str, found: &str) -> bool {
    let found: Vec<&str> = found.split(['.', '-']).collect();
    let declared: Vec<&str> = declared.split('.').collect();
    declared.len() <= found.len() && declared.iter().zip(&found).all(|(d, f)| d == f)
}

/// The version a source tree's top-level Makefile declares.
pub fn tree_version(tree: &Utf8Path) -> Result<String> {
    let makefile = tree.join("Makefile");
    let text = fs_err::read_to_string(&makefile)?;
    makefile_version(&text).with_context(|| format!("{makefile}: no VERSION/PATCHLEVEL lines"))
}

/// `<cache>/src/<name>-<version>-<first 12 of sha256>`.
pub fn tree_path(cache: &Utf8Path, name: &str, version: &str, sha256: &str) -> Utf8PathBuf {
    cache
        .join("src")
        .join(format!("{name}-{version}-{}", &sha256[..12]))
}

/// The provenance file written next to an extracted tree.
fn provenance_path(tree: &Utf8Path) -> Utf8PathBuf {
    Utf8PathBuf::from(format!("{tree}.toml"))
}

/// The manifest written next to an extracted tree: what the tarball held.
fn manifest_path(tree: &Utf8Path) -> Utf8PathBuf {
    Utf8PathBuf::from(format!("{tree}.manifest"))
}

/// A tree already in the cache, with the provenance recorded when it was unpacked, if
/// it still holds what its tarball held ([`check_manifest`]); a damaged tree is
/// reported with a note and `None`, so that it is unpacked again.
pub fn cached_tree(stage: &Stage, tree: &Utf8Path) -> Result<Option<Fetched>> {
    if !tree.join("Makefile").is_file() {
        return Ok(None);
    }
    let Some(text) = std::fs::read_to_string(provenance_path(tree)).ok() else {
        return Ok(None);
    };
    let Ok(mut fetched) = toml::from_str::<Fetched>(&text) else {
        return Ok(None);
    };
    stage.status(&format!("checking {tree}"));
    if let Err(damage) = check_manifest(tree)? {
        stage.note(&format!(
            "{tree}: {damage}, unlike the tarball it was unpacked from: unpacking it again"
        ));
        return Ok(None);
    }
    fetched.cached = true;
    fetched.tree = tree.to_path_buf();
    Ok(Some(fetched))
}

/// One line of a tree's manifest: `f <size> <path>`, `l <path>` or `d <path>`.
fn manifest_line(kind: &std::fs::FileType, size: u64, rel: &str) -> String {
    if kind.is_dir() {
        format!("d {rel}")
    } else if kind.is_symlink() {
        format!("l {rel}")
    } else {
        format!("f {size} {rel}")
    }
}

/// Every entry under `tree` as manifest lines, sorted: what stat says of each, read
/// from nothing but the directory entries and their metadata.
fn manifest_of(tree: &Utf8Path) -> Result<Vec<String>> {
    fn walk(tree: &Utf8Path, dir: &Utf8Path, lines: &mut Vec<String>) -> Result<()> {
        for entry in fs_err::read_dir(dir)? {
            let path = Utf8PathBuf::try_from(entry?.path()).context("non-UTF-8 path")?;
            let meta = fs_err::symlink_metadata(&path)?;
            let rel = path.strip_prefix(tree).unwrap_or(&path);
            lines.push(manifest_line(&meta.file_type(), meta.len(), rel.as_str()));
            if meta.is_dir() {
                walk(tree, &path, lines)?;
            }
        }
        Ok(())
    }
    let mut lines = Vec::new();
    walk(tree, tree, &mut lines)?;
    lines.sort();
    Ok(lines)
}

/// Writes `<tree>.manifest` for the tree as unpacked at `unpacked` (before its rename).
fn write_manifest(unpacked: &Utf8Path, tree: &Utf8Path) -> Result<()> {
    let mut text = manifest_of(unpacked)?.join("\n");
    text.push('\n');
    write_atomic(&manifest_path(tree), text.as_bytes())
}

/// Whether the tree still has every entry its manifest lists, each of its kind and
/// (files) size: a stat per entry, no reading. A tree unpacked before manifests were
/// written gets one of what it holds now. `Ok(Err(what))` says what differs.
pub fn check_manifest(tree: &Utf8Path) -> Result<std::result::Result<(), String>> {
    let path = manifest_path(tree);
    let text = match fs_err::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            write_manifest(tree, tree)?;
            return Ok(Ok(()));
        }
        Err(e) => return Err(e.into()),
    };
    for line in text.lines() {
        let rel = match line.split_at_checked(2) {
            Some(("f ", rest)) => rest.split_once(' ').map_or(rest, |(_, rel)| rel),
            Some((_, rel)) => rel,
            None => continue,
        };
        let found = match std::fs::symlink_metadata(tree.join(rel)) {
            Ok(meta) => manifest_line(&meta.file_type(), meta.len(), rel),
            Err(_) => return Ok(Err(format!("{rel} is missing"))),
        };
        if found != line {
            return Ok(Err(format!(
                "{rel} has changed ({found:?}, recorded {line:?})"
            )));
        }
    }
    Ok(Ok(()))
}

/// Unpacks `tarball` into `<tree>.tmp`, checks the version it declares, then renames it to `tree`.
pub fn unpack(
    stage: &Stage,
    tarball: &Utf8Path,
    tree: &Utf8Path,
    name: &str,
    declared: &str,
    mut fetched: Fetched,
) -> Result<Fetched> {
    let tmp = Utf8PathBuf::from(format!("{tree}.tmp"));
    let _cleanup = RemoveOnDrop(tmp.clone());
    remove_any(&tmp)?;
    remove_any(tree)?;
    fs_err::create_dir_all(&tmp)?;
    stage.status(&format!(
        "{name}: unpacking {}",
        tarball.file_name().unwrap_or(tarball.as_str())
    ));
    let mut cmd = Command::new("bsdtar");
    cmd.arg("-xf")
        .arg(tarball)
        .arg("-C")
        .arg(&tmp)
        .arg("--no-same-owner");
    stage.run(cmd).map_err(|e| {
        if crate::layout::which("bsdtar").is_none() {
            e.context("bsdtar is not installed (package libarchive-tools): run `cargo xtask setup`")
        } else {
            e
        }
    })?;
    let top = single_top_dir(&tmp).with_context(|| format!("{tarball}: unexpected layout"))?;
    let version =
        tree_version(&top).with_context(|| format!("{tarball} does not look like {name}"))?;
    if !version_matches(declared, &version) {
        bail!("{tarball} holds {name} {version}, but the board says {declared}");
    }
    stage.log(&format!(
        "{tarball}: {} declares {name} {version}",
        top.file_name().unwrap_or("")
    ));
    fetched.version = version;
    fetched.tree = tree.to_path_buf();
    write_manifest(&top, tree)?;
    write_atomic(
        &provenance_path(tree),
        toml::to_string(&fetched)?.as_bytes(),
    )?;
    fs_err::rename(&top, tree)?;
    Ok(fetched)
}

/// The one directory a source tarball unpacks to.
fn single_top_dir(dir: &Utf8Path) -> Result<Utf8PathBuf> {
    let entries: Vec<_> = fs_err::read_dir(dir)?.flatten().map(|e| e.path()).collect();
    match entries.as_slice() {
        [one] if one.is_dir() => Ok(Utf8PathBuf::try_from(one.clone())?),
        _ => bail!(
            "expected one top-level directory, found {} entries",
            entries.len()
        ),
    }
}

/// Where the sha256 of a download without a pin (a tarball taken out of a Debian
/// package) is recorded: `<tarball>.sha256`, written once the package was verified.
fn download_record(tarball: &Utf8Path) -> Utf8PathBuf {
    Utf8PathBuf::from(format!("{tarball}.sha256"))
}

/// Records the sha256 of a download apt verified, for [`verified_download`].
pub fn record_download(tarball: &Utf8Path, sha: &str) -> Result<()> {
    write_atomic(&download_record(tarball), format!("{sha}\n").as_bytes())
}

/// The sha256 of a cached download when it is the one recorded when it was downloaded;
/// `None` (with a note, the download and its record removed) when there is none to
/// use: absent, changed since, or without a record. A download of an older minilinux
/// (no record) is kept when a cached tree was unpacked from exactly it
/// (`tree_of(sha)`'s provenance names this sha256), and recorded.
pub fn verified_download(
    stage: &Stage,
    tarball: &Utf8Path,
    tree_of: impl Fn(&str) -> Utf8PathBuf,
) -> Result<Option<String>> {
    let record = download_record(tarball);
    if !tarball.is_file() {
        remove_any(&record)?;
        return Ok(None);
    }
    stage.status(&format!("sha256 {tarball}"));
    let sha = sha256_file(tarball)?;
    let recorded = std::fs::read_to_string(&record)
        .ok()
        .map(|text| text.trim().to_string());
    let why = match recorded {
        Some(recorded) if recorded == sha => return Ok(Some(sha)),
        Some(recorded) => format!(
            "its sha256 {} is not the {} recorded when it was downloaded",
            &sha[..12],
            &recorded[..recorded.len().min(12)]
        ),
        None if unpacked_from(&tree_of(&sha), &sha) => {
            record_download(tarball, &sha)?;
            return Ok(Some(sha));
        }
        None => "no sha256 was recorded when it was downloaded".to_string(),
    };
    stage.note(&format!(
        "{tarball}: {why}: discarding it and downloading again"
    ));
    remove_any(tarball)?;
    remove_any(&record)?;
    Ok(None)
}

/// Whether the cached `tree`'s provenance says it was unpacked from a tarball with sha256 `sha`.
fn unpacked_from(tree: &Utf8Path, sha: &str) -> bool {
    std::fs::read_to_string(provenance_path(tree))
        .ok()
        .and_then(|text| toml::from_str::<Fetched>(&text).ok())
        .is_some_and(|fetched| fetched.sha256.as_deref() == Some(sha))
}

/// Lower-case hex sha256 of a file.
pub fn sha256_file(path: &Utf8Path) -> Result<String> {
    let mut file = fs_err::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).with_context(|| format!("reading {path}"))?;
    Ok(hex(&hasher.finalize()))
}

/// Removes what a killed run left in the cache (`src/*.tmp` half-unpacked trees,
/// `downloads/*.part` and `downloads/*.tmp`), saying so in the log. Called under the
/// cache lock, so no live fetch is writing them.
pub fn reclaim_leftovers(stage: &Stage, cache: &Utf8Path) -> Result<()> {
    for (dir, endings) in [("src", &[".tmp"][..]), ("downloads", &[".part", ".tmp"])] {
        let Ok(entries) = std::fs::read_dir(cache.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(path) = Utf8PathBuf::try_from(entry.path()) else {
                continue;
            };
            if endings.iter().any(|e| path.as_str().ends_with(e)) {
                stage.log(&format!("removing {path}, left by an interrupted run"));
                remove_any(&path)?;
            }
        }
    }
    Ok(())
}

/// Removes a file, symlink or directory tree if it exists.
pub fn remove_any(path: &Utf8Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs_err::remove_dir_all(path)?,
        Ok(_) => fs_err::remove_file(path)?,
        Err(_) => {}
    }
    Ok(())
}

/// Removes a temporary path when dropped, so failures and Ctrl-C leave no partial file behind.
pub struct RemoveOnDrop(pub Utf8PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = remove_any(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn makefile_versions() {
        let cases = [
            "# SPDX-License-Identifier: GPL-2.0\nVERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\nNAME = Curry Ramen\n",
            "VERSION = 1\nPATCHLEVEL = 35\nSUBLEVEL = 0\nEXTRAVERSION =\nNAME = Unnamed\n",
            "VERSION = 6\nPATCHLEVEL = 10\nSUBLEVEL = 0\nEXTRAVERSION = -rc3\n",
            "VERSION = 5\nPATCHLEVEL = 4\n",
            "all:\n\techo no version here\n",
        ];
        let got: Vec<String> = cases
            .iter()
            .map(|m| format!("{:?}", makefile_version(m)))
            .collect();
        expect![[r#"
            Some("6.1.192")
            Some("1.35.0")
            Some("6.10.0-rc3")
            Some("5.4")
            None"#]]
        .assert_eq(&got.join("\n"));
    }

    #[test]
    fn declared_versions_match_by_component() {
        let cases = [
            ("6.1", "6.1.192"),
            ("6.1", "6.10.0"),
            ("6.1", "6.1"),
            ("6.1.187", "6.1.192"),
            ("1.35.0", "1.35.0"),
            ("1.35.0", "1.35"),
            ("6.10", "6.10.0-rc3"),
        ];
        let got: Vec<String> = cases
            .iter()
            .map(|(d, f)| format!("{d} vs {f}: {}", version_matches(d, f)))
            .collect();
        expect![[r#"
            6.1 vs 6.1.192: true
            6.1 vs 6.10.0: false
            6.1 vs 6.1: true
            6.1.187 vs 6.1.192: false
            1.35.0 vs 1.35.0: true
            1.35.0 vs 1.35: false
            6.10 vs 6.10.0-rc3: true"#]]
        .assert_eq(&got.join("\n"));
    }
}
