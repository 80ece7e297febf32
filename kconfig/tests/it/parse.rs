//! Parsing: what each line means, byte-identical printing, and errors for bad lines.

use expect_test::{expect, Expect};
use kconfig::{Config, LineKind};

/// Parses `input`, checks it prints back unchanged, and renders one line per input line.
fn check_with_prefix(prefix: &str, input: &str, expect: Expect) {
    let actual = match Config::parse_with_prefix(input, prefix) {
        Ok(config) => {
            assert_eq!(config.to_string(), input, "printing changed the bytes");
            let mut out = String::new();
            for line in config.lines() {
                let kind = match (line.kind(), line.symbol()) {
                    (LineKind::Blank, _) => "blank".to_string(),
                    (LineKind::Comment, _) => "comment".to_string(),
                    (LineKind::Assignment(value), Some(symbol)) => format!("{symbol} = {value:?}"),
                    (LineKind::Assignment(value), None) => format!("? = {value:?}"),
                };
                out.push_str(&format!(
                    "{kind:<32} | {}\n",
                    line.text().replace('\r', "\\r").replace('\t', "\\t")
                ));
            }
            if !config.has_final_newline() {
                out.push_str("(no final newline)\n");
            }
            out
        }
        Err(e) => format!("error: {e}\n"),
    };
    expect.assert_eq(&actual);
}

fn check(input: &str, expect: Expect) {
    check_with_prefix(Config::DEFAULT_PREFIX, input, expect);
}

#[test]
fn tristates_numbers_and_not_set() {
    check(
        "CONFIG_A=y\nCONFIG_B=m\nCONFIG_C=n\n# CONFIG_D is not set\nCONFIG_E=-12\nCONFIG_F=0x1F\nCONFIG_G=0\nCONFIG_PORT=34c\n",
        expect![[r#"
            A = Tristate(Yes)                | CONFIG_A=y
            B = Tristate(Module)             | CONFIG_B=m
            C = Tristate(No)                 | CONFIG_C=n
            D = NotSet                       | # CONFIG_D is not set
            E = Int(-12)                     | CONFIG_E=-12
            F = Hex("0x1F")                  | CONFIG_F=0x1F
            G = Int(0)                       | CONFIG_G=0
            PORT = Hex("34c")                | CONFIG_PORT=34c
        "#]],
    );
}

#[test]
fn strings_unescape_quotes_and_backslashes() {
    check(
        r#"CONFIG_CMDLINE="console=ttyAMA0 root=/dev/ram0"
CONFIG_Q="say \"hi\" \\ bye"
CONFIG_EMPTY=""
"#,
        expect![[r#"
            CMDLINE = Str("console=ttyAMA0 root=/dev/ram0") | CONFIG_CMDLINE="console=ttyAMA0 root=/dev/ram0"
            Q = Str("say \"hi\" \\ bye")     | CONFIG_Q="say \"hi\" \\ bye"
            EMPTY = Str("")                  | CONFIG_EMPTY=""
        "#]],
    );
}

#[test]
fn comments_blank_lines_and_trailing_whitespace_are_kept() {
    check(
        "#\n# Automatically generated file; DO NOT EDIT.\n\n   \t\n#CONFIG_X is not set\n# CONFIG_Y is not set, really\nCONFIG_Z=y  \n# CONFIG_W is not set \n",
        expect![[r#"
            comment                          | #
            comment                          | # Automatically generated file; DO NOT EDIT.
            blank                            | 
            blank                            |    \t
            comment                          | #CONFIG_X is not set
            comment                          | # CONFIG_Y is not set, really
            Z = Tristate(Yes)                | CONFIG_Z=y  
            W = NotSet                       | # CONFIG_W is not set 
        "#]],
    );
}

#[test]
fn missing_final_newline_and_crlf() {
    check(
        "CONFIG_A=y\r\nCONFIG_B=\"x\"\r\nCONFIG_C=m",
        expect![[r#"
            A = Tristate(Yes)                | CONFIG_A=y\r
            B = Str("x")                     | CONFIG_B="x"\r
            C = Tristate(Module)             | CONFIG_C=m
            (no final newline)
        "#]],
    );
    check("", expect![[""]]);
    check(
        "\n",
        expect![[r#"
        blank                            | 
    "#]],
    );
}

#[test]
fn other_prefixes() {
    check_with_prefix(
        "BR2_",
        "BR2_arm=y\n# BR2_x86_64 is not set\nBR2_TARGET_GENERIC_HOSTNAME=\"buildroot\"\n",
        expect![[r#"
            arm = Tristate(Yes)              | BR2_arm=y
            x86_64 = NotSet                  | # BR2_x86_64 is not set
            TARGET_GENERIC_HOSTNAME = Str("buildroot") | BR2_TARGET_GENERIC_HOSTNAME="buildroot"
        "#]],
    );
    check_with_prefix(
        "BR2_",
        "CONFIG_A=y\n",
        expect![[r#"
            error: line 1, column 1: expected `BR2_NAME=value`, a `#` comment or a blank line, found `CONFIG_A=y`
        "#]],
    );
}

#[test]
fn bad_lines_name_line_column_and_what_was_expected() {
    check(
        "CONFIG_A=y\nCONFIG_B=yes\n",
        expect![[r#"
            error: line 2, column 10: expected y, m, n, a decimal or hex number or a double-quoted string, found `yes`
        "#]],
    );
    check(
        "CONFIG_A=\"open\n",
        expect![[r#"
            error: line 1, column 15: expected a closing `"`, found end of line
        "#]],
    );
    check(
        "CONFIG_A=\"x\" trailing\n",
        expect![[r#"
            error: line 1, column 14: expected end of line after the value, found `trailing`
        "#]],
    );
    check(
        "CONFIG_A y\n",
        expect![[r#"
            error: line 1, column 9: expected `=` after the symbol name, found ` y`
        "#]],
    );
    check(
        "CONFIG_=y\n",
        expect![[r#"
            error: line 1, column 8: expected a symbol name (letters, digits, `_`), found `=y`
        "#]],
    );
    check(
        "CONFIG_A=\n",
        expect![[r#"
            error: line 1, column 10: expected y, m, n, a decimal or hex number or a double-quoted string, found end of line
        "#]],
    );
    check(
        "  CONFIG_A=y\n",
        expect![[r#"
            error: line 1, column 1: expected `CONFIG_NAME=value`, a `#` comment or a blank line, found `  CONFIG_A=y`
        "#]],
    );
    check(
        "CONFIG_N=99999999999999999999\n",
        expect![[r#"
            error: line 1, column 10: expected y, m, n, a decimal or hex number or a double-quoted string, found `99999999999999999999`
        "#]],
    );
}

#[test]
fn errors_name_the_file_when_told() {
    let error = Config::parse("ok\n")
        .unwrap_err()
        .in_file("boards/x/linux.config");
    expect!["boards/x/linux.config:1:1: expected `CONFIG_NAME=value`, a `#` comment or a blank line, found `ok`"]
        .assert_eq(&error.to_string());
}

#[test]
fn the_last_assignment_of_a_symbol_wins() {
    let config = Config::parse("CONFIG_A=y\nCONFIG_B=y\nCONFIG_A=m\n").unwrap();
    let effective: Vec<String> = config
        .assignments()
        .map(|(s, v)| format!("{s}={v}"))
        .collect();
    expect![[r#"["B=y", "A=m"]"#]].assert_eq(&format!("{effective:?}"));
    assert_eq!(config.symbol_count(), 2);
}

/// Issue 18: bytes that are not UTF-8 are an error at their line and column, the line shown
/// with the bytes escaped; the prefix in "expected" is the file's own.
#[test]
fn non_utf8_bytes_and_wrong_prefixes_name_line_and_column() {
    let show = |bytes: &[u8], prefix: &str| match Config::parse_bytes(bytes, prefix) {
        Ok(config) => format!("ok: {} lines", config.lines().len()),
        Err(e) => e.in_file("f.config").to_string(),
    };
    expect![[r#"f.config:3:14: expected UTF-8 text (a .config is UTF-8; re-save the file as UTF-8), found `\xe9 x"`"#]].assert_eq(&show(b"CONFIG_A=y\n# caf\xc3\xa9\nCONFIG_B=\"caf\xe9 x\"\nCONFIG_C=y\n", "CONFIG_"));
    expect![[r#"f.config:1:1: expected UTF-8 text (a .config is UTF-8; re-save the file as UTF-8), found `\xff`"#]].assert_eq(&show(b"\xff\n", "CONFIG_"));
    expect!["ok: 1 lines"].assert_eq(&show("CONFIG_A=\"é\"\n".as_bytes(), "CONFIG_"));
    expect!["f.config:1:1: expected `BR2_NAME=value`, a `#` comment or a blank line, found `CONFIG_A=y`"].assert_eq(&show(b"CONFIG_A=y\n", "BR2_"));
}
