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

    let out = tempfile::tempdir().unwrap();
    let output = Command::new("make")
        .current_dir(&src)
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
    let env = kconfig::Environment::new(Default::default());
    let mut shell = kconfig::ShellCache::new(&env);
    let options = kconfig::LoadOptions {
        generated: vec![build.clone()],
        older_grammar: true,
    };
    let top = std::path::Path::new("Config.in");
    let tree = kconfig::Kconfig::load_with(&src, top, &env, &mut shell, &options)
        .unwrap_or_else(|e| panic!("{e}"));
    let theirs = std::fs::read_to_string(build.join(".config")).unwrap();
    let ours = kconfig::Evaluation::olddefconfig(&tree, &theirs);
    let values = |text: &str| -> std::collections::BTreeSet<String> {
        text.lines()
            .filter(|l| l.starts_with("CONFIG_"))
            .map(str::to_string)
            .collect()
    };
    let (ours, theirs) = (values(&ours), values(&theirs));
    let not_theirs: Vec<&String> = ours.difference(&theirs).collect();
    assert!(
        not_theirs.is_empty(),
        "values busybox's conf did not write: {not_theirs:#?}"
    );
    assert!(ours.len() > 500, "only {} values", ours.len());
    let only_theirs: Vec<&String> = theirs.difference(&ours).collect();
    println!("{} values as busybox's conf wrote them", ours.len());
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
    let out = tempfile::tempdir().unwrap();
    let output = Command::new("make")
        .current_dir(&src)
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
    let env = kconfig::Environment::new(Default::default());
    let mut shell = kconfig::ShellCache::new(&env);
    let options = kconfig::LoadOptions {
        generated: vec![out.path().to_path_buf()],
        older_grammar: true,
    };
    let top = std::path::Path::new("Config.in");
    let tree = kconfig::Kconfig::load_with(&src, top, &env, &mut shell, &options)
        .unwrap_or_else(|e| panic!("{e}"));
    let theirs = std::fs::read_to_string(out.path().join(".config")).unwrap();
    let ours = kconfig::Evaluation::defconfig(&tree, "");
    let values = |text: &str| -> std::collections::BTreeSet<String> {
        text.lines()
            .filter(|l| l.starts_with("CONFIG_"))
            .map(str::to_string)
            .collect()
    };
    let (ours, theirs) = (values(&ours), values(&theirs));
    let not_theirs: Vec<&String> = ours.difference(&theirs).collect();
    assert!(
        not_theirs.is_empty(),
        "values make defconfig did not write: {not_theirs:#?}"
    );
    assert!(ours.len() > 500, "only {} values", ours.len());
    let only_theirs: Vec<&String> = theirs.difference(&ours).collect();
    println!(
        "{} values as busybox's make defconfig wrote them",
        ours.len()
    );
    expect_test::expect![[r#"
        [
            "CONFIG_FEATURE_KILL_DELAY=0",
            "CONFIG_TELINIT_PATH=\"\"",
        ]
    "#]]
    .assert_debug_eq(&only_theirs);
}
