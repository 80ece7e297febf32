//! Issue 18, cases 12 and 13: bad input given to the real binary is a clear error (the
//! file, the line, what to do), exits non-zero, and leaves every file byte-identical.

use std::path::Path;
use std::process::Command;

use crate::support::{snapshot as files, BoardSandbox};
use expect_test::{expect, Expect};

/// Runs `command` (the sandbox's xtask) and renders its status, stdout and stderr with the
/// sandbox's path as `$TMP`; asserts that no file of the sandbox changed.
fn run_unchanged(sandbox: &BoardSandbox, mut command: Command) -> String {
    let before = files(sandbox.dir());
    let output = command.env("NO_COLOR", "1").output().unwrap();
    assert_eq!(
        files(sandbox.dir()),
        before,
        "files of the sandbox changed (or appeared)"
    );
    let text = |bytes: &[u8]| sandbox.redact_tmp(&String::from_utf8_lossy(bytes));
    format!(
        "status: {}\n--- stdout\n{}--- stderr\n{}",
        output.status.code().unwrap_or(-1),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// The last line of stderr in [`run_unchanged`]'s rendering, with the status: the error.
fn status_and_error(rendered: &str) -> String {
    let status = rendered.lines().next().unwrap_or_default();
    let error = rendered
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect::<Vec<_>>()
        .join("\n");
    format!("{status}\n{error}")
}

/// A sandbox board `name` whose `rootfs.toml` is `manifest`; runs `pack` and checks the
/// status and error line, and that nothing in the sandbox changed.
fn check_pack(name: &str, manifest: &str, expect: Expect) {
    let sandbox = BoardSandbox::new(name).removing_outputs();
    sandbox.write(&format!("boards/{name}/rootfs.toml"), manifest);
    let mut command = sandbox.xtask();
    command.args(["--board", name, "pack"]);
    let rendered = run_unchanged(&sandbox, command);
    let out = sandbox.out_dir();
    assert!(
        !out.join("initramfs.cpio").exists(),
        "an archive was written:\n{rendered}"
    );
    expect.assert_eq(&status_and_error(&rendered));
}

#[test]
fn case_12_device_numbers_beyond_the_kernels_bits_are_refused() {
    check_pack(
        "bad-input-major",
        "[[node]]\npath = \"/dev/big\"\ntype = \"char\"\nmajor = 4096\nminor = 1\n",
        expect![[r#"
            status: 1
            error: $TMP/boards/bad-input-major/rootfs.toml:4: major 4096 is too large: the kernel's device numbers have 12 bits of major (0 to 4095), a larger one is read as another device; use a number up to 4095"#]],
    );
    check_pack(
        "bad-input-minor",
        "[[node]]\npath = \"/dev/big\"\ntype = \"block\"\nmajor = 8\nminor = 1048576\n",
        expect![[r#"
            status: 1
            error: $TMP/boards/bad-input-minor/rootfs.toml:5: minor 1048576 is too large: the kernel's device numbers have 20 bits of minor (0 to 1048575), a larger one is read as another device; use a number up to 1048575"#]],
    );
}

#[test]
fn case_12_relative_guest_paths_and_path_with_paths_are_refused() {
    check_pack(
        "bad-input-relative",
        "[[dir]]\npath = \"etc\"\n",
        expect![[r#"
            status: 1
            error: $TMP/boards/bad-input-relative/rootfs.toml:2: guest path "etc" is relative: guest paths are absolute, write /etc"#]],
    );
    check_pack(
        "bad-input-both",
        "[[dir]]\npath = \"/srv\"\npaths = [\"/etc\", \"/var\"]\n",
        expect![[r#"
            status: 1
            error: $TMP/boards/bad-input-both/rootfs.toml:2: a [[dir]] takes `path` or `paths`, not both: move "/srv" into `paths`, or make it a [[dir]] of its own"#]],
    );
}

#[test]
fn case_12_a_decimal_mode_suggests_its_octal_spelling() {
    check_pack(
        "bad-input-mode",
        "[[dir]]\npath = \"/etc\"\nmode = 493\n",
        expect![[r#"
            status: 1
            error: $TMP/boards/bad-input-mode/rootfs.toml:3: mode 493 is not octal: TOML reads it as the number 493, which is 0o755 in octal; write 0o755 or "0755""#]],
    );
}

/// A file bigger than the guest's memory packs (it is not an error: the memory may change),
/// with a warning naming the file, its size and the memory.
#[test]
fn case_12_a_file_too_big_for_the_guests_memory_is_named_in_a_warning() {
    let name = "bad-input-big";
    let sandbox = BoardSandbox::new(name).removing_outputs();
    let board_toml = sandbox
        .read(&format!("boards/{name}/board.toml"))
        .replace("\"-m\", \"128M\"", "\"-m\", \"16M\"");
    assert!(board_toml.contains("\"16M\""));
    sandbox.write(&format!("boards/{name}/board.toml"), &board_toml);
    let big = std::fs::File::create(sandbox.path("big.bin")).unwrap();
    big.set_len(12 << 20).unwrap();
    sandbox.write(
        &format!("boards/{name}/rootfs.toml"),
        "[[file]]\npath = \"/big.bin\"\nsource = \"../../big.bin\"\n",
    );
    let output = sandbox
        .xtask()
        .args(["--board", name, "pack"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let warning: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    expect!["[pack] warning: the initramfs (12.0 MiB) unpacks to 12.0 MiB in a guest with 16.0 MiB of memory (`-m` in board.toml's [qemu] args): archive and files must fit at once, so the boot will likely run out of memory; largest files: /big.bin (12.0 MiB). Leave big files out of rootfs.toml or give the guest more memory"]
    .assert_eq(&warning.join("\n"));
}

#[test]
fn case_13_a_bad_compression_in_board_toml_names_board_toml_and_its_line() {
    let name = "bad-input-brotli";
    let sandbox = BoardSandbox::new(name).removing_outputs();
    let path = format!("boards/{name}/board.toml");
    let text = sandbox
        .read(&path)
        .replace("compression = \"none\"", "compression = \"brotli\"");
    sandbox.write(&path, &text);
    let mut command = sandbox.xtask();
    command.args(["--board", name, "pack"]);
    expect![[r#"
        status: 1
        error: $TMP/boards/bad-input-brotli/board.toml:63: unknown compression `brotli`; expected one of gzip, zstd, xz, lz4, none"#]]
    .assert_eq(&status_and_error(&run_unchanged(&sandbox, command)));
}

#[test]
fn case_13_a_dtb_disable_path_not_from_the_root_names_board_toml_and_its_line() {
    let name = "bad-input-dtb-path";
    let sandbox = BoardSandbox::new(name).removing_outputs();
    let path = format!("boards/{name}/board.toml");
    let text = sandbox
        .read(&path)
        .replace("\"/amba/uart@101f2000\"", "\"amba/uart@101f2000\"");
    assert!(text.contains("\"amba/uart@101f2000\""));
    sandbox.write(&path, &text);
    let mut command = sandbox.xtask();
    command.args(["--board", name, "pack"]);
    expect![[r#"
        status: 1
        error: $TMP/boards/bad-input-dtb-path/board.toml:31: "amba/uart@101f2000" is not a device tree node path: write it from the root, as /amba/uart@101f2000"#]]
    .assert_eq(&status_and_error(&run_unchanged(&sandbox, command)));
}

#[test]
fn case_13_dtb_disable_without_a_dtb_is_an_error_naming_board_toml() {
    let name = "bad-input-dtb-none";
    let sandbox = BoardSandbox::new(name).removing_outputs();
    let path = format!("boards/{name}/board.toml");
    let text = sandbox.read(&path);
    let dtb_line = text
        .lines()
        .find(|l| l.starts_with("dtb = "))
        .expect("versatilepb has a dtb")
        .to_string();
    sandbox.write(&path, &text.replace(&dtb_line, ""));
    let mut command = sandbox.xtask();
    command.args(["--board", name, "pack"]);
    expect![[r#"
        status: 1
        error: $TMP/boards/bad-input-dtb-none/board.toml: [kernel] dtb_disable lists device tree nodes, but the board boots without a dtb: set [kernel] dtb or remove dtb_disable"#]]
    .assert_eq(&status_and_error(&run_unchanged(&sandbox, command)));
}

#[test]
fn case_13_boards_lists_every_board_and_marks_the_broken_ones() {
    let sandbox = BoardSandbox::new("good");
    for broken in ["broken-toml", "broken-compression"] {
        let from = sandbox.read("boards/good/board.toml");
        let text = match broken {
            "broken-toml" => format!("{from}\ngarbage = [\n"),
            _ => from.replace("compression = \"none\"", "compression = \"brotli\""),
        };
        sandbox.write(&format!("boards/{broken}/board.toml"), &text);
    }
    let mut command = sandbox.xtask();
    command.arg("boards");
    let rendered = run_unchanged(&sandbox, command);
    // Whether `good` is ready depends on the host's tools: only its name is checked.
    let shown: Vec<String> = rendered
        .lines()
        .map(|l| match l.strip_prefix("good ") {
            Some(_) => "good ...".to_string(),
            None => l.to_string(),
        })
        .filter(|l| !l.starts_with("               "))
        .collect();
    expect![[r#"
        status: 1
        --- stdout
        broken-compression broken   $TMP/boards/broken-compression/board.toml:63: unknown compression `brotli`; expected one of gzip, zstd, xz, lz4, none
        broken-toml    broken   $TMP/boards/broken-toml/board.toml:144: invalid array; expected `]`
        good ...
        --- stderr
        error: 2 board(s) cannot be read: broken-compression, broken-toml; fix the board.toml errors shown above"#]]
    .assert_eq(&shown.join("\n"));
}

#[test]
fn build_with_zero_jobs_is_a_usage_error_before_any_stage() {
    let sandbox = BoardSandbox::new("zero-jobs").removing_outputs();
    let mut command = sandbox.xtask();
    command.args(["--board", "zero-jobs", "build", "-j", "0"]);
    let rendered = run_unchanged(&sandbox, command);
    assert!(!sandbox.out_dir().exists(), "a stage ran:\n{rendered}");
    expect![[r#"
        status: 2
        error: invalid value '0' for '--jobs <N>': number would be zero for non-zero type"#]]
    .assert_eq(&status_and_error(&rendered));
}

#[test]
fn bench_runs_that_cannot_be_measured_are_usage_errors_before_any_boot() {
    let sandbox = BoardSandbox::new("bench-runs").removing_outputs();
    let refused = [
        vec!["--runs", "0"],
        vec!["--runs", "3", "--quick"],
        vec!["--runs", "3", "--cold"],
        vec!["--runs", "many"],
    ]
    .map(|args| {
        let mut command = sandbox.xtask();
        command.args(["--board", "bench-runs", "bench"]).args(&args);
        let rendered = run_unchanged(&sandbox, command);
        assert!(!sandbox.out_dir().exists(), "a stage ran:\n{rendered}");
        format!("{}\n{}", args.join(" "), status_and_error(&rendered))
    });
    expect![[r#"
        --runs 0
        status: 2
        error: invalid value '0' for '--runs <N>': number would be zero for non-zero type

        --runs 3 --quick
        status: 2
        error: the argument '--runs <N>' cannot be used with '--quick'

        --runs 3 --cold
        status: 2
        error: the argument '--runs <N>' cannot be used with '--cold'

        --runs many
        status: 2
        error: invalid value 'many' for '--runs <N>': invalid digit found in string"#]]
    .assert_eq(&refused.join("\n\n"));
}

/// A sandbox with a config file `name` holding `bytes`, and `kconfig --file` on it.
fn kconfig_file(name: &str, bytes: &[u8]) -> (BoardSandbox, Command) {
    let sandbox = BoardSandbox::new("kconfig-bad-input");
    std::fs::write(sandbox.path(name), bytes).unwrap();
    let mut command = sandbox.xtask();
    command.current_dir(sandbox.dir()).args([
        "kconfig",
        "--src",
        sandbox.path("no-src").to_str().unwrap(),
        "--file",
        name,
    ]);
    (sandbox, command)
}

#[test]
fn case_13_kconfig_errors_give_file_line_and_real_text() {
    let (sandbox, mut command) = kconfig_file("f.config", b"CONFIG_A=y\nCONFIG_B=\"caf\xe9\"\n");
    command.args(["set", "A=n"]);
    expect![[r#"
        status: 1
        error: f.config:2:14: expected UTF-8 text (a .config is UTF-8; re-save the file as UTF-8), found `\xe9"`"#]]
    .assert_eq(&status_and_error(&run_unchanged(&sandbox, command)));

    let (sandbox, mut command) = kconfig_file("f.config", b"CONFIG_A=y\nok\n");
    command.args(["set", "A=n"]);
    expect![[r#"
        status: 1
        error: f.config:2:1: expected `CONFIG_NAME=value`, a `#` comment or a blank line, found `ok`"#]]
    .assert_eq(&status_and_error(&run_unchanged(&sandbox, command)));

    let (sandbox, mut command) = kconfig_file("f.config", b"CONFIG_A=y\n");
    command.args(["set", "B=\"a\"b\""]);
    expect![[r#"
        status: 1
        error: CONFIG_B: "a"b": `b"` after the closing quote; escape a quote inside the string as \", e.g. "a\"b""#]]
    .assert_eq(&status_and_error(&run_unchanged(&sandbox, command)));
}

#[test]
fn case_13_merge_reports_a_redefinition_once_and_an_os_error_once() {
    let sandbox = BoardSandbox::new("kconfig-bad-input");
    sandbox.write("base.config", "CONFIG_A=y\n");
    sandbox.write("frag.config", "CONFIG_A=y\nCONFIG_A=m\n");
    std::fs::create_dir(sandbox.path("out")).unwrap();
    let mut command = sandbox.xtask();
    command.current_dir(sandbox.dir()).args([
        "kconfig",
        "merge",
        "base.config",
        "frag.config",
        "-o",
        "out",
    ]);
    expect![[r#"
        status: 1
        --- stdout
        --- stderr
        CONFIG_A: y -> m (frag.config)
        error: replacing out: failed to persist temporary file: Is a directory (os error 21)
    "#]]
    .assert_eq(&run_unchanged(&sandbox, command));
}

/// `kconfig set` in a folder it cannot write: the error, and no diff as if it had worked.
/// The folder is made read-only by a read-only bind mount in a mount namespace of its own
/// (`unshare`), which binds root too; `chmod` is enough for anyone else.
#[test]
fn case_13_set_in_a_read_only_folder_fails_before_showing_a_diff() {
    let (sandbox, command) = kconfig_file("f.config", b"CONFIG_A=y\n");
    let mut args: Vec<String> = command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    args.extend(["set".to_string(), "A=n".to_string()]);
    let dir = sandbox.dir().to_str().unwrap().to_string();
    let mut command = if is_root() {
        let mut c = Command::new("unshare");
        c.args(["-rm", "sh", "-c"])
            .arg(r#"mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@""#)
            .args(["sh", &dir, env!("CARGO_BIN_EXE_xtask")])
            .args(&args);
        c
    } else {
        make_read_only(sandbox.dir(), true);
        let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
        c.args(&args);
        c
    };
    command
        .current_dir(sandbox.dir())
        .env("MINILINUX_BOARDS_DIR", sandbox.path("boards"));
    let rendered = run_unchanged(&sandbox, command);
    make_read_only(sandbox.dir(), false);
    // Root meets the read-only mount, anyone else the folder's mode.
    let rendered = redact_temp_names(&rendered)
        .replace("Read-only file system (os error 30)", "$OS_ERROR")
        .replace("Permission denied (os error 13)", "$OS_ERROR");
    expect![[r#"
        status: 1
        --- stdout
        --- stderr
        note: no Kconfig sources at $TMP/no-src (run `cargo xtask fetch`); symbols are not checked
        error: cannot write f.config, left as it was: creating a temp file in .: $OS_ERROR at path "$TMP/./.tmp*"
    "#]]
    .assert_eq(&rendered);
}

/// Whether this process runs as root, for whom file modes do not stop writes.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

fn make_read_only(dir: &Path, read_only: bool) {
    use std::os::unix::fs::PermissionsExt;
    let mode = if read_only { 0o555 } else { 0o755 };
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `.tmpXXXXXX` temp file names written as `.tmp*`.
fn redact_temp_names(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(".tmp") {
        out.push_str(&rest[..at + 4]);
        out.push('*');
        rest = rest[at + 4..].trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    }
    out.push_str(rest);
    out
}

#[test]
fn case_13_a_crlf_file_stays_crlf() {
    let (sandbox, mut command) = kconfig_file("f.config", b"CONFIG_A=y\r\nCONFIG_B=y\r\n");
    command.args(["set", "A=m", "C=y"]);
    let output = command.output().unwrap();
    assert!(output.status.success());
    let text = std::fs::read_to_string(sandbox.path("f.config")).unwrap();
    expect![[r#"
        CONFIG_A=m\r
        CONFIG_B=y\r
        CONFIG_C=y\r
    "#]]
    .assert_eq(&text.replace('\r', "\\r"));
}
