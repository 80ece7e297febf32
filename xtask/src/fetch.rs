//! `fetch`: verified kernel and busybox source trees, shared by every board.
//!
//! Each `[sources.<name>]` of the board is taken from the first route that works:
//! its `urls` in order (the tarball must match the pinned `sha256`), then the
//! installed Debian package's tarball (checked against dpkg's md5sums), then the
//! Debian package downloaded with `apt-get download` (apt checks the archive's
//! signature). Tarballs from Debian are additionally checked to declare the
//! board's version, and what was used is recorded in `fetch.toml`.
//!
//! The cache (`layout::cache_dir()`) holds `downloads/` (verified tarballs) and
//! `src/<name>-<version>-<sha256 prefix>/` (extracted trees, never modified:
//! builds use `make O=`). Downloads and extractions go to `.part`/`.tmp` names
//! and are renamed only once verified, under a cache-wide lock, so a partial or
//! corrupt file is never used. The board's `src/<name>` is a symlink to its tree.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::process::Command;

use crate::board::{Board, SourceSpec};
use crate::engine::{
    hex, interrupted, run_stage, symlink_atomic, write_atomic, Ctx, Fingerprint, Outcome, Report,
    Stage,
};
use crate::fetched::Fetched;
use crate::layout;

/// Options of `cargo xtask fetch`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FetchArgs {
    /// Use this kernel source tree instead of downloading one
    #[arg(long, value_name = "PATH")]
    pub kernel_src: Option<Utf8PathBuf>,
    /// Use this busybox source tree instead of downloading one
    #[arg(long, value_name = "PATH")]
    pub busybox_src: Option<Utf8PathBuf>,
}

/// The sources every board needs: (name, file only a real tree of it has).
const REQUIRED_SOURCES: &[(&str, &str)] = &[("linux", "Kconfig"), ("busybox", "Config.in")];

/// Seconds curl may take to connect: unreachable mirrors must fail fast.
const CONNECT_TIMEOUT_SECS: &str = "10";

/// Where a source tarball can come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// An upstream URL, verified against the board's sha256.
    Url(String),
    /// The tarball an installed Debian package put on the host.
    DebianInstalled {
        /// Package name.
        package: String,
        /// Installed version.
        version: String,
        /// Absolute path of the tarball.
        tarball: Utf8PathBuf,
    },
    /// The Debian package, downloaded with apt.
    DebianArchive {
        /// Package name.
        package: String,
        /// Path of the tarball inside the package.
        tarball: Utf8PathBuf,
    },
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Route::Url(url) => write!(f, "{url}"),
            Route::DebianInstalled {
                package, version, ..
            } => write!(f, "installed {package} {version}"),
            Route::DebianArchive { package, .. } => write!(f, "apt-get download {package}"),
        }
    }
}

/// What dpkg says about a source's Debian package on this host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DebianState {
    /// Installed version, if installed.
    pub installed: Option<String>,
    /// Whether the package's tarball is on disk.
    pub tarball_present: bool,
}

/// The routes to try for a source, in order; an error when the board entry is unusable.
pub fn routes(name: &str, spec: &SourceSpec, debian: &DebianState) -> Result<Vec<Route>> {
    let mut routes = Vec::new();
    if !spec.urls.is_empty() {
        if !is_sha256(&spec.sha256) {
            bail!(
                "board.toml [sources.{name}]: `urls` needs `sha256` (64 hex digits), got {:?}: \
                 pin the tarball's hash or remove the urls",
                spec.sha256
            );
        }
        routes.extend(spec.urls.iter().cloned().map(Route::Url));
    }
    match (&spec.debian_package, &spec.debian_tarball) {
        (Some(package), Some(tarball)) => {
            if let (Some(version), true) = (&debian.installed, debian.tarball_present) {
                routes.push(Route::DebianInstalled {
                    package: package.clone(),
                    version: version.clone(),
                    tarball: tarball.clone(),
                });
            }
            routes.push(Route::DebianArchive { package: package.clone(), tarball: tarball.clone() });
        }
        (None, None) => {}
        _ => bail!("board.toml [sources.{name}]: set both `debian_package` and `debian_tarball`, or neither"),
    }
    if routes.is_empty() {
        bail!("board.toml [sources.{name}]: no `urls` and no `debian_package`: nowhere to fetch it from");
    }
    Ok(routes)
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Tries `attempt` on each route in order and returns the first success; when all fail,
/// one error naming every route and why it failed.
pub fn first_success<T>(
    name: &str,
    routes: &[Route],
    mut attempt: impl FnMut(&Route) -> Result<T>,
) -> Result<T> {
    let mut failures = Vec::new();
    for route in routes {
        if interrupted() {
            bail!("interrupted");
        }
        match attempt(route) {
            Ok(t) => return Ok(t),
            Err(e) => failures.push(format!("  {route}: {e:#}")),
        }
    }
    bail!("every source of {name} failed:\n{}", failures.join("\n"))
}

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

/// Runs the fetch stage.
pub fn run(ctx: &Ctx, args: &FetchArgs) -> Result<Report> {
    let board = &ctx.board;
    let cache = layout::cache_dir();
    let locals = local_args(args);
    let mut fp = Fingerprint::new("fetch");
    fp.text(cache.as_str());
    for (name, spec) in &board.spec.sources {
        fp.text(name).text(&format!("{spec:?}"));
    }
    for (name, path) in &locals {
        let shown = path.canonicalize_utf8().unwrap_or_else(|_| path.clone());
        fp.text(name)
            .text(shown.as_str())
            .text(&tree_signature(&shown));
    }
    let record_path = board.fetch_record();
    let links: Vec<Utf8PathBuf> = source_names(board, &locals)
        .iter()
        .map(|n| link_path(board, n))
        .collect();
    let mut outputs: Vec<&Utf8Path> = links.iter().map(|l| l.as_path()).collect();
    outputs.push(&record_path);
    let report = run_stage(
        ctx,
        "fetch",
        &fp,
        &outputs,
        Some(record_path.clone()),
        |stage| fetch_all(stage, board, &cache, &locals, &record_path),
    )?;
    if report.outcome == Outcome::Done {
        print!("{}", fs_err::read_to_string(&record_path)?);
    }
    Ok(report)
}

/// Number of files and newest modification time under a local tree (`.git` aside):
/// editing the tree changes it, so fetch records a new stamp and the build reruns make.
fn tree_signature(tree: &Utf8Path) -> String {
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

fn local_args(args: &FetchArgs) -> BTreeMap<String, Utf8PathBuf> {
    let mut locals = BTreeMap::new();
    if let Some(p) = &args.kernel_src {
        locals.insert("linux".to_string(), p.clone());
    }
    if let Some(p) = &args.busybox_src {
        locals.insert("busybox".to_string(), p.clone());
    }
    locals
}

/// Every source the board gets: its `[sources]` plus the required ones.
fn source_names(board: &Board, locals: &BTreeMap<String, Utf8PathBuf>) -> Vec<String> {
    let mut names: Vec<String> = board.spec.sources.keys().cloned().collect();
    names.extend(locals.keys().cloned());
    names.extend(REQUIRED_SOURCES.iter().map(|(n, _)| n.to_string()));
    names.sort();
    names.dedup();
    names
}

/// `target/minilinux/<board>/src/<name>`.
fn link_path(board: &Board, name: &str) -> Utf8PathBuf {
    board.out_dir().join("src").join(name)
}

fn fetch_all(
    stage: &Stage,
    board: &Board,
    cache: &Utf8Path,
    locals: &BTreeMap<String, Utf8PathBuf>,
    record_path: &Utf8Path,
) -> Result<()> {
    // Cache-wide: fetches of different boards share trees and wait for each other.
    layout::claim_cache(cache)?;
    let _lock = crate::engine::FileLock::acquire(cache, "another fetch using the cache")?;
    let mut record: BTreeMap<String, Fetched> = BTreeMap::new();
    for name in source_names(board, locals) {
        let spec = board.spec.sources.get(&name);
        let fetched = match (locals.get(&name), spec) {
            (Some(path), _) => local_tree(stage, &name, spec, path)?,
            (None, Some(spec)) => fetch_source(stage, cache, &name, spec)?,
            (None, None) => bail!(
                "board.toml has no [sources.{name}]: add one, or pass --{}-src PATH",
                if name == "linux" {
                    "kernel"
                } else {
                    name.as_str()
                }
            ),
        };
        stage.log(&format!(
            "{name}: {} {} -> {}",
            fetched.route, fetched.version, fetched.tree
        ));
        symlink_atomic(&fetched.tree, &link_path(board, &name))?;
        record.insert(name, fetched);
    }
    let text = format!(
        "# Written by `cargo xtask fetch`: where each source tree of board {} came from.\n{}",
        board.name,
        toml::to_string(&record).context("serialising fetch.toml")?
    );
    write_atomic(record_path, text.as_bytes())
}

/// A tree given with `--kernel-src`/`--busybox-src`: checked to look like one, used in place.
fn local_tree(
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

fn tree_version(tree: &Utf8Path) -> Result<String> {
    let makefile = tree.join("Makefile");
    let text = fs_err::read_to_string(&makefile)?;
    makefile_version(&text).with_context(|| format!("{makefile}: no VERSION/PATCHLEVEL lines"))
}

fn fetch_source(stage: &Stage, cache: &Utf8Path, name: &str, spec: &SourceSpec) -> Result<Fetched> {
    let debian = match (&spec.debian_package, &spec.debian_tarball) {
        (Some(package), Some(tarball)) => DebianState {
            installed: installed_version(package),
            tarball_present: tarball.is_file(),
        },
        _ => DebianState::default(),
    };
    let routes = routes(name, spec, &debian)?;
    first_success(name, &routes, |route| {
        stage.status(&format!("{name}: {route}"));
        let result = match route {
            Route::Url(url) => from_url(stage, cache, name, spec, url),
            Route::DebianInstalled {
                package,
                version,
                tarball,
            } => from_installed(stage, cache, name, spec, package, version, tarball),
            Route::DebianArchive { package, tarball } => {
                from_archive(stage, cache, name, spec, package, tarball)
            }
        };
        if let Err(e) = &result {
            stage.log(&format!("{name}: {route}: {e:#}"));
        }
        result
    })
}

fn installed_version(package: &str) -> Option<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${db:Status-Abbrev}\t${Version}", package])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (status, version) = text.split_once('\t')?;
    (out.status.success() && status.starts_with("ii")).then(|| version.trim().to_string())
}

/// `<cache>/src/<name>-<version>-<first 12 of sha256>`.
fn tree_path(cache: &Utf8Path, name: &str, version: &str, sha256: &str) -> Utf8PathBuf {
    cache
        .join("src")
        .join(format!("{name}-{version}-{}", &sha256[..12]))
}

fn from_url(
    stage: &Stage,
    cache: &Utf8Path,
    name: &str,
    spec: &SourceSpec,
    url: &str,
) -> Result<Fetched> {
    let pin = spec.sha256.to_ascii_lowercase();
    let mut fetched = Fetched {
        route: "url".into(),
        url: Some(url.to_string()),
        ..Fetched::default()
    };
    let tree = tree_path(cache, name, &spec.version, &pin);
    if let Some(cached) = cached_tree(&tree) {
        return Ok(cached);
    }
    let file = url_file_name(url)?;
    let downloads = cache.join("downloads");
    fs_err::create_dir_all(&downloads)?;
    let tarball = downloads.join(file);
    if tarball.exists() && sha256_file(&tarball)? != pin {
        stage.log(&format!(
            "{tarball}: sha256 differs from the pin: downloading again"
        ));
        fs_err::remove_file(&tarball)?;
    }
    if !tarball.exists() {
        download(stage, url, &tarball, &pin)?;
    }
    fetched.tarball = Some(tarball.clone());
    fetched.sha256 = Some(pin);
    unpack(stage, &tarball, &tree, name, &spec.version, fetched)
}

/// The last path segment of a URL, for the cache file name.
fn url_file_name(url: &str) -> Result<&str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    match path.rsplit('/').next() {
        Some(f) if !f.is_empty() && f != "." && f != ".." => Ok(f),
        _ => bail!("{url}: no file name at the end of the URL"),
    }
}

/// curl `url` to `<dest>.part`, check its sha256, rename it to `dest`; removes the part on failure.
fn download(stage: &Stage, url: &str, dest: &Utf8Path, pin: &str) -> Result<()> {
    let part = Utf8PathBuf::from(format!("{dest}.part"));
    let _cleanup = RemoveOnDrop(part.clone());
    remove_any(&part)?;
    let mut cmd = Command::new("curl");
    // No --retry: curl retries DNS failures with a backoff; the next mirror is the retry.
    // A stalled mirror fails (speed limit) instead of hanging.
    cmd.args(["-fsSL", "--connect-timeout", CONNECT_TIMEOUT_SECS])
        .args(["--speed-limit", "1024", "--speed-time", "60"])
        .arg("-o")
        .arg(&part)
        .arg(url);
    stage.run(cmd).map_err(|e| {
        if crate::layout::which("curl").is_none() {
            e.context("curl is not installed: run `cargo xtask setup`")
        } else {
            e
        }
    })?;
    let got = sha256_file(&part)?;
    if got != pin {
        bail!("sha256 mismatch: expected {pin}, got {got} (download discarded)");
    }
    fs_err::rename(&part, dest)?;
    Ok(())
}

fn from_installed(
    stage: &Stage,
    cache: &Utf8Path,
    name: &str,
    spec: &SourceSpec,
    package: &str,
    version: &str,
    tarball: &Utf8Path,
) -> Result<Fetched> {
    stage.status(&format!("{name}: dpkg --verify {package}"));
    let out = Command::new("dpkg")
        .args(["--verify", package])
        .output()
        .context("running dpkg --verify")?;
    let report = String::from_utf8_lossy(&out.stdout);
    if let Some(line) = report.lines().find(|l| l.ends_with(tarball.as_str())) {
        bail!("{tarball} differs from what {package} installed (dpkg --verify: {line})");
    }
    stage.status(&format!("{name}: sha256 {tarball}"));
    let sha = sha256_file(tarball)?;
    let fetched = Fetched {
        route: "debian-installed".into(),
        package: Some(package.to_string()),
        package_version: Some(version.to_string()),
        tarball: Some(tarball.to_path_buf()),
        sha256: Some(sha.clone()),
        ..Fetched::default()
    };
    let tree = tree_path(cache, name, &spec.version, &sha);
    if let Some(cached) = cached_tree(&tree) {
        return Ok(cached);
    }
    unpack(stage, tarball, &tree, name, &spec.version, fetched)
}

/// `Candidate:` of `apt-cache policy <package>`.
pub fn apt_candidate(policy: &str) -> Option<String> {
    policy
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate:"))
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "(none)")
        .map(String::from)
}

fn from_archive(
    stage: &Stage,
    cache: &Utf8Path,
    name: &str,
    spec: &SourceSpec,
    package: &str,
    inner: &Utf8Path,
) -> Result<Fetched> {
    let policy = Command::new("apt-cache")
        .args(["policy", package])
        .output()
        .context("running apt-cache")?;
    let Some(candidate) = apt_candidate(&String::from_utf8_lossy(&policy.stdout)) else {
        bail!("apt has no candidate for {package}: is Debian's archive an apt source (and `apt-get update` run)?");
    };
    let downloads = cache.join("downloads");
    fs_err::create_dir_all(&downloads)?;
    let base = inner
        .file_name()
        .context("debian_tarball has no file name")?;
    let tarball = downloads.join(format!(
        "{package}_{}_{base}",
        candidate.replace(':', "%3a")
    ));
    if !tarball.exists() {
        extract_from_deb(stage, &downloads, package, inner, &tarball)?;
    }
    stage.status(&format!("{name}: sha256 {tarball}"));
    let sha = sha256_file(&tarball)?;
    let fetched = Fetched {
        route: "debian-archive".into(),
        package: Some(package.to_string()),
        package_version: Some(candidate),
        tarball: Some(tarball.clone()),
        sha256: Some(sha.clone()),
        ..Fetched::default()
    };
    let tree = tree_path(cache, name, &spec.version, &sha);
    if let Some(cached) = cached_tree(&tree) {
        return Ok(cached);
    }
    unpack(stage, &tarball, &tree, name, &spec.version, fetched)
}

/// `apt-get download` (apt checks the archive signature) and take `inner` out of the .deb.
fn extract_from_deb(
    stage: &Stage,
    downloads: &Utf8Path,
    package: &str,
    inner: &Utf8Path,
    dest: &Utf8Path,
) -> Result<()> {
    let work = downloads.join(format!("{package}.tmp"));
    let _cleanup = RemoveOnDrop(work.clone());
    remove_any(&work)?;
    fs_err::create_dir_all(&work)?;
    let mut cmd = Command::new("apt-get");
    cmd.args(["download", package]).current_dir(&work);
    stage.run(cmd)?;
    let deb = fs_err::read_dir(&work)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .context("apt-get download left no .deb")?;
    let root = work.join("root");
    let mut cmd = Command::new("dpkg-deb");
    cmd.arg("-x").arg(&deb).arg(&root);
    stage.run(cmd)?;
    let inside = root.join(inner.as_str().trim_start_matches('/'));
    if !inside.is_file() {
        bail!(
            "{} has no {inner}: check debian_tarball in board.toml",
            deb.display()
        );
    }
    fs_err::rename(&inside, dest)?;
    Ok(())
}

/// The provenance file written next to an extracted tree.
fn provenance_path(tree: &Utf8Path) -> Utf8PathBuf {
    Utf8PathBuf::from(format!("{tree}.toml"))
}

/// A tree already in the cache, with the provenance recorded when it was unpacked.
fn cached_tree(tree: &Utf8Path) -> Option<Fetched> {
    if !tree.join("Makefile").is_file() {
        return None;
    }
    let text = std::fs::read_to_string(provenance_path(tree)).ok()?;
    let mut fetched: Fetched = toml::from_str(&text).ok()?;
    fetched.cached = true;
    fetched.tree = tree.to_path_buf();
    Some(fetched)
}

/// Unpacks `tarball` into `<tree>.tmp`, checks the version it declares, then renames it to `tree`.
fn unpack(
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

/// Lower-case hex sha256 of a file.
pub fn sha256_file(path: &Utf8Path) -> Result<String> {
    let mut file = fs_err::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).with_context(|| format!("reading {path}"))?;
    Ok(hex(&hasher.finalize()))
}

/// Removes a file, symlink or directory tree if it exists.
fn remove_any(path: &Utf8Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs_err::remove_dir_all(path)?,
        Ok(_) => fs_err::remove_file(path)?,
        Err(_) => {}
    }
    Ok(())
}

/// Removes a temporary path when dropped, so failures and Ctrl-C leave no partial file behind.
struct RemoveOnDrop(Utf8PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = remove_any(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    fn spec(toml_text: &str) -> SourceSpec {
        toml::from_str(toml_text).expect("test spec parses")
    }

    fn check_routes(spec_text: &str, debian: DebianState, expect: Expect) {
        let out = match routes("linux", &spec(spec_text), &debian) {
            Ok(routes) => routes
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => format!("error: {e:#}"),
        };
        expect.assert_eq(&out);
    }

    const SHA: &str = "1b6e798aeaa708ca670a426ad5a6c86dc2237b8e59e8822876976c383873642b";

    #[test]
    fn urls_come_first_then_the_installed_package_then_the_archive() {
        check_routes(
            &format!(
                r#"version = "6.1"
                urls = ["https://a/linux-6.1.187.tar.xz", "https://b/linux-6.1.187.tar.xz"]
                sha256 = "{SHA}"
                debian_package = "linux-source-6.1"
                debian_tarball = "/usr/src/linux-source-6.1.tar.xz""#
            ),
            DebianState {
                installed: Some("6.1.192-2".into()),
                tarball_present: true,
            },
            expect![[r#"
                https://a/linux-6.1.187.tar.xz
                https://b/linux-6.1.187.tar.xz
                installed linux-source-6.1 6.1.192-2
                apt-get download linux-source-6.1"#]],
        );
    }

    #[test]
    fn installed_package_without_its_tarball_is_skipped() {
        check_routes(
            r#"version = "6.1"
            debian_package = "linux-source-6.1"
            debian_tarball = "/usr/src/linux-source-6.1.tar.xz""#,
            DebianState {
                installed: Some("6.1.192-2".into()),
                tarball_present: false,
            },
            expect![[r#"apt-get download linux-source-6.1"#]],
        );
    }

    #[test]
    fn urls_without_a_pin_are_refused() {
        check_routes(
            r#"version = "6.1"
            urls = ["https://a/linux.tar.xz"]
            sha256 = "abc""#,
            DebianState::default(),
            expect![[
                r#"error: board.toml [sources.linux]: `urls` needs `sha256` (64 hex digits), got "abc": pin the tarball's hash or remove the urls"#
            ]],
        );
    }

    #[test]
    fn a_source_with_no_route_is_refused() {
        check_routes(
            r#"version = "6.1""#,
            DebianState::default(),
            expect![[
                r#"error: board.toml [sources.linux]: no `urls` and no `debian_package`: nowhere to fetch it from"#
            ]],
        );
        check_routes(
            r#"version = "6.1"
            debian_package = "linux-source-6.1""#,
            DebianState::default(),
            expect![[
                r#"error: board.toml [sources.linux]: set both `debian_package` and `debian_tarball`, or neither"#
            ]],
        );
    }

    /// Runs [`first_success`] over routes whose attempts give the listed results.
    fn check_fallback(results: &[Result<&str, &str>], expect: Expect) {
        let routes: Vec<Route> = (0..results.len())
            .map(|i| Route::Url(format!("https://mirror{i}/x.tar")))
            .collect();
        let mut tried = Vec::new();
        let got = first_success("busybox", &routes, |route| {
            tried.push(route.to_string());
            let i = routes
                .iter()
                .position(|r| r == route)
                .expect("route from the list");
            results[i]
                .map(String::from)
                .map_err(|e| anyhow::anyhow!("{e}"))
        });
        let got = match got {
            Ok(v) => format!("ok: {v}"),
            Err(e) => format!("error: {e:#}"),
        };
        expect.assert_eq(&format!("tried: {}\n{got}", tried.join(", ")));
    }

    #[test]
    fn fallback_stops_at_the_first_verified_route() {
        check_fallback(
            &[
                Err("Could not resolve host: busybox.net"),
                Ok("tree"),
                Ok("unused"),
            ],
            expect![[r#"
                tried: https://mirror0/x.tar, https://mirror1/x.tar
                ok: tree"#]],
        );
    }

    #[test]
    fn fallback_reports_every_failure_when_all_fail() {
        check_fallback(
            &[
                Err("Could not resolve host: busybox.net"),
                Err("sha256 mismatch: expected aa, got bb (download discarded)"),
            ],
            expect![[r#"
                tried: https://mirror0/x.tar, https://mirror1/x.tar
                error: every source of busybox failed:
                  https://mirror0/x.tar: Could not resolve host: busybox.net
                  https://mirror1/x.tar: sha256 mismatch: expected aa, got bb (download discarded)"#]],
        );
    }

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

    #[test]
    fn apt_candidate_reads_policy_output() {
        let cases = [
            "linux-source-6.1:\n  Installed: 6.1.192-2\n  Candidate: 6.1.192-2\n  Version table:\n",
            "qemu-utils:\n  Installed: (none)\n  Candidate: 1:10.0.2+ds-2+deb13u1~bpo12+1\n",
            "foo:\n  Installed: (none)\n  Candidate: (none)\n",
            "",
        ];
        let got: Vec<String> = cases
            .iter()
            .map(|p| format!("{:?}", apt_candidate(p)))
            .collect();
        expect![[r#"
            Some("6.1.192-2")
            Some("1:10.0.2+ds-2+deb13u1~bpo12+1")
            None
            None"#]]
        .assert_eq(&got.join("\n"));
    }

    #[test]
    fn url_file_names() {
        let cases = [
            "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.1.187.tar.xz",
            "http://deb.debian.org/debian/pool/main/b/busybox/busybox_1.35.0.orig.tar.bz2?x=1",
            "https://example.org/",
        ];
        let got: Vec<String> = cases
            .iter()
            .map(|u| match url_file_name(u) {
                Ok(f) => f.to_string(),
                Err(e) => format!("error: {e}"),
            })
            .collect();
        expect![[r#"
            linux-6.1.187.tar.xz
            busybox_1.35.0.orig.tar.bz2
            error: https://example.org/: no file name at the end of the URL"#]]
        .assert_eq(&got.join("\n"));
    }
}
