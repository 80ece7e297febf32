//! A board: the folder `boards/<name>/` and its `board.toml`.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;
use std::collections::BTreeMap;

use crate::layout;
use rootfs::Compression;

/// The board used when `--board` is not given.
pub const DEFAULT_BOARD: &str = "versatilepb";

/// A board, loaded from `boards/<name>/board.toml`, with paths made absolute.
#[derive(Debug, Clone)]
pub struct Board {
    /// Folder name under `boards/`.
    pub name: String,
    /// Absolute path of `boards/<name>/`.
    pub dir: Utf8PathBuf,
    /// The parsed `board.toml`.
    pub spec: BoardSpec,
}

/// The contents of `board.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardSpec {
    /// One line shown by `cargo xtask boards`.
    pub description: String,
    /// Kernel `ARCH=`.
    pub arch: String,
    /// `CROSS_COMPILE=` prefix; empty for a native build.
    #[serde(default)]
    pub cross_compile: String,
    /// Rust target triple of the guest's init.
    pub rust_target: String,
    /// ELF `e_machine` guest binaries must have.
    pub elf_machine: u16,
    /// Debian architecture whose `libstd-rust-dev` builds init when rustup lacks the target.
    pub debian_arch: Option<String>,
    /// How to configure and build the kernel.
    pub kernel: KernelSpec,
    /// How to configure and build busybox.
    pub busybox: BusyboxSpec,
    /// How to pack the initramfs.
    pub rootfs: RootfsSpec,
    /// How to boot the result.
    pub qemu: QemuSpec,
    /// Host packages.
    #[serde(default)]
    pub host: HostSpec,
    /// Source tarballs by name (`linux`, `busybox`).
    pub sources: BTreeMap<String, SourceSpec>,
    /// What the end-to-end suite expects of this board's guest.
    #[serde(default)]
    pub e2e: E2eSpec,
    /// Targets `cargo xtask bench` checks for this board.
    #[serde(default)]
    pub bench: BenchSpec,
}

/// `[kernel]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelSpec {
    /// Defconfig target, e.g. `versatile_defconfig`.
    pub defconfig: String,
    /// make targets, e.g. `["zImage", "dtbs"]`.
    pub targets: Vec<String>,
    /// Kernel image, relative to the build dir.
    pub image: Utf8PathBuf,
    /// Device tree blob, relative to the build dir, if the board boots with one.
    pub dtb: Option<Utf8PathBuf>,
    /// Fragment file, relative to the board dir.
    pub fragment: Utf8PathBuf,
    /// Boot `image` (an uncompressed 32-bit ARM `Image`) wrapped as a uImage that
    /// QEMU loads and enters at this address (see `uimage.rs`), e.g. `0x8000`.
    pub uimage_load: Option<u32>,
    /// Device tree nodes (full paths, `/amba/uart@101f2000`) set to `status =
    /// "disabled"` in the dtb QEMU boots: hardware the guest does not use, which the
    /// kernel then neither registers nor probes (see `dtb.rs`).
    #[serde(default, deserialize_with = "node_paths")]
    pub dtb_disable: Vec<String>,
}

/// `[busybox]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusyboxSpec {
    /// Defconfig target, usually `defconfig`.
    pub defconfig: String,
    /// Fragment file, relative to the board dir.
    pub fragment: Utf8PathBuf,
}

/// `[rootfs]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootfsSpec {
    /// Manifest, relative to the board dir.
    pub manifest: Utf8PathBuf,
    /// Default initramfs compression (`gzip`, `zstd`, `xz`, `lz4`, `none`), checked on load
    /// so a bad name is an error at its line of `board.toml`.
    #[serde(deserialize_with = "compression_name")]
    pub compression: Compression,
    /// The guest's host name (`/etc/hostname` through `${hostname}`); default the board's name.
    #[serde(default)]
    pub hostname: Option<String>,
}

/// `[qemu]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QemuSpec {
    /// `qemu-system-*` binary.
    pub binary: String,
    /// `-M` value.
    pub machine: String,
    /// Extra arguments, e.g. `-m 128M`.
    #[serde(default)]
    pub args: Vec<String>,
    /// Console device without `/dev/`, e.g. `ttyAMA0`.
    pub console: String,
    /// Whether the machine powers off; if not, the guest stops by rebooting.
    #[serde(default = "yes")]
    pub can_poweroff: bool,
    /// Try KVM first: used when `/dev/kvm` opens and a probe boot under KVM succeeds, else TCG.
    #[serde(default)]
    pub kvm: bool,
    /// Extra arguments under KVM only, e.g. `-cpu host`.
    #[serde(default)]
    pub kvm_args: Vec<String>,
}

fn yes() -> bool {
    true
}

fn compression_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Compression, D::Error> {
    let name = String::deserialize(d)?;
    name.parse().map_err(serde::de::Error::custom)
}

/// Device tree node paths, each checked to start at the root on load, so a bad one
/// is an error at its line of `board.toml`.
fn node_paths<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let paths = Vec::<String>::deserialize(d)?;
    crate::dtb::check_paths(&paths).map_err(serde::de::Error::custom)?;
    Ok(paths)
}

/// `[e2e]`: what the guest shows, checked by the end-to-end suite.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct E2eSpec {
    /// What `uname -m` prints in the guest, e.g. `armv5tejl`.
    pub uname_machine: Option<String>,
    /// Text `/proc/cpuinfo` contains, e.g. `ARM926EJ-S`.
    #[serde(default)]
    pub cpuinfo: Vec<String>,
    /// Shell commands and text each one's output must contain, e.g. the seed's `/proc` files.
    #[serde(default)]
    pub shows: BTreeMap<String, Vec<String>>,
}

/// `[bench]`: targets `cargo xtask bench` checks for this board.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchSpec {
    /// Seconds from QEMU's start to the shell prompt, booted as `cargo xtask qemu` boots
    /// (median under TCG), that the boot part's quiet row must not exceed.
    pub prompt_within: Option<f64>,
}

/// `[host]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// Debian/Ubuntu packages the board needs besides the common ones, each mapped to what
    /// shows it is installed: a program on `PATH`, or an absolute file path.
    #[serde(default)]
    pub packages: BTreeMap<String, String>,
    /// Package providing `[qemu] binary`.
    pub qemu_package: Option<String>,
}

/// `[sources.<name>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Version, as the board states it.
    pub version: String,
    /// Upstream tarball URLs tried in order.
    #[serde(default)]
    pub urls: Vec<String>,
    /// sha256 of the tarball behind `urls`.
    #[serde(default)]
    pub sha256: String,
    /// Debian binary package shipping the tarball, tried after `urls`.
    pub debian_package: Option<String>,
    /// Path of the tarball inside `debian_package`.
    pub debian_tarball: Option<Utf8PathBuf>,
}

impl Board {
    /// Loads a board: a name under `boards/` ([`layout::boards_dir`]), or a path to a
    /// board folder (anything with a `/`), whose outputs still go under
    /// `target/minilinux/<folder name>/`.
    pub fn load(name_or_dir: &str) -> Result<Board> {
        let (name, dir) = if name_or_dir.contains('/') {
            let dir = Utf8Path::new(name_or_dir);
            let dir = dir
                .canonicalize_utf8()
                .with_context(|| format!("board folder {dir}"))?;
            let name = dir.file_name().unwrap_or_default().to_string();
            check_name(&name).with_context(|| format!("board folder {dir}"))?;
            (name, dir)
        } else {
            check_name(name_or_dir)?;
            (
                name_or_dir.to_string(),
                layout::boards_dir().join(name_or_dir),
            )
        };
        if !dir.is_dir() {
            let known = Board::names().unwrap_or_default().join(", ");
            bail!("unknown board `{name_or_dir}` (known boards: {known})");
        }
        let path = dir.join("board.toml");
        let text = fs_err::read_to_string(&path)?;
        let spec: BoardSpec = toml::from_str(&text).map_err(|e| toml_error(&path, &text, &e))?;
        if !spec.kernel.dtb_disable.is_empty() && spec.kernel.dtb.is_none() {
            bail!(
                "{}: [kernel] dtb_disable lists device tree nodes, but the board boots without a dtb: \
                 set [kernel] dtb or remove dtb_disable",
                layout::display_path(&path)
            );
        }
        Ok(Board { name, dir, spec })
    }

    /// Names of every folder under `boards/` that has a `board.toml`, sorted.
    pub fn names() -> Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs_err::read_dir(layout::boards_dir())? {
            let entry = entry?;
            if entry.path().join("board.toml").is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Absolute path of the kernel fragment.
    pub fn kernel_fragment(&self) -> Utf8PathBuf {
        self.dir.join(&self.spec.kernel.fragment)
    }

    /// Absolute path of the busybox fragment.
    pub fn busybox_fragment(&self) -> Utf8PathBuf {
        self.dir.join(&self.spec.busybox.fragment)
    }

    /// Absolute path of the rootfs manifest.
    pub fn manifest(&self) -> Utf8PathBuf {
        self.dir.join(&self.spec.rootfs.manifest)
    }

    /// The guest's host name: `[rootfs] hostname`, else the board's name with each
    /// character a host name cannot hold (`_` in `x86_64`) made a `-`.
    pub fn hostname(&self) -> String {
        match &self.spec.rootfs.hostname {
            Some(name) => name.clone(),
            None => default_hostname(&self.name),
        }
    }

    /// The `/etc/hostname` pack writes for the manifest's `${hostname}`.
    pub fn hostname_file(&self) -> Utf8PathBuf {
        self.out_dir().join("etc").join("hostname")
    }

    /// Output directory of this board: `target/minilinux/<board>/`.
    pub fn out_dir(&self) -> Utf8PathBuf {
        layout::target_dir().join("minilinux").join(&self.name)
    }

    /// What `fetch` recorded about each source tree: `fetch.toml`.
    pub fn fetch_record(&self) -> Utf8PathBuf {
        self.out_dir().join("fetch.toml")
    }

    /// Kernel source tree (a symlink made by `fetch`).
    pub fn kernel_src(&self) -> Utf8PathBuf {
        self.out_dir().join("src/linux")
    }

    /// Busybox source tree (a symlink made by `fetch`).
    pub fn busybox_src(&self) -> Utf8PathBuf {
        self.out_dir().join("src/busybox")
    }

    /// Kernel build dir (`make O=`), holding the configured `.config`.
    pub fn kernel_build(&self) -> Utf8PathBuf {
        self.out_dir().join("linux")
    }

    /// Busybox build dir (`make O=`), holding the configured `.config`.
    pub fn busybox_build(&self) -> Utf8PathBuf {
        self.out_dir().join("busybox")
    }

    /// The kernel's configured `.config`.
    pub fn kernel_config(&self) -> Utf8PathBuf {
        self.kernel_build().join(".config")
    }

    /// Busybox's configured `.config`.
    pub fn busybox_config(&self) -> Utf8PathBuf {
        self.busybox_build().join(".config")
    }

    /// Where the stages put their logs.
    pub fn log_dir(&self) -> Utf8PathBuf {
        self.out_dir().join("logs")
    }

    /// The kernel image QEMU boots: the built image, or its uImage wrapping.
    pub fn kernel_image(&self) -> Utf8PathBuf {
        match self.spec.kernel.uimage_load {
            Some(_) => self.out_dir().join("kernel.uimage"),
            None => self.kernel_built_image(),
        }
    }

    /// The image make produces (`[kernel] image`), before any wrapping.
    pub fn kernel_built_image(&self) -> Utf8PathBuf {
        self.kernel_build().join(&self.spec.kernel.image)
    }

    /// The device tree blob QEMU boots, if the board has one: the built one, or its
    /// copy with `[kernel] dtb_disable`'s nodes disabled.
    pub fn dtb(&self) -> Option<Utf8PathBuf> {
        let built = self.dtb_built()?;
        if self.spec.kernel.dtb_disable.is_empty() {
            Some(built)
        } else {
            Some(self.out_dir().join("board.dtb"))
        }
    }

    /// The device tree blob make produces (`[kernel] dtb`), if the board has one.
    pub fn dtb_built(&self) -> Option<Utf8PathBuf> {
        self.spec
            .kernel
            .dtb
            .as_ref()
            .map(|d| self.kernel_build().join(d))
    }

    /// Built static busybox.
    pub fn busybox_bin(&self) -> Utf8PathBuf {
        self.busybox_build().join("busybox")
    }

    /// Busybox's list of applet paths.
    pub fn busybox_links(&self) -> Utf8PathBuf {
        self.busybox_build().join("busybox.links")
    }

    /// Built init for the guest.
    pub fn init_bin(&self) -> Utf8PathBuf {
        self.out_dir().join("init/init")
    }

    /// The initramfs `pack` wrote last (a symlink to `initramfs.cpio.<ext>`), what `qemu` boots.
    pub fn current_initramfs(&self) -> Utf8PathBuf {
        self.out_dir().join("initramfs")
    }

    /// The guest's memory in bytes: the `-m` of `[qemu] args` (`128M`, `1G`, `size=512M`, a
    /// bare number of MiB), else QEMU's default of 128 MiB. `None` if `-m` does not parse.
    pub fn guest_ram(&self) -> Option<u64> {
        let args = &self.spec.qemu.args;
        let Some(at) = args.iter().position(|a| a == "-m") else {
            return Some(128 << 20);
        };
        parse_ram(args.get(at + 1)?)
    }

    /// Packed initramfs with the given file extension (`gz`, `zst`, ...).
    pub fn initramfs(&self, extension: &str) -> Utf8PathBuf {
        if extension.is_empty() {
            self.out_dir().join("initramfs.cpio")
        } else {
            self.out_dir().join(format!("initramfs.cpio.{extension}"))
        }
    }
}

/// A `board.toml` error as `path:line: message`, without the TOML crate's source excerpt.
fn toml_error(path: &Utf8Path, text: &str, err: &toml::de::Error) -> anyhow::Error {
    let line = err.span().map_or(0, |span| {
        text.as_bytes()[..span.start.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    });
    let place = if line > 0 {
        format!("{}:{line}", layout::display_path(path))
    } else {
        layout::display_path(path).to_string()
    };
    let message: Vec<&str> = err.message().lines().map(str::trim).collect();
    anyhow::anyhow!("{place}: {}", message.join("; "))
}

/// A QEMU `-m` value in bytes: `128M`, `1G`, `size=512M,maxmem=1G`, `256` (MiB).
fn parse_ram(value: &str) -> Option<u64> {
    let size = value
        .split(',')
        .find_map(|part| match part.split_once('=') {
            Some(("size", v)) => Some(v),
            Some(_) => None,
            None => Some(part),
        })?;
    let (digits, unit) = match size.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => size.split_at(i),
        None => (size, "M"),
    };
    let shift = match unit.to_ascii_uppercase().as_str() {
        "K" => 10,
        "M" | "MB" => 20,
        "G" | "GB" => 30,
        "T" => 40,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// A board name is one plain path component (letters, digits, `.`, `_`, `-`, not
/// starting with `.`): it names the output folder `target/minilinux/<name>/`, which must
/// never be anything but a folder of its own under `target/minilinux/`.
fn check_name(name: &str) -> Result<()> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !plain {
        bail!(
            "invalid board name `{name}`: use letters, digits, `.`, `_` and `-` \
             (a board folder's path needs a `/`, e.g. ./{name})"
        );
    }
    Ok(())
}

/// Whether `b` may stand in a host name: a letter, a digit, `-` or `.`.
pub fn is_hostname_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'.'
}

/// A host name for board `name`: letters, digits, `-` and `.` kept, anything else `-`,
/// at most 64 bytes.
fn default_hostname(name: &str) -> String {
    name.chars()
        .map(|c| match c.is_ascii() && is_hostname_byte(c as u8) {
            true => c,
            false => '-',
        })
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{default_hostname, parse_ram};

    #[test]
    fn a_board_name_becomes_a_host_name() {
        let got: Vec<String> = ["versatilepb", "x86_64", "aarch64-virt", "my.board", "a b"]
            .iter()
            .map(|name| default_hostname(name))
            .collect();
        expect![[r#"["versatilepb", "x86-64", "aarch64-virt", "my.board", "a-b"]"#]]
            .assert_eq(&format!("{got:?}"));
    }
    use expect_test::expect;

    #[test]
    fn qemu_memory_sizes_read_as_qemu_reads_them() {
        let got: Vec<String> = [
            "128M",
            "128",
            "1G",
            "2g",
            "size=512M,maxmem=1G",
            "64K",
            "lots",
            "",
        ]
        .iter()
        .map(|v| format!("{v}: {:?}", parse_ram(v)))
        .collect();
        expect![[r#"
            128M: Some(134217728)
            128: Some(134217728)
            1G: Some(1073741824)
            2g: Some(2147483648)
            size=512M,maxmem=1G: Some(536870912)
            64K: Some(65536)
            lots: None
            : None"#]]
        .assert_eq(&got.join("\n"));
    }
}
