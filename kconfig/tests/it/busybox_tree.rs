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
