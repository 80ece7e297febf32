//! The light Kconfig scan: entries, types, `depends on`, blocks, help text, suggestions.

use std::path::Path;

use expect_test::{expect, Expect};
use kconfig::SymbolIndex;

const KCONFIG: &str = r#"# SPDX-License-Identifier: GPL-2.0
menu "Device drivers"
	depends on HAS_IOMEM

config FOO
	tristate "Foo support"
	depends on BAR && !BAZ
	select QUX if BAR
	help
	  This enables foo.
	  config NOT_A_SYMBOL is help text

	  more help.

if NETDEVICES

menuconfig NET_X
	bool "X" if EXPERT
	default y

config LONG
	int
	depends on A || \
		B

endif # NETDEVICES

choice
	prompt "Pick"
	depends on PICKY
config PICK_A
	bool "a"
config PICK_B
	bool "b"
endchoice

comment "just a comment"
	depends on FOO

config BASE
	hex "base" # a comment
	default 0x1000

endmenu

config QUX
	bool

config STR
	string
	---help---
	  Old-style help.
config FOO
	def_bool y
"#;

fn render(index: &SymbolIndex) -> String {
    let mut symbols: Vec<&str> = index.symbols().collect();
    symbols.sort();
    let mut out = String::new();
    for symbol in symbols {
        for d in index.definitions(symbol) {
            let ty = d.symbol_type.map_or("?".to_string(), |t| t.to_string());
            let choice = if d.in_choice { " (choice)" } else { "" };
            out.push_str(&format!(
                "{symbol} {ty} {}:{}{choice} depends {:?}\n",
                d.file.display(),
                d.line,
                d.depends_on
            ));
        }
        for s in index.selectors(symbol) {
            out.push_str(&format!(
                "{symbol} selected by {} at {}:{}\n",
                s.by,
                s.file.display(),
                s.line
            ));
        }
    }
    out
}

fn check(text: &str, expect: Expect) {
    let mut index = SymbolIndex::default();
    index.add_file(Path::new("drivers/Kconfig"), text);
    expect.assert_eq(&render(&index));
}

#[test]
fn entries_types_dependencies_and_blocks() {
    check(
        KCONFIG,
        expect![[r#"
            BASE hex drivers/Kconfig:40 depends ["HAS_IOMEM"]
            FOO tristate drivers/Kconfig:5 depends ["BAR && !BAZ", "HAS_IOMEM"]
            FOO bool drivers/Kconfig:53 depends []
            LONG int drivers/Kconfig:21 depends ["A || B", "NETDEVICES", "HAS_IOMEM"]
            NET_X bool drivers/Kconfig:17 depends ["NETDEVICES", "HAS_IOMEM"]
            PICK_A bool drivers/Kconfig:31 (choice) depends ["PICKY", "HAS_IOMEM"]
            PICK_B bool drivers/Kconfig:33 (choice) depends ["PICKY", "HAS_IOMEM"]
            QUX bool drivers/Kconfig:46 depends []
            QUX selected by FOO at drivers/Kconfig:8
            STR string drivers/Kconfig:49 depends []
        "#]],
    );
}

#[test]
fn suggestions_for_typos() {
    let mut index = SymbolIndex::default();
    index.add_file(
        Path::new("Kconfig"),
        "config CMDLINE\n\tstring\nconfig CMDLINE_FORCE\n\tbool\nconfig TMPFS\n\tbool\nconfig X\n\tbool\n",
    );
    let mut out = String::new();
    for typo in [
        "CMDLIN",
        "CMDLINE_FORC",
        "TMPF",
        "TMPFS_XATTR_EXTRA",
        "Y",
        "NOTHING_LIKE_IT",
    ] {
        out.push_str(&format!("{typo} -> {:?}\n", index.suggest(typo)));
    }
    expect![[r#"
        CMDLIN -> Some("CMDLINE")
        CMDLINE_FORC -> Some("CMDLINE_FORCE")
        TMPF -> Some("TMPFS")
        TMPFS_XATTR_EXTRA -> None
        Y -> None
        NOTHING_LIKE_IT -> None
    "#]]
    .assert_eq(&out);
}

#[test]
fn scanning_a_tree_walks_kconfig_files_and_skips_other_arches() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("Kconfig", "config TOP\n\tbool\n");
    write("arch/arm/Kconfig", "config ARM\n\tdef_bool y\n");
    write("arch/x86/Kconfig", "config X86\n\tdef_bool y\n");
    write("arch/Kconfig", "config HAVE_ARCH\n\tbool\n");
    write("drivers/net/Kconfig.debug", "config NET_DEBUG\n\tbool\n");
    write("drivers/net/README", "config NOT_KCONFIG\n\tbool\n");
    write("scripts/kconfig/tests/choice/Kconfig", "config A\n\tbool\n");
    let all = SymbolIndex::scan(dir.path(), None).unwrap();
    let arm = SymbolIndex::scan(dir.path(), Some("arm")).unwrap();
    let x86_64 = SymbolIndex::scan(dir.path(), Some("x86_64")).unwrap();
    let mut out = render(&all);
    out.push_str("--- arm only\n");
    out.push_str(&render(&arm));
    out.push_str("--- ARCH=x86_64 reads arch/x86\n");
    out.push_str(&render(&x86_64));
    expect![[r#"
        ARM bool arch/arm/Kconfig:1 depends []
        HAVE_ARCH bool arch/Kconfig:1 depends []
        NET_DEBUG bool drivers/net/Kconfig.debug:1 depends []
        TOP bool Kconfig:1 depends []
        X86 bool arch/x86/Kconfig:1 depends []
        --- arm only
        ARM bool arch/arm/Kconfig:1 depends []
        HAVE_ARCH bool arch/Kconfig:1 depends []
        NET_DEBUG bool drivers/net/Kconfig.debug:1 depends []
        TOP bool Kconfig:1 depends []
        --- ARCH=x86_64 reads arch/x86
        HAVE_ARCH bool arch/Kconfig:1 depends []
        NET_DEBUG bool drivers/net/Kconfig.debug:1 depends []
        TOP bool Kconfig:1 depends []
        X86 bool arch/x86/Kconfig:1 depends []
    "#]]
    .assert_eq(&out);
}

#[test]
fn busybox_trees_also_read_config_comments_in_c_sources() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Config.in"),
        "config STATIC\n\tbool \"static\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("coreutils")).unwrap();
    std::fs::write(
        dir.path().join("coreutils/cat.c"),
        "/* cat */\n//config:config CAT\n//config:\tbool \"cat\"\n//config:\tdepends on !NOMMU\n//kbuild:lib-y += cat.o\nint main;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("coreutils/Config.src"),
        "config DESKTOP\n\tbool\n",
    )
    .unwrap();
    let index = SymbolIndex::scan(dir.path(), None).unwrap();
    expect![[r#"
        CAT bool coreutils/cat.c:2 depends ["!NOMMU"]
        DESKTOP bool coreutils/Config.src:1 depends []
        STATIC bool Config.in:1 depends []
    "#]]
    .assert_eq(&render(&index));
}

#[test]
fn scanning_a_missing_tree_is_an_error() {
    let error = SymbolIndex::scan(Path::new("/nonexistent/kernel"), None).unwrap_err();
    expect!["cannot read /nonexistent/kernel: No such file or directory (os error 2)"]
        .assert_eq(&error.to_string());
}
