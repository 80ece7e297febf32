//! Merging: merge_config.sh layout, later wins, every redefinition reported, `-y`.

use expect_test::{expect, Expect};
use kconfig::{merge, Config, Fragment, MergeOptions};

/// Merges `fragments` onto `base` and shows the reports and the merged text.
fn check(base: &str, fragments: &[(&str, &str)], builtin: bool, expect: Expect) {
    let base = Config::parse(base).unwrap();
    let parsed: Vec<(&str, Config)> = fragments
        .iter()
        .map(|(name, text)| (*name, Config::parse(text).unwrap()))
        .collect();
    let fragments: Vec<Fragment<'_>> = parsed
        .iter()
        .map(|(name, config)| Fragment { name, config })
        .collect();
    let merged = merge(&base, &fragments, MergeOptions { builtin });
    let mut out = String::new();
    for redefinition in &merged.redefinitions {
        out.push_str(&format!("{redefinition}\n"));
    }
    out.push_str("---\n");
    out.push_str(&merged.config.to_string());
    expect.assert_eq(&out);
}

#[test]
fn later_fragments_win_and_redefinitions_name_the_fragment() {
    check(
        "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"old\"\nCONFIG_D=y\n",
        &[
            ("one.config", "CONFIG_B=y\nCONFIG_C=\"new\"\n"),
            (
                "two.config",
                "# comment of two\nCONFIG_B=m\nCONFIG_E=y\nCONFIG_D=y\n",
            ),
        ],
        false,
        expect![[r#"
            CONFIG_B: n -> y (one.config)
            CONFIG_C: "old" -> "new" (one.config)
            CONFIG_B: y -> m (two.config)
            ---
            CONFIG_A=y

            CONFIG_C="new"

            # comment of two
            CONFIG_B=m
            CONFIG_E=y
            CONFIG_D=y
        "#]],
    );
}

#[test]
fn builtin_never_lowers_y_to_m() {
    check(
        "CONFIG_A=y\nCONFIG_B=m\n",
        &[("mods.config", "CONFIG_A=m\nCONFIG_B=y\n")],
        true,
        expect![[r#"
            CONFIG_A: y -> m (mods.config), kept y: builtin wins
            CONFIG_B: m -> y (mods.config)
            ---
            CONFIG_A=y

            CONFIG_B=y
        "#]],
    );
    check(
        "CONFIG_A=y\nCONFIG_B=m\n",
        &[("mods.config", "CONFIG_A=m\nCONFIG_B=y\n")],
        false,
        expect![[r#"
            CONFIG_A: y -> m (mods.config)
            CONFIG_B: m -> y (mods.config)
            ---

            CONFIG_A=m
            CONFIG_B=y
        "#]],
    );
}

#[test]
fn a_symbol_repeated_inside_one_fragment_is_reported() {
    check(
        "CONFIG_A=y\n",
        &[("twice.config", "CONFIG_X=y\nCONFIG_X=m\n")],
        false,
        expect![[r#"
            CONFIG_X: y -> m (twice.config)
            ---
            CONFIG_A=y

            CONFIG_X=y
            CONFIG_X=m
        "#]],
    );
}

/// Issue 18: a symbol is reported once per fragment, however often the fragment repeats it.
#[test]
fn a_redefinition_is_reported_once_per_fragment() {
    check(
        "CONFIG_A=y\n",
        &[("again.config", "CONFIG_A=y\nCONFIG_A=m\n")],
        false,
        expect![[r#"
            CONFIG_A: y -> m (again.config)
            ---

            CONFIG_A=y
            CONFIG_A=m
        "#]],
    );
    check(
        "CONFIG_A=y\n",
        &[("again.config", "CONFIG_A=m\nCONFIG_A=n\n")],
        false,
        expect![[r#"
            CONFIG_A: y -> n (again.config)
            ---

            CONFIG_A=m
            CONFIG_A=n
        "#]],
    );
}

#[test]
fn unterminated_base_gets_its_newline_instead_of_a_blank_line() {
    check(
        "CONFIG_A=y",
        &[("f", "CONFIG_B=y"), ("g", "CONFIG_C=y\n")],
        false,
        expect![[r#"
            ---
            CONFIG_A=y
            CONFIG_B=y
            CONFIG_C=y
        "#]],
    );
}

#[test]
fn merging_nothing_gives_the_base_back() {
    check(
        "# base\nCONFIG_A=y\n",
        &[],
        false,
        expect![[r#"
        ---
        # base
        CONFIG_A=y
    "#]],
    );
}
