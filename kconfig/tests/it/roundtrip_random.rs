//! Randomised properties (proptest): whatever parses prints back byte-identical, parsing
//! never panics, edits keep untouched lines, and merge equals "apply in order".

use std::collections::HashMap;

use kconfig::{merge, Config, Fragment, MergeOptions, Value};
use proptest::prelude::*;

fn symbol() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z][A-Z0-9_]{0,12}",
        // A few fixed names so that fragments overlap and redefine each other.
        prop::sample::select(vec!["A", "B", "CMDLINE", "HZ", "X_1"]).prop_map(str::to_string),
    ]
}

fn value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["y", "m", "n"]).prop_map(str::to_string),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<u64>().prop_map(|h| format!("0x{h:x}")),
        any::<u64>().prop_map(|h| format!("0X{h:08X}")),
        ".*".prop_map(|s: String| kconfig::quote(&s.replace(['\n', '\r'], ""))),
    ]
}

/// One valid line, without its `\n`.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (symbol(), value_text(), "[ \t]{0,2}").prop_map(|(s, v, ws)| format!("CONFIG_{s}={v}{ws}")),
        2 => symbol().prop_map(|s| format!("# CONFIG_{s} is not set")),
        1 => "#[^\n]*".prop_map(|s| s.to_string()),
        1 => "[ \t]{0,3}".prop_map(|s| s.to_string()),
    ]
}

/// A valid file: lines joined by `\n` or `\r\n`, with or without a final newline.
fn file() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(line(), 0..40),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, crlf, final_newline)| {
            let separator = if crlf { "\r\n" } else { "\n" };
            let mut text = lines.join(separator);
            if final_newline && !lines.is_empty() {
                text.push_str(separator);
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn valid_files_parse_and_print_back_byte_identical(text in file()) {
        let config = Config::parse(&text).unwrap();
        prop_assert_eq!(config.to_string(), text);
    }

    #[test]
    fn arbitrary_text_never_panics_and_what_parses_prints_back(text in "(CONFIG_|# |\"|\\\\|=|y|0x|[ -~]|\n|\r|\u{e9})*") {
        if let Ok(config) = Config::parse(&text) {
            prop_assert_eq!(config.to_string(), text);
        }
    }

    #[test]
    fn edits_keep_every_other_line_and_reparse(
        text in file(),
        edits in prop::collection::vec((symbol(), value_text()), 1..8),
    ) {
        let original = Config::parse(&text).unwrap();
        let mut config = original.clone();
        let mut expected: HashMap<String, Value> = HashMap::new();
        for (symbol, text) in &edits {
            let value = Value::from_user(text, None).unwrap();
            config.set(symbol, value.clone()).unwrap();
            expected.insert(symbol.clone(), value);
        }
        let reparsed = Config::parse(&config.to_string()).unwrap();
        prop_assert_eq!(&reparsed, &config);
        for (symbol, value) in &expected {
            prop_assert_eq!(config.get(symbol), Some(value));
        }
        // A CRLF file stays CRLF: every line ends in `\r\n`, the added ones too.
        let bare_lf = |t: &str| t.replace("\r\n", "").contains('\n');
        if original.crlf() && !bare_lf(&text) {
            let out = config.to_string();
            prop_assert!(!bare_lf(&out), "a bare LF in {:?}", out);
        }
        // Lines of the original that do not assign an edited symbol are all still there,
        // in order (the last line may have gained the newline it lacked, and in a CRLF
        // file its `\r`).
        let kept: Vec<&str> = original
            .lines()
            .iter()
            .filter(|l| l.assignment_parts().is_none_or(|(s, _)| !expected.contains_key(s)))
            .map(|l| l.text().trim_end_matches('\r'))
            .collect();
        let now: Vec<&str> = config
            .lines()
            .iter()
            .map(|l| l.text().trim_end_matches('\r'))
            .collect();
        let mut position = 0;
        for line in kept {
            let found = now[position..].iter().position(|l| *l == line);
            prop_assert!(found.is_some(), "line {:?} lost", line);
            position += found.unwrap_or(0) + 1;
        }
    }

    #[test]
    fn merge_equals_applying_assignments_in_order(
        base in file(),
        fragments in prop::collection::vec(file(), 0..4),
        builtin in any::<bool>(),
    ) {
        let base = Config::parse(&base).unwrap();
        let fragments: Vec<Config> = fragments.iter().map(|f| Config::parse(f).unwrap()).collect();
        let names: Vec<String> = (0..fragments.len()).map(|i| format!("f{i}")).collect();
        let list: Vec<Fragment<'_>> = fragments
            .iter()
            .zip(&names)
            .map(|(config, name)| Fragment { name, config })
            .collect();
        let merged = merge(&base, &list, MergeOptions { builtin });

        let mut model: HashMap<&str, &Value> = base.assignments().collect();
        for fragment in &fragments {
            let before = model.clone();
            for (symbol, value) in fragment.assignments() {
                let keep = builtin
                    && before.get(symbol).is_some_and(|v| **v == Value::Tristate(kconfig::Tristate::Yes))
                    && *value == Value::Tristate(kconfig::Tristate::Module);
                if !keep {
                    model.insert(symbol, value);
                }
            }
        }
        let got: HashMap<&str, &Value> = merged.config.assignments().collect();
        prop_assert_eq!(got, model);
        let reparsed = Config::parse(&merged.config.to_string()).unwrap();
        prop_assert_eq!(reparsed, merged.config);
    }
}
