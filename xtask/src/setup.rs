//! `setup`, `doctor`, and the check `all` runs first: the host packages a board needs.
//!
//! Every need is a [`Requirement`]: a Debian/Ubuntu package and the program or file that
//! shows it is there. Probing those needs no apt, so `all` checks on every run in a few
//! milliseconds; apt runs only when something is missing. Which apt commands to run is
//! decided by [`plan`], a pure function of what was probed, so the decisions
//! (backports QEMU, a foreign dpkg architecture) are unit-tested from recorded host data.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::BTreeSet;
use std::process::{Command, ExitCode};

use crate::board::Board;
use crate::engine::interrupted;
use crate::layout;
use crate::layout::which;
use crate::render::{human_size, render_command};

/// Options of `cargo xtask setup`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SetupArgs {
    /// Only report what is missing, install nothing
    #[arg(long)]
    pub check: bool,
    /// Every board under boards/, not only --board
    #[arg(long)]
    pub all_boards: bool,
}

/// Packages every board needs, with the program or file that shows each is installed.
/// Kernel build: make gcc bc bison flex libssl-dev libelf-dev; initramfs and sources:
/// cpio and the (de)compressors, bsdtar (unpacks .tar.xz/.bz2/.gz in one tool), curl.
const COMMON_PACKAGES: &[(&str, &str)] = &[
    ("make", "make"),
    ("gcc", "gcc"),
    ("bc", "bc"),
    ("bison", "bison"),
    ("flex", "flex"),
    ("libssl-dev", "/usr/include/openssl/ssl.h"),
    ("libelf-dev", "/usr/include/libelf.h"),
    ("cpio", "cpio"),
    ("xz-utils", "xz"),
    ("zstd", "zstd"),
    ("lz4", "lz4"),
    ("libarchive-tools", "bsdtar"),
    ("curl", "curl"),
    ("ca-certificates", "/etc/ssl/certs/ca-certificates.crt"),
    ("ccache", "ccache"),
    ("dpkg-dev", "dpkg-architecture"),
];

/// Debian's rustc: builds init when the host toolchain has no std for the guest's target.
const DEBIAN_RUSTC: (&str, &str) = ("rustc", "/usr/bin/rustc");

/// Packages of optional features (package, probe, feature): `setup` installs them and
/// `doctor` lists them, but the check `all` runs does not require them, so a host that
/// never uses the feature is not sent to apt for it; the feature names its package.
/// `cargo xtask test` installs them too: its tests use the features.
const OPTIONAL_PACKAGES: &[(&str, &str, &str)] = &[("distcc", "distcc", "build --distcc")];

/// Which packages a check covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// What every build of the board needs.
    Needed,
    /// That plus the packages of optional features.
    WithOptional,
}

/// Where setup writes the backports apt source when it needs one.
const BACKPORTS_SOURCE_FILE: &str = "/etc/apt/sources.list.d/minilinux-backports.list";

/// What shows that a package is installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// A program found on `PATH`.
    Program(String),
    /// A file at an absolute path.
    File(Utf8PathBuf),
}

impl Probe {
    /// `/usr/...` is a file, anything else a program name.
    fn parse(text: &str) -> Probe {
        if text.starts_with('/') {
            Probe::File(text.into())
        } else {
            Probe::Program(text.to_string())
        }
    }

    /// Where the program or file is, if it is there.
    fn find(&self) -> Option<Utf8PathBuf> {
        match self {
            Probe::Program(name) => which(name),
            Probe::File(path) => path.exists().then(|| path.clone()),
        }
    }

    fn name(&self) -> &str {
        match self {
            Probe::Program(name) => name,
            Probe::File(path) => path.as_str(),
        }
    }
}

/// A host package the board needs and what shows it is installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Debian/Ubuntu package name.
    pub package: String,
    /// What shows it is installed.
    pub probe: Probe,
}

impl Requirement {
    fn new(package: &str, probe: &str) -> Requirement {
        Requirement {
            package: package.to_string(),
            probe: Probe::parse(probe),
        }
    }
}

/// How init gets a standard library for the guest's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RustStd {
    /// The host toolchain has it (`rustup target add`, or a native target).
    Host,
    /// Debian's rustc plus `libstd-rust-dev:<arch>`, which needs `<arch>` added to dpkg.
    Debian {
        /// Debian architecture, e.g. `armel`.
        arch: String,
    },
    /// Neither: the user must add the target to their toolchain.
    Missing {
        /// The Rust target triple.
        target: String,
    },
}

/// The parts of `/etc/os-release` that decide how packages are installed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsRelease {
    /// `ID`, e.g. `debian`, `ubuntu`.
    pub id: String,
    /// `VERSION_CODENAME`, e.g. `bookworm`.
    pub codename: String,
    /// `PRETTY_NAME`, for messages.
    pub pretty: String,
}

impl OsRelease {
    /// Parses os-release(5) text: `KEY=value` lines, values optionally quoted.
    pub fn parse(text: &str) -> OsRelease {
        let mut os = OsRelease::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value
                .trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .to_string();
            match key.trim() {
                "ID" => os.id = value,
                "VERSION_CODENAME" => os.codename = value,
                "PRETTY_NAME" => os.pretty = value,
                _ => {}
            }
        }
        os
    }

    /// Reads the host's os-release; an unknown OS when there is none.
    fn read() -> OsRelease {
        ["/etc/os-release", "/usr/lib/os-release"]
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
            .map(|t| OsRelease::parse(&t))
            .unwrap_or_default()
    }

    fn is_debian(&self) -> bool {
        self.id == "debian"
    }
}

/// One package as dpkg knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpkgPackage {
    /// Package name.
    pub name: String,
    /// Installed (or last known) version.
    pub version: String,
    /// Whether it is installed (status `ii`).
    pub installed: bool,
}

/// The `dpkg-query` format [`parse_dpkg_query`] reads.
const DPKG_QUERY_FORMAT: &str = "${Package}\t${Version}\t${db:Status-Abbrev}\n";

/// Parses `dpkg-query -W -f "${Package}\t${Version}\t${db:Status-Abbrev}\n"` output.
pub fn parse_dpkg_query(text: &str) -> Vec<DpkgPackage> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let name = fields.next()?.trim();
            let version = fields.next()?.trim();
            let status = fields.next().unwrap_or("");
            (!name.is_empty()).then(|| DpkgPackage {
                name: name.to_string(),
                version: version.to_string(),
                installed: status.starts_with("ii"),
            })
        })
        .collect()
}

/// The backports release to take QEMU from, when an installed QEMU package already
/// comes from backports: bookworm's own `qemu-system-arm` then conflicts with it
/// (backports versions carry `~bpo`, by Debian policy).
pub fn backports_release(os: &OsRelease, qemu_packages: &[DpkgPackage]) -> Option<String> {
    if !os.is_debian() || os.codename.is_empty() {
        return None;
    }
    qemu_packages
        .iter()
        .any(|p| p.installed && p.name.starts_with("qemu") && p.version.contains("~bpo"))
        .then(|| format!("{}-backports", os.codename))
}

/// Whether apt already knows `release`: from `apt-cache policy` (sources it has indexed)
/// or from the text of the source files (added but not yet updated).
pub fn release_configured(release: &str, apt_policy: &str, source_files: &str) -> bool {
    let indexed = apt_policy.lines().any(|l| {
        l.contains(&format!(" {release}/"))
            || l.contains(&format!("a={release},"))
            || l.contains(&format!("n={release},"))
    });
    let listed = source_files
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .any(|l| l.split_whitespace().any(|w| w == release));
    indexed || listed
}

/// Everything [`plan`] decides from: what was probed on the host.
#[derive(Debug, Clone, Default)]
pub struct HostState {
    /// The OS.
    pub os: OsRelease,
    /// Whether `apt-get` is on `PATH`.
    pub has_apt: bool,
    /// Requirements whose probe failed.
    pub missing: Vec<Requirement>,
    /// dpkg's view of the missing packages and of every `qemu*` package.
    pub dpkg: Vec<DpkgPackage>,
    /// The board's QEMU package.
    pub qemu_package: Option<String>,
    /// Where the guest's Rust std comes from.
    pub rust_std: Option<RustStd>,
    /// `dpkg --print-foreign-architectures`.
    pub foreign_arches: Vec<String>,
    /// Whether the backports release (if one is needed) is already an apt source.
    pub backports_configured: bool,
}

/// A step setup takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Run a command.
    Run(Vec<String>),
    /// Write a file (an apt source).
    Write {
        /// The file.
        path: Utf8PathBuf,
        /// Its contents.
        text: String,
    },
}

impl Step {
    fn run(args: &[&str]) -> Step {
        Step::Run(args.iter().map(|s| s.to_string()).collect())
    }

    /// The step as a shell line (with `sudo` when the user must run it).
    pub fn render(&self, sudo: bool) -> String {
        let sudo = if sudo { "sudo " } else { "" };
        match self {
            Step::Run(args) => {
                let mut cmd = Command::new(&args[0]);
                cmd.args(&args[1..]);
                format!("{sudo}{}", render_command(&cmd))
            }
            Step::Write { path, text } => format!("echo '{}' | {sudo}tee {path}", text.trim_end()),
        }
    }
}

/// What setup does about what is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Steps, in order.
    pub steps: Vec<Step>,
    /// Packages that will be installed.
    pub packages: Vec<String>,
    /// What setup cannot do; the user must.
    pub manual: Vec<String>,
    /// Oddities worth a line (installed per dpkg, yet the probe failed).
    pub warnings: Vec<String>,
}

/// `apt-get install` as setup runs it: no prompt, no recommends (QEMU's pull in mesa & co.).
fn apt_install(release: Option<&str>, packages: &[String]) -> Step {
    let mut args: Vec<String> = [
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        "install",
        "-y",
        "--no-install-recommends",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(release) = release {
        args.extend(["-t".to_string(), release.to_string()]);
    }
    args.extend(packages.iter().cloned());
    Step::Run(args)
}

/// Decides the apt steps from what was probed.
pub fn plan(host: &HostState) -> Plan {
    let mut plan = Plan::default();
    let installed: BTreeSet<&str> = host
        .dpkg
        .iter()
        .filter(|p| p.installed)
        .map(|p| p.name.as_str())
        .collect();
    let mut plain = Vec::new();
    let mut from_backports = Vec::new();
    let backports = backports_release(&host.os, &host.dpkg);
    for req in &host.missing {
        if installed.contains(req.package.as_str()) {
            plan.warnings.push(format!(
                "{} is installed but {} is not found{}",
                req.package,
                req.probe.name(),
                if matches!(req.probe, Probe::Program(_)) {
                    " on PATH"
                } else {
                    ""
                }
            ));
            continue;
        }
        let is_qemu = host.qemu_package.as_deref() == Some(req.package.as_str());
        match (&backports, is_qemu) {
            (Some(_), true) => from_backports.push(req.package.clone()),
            _ => plain.push(req.package.clone()),
        }
    }
    let mut add_arch = None;
    match &host.rust_std {
        Some(RustStd::Debian { arch }) if !host.foreign_arches.contains(arch) => {
            add_arch = Some(arch.clone())
        }
        Some(RustStd::Missing { target }) => plan.manual.push(format!(
            "the host Rust toolchain has no std for {target}: run `rustup target add {target}`"
        )),
        _ => {}
    }
    if plain.is_empty() && from_backports.is_empty() && add_arch.is_none() {
        return plan;
    }
    if !host.has_apt {
        let all: Vec<String> = plain.iter().chain(&from_backports).cloned().collect();
        if !all.is_empty() {
            plan.manual.push(format!(
                "no apt-get on this host: install the equivalents of these Debian packages: {}",
                all.join(" ")
            ));
        }
        if let Some(arch) = add_arch {
            plan.manual.push(format!(
                "no apt-get on this host: provide a Rust std for the {arch} guest"
            ));
        }
        return plan;
    }
    if let Some(arch) = &add_arch {
        plan.steps
            .push(Step::run(&["dpkg", "--add-architecture", arch]));
    }
    if let (Some(release), false) = (&backports, from_backports.is_empty()) {
        if !host.backports_configured {
            plan.steps.push(Step::Write {
                path: BACKPORTS_SOURCE_FILE.into(),
                text: format!("deb http://deb.debian.org/debian {release} main\n"),
            });
        }
    }
    plan.steps.push(Step::run(&["apt-get", "update"]));
    if !plain.is_empty() {
        plan.steps.push(apt_install(None, &plain));
    }
    if !from_backports.is_empty() {
        plan.steps
            .push(apt_install(backports.as_deref(), &from_backports));
    }
    plan.packages = plain.into_iter().chain(from_backports).collect();
    plan
}

/// Every package the board needs, given where init's std comes from.
pub fn requirements(board: &Board, rust_std: &RustStd) -> Vec<Requirement> {
    let mut reqs: Vec<Requirement> = COMMON_PACKAGES
        .iter()
        .map(|(p, probe)| Requirement::new(p, probe))
        .collect();
    if matches!(rust_std, RustStd::Debian { .. }) {
        reqs.push(Requirement::new(DEBIAN_RUSTC.0, DEBIAN_RUSTC.1));
    }
    for (package, probe) in &board.spec.host.packages {
        reqs.push(Requirement::new(package, probe));
    }
    if let Some(qemu) = &board.spec.host.qemu_package {
        reqs.push(Requirement {
            package: qemu.clone(),
            probe: Probe::Program(board.spec.qemu.binary.clone()),
        });
    }
    let mut seen = BTreeSet::new();
    reqs.retain(|r| seen.insert(r.package.clone()));
    reqs
}

/// The packages of optional features, which [`requirements`] leaves out.
pub fn optional_requirements() -> Vec<Requirement> {
    OPTIONAL_PACKAGES
        .iter()
        .map(|(p, probe, _)| Requirement::new(p, probe))
        .collect()
}

/// The optional feature `package` is for, if it is an optional package.
fn optional_feature(package: &str) -> Option<&'static str> {
    OPTIONAL_PACKAGES
        .iter()
        .find(|(p, _, _)| *p == package)
        .map(|(_, _, feature)| *feature)
}

/// Whether the host's `rustc` (rustup's, usually) has a std for `target`.
pub fn host_has_rust_std(target: &str) -> bool {
    let Ok(out) = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", target])
        .output()
    else {
        return false;
    };
    if !out.status.success() {
        return false;
    }
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
        })
        .unwrap_or(false)
}

/// Where init's std comes from on this host.
fn rust_std(board: &Board, os: &OsRelease) -> RustStd {
    let target = &board.spec.rust_target;
    if host_has_rust_std(target) {
        return RustStd::Host;
    }
    match &board.spec.debian_arch {
        // Only Debian's archive carries every architecture (Ubuntu has no armel).
        Some(arch) if os.is_debian() => RustStd::Debian { arch: arch.clone() },
        _ => RustStd::Missing {
            target: target.clone(),
        },
    }
}

fn output_text(cmd: &mut Command) -> String {
    cmd.output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn foreign_arches() -> Vec<String> {
    output_text(Command::new("dpkg").arg("--print-foreign-architectures"))
        .split_whitespace()
        .map(String::from)
        .collect()
}

fn dpkg_query(patterns: &[String]) -> Vec<DpkgPackage> {
    if patterns.is_empty() || which("dpkg-query").is_none() {
        return Vec::new();
    }
    parse_dpkg_query(&output_text(
        Command::new("dpkg-query")
            .arg("-W")
            .arg("-f")
            .arg(DPKG_QUERY_FORMAT)
            .args(patterns),
    ))
}

/// The text of every apt source file, for [`release_configured`].
fn apt_source_files() -> String {
    let mut text = std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default();
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut paths: Vec<_> = dir.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let name = p.to_string_lossy();
            if name.ends_with(".list") || name.ends_with(".sources") {
                text.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
                text.push('\n');
            }
        }
    }
    text
}

/// The fast check: requirements, which of them are missing, and the Rust std route.
struct Check {
    scope: Scope,
    os: OsRelease,
    requirements: Vec<Requirement>,
    missing: Vec<Requirement>,
    rust_std: RustStd,
    foreign_arches: Vec<String>,
}

impl Check {
    fn run(board: &Board, scope: Scope) -> Check {
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

    fn arch_missing(&self) -> bool {
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

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Runs the plan's steps, printing each; without root prints them for the user instead.
fn apply(plan: &Plan) -> Result<()> {
    for w in &plan.warnings {
        eprintln!("setup: warning: {w}");
    }
    if plan.steps.is_empty() {
        if !plan.manual.is_empty() {
            bail!("{}", plan.manual.join("\n"));
        }
        return Ok(());
    }
    if !is_root() {
        let lines: Vec<String> = plan
            .steps
            .iter()
            .map(|s| format!("  {}", s.render(true)))
            .collect();
        let mut msg = format!(
            "installing host packages needs root; run:\n{}",
            lines.join("\n")
        );
        for m in &plan.manual {
            msg.push_str(&format!("\nand: {m}"));
        }
        bail!(msg);
    }
    if !plan.packages.is_empty() {
        eprintln!("setup: installing {}", plan.packages.join(" "));
    }
    for step in &plan.steps {
        eprintln!("$ {}", step.render(false));
        match step {
            Step::Run(args) => {
                let status = Command::new(&args[0])
                    .args(&args[1..])
                    .status()
                    .with_context(|| format!("cannot run `{}`", args[0]))?;
                if interrupted() {
                    bail!("interrupted");
                }
                if !status.success() {
                    bail!("`{}` failed ({status})", step.render(false));
                }
            }
            Step::Write { path, text } => crate::engine::write_atomic(path, text.as_bytes())?,
        }
    }
    if !plan.manual.is_empty() {
        bail!("{}", plan.manual.join("\n"));
    }
    Ok(())
}

/// Installs what is missing (after the fast check), then checks again.
fn install_missing(board: &Board, check: &Check) -> Result<()> {
    let plan = check.plan(board);
    apply(&plan)?;
    let after = Check::run(board, check.scope);
    if !after.missing.is_empty() {
        let names: Vec<String> = after
            .missing
            .iter()
            .map(|r| format!("{} ({})", r.package, r.probe.name()))
            .collect();
        bail!("still missing after setup: {}", names.join(", "));
    }
    Ok(())
}

fn describe_missing(check: &Check) -> String {
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

/// `cargo xtask setup`: what the board (or every board) needs and the optional
/// features' packages.
pub fn run(board: &Board, args: &SetupArgs) -> Result<()> {
    if !args.all_boards {
        return run_board(board, args);
    }
    for name in Board::names()? {
        run_board(&Board::load(&name)?, args)?;
    }
    Ok(())
}

fn run_board(board: &Board, args: &SetupArgs) -> Result<()> {
    let check = Check::run(board, Scope::WithOptional);
    let count = check.requirements.len();
    if check.all_present() {
        eprintln!(
            "setup: all {count} host packages for board {} are present: nothing to install",
            board.name
        );
        return Ok(());
    }
    eprintln!(
        "setup: missing for board {}: {}",
        board.name,
        describe_missing(&check)
    );
    if args.check {
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
        bail!("host is missing packages: run `cargo xtask setup`");
    }
    install_missing(board, &check)?;
    eprintln!(
        "setup: all {count} host packages for board {} are present",
        board.name
    );
    Ok(())
}

/// Installs whatever the board needs and is missing; quiet when all is there.
pub fn ensure(board: &Board) -> Result<()> {
    ensure_scope(board, Scope::Needed)
}

/// Like [`ensure`], with the optional features' packages: what the test suite needs.
pub fn ensure_with_optional(board: &Board) -> Result<()> {
    ensure_scope(board, Scope::WithOptional)
}

fn ensure_scope(board: &Board, scope: Scope) -> Result<()> {
    let check = Check::run(board, scope);
    if check.all_present() {
        return Ok(());
    }
    eprintln!(
        "setup: missing for board {}: {}; installing",
        board.name,
        describe_missing(&check)
    );
    install_missing(board, &check).context("host setup failed")
}

/// A note on whether QEMU can use KVM, for boards the host could run natively.
pub fn kvm_note(
    board_arch: &str,
    host_arch: &str,
    dev_kvm_usable: bool,
    cpuinfo: &str,
) -> Option<String> {
    if !crate::qemu::is_native(board_arch, host_arch) {
        return None;
    }
    if !dev_kvm_usable {
        return Some("no usable /dev/kvm: QEMU runs under TCG (slower)".to_string());
    }
    let hw_virt = cpuinfo
        .lines()
        .filter(|l| l.starts_with("flags"))
        .any(|l| l.split_whitespace().any(|f| f == "vmx" || f == "svm"));
    Some(if hw_virt || host_arch != "x86_64" {
        "/dev/kvm present and accessible: KVM can be used".to_string()
    } else {
        "/dev/kvm present but the CPU shows no vmx/svm (nested/software KVM): expect TCG"
            .to_string()
    })
}

/// Free bytes on the file system holding `path` (or its nearest existing parent).
fn free_bytes(path: &Utf8Path) -> Option<u64> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let c_path = std::ffi::CString::new(existing.as_str()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct we own; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut st) };
    (rc == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
}

/// `cargo xtask doctor`.
pub fn doctor(board: &Board) -> Result<ExitCode> {
    let check = Check::run(board, Scope::WithOptional);
    let names: Vec<String> = check
        .requirements
        .iter()
        .map(|r| r.package.clone())
        .collect();
    let versions = dpkg_query(&names);
    println!("board {}: {}", board.name, board.spec.description);
    println!(
        "host: {}",
        if check.os.pretty.is_empty() {
            "unknown OS"
        } else {
            &check.os.pretty
        }
    );
    println!();
    println!("{:<40} {:<22} {:<42}", "tool", "package", "found");
    for req in &check.requirements {
        let found = match req.probe.find() {
            Some(path) => {
                let version = versions
                    .iter()
                    .find(|p| p.name == req.package && p.installed)
                    .map(|p| format!(" ({})", p.version))
                    .unwrap_or_default();
                format!("{path}{version}")
            }
            None => match optional_feature(&req.package) {
                Some(feature) => format!("missing (optional: {feature})"),
                None => "MISSING".to_string(),
            },
        };
        println!("{:<40} {:<22} {found}", req.probe.name(), req.package);
    }
    let target = &board.spec.rust_target;
    let (rust_line, rust_ok) = match &check.rust_std {
        RustStd::Host => ("host toolchain (cargo)".to_string(), true),
        RustStd::Debian { arch } if check.arch_missing() => (
            format!("MISSING: dpkg architecture {arch} (Debian's libstd-rust-dev:{arch})"),
            false,
        ),
        RustStd::Debian { arch } => (format!("Debian's rustc + libstd-rust-dev:{arch}"), true),
        RustStd::Missing { .. } => (format!("MISSING: run `rustup target add {target}`"), false),
    };
    println!(
        "{:<40} {:<22} {rust_line}",
        format!("Rust std for {target}"),
        ""
    );
    println!();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let kvm_usable = crate::qemu::open_dev_kvm().is_ok();
    if let Some(note) = kvm_note(
        &board.spec.arch,
        std::env::consts::ARCH,
        kvm_usable,
        &cpuinfo,
    ) {
        println!("kvm: {note}");
    }
    if board.spec.qemu.kvm {
        println!("kvm probe: {}", crate::qemu::probe_summary(board));
    }
    let cache = layout::cache_dir();
    let free = free_bytes(&cache)
        .map(human_size)
        .unwrap_or_else(|| "unknown".into());
    println!("cache: {cache} ({free} free)");
    let target_dir = layout::target_dir();
    let free = free_bytes(&target_dir)
        .map(human_size)
        .unwrap_or_else(|| "unknown".into());
    println!("build outputs: {target_dir} ({free} free; a kernel build takes about 2 GiB)");
    let needed_missing = check
        .missing
        .iter()
        .any(|r| optional_feature(&r.package).is_none());
    if !needed_missing && rust_ok {
        if check.missing.is_empty() {
            println!("\nall present");
        } else {
            println!(
                "\nall the board needs is present; optional, `cargo xtask setup` installs: {}",
                describe_missing(&check)
            );
        }
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "\nmissing: {}: run `cargo xtask setup`",
            describe_missing(&check)
        );
        Ok(ExitCode::FAILURE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    /// Host data as recorded from real machines, in one readable block per case.
    struct Case<'a> {
        os_release: &'a str,
        missing: &'a [(&'a str, &'a str)],
        dpkg_query: &'a str,
        rust_std: RustStd,
        foreign_arches: &'a [&'a str],
        has_apt: bool,
        backports_configured: bool,
    }

    const BOOKWORM: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";
    const JAMMY: &str = "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy\n";
    const QEMU_FROM_BACKPORTS: &str = "qemu-utils\t1:10.0.2+ds-2+deb13u1~bpo12+1\tii \nqemu-system-arm\t\tun \nqemu-block-extra\t1:10.0.2+ds-2+deb13u1~bpo12+1\tii \n";
    const QEMU_FROM_BOOKWORM: &str =
        "qemu-utils\t1:7.2+dfsg-7+deb12u18+b3\tii \nqemu-system-arm\t\tun \n";

    fn check(case: Case, expect: Expect) {
        let host = HostState {
            os: OsRelease::parse(case.os_release),
            has_apt: case.has_apt,
            missing: case
                .missing
                .iter()
                .map(|(p, probe)| Requirement::new(p, probe))
                .collect(),
            dpkg: parse_dpkg_query(case.dpkg_query),
            qemu_package: Some("qemu-system-arm".into()),
            rust_std: Some(case.rust_std),
            foreign_arches: case.foreign_arches.iter().map(|s| s.to_string()).collect(),
            backports_configured: case.backports_configured,
        };
        let plan = plan(&host);
        let mut out = String::new();
        for s in &plan.steps {
            out.push_str(&format!("$ {}\n", s.render(false)));
        }
        for m in &plan.manual {
            out.push_str(&format!("manual: {m}\n"));
        }
        for w in &plan.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        if plan.steps.is_empty() && plan.manual.is_empty() {
            out.push_str("nothing to do\n");
        }
        expect.assert_eq(&out);
    }

    fn armel() -> RustStd {
        RustStd::Debian {
            arch: "armel".into(),
        }
    }

    #[test]
    fn everything_present_does_nothing() {
        check(
            Case {
                os_release: BOOKWORM,
                missing: &[],
                dpkg_query: "",
                rust_std: armel(),
                foreign_arches: &["armel"],
                has_apt: true,
                backports_configured: false,
            },
            expect![[r#"
                nothing to do
            "#]],
        );
    }

    #[test]
    fn bookworm_with_backports_qemu_utils_takes_qemu_from_backports() {
        check(
            Case {
                os_release: BOOKWORM,
                missing: &[("qemu-system-arm", "qemu-system-arm"), ("bc", "bc")],
                dpkg_query: QEMU_FROM_BACKPORTS,
                rust_std: armel(),
                foreign_arches: &["armel"],
                has_apt: true,
                backports_configured: false,
            },
            expect![[r#"
                $ echo 'deb http://deb.debian.org/debian bookworm-backports main' | tee /etc/apt/sources.list.d/minilinux-backports.list
                $ apt-get update
                $ env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bc
                $ env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -t bookworm-backports qemu-system-arm
            "#]],
        );
    }

    #[test]
    fn backports_source_already_configured_is_not_added_again() {
        check(
            Case {
                os_release: BOOKWORM,
                missing: &[("qemu-system-arm", "qemu-system-arm")],
                dpkg_query: QEMU_FROM_BACKPORTS,
                rust_std: RustStd::Host,
                foreign_arches: &[],
                has_apt: true,
                backports_configured: true,
            },
            expect![[r#"
                $ apt-get update
                $ env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -t bookworm-backports qemu-system-arm
            "#]],
        );
    }

    #[test]
    fn bookworm_with_its_own_qemu_installs_plainly() {
        check(
            Case {
                os_release: BOOKWORM,
                missing: &[("qemu-system-arm", "qemu-system-arm")],
                dpkg_query: QEMU_FROM_BOOKWORM,
                rust_std: RustStd::Host,
                foreign_arches: &[],
                has_apt: true,
                backports_configured: false,
            },
            expect![[r#"
                $ apt-get update
                $ env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends qemu-system-arm
            "#]],
        );
    }

    #[test]
    fn ubuntu_never_uses_backports_and_asks_for_rustup_target() {
        check(
            Case {
                os_release: JAMMY,
                missing: &[
                    ("qemu-system-arm", "qemu-system-arm"),
                    ("gcc-arm-linux-gnueabi", "arm-linux-gnueabi-gcc"),
                ],
                dpkg_query: "qemu-utils\t1:6.2+dfsg-2ubuntu6~bpo\tii \n",
                rust_std: RustStd::Missing {
                    target: "armv5te-unknown-linux-gnueabi".into(),
                },
                foreign_arches: &[],
                has_apt: true,
                backports_configured: false,
            },
            expect![[r#"
                $ apt-get update
                $ env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends qemu-system-arm gcc-arm-linux-gnueabi
                manual: the host Rust toolchain has no std for armv5te-unknown-linux-gnueabi: run `rustup target add armv5te-unknown-linux-gnueabi`
            "#]],
        );
    }

    #[test]
    fn debian_rust_route_adds_the_guest_architecture_once() {
        check(
            Case {
                os_release: BOOKWORM,
                missing: &[("rustc", "/usr/bin/rustc")],
                dpkg_query: "rustc\t\tun \n",
                rust_std: armel(),
                foreign_arches: &["i386"],
                has_apt: true,
                backports_configured: false,
            },
            expect![[r#"
                $ dpkg --add-architecture armel
                $ apt-get update
                $ env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rustc
            "#]],
        );
    }

    #[test]
    fn missing_architecture_alone_still_updates_apt() {
        check(
            Case {
                os_release: BOOKWORM,
                missing: &[],
                dpkg_query: "",
                rust_std: armel(),
                foreign_arches: &[],
                has_apt: true,
                backports_configured: false,
            },
            expect![[r#"
                $ dpkg --add-architecture armel
                $ apt-get update
            "#]],
        );
    }

    #[test]
    fn installed_package_with_failing_probe_is_reported_not_reinstalled() {
        check(
            Case {
                os_release: BOOKWORM,
                missing: &[("ccache", "ccache")],
                dpkg_query: "ccache\t4.8+really4.7.5-1\tii \n",
                rust_std: RustStd::Host,
                foreign_arches: &[],
                has_apt: true,
                backports_configured: false,
            },
            expect![[r#"
                warning: ccache is installed but ccache is not found on PATH
                nothing to do
            "#]],
        );
    }

    #[test]
    fn host_without_apt_lists_the_packages() {
        check(
            Case {
                os_release: "ID=fedora\nVERSION_ID=40\n",
                missing: &[("bc", "bc"), ("libelf-dev", "/usr/include/libelf.h")],
                dpkg_query: "",
                rust_std: RustStd::Host,
                foreign_arches: &[],
                has_apt: false,
                backports_configured: false,
            },
            expect![[r#"
                manual: no apt-get on this host: install the equivalents of these Debian packages: bc libelf-dev
            "#]],
        );
    }

    #[test]
    fn release_configured_reads_policy_and_source_files() {
        let policy = " 100 http://deb.debian.org/debian bookworm-backports/main amd64 Packages\n     release o=Debian Backports,a=bookworm-backports,n=bookworm-backports,l=Debian Backports,c=main,b=amd64\n";
        let sources = "# deb http://deb.debian.org/debian bookworm-backports main\ndeb http://deb.debian.org/debian bookworm main\n";
        let cases = [
            ("bookworm-backports", policy, ""),
            (
                "bookworm-backports",
                "",
                "deb http://deb.debian.org/debian bookworm-backports main\n",
            ),
            (
                "bookworm-backports",
                "",
                "Types: deb\nSuites: bookworm bookworm-backports\n",
            ),
            ("bookworm-backports", "", sources),
            ("trixie-backports", policy, sources),
        ];
        let got: Vec<String> = cases
            .iter()
            .map(|(release, policy, files)| {
                format!("{release}: {}", release_configured(release, policy, files))
            })
            .collect();
        expect![[r#"
            bookworm-backports: true
            bookworm-backports: true
            bookworm-backports: true
            bookworm-backports: false
            trixie-backports: false"#]]
        .assert_eq(&got.join("\n"));
    }

    #[test]
    fn kvm_note_only_for_native_boards() {
        let cases = [
            ("arm", "x86_64", true, "flags : fpu vmx"),
            ("x86_64", "x86_64", false, "flags : fpu vmx"),
            ("x86_64", "x86_64", true, "flags : fpu vmx sse"),
            ("x86_64", "x86_64", true, "flags : fpu sse hypervisor"),
        ];
        let got: Vec<String> = cases
            .iter()
            .map(|(b, h, usable, cpu)| format!("{b} on {h}: {:?}", kvm_note(b, h, *usable, cpu)))
            .collect();
        expect![[r#"
            arm on x86_64: None
            x86_64 on x86_64: Some("no usable /dev/kvm: QEMU runs under TCG (slower)")
            x86_64 on x86_64: Some("/dev/kvm present and accessible: KVM can be used")
            x86_64 on x86_64: Some("/dev/kvm present but the CPU shows no vmx/svm (nested/software KVM): expect TCG")"#]]
        .assert_eq(&got.join("\n"));
    }

    #[test]
    fn versatilepb_requirements_come_from_the_common_list_and_board_toml() {
        let board = Board::load("versatilepb").expect("versatilepb board loads");
        let render = |std: RustStd| {
            requirements(&board, &std)
                .iter()
                .map(|r| format!("{} <- {}", r.package, r.probe.name()))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let debian = render(armel());
        let host = render(RustStd::Host);
        expect![[r#"
            make <- make
            gcc <- gcc
            bc <- bc
            bison <- bison
            flex <- flex
            libssl-dev <- /usr/include/openssl/ssl.h
            libelf-dev <- /usr/include/libelf.h
            cpio <- cpio
            xz-utils <- xz
            zstd <- zstd
            lz4 <- lz4
            libarchive-tools <- bsdtar
            curl <- curl
            ca-certificates <- /etc/ssl/certs/ca-certificates.crt
            ccache <- ccache
            dpkg-dev <- dpkg-architecture
            rustc <- /usr/bin/rustc
            gcc-arm-linux-gnueabi <- arm-linux-gnueabi-gcc
            libc6-dev-armel-cross <- /usr/arm-linux-gnueabi/include/stdio.h
            qemu-system-arm <- qemu-system-arm"#]]
        .assert_eq(&debian);
        // Debian's rustc is needed only on the Debian std route
        assert_eq!(host, debian.replace("rustc <- /usr/bin/rustc\n", ""));
    }

    #[test]
    fn optional_packages_are_for_setup_and_doctor_not_for_every_build() {
        let board = Board::load("versatilepb").expect("versatilepb board loads");
        let needed = requirements(&board, &armel());
        let optional: Vec<String> = optional_requirements()
            .iter()
            .map(|r| {
                let feature = optional_feature(&r.package).unwrap_or("none");
                let in_needed = needed.iter().any(|n| n.package == r.package);
                format!(
                    "{} <- {} (for {feature}; needed by every build: {in_needed})",
                    r.package,
                    r.probe.name()
                )
            })
            .collect();
        expect![[r#"distcc <- distcc (for build --distcc; needed by every build: false)"#]]
            .assert_eq(&optional.join("\n"));
    }

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

    #[test]
    fn os_release_parses_quoted_values() {
        let os = OsRelease::parse(JAMMY);
        expect![[r#"
            OsRelease {
                id: "ubuntu",
                codename: "jammy",
                pretty: "Ubuntu 22.04.4 LTS",
            }"#]]
        .assert_eq(&format!("{os:#?}"));
    }
}
