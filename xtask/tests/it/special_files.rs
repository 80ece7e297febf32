//! Paths that are not regular files where a file is read: an overlay's symlinks to a
//! directory, a device or a FIFO (`pack` stores them as links and never reads what they
//! lead to), and `kconfig --file` on a FIFO, a device or a directory (refused, at once).

use crate::support::{mkfifo, output_within, BoardSandbox};
use expect_test::{expect, Expect};

fn check(actual: String, expect: Expect) {
    expect.assert_eq(&actual);
}

/// The manifest of a board whose root is one overlay, packed uncompressed (no kernel
/// `.config` is needed to check the compression).
const OVERLAY_MANIFEST: &str = "\
[[overlay]]
source = \"${board}/overlay\"
";

#[test]
fn overlay_symlinks_to_a_directory_a_device_and_a_fifo_are_packed_as_links() {
    let board = format!("overlay-links-{}", std::process::id());
    let sb = BoardSandbox::new(&board).removing_outputs();
    let dir = format!("boards/{board}");
    sb.write(&format!("{dir}/rootfs.toml"), OVERLAY_MANIFEST);
    sb.write(&format!("{dir}/overlay/usr/lib/libc.so"), "not really\n");
    let overlay = sb.board_dir().join("overlay");
    std::os::unix::fs::symlink("usr/lib", overlay.join("lib")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", overlay.join("zero")).unwrap();
    mkfifo(&sb.board_dir().join("fifo"));
    std::os::unix::fs::symlink("../fifo", overlay.join("fifo")).unwrap();
    let pack = |args: &[&str]| {
        let output = output_within(
            sb.xtask()
                .args(["--board", &board, "pack", "--compression", "none"])
                .args(args),
            120,
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "pack failed: {stderr}");
        sb.redact_tmp(&stdout)
    };
    pack(&[]);
    check(
        pack(&["--list"]),
        expect![[r#"
            lrwxrwxrwx 1 0 0  7 /fifo -> ../fifo
            lrwxrwxrwx 1 0 0  7 /lib -> usr/lib
            drwxr-xr-x 3 0 0  0 /usr
            drwxr-xr-x 2 0 0  0 /usr/lib
            -rw-r--r-- 1 0 0 11 /usr/lib/libc.so
            lrwxrwxrwx 1 0 0  9 /zero -> /dev/zero
        "#]],
    );
    // A second run finds nothing changed: the links' targets are not read.
    let output = output_within(
        sb.xtask()
            .args(["--board", &board, "pack", "--compression", "none"]),
        120,
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("up to date"));
}

/// Runs `kconfig --file FILE ACTION...` in the sandbox (at most 20 s); shows the exit
/// status, stdout and stderr.
fn kconfig_on(sb: &BoardSandbox, file: &str, action: &[&str]) -> String {
    let output = output_within(
        sb.xtask()
            .current_dir(sb.dir())
            .args(["kconfig", "--board", sb.board(), "--file", file])
            .args(action),
        20,
    );
    format!(
        "status: {}\n--- stdout\n{}--- stderr\n{}",
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout),
        sb.redact_tmp(&String::from_utf8_lossy(&output.stderr))
    )
}

#[test]
fn kconfig_file_refuses_a_fifo_a_device_and_a_directory() {
    let sb = BoardSandbox::new("kconfig-special");
    mkfifo(&sb.path("fifo.config"));
    std::fs::create_dir(sb.path("dir.config")).unwrap();
    let mut got = Vec::new();
    for file in ["fifo.config", "/dev/zero", "dir.config"] {
        for action in [&["get", "CONFIG_X"][..], &["set", "CONFIG_X=y"]] {
            got.push(format!(
                "$ --file {file} {}\n{}",
                action.join(" "),
                kconfig_on(&sb, file, action)
            ));
        }
    }
    check(
        got.join("\n"),
        expect![[r#"
        $ --file fifo.config get CONFIG_X
        status: 1
        --- stdout
        --- stderr
        error: fifo.config: is a FIFO, not a regular file: give the path of a config file

        $ --file fifo.config set CONFIG_X=y
        status: 1
        --- stdout
        --- stderr
        error: fifo.config: is a FIFO, not a regular file: give the path of a config file

        $ --file /dev/zero get CONFIG_X
        status: 1
        --- stdout
        --- stderr
        error: /dev/zero: is a device, not a regular file: give the path of a config file

        $ --file /dev/zero set CONFIG_X=y
        status: 1
        --- stdout
        --- stderr
        error: /dev/zero: is a device, not a regular file: give the path of a config file

        $ --file dir.config get CONFIG_X
        status: 1
        --- stdout
        --- stderr
        error: dir.config: is a directory, not a regular file: give the path of a config file

        $ --file dir.config set CONFIG_X=y
        status: 1
        --- stdout
        --- stderr
        error: dir.config: is a directory, not a regular file: give the path of a config file
    "#]],
    );
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::symlink_metadata(sb.path("fifo.config"))
        .unwrap()
        .file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced");
}
