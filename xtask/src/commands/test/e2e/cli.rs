//! Checks that run the real `xtask` binary, as a user would.

use camino::{Utf8Path, Utf8PathBuf};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use super::{builtin_cmdline, expect_exit, xtask, xtask_bytes, Failure, Outcome};
use crate::board::Board;
use crate::engine::{render_error, Ctx};

/// `qemu --exec` exits with the guest command's status: 0, 1, 3 and 127.
pub fn exec_statuses(_: &Ctx, board: &Board) -> Outcome {
    expect_exit(
        board,
        &["qemu", "--exec", "echo hello-from-guest"],
        0,
        "hello-from-guest",
        "",
    )?;
    expect_exit(board, &["qemu", "--exec", "false"], 1, "", "")?;
    expect_exit(board, &["qemu", "--exec", "sh -c 'exit 3'"], 3, "", "")?;
    expect_exit(board, &["qemu", "--exec", "/no/such/command"], 127, "", "")
}

/// `qemu --exec` carries any command intact: quotes of both kinds and newlines, 64 KiB
/// (every word arrives, the last one too), bytes that are not UTF-8; the status comes back.
pub fn exec_any_bytes(_: &Ctx, board: &Board) -> Outcome {
    let quotes = "echo \"double 'single'\"\necho 'single \"double\"'\n\
                  printf '%s|%s\\n' \"a  b\" 'c\nd'\nexit 7";
    expect_bytes(
        board,
        quotes.as_bytes(),
        7,
        b"double 'single'\nsingle \"double\"\na  b|c\nd\n",
    )?;
    let mut words = String::new();
    let mut n = 0;
    while words.len() < 64 * 1024 {
        n += 1;
        words.push_str(&format!("w{n:05} "));
    }
    let long = format!(
        "x='{words}'\nn=0\nfor w in $x; do n=$((n+1)); last=$w; done\n\
         echo \"words=$n last=$last\"\necho end-of-command"
    );
    let wanted = format!("words={n} last=w{n:05}\nend-of-command\n");
    expect_bytes(board, long.as_bytes(), 0, wanted.as_bytes())?;
    expect_bytes(
        board,
        b"echo 'raw:\xff\xfe\xc3\x28:end'",
        0,
        b"raw:\xff\xfe\xc3\x28:end\n",
    )
}

/// `qemu --exec-file` runs a script as a script: its `#!` line counts (`sh -e` stops at
/// the first failure), and a file without one runs with /bin/sh.
pub fn exec_file(_: &Ctx, board: &Board) -> Outcome {
    let dir =
        tempfile::tempdir().map_err(|e| Failure::new("tempdir", "a temp dir", e.to_string()))?;
    let scripts = [
        (
            "strict.sh",
            "#!/bin/sh -e\necho \"running $0\"\nfalse\necho not-reached\n",
            1,
            "running /.minilinux/exec\n",
        ),
        (
            "plain.sh",
            "echo plain \"$0\"\nexit 5\n",
            5,
            "plain /.minilinux/exec\n",
        ),
    ];
    for (name, text, code, stdout) in scripts {
        let path = dir.path().join(name);
        std::fs::write(&path, text)
            .map_err(|e| Failure::new("write", "a script", e.to_string()))?;
        let args = [
            OsString::from("qemu"),
            OsString::from("--exec-file"),
            path.into_os_string(),
        ];
        expect_bytes_with(board, &args, code, stdout.as_bytes())?;
    }
    Ok(())
}

/// `qemu --exec CMD` (CMD any bytes) exits `code` and prints exactly `stdout`.
fn expect_bytes(board: &Board, cmd: &[u8], code: i32, stdout: &[u8]) -> Outcome {
    let args = [
        OsString::from("qemu"),
        OsString::from("--exec"),
        OsString::from_vec(cmd.to_vec()),
    ];
    expect_bytes_with(board, &args, code, stdout)
}

fn expect_bytes_with(board: &Board, args: &[OsString], code: i32, stdout: &[u8]) -> Outcome {
    let (got, out, err) = xtask_bytes(board, args)?;
    if got != code || out != stdout {
        let shown: Vec<String> = args
            .iter()
            .map(|a| {
                let text = a.to_string_lossy();
                match text.char_indices().nth(200) {
                    Some((at, _)) => format!("{}...", &text[..at]),
                    None => text.into_owned(),
                }
            })
            .collect();
        return Err(Failure::new(
            &format!("cargo xtask {}", shown.join(" ")),
            &format!(
                "exit code {code}, stdout {:?}",
                String::from_utf8_lossy(stdout)
            ),
            format!(
                "exit code {got}\n--- stdout\n{:?}\n--- stderr\n{err}",
                String::from_utf8_lossy(&out)
            ),
        ));
    }
    Ok(())
}

/// `qemu --exec` past `--timeout` exits 124 and says so.
pub fn exec_timeout(_: &Ctx, board: &Board) -> Outcome {
    expect_exit(
        board,
        // Short: the wait is idle time on the suite's longest path, and a timeout that
        // fires before the boot ends is reported as a timeout all the same.
        &["qemu", "--exec", "sleep 600", "--timeout", "5"],
        124,
        "",
        "timeout",
    )
}

/// A kernel panic ends `qemu --exec` with 125 and says so.
pub fn kernel_panic(_: &Ctx, board: &Board) -> Outcome {
    // No /init to run: the kernel falls back to mounting root= (versatilepb's
    // root=/dev/ram0 fails: panic) or, on a board without root=, to init= (missing:
    // "Requested init failed", a panic), never to the initramfs's /sbin/init.
    expect_exit(
        board,
        &[
            "qemu",
            "--exec",
            "true",
            "--append",
            "rdinit=/no-such-init init=/no-such-init",
            "--timeout",
            "60",
        ],
        125,
        "",
        "panic",
    )
}

/// `kconfig set CONFIG_CMDLINE=...` on a copy of the board, then `all --exec`, shows it.
pub fn kconfig_set_boots(ctx: &Ctx, board: &Board) -> Outcome {
    // Edit a copy of the board, never the user's files: same board name, so the
    // same build directory and an incremental kernel build.
    let boards =
        tempfile::tempdir().map_err(|e| Failure::new("tempdir", "a temp dir", e.to_string()))?;
    let boards_dir = Utf8PathBuf::try_from(boards.path().to_path_buf()).expect("utf-8 temp path");
    let copy = boards_dir.join(&board.name);
    copy_dir(&board.dir, &copy)
        .map_err(|e| Failure::new("copy board", "a copy", format!("{e:#}")))?;
    let env = [("MINILINUX_BOARDS_DIR", boards_dir.as_path())];
    let wanted = format!("{} minilinux.e2e=kconfig-set", builtin_cmdline(board)?);
    let wanted = wanted.trim_start();
    let assignment = format!("CONFIG_CMDLINE={wanted}");
    let (code, out, err) = xtask(board, &["kconfig", "set", &assignment], &env)?;
    if code != 0 || !out.contains("minilinux.e2e=kconfig-set") {
        return Err(Failure::new(
            &format!("cargo xtask kconfig set '{assignment}'"),
            "exit 0 and a diff",
            format!("exit {code}\n{out}\n{err}"),
        ));
    }
    let (code, out, err) = xtask(board, &["all", "--exec", "cat /proc/cmdline"], &env)?;
    // Put the real board's build back whatever happened (incremental, cached).
    let restored = crate::commands::all::build_all(ctx);
    if code != 0 || !out.contains(wanted) {
        return Err(Failure::new(
            "cargo xtask all --exec 'cat /proc/cmdline'",
            &format!("exit 0 and {wanted:?}"),
            format!("exit {code}\n{out}\n{err}"),
        ));
    }
    restored.map_err(|e| Failure::new("rebuild the real board", "success", render_error(&e)))
}

fn copy_dir(from: &Utf8Path, to: &Utf8Path) -> anyhow::Result<()> {
    fs_err::create_dir_all(to)?;
    for entry in fs_err::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type()?.is_dir() {
            copy_dir(&from.join(&*name), &to.join(&*name))?;
        } else {
            fs_err::copy(entry.path(), to.join(&*name))?;
        }
    }
    Ok(())
}
