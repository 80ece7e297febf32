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
use std::collections::BTreeMap;

use crate::board::{Board, SourceSpec};
use crate::engine::{
    forget_stamp, run_stage, symlink_atomic, write_atomic, Ctx, Fingerprint, Outcome, Report, Stage,
};
use crate::fetched::Fetched;
use crate::layout;

mod cache;
mod debian;
mod local;
mod route;
mod url;

use debian::{from_archive, from_installed, installed_version};
use local::{local_tree, tree_signature};
use route::{first_success, routes, DebianState, Route};
use url::from_url;

/// Options of `cargo xtask fetch`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FetchArgs {
    /// Use this kernel source tree instead of downloading one
    #[arg(long, value_name = "PATH")]
    pub kernel_src: Option<Utf8PathBuf>,
    /// Use this busybox source tree instead of downloading one
    #[arg(long, value_name = "PATH")]
    pub busybox_src: Option<Utf8PathBuf>,
    /// Run even when up to date: check each cached tree against the manifest of its
    /// tarball (and unpack a damaged one again), and each cached download's sha256
    #[arg(long)]
    pub verify: bool,
}

/// The sources every board needs: (name, file only a real tree of it has).
const REQUIRED_SOURCES: &[(&str, &str)] = &[("linux", "Kconfig"), ("busybox", "Config.in")];

/// Runs the fetch stage.
pub fn run(ctx: &Ctx, args: &FetchArgs) -> Result<Report> {
    let board = ctx.board()?;
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
    if args.verify {
        forget_stamp(board, "fetch")?;
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
    cache::reclaim_leftovers(stage, cache)?;
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
