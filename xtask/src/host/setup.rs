//! `setup`, and the check `all` and `test` run first: probe the board's requirements,
//! install what is missing through apt, check again.

use anyhow::{bail, Context, Result};
use std::process::Command;

use super::apt::{
    apply, apt_source_files, backports_release, check_can_apply, dpkg_query, foreign_arches,
    is_root, output_text, plan, release_configured, HostState, Plan,
};
use super::os::OsRelease;
use super::requirements::{optional_requirements, requirements, Requirement, Scope};
use super::rust_std::{rust_std, RustStd};
use super::zizmor;
use crate::board::Board;
use crate::engine::{Ctx, Stage};
use crate::layout::which;

/// The fast check: requirements, which of them are missing, and the Rust std route.
pub struct Check {
    /// Which packages it covers.
    pub scope: Scope,
    /// The host OS.
    pub os: OsRelease,
    /// Everything checked.
    pub requirements: Vec<Requirement>,
    /// What was not found.
    pub missing: Vec<Requirement>,
    /// Where init's std comes from.
    pub rust_std: RustStd,
    /// dpkg's foreign architectures (probed for the Debian std route only).
    pub foreign_arches: Vec<String>,
}

impl Check {
    /// Probes the board's requirements (no apt, no network).
    pub fn run(board: &Board, scope: Scope) -> Check {
        let os = OsRelease::read();
        let rust_std = rust_std(board, &os);
        let mut requirements = requirements(board, &rust_std);
        if scope == Scope::WithOptional {
            requirements.extend(optional_requirements());
        }
        let missing = requirements
            .iter()
            .filter(|r| r.probe.find().is_none())
            .cloned()
            .collect();
        let foreign_arches = if matches!(rust_std, RustStd::Debian { .. }) {
            foreign_arches()
        } else {
            Vec::new()
        };
        Check {
            scope,
            os,
            requirements,
            missing,
            rust_std,
            foreign_arches,
        }
    }

    /// Whether the Debian std route needs a dpkg architecture not added yet.
    pub fn arch_missing(&self) -> bool {
        matches!(&self.rust_std, RustStd::Debian { arch } if !self.foreign_arches.contains(arch))
    }

    fn all_present(&self) -> bool {
        self.missing.is_empty()
            && !self.arch_missing()
            && !matches!(self.rust_std, RustStd::Missing { .. })
    }

    /// Probes what [`plan`] needs beyond the fast check (dpkg and apt state), then plans.
    fn plan(&self, board: &Board) -> Plan {
        let mut patterns: Vec<String> = self.missing.iter().map(|r| r.package.clone()).collect();
        let qemu_package = board.spec.host.qemu_package.clone();
        let qemu_missing = self
            .missing
            .iter()
            .any(|r| Some(&r.package) == qemu_package.as_ref());
        if qemu_missing {
            patterns.push("qemu*".to_string());
        }
        let dpkg = dpkg_query(&patterns);
        let backports_configured = match backports_release(&self.os, &dpkg) {
            Some(release) if qemu_missing => {
                let policy = output_text(Command::new("apt-cache").arg("policy"));
                release_configured(&release, &policy, &apt_source_files())
            }
            _ => false,
        };
        plan(&HostState {
            os: self.os.clone(),
            has_apt: which("apt-get").is_some(),
            missing: self.missing.clone(),
            dpkg,
            qemu_package,
            rust_std: Some(self.rust_std.clone()),
            foreign_arches: self.foreign_arches.clone(),
            backports_configured,
        })
    }
}

/// Installs what is missing after the fast check (and zizmor, with `zizmor`) as the
/// stage `setup`: apt's and pip's output in its log, one progress line, what it
/// installed at the end; on failure the log's tail and the command to run it again.
fn install(ctx: &Ctx, check: &Check, zizmor: bool) -> Result<()> {
    let board = ctx.board()?;
    let plan = match check.all_present() {
        true => Plan::default(),
        false => check.plan(board),
    };
    check_can_apply(&plan)?;
    if plan.steps.is_empty() && !zizmor {
        return Ok(());
    }
    let stage = Stage::begin(ctx, "setup")?;
    match install_in(&stage, board, check, &plan, zizmor) {
        Ok(()) => {
            stage.finished();
            Ok(())
        }
        Err(e) => {
            let rerun = format!("cargo xtask --board {} setup", board.name);
            Err(stage.failed_rerun(e, Some(rerun)))
        }
    }
}

/// The work of [`install`] inside its stage.
fn install_in(
    stage: &Stage,
    board: &Board,
    check: &Check,
    plan: &Plan,
    zizmor: bool,
) -> Result<()> {
    let mut installed = Vec::new();
    if !plan.steps.is_empty() {
        let count = plan.packages.len();
        let packages = if count == 1 { "package" } else { "packages" };
        stage.note(&format!(
            "installing {count} {packages} for board {} with apt: {}",
            board.name,
            plan.packages.join(" ")
        ));
        apply(plan, stage)?;
        let after = Check::run(board, check.scope);
        if !after.missing.is_empty() {
            let names: Vec<String> = after
                .missing
                .iter()
                .map(|r| format!("{} ({})", r.package, r.probe.name()))
                .collect();
            bail!("still missing after setup: {}", names.join(", "));
        }
        installed.extend(plan.packages.iter().cloned());
        if let (true, RustStd::Debian { arch }) = (check.arch_missing(), &check.rust_std) {
            installed.push(format!("dpkg architecture {arch}"));
        }
    }
    if zizmor {
        let version = zizmor::ZIZMOR_VERSION;
        stage.note(&format!(
            "installing zizmor {version} from PyPI into {}",
            zizmor::install_dir()
        ));
        zizmor::install(|cmd| stage.run_as(cmd, &format!("pip3 install zizmor=={version}")))
            .context("installing zizmor")?;
        installed.push(format!("zizmor {version}"));
    }
    stage.note(&format!("installed {}", installed.join(", ")));
    Ok(())
}

/// What is missing, as a list of package names and other needs.
pub fn describe_missing(check: &Check) -> String {
    let mut items: Vec<String> = check.missing.iter().map(|r| r.package.clone()).collect();
    if let (true, RustStd::Debian { arch }) = (check.arch_missing(), &check.rust_std) {
        items.push(format!("dpkg architecture {arch}"));
    }
    if let RustStd::Missing { target } = &check.rust_std {
        items.push(format!("Rust std for {target}"));
    }
    items.join(", ")
}

/// Why the board cannot be built and booted on this host, if it cannot: each missing
/// tool named by what shows it (`qemu-system-x86_64 not found (package qemu-system-x86)`).
pub fn missing_tools(board: &Board) -> Option<String> {
    let check = Check::run(board, Scope::Needed);
    if check.all_present() {
        return None;
    }
    let mut items: Vec<String> = check
        .missing
        .iter()
        .map(|r| format!("{} not found (package {})", r.probe.name(), r.package))
        .collect();
    if let (true, RustStd::Debian { arch }) = (check.arch_missing(), &check.rust_std) {
        items.push(format!(
            "dpkg architecture {arch} not added (for libstd-rust-dev:{arch})"
        ));
    }
    if let RustStd::Missing { target } = &check.rust_std {
        items.push(format!("no Rust std for {target}"));
    }
    Some(items.join(", "))
}

/// Whether this setup installs zizmor: it is per user (in the user's cache), so not
/// by root under `sudo`, whose cache is root's.
fn installs_zizmor() -> bool {
    !(is_root() && std::env::var_os("SUDO_USER").is_some())
}

/// What `cargo xtask setup` does for one board: the check, then (unless `check_only`,
/// which prints the plan and fails when something is missing) installing what is
/// missing, the board's needs and the optional features' packages, then zizmor.
pub fn setup(ctx: &Ctx, check_only: bool) -> Result<()> {
    let board = ctx.board()?;
    let check = Check::run(board, Scope::WithOptional);
    let count = check.requirements.len();
    let zizmor = installs_zizmor() && zizmor::find().is_none();
    if check.all_present() && !zizmor {
        eprintln!(
            "setup: all {count} host packages for board {} are present: nothing to install",
            board.name
        );
        if zizmor::find().is_none() {
            eprintln!("setup: {}", zizmor::missing_reason());
        }
        return Ok(());
    }
    let mut missing = describe_missing(&check);
    if zizmor {
        missing = [missing, format!("zizmor {} (pip)", zizmor::ZIZMOR_VERSION)]
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
    }
    eprintln!("setup: missing for board {}: {missing}", board.name);
    if check_only {
        if !check.all_present() {
            let plan = check.plan(board);
            for w in &plan.warnings {
                eprintln!("setup: warning: {w}");
            }
            for s in &plan.steps {
                eprintln!("would run: {}", s.render(!is_root()));
            }
            for m in &plan.manual {
                eprintln!("to do by hand: {m}");
            }
        }
        bail!("host is missing packages: run `cargo xtask setup`");
    }
    install(ctx, &check, zizmor)?;
    eprintln!(
        "setup: all {count} host packages for board {} are present",
        board.name
    );
    Ok(())
}

/// Installs whatever the board needs and is missing; quiet when all is there.
pub fn ensure(ctx: &Ctx) -> Result<()> {
    ensure_scope(ctx, Scope::Needed)
}

/// Like [`ensure`], with the optional features' packages: what the test suite needs.
pub fn ensure_with_optional(ctx: &Ctx) -> Result<()> {
    ensure_scope(ctx, Scope::WithOptional)
}

fn ensure_scope(ctx: &Ctx, scope: Scope) -> Result<()> {
    let board = ctx.board()?;
    let check = Check::run(board, scope);
    if check.all_present() {
        return Ok(());
    }
    eprintln!(
        "setup: missing for board {}: {}; installing",
        board.name,
        describe_missing(&check)
    );
    install(ctx, &check, false).context("host setup failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tools_names_the_program_and_its_package() {
        let mut board = Board::load("x86_64").expect("x86_64 board loads");
        board.spec.qemu.binary = "qemu-system-nonesuch".into();
        board.spec.host.qemu_package = Some("qemu-system-nonesuch-pkg".into());
        let missing = missing_tools(&board).expect("a QEMU that is not installed is missing");
        assert!(
            missing.contains("qemu-system-nonesuch not found (package qemu-system-nonesuch-pkg)"),
            "{missing}"
        );
    }
}
