//! Checks against a real kernel tree, given by `MINILINUX_KERNEL_SRC` (the fetched source);
//! each test prints a `skipped:` line and passes when the variable is not set.
//!
//! Round trip of every `arch/*/configs` file and of generated `.config`s, and merge and
//! post-configure checks compared with the tree's own `scripts/kconfig/merge_config.sh`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use kconfig::{dropped, merge, Config, Fragment, MergeOptions, SymbolIndex, Value};

const VARIABLE: &str = "MINILINUX_KERNEL_SRC";

fn kernel_src(test: &str) -> Option<PathBuf> {
    match std::env::var_os(VARIABLE) {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            println!("skipped: {test}: set {VARIABLE} to a kernel source tree to run it");
            None
        }
    }
}

fn run(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// `make ARCH=arm O=<dir> <target>` in the tree; returns the `.config` written.
fn make_config(src: &Path, out: &Path, target: &str) -> String {
    run(Command::new("make")
        .current_dir(src)
        .arg("-s")
        .arg("ARCH=arm")
        .arg(format!("O={}", out.display()))
        .arg(target));
    std::fs::read_to_string(out.join(".config")).unwrap()
}

/// versatile_defconfig's `.config`, made once for all tests.
fn versatile(src: &Path) -> &'static str {
    static CONFIG: OnceLock<String> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let out = tempfile::tempdir().unwrap();
        make_config(src, out.path(), "versatile_defconfig")
    })
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn every_arch_defconfig_round_trips() {
    let Some(src) = kernel_src("every_arch_defconfig_round_trips") else {
        return;
    };
    let mut files = Vec::new();
    for arch in std::fs::read_dir(src.join("arch")).unwrap() {
        let configs = arch.unwrap().path().join("configs");
        if configs.is_dir() {
            files_under(&configs, &mut files);
        }
    }
    assert!(
        files.len() > 100,
        "only {} defconfigs under {}",
        files.len(),
        src.display()
    );
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let config = Config::parse(&text)
            .unwrap_or_else(|e| panic!("{}", e.in_file(file.display().to_string())));
        assert_eq!(config.to_string(), text, "{} changed", file.display());
    }
    println!("{} defconfigs round-tripped", files.len());
}

#[test]
fn generated_configs_round_trip() {
    let Some(src) = kernel_src("generated_configs_round_trip") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let allyes = make_config(&src, out.path(), "allyesconfig");
    for text in [versatile(&src), allyes.as_str()] {
        let config = Config::parse(text).unwrap();
        assert_eq!(config.to_string(), text);
        assert!(config.symbol_count() > 1000);
    }
}

/// A fragment that changes every `step`th assignment of `base` (from `offset`) and adds
/// `extra` lines: the kind of input `merge_config.sh` is used with.
fn fragment(base: &Config, step: usize, offset: usize, demote: bool, extra: &str) -> String {
    let mut text = format!("# generated: every {step}th symbol from {offset}\n");
    for (i, (symbol, value)) in base.assignments().enumerate() {
        if i % step != offset {
            continue;
        }
        let changed = match value {
            Value::Tristate(kconfig::Tristate::Yes) if demote => "m".to_string(),
            Value::Tristate(kconfig::Tristate::Yes) => "n".to_string(),
            Value::Tristate(_) | Value::NotSet => "y".to_string(),
            Value::Int(n) => (n + 1).to_string(),
            Value::Hex(h) => format!("{h}1"),
            Value::Str(s) => format!("\"{s} x\""),
        };
        if changed == "n" {
            text.push_str(&format!("# CONFIG_{symbol} is not set\n"));
        } else {
            text.push_str(&format!("CONFIG_{symbol}={changed}\n"));
        }
    }
    text.push_str(extra);
    text
}

struct Inputs {
    dir: tempfile::TempDir,
    base: PathBuf,
    fragments: Vec<PathBuf>,
}

fn write_inputs(src: &Path) -> Inputs {
    let dir = tempfile::tempdir().unwrap();
    let base_text = versatile(src);
    let base = Config::parse(base_text).unwrap();
    let texts = [
        fragment(
            &base,
            11,
            0,
            false,
            "CONFIG_DRM=y\nCONFIG_DRM_I915=y\nCONFIG_TMPFS=y\n",
        ),
        fragment(
            &base,
            13,
            5,
            true,
            "CONFIG_DEVTMPFS=y\n# CONFIG_TMPFS is not set\n",
        ),
        fragment(
            &base,
            17,
            3,
            false,
            "CONFIG_CMDLINE=\"console=ttyAMA0 root=/dev/ram0\"\n",
        ),
    ];
    let base_path = dir.path().join("base.config");
    std::fs::write(&base_path, base_text).unwrap();
    let fragments = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let path = dir.path().join(format!("fragment{i}.config"));
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
    Inputs {
        dir,
        base: base_path,
        fragments,
    }
}

/// Runs the tree's `merge_config.sh` (with `-m` unless `make`) in the inputs' folder;
/// returns its output and the `.config` it wrote.
fn merge_config_sh(src: &Path, inputs: &Inputs, options: &[&str], out: &Path) -> (String, String) {
    let mut command = Command::new("bash");
    command
        .current_dir(inputs.dir.path())
        .env("ARCH", "arm")
        .arg(src.join("scripts/kconfig/merge_config.sh"))
        .args(options)
        .arg("-O")
        .arg(out)
        .arg(&inputs.base)
        .args(&inputs.fragments);
    if !options.contains(&"-m") {
        // Without -m the script runs `make` from the current directory.
        command.current_dir(src);
    }
    let stdout = run(&mut command);
    let config = std::fs::read_to_string(out.join(".config")).unwrap();
    (stdout, config)
}

fn our_merge(inputs: &Inputs, builtin: bool) -> kconfig::Merged {
    let base = Config::parse(&std::fs::read_to_string(&inputs.base).unwrap()).unwrap();
    let parsed: Vec<(String, Config)> = inputs
        .fragments
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            (path.display().to_string(), Config::parse(&text).unwrap())
        })
        .collect();
    let fragments: Vec<Fragment<'_>> = parsed
        .iter()
        .map(|(name, config)| Fragment { name, config })
        .collect();
    merge(&base, &fragments, MergeOptions { builtin })
}

#[test]
fn merge_gives_the_same_file_and_redefinitions_as_merge_config_sh() {
    let Some(src) = kernel_src("merge_gives_the_same_file_and_redefinitions_as_merge_config_sh")
    else {
        return;
    };
    let inputs = write_inputs(&src);
    for builtin in [false, true] {
        let out = tempfile::tempdir().unwrap();
        let options: &[&str] = if builtin { &["-m", "-y"] } else { &["-m"] };
        let (stdout, theirs) = merge_config_sh(&src, &inputs, options, out.path());
        let ours = our_merge(&inputs, builtin);
        assert_eq!(
            ours.config.to_string(),
            theirs,
            "merged text differs (builtin: {builtin})"
        );

        let their_redefinitions: Vec<String> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("Value of "))
            .map(|l| {
                l.replace(" is redefined by fragment ", " ")
                    .trim_end_matches(':')
                    .to_string()
            })
            .collect();
        let our_redefinitions: Vec<String> = ours
            .redefinitions
            .iter()
            .filter(|r| !r.kept_old)
            .map(|r| format!("{}{} {}", r.prefix, r.symbol, r.fragment))
            .collect();
        assert_eq!(our_redefinitions, their_redefinitions, "builtin: {builtin}");
        let their_kept = stdout.matches("-y passed, will not demote y to m").count();
        let our_kept = ours.redefinitions.iter().filter(|r| r.kept_old).count();
        assert_eq!(our_kept, their_kept, "builtin: {builtin}");
        assert!(
            our_redefinitions.len() > 100,
            "too few redefinitions to compare"
        );
        if builtin {
            assert!(our_kept > 10, "the -y case needs demotions to compare");
        }
    }
}

#[test]
fn dropped_values_match_merge_config_sh_and_are_explained() {
    let Some(src) = kernel_src("dropped_values_match_merge_config_sh_and_are_explained") else {
        return;
    };
    let inputs = write_inputs(&src);
    let out = tempfile::tempdir().unwrap();
    let (stdout, final_config) = merge_config_sh(&src, &inputs, &[], out.path());
    let requested = our_merge(&inputs, false).config;
    let actual = Config::parse(&final_config).unwrap();
    let ours = dropped(&requested, &actual);

    // The script also reports a requested `is not set` whose symbol the final .config
    // leaves out; Kconfig treats both as off, so this crate does not.
    let theirs: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("Value requested for "))
        .filter_map(|l| l.strip_suffix(" not in final .config"))
        .collect();
    let ours_named: Vec<String> = ours
        .iter()
        .map(|d| format!("CONFIG_{}", d.symbol))
        .collect();
    for symbol in &ours_named {
        assert!(
            theirs.contains(&symbol.as_str()),
            "{symbol} dropped here only"
        );
    }
    for symbol in theirs {
        if ours_named.iter().any(|s| s == symbol) {
            continue;
        }
        let bare = symbol.trim_start_matches("CONFIG_");
        assert!(
            requested.get(bare).is_some_and(|v| v.same_effect(None)) && actual.get(bare).is_none(),
            "{symbol} dropped by merge_config.sh only"
        );
    }

    let index = SymbolIndex::scan(&src, Some("arm")).unwrap();
    assert!(index.len() > 5000, "only {} symbols scanned", index.len());
    // Every symbol Kconfig itself wrote must be found by the light scan.
    let missing: Vec<&str> = actual
        .assignments()
        .map(|(symbol, _)| symbol)
        .filter(|symbol| index.definitions(symbol).is_empty())
        .collect();
    assert!(missing.is_empty(), "not found by the scan: {missing:?}");
    let i915 = ours
        .iter()
        .find(|d| d.symbol == "DRM_I915")
        .expect("DRM_I915 is dropped on ARM");
    let explanation = i915.explain(&index, &actual).to_string();
    assert!(
        explanation.contains("depends on") && explanation.contains("CONFIG_X86"),
        "{explanation}"
    );
    assert_eq!(index.suggest("CMDLIN"), Some("CMDLINE"));
    println!("{} dropped; CONFIG_DRM_I915: {explanation}", ours.len());
}
