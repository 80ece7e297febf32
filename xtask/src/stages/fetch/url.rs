//! A source from one of its `urls`: curl with short timeouts, checked against the pinned sha256.

use anyhow::{bail, Result};
use camino::{Utf8Path, Utf8PathBuf};
use std::process::Command;

use super::cache::{cached_tree, remove_any, sha256_file, tree_path, unpack, RemoveOnDrop};
use crate::board::SourceSpec;
use crate::engine::Stage;
use crate::fetched::Fetched;

/// Seconds curl may take to connect: unreachable mirrors must fail fast.
const CONNECT_TIMEOUT_SECS: &str = "10";

/// The tarball at `url` (cached, or downloaded and checked against the pin), unpacked into the cache.
pub fn from_url(
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
    if let Some(cached) = cached_tree(stage, &tree)? {
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

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

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
