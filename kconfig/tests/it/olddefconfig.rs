//! `olddefconfig` and `defconfig` in process against the kernel's own `conf`
//! (`make ... olddefconfig`), byte for byte, on the tree given by
//! `MINILINUX_KERNEL_SRC`; each test prints a `skipped:` line and passes without it.
//!
//! By default a deterministic sample of the arches the boards use: every
//! `arch/{x86,arm64}/configs/*defconfig`, every fourth of `arch/arm/configs` (sorted by
//! name) and versatilepb's `versatile_defconfig` (`make` takes seconds per file, and the
//! full set would dominate `cargo xtask test`); `MINILINUX_KCONFIG_FULL=1` compares
//! every one of them, `MINILINUX_KCONFIG_ALL_ARCHES=1` every defconfig of every arch
//! (with `MINILINUX_KCONFIG_DEFCONFIG=1`, `make <name>` against `conf --defconfig` in
//! process as well). A cross compiler `<prefix>gcc` is used when installed, else the
//! host's `gcc`, the same for both sides.

use std::path::{Path, PathBuf};
use std::process::Command;

use kconfig::{kernel_environment, Evaluation, Kconfig, ShellCache};

const VARIABLE: &str = "MINILINUX_KERNEL_SRC";
const ALL: &str = "MINILINUX_KCONFIG_ALL_ARCHES";
const FULL: &str = "MINILINUX_KCONFIG_FULL";
const DEFCONFIG: &str = "MINILINUX_KCONFIG_DEFCONFIG";

/// Whether `name`, the `index`-th defconfig (sorted) of `arch/<folder>/configs`, is in the
/// default sample.
fn sampled(folder: &str, index: usize, name: &str) -> bool {
    folder != "arm" || index.is_multiple_of(4) || name == "versatile_defconfig"
}

fn kernel_src(test: &str) -> Option<PathBuf> {
    match std::env::var_os(VARIABLE) {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            println!("skipped: {test}: set {VARIABLE} to a kernel source tree to run it");
            None
        }
    }
}

fn installed(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The `CROSS_COMPILE` for an arch folder: its usual prefix when that gcc is installed,
/// else none (the host compiler).
fn cross_compile(arch: &str) -> String {
    let prefix = match arch {
        "arm" => "arm-linux-gnueabi-".to_string(),
        "arm64" => "aarch64-linux-gnu-".to_string(),
        "x86" | "x86_64" | "um" => String::new(),
        other => format!("{other}-linux-gnu-"),
    };
    if installed(&format!("{prefix}gcc")) {
        prefix
    } else {
        String::new()
    }
}

/// The `ARCH=` for an `arch/` folder.
fn make_arch(folder: &str) -> &str {
    match folder {
        "x86" => "x86_64",
        other => other,
    }
}

struct Tally {
    compared: usize,
    identical: usize,
    differ: Vec<String>,
}

/// `make O=<out> ARCH=<arch> CROSS_COMPILE=<cross> <target>`; the written `.config`.
fn make(src: &Path, out: &Path, arch: &str, cross: &str, target: &str) -> Option<String> {
    let status = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(src)
        .arg(format!("O={}", out.display()))
        .arg(format!("ARCH={arch}"))
        .arg(format!("CROSS_COMPILE={cross}"))
        .arg(target)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    std::fs::read_to_string(out.join(".config")).ok()
}

fn compare_arch(src: &Path, folder: &str, defconfig_mode: bool, sample: bool, tally: &mut Tally) {
    let arch = make_arch(folder);
    let cross = cross_compile(folder);
    let mut probes = ShellCache::new(&Default::default());
    let env = kernel_environment(src, arch, &cross, None, &mut probes);
    let mut shell = ShellCache::new(&env);
    let tree = match Kconfig::load(src, Path::new("Kconfig"), &env, &mut shell) {
        Ok(tree) => tree,
        Err(e) => {
            tally.differ.push(format!("{folder}: cannot load: {e}"));
            return;
        }
    };
    let out = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(src.join("arch").join(folder).join("configs"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|f| {
        let name = f.file_name().unwrap_or_default().to_string_lossy();
        name == "defconfig" || name.ends_with("_defconfig")
    });
    files.sort();
    for (index, file) in files.into_iter().enumerate() {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if sample && !sampled(folder, index, &name) {
            continue;
        }
        let input = std::fs::read_to_string(&file).unwrap();
        std::fs::write(out.path().join(".config"), &input).unwrap();
        let Some(theirs) = make(src, out.path(), arch, &cross, "olddefconfig") else {
            // conf itself refused (an arch whose Makefile needs its own toolchain).
            continue;
        };
        tally.compared += 1;
        let ours = Evaluation::olddefconfig(&tree, &input);
        if ours == theirs {
            tally.identical += 1;
        } else {
            tally.differ.push(format!("{folder}/{name}: olddefconfig"));
        }
        if defconfig_mode {
            let Some(theirs) = make(src, out.path(), arch, &cross, &name) else {
                continue;
            };
            tally.compared += 1;
            if Evaluation::defconfig(&tree, &input) == theirs {
                tally.identical += 1;
            } else {
                tally.differ.push(format!("{folder}/{name}: defconfig"));
            }
        }
    }
}

fn report(what: &str, tally: &Tally) {
    println!(
        "{what}: {} of {} identical to make",
        tally.identical, tally.compared
    );
    assert!(
        tally.differ.is_empty(),
        "{} differ from make: {:#?}",
        tally.differ.len(),
        tally.differ
    );
}

#[test]
fn olddefconfig_is_byte_identical_to_conf_on_the_boards_arches() {
    let Some(src) = kernel_src("olddefconfig_is_byte_identical_to_conf_on_the_boards_arches")
    else {
        return;
    };
    for folder in ["arm", "x86", "arm64"] {
        let mut tally = Tally {
            compared: 0,
            identical: 0,
            differ: Vec::new(),
        };
        compare_arch(
            &src,
            folder,
            false,
            std::env::var_os(FULL).is_none(),
            &mut tally,
        );
        assert!(tally.compared > 0, "no defconfig compared for {folder}");
        report(folder, &tally);
    }
}

#[test]
fn every_defconfig_of_every_arch_when_asked() {
    let Some(src) = kernel_src("every_defconfig_of_every_arch_when_asked") else {
        return;
    };
    if std::env::var_os(ALL).is_none() {
        println!("skipped: every_defconfig_of_every_arch_when_asked: set {ALL}=1 to run it");
        return;
    }
    let mut folders: Vec<String> = std::fs::read_dir(src.join("arch"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("configs").is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    folders.sort();
    let mut total = Tally {
        compared: 0,
        identical: 0,
        differ: Vec::new(),
    };
    for folder in &folders {
        let mut tally = Tally {
            compared: 0,
            identical: 0,
            differ: Vec::new(),
        };
        let defconfig_mode = std::env::var_os(DEFCONFIG).is_some();
        compare_arch(&src, folder, defconfig_mode, false, &mut tally);
        println!(
            "{folder}: {} of {} identical",
            tally.identical, tally.compared
        );
        total.compared += tally.compared;
        total.identical += tally.identical;
        total.differ.extend(tally.differ);
    }
    report("every arch", &total);
}
