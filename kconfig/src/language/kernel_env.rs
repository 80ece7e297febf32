//! The environment the kernel's top Makefile gives `conf` (the variables it exports and
//! that the 6.1 Kconfig files read), so that a run in process sees what `make
//! ARCH=... CROSS_COMPILE=... olddefconfig` would.

use std::collections::BTreeMap;
use std::path::Path;

use super::environment::Environment;
use super::shell::ShellRunner;

/// The Makefile's `SRCARCH` for an `ARCH=` value.
pub fn source_arch(arch: &str) -> &str {
    match arch {
        "i386" | "x86_64" => "x86",
        "sparc32" | "sparc64" => "sparc",
        "parisc64" => "parisc",
        "sh64" => "sh",
        other => other,
    }
}

/// `scripts/subarch.include` for the host.
fn sub_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86" | "x86_64" => "x86",
        "aarch64" => "arm64",
        "arm" => "arm",
        "powerpc" | "powerpc64" => "powerpc",
        "s390x" => "s390",
        "riscv64" => "riscv",
        "loongarch64" => "loongarch",
        "mips" | "mips64" => "mips",
        other => other,
    }
}

/// `VERSION.PATCHLEVEL.SUBLEVEL EXTRAVERSION` from the tree's Makefile.
fn kernel_version(src: &Path) -> String {
    let text = std::fs::read_to_string(src.join("Makefile")).unwrap_or_default();
    let var = |name: &str| {
        text.lines()
            .find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let (version, patch, sub, extra) = (
        var("VERSION"),
        var("PATCHLEVEL"),
        var("SUBLEVEL"),
        var("EXTRAVERSION"),
    );
    let mut out = version;
    if !patch.is_empty() {
        out.push('.');
        out.push_str(&patch);
        if !sub.is_empty() {
            out.push('.');
            out.push_str(&sub);
        }
    }
    out + &extra
}

/// The variables `make ARCH=<arch> CROSS_COMPILE=<cross_compile> <target>config` exports
/// to `conf` (with `CC` overridden by `cc` when given, as `make CC=...` does), and the
/// process environment behind them. `CC_VERSION_TEXT` is the first line of
/// `$CC --version`, run through `shell`.
pub fn kernel_environment(
    src: &Path,
    arch: &str,
    cross_compile: &str,
    cc: Option<&str>,
    shell: &mut dyn ShellRunner,
) -> Environment {
    let srctree = src.canonicalize().unwrap_or_else(|_| src.to_path_buf());
    let cc = cc.map_or_else(|| format!("{cross_compile}gcc"), str::to_string);
    let mut vars = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        vars.insert(k.to_string(), v);
    };
    set("ARCH", arch.to_string());
    set("SRCARCH", source_arch(arch).to_string());
    set("SUBARCH", sub_arch().to_string());
    if arch == "um" {
        set("HEADER_ARCH", sub_arch().to_string());
    }
    set("KERNELVERSION", kernel_version(src));
    set("srctree", srctree.display().to_string());
    set("CROSS_COMPILE", cross_compile.to_string());
    set("LD", format!("{cross_compile}ld"));
    set("AR", format!("{cross_compile}ar"));
    set("NM", format!("{cross_compile}nm"));
    set("OBJCOPY", format!("{cross_compile}objcopy"));
    set("HOSTCC", "gcc".to_string());
    set("RUSTC", "rustc".to_string());
    set("BINDGEN", "bindgen".to_string());
    set("PAHOLE", "pahole".to_string());
    let version = shell
        .run(&format!("LC_ALL=C {cc} --version 2>/dev/null | head -n 1"))
        .unwrap_or_default()
        .replace('#', "");
    set("CC_VERSION_TEXT", version);
    set("CC", cc);
    Environment {
        vars,
        inherit: true,
    }
}
