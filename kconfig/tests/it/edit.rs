//! Edits: only the lines that must change do; new symbols are appended.

use expect_test::{expect, Expect};
use kconfig::{Config, Value};

enum Edit<'a> {
    Set(&'a str, &'a str),
    Unset(&'a str),
    Remove(&'a str),
}

/// Applies `edits` (values as a person types them) and shows each result and the file.
fn check(input: &str, edits: &[Edit<'_>], expect: Expect) {
    let mut config = Config::parse(input).unwrap();
    let mut out = String::new();
    for edit in edits {
        let (name, result) = match edit {
            Edit::Set(symbol, text) => {
                let value = Value::from_user(text, None).unwrap();
                (
                    format!("set {symbol}={text}"),
                    config.set(symbol, value).map_err(|e| e.to_string()),
                )
            }
            Edit::Unset(symbol) => (
                format!("unset {symbol}"),
                config.unset(symbol).map_err(|e| e.to_string()),
            ),
            Edit::Remove(symbol) => (format!("remove {symbol}"), Ok(config.remove(symbol))),
        };
        out.push_str(&format!("{name}: {result:?}\n"));
    }
    out.push_str("---\n");
    out.push_str(&config.to_string());
    let reparsed = Config::parse(&config.to_string()).unwrap();
    assert_eq!(
        reparsed, config,
        "an edited config must parse back to itself"
    );
    expect.assert_eq(&out);
}

#[test]
fn set_rewrites_only_the_assignment_line() {
    check(
        "# kernel fragment\nCONFIG_CMDLINE=\"root=1f03 mem=32M\"  \n# CONFIG_TMPFS is not set\nCONFIG_X=y\n",
        &[
            Edit::Set("CMDLINE", "console=ttyAMA0 root=/dev/ram0"),
            Edit::Set("TMPFS", "y"),
            Edit::Set("X", "y"),
        ],
        expect![[r#"
            set CMDLINE=console=ttyAMA0 root=/dev/ram0: Ok(true)
            set TMPFS=y: Ok(true)
            set X=y: Ok(false)
            ---
            # kernel fragment
            CONFIG_CMDLINE="console=ttyAMA0 root=/dev/ram0"
            CONFIG_TMPFS=y
            CONFIG_X=y
        "#]],
    );
}

#[test]
fn new_symbols_are_appended_even_without_a_final_newline() {
    check(
        "CONFIG_A=y",
        &[
            Edit::Set("B", "m"),
            Edit::Set("HZ", "100"),
            Edit::Set("BASE", "0x8000"),
        ],
        expect![[r#"
            set B=m: Ok(true)
            set HZ=100: Ok(true)
            set BASE=0x8000: Ok(true)
            ---
            CONFIG_A=y
            CONFIG_B=m
            CONFIG_HZ=100
            CONFIG_BASE=0x8000
        "#]],
    );
    check(
        "",
        &[Edit::Unset("A")],
        expect![[r#"
        unset A: Ok(true)
        ---
        # CONFIG_A is not set
    "#]],
    );
}

#[test]
fn strings_given_bare_are_quoted_and_escaped() {
    check(
        "",
        &[
            Edit::Set("S", r#"say "hi" \ bye"#),
            Edit::Set("Q", r#""already quoted""#),
            Edit::Set("N", "n"),
        ],
        expect![[r#"
            set S=say "hi" \ bye: Ok(true)
            set Q="already quoted": Ok(true)
            set N=n: Ok(true)
            ---
            CONFIG_S="say \"hi\" \\ bye"
            CONFIG_Q="already quoted"
            # CONFIG_N is not set
        "#]],
    );
}

#[test]
fn duplicate_assignments_change_only_the_one_kconfig_obeys() {
    check(
        "CONFIG_A=y\nCONFIG_B=y\nCONFIG_A=m\n",
        &[Edit::Set("A", "n")],
        expect![[r#"
            set A=n: Ok(true)
            ---
            CONFIG_A=y
            CONFIG_B=y
            # CONFIG_A is not set
        "#]],
    );
}

#[test]
fn unset_and_remove() {
    check(
        "CONFIG_A=y\n# note\nCONFIG_B=y\nCONFIG_A=m\n",
        &[
            Edit::Unset("B"),
            Edit::Remove("A"),
            Edit::Remove("MISSING"),
            Edit::Unset("B"),
        ],
        expect![[r#"
            unset B: Ok(true)
            remove A: Ok(true)
            remove MISSING: Ok(false)
            unset B: Ok(false)
            ---
            # note
            # CONFIG_B is not set
        "#]],
    );
}

#[test]
fn edits_that_would_break_the_file_are_refused() {
    check(
        "CONFIG_A=y\n",
        &[
            Edit::Set("BAD NAME", "y"),
            Edit::Set("", "y"),
            Edit::Set("S", "two\nlines"),
        ],
        expect![[r#"
            set BAD NAME=y: Err("invalid symbol name `BAD NAME`; use letters, digits and `_` only")
            set =y: Err("invalid symbol name ``; use letters, digits and `_` only")
            set S=two
            lines: Err("the value of CONFIG_S contains a line break; a .config value must fit on one line")
            ---
            CONFIG_A=y
        "#]],
    );
}

#[test]
fn typed_values_from_the_command_line() {
    use kconfig::SymbolType::{Bool, Hex, Int, Tristate};
    let mut out = String::new();
    for (text, symbol_type) in [
        ("y", None),
        ("m", None),
        ("n", None),
        ("42", None),
        ("-1", None),
        ("0x1000", None),
        ("hello world", None),
        ("\"quoted \\\" inside\"", None),
        ("\"unterminated", None),
        ("\"a\"b\"", None),
        ("m", Some(Bool)),
        ("y", Some(Bool)),
        ("42", Some(kconfig::SymbolType::String)),
        ("y", Some(kconfig::SymbolType::String)),
        ("abc", Some(Int)),
        ("1000", Some(Hex)),
        ("zz", Some(Hex)),
        ("\"1\"", Some(Tristate)),
    ] {
        let result = kconfig::Value::from_user(text, symbol_type);
        let shown = match result {
            Ok(v) => format!("{v:?}"),
            Err(e) => format!("error: {e}"),
        };
        out.push_str(&format!(
            "{text:<22} {:<10} {shown}\n",
            format!("{symbol_type:?}")
        ));
    }
    expect![[r#"
        y                      None       Tristate(Yes)
        m                      None       Tristate(Module)
        n                      None       NotSet
        42                     None       Int(42)
        -1                     None       Int(-1)
        0x1000                 None       Hex("0x1000")
        hello world            None       Str("hello world")
        "quoted \" inside"     None       Str("quoted \" inside")
        "unterminated          None       error: unterminated string "unterminated; close it with a double quote
        "a"b"                  None       error: "a"b": `b"` after the closing quote; escape a quote inside the string as \", e.g. "a\"b"
        m                      Some(Bool) error: bool symbol cannot take m; use y or n
        y                      Some(Bool) Tristate(Yes)
        42                     Some(String) Str("42")
        y                      Some(String) Str("y")
        abc                    Some(Int)  error: int symbol cannot take abc; use a decimal number
        1000                   Some(Hex)  Hex("0x1000")
        zz                     Some(Hex)  error: hex symbol cannot take zz; use a hexadecimal number such as 0x1000
        "1"                    Some(Tristate) error: tristate symbol cannot take "1"; use y, m or n
    "#]].assert_eq(&out);
}

/// Issue 18: a CRLF file keeps CRLF endings, on rewritten and on added lines.
#[test]
fn crlf_files_stay_crlf() {
    let show = |config: &Config| config.to_string().replace('\r', "\\r");
    let mut config = Config::parse("# crlf\r\nCONFIG_A=y\r\nCONFIG_B=y").unwrap();
    assert!(config.crlf());
    config
        .set("A", Value::Tristate(kconfig::Tristate::Module))
        .unwrap();
    config.set("C", Value::Int(3)).unwrap();
    config.unset("D").unwrap();
    expect![[r#"
        # crlf\r
        CONFIG_A=m\r
        CONFIG_B=y\r
        CONFIG_C=3\r
        # CONFIG_D is not set\r
    "#]]
    .assert_eq(&show(&config));
    let mut lf = Config::parse("CONFIG_A=y\n").unwrap();
    assert!(!lf.crlf());
    lf.set("B", Value::Int(1)).unwrap();
    expect![[r#"
        CONFIG_A=y
        CONFIG_B=1
    "#]]
    .assert_eq(&show(&lf));
}
