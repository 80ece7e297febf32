//! Checks at the guest's console: a shell on a pty, driven as a user would.

use std::time::Duration;

use super::{builtin_cmdline, prompt_regex, Failure, Outcome, Shell, STEP};
use crate::board::Board;
use crate::engine::Ctx;

/// A shell prompt, then `uname -m`, `/proc/cpuinfo` and `/proc/cmdline` as the board expects.
pub fn boots_to_shell(_: &Ctx, board: &Board) -> Outcome {
    let expected = &board.spec.e2e;
    let mut sh = Shell::boot(board)?;
    if let Some(machine) = &expected.uname_machine {
        sh.expect_output("uname -m", &[machine])?;
    }
    let cpuinfo: Vec<&str> = expected.cpuinfo.iter().map(String::as_str).collect();
    sh.expect_output("cat /proc/cpuinfo", &cpuinfo)?;
    let cmdline = builtin_cmdline(board)?;
    sh.expect_output("cat /proc/cmdline", &[&cmdline])?;
    sh.poweroff()
}

/// Each command of the board's `[e2e] shows`, run in one boot, must succeed and
/// print its texts: for versatilepb, what the seed's session showed.
pub fn board_shows(_: &Ctx, board: &Board) -> Outcome {
    let mut sh = Shell::boot(board)?;
    for (command, texts) in &board.spec.e2e.shows {
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        sh.expect_output(command, &texts)?;
    }
    sh.poweroff()
}

/// `/etc/passwd` and `/etc/group` are in the initramfs: `id`, `ls -l` and `ps` show
/// names where they showed numbers.
pub fn account_names(_: &Ctx, board: &Board) -> Outcome {
    let mut sh = Shell::boot(board)?;
    sh.expect_output("id", &["uid=0(root) gid=0(root)"])?;
    sh.expect_output(
        "ls -ld /root /dev/null | tr -s ' ' | cut -d ' ' -f 3,4",
        &["root root\nroot root\n"],
    )?;
    sh.expect_output("ps", &["    1 root ", "/init"])?;
    sh.expect_output("id nobody", &["uid=65534(nobody) gid=65534(nogroup)"])?;
    sh.poweroff()
}

/// The guest's host name is the board's (`[rootfs] hostname`, else its name), from
/// `/etc/hostname`.
pub fn board_hostname(_: &Ctx, board: &Board) -> Outcome {
    let name = board.hostname();
    let mut sh = Shell::boot(board)?;
    sh.expect_output(
        "hostname && cat /etc/hostname",
        &[&format!("{name}\n{name}\n")],
    )?;
    sh.poweroff()
}

/// init starts the console's shell as a login shell, which reads `/etc/profile`: its
/// prompt names the user and the host, and `HOME` is root's.
pub fn login_profile(_: &Ctx, board: &Board) -> Outcome {
    let mut sh = Shell::boot(board)?;
    let want = format!("root@{}:", board.hostname());
    if !sh.first_prompt.starts_with(&want) {
        return Err(Failure::new(
            "(the first prompt)",
            &format!("a prompt starting with {want:?}"),
            sh.first_prompt.clone(),
        ));
    }
    sh.expect_output("echo \"home=$HOME\"", &["home=/root\n"])?;
    sh.poweroff()
}

/// The mounts init makes, the console device nodes and busybox's applet links.
pub fn mounts_and_devices(_: &Ctx, board: &Board) -> Outcome {
    let mut sh = Shell::boot(board)?;
    sh.expect_output(
        "mount",
        &[
            " /proc type proc",
            " /sys type sysfs",
            " /dev type devtmpfs",
            " /dev/pts type devpts",
            " /tmp type tmpfs",
            " /run type tmpfs",
        ],
    )?;
    let console = format!("/dev/{}", board.spec.qemu.console);
    sh.expect_output(
        &format!("ls -l /dev/console {console}"),
        &["/dev/console", &console],
    )?;
    sh.expect_output(
        "for f in /bin/ls /sbin/reboot /usr/bin/env; do readlink -f $f; done && which mount",
        &["/bin/busybox\n/bin/busybox\n/bin/busybox", "/bin/mount"],
    )?;
    sh.expect_output(
        "ls /proc/self/ && echo ok-$(busybox --help | head -n 1 | cut -c1-7)",
        &["ok-BusyBox"],
    )?;
    sh.poweroff()
}

/// Ctrl-C at the console interrupts the foreground job, and `kill -INT %1` a background one.
pub fn job_control(_: &Ctx, board: &Board) -> Outcome {
    let mut sh = Shell::boot(board)?;
    let fail = |sh: &Shell, e: anyhow::Error| {
        Failure::new(
            "sleep 100, then Ctrl-C",
            "the shell prompt within 20 s",
            format!("{e:#}\n{}", sh.session.tail()),
        )
    };
    sh.session
        .send_line("sleep 100")
        .map_err(|e| fail(&sh, e))?;
    std::thread::sleep(Duration::from_secs(2));
    sh.session.send(b"\x03").map_err(|e| fail(&sh, e))?;
    sh.session
        .expect(prompt_regex(), STEP)
        .map_err(|e| fail(&sh, e))?;
    // 130 = 128 + SIGINT: the shell's foreground job got the signal from the tty.
    sh.expect_output(
        "test $? -eq 130 && echo interrupted-by-sigint",
        &["interrupted-by-sigint"],
    )?;
    sh.expect_output(
        "sleep 100 & sleep 0.2; kill -INT %1; wait; echo jobs-ok",
        &["jobs-ok"],
    )?;
    sh.poweroff()
}

/// An orphan re-parented to PID 1 is reaped when it exits: no zombies.
pub fn reaps_orphans(_: &Ctx, board: &Board) -> Outcome {
    let mut sh = Shell::boot(board)?;
    // The subshell exits at once, so `sleep 1` is re-parented to PID 1; when it
    // exits, only init can reap it.
    sh.expect_output(
        "(sleep 1 &); sleep 3; echo zombies=$(cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z ')",
        &["zombies=0"],
    )?;
    sh.poweroff()
}

/// `exit` in the shell brings a new one.
pub fn respawns_shell(_: &Ctx, board: &Board) -> Outcome {
    let mut sh = Shell::boot(board)?;
    sh.expect_output("echo $$ > /tmp/first-shell", &[])?;
    let fail = |sh: &Shell, e: anyhow::Error| {
        Failure::new(
            "exit",
            "a new shell prompt",
            format!("{e:#}\n{}", sh.session.tail()),
        )
    };
    sh.session.send_line("exit").map_err(|e| fail(&sh, e))?;
    sh.session
        .expect(prompt_regex(), STEP)
        .map_err(|e| fail(&sh, e))?;
    sh.expect_output(
        "test \"$(cat /tmp/first-shell)\" != \"$$\" && echo new-shell",
        &["new-shell"],
    )?;
    sh.poweroff()
}

/// `command` (`poweroff`, `reboot`, `halt`) at the prompt ends QEMU.
pub fn stops_qemu(_: &Ctx, board: &Board, command: &str) -> Outcome {
    let mut sh = Shell::boot(board)?;
    ends_qemu(&mut sh, command)
}

/// Sends `command` to the shell; QEMU must exit within 30 s.
fn ends_qemu(sh: &mut Shell, command: &str) -> Outcome {
    sh.session
        .send_line(command)
        .map_err(|e| Failure::new(command, "sent", format!("{e:#}")))?;
    sh.session
        .wait_exit(Duration::from_secs(30))
        .map(|_| ())
        .map_err(|e| {
            Failure::new(
                command,
                "qemu exits within 30 s",
                format!("{e:#}\n{}", sh.session.tail()),
            )
        })
}

/// The kernel's Ctrl-Alt-Del handling is off (`/proc/sys/kernel/ctrl-alt-del` is 0), so
/// the keys make the kernel send `SIGINT` to PID 1; no board here has a keyboard to
/// press them on, so the shell sends that signal, and init must reboot cleanly.
pub fn ctrl_alt_del(_: &Ctx, board: &Board) -> Outcome {
    let mut sh = Shell::boot(board)?;
    sh.expect_output("cat /proc/sys/kernel/ctrl-alt-del", &["0"])?;
    ends_qemu(&mut sh, "kill -INT 1")?;
    let wanted = "init: reboot: stopping all processes";
    if sh.session.console().contains(wanted) {
        Ok(())
    } else {
        Err(Failure::new("kill -INT 1", wanted, sh.session.tail()))
    }
}
