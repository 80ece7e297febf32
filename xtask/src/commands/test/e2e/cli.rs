//! Checks that run the real `xtask` binary, as a user would.

use camino::{Utf8Path, Utf8PathBuf};

use super::{builtin_cmdline, expect_exit, xtask, Failure, Outcome};
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

/// `qemu --exec` past `--timeout` exits 124 and says so.
pub fn exec_timeout(_: &Ctx, board: &Board) -> Outcome {
    expect_exit(
        board,
        &["qemu", "--exec", "sleep 600", "--timeout", "20"],
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
