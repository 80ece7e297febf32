//! After olddefconfig: what was dropped, and the explanation from the Kconfig sources.

use std::path::Path;

use expect_test::{expect, Expect};
use kconfig::{dropped, Config, SymbolIndex};

const KCONFIG: &str = "\
config PCI
	bool
config X86
	def_bool y
config DRM
	tristate \"DRM\"
config DRM_I915
	tristate \"i915\"
	depends on DRM && X86 && PCI
config MODULES
	bool
config BOOL_ON_TRISTATE
	bool \"b\"
	depends on DRM
config NEEDS_MODULES_OR_Y
	tristate \"x\"
	depends on DRM
config SELECTED
	bool
config SELECTOR
	bool
	select SELECTED
config HZ
	int \"hz\"
	depends on $(cc-option,-m32) || ARM_ARCH_TIMER = \"yes\"
config ODD
	bool \"odd\"
	depends on FOO ?? BAR
choice
	prompt \"mode\"
config MODE_A
	bool \"a\"
config MODE_B
	bool \"b\"
endchoice
if !X86
config ONLY_OFF_X86
	bool \"arm-only\"
endif
config ONLY_OFF_X86
	bool \"second definition\"
	depends on PCI
";

/// Shows each dropped value and its explanation from `KCONFIG`.
fn check(requested: &str, actual: &str, expect: Expect) {
    let requested = Config::parse(requested).unwrap();
    let actual = Config::parse(actual).unwrap();
    let mut index = SymbolIndex::default();
    index.add_file(Path::new("drivers/Kconfig"), KCONFIG);
    let mut out = String::new();
    for d in dropped(&requested, &actual) {
        out.push_str(&format!("{d}\n"));
        for line in d.explain(&index, &actual).to_string().lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    expect.assert_eq(&out);
}

#[test]
fn values_that_survived_are_not_reported() {
    check(
        "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=n\nCONFIG_H=0x10\nCONFIG_S=\"x\"\nCONFIG_D=100\n",
        "CONFIG_A=y\nCONFIG_H=0x0010\nCONFIG_S=\"x\"\nCONFIG_D=0x100\n# CONFIG_C is not set\n",
        expect![[""]],
    );
}

#[test]
fn unmet_dependencies_name_the_symbols_that_are_off() {
    check(
        "CONFIG_DRM_I915=y\nCONFIG_NEEDS_MODULES_OR_Y=y\nCONFIG_HZ=100\n",
        "CONFIG_DRM=m\n# CONFIG_PCI is not set\nCONFIG_NEEDS_MODULES_OR_Y=m\n",
        expect![[r#"
            CONFIG_DRM_I915: requested y, got nothing (not visible)
                drivers/Kconfig:7: depends on DRM && X86 && PCI (= n); off: CONFIG_X86, CONFIG_PCI
            CONFIG_NEEDS_MODULES_OR_Y: requested y, got m
                drivers/Kconfig:15: depends on DRM (= m)
            CONFIG_HZ: requested 100, got nothing (not visible)
                no unmet `depends on` found; a range, select, default or a parent menu decided
        "#]],
    );
}

#[test]
fn a_bool_takes_y_from_an_m_dependency_and_m_needs_modules() {
    check(
        "CONFIG_BOOL_ON_TRISTATE=y\n",
        "CONFIG_DRM=m\nCONFIG_MODULES=y\n",
        expect![[r#"
            CONFIG_BOOL_ON_TRISTATE: requested y, got nothing (not visible)
                no unmet `depends on` found; a range, select, default or a parent menu decided
        "#]],
    );
    check(
        "CONFIG_DRM=m\n",
        "CONFIG_DRM=y\n# CONFIG_MODULES is not set\n",
        expect![[r#"
            CONFIG_DRM: requested m, got y
                CONFIG_MODULES is off, so there are no modules
        "#]],
    );
}

#[test]
fn undefined_symbols_get_a_suggestion() {
    check(
        "CONFIG_DRM_I91=y\nCONFIG_ZZZZZZZZ=y\n",
        "",
        expect![[r#"
        CONFIG_DRM_I91: requested y, got nothing (not visible)
            no Kconfig entry defines it; did you mean CONFIG_DRM_I915?
        CONFIG_ZZZZZZZZ: requested y, got nothing (not visible)
            no Kconfig entry defines it
    "#]],
    );
}

#[test]
fn wrong_types_selects_choices_and_several_definitions() {
    check(
        "CONFIG_HZ=\"fast\"\n# CONFIG_SELECTED is not set\nCONFIG_MODE_B=y\nCONFIG_ONLY_OFF_X86=y\nCONFIG_ODD=y\n",
        "CONFIG_X86=y\nCONFIG_SELECTOR=y\nCONFIG_SELECTED=y\nCONFIG_MODE_A=y\n",
        expect![[r#"
            CONFIG_HZ: requested "fast", got nothing (not visible)
                drivers/Kconfig:23: declared int, which cannot take that value
            CONFIG_SELECTED: requested n, got y
                selected by CONFIG_SELECTOR
            CONFIG_MODE_B: requested y, got nothing (not visible)
                no unmet `depends on` found; it is a choice member: another may be chosen
            CONFIG_ONLY_OFF_X86: requested y, got nothing (not visible)
                drivers/Kconfig:37: depends on !X86 (= n); on: CONFIG_X86
                drivers/Kconfig:40: depends on PCI (= n); off: CONFIG_PCI
            CONFIG_ODD: requested y, got nothing (not visible)
                drivers/Kconfig:26: depends on FOO ?? BAR; off: CONFIG_FOO, CONFIG_BAR
        "#]],
    );
}
