//! Checks against a real busybox tree, given by `MINILINUX_BUSYBOX_SRC` (the fetched
//! source); each test prints a `skipped:` line and passes when the variable is not set.

use std::path::PathBuf;
use std::process::Command;

use kconfig::{Config, SymbolIndex};

const VARIABLE: &str = "MINILINUX_BUSYBOX_SRC";

fn busybox_src(test: &str) -> Option<PathBuf> {
    match std::env::var_os(VARIABLE) {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            println!("skipped: {test}: set {VARIABLE} to a busybox source tree to run it");
            None
        }
    }
}

#[test]
fn busybox_defconfigs_and_a_generated_config_round_trip_and_are_all_scanned() {
    let Some(src) =
        busybox_src("busybox_defconfigs_and_a_generated_config_round_trip_and_are_all_scanned")
    else {
        return;
    };
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(src.join("configs")).unwrap() {
        let path = entry.unwrap().path();
        texts.push((
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    assert!(texts.len() >= 5, "only {} busybox defconfigs", texts.len());

    let out = make_defconfig(&src);
    let generated = std::fs::read_to_string(out.path().join(".config")).unwrap();
    texts.push(("generated .config".to_string(), generated.clone()));

    for (name, text) in &texts {
        let config = Config::parse(text).unwrap_or_else(|e| panic!("{}", e.in_file(name.as_str())));
        assert_eq!(config.to_string(), *text, "{name} changed");
    }

    // Every symbol busybox's own Kconfig wrote must be found by the light scan, most of
    // them in `//config:` lines of C files.
    let index = SymbolIndex::scan(&src, None).unwrap();
    let config = Config::parse(&generated).unwrap();
    let missing: Vec<&str> = config
        .assignments()
        .map(|(symbol, _)| symbol)
        .filter(|symbol| index.definitions(symbol).is_empty())
        .collect();
    assert!(missing.is_empty(), "not found by the scan: {missing:?}");
    assert_eq!(index.suggest("FEATURE_EDITNG"), Some("FEATURE_EDITING"));
    println!(
        "{} busybox configs round-tripped; {} symbols scanned",
        texts.len(),
        index.len()
    );
}

/// Busybox's `Config.in` tree read in process (its generated files from the build folder
/// `MINILINUX_BUSYBOX_BUILD`, its older grammar) and its configured `.config` through
/// `olddefconfig`: every value written is the one busybox's own `conf` wrote. Busybox's
/// older `conf` also writes some symbols that are not visible, which 6.1's does not:
/// those are listed.
#[test]
fn busybox_config_in_evaluates_to_the_values_its_conf_wrote() {
    let test = "busybox_config_in_evaluates_to_the_values_its_conf_wrote";
    let Some(src) = busybox_src(test) else {
        return;
    };
    let Some(build) = std::env::var_os("MINILINUX_BUSYBOX_BUILD").map(PathBuf::from) else {
        println!("skipped: {test}: set MINILINUX_BUSYBOX_BUILD to its configured build folder");
        return;
    };
    let tree = load_config_in(&src, &build);
    let theirs = std::fs::read_to_string(build.join(".config")).unwrap();
    let ours = kconfig::Evaluation::olddefconfig(&tree, &theirs);
    let only_theirs = only_theirs(&ours, &theirs, "busybox's conf");
    expect_test::expect![[r#"
        [
            "CONFIG_FEATURE_KILL_DELAY=0",
            "CONFIG_TELINIT_PATH=\"\"",
        ]
    "#]]
    .assert_debug_eq(&only_theirs);
}

/// Busybox's `make defconfig` (every symbol at its default) against `conf`'s defconfig of
/// an empty file in process, which `kconfig --busybox why`/`blame` use as the base: the
/// same values, but for the symbols that are not visible that busybox's older `conf`
/// also writes (listed).
#[test]
fn busybox_make_defconfig_is_the_defaults_evaluated_in_process() {
    let Some(src) = busybox_src("busybox_make_defconfig_is_the_defaults_evaluated_in_process")
    else {
        return;
    };
    let out = make_defconfig(&src);
    let tree = load_config_in(&src, out.path());
    let theirs = std::fs::read_to_string(out.path().join(".config")).unwrap();
    let ours = kconfig::Evaluation::defconfig(&tree, "");
    let only_theirs = only_theirs(&ours, &theirs, "busybox's make defconfig");
    expect_test::expect![[r#"
        [
            "CONFIG_FEATURE_KILL_DELAY=0",
            "CONFIG_TELINIT_PATH=\"\"",
        ]
    "#]]
    .assert_debug_eq(&only_theirs);
}

/// `make -s O=<a temp folder> defconfig` in busybox's tree `src`: the folder, with the
/// `.config` and the `Config.in` files its make generates.
fn make_defconfig(src: &std::path::Path) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new("make")
        .current_dir(src)
        .arg("-s")
        .arg(format!("O={}", out.path().display()))
        .arg("defconfig")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "make defconfig failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// Busybox's `Config.in` tree in process: the source tree `src` with the files its make
/// generated into `build`, in its older grammar.
fn load_config_in(src: &std::path::Path, build: &std::path::Path) -> kconfig::Kconfig {
    let env = kconfig::Environment::new(Default::default());
    let mut shell = kconfig::ShellCache::new(&env);
    let options = kconfig::LoadOptions {
        generated: vec![build.to_path_buf()],
        older_grammar: true,
    };
    let top = std::path::Path::new("Config.in");
    kconfig::Kconfig::load_with(src, top, &env, &mut shell, &options)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The values (`CONFIG_...=` lines) of `theirs`, written by `who`, that `ours` lacks;
/// fails when `ours` has one `theirs` lacks, or has fewer than 500.
fn only_theirs(ours: &str, theirs: &str, who: &str) -> Vec<String> {
    let values = |text: &str| -> std::collections::BTreeSet<String> {
        text.lines()
            .filter(|l| l.starts_with("CONFIG_"))
            .map(str::to_string)
            .collect()
    };
    let (ours, theirs) = (values(ours), values(theirs));
    let not_theirs: Vec<&String> = ours.difference(&theirs).collect();
    assert!(
        not_theirs.is_empty(),
        "values {who} did not write: {not_theirs:#?}"
    );
    assert!(ours.len() > 500, "only {} values", ours.len());
    println!("{} values as {who} wrote them", ours.len());
    theirs.difference(&ours).cloned().collect()
}
