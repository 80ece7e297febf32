//! `cargo xtask qemu` run as a user runs it: the real binary, a real QEMU.
//!
//! Booting needs a kernel and an initramfs for the default board
//! (versatilepb): point `MINILINUX_QEMU_TEST_FILES` at a directory holding
//! `kernel`, `dtb`, `config` (the kernel's `.config`) and `initramfs`. Without
//! it the boot tests print a `skipped:` line; the end-to-end suite
//! (`cargo xtask test`) boots the board's own build instead.

use expect_test::{expect, Expect};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::{self, BoardSandbox};

const FILES_VAR: &str = "MINILINUX_QEMU_TEST_FILES";

/// The files to boot, or `None` (and a `skipped:` line) when the variable is unset.
fn fixture(test: &str) -> Option<PathBuf> {
    match std::env::var_os(FILES_VAR) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            // Straight to stderr: the test harness captures eprintln! of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {test}: set {FILES_VAR} to a directory with kernel, dtb, config, initramfs"
            );
            None
        }
    }
}

/// `qemu` arguments booting the fixture's files.
fn file_args(dir: &Path) -> Vec<String> {
    let mut args = vec!["qemu".to_string()];
    for (flag, name) in [
        ("--kernel", "kernel"),
        ("--dtb", "dtb"),
        ("--kernel-config", "config"),
        ("--initrd", "initramfs"),
    ] {
        args.push(flag.to_string());
        args.push(dir.join(name).display().to_string());
    }
    args
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs xtask with stdin from /dev/null and captured output (so: not on a terminal).
fn xtask(args: &[String]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("xtask runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Boots with `extra` arguments; shows the exit code, stdout and stderr's first line.
fn check_boot(dir: &Path, extra: &[&str], expect: Expect) {
    let mut args = file_args(dir);
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = xtask(&args);
    let first_stderr = run
        .stderr
        .lines()
        .find(|l| !l.starts_with("warning:"))
        .unwrap_or("");
    expect.assert_eq(&format!(
        "exit {:?}\nstdout: {:?}\nstderr: {first_stderr}",
        run.code, run.stdout
    ));
}

#[test]
fn exec_returns_the_command_status_and_only_its_output() {
    let Some(dir) = fixture("exec_returns_the_command_status_and_only_its_output") else {
        return;
    };
    check_boot(
        &dir,
        &["--exec", "echo hello from the guest"],
        expect![[r#"
            exit Some(0)
            stdout: "hello from the guest\n"
            stderr: "#]],
    );
    check_boot(
        &dir,
        &["--exec", "false"],
        expect![[r#"
            exit Some(1)
            stdout: ""
            stderr: "#]],
    );
    check_boot(
        &dir,
        &["--exec", "sh -c 'echo out; exit 3'"],
        expect![[r#"
            exit Some(3)
            stdout: "out\n"
            stderr: "#]],
    );
    let run = xtask(
        &[
            file_args(&dir),
            vec!["--exec".into(), "/no/such/command".into()],
        ]
        .concat(),
    );
    assert_eq!(run.code, Some(127), "{}{}", run.stdout, run.stderr);
}

#[test]
fn append_and_exec_keep_config_cmdline() {
    let Some(dir) = fixture("append_and_exec_keep_config_cmdline") else {
        return;
    };
    let config = std::fs::read_to_string(dir.join("config")).unwrap();
    let builtin = match kconfig::Config::parse(&config).unwrap().get("CMDLINE") {
        Some(kconfig::Value::Str(s)) => s.clone(),
        other => panic!("the fixture's config has no CONFIG_CMDLINE: {other:?}"),
    };
    let run = xtask(
        &[
            file_args(&dir),
            vec![
                "--append".into(),
                "minilinux.test=1".into(),
                "--exec".into(),
                "cat /proc/cmdline".into(),
            ],
        ]
        .concat(),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let line = run.stdout.trim_end().to_string();
    // `quiet`: command mode keeps kernel messages out of the command's output; it is
    // not added a second time when the built-in line has it.
    let quiet = if builtin.split_whitespace().any(|w| w == "quiet") {
        ""
    } else {
        " quiet"
    };
    let expected = format!(
        "{builtin} minilinux.test=1{quiet} init.exec_file=/.minilinux/exec init.poweroff=reboot"
    );
    assert_eq!(line, expected);
}

#[test]
fn timeout_stops_qemu_with_124() {
    let Some(dir) = fixture("timeout_stops_qemu_with_124") else {
        return;
    };
    check_boot(
        &dir,
        &["--exec", "sleep 600", "--timeout", "5"],
        expect![[r#"
            exit Some(124)
            stdout: ""
            stderr: error: timed out after 5s (--timeout) before the guest command ended; last console lines:"#]],
    );
}

#[test]
fn kernel_panic_stops_qemu_with_125() {
    let Some(dir) = fixture("kernel_panic_stops_qemu_with_125") else {
        return;
    };
    // PID 1 exiting is a panic: "Attempted to kill init!".
    check_boot(
        &dir,
        &["--append", "rdinit=/bin/false", "--exec", "true"],
        expect![[r#"
            exit Some(125)
            stdout: ""
            stderr: error: the guest kernel panicked; last console lines:"#]],
    );
}

#[test]
fn without_a_terminal_it_runs_a_smoke_command() {
    let Some(dir) = fixture("without_a_terminal_it_runs_a_smoke_command") else {
        return;
    };
    let run = xtask(&file_args(&dir));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.starts_with("Linux "),
        "uname -a output expected: {:?}",
        run.stdout
    );
    expect!["not on a terminal: running `uname -a` in the guest (--exec CMD runs another command)"]
        .assert_eq(run.stderr.lines().next().unwrap_or(""));
}

#[test]
fn on_a_terminal_it_is_interactive_and_poweroff_ends_it() {
    let Some(dir) = fixture("on_a_terminal_it_is_interactive_and_poweroff_ends_it") else {
        return;
    };
    let mut term = Terminal::run(&file_args(&dir));
    term.expect("press Ctrl-A then x");
    term.expect("minilinux init:");
    term.expect("# ");
    term.send("echo $((6 * 7))-answer\r");
    term.expect("42-answer");
    term.expect("# ");
    term.send("poweroff\r");
    assert_eq!(term.wait(), Some(0), "{}", term.seen);
}

#[test]
fn ctrl_a_x_quits() {
    let Some(dir) = fixture("ctrl_a_x_quits") else {
        return;
    };
    let mut term = Terminal::run(&file_args(&dir));
    term.expect("minilinux init:");
    term.send("\x01x");
    term.expect("QEMU: Terminated");
    assert_eq!(term.wait(), Some(0), "{}", term.seen);
}

#[test]
fn bad_exec_commands_are_refused_before_booting() {
    let refused = |args: &[&str]| {
        let run = xtask(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        format!(
            "exit {:?}: {}",
            run.code,
            run.stderr.lines().next().unwrap_or("")
        )
    };
    expect![[r#"
        exit Some(1): error: --exec needs a command, e.g. --exec 'uname -a'
        exit Some(1): error: --exec-file /no/such/script.sh: cannot read: No such file or directory (os error 2)
        exit Some(2): error: the argument '--exec <CMD>' cannot be used with '--exec-file <FILE>'"#]]
    .assert_eq(
        &[
            refused(&["qemu", "--exec", " \n "]),
            refused(&["qemu", "--exec-file", "/no/such/script.sh"]),
            refused(&["qemu", "--exec", "true", "--exec-file", "x"]),
        ]
        .join("\n"),
    );
}

#[test]
fn missing_files_are_named() {
    let run = xtask(&[
        "qemu".into(),
        "--kernel".into(),
        "/no/such/zImage".into(),
        "--kernel-config".into(),
        "/no/such/.config".into(),
        "--exec".into(),
        "true".into(),
    ]);
    assert_eq!(run.code, Some(1));
    expect![[r#"
        error: --kernel /no/such/zImage: no such file
    "#]]
    .assert_eq(&run.stderr);
}

/// xtask on a real terminal, through util-linux `script`, which gives its
/// child a pseudo-terminal and relays our pipes to it.
struct Terminal {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: mpsc::Receiver<Vec<u8>>,
    unread: String,
    seen: String,
}

impl Terminal {
    fn run(args: &[String]) -> Terminal {
        let mut line = shell_quote(env!("CARGO_BIN_EXE_xtask"));
        for a in args {
            line.push(' ');
            line.push_str(&shell_quote(a));
        }
        let mut child = Command::new("script")
            .args(["-q", "-e", "-f", "-c", &line, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("script (util-linux) runs");
        let input = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Terminal {
            child,
            input,
            output: rx,
            unread: String::new(),
            seen: String::new(),
        }
    }

    fn send(&mut self, keys: &str) {
        self.input.write_all(keys.as_bytes()).unwrap();
        self.input.flush().unwrap();
    }

    /// Waits (at most 90 s) for `text`, consuming the output up to it.
    fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(at) = self.unread.find(text) {
                self.unread.drain(..at + text.len());
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    self.unread.push_str(&text);
                    self.seen.push_str(&text);
                }
                Err(_) => panic!(
                    "{text:?} did not appear; the terminal showed:\n{}",
                    self.seen
                ),
            }
        }
    }

    /// Waits (at most 60 s) for xtask to exit; its exit code.
    fn wait(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            while let Ok(bytes) = self.output.try_recv() {
                self.seen.push_str(&String::from_utf8_lossy(&bytes));
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("xtask did not exit; the terminal showed:\n{}", self.seen);
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A copy of versatilepb whose `board.toml` is edited by `edit`, and stand-in boot files
/// (`kernel`: `kernel_bytes`, an empty `initramfs`, a `config` with a `CONFIG_CMDLINE`):
/// enough for xtask to prepare a boot without building anything.
fn failing_board(name: &str, edit: impl Fn(String) -> String, kernel_bytes: &[u8]) -> BoardSandbox {
    let sandbox = BoardSandbox::new(name).removing_outputs();
    let toml = sandbox.read(&format!("boards/{name}/board.toml"));
    sandbox.write(&format!("boards/{name}/board.toml"), &edit(toml));
    sandbox.write("files/config", "CONFIG_CMDLINE=\"console=ttyAMA0\"\n");
    sandbox.write("files/initramfs", "");
    std::fs::write(sandbox.path("files/kernel"), kernel_bytes).unwrap();
    sandbox
}

/// Runs `qemu` with the sandbox's stand-in files and `extra`; exit code and stderr, the
/// sandbox's path redacted.
fn qemu_with_files(sandbox: &BoardSandbox, extra: &[&str]) -> (Option<i32>, String) {
    let files = |name: &str| sandbox.path("files").join(name);
    let out = sandbox
        .xtask()
        .args(["--board", sandbox.board(), "qemu", "--kernel"])
        .arg(files("kernel"))
        .arg("--kernel-config")
        .arg(files("config"))
        .arg("--initrd")
        .arg(files("initramfs"))
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("xtask runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let target = target.canonicalize().unwrap_or(target);
    let stderr = sandbox
        .redact_tmp(&stderr)
        .replace(target.to_str().unwrap(), "$TARGET");
    (out.status.code(), stderr)
}

/// Without `[kernel] dtb` (and so without `dtb_disable`): the stand-in files boot
/// with no device tree.
fn without_dtb(toml: String) -> String {
    support::without_kernel_keys(&toml, &["dtb", "dtb_disable"])
}

#[test]
fn a_command_line_the_kernel_would_not_parse_is_refused_with_122() {
    // Known before any file: no board files needed.
    let run = xtask(&[
        "qemu".into(),
        "--append".into(),
        "x=\"unbalanced".into(),
        "--exec".into(),
        "true".into(),
    ]);
    expect![[r#"
        exit Some(122)
        error: --append 'x="unbalanced' has an unbalanced `"`: the kernel would take the rest of its command line as one parameter, init's parameters included; pair the quote or remove it
    "#]].assert_eq(&format!("exit {:?}\n{}", run.code, run.stderr));
    let sandbox = failing_board("cmdline-too-long", without_dtb, b"");
    let long = format!("x={}", "y".repeat(1100));
    let (code, stderr) = qemu_with_files(&sandbox, &["--append", &long, "--exec", "true"]);
    expect![[r#"
        exit Some(122)
        error: the kernel command line would be 1177 bytes, more than the 1023 the kernel keeps (COMMAND_LINE_SIZE for arm): its end, init's parameters included, would be cut; shorten --append or CONFIG_CMDLINE
    "#]].assert_eq(&format!("exit {code:?}\n{stderr}"));
}

#[test]
fn qemu_that_cannot_start_exits_121() {
    let missing = failing_board(
        "qemu-missing",
        |t| without_dtb(t).replace("binary = \"qemu-system-arm\"", "binary = \"/no/such/qemu\""),
        b"",
    );
    let (code, stderr) = qemu_with_files(&missing, &["--exec", "true"]);
    expect![[r#"
        exit Some(121)
        error: /no/such/qemu: no such file: run `cargo xtask setup`
    "#]]
    .assert_eq(&format!("exit {code:?}\n{stderr}"));
    // A QEMU that refuses its arguments: a message on stderr, exit 1, no console output.
    let failing = failing_board("qemu-fails", without_dtb, b"");
    let fake = failing.path("fake-qemu");
    support::write_executable(
        &fake,
        "#!/bin/sh\necho \"fake-qemu: could not load kernel\" >&2\nexit 1\n",
    );
    let toml_path = format!("boards/{}/board.toml", failing.board());
    let toml = failing.read(&toml_path).replace(
        "binary = \"qemu-system-arm\"",
        &format!("binary = \"{}\"", fake.display()),
    );
    failing.write(&toml_path, &toml);
    let (code, stderr) = qemu_with_files(&failing, &["--exec", "true"]);
    expect![[r#"
        exit Some(121)
        error: qemu failed to start (exit status: 1): fake-qemu: could not load kernel
        the console and qemu's messages: target/minilinux/qemu-fails/logs/qemu.log
    "#]]
    .assert_eq(&format!("exit {code:?}\n{stderr}"));
}

#[test]
fn a_garbage_kernel_is_a_silent_console_with_123() {
    if which("qemu-system-arm").is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: a_garbage_kernel_is_a_silent_console_with_123: qemu-system-arm is not installed (cargo xtask setup)"
        );
        return;
    }
    let sandbox = failing_board("garbage-kernel", without_dtb, &[0xffu8; 4096]);
    let (code, stderr) = qemu_with_files(&sandbox, &["--exec", "true", "--silent-timeout", "3"]);
    expect![[r#"
        exit Some(123)
        error: the console printed nothing within 3s of qemu's start (--silent-timeout): the kernel did not run (is $TMP/files/kernel a kernel for QEMU's `versatilepb` machine?) or wrote elsewhere (does console= name the board's serial port?); `-v` shows kernel messages
        the console and qemu's messages: target/minilinux/garbage-kernel/logs/qemu.log
    "#]].assert_eq(&format!("exit {code:?}\n{stderr}"));
    let log = sandbox.out_dir().join("logs/qemu.log");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.starts_with("$ qemu-system-arm -M versatilepb"), "{log}");
}

/// The program's path on `PATH`.
fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}
