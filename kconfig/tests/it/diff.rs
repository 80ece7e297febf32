//! Diffs: diffconfig-style symbol changes and unified text diffs.

use expect_test::{expect, Expect};
use kconfig::{unified_diff, Config, SymbolDiff};

fn check_symbols(old: &str, new: &str, expect: Expect) {
    let diff = SymbolDiff::between(&Config::parse(old).unwrap(), &Config::parse(new).unwrap());
    assert_eq!(diff.is_empty(), diff.to_string().is_empty());
    expect.assert_eq(&diff.to_string());
}

#[test]
fn symbol_diff_lists_removed_changed_and_added_sorted() {
    check_symbols(
        "CONFIG_Z=y\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_S=\"a\"\nCONFIG_N=n\nCONFIG_H=0x10\n",
        "CONFIG_S=\"b\"\nCONFIG_C=m\n# CONFIG_N is not set\nCONFIG_B=y\nCONFIG_H=0x0010\nCONFIG_D=100\n",
        expect![[r#"
            -A y
            -Z y
             B n -> y
             H 0x10 -> 0x0010
             S "a" -> "b"
            +C m
            +D 100
        "#]],
    );
    check_symbols("CONFIG_A=y\n", "# same\nCONFIG_A=y\n", expect![[""]]);
}

#[test]
fn unified_diff_plain_and_coloured() {
    let old = "CONFIG_A=y\nCONFIG_B=y\nCONFIG_C=y\nCONFIG_D=y\nCONFIG_E=y\nCONFIG_F=y\nCONFIG_G=y\nCONFIG_H=y\n";
    let new = old.replace("CONFIG_B=y", "CONFIG_B=m") + "CONFIG_I=y\n";
    expect![[r#"
        --- a/linux.config
        +++ b/linux.config
        @@ -1,8 +1,9 @@
         CONFIG_A=y
        -CONFIG_B=y
        +CONFIG_B=m
         CONFIG_C=y
         CONFIG_D=y
         CONFIG_E=y
         CONFIG_F=y
         CONFIG_G=y
         CONFIG_H=y
        +CONFIG_I=y
    "#]]
    .assert_eq(&unified_diff(
        old,
        &new,
        "a/linux.config",
        "b/linux.config",
        false,
    ));
    expect![[r#"\u{1b}[1m--- a\u{1b}[0m\n\u{1b}[1m+++ b\u{1b}[0m\n\u{1b}[36m@@ -1 +1 @@\u{1b}[0m\n\u{1b}[31m-CONFIG_A=y\u{1b}[0m\n\u{1b}[32m+CONFIG_A=m\u{1b}[0m\n"#]].assert_eq(
        &unified_diff("CONFIG_A=y\n", "CONFIG_A=m\n", "a", "b", true)
            .escape_debug()
            .to_string(),
    );
    assert_eq!(unified_diff(old, old, "a", "b", true), "");
}
