//! `olddefconfig` and `defconfig` in process against the kernel's own `conf`
//! (`make ... olddefconfig`), byte for byte, on the tree given by
//! `MINILINUX_KERNEL_SRC`; each test prints a `skipped:` line and passes without it.
//!
//! By default a deterministic sample of the arches the boards use: every
//! `arch/{x86,arm64}/configs/*defconfig`, every fourth of `arch/arm/configs` (sorted by
//! name) and versatilepb's `versatile_defconfig` (`make` takes seconds per file, and the
//! full set would dominate `cargo xtask test`); `MINILINUX_KCONFIG_FULL=1` compares
//! every one of them, `MINILINUX_KCONFIG_ALL_ARCHES=1` every defconfig of every arch,
//! subfolders included (with `MINILINUX_KCONFIG_DEFCONFIG=1`, `make defconfig
//! KBUILD_DEFCONFIG=<name>` against `conf --defconfig` in process as well). A cross
//! compiler `<prefix>gcc` is used when installed, else the host's `gcc`, the same for
//! both sides. `make` runs on one thread per core.

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

/// `make O=<out> ARCH=<arch> CROSS_COMPILE=<cross> <targets...>`; the written `.config`.
fn make(src: &Path, out: &Path, arch: &str, cross: &str, targets: &[&str]) -> Option<String> {
    let status = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(src)
        .arg(format!("O={}", out.display()))
        .arg(format!("ARCH={arch}"))
        .arg(format!("CROSS_COMPILE={cross}"))
        .args(targets)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    std::fs::read_to_string(out.join(".config")).ok()
}

/// One defconfig file of an `arch/` folder, and what `make` wrote for it: `olddefconfig`'s
/// file and, when asked, the `make <name>` one; `None` where `conf` itself refused.
struct Job {
    folder: String,
    file: PathBuf,
    olddefconfig: Option<String>,
    defconfig: Option<String>,
}

/// The `*defconfig` files of `arch/<folder>/configs` and of its subfolders (powerpc's
/// `85xx/` and the like, which `make 85xx/<name>` takes), sorted, only the sampled ones
/// with `sample`.
fn defconfigs(src: &Path, folder: &str, sample: bool) -> Vec<PathBuf> {
    let entries = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    };
    let mut files = Vec::new();
    for path in entries(&src.join("arch").join(folder).join("configs")) {
        if path.is_dir() {
            files.extend(entries(&path));
        } else {
            files.push(path);
        }
    }
    files.retain(|f| {
        let name = f.file_name().unwrap_or_default().to_string_lossy();
        name == "defconfig" || name.ends_with("_defconfig")
    });
    files.sort();
    files
        .into_iter()
        .enumerate()
        .filter(|(index, file)| {
            let name = file.file_name().unwrap().to_string_lossy();
            !sample || sampled(folder, *index, &name)
        })
        .map(|(_, file)| file)
        .collect()
}

/// `make`'s side of every job, on as many threads as there are cores: `make` runs `conf`
/// single-threaded, and its compiler probes are most of what a comparison costs. Each
/// thread keeps one output folder for all its jobs, whatever their arch, so `conf` is
/// built once per thread.
fn make_each(src: &Path, jobs: &mut [Job], defconfig_mode: bool) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let jobs: Vec<std::sync::Mutex<&mut Job>> =
        jobs.iter_mut().map(std::sync::Mutex::new).collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let out = tempfile::tempdir().unwrap();
                loop {
                    let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(job) = jobs.get(at) else { break };
                    let mut job = job.lock().unwrap();
                    let arch = make_arch(&job.folder).to_string();
                    let cross = cross_compile(&job.folder);
                    let name = target_name(src, &job);
                    std::fs::copy(&job.file, out.path().join(".config")).unwrap();
                    job.olddefconfig = make(src, out.path(), &arch, &cross, &["olddefconfig"]);
                    if defconfig_mode && job.olddefconfig.is_some() {
                        // `make defconfig` with the file named, not `make <name>`: an arch
                        // Makefile may have a rule of that name that does something else
                        // (riscv's `rv32_defconfig` is `defconfig` plus `32-bit.config`).
                        let named = format!("KBUILD_DEFCONFIG={name}");
                        job.defconfig =
                            make(src, out.path(), &arch, &cross, &["defconfig", &named]);
                    }
                }
            });
        }
    });
}

/// The defconfig's name as `make` takes it: its path below `arch/<folder>/configs`
/// (`85xx/socrates_defconfig` for one in a subfolder).
fn target_name(src: &Path, job: &Job) -> String {
    let configs = src.join("arch").join(&job.folder).join("configs");
    let relative = job.file.strip_prefix(&configs).unwrap_or(&job.file);
    relative.to_string_lossy().to_string()
}

/// The kernel's Kconfig tree for an `arch/` folder, in process.
fn load_tree(src: &Path, folder: &str) -> Result<Kconfig, String> {
    let arch = make_arch(folder);
    let cross = cross_compile(folder);
    let mut probes = ShellCache::new(&Default::default());
    let env = kernel_environment(src, arch, &cross, None, &mut probes);
    let mut shell = ShellCache::new(&env);
    Kconfig::load(src, Path::new("Kconfig"), &env, &mut shell).map_err(|e| e.to_string())
}

/// Compares the defconfigs of each folder, one tally per folder, in their order.
fn compare(src: &Path, folders: &[&str], defconfig_mode: bool, sample: bool) -> Vec<Tally> {
    let mut jobs: Vec<Job> = folders
        .iter()
        .flat_map(|folder| {
            defconfigs(src, folder, sample).into_iter().map(|file| Job {
                folder: folder.to_string(),
                file,
                olddefconfig: None,
                defconfig: None,
            })
        })
        .collect();
    // The trees load on this thread while make runs on the others.
    let trees: Vec<Result<Kconfig, String>> = std::thread::scope(|scope| {
        scope.spawn(|| make_each(src, &mut jobs, defconfig_mode));
        folders
            .iter()
            .map(|folder| load_tree(src, folder))
            .collect()
    });
    let mut tallies = Vec::new();
    for (folder, tree) in folders.iter().zip(trees) {
        let mut tally = Tally {
            compared: 0,
            identical: 0,
            differ: Vec::new(),
        };
        match tree {
            Ok(tree) => {
                for job in jobs.iter().filter(|job| job.folder == *folder) {
                    check_job(src, &tree, job, &mut tally);
                }
            }
            Err(e) => tally.differ.push(format!("{folder}: cannot load: {e}")),
        }
        tallies.push(tally);
    }
    tallies
}

/// Ours against make's for one defconfig.
fn check_job(src: &Path, tree: &Kconfig, job: &Job, tally: &mut Tally) {
    let name = target_name(src, job);
    let folder = &job.folder;
    let Some(olddefconfig) = &job.olddefconfig else {
        // conf itself refused (an arch whose Makefile needs its own toolchain).
        return;
    };
    let input = std::fs::read_to_string(&job.file).unwrap();
    tally.compared += 1;
    if &Evaluation::olddefconfig(tree, &input) == olddefconfig {
        tally.identical += 1;
    } else {
        tally.differ.push(format!("{folder}/{name}: olddefconfig"));
    }
    if let Some(defconfig) = &job.defconfig {
        tally.compared += 1;
        if &Evaluation::defconfig(tree, &input) == defconfig {
            tally.identical += 1;
        } else {
            tally.differ.push(format!("{folder}/{name}: defconfig"));
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
    let folders = ["arm", "x86", "arm64"];
    let sample = std::env::var_os(FULL).is_none();
    for (folder, tally) in folders.iter().zip(compare(&src, &folders, false, sample)) {
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
    let folders: Vec<&str> = folders.iter().map(String::as_str).collect();
    let defconfig_mode = std::env::var_os(DEFCONFIG).is_some();
    let mut total = Tally {
        compared: 0,
        identical: 0,
        differ: Vec::new(),
    };
    for (folder, tally) in folders
        .iter()
        .zip(compare(&src, &folders, defconfig_mode, false))
    {
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
