//! `cargo xtask kconfig`: runs the real binary on a temp copy of the versatilepb board and
//! a small Kconfig tree, with snapshots of what it prints and of the files it leaves.

use std::ops::Deref;

use crate::support::BoardSandbox;
use expect_test::{expect, Expect};

/// The board is copied under this name so that no fetched source of a real board is found.
const BOARD: &str = "cli-test";

const KCONFIG: &str = "\
config CMDLINE
	string \"Default kernel command string\"
config DEVTMPFS
	bool \"devtmpfs\"
config TMPFS
	bool \"tmpfs\"
config BLK_DEV_INITRD
	bool \"initrd\"
menu \"compression\"
	depends on BLK_DEV_INITRD
config RD_GZIP
	bool \"gzip\"
config RD_XZ
	bool \"xz\"
config RD_ZSTD
	bool \"zstd\"
config RD_LZ4
	bool \"lz4\"
endmenu
config HZ
	int \"timer frequency\"
	default 100
config PHYS_OFFSET
	hex \"physical offset\"
	default 0x0
config MODULES
	bool \"modules\"
config EXT4_FS
	tristate \"ext4\"
";

/// A [`BoardSandbox`] with the board `cli-test` and a Kconfig tree `src/`.
struct Sandbox(BoardSandbox);

impl Deref for Sandbox {
    type Target = BoardSandbox;

    fn deref(&self) -> &BoardSandbox {
        &self.0
    }
}

impl Sandbox {
    fn new() -> Sandbox {
        let sandbox = Sandbox(BoardSandbox::new(BOARD));
        sandbox.write("src/Kconfig", KCONFIG);
        sandbox.write(
            "src/arch/arm/configs/versatile_defconfig",
            "CONFIG_BLK_DEV_INITRD=y\nCONFIG_CMDLINE=\"root=1f03 mem=32M\"\n# CONFIG_TMPFS is not set\n",
        );
        // The tests pin what they expect of the fragment, not the board's current one.
        sandbox.write(
            &format!("boards/{BOARD}/linux.config"),
            "# Kernel fragment\nCONFIG_CMDLINE=\"console=ttyAMA0\"\nCONFIG_DEVTMPFS=y\n# CONFIG_TMPFS is not set\nCONFIG_RD_GZIP=y\n",
        );
        sandbox.write(
            &format!("boards/{BOARD}/busybox.config"),
            "CONFIG_STATIC=y\n",
        );
        sandbox
    }

    fn fragment(&self) -> String {
        self.read(&format!("boards/{BOARD}/linux.config"))
    }

    /// Runs `xtask kconfig --board cli-test ARGS` in the sandbox (see [`run_kconfig`]).
    fn run(&self, args: &[&str]) -> String {
        run_kconfig(self, BOARD, args)
    }

    /// Like [`Sandbox::run`] with `--src` pointing at the sandbox's Kconfig tree.
    fn run_with_src(&self, args: &[&str]) -> String {
        let src = self.path("src");
        let mut all = vec!["--src", src.to_str().unwrap()];
        all.extend_from_slice(args);
        self.run(&all)
    }
}

/// Runs `xtask kconfig --board BOARD ARGS` in `sandbox`; shows the exit status, stdout
/// and stderr with the sandbox's path written as `$TMP`.
fn run_kconfig(sandbox: &BoardSandbox, board: &str, args: &[&str]) -> String {
    let output = sandbox
        .xtask()
        .current_dir(sandbox.dir())
        .env("NO_COLOR", "1")
        .args(["kconfig", "--board", board])
        .args(args)
        .output()
        .unwrap();
    let text = |bytes: &[u8]| sandbox.redact_tmp(&String::from_utf8_lossy(bytes));
    format!(
        "status: {}\n--- stdout\n{}--- stderr\n{}",
        output.status.code().unwrap_or(-1),
        text(&output.stdout),
        text(&output.stderr)
    )
}

fn check(actual: String, expect: Expect) {
    expect.assert_eq(&actual);
}

/// Runs `kconfig` (with the sandbox's sources) on each of `inputs`, each of which must be
/// refused: exit status 1, nothing on stdout. Returns a `$ kconfig ARGS` line and the
/// stderr of each.
fn refusals(sandbox: &Sandbox, inputs: &[&[&str]]) -> String {
    let mut all = String::new();
    for args in inputs {
        let out = sandbox.run_with_src(args);
        let Some(stderr) = out.strip_prefix("status: 1\n--- stdout\n--- stderr\n") else {
            panic!("kconfig {args:?} was not refused with nothing on stdout:\n{out}");
        };
        all += &format!("$ kconfig {}\n{stderr}", args.join(" "));
    }
    all
}

#[test]
fn set_quotes_bare_strings_edits_in_place_and_prints_the_diff() {
    let sandbox = Sandbox::new();
    check(
        sandbox.run_with_src(&[
            "set",
            "CONFIG_CMDLINE=console=ttyAMA0 root=/dev/ram0",
            "TMPFS=y",
            "HZ=250",
            "PHYS_OFFSET=8000",
        ]),
        expect![[r#"
            status: 0
            --- stdout
            --- a/$TMP/boards/cli-test/linux.config
            +++ b/$TMP/boards/cli-test/linux.config
            @@ -1,5 +1,7 @@
             # Kernel fragment
            -CONFIG_CMDLINE="console=ttyAMA0"
            +CONFIG_CMDLINE="console=ttyAMA0 root=/dev/ram0"
             CONFIG_DEVTMPFS=y
            -# CONFIG_TMPFS is not set
            +CONFIG_TMPFS=y
             CONFIG_RD_GZIP=y
            +CONFIG_HZ=250
            +CONFIG_PHYS_OFFSET=0x8000
            --- stderr
        "#]],
    );
    check(
        sandbox.fragment(),
        expect![[r##"
        # Kernel fragment
        CONFIG_CMDLINE="console=ttyAMA0 root=/dev/ram0"
        CONFIG_DEVTMPFS=y
        CONFIG_TMPFS=y
        CONFIG_RD_GZIP=y
        CONFIG_HZ=250
        CONFIG_PHYS_OFFSET=0x8000
    "##]],
    );
    check(
        sandbox.run_with_src(&["set", "TMPFS=y"]),
        expect![[r#"
            status: 0
            --- stdout
            --- stderr
            $TMP/boards/cli-test/linux.config: already up to date
        "#]],
    );
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let sandbox = Sandbox::new();
    let before = sandbox.fragment();
    check(
        sandbox.run_with_src(&["set", "--dry-run", "EXT4_FS=m"]),
        expect![[r#"
            status: 0
            --- stdout
            --- a/$TMP/boards/cli-test/linux.config
            +++ b/$TMP/boards/cli-test/linux.config
            @@ -3,3 +3,4 @@
             CONFIG_DEVTMPFS=y
             # CONFIG_TMPFS is not set
             CONFIG_RD_GZIP=y
            +CONFIG_EXT4_FS=m
            --- stderr
            dry run: $TMP/boards/cli-test/linux.config not written
            warning: CONFIG_EXT4_FS=m will not survive olddefconfig:
              CONFIG_EXT4_FS=y  (set in $TMP/boards/cli-test/linux.config:6)
              requested m cannot hold:
                CONFIG_EXT4_FS=y (Kconfig:28): can be set
              no assignment of user-settable symbols was found that makes it hold
        "#]],
    );
    assert_eq!(sandbox.fragment(), before);
}

#[test]
fn unknown_symbols_and_wrong_types_change_nothing() {
    let sandbox = Sandbox::new();
    let before = sandbox.fragment();
    check(
        refusals(
            &sandbox,
            &[
                &["set", "TMPFS=y", "CMDLIN=quiet"],
                &["set", "TMPFS=m"],
                &["set", "HZ=fast"],
                &["unset", "NO_SUCH_THING"],
                &["set", "TMPFS"],
                &["set", "BAD-NAME=y"],
                &["set", "CMDLINE=\"open"],
            ],
        ),
        expect![[r#"
            $ kconfig set TMPFS=y CMDLIN=quiet
            error: unknown symbol CONFIG_CMDLIN; did you mean CONFIG_CMDLINE?
            $ kconfig set TMPFS=m
            error: CONFIG_TMPFS: bool symbol cannot take m; use y or n
            $ kconfig set HZ=fast
            error: CONFIG_HZ: int symbol cannot take fast; use a decimal number
            $ kconfig unset NO_SUCH_THING
            error: unknown symbol CONFIG_NO_SUCH_THING: no Kconfig file defines it
            $ kconfig set TMPFS
            error: invalid assignment `TMPFS`: expected NAME=VALUE, e.g. CONFIG_TMPFS=y
            $ kconfig set BAD-NAME=y
            error: invalid symbol name `BAD-NAME`: use letters, digits and `_`, e.g. CONFIG_TMPFS
            $ kconfig set CMDLINE="open
            error: CONFIG_CMDLINE: unterminated string "open; close it with a double quote
        "#]],
    );
    assert_eq!(sandbox.fragment(), before);
}

#[test]
fn without_sources_symbols_are_not_checked_and_a_note_says_so() {
    let sandbox = Sandbox::new();
    check(
        sandbox.run(&["set", "ANYTHING=y"]),
        expect![[r#"
        status: 0
        --- stdout
        --- a/$TMP/boards/cli-test/linux.config
        +++ b/$TMP/boards/cli-test/linux.config
        @@ -3,3 +3,4 @@
         CONFIG_DEVTMPFS=y
         # CONFIG_TMPFS is not set
         CONFIG_RD_GZIP=y
        +CONFIG_ANYTHING=y
        --- stderr
        note: no Kconfig sources at target/minilinux/cli-test/src/linux (run `cargo xtask fetch`); symbols are not checked
    "#]],
    );
}

#[test]
fn a_bad_fragment_is_reported_with_file_line_and_column() {
    let sandbox = Sandbox::new();
    let bad = "CONFIG_A=y\nCONFIG_B=yes\n";
    sandbox.write(&format!("boards/{BOARD}/linux.config"), bad);
    check(
        sandbox.run_with_src(&["set", "TMPFS=y"]),
        expect![[r#"
        status: 1
        --- stdout
        --- stderr
        error: $TMP/boards/cli-test/linux.config:2:10: expected y, m, n, a decimal or hex number or a double-quoted string, found `yes`
    "#]],
    );
    check(
        sandbox.run(&["get", "A"]),
        expect![[r#"
        status: 1
        --- stdout
        --- stderr
        error: $TMP/boards/cli-test/linux.config:2:10: expected y, m, n, a decimal or hex number or a double-quoted string, found `yes`
    "#]],
    );
    assert_eq!(sandbox.fragment(), bad);
}

#[test]
fn get_unset_and_remove() {
    let sandbox = Sandbox::new();
    check(
        sandbox.run(&["get", "CMDLINE", "CONFIG_TMPFS"]),
        expect![[r#"
        status: 0
        --- stdout
        CONFIG_CMDLINE="console=ttyAMA0"
        # CONFIG_TMPFS is not set
        --- stderr
    "#]],
    );
    check(
        sandbox.run(&["get", "CMDLINE", "HZ", "MODULES"]),
        expect![[r#"
        status: 1
        --- stdout
        CONFIG_CMDLINE="console=ttyAMA0"
        --- stderr
        error: $TMP/boards/cli-test/linux.config does not set it: CONFIG_HZ, CONFIG_MODULES
    "#]],
    );
    check(
        sandbox.run_with_src(&["unset", "DEVTMPFS", "MODULES"]),
        expect![[r#"
            status: 0
            --- stdout
            --- a/$TMP/boards/cli-test/linux.config
            +++ b/$TMP/boards/cli-test/linux.config
            @@ -1,5 +1,6 @@
             # Kernel fragment
             CONFIG_CMDLINE="console=ttyAMA0"
            -CONFIG_DEVTMPFS=y
            +# CONFIG_DEVTMPFS is not set
             # CONFIG_TMPFS is not set
             CONFIG_RD_GZIP=y
            +# CONFIG_MODULES is not set
            --- stderr
        "#]],
    );
    check(
        sandbox.run_with_src(&["remove", "RD_GZIP"]),
        expect![[r#"
        status: 0
        --- stdout
        --- a/$TMP/boards/cli-test/linux.config
        +++ b/$TMP/boards/cli-test/linux.config
        @@ -2,5 +2,4 @@
         CONFIG_CMDLINE="console=ttyAMA0"
         # CONFIG_DEVTMPFS is not set
         # CONFIG_TMPFS is not set
        -CONFIG_RD_GZIP=y
         # CONFIG_MODULES is not set
        --- stderr
    "#]],
    );
    check(
        sandbox.fragment(),
        expect![[r##"
        # Kernel fragment
        CONFIG_CMDLINE="console=ttyAMA0"
        # CONFIG_DEVTMPFS is not set
        # CONFIG_TMPFS is not set
        # CONFIG_MODULES is not set
    "##]],
    );
}

#[test]
fn busybox_and_any_file() {
    let sandbox = Sandbox::new();
    check(
        sandbox.run(&["--busybox", "set", "FEATURE_EDITING=y"]),
        expect![[r#"
        status: 0
        --- stdout
        --- a/$TMP/boards/cli-test/busybox.config
        +++ b/$TMP/boards/cli-test/busybox.config
        @@ -1 +1,2 @@
         CONFIG_STATIC=y
        +CONFIG_FEATURE_EDITING=y
        --- stderr
        note: no Kconfig sources at target/minilinux/cli-test/src/busybox (run `cargo xtask fetch`); symbols are not checked
    "#]],
    );
    check(
        sandbox.read(&format!("boards/{BOARD}/busybox.config")),
        expect![[r#"
        CONFIG_STATIC=y
        CONFIG_FEATURE_EDITING=y
    "#]],
    );
    sandbox.write("other.config", "CONFIG_X=y");
    check(
        sandbox.run(&["--file", "other.config", "set", "Y=m"]),
        expect![[r#"
        status: 0
        --- stdout
        --- a/other.config
        +++ b/other.config
        @@ -1 +1,2 @@
        -CONFIG_X=y
        \ No newline at end of file
        +CONFIG_X=y
        +CONFIG_Y=m
        --- stderr
        note: no Kconfig sources at target/minilinux/cli-test/src/linux (run `cargo xtask fetch`); symbols are not checked
    "#]],
    );
    check(
        sandbox.read("other.config"),
        expect![[r#"
        CONFIG_X=y
        CONFIG_Y=m
    "#]],
    );
}

#[test]
fn show_reads_the_configured_config() {
    let sandbox = Sandbox::new();
    check(
        sandbox.run(&["show", "CMDLINE"]),
        expect![[r#"
        status: 1
        --- stdout
        --- stderr
        error: target/minilinux/cli-test/linux/.config does not exist; run `cargo xtask configure` first
    "#]],
    );
    sandbox.write(
        "final.config",
        "CONFIG_CMDLINE=\"console=ttyAMA0\"\n# CONFIG_TMPFS is not set\n",
    );
    check(
        sandbox.run(&[
            "--file",
            "final.config",
            "show",
            "CMDLINE",
            "TMPFS",
            "RD_XZ",
        ]),
        expect![[r#"
            status: 1
            --- stdout
            CONFIG_CMDLINE="console=ttyAMA0"
            # CONFIG_TMPFS is not set
            --- stderr
            error: final.config does not have it (off): CONFIG_RD_XZ
        "#]],
    );
}

#[test]
fn diff_of_the_fragment_and_of_two_files() {
    let sandbox = Sandbox::new();
    check(
        sandbox.run_with_src(&["diff"]),
        expect![[r#"
        status: 0
        --- stdout
         CMDLINE "root=1f03 mem=32M" -> "console=ttyAMA0"
        +DEVTMPFS y
        +RD_GZIP y
        --- stderr
    "#]],
    );
    sandbox.write(
        "old.config",
        "CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n",
    );
    sandbox.write(
        "new.config",
        "CONFIG_A=m\n# CONFIG_C is not set\nCONFIG_D=\"d\"\n",
    );
    check(
        sandbox.run(&["diff", "old.config", "new.config"]),
        expect![[r#"
        status: 0
        --- stdout
        -B y
         A y -> m
        +D "d"
        --- stderr
    "#]],
    );
    check(
        sandbox.run(&["diff", "--unified", "old.config", "new.config"]),
        expect![[r#"
            status: 0
            --- stdout
            --- a/old.config
            +++ b/new.config
            @@ -1,3 +1,3 @@
            -CONFIG_A=y
            -CONFIG_B=y
            +CONFIG_A=m
             # CONFIG_C is not set
            +CONFIG_D="d"
            --- stderr
        "#]],
    );
    check(
        sandbox.run(&["diff", "old.config", "old.config"]),
        expect![[r#"
        status: 0
        --- stdout
        --- stderr
        no differences
    "#]],
    );
    check(
        sandbox.run(&["--busybox", "--src", "nowhere", "diff"]),
        expect![[r#"
        status: 1
        --- stdout
        --- stderr
        error: no defconfig file at nowhere/configs/defconfig (run `cargo xtask fetch`, or give two files: cargo xtask kconfig diff OLD NEW)
    "#]],
    );
}

#[test]
fn merge_like_merge_config_sh() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "base.config",
        "CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n",
    );
    sandbox.write("one.config", "CONFIG_B=m\nCONFIG_C=y\n");
    sandbox.write("two.config", "CONFIG_C=m\n");
    check(
        sandbox.run(&[
            "merge",
            "base.config",
            "one.config",
            "two.config",
            "-o",
            "out.config",
        ]),
        expect![[r#"
            status: 0
            --- stdout
            --- stderr
            CONFIG_B: y -> m (one.config)
            CONFIG_C: n -> y (one.config)
            CONFIG_C: y -> m (two.config)
            merged 2 fragment(s) onto base.config into out.config (3 redefinition(s))
        "#]],
    );
    check(
        sandbox.read("out.config"),
        expect![[r#"
        CONFIG_A=y

        CONFIG_B=m

        CONFIG_C=m
    "#]],
    );
    check(
        sandbox.run(&["merge", "-y", "base.config", "one.config"]),
        expect![[r#"
            status: 0
            --- stdout
            CONFIG_A=y
            CONFIG_B=y

            CONFIG_C=y
            --- stderr
            CONFIG_B: y -> m (one.config), kept y: builtin wins
            CONFIG_C: n -> y (one.config)
        "#]],
    );
    check(
        sandbox.run(&["merge", "base.config", "missing.config"]),
        expect![[r#"
        status: 1
        --- stdout
        --- stderr
        error: failed to open file `missing.config`: No such file or directory (os error 2)
    "#]],
    );
}

#[cfg(unix)]
#[test]
fn writes_keep_the_file_mode() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    let path = sandbox.path(&format!("boards/{BOARD}/linux.config"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    sandbox.run(&["set", "TMPFS=y"]);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    assert!(sandbox.fragment().contains("CONFIG_TMPFS=y\n"));
}

#[test]
fn show_explains_values_the_fragment_asked_for_that_did_not_survive() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "final.config",
        "CONFIG_CMDLINE=\"console=ttyAMA0\"\n# CONFIG_BLK_DEV_INITRD is not set\n",
    );
    check(
        sandbox.run_with_src(&[
            "--file",
            "final.config",
            "show",
            "CMDLINE",
            "RD_GZIP",
            "DEVTMPFS",
        ]),
        expect![[r#"
            status: 1
            --- stdout
            CONFIG_CMDLINE="console=ttyAMA0"
            --- stderr
            $TMP/boards/cli-test/linux.config asks for values that final.config does not have:
              CONFIG_RD_GZIP: requested y, got nothing (not visible)
                  CONFIG_RD_GZIP=n  (no default applies (defined at Kconfig:11))
                  requested y cannot hold:
                    CONFIG_RD_GZIP=n (Kconfig:11): not visible
                      Kconfig:12: depends on BLK_DEV_INITRD [= n]
                        CONFIG_BLK_DEV_INITRD=n (Kconfig:7): can be set
                  it holds with (checked by evaluating it):
                    CONFIG_BLK_DEV_INITRD=y
                    CONFIG_RD_GZIP=y
              CONFIG_DEVTMPFS: requested y, got nothing (not visible)
                  CONFIG_DEVTMPFS=n  (no default applies (defined at Kconfig:3))
                  requested y cannot hold:
                    CONFIG_DEVTMPFS=n (Kconfig:3): can be set
                  it holds with (checked by evaluating it):
                    CONFIG_DEVTMPFS=y
            error: final.config does not have it (off): CONFIG_RD_GZIP, CONFIG_DEVTMPFS
        "#]],
    );
    check(
        sandbox.run(&["--file", "final.config", "show", "RD_GZIP"]),
        expect![[r#"
            status: 1
            --- stdout
            --- stderr
            note: no Kconfig sources at target/minilinux/cli-test/src/linux (run `cargo xtask fetch`); reasons are not shown
            $TMP/boards/cli-test/linux.config asks for values that final.config does not have:
              CONFIG_RD_GZIP: requested y, got nothing (not visible)
            error: final.config does not have it (off): CONFIG_RD_GZIP
        "#]],
    );
}

#[test]
fn concurrent_sets_on_one_fragment_keep_every_edit() {
    let sandbox = Sandbox::new();
    let symbols = [
        "DEVTMPFS",
        "TMPFS",
        "BLK_DEV_INITRD",
        "RD_GZIP",
        "RD_XZ",
        "RD_ZSTD",
        "RD_LZ4",
        "MODULES",
        "EXT4_FS",
    ];
    let src = sandbox.path("src");
    let children: Vec<_> = symbols
        .iter()
        .map(|symbol| {
            sandbox
                .xtask()
                .current_dir(sandbox.dir())
                .args(["kconfig", "--board", BOARD, "--src", src.to_str().unwrap()])
                .args(["set", &format!("{symbol}=y")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let fragment = sandbox.fragment();
    let lost: Vec<_> = symbols
        .iter()
        .filter(|s| !fragment.contains(&format!("CONFIG_{s}=y\n")))
        .collect();
    assert!(lost.is_empty(), "edits lost: {lost:?}\n{fragment}");
}

#[test]
fn set_on_a_symlinked_fragment_edits_the_target_and_keeps_the_link() {
    let sandbox = Sandbox::new();
    let link = sandbox.path(&format!("boards/{BOARD}/linux.config"));
    sandbox.write("shared/common.config", "CONFIG_HZ=100\n");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("../../shared/common.config", &link).unwrap();
    sandbox.run_with_src(&["set", "TMPFS=y"]);
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    check(
        sandbox.read("shared/common.config"),
        expect![[r#"
            CONFIG_HZ=100
            CONFIG_TMPFS=y
        "#]],
    );
}

#[test]
fn olddefconfig_fills_in_a_config_in_place_as_conf_writes_it() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "my.config",
        "CONFIG_RD_GZIP=y\nCONFIG_HZ=250\nCONFIG_NO_SUCH=y\n",
    );
    check(
        sandbox.run_with_src(&["--file", "my.config", "olddefconfig"]),
        expect![[r#"
            status: 0
            --- stdout
            --- stderr
            olddefconfig (ARCH=arm, CROSS_COMPILE=arm-linux-gnueabi-; Kconfig tree parsed (1 compiler probe(s) run, the rest cached)): wrote my.config
        "#]],
    );
    expect![[r##"
        #
        # Automatically generated file; DO NOT EDIT.
        # Main menu
        #
        CONFIG_CMDLINE=""
        # CONFIG_DEVTMPFS is not set
        # CONFIG_TMPFS is not set
        # CONFIG_BLK_DEV_INITRD is not set
        CONFIG_HZ=250
        CONFIG_PHYS_OFFSET=0x0
        # CONFIG_MODULES is not set
        # CONFIG_EXT4_FS is not set
    "##]]
    .assert_eq(&sandbox.read("my.config"));
}

#[test]
fn set_warns_at_once_when_a_value_will_not_survive() {
    let sandbox = Sandbox::new();
    check(
        sandbox.run_with_src(&["set", "BLK_DEV_INITRD=n", "RD_XZ=y"]),
        expect![[r#"
            status: 0
            --- stdout
            --- a/$TMP/boards/cli-test/linux.config
            +++ b/$TMP/boards/cli-test/linux.config
            @@ -3,3 +3,5 @@
             CONFIG_DEVTMPFS=y
             # CONFIG_TMPFS is not set
             CONFIG_RD_GZIP=y
            +# CONFIG_BLK_DEV_INITRD is not set
            +CONFIG_RD_XZ=y
            --- stderr
            warning: CONFIG_RD_XZ=y will not survive olddefconfig:
              CONFIG_RD_XZ=n  (no default applies (defined at Kconfig:13))
              requested y cannot hold:
                CONFIG_RD_XZ=n (Kconfig:13): not visible
                  Kconfig:14: depends on BLK_DEV_INITRD [= n]
                    CONFIG_BLK_DEV_INITRD=n (Kconfig:7): can be set
              it holds with (checked by evaluating it):
                CONFIG_BLK_DEV_INITRD=y
        "#]],
    );
}

#[test]
fn why_explains_a_dropped_value_and_blame_every_line() {
    let sandbox = Sandbox::new();
    sandbox.run_with_src(&["unset", "BLK_DEV_INITRD"]);
    check(
        sandbox.run_with_src(&["why", "RD_GZIP"]),
        expect![[r#"
        status: 0
        --- stdout
        CONFIG_RD_GZIP=n  (no default applies (defined at Kconfig:11))
        requested y cannot hold:
          CONFIG_RD_GZIP=n (Kconfig:11): not visible
            Kconfig:12: depends on BLK_DEV_INITRD [= n]
              CONFIG_BLK_DEV_INITRD=n (Kconfig:7): can be set
        it holds with (checked by evaluating it):
          CONFIG_BLK_DEV_INITRD=y
        --- stderr
    "#]],
    );
    check(
        sandbox.run_with_src(&["why", "CMDLINE"]),
        expect![[r#"
        status: 0
        --- stdout
        CONFIG_CMDLINE="console=ttyAMA0"  (set in $TMP/boards/cli-test/linux.config:2)
        requested "console=ttyAMA0": holds
        --- stderr
    "#]],
    );
    check(
        sandbox.run_with_src(&["blame"]),
        expect![[r#"
        status: 0
        --- stdout
        #
        # Automatically generated file; DO NOT EDIT.
        # Main menu
        #
        CONFIG_CMDLINE="console=ttyAMA0"    # set in $TMP/boards/cli-test/linux.config:2
        CONFIG_DEVTMPFS=y                   # set in $TMP/boards/cli-test/linux.config:3
        # CONFIG_TMPFS is not set           # set in $TMP/boards/cli-test/linux.config:4
        # CONFIG_BLK_DEV_INITRD is not set  # set in $TMP/boards/cli-test/linux.config:6
        CONFIG_HZ=100                       # default at Kconfig:22
        CONFIG_PHYS_OFFSET=0x0              # default at Kconfig:25
        # CONFIG_MODULES is not set         # no default applies (defined at Kconfig:26)
        # CONFIG_EXT4_FS is not set         # no default applies (defined at Kconfig:28)
        --- stderr
    "#]],
    );
    check(
        sandbox.run_with_src(&["blame", "HZ", "TMPFS"]),
        expect![[r#"
            status: 0
            --- stdout
            # CONFIG_TMPFS is not set           # set in $TMP/boards/cli-test/linux.config:4
            CONFIG_HZ=100                       # default at Kconfig:22
            --- stderr
        "#]],
    );
}

#[test]
fn a_bad_kconfig_tree_is_an_error_with_file_and_line() {
    let sandbox = Sandbox::new();
    sandbox.write("src/Kconfig", "config A\n\tbool \"a\"\nfrobnicate\n");
    check(
        sandbox.run_with_src(&["set", "A=y"]),
        expect![[r#"
            status: 1
            --- stdout
            --- stderr
            error: reading the Kconfig files of $TMP/src: Kconfig:3: unknown statement "frobnicate"
        "#]],
    );
    sandbox.write("src/Kconfig", "source \"sub/Kconfig\"\n");
    sandbox.write(
        "src/sub/Kconfig",
        "config A\n\tbool \"a\"\nsource \"sub/Kconfig\"\n",
    );
    check(
        sandbox.run_with_src(&["why", "A"]),
        expect![[r#"
        status: 1
        --- stdout
        --- stderr
        error: reading the Kconfig files of $TMP/src: sub/Kconfig:3: recursive inclusion of sub/Kconfig; inclusion path:
          included from: sub/Kconfig:3
    "#]],
    );
    assert!(!sandbox.fragment().contains("CONFIG_A"));
}

/// Busybox's tree in the older grammar (`source` paths unquoted), with the `Config.in`
/// its make generated in the board's build folder: `--busybox why`, `blame`, `set`'s
/// warning and `show`'s reasons evaluate it; `olddefconfig` stays the kernel's.
#[test]
fn busybox_why_blame_set_and_show_evaluate_its_config_in_after_configure() {
    let sandbox = BoardSandbox::new("kconfig-busybox").removing_outputs();
    sandbox.write(
        "bb/Config.in",
        "mainmenu \"Busybox Configuration\"\nconfig STATIC\n\tbool \"static\"\nsource archival/Config.in\n",
    );
    sandbox.write(
        "boards/kconfig-busybox/busybox.config",
        "CONFIG_STATIC=y\nCONFIG_GZIP=y\n",
    );
    let bb = sandbox.path("bb");
    let run = |args: &[&str]| -> String {
        let mut all = vec!["--busybox", "--src", bb.to_str().unwrap()];
        all.extend_from_slice(args);
        let shown = format!("$ kconfig --busybox {}\n", args.join(" "));
        shown + &run_kconfig(&sandbox, "kconfig-busybox", &all)
    };
    // Before configure: no generated files.
    let before = run(&["why", "GZIP"]);
    let build = sandbox.out_dir().join("busybox");
    std::fs::create_dir_all(build.join("archival")).unwrap();
    std::fs::write(
        build.join("archival/Config.in"),
        "config GZIP\n\tbool \"gzip\"\n\tdepends on !STATIC\nconfig TAR\n\tbool \"tar\"\n\tdefault y\n",
    )
    .unwrap();
    std::fs::write(build.join(".config"), "CONFIG_STATIC=y\nCONFIG_TAR=y\n").unwrap();
    let after = [
        run(&["why", "GZIP"]),
        run(&["blame"]),
        run(&["set", "--dry-run", "GZIP=y", "TAR=n"]),
        run(&["show", "GZIP"]),
        run(&["olddefconfig"]),
    ];
    expect![[r#"
        $ kconfig --busybox why GZIP
        status: 1
        --- stdout
        --- stderr
        error: busybox's Config.in files are generated by its make into target/minilinux/kconfig-busybox/busybox: run `cargo xtask configure` first

        $ kconfig --busybox why GZIP
        status: 0
        --- stdout
        CONFIG_GZIP=n  (no default applies (defined at archival/Config.in:1))
        requested y cannot hold:
          CONFIG_GZIP=n (archival/Config.in:1): not visible
            archival/Config.in:2: depends on !STATIC [= n]
              CONFIG_STATIC=y (Config.in:2): can be set
        it holds with (checked by evaluating it):
          # CONFIG_STATIC is not set
        --- stderr

        $ kconfig --busybox blame
        status: 0
        --- stdout
        #
        # Automatically generated file; DO NOT EDIT.
        # Busybox Configuration
        #
        CONFIG_STATIC=y  # set in $TMP/boards/kconfig-busybox/busybox.config:1
        CONFIG_TAR=y     # default at archival/Config.in:6
        --- stderr

        $ kconfig --busybox set --dry-run GZIP=y TAR=n
        status: 0
        --- stdout
        --- a/$TMP/boards/kconfig-busybox/busybox.config
        +++ b/$TMP/boards/kconfig-busybox/busybox.config
        @@ -1,2 +1,3 @@
         CONFIG_STATIC=y
         CONFIG_GZIP=y
        +# CONFIG_TAR is not set
        --- stderr
        dry run: $TMP/boards/kconfig-busybox/busybox.config not written
        warning: CONFIG_GZIP=y will not survive oldconfig:
          CONFIG_GZIP=n  (no default applies (defined at archival/Config.in:1))
          requested y cannot hold:
            CONFIG_GZIP=n (archival/Config.in:1): not visible
              archival/Config.in:2: depends on !STATIC [= n]
                CONFIG_STATIC=y (Config.in:2): can be set
          it holds with (checked by evaluating it):
            # CONFIG_STATIC is not set

        $ kconfig --busybox show GZIP
        status: 1
        --- stdout
        --- stderr
        $TMP/boards/kconfig-busybox/busybox.config asks for values that target/minilinux/kconfig-busybox/busybox/.config does not have:
          CONFIG_GZIP: requested y, got nothing (not visible)
              CONFIG_GZIP=n  (no default applies (defined at archival/Config.in:1))
              requested y cannot hold:
                CONFIG_GZIP=n (archival/Config.in:1): not visible
                  archival/Config.in:2: depends on !STATIC [= n]
                    CONFIG_STATIC=y (Config.in:2): can be set
              it holds with (checked by evaluating it):
                # CONFIG_STATIC is not set
                CONFIG_GZIP=y
        error: target/minilinux/kconfig-busybox/busybox/.config does not have it (off): CONFIG_GZIP

        $ kconfig --busybox olddefconfig
        status: 1
        --- stdout
        --- stderr
        error: busybox's older conf writes its .config differently (a dated header, no `# end of` lines, symbols that are not visible), so this command is the kernel's only; `why`, `blame`, `show` and `set` read busybox's tree
    "#]].assert_eq(&format!("{before}\n{}", after.join("\n")));
}
