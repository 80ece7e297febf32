//! What a board needs on the host: Debian/Ubuntu packages, each with the program or
//! file that shows it is installed, so checking needs no apt and takes milliseconds.

use camino::Utf8PathBuf;
use std::collections::BTreeSet;

use super::rust_std::RustStd;
use crate::board::Board;
use crate::layout::which;

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
const OPTIONAL_PACKAGES: &[(&str, &str, &str)] = &[
    ("distcc", "distcc", "build --distcc"),
    (
        "python3-pip",
        "pip3",
        "the workflow lint: setup installs zizmor with it",
    ),
];

/// Which packages a check covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// What every build of the board needs.
    Needed,
    /// That plus the packages of optional features.
    WithOptional,
}

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
    pub fn find(&self) -> Option<Utf8PathBuf> {
        match self {
            Probe::Program(name) => which(name),
            Probe::File(path) => path.exists().then(|| path.clone()),
        }
    }

    /// The program name or file path, for messages.
    pub fn name(&self) -> &str {
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
    /// A requirement from a package name and a probe (a program, or a `/` path).
    pub fn new(package: &str, probe: &str) -> Requirement {
        Requirement {
            package: package.to_string(),
            probe: Probe::parse(probe),
        }
    }
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
pub fn optional_feature(package: &str) -> Option<&'static str> {
    OPTIONAL_PACKAGES
        .iter()
        .find(|(p, _, _)| *p == package)
        .map(|(_, _, feature)| *feature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn armel() -> RustStd {
        RustStd::Debian {
            arch: "armel".into(),
        }
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
        expect![[r#"
            distcc <- distcc (for build --distcc; needed by every build: false)
            python3-pip <- pip3 (for the workflow lint: setup installs zizmor with it; needed by every build: false)"#]]
            .assert_eq(&optional.join("\n"));
    }
}
