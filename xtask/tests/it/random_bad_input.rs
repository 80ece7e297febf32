//! Randomised bad input (issue 18): `kconfig` set/unset/remove/merge (the library, and the
//! real binary for a share of the cases) and `rootfs` pack on generated, mostly broken,
//! inputs never panic, and an operation that fails changes no file.
//!
//! By default each property runs a short deterministic sample (a fixed seed). With
//! `MINILINUX_RANDOM_SECONDS=N` each runs for N seconds on fresh seeds and prints how many
//! cases it ran: the long run of docs/testing.md.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::snapshot;
use kconfig::{merge, Config, Fragment, MergeOptions, SymbolType, Value};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};

/// Runs `test` on `strategy`: `sample` deterministic cases, or for `MINILINUX_RANDOM_SECONDS`
/// on random seeds; panics with the (shrunk) failing input. Returns the cases run.
fn run<S: Strategy>(
    name: &str,
    sample: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) -> u64
where
    S::Value: std::fmt::Debug,
{
    let config = |cases| RunnerConfig {
        cases,
        failure_persistence: None,
        ..RunnerConfig::default()
    };
    let seconds: Option<u64> = std::env::var("MINILINUX_RANDOM_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok());
    let Some(seconds) = seconds else {
        let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
        let mut runner = TestRunner::new_with_rng(config(sample), rng);
        if let Err(e) = runner.run(&strategy, &test) {
            panic!("{name}: {e}");
        }
        return u64::from(sample);
    };
    let start = Instant::now();
    let mut total = 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        let mut runner = TestRunner::new(config(256));
        if let Err(e) = runner.run(&strategy, &test) {
            panic!("{name}: after {total} cases: {e}");
        }
        total += 256;
    }
    eprintln!(
        "random {name}: {total} cases in {:.0} s: no panic, no changed file",
        start.elapsed().as_secs_f64()
    );
    total
}

// ---------------------------------------------------------------- kconfig

/// A config file's bytes: pieces of real syntax, broken quotes, CR, any byte (so also
/// text that is not UTF-8).
fn config_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => ("[A-Z][A-Z0-9_]{0,5}", prop::sample::select(vec!["y", "m", "n", "1", "-7", "0x1f", "\"s\"", "\"a\\\"b\""]))
            .prop_map(|(s, v)| format!("CONFIG_{s}={v}\n").into_bytes()),
        2 => "[A-Z]{1,4}".prop_map(|s| format!("# CONFIG_{s} is not set\n").into_bytes()),
        1 => prop::sample::select(vec![
            "CONFIG_", "# ", "=", "\"", "\\", "\n", "\r\n", "\r", " ", "\t", "y", "0x", "BR2_", "#",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => any::<u8>().prop_map(|b| vec![b]),
        1 => "[ -~]{0,8}".prop_map(String::into_bytes),
    ];
    prop::collection::vec(piece, 0..30).prop_map(|pieces| pieces.concat())
}

/// What a person might type after `NAME=`: good values and broken ones.
fn user_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "y",
            "m",
            "n",
            "",
            "0x",
            "0x1g",
            "-1",
            "\"a\"b\"",
            "\"open",
            "\"\\",
            "a\nb",
            "\"x\"",
            "99999999999999999999999",
        ])
        .prop_map(str::to_string),
        "[ -~\r\n\u{e9}]{0,10}",
    ]
}

/// A symbol name as typed: valid or not, with or without the prefix.
fn user_symbol() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z][A-Z0-9_]{0,5}",
        "CONFIG_[A-Z]{1,4}",
        prop::sample::select(vec!["", "CONFIG_", "A-B", "A B", "é", "A=B"])
            .prop_map(str::to_string),
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    Set(String, String, Option<SymbolType>),
    Unset(String),
    Remove(String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let symbol_type = prop::option::of(prop::sample::select(vec![
        SymbolType::Bool,
        SymbolType::Tristate,
        SymbolType::String,
        SymbolType::Int,
        SymbolType::Hex,
    ]));
    prop_oneof![
        4 => (user_symbol(), user_value(), symbol_type).prop_map(|(s, v, t)| Edit::Set(s, v, t)),
        1 => user_symbol().prop_map(Edit::Unset),
        1 => user_symbol().prop_map(Edit::Remove),
    ]
}

/// Applies one edit; an edit that fails must leave the config as it was.
fn apply(config: &mut Config, edit: &Edit) -> Result<(), TestCaseError> {
    let before = config.clone();
    let result = match edit {
        Edit::Set(symbol, text, symbol_type) => Value::from_user(text, *symbol_type)
            .map_err(|e| e.to_string())
            .and_then(|value| config.set(symbol, value).map_err(|e| e.to_string()))
            .map(drop),
        Edit::Unset(symbol) => config.unset(symbol).map(drop).map_err(|e| e.to_string()),
        Edit::Remove(symbol) => {
            config.remove(symbol);
            Ok(())
        }
    };
    if let Err(message) = result {
        prop_assert!(!message.is_empty());
        prop_assert_eq!(&*config, &before, "a failed edit changed the config");
    }
    Ok(())
}

#[test]
fn kconfig_edits_and_merges_of_bad_input_never_panic_and_fail_cleanly() {
    let strategy = (
        config_bytes(),
        prop::collection::vec(config_bytes(), 0..3),
        prop::collection::vec(edit(), 0..6),
        any::<bool>(),
    );
    run(
        "kconfig",
        512,
        strategy,
        |(base, fragments, edits, builtin)| {
            let mut config = match Config::parse_bytes(&base, Config::DEFAULT_PREFIX) {
                Ok(config) => config,
                Err(e) => {
                    // The message names the line (1-based) and column.
                    prop_assert!(e.line >= 1 && e.column >= 1, "{}", e);
                    return Ok(());
                }
            };
            for edit in &edits {
                apply(&mut config, edit)?;
            }
            let printed = config.to_string();
            prop_assert_eq!(&Config::parse(&printed).unwrap(), &config);
            let parsed: Vec<Config> = fragments
                .iter()
                .filter_map(|f| Config::parse_bytes(f, Config::DEFAULT_PREFIX).ok())
                .collect();
            let names: Vec<String> = (0..parsed.len()).map(|i| format!("f{i}")).collect();
            let list: Vec<Fragment<'_>> = parsed
                .iter()
                .zip(&names)
                .map(|(config, name)| Fragment { name, config })
                .collect();
            let merged = merge(&config, &list, MergeOptions { builtin });
            prop_assert_eq!(
                Config::parse(&merged.config.to_string()).unwrap(),
                merged.config
            );
            // One report per symbol and fragment.
            let mut reported = std::collections::HashSet::new();
            for r in &merged.redefinitions {
                prop_assert!(
                    reported.insert((r.symbol.clone(), r.fragment.clone())),
                    "{}",
                    r
                );
            }
            Ok(())
        },
    );
}

/// The real binary: `kconfig --file f.config set ...`, and `kconfig merge ... -o out`,
/// in a temp folder; a failure leaves every file as it was.
#[test]
fn kconfig_cli_on_bad_input_fails_cleanly() {
    let strategy = (
        config_bytes(),
        config_bytes(),
        prop::collection::vec((user_symbol(), user_value()), 1..4),
    );
    run(
        "kconfig-cli",
        12,
        strategy,
        |(file, fragment, assignments)| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("f.config"), &file).unwrap();
            std::fs::write(dir.path().join("frag.config"), &fragment).unwrap();
            let xtask = || {
                let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
                command
                    .current_dir(dir.path())
                    .env("NO_COLOR", "1")
                    .env("MINILINUX_BOARDS_DIR", dir.path().join("no-boards"))
                    .args(["kconfig", "--src", "no-src"]);
                command
            };
            let before = snapshot(dir.path());
            let set: Vec<String> = assignments
                .iter()
                .map(|(s, v)| format!("{s}={v}"))
                .filter(|a| !a.contains('\0'))
                .collect();
            let output = xtask()
                .args(["--file", "f.config", "set"])
                .args(&set)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            prop_assert!(!stderr.contains("panicked"), "{}", stderr);
            if !output.status.success() {
                prop_assert_eq!(&snapshot(dir.path()), &before, "{}", stderr);
                prop_assert!(stderr.contains("error: "), "{}", stderr);
                prop_assert!(
                    output.stdout.is_empty(),
                    "a diff was shown for a failed set"
                );
            }
            let before = snapshot(dir.path());
            let output = xtask()
                .args(["merge", "f.config", "frag.config", "-o", "out.config"])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            prop_assert!(!stderr.contains("panicked"), "{}", stderr);
            if !output.status.success() {
                prop_assert_eq!(&snapshot(dir.path()), &before, "{}", stderr);
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------- rootfs

/// A guest path as a manifest might (wrongly) give it.
fn guest_path() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "/[a-z]{1,3}(/[a-z.]{1,3}){0,2}",
        1 => "[a-z]{1,3}(/[a-z]{1,2})?",
        1 => prop::sample::select(vec!["/", "", ".", "/a/../..", "//x//", "/x/./y/", "/dev/console", "/bin/busybox"])
            .prop_map(str::to_string),
    ]
}

/// A TOML value for `mode`: octal, decimal, hex, strings, out of range.
fn mode() -> impl Strategy<Value = String> {
    prop_oneof![
        "0o[0-7]{1,5}",
        "[0-9]{1,5}",
        "-[0-9]{1,3}",
        "0x[0-9a-f]{1,4}",
        "\"0?[0-9]{1,5}\"",
        Just("\"rwx\"".to_string()),
        Just("7.5".to_string()),
    ]
}

/// A device number: in range, at the kernel's limits, beyond them.
fn device_number() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            0i64, 1, 5, 4095, 4096, 1048575, 1048576, 4294967295, 4294967296, -1,
        ])
        .prop_map(|n| n.to_string()),
        any::<u32>().prop_map(|n| n.to_string()),
    ]
}

/// An optional `mode = ...` line.
fn opt_mode() -> impl Strategy<Value = String> {
    prop::option::of(mode()).prop_map(|m| m.map_or(String::new(), |m| format!("mode = {m}\n")))
}

/// One `[[block]]` of a manifest, many of them wrong.
fn block() -> impl Strategy<Value = String> {
    let source = prop::sample::select(vec![
        "host.txt",
        "missing.txt",
        "ovl",
        "${nope}",
        "../outside",
        "",
        "big.bin",
    ]);
    prop_oneof![
        (
            guest_path(),
            prop::option::of(prop::collection::vec(guest_path(), 0..3)),
            opt_mode()
        )
            .prop_map(|(p, ps, m)| match ps {
                Some(ps) => format!("[[dir]]\npath = {p:?}\npaths = {ps:?}\n{m}"),
                None => format!("[[dir]]\npath = {p:?}\n{m}"),
            }),
        (guest_path(), source.clone(), opt_mode())
            .prop_map(|(p, s, m)| format!("[[file]]\npath = {p:?}\nsource = {s:?}\n{m}")),
        (guest_path(), "[ -~]{0,6}", opt_mode())
            .prop_map(|(p, c, m)| format!("[[file]]\npath = {p:?}\ncontents = {c:?}\n{m}")),
        (guest_path(), "[a-z./]{0,6}")
            .prop_map(|(p, t)| format!("[[symlink]]\npath = {p:?}\ntarget = {t:?}\n")),
        (guest_path(), guest_path())
            .prop_map(|(p, t)| format!("[[hardlink]]\npath = {p:?}\ntarget = {t:?}\n")),
        (
            guest_path(),
            prop::sample::select(vec!["char", "b", "fifo", "socket", "tape"]),
            prop::option::of(device_number()),
            prop::option::of(device_number()),
            opt_mode(),
        )
            .prop_map(|(p, t, ma, mi, m)| {
                let mut text = format!("[[node]]\npath = {p:?}\ntype = {t:?}\n{m}");
                if let Some(ma) = ma {
                    text.push_str(&format!("major = {ma}\n"));
                }
                if let Some(mi) = mi {
                    text.push_str(&format!("minor = {mi}\n"));
                }
                text
            }),
        (source.clone(), prop::option::of(guest_path())).prop_map(|(s, p)| match p {
            Some(p) => format!("[[overlay]]\nsource = {s:?}\npath = {p:?}\n"),
            None => format!("[[overlay]]\nsource = {s:?}\n"),
        }),
        (guest_path(), prop::collection::vec(guest_path(), 0..2)).prop_map(|(b, ex)| format!(
            "[[busybox_links]]\nlist = \"links.txt\"\nbinary = {b:?}\nexclude = {ex:?}\n"
        )),
        Just("[[gen_init_cpio]]\nlist = \"list.txt\"\n".to_string()),
        "[ -~\n]{0,20}",
    ]
}

/// Lines of a `gen_init_cpio` list or a `busybox.links` file, many wrong.
fn list_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        (guest_path(), device_number(), device_number())
            .prop_map(|(p, a, b)| format!("nod {p} 0600 0 0 c {a} {b}")),
        guest_path().prop_map(|p| format!("dir {p} 0755 0 0")),
        guest_path().prop_map(|p| format!("file {p} host.txt 0644 0 0")),
        guest_path(),
        "[ -~]{0,12}",
    ];
    prop::collection::vec(line, 0..5).prop_map(|lines| lines.join("\n"))
}

#[test]
fn rootfs_pack_of_bad_manifests_never_panics_and_writes_nothing_on_error() {
    let strategy = (
        prop::collection::vec(block(), 0..6),
        list_text(),
        list_text(),
        prop::sample::select(rootfs::Compression::ALL.to_vec()),
    );
    run(
        "rootfs-pack",
        256,
        strategy,
        |(blocks, list, links, compression)| {
            let dir = tempfile::tempdir().unwrap();
            let path = |p: &str| dir.path().join(p);
            std::fs::write(path("rootfs.toml"), blocks.concat()).unwrap();
            std::fs::write(path("list.txt"), &list).unwrap();
            std::fs::write(path("links.txt"), &links).unwrap();
            std::fs::write(path("host.txt"), "host\n").unwrap();
            std::fs::write(path("big.bin"), vec![0u8; 70_000]).unwrap();
            std::fs::create_dir_all(path("ovl/etc")).unwrap();
            std::fs::write(path("ovl/etc/motd"), "hi\n").unwrap();
            std::os::unix::fs::symlink("motd", path("ovl/etc/issue")).unwrap();
            let options = rootfs::PackOptions {
                manifest: path("rootfs.toml"),
                vars: BTreeMap::new(),
                compression,
                mtime: 0,
            };
            let before = snapshot(dir.path());
            let out = path("initramfs.cpio");
            match rootfs::pack(&options, &out) {
                Ok(report) => {
                    let archive = std::fs::read(&out).unwrap();
                    let entries = rootfs::list(&archive).unwrap();
                    prop_assert_eq!(entries.len(), report.entries);
                    let mut after = snapshot(dir.path());
                    after.remove(&out);
                    prop_assert_eq!(after, before);
                }
                Err(e) => {
                    prop_assert!(!e.to_string().is_empty());
                    prop_assert_eq!(snapshot(dir.path()), before, "{}", e);
                }
            }
            Ok(())
        },
    );
}
