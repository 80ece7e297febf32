//! zizmor, the offline linter of the GitHub workflow (`cargo xtask test` runs it): one
//! pinned release from PyPI, which `setup` installs with pip into the cache
//! (`<cache>/tools/zizmor-<version>/`), never into the system's Python.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use std::process::Command;

use crate::layout::{cache_dir, claim_cache, which};

/// The zizmor release the project is checked with; a newer one may know new audits,
/// so it is updated by hand, in a commit of its own.
pub const ZIZMOR_VERSION: &str = "1.32.0";

/// The folder the pinned zizmor is installed into.
pub fn install_dir() -> Utf8PathBuf {
    cache_dir()
        .join("tools")
        .join(format!("zizmor-{ZIZMOR_VERSION}"))
}

/// The pinned zizmor, if `setup` installed it.
pub fn find() -> Option<Utf8PathBuf> {
    let bin = install_dir().join("bin").join("zizmor");
    bin.is_file().then_some(bin)
}

/// What to do when [`find`] finds nothing, for the test's "not run" line.
pub fn missing_reason() -> String {
    format!(
        "zizmor {ZIZMOR_VERSION} not installed in {}: run `cargo xtask setup` (pip installs it from PyPI)",
        install_dir()
    )
}

/// `pip3 install --target <dir> zizmor==<version>`: the wheel's `bin/zizmor` lands in `dir`.
pub fn install_command(pip: &Utf8Path, dir: &Utf8Path) -> Command {
    let mut cmd = Command::new(pip);
    cmd.args([
        "install",
        "--no-input",
        "--disable-pip-version-check",
        "--root-user-action=ignore",
        "--target",
    ])
    .arg(dir)
    .arg(format!("zizmor=={ZIZMOR_VERSION}"));
    cmd
}

/// The lint: the workflows under `.github/workflows`, offline, failing on any finding of
/// medium severity or higher.
pub fn lint_command(zizmor: &Utf8Path, workspace: &Utf8Path) -> Command {
    let mut cmd = Command::new(zizmor);
    cmd.args([
        "--offline",
        "--no-progress",
        "--min-severity",
        "medium",
        ".github/workflows",
    ])
    .current_dir(workspace);
    cmd
}

/// The pip that installs zizmor, or what to install to get one.
pub fn pip() -> Result<Utf8PathBuf> {
    which("pip3").context("pip3 not found (package python3-pip): zizmor is installed with it")
}

/// Installs the pinned zizmor into the cache unless it is there, through `run` (which
/// runs and logs the command): into a temporary folder, renamed when pip succeeded, so
/// a failed install leaves nothing that looks installed.
pub fn install(run: impl FnOnce(Command) -> Result<()>) -> Result<Utf8PathBuf> {
    if let Some(bin) = find() {
        return Ok(bin);
    }
    let dir = install_dir();
    let tools = dir.parent().context("the tools folder has a parent")?;
    claim_cache(&cache_dir())?;
    fs_err::create_dir_all(tools)?;
    let tmp = tools.join(format!("zizmor-{ZIZMOR_VERSION}.tmp"));
    if tmp.exists() {
        fs_err::remove_dir_all(&tmp)?;
    }
    run(install_command(&pip()?, &tmp))?;
    if !tmp.join("bin").join("zizmor").is_file() {
        bail!("pip installed zizmor {ZIZMOR_VERSION} into {tmp} without a bin/zizmor");
    }
    fs_err::rename(&tmp, &dir)?;
    find().with_context(|| format!("no zizmor in {dir} after installing it"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::render_command;

    #[test]
    fn commands_pin_the_version_and_run_offline() {
        let install = install_command("/usr/bin/pip3".into(), "/c/tools/zizmor.tmp".into());
        let lint = lint_command("/c/tools/zizmor/bin/zizmor".into(), "/w".into());
        expect_test::expect![[r#"
            /usr/bin/pip3 install --no-input --disable-pip-version-check --root-user-action=ignore --target /c/tools/zizmor.tmp zizmor==1.32.0
            /c/tools/zizmor/bin/zizmor --offline --no-progress --min-severity medium .github/workflows"#]]
        .assert_eq(&format!(
            "{}\n{}",
            render_command(&install),
            render_command(&lint)
        ));
    }
}
