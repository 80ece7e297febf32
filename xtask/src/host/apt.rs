//! Which apt commands install what is missing: decided by [`plan`], a pure function of
//! what was probed, so the decisions (backports QEMU, a foreign dpkg architecture) are
//! unit-tested from recorded host data; [`apply`] runs them (or prints them without root).

use anyhow::{bail, Result};
use camino::Utf8PathBuf;
use std::collections::BTreeSet;
use std::process::Command;

use super::os::OsRelease;
use super::requirements::{Probe, Requirement};
use super::rust_std::RustStd;
use crate::engine::{interrupted, Stage};
use crate::layout::which;
use crate::render::render_command;

/// Where setup writes the backports apt source when it needs one.
const BACKPORTS_SOURCE_FILE: &str = "/etc/apt/sources.list.d/minilinux-backports.list";

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

/// The missing packages to install: (plainly, from backports: the QEMU package when
/// QEMU comes from backports). One dpkg says is installed although its probe failed is
/// not reinstalled but warned about.
fn to_install(
    host: &HostState,
    backports: bool,
    warnings: &mut Vec<String>,
) -> (Vec<String>, Vec<String>) {
    let installed: BTreeSet<&str> = host
        .dpkg
        .iter()
        .filter(|p| p.installed)
        .map(|p| p.name.as_str())
        .collect();
    let mut plain = Vec::new();
    let mut from_backports = Vec::new();
    for req in &host.missing {
        if installed.contains(req.package.as_str()) {
            warnings.push(format!(
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
        if backports && is_qemu {
            from_backports.push(req.package.clone());
        } else {
            plain.push(req.package.clone());
        }
    }
    (plain, from_backports)
}

/// Decides the apt steps from what was probed.
pub fn plan(host: &HostState) -> Plan {
    let mut plan = Plan::default();
    let backports = backports_release(&host.os, &host.dpkg);
    let (plain, from_backports) = to_install(host, backports.is_some(), &mut plan.warnings);
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

/// What a command printed on stdout; empty when it cannot run.
pub fn output_text(cmd: &mut Command) -> String {
    cmd.output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// `dpkg --print-foreign-architectures`.
pub fn foreign_arches() -> Vec<String> {
    output_text(Command::new("dpkg").arg("--print-foreign-architectures"))
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// dpkg's view of the packages matching `patterns` (none without dpkg).
pub fn dpkg_query(patterns: &[String]) -> Vec<DpkgPackage> {
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
pub fn apt_source_files() -> String {
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

/// Whether this process runs as root, so apt can run without sudo.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Whether setup can carry out the plan here: the warnings printed; without root, or
/// with something only the user can do and nothing to run, an error that lists what
/// to run (with `sudo`) and what to do by hand.
pub fn check_can_apply(plan: &Plan) -> Result<()> {
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
    Ok(())
}

/// Runs the plan's steps in `stage`: each command's output goes to its log, the
/// progress line says what is being installed. Then fails with what is left to do by
/// hand, if anything.
pub fn apply(plan: &Plan, stage: &Stage) -> Result<()> {
    let count = plan.packages.len();
    let packages = if count == 1 { "package" } else { "packages" };
    for step in &plan.steps {
        match step {
            Step::Run(args) => {
                let what = match args.iter().any(|a| a == "install") {
                    true => format!("apt-get install: {count} {packages}"),
                    false => args.join(" "),
                };
                let mut cmd = Command::new(&args[0]);
                cmd.args(&args[1..]);
                stage.run_as(cmd, &what)?;
                if interrupted() {
                    bail!("interrupted");
                }
            }
            Step::Write { path, text } => {
                stage.log(&format!("$ {}", step.render(false)));
                crate::engine::write_atomic(path, text.as_bytes())?
            }
        }
    }
    if !plan.manual.is_empty() {
        bail!("{}", plan.manual.join("\n"));
    }
    Ok(())
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
}
