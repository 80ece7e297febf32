//! The Kconfig language on small trees written for each test: values, the written
//! `.config`, and the errors `conf` gives for bad input.

use std::path::Path;

use expect_test::{expect, Expect};
use kconfig::{Environment, Evaluation, Kconfig, LoadOptions, ShellCache};

/// Writes `files` (`name`, text; the first is the top file) into a temporary tree.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn load(dir: &Path, top: &str) -> Result<Kconfig, kconfig::LoadError> {
    let mut vars = std::collections::BTreeMap::new();
    vars.insert("ARCH".to_string(), "toy".to_string());
    let env = Environment::new(vars);
    let mut shell = ShellCache::new(&env);
    Kconfig::load(dir, Path::new(top), &env, &mut shell)
}

/// `olddefconfig` of `input` on the tree.
fn check(files: &[(&str, &str)], input: &str, expect: Expect) {
    let dir = tree(files);
    let tree = load(dir.path(), files[0].0).unwrap_or_else(|e| panic!("{e}"));
    expect.assert_eq(&Evaluation::olddefconfig(&tree, input));
}

fn check_error(files: &[(&str, &str)], expect: Expect) {
    let dir = tree(files);
    match load(dir.path(), files[0].0) {
        Ok(_) => panic!("loaded"),
        Err(e) => expect.assert_eq(&e.to_string()),
    }
}

#[test]
fn defaults_selects_menus_and_choices_are_written_as_conf_writes_them() {
    check(
        &[(
            "Kconfig",
            r#"mainmenu "Toy $(ARCH)"
config MODULES
	bool "modules"
	modules
menu "Drivers"
config A
	tristate "A"
	default m
	select B
config B
	bool
config C
	int "C"
	range 1 10
	default 20
endmenu
choice
	prompt "pick"
	default Y2
config Y1
	bool "one"
config Y2
	bool "two"
endchoice
comment "the end"
	depends on A
config S
	string "s"
	default "a \"q\""
"#,
        )],
        "CONFIG_MODULES=y\n",
        expect![[r#"
            #
            # Automatically generated file; DO NOT EDIT.
            # Toy toy
            #
            CONFIG_MODULES=y

            #
            # Drivers
            #
            CONFIG_A=m
            CONFIG_B=y
            CONFIG_C=10
            # end of Drivers

            # CONFIG_Y1 is not set
            CONFIG_Y2=y

            #
            # the end
            #
            CONFIG_S="a \"q\""
        "#]],
    );
}

#[test]
fn macros_variables_and_shell_expand_while_parsing() {
    check(
        &[(
            "Kconfig",
            r#"greet = hello $(1)
simple := $(shell,echo 4)
config N
	int "n"
	default $(simple)
config G
	string "g"
	default "$(greet,world)"
config OK
	def_bool $(shell,true && echo y)
"#,
        )],
        "",
        expect![[r#"
            #
            # Automatically generated file; DO NOT EDIT.
            # Main menu
            #
            CONFIG_N=4
            CONFIG_G="hello world"
            CONFIG_OK=y
        "#]],
    );
}

#[test]
fn user_values_hold_only_within_dependencies() {
    check(
        &[(
            "Kconfig",
            "config A\n\tbool \"a\"\nconfig B\n\tbool \"b\"\n\tdepends on A\nconfig H\n\thex \"h\"\n\tdefault 0x10\n",
        )],
        "CONFIG_B=y\nCONFIG_H=ff\n",
        expect![[r#"
            #
            # Automatically generated file; DO NOT EDIT.
            # Main menu
            #
            # CONFIG_A is not set
            CONFIG_H=ff
        "#]],
    );
}

#[test]
fn a_syntax_error_names_file_and_line() {
    check_error(
        &[("Kconfig", "config A\n\tbool \"a\"\n\tdepends A\n")],
        expect![[r#"Kconfig:3: syntax error"#]],
    );
    check_error(
        &[("Kconfig", "config A\n\tbool \"a\"\nfrobnicate A\n")],
        expect![[r#"Kconfig:3: unknown statement "frobnicate""#]],
    );
    check_error(
        &[("Kconfig", "menu \"m\"\nconfig A\n\tbool \"a\"\n")],
        expect![[r#"Kconfig:1: missing end statement for this entry"#]],
    );
    check_error(
        &[("Kconfig", "$(error-if,y,stop here)\n")],
        expect![[r#"Kconfig:1: stop here"#]],
    );
}

#[test]
fn a_source_loop_and_a_missing_file_are_errors() {
    check_error(
        &[
            ("Kconfig", "source \"a/Kconfig\"\n"),
            ("a/Kconfig", "config A\n\tbool \"a\"\nsource \"Kconfig\"\n"),
        ],
        expect![[r#"
            a/Kconfig:3: recursive inclusion of Kconfig; inclusion path:
              included from: a/Kconfig:3
              included from: Kconfig:1"#]],
    );
    check_error(
        &[("Kconfig", "source \"nowhere/Kconfig\"\n")],
        expect![[r#"Kconfig:1: can't open file "nowhere/Kconfig""#]],
    );
}

#[test]
fn a_recursive_dependency_is_reported_with_its_chain() {
    check_error(
        &[(
            "Kconfig",
            "config A\n\tbool \"a\"\n\tdepends on B\nconfig B\n\tbool \"b\"\n\tdepends on A\n",
        )],
        expect![[r#"
            Kconfig:1: recursive dependency detected
            Kconfig:1:	symbol A depends on B
            Kconfig:4:	symbol B depends on A
            For a resolution refer to Documentation/kbuild/kconfig-language.rst
            subsection "Kconfig recursive dependency limitations""#]],
    );
}

#[test]
fn hostile_input_never_panics() {
    for text in [
        "config\n",
        "if\n",
        "endif\n",
        "choice\nconfig A\n\tbool \"a\"\n",
        &"(".repeat(10_000),
        &format!(
            "config A\n\tbool \"a\"\n\tdepends on {}B\n",
            "!".repeat(10_000)
        ),
        "x := $(x",
        "x = $(x)\nconfig A\n\tbool \"$(x)\"\n",
        "config A\n\tbool \"a\n\thelp\n",
        "\u{0}\u{ff}",
    ] {
        let dir = tree(&[("Kconfig", text)]);
        let _ = load(dir.path(), "Kconfig");
    }
}

/// Busybox's tree: `source` paths unquoted (its older grammar) and most `Config.in` files
/// generated into the build folder by its make. The kernel's rules refuse it; with
/// `LoadOptions` it reads, and the generated file wins over one of the same name in the
/// source tree.
#[test]
fn the_older_grammar_and_generated_files_read_with_load_options() {
    let src = tree(&[
        (
            "Config.in",
            "mainmenu \"Toy box\"\nconfig STATIC\n\tbool \"static\"\nsource archival/Config.in\n",
        ),
        // What the source tree has: the template, which make turns into the real file.
        ("archival/Config.in", "config STALE\n\tbool \"stale\"\n"),
    ]);
    let build = tree(&[(
        "archival/Config.in",
        "config GZIP\n\tbool \"gzip\"\n\tdefault y\n\tdepends on !STATIC\n",
    )]);
    let env = Environment::new(Default::default());
    let mut shell = ShellCache::new(&env);
    let top = Path::new("Config.in");
    let refused = match Kconfig::load(src.path(), top, &env, &mut shell) {
        Ok(_) => "loaded".to_string(),
        Err(e) => e.to_string(),
    };
    let options = LoadOptions {
        generated: vec![build.path().to_path_buf()],
        older_grammar: true,
    };
    let tree = Kconfig::load_with(src.path(), top, &env, &mut shell, &options)
        .unwrap_or_else(|e| panic!("{e}"));
    let written = Evaluation::olddefconfig(&tree, "# CONFIG_STATIC is not set\n");
    expect![[r#"
        Config.in:4: syntax error
        ---
        #
        # Automatically generated file; DO NOT EDIT.
        # Toy box
        #
        # CONFIG_STATIC is not set
        CONFIG_GZIP=y
    "#]]
    .assert_eq(&format!("{refused}\n---\n{written}"));
}
