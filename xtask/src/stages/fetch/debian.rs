//! A source from its Debian package: the installed package's tarball (checked with
//! `dpkg --verify`), else the package downloaded with `apt-get download` (apt checks
//! the archive's signature).

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use std::process::Command;

use super::cache::{
    cached_tree, record_download, remove_any, sha256_file, tree_path, unpack, verified_download,
    RemoveOnDrop,
};
use crate::board::SourceSpec;
use crate::engine::Stage;
use crate::fetched::Fetched;

/// The version of `package` dpkg has installed, if it is installed.
pub fn installed_version(package: &str) -> Option<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${db:Status-Abbrev}\t${Version}", package])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (status, version) = text.split_once('\t')?;
    (out.status.success() && status.starts_with("ii")).then(|| version.trim().to_string())
}

/// The tarball an installed Debian package put on the host, unless `dpkg --verify` says it changed.
pub fn from_installed(
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
    if let Some(cached) = cached_tree(stage, &tree)? {
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

/// The tarball inside the Debian package `apt-get download` fetches (apt checks the signature).
pub fn from_archive(
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
    let tree_of = |sha: &str| tree_path(cache, name, &spec.version, sha);
    let sha = match verified_download(stage, &tarball, tree_of)? {
        Some(sha) => sha,
        None => {
            stage.status(&format!("{name}: apt-get download {package}"));
            extract_from_deb(stage, &downloads, package, inner, &tarball)?;
            let sha = sha256_file(&tarball)?;
            record_download(&tarball, &sha)?;
            sha
        }
    };
    let fetched = Fetched {
        route: "debian-archive".into(),
        package: Some(package.to_string()),
        package_version: Some(candidate),
        tarball: Some(tarball.clone()),
        sha256: Some(sha.clone()),
        ..Fetched::default()
    };
    let tree = tree_of(&sha);
    if let Some(cached) = cached_tree(stage, &tree)? {
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

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

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
}
