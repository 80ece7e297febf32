//! The end-to-end suite: boots the real system in QEMU and checks what it prints.
//!
//! Interactive checks drive QEMU through a pseudo-terminal, as a user's terminal
//! would ([`Session`]); command checks run the real `xtask` binary, as a user
//! would. Each check returns a [`Failure`] naming the command, what was expected
//! and the console output.

use anyhow::Context;
use camino::{Utf8Path, Utf8PathBuf};
use regex::bytes::Regex;
use std::fmt;
use std::process::Command;
use std::time::Duration;

use crate::board::Board;
use crate::engine::{files_under, render_error, Ctx};
use crate::kbuild::read_config;
use crate::qemu::{Boot, BootRequest, Echo, ExecOptions, FileOverrides, Session};
use crate::render::render_command;

/// How long a boot may take to reach the prompt under TCG.
const BOOT: Duration = Duration::from_secs(90);
/// How long one shell command may take.
const STEP: Duration = Duration::from_secs(20);

/// Why a check failed: the command, what was expected, and what the console showed.
#[derive(Debug, Clone)]
pub struct Failure {
    command: String,
    expected: String,
    output: String,
}

impl Failure {
    /// A failure of `command`, which should have given `expected` but gave `output`.
    pub fn new(command: &str, expected: &str, output: impl Into<String>) -> Failure {
        Failure {
            command: command.to_string(),
            expected: expected.to_string(),
            output: output.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command:  {}", self.command)?;
        writeln!(f, "expected: {}", self.expected)?;
        write!(f, "output:\n{}", self.output)
    }
}

type Outcome = Result<(), Failure>;

/// One end-to-end check.
struct Check {
    name: &'static str,
    run: fn(&Ctx) -> Outcome,
}

const CHECKS: &[Check] = &[
    Check {
        name: "boots to a shell: uname, cpuinfo, cmdline",
        run: boots_to_shell,
    },
    Check {
        name: "mounts, device nodes and busybox applets",
        run: mounts_and_devices,
    },
    Check {
        name: "shows what the board's [e2e] shows lists",
        run: board_shows,
    },
    Check {
        name: "shell job control: Ctrl-C interrupts sleep",
        run: job_control,
    },
    Check {
        name: "orphaned zombies are reaped",
        run: reaps_orphans,
    },
    Check {
        name: "exit in the shell brings a new one",
        run: respawns_shell,
    },
    Check {
        name: "poweroff ends qemu",
        run: |ctx| stops_qemu(ctx, "poweroff"),
    },
    Check {
        name: "reboot ends qemu",
        run: |ctx| stops_qemu(ctx, "reboot"),
    },
    Check {
        name: "halt ends qemu",
        run: |ctx| stops_qemu(ctx, "halt"),
    },
    Check {
        name: "Ctrl-Alt-Del (SIGINT to PID 1) reboots, which ends qemu",
        run: ctrl_alt_del,
    },
    Check {
        name: "qemu --exec returns 0, 1 and 127",
        run: exec_statuses,
    },
    Check {
        name: "qemu --timeout is reported as a timeout",
        run: exec_timeout,
    },
    Check {
        name: "a kernel panic is reported as such",
        run: kernel_panic,
    },
    Check {
        name: "boots with every compression the kernel supports",
        run: every_compression,
    },
    Check {
        name: "pack is reproducible and GNU cpio lists the manifest",
        run: pack_reproducible,
    },
    Check {
        name: "kconfig round-trips every defconfig of the fetched trees",
        run: kconfig_round_trip,
    },
    Check {
        name: "kconfig set then all --exec shows the new command line",
        run: kconfig_set_boots,
    },
    Check {
        name: "bench's boot part: every variant reaches its prompt",
        run: bench_boots,
    },
];

/// How many checks [`run`] runs with `filter`.
pub fn count(filter: Option<&str>) -> usize {
    CHECKS
        .iter()
        .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
        .count()
}

/// Runs every check whose name contains `filter`, reporting each result.
pub fn run(ctx: &Ctx, filter: Option<&str>, report: &mut dyn FnMut(&str, Outcome)) {
    for check in CHECKS
        .iter()
        .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
    {
        eprintln!("...      {}", check.name);
        report(check.name, (check.run)(ctx));
    }
}

/// A shell on the guest's console, through a pty.
struct Shell {
    session: Session,
    counter: usize,
}

impl Shell {
    fn boot(ctx: &Ctx) -> Result<Shell, Failure> {
        let boot = prepare(&ctx.board, BootRequest::default())?;
        let mut session = Session::spawn(&boot)
            .map_err(|e| Failure::new("qemu (interactive)", "qemu starts", format!("{e:#}")))?;
        let prompt = prompt_regex();
        session
            .expect(prompt, BOOT)
            .map_err(|e| Failure::new("qemu (interactive)", "a shell prompt", format!("{e:#}")))?;
        Ok(Shell {
            session,
            counter: 0,
        })
    }

    /// Runs `line` and returns its output and exit status (read from a marker line).
    fn run(&mut self, line: &str) -> Result<(String, i32), Failure> {
        self.counter += 1;
        let marker = format!("@{}@", self.counter);
        // The typed echo shows `$?`, never the digits: only the real output matches.
        let full = format!("{line}; echo \"{marker}$?{marker}\"");
        let fail = |s: &Self, e: anyhow::Error| {
            Failure::new(
                line,
                "the command finishes",
                format!("{e:#}\n{}", s.session.tail()),
            )
        };
        self.session.send_line(&full).map_err(|e| fail(self, e))?;
        let re = Regex::new(&format!(r"{marker}(\d+){marker}")).expect("valid regex");
        let found = self
            .session
            .expect(re.clone(), STEP)
            .map_err(|e| fail(self, e))?;
        let before = found.before.replace("\r\n", "\n");
        let status = re
            .captures(found.matched.as_bytes())
            .and_then(|c| std::str::from_utf8(&c[1]).ok()?.parse().ok())
            .unwrap_or(-1);
        // Drop the echoed command line itself, which the line editor may have
        // wrapped over several lines: it ends with the marker's literal `$?`.
        let before = before.replace('\r', "");
        let echo_end = format!("{marker}$?{marker}\"");
        let after_echo = before
            .find(&echo_end)
            .map(|at| &before[at + echo_end.len()..])
            .unwrap_or(&before);
        let output = after_echo
            .split_once('\n')
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_default();
        self.session
            .expect(prompt_regex(), STEP)
            .map_err(|e| fail(self, e))?;
        Ok((output, status))
    }

    /// Runs `line`, which must succeed and print text containing every one of `wanted`.
    fn expect_output(&mut self, line: &str, wanted: &[&str]) -> Outcome {
        let (output, status) = self.run(line)?;
        let missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|w| !output.contains(w))
            .collect();
        if status != 0 || !missing.is_empty() {
            return Err(Failure::new(
                line,
                &format!("exit status 0 and output containing {wanted:?}"),
                format!("status {status}\n{output}"),
            ));
        }
        Ok(())
    }

    fn poweroff(mut self) -> Outcome {
        let _ = self.session.send_line("poweroff");
        self.session
            .wait_exit(Duration::from_secs(30))
            .map(|_| ())
            .map_err(|e| {
                Failure::new(
                    "poweroff",
                    "qemu exits",
                    format!("{e:#}\n{}", self.session.tail()),
                )
            })
    }
}

/// busybox sh's root prompt: `~ # `, `/ # `.
fn prompt_regex() -> Regex {
    Regex::new(r"(?m)^[^\n]*[#$] $").expect("valid regex")
}

fn prepare(board: &Board, request: BootRequest) -> Result<Boot, Failure> {
    Boot::prepare(board, &request)
        .map_err(|e| Failure::new("qemu", "the boot files are ready", format!("{e:#}")))
}

fn boots_to_shell(ctx: &Ctx) -> Outcome {
    let expected = &ctx.board.spec.e2e;
    let mut sh = Shell::boot(ctx)?;
    if let Some(machine) = &expected.uname_machine {
        sh.expect_output("uname -m", &[machine])?;
    }
    let cpuinfo: Vec<&str> = expected.cpuinfo.iter().map(String::as_str).collect();
    sh.expect_output("cat /proc/cpuinfo", &cpuinfo)?;
    let cmdline = builtin_cmdline(&ctx.board)?;
    sh.expect_output("cat /proc/cmdline", &[&cmdline])?;
    sh.poweroff()
}

/// The kernel's `CONFIG_CMDLINE`, from the board's configured `.config`.
fn builtin_cmdline(board: &Board) -> Result<String, Failure> {
    let config = read_config(&board.kernel_config())
        .map_err(|e| Failure::new("read .config", "a kernel .config", format!("{e:#}")))?;
    match config.get("CMDLINE") {
        Some(kconfig::Value::Str(s)) => Ok(s.clone()),
        other => Err(Failure::new(
            "CONFIG_CMDLINE",
            "a string in the kernel .config",
            format!("{other:?}"),
        )),
    }
}

/// Each command of the board's `[e2e] shows`, run in one boot, must succeed and
/// print its texts: for versatilepb, what the seed's session showed.
fn board_shows(ctx: &Ctx) -> Outcome {
    let mut sh = Shell::boot(ctx)?;
    for (command, texts) in &ctx.board.spec.e2e.shows {
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        sh.expect_output(command, &texts)?;
    }
    sh.poweroff()
}

fn mounts_and_devices(ctx: &Ctx) -> Outcome {
    let mut sh = Shell::boot(ctx)?;
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
    let console = format!("/dev/{}", ctx.board.spec.qemu.console);
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

fn job_control(ctx: &Ctx) -> Outcome {
    let mut sh = Shell::boot(ctx)?;
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

fn reaps_orphans(ctx: &Ctx) -> Outcome {
    let mut sh = Shell::boot(ctx)?;
    // The subshell exits at once, so `sleep 1` is re-parented to PID 1; when it
    // exits, only init can reap it.
    sh.expect_output(
        "(sleep 1 &); sleep 3; echo zombies=$(cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z ')",
        &["zombies=0"],
    )?;
    sh.poweroff()
}

fn respawns_shell(ctx: &Ctx) -> Outcome {
    let mut sh = Shell::boot(ctx)?;
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

fn stops_qemu(ctx: &Ctx, command: &str) -> Outcome {
    let mut sh = Shell::boot(ctx)?;
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
fn ctrl_alt_del(ctx: &Ctx) -> Outcome {
    let mut sh = Shell::boot(ctx)?;
    sh.expect_output("cat /proc/sys/kernel/ctrl-alt-del", &["0"])?;
    ends_qemu(&mut sh, "kill -INT 1")?;
    let wanted = "init: reboot: stopping all processes";
    if sh.session.console().contains(wanted) {
        Ok(())
    } else {
        Err(Failure::new("kill -INT 1", wanted, sh.session.tail()))
    }
}

/// Where [`pin_binary`] keeps the running `xtask`.
fn pinned_binary(board: &Board) -> Utf8PathBuf {
    board.out_dir().join("e2e/xtask")
}

/// Copies the running `xtask` aside: `cargo test` relinks `target/debug/xtask`
/// (dev-dependencies change its features), and the checks must run this one.
pub fn pin_binary(board: &Board) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("finding the running xtask")?;
    let pinned = pinned_binary(board);
    fs_err::create_dir_all(pinned.parent().context("e2e dir")?)?;
    let tmp = pinned.with_extension("tmp");
    fs_err::copy(&exe, &tmp)?;
    fs_err::rename(&tmp, &pinned)?;
    Ok(())
}

/// Runs the real `xtask` binary for the board; returns exit code, stdout and stderr.
fn xtask(
    ctx: &Ctx,
    args: &[&str],
    env: &[(&str, &Utf8Path)],
) -> Result<(i32, String, String), Failure> {
    let mut cmd = Command::new(pinned_binary(&ctx.board));
    cmd.arg("--board").arg(&ctx.board.name).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let shown = render_command(&cmd);
    let out = cmd
        .output()
        .map_err(|e| Failure::new(&shown, "xtask runs", e.to_string()))?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

fn expect_exit(ctx: &Ctx, args: &[&str], code: i32, stdout_has: &str, stderr_has: &str) -> Outcome {
    let (got, stdout, stderr) = xtask(ctx, args, &[])?;
    if got != code || !stdout.contains(stdout_has) || !stderr.contains(stderr_has) {
        return Err(Failure::new(
            &format!("cargo xtask {}", args.join(" ")),
            &format!("exit code {code}, stdout containing {stdout_has:?}, stderr containing {stderr_has:?}"),
            format!("exit code {got}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"),
        ));
    }
    Ok(())
}

fn exec_statuses(ctx: &Ctx) -> Outcome {
    expect_exit(
        ctx,
        &["qemu", "--exec", "echo hello-from-guest"],
        0,
        "hello-from-guest",
        "",
    )?;
    expect_exit(ctx, &["qemu", "--exec", "false"], 1, "", "")?;
    expect_exit(ctx, &["qemu", "--exec", "sh -c 'exit 3'"], 3, "", "")?;
    expect_exit(ctx, &["qemu", "--exec", "/no/such/command"], 127, "", "")
}

fn exec_timeout(ctx: &Ctx) -> Outcome {
    expect_exit(
        ctx,
        &["qemu", "--exec", "sleep 600", "--timeout", "20"],
        124,
        "",
        "timeout",
    )
}

fn kernel_panic(ctx: &Ctx) -> Outcome {
    // No /init to run: the kernel falls back to mounting root= (versatilepb's
    // root=/dev/ram0 fails: panic) or, on a board without root=, to init= (missing:
    // "Requested init failed", a panic), never to the initramfs's /sbin/init.
    expect_exit(
        ctx,
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

fn every_compression(ctx: &Ctx) -> Outcome {
    let board = &ctx.board;
    let config = read_config(&board.kernel_config())
        .map_err(|e| Failure::new("read .config", "a kernel .config", format!("{e:#}")))?;
    let dir =
        tempfile::tempdir().map_err(|e| Failure::new("tempdir", "a temp dir", e.to_string()))?;
    let mut tried = Vec::new();
    for compression in &rootfs::Compression::ALL {
        if let Some(symbol) = compression.kernel_symbol() {
            let symbol = symbol.trim_start_matches("CONFIG_");
            if !matches!(
                config.get(symbol),
                Some(kconfig::Value::Tristate(kconfig::Tristate::Yes))
            ) {
                continue;
            }
        }
        let out = Utf8PathBuf::try_from(dir.path().join(format!("initramfs.{compression:?}")))
            .expect("utf-8 temp path");
        let options = rootfs::PackOptions {
            manifest: board.manifest().into(),
            vars: crate::stages::pack::manifest_vars(board),
            compression: *compression,
            mtime: 0,
        };
        rootfs::pack(&options, out.as_std_path()).map_err(|e| {
            Failure::new(
                &format!("pack {compression:?}"),
                "an archive",
                e.to_string(),
            )
        })?;
        let request = BootRequest {
            files: FileOverrides {
                initrd: Some(out.clone()),
                ..FileOverrides::default()
            },
            exec: Some("cat /proc/cmdline".into()),
            ..BootRequest::default()
        };
        let boot = prepare(board, request)?;
        let result = boot
            .exec(&ExecOptions {
                timeout: Some(Duration::from_secs(120)),
                echo: Echo::Quiet,
            })
            .map_err(|e| {
                Failure::new(
                    &format!("boot {compression:?} initramfs"),
                    "a boot",
                    format!("{e:#}"),
                )
            })?;
        if result.status() != Some(0) {
            return Err(Failure::new(
                &format!("qemu --initrd {out} --exec 'cat /proc/cmdline'"),
                "exit status 0",
                result.last_lines(40),
            ));
        }
        tried.push(format!("{compression:?}"));
    }
    if tried.len() < 2 {
        return Err(Failure::new(
            "every compression",
            "at least gzip and one more enabled in the kernel",
            format!("booted: {tried:?}"),
        ));
    }
    Ok(())
}

/// `cargo xtask bench --only boot` once per variant, in a temp dir: the seed's `/init`,
/// ours, the floor, ours booted quietly and the reference init each reach a prompt.
/// Times are not checked (they are the benchmark's business).
fn bench_boots(ctx: &Ctx) -> Outcome {
    let dir =
        tempfile::tempdir().map_err(|e| Failure::new("tempdir", "a temp dir", e.to_string()))?;
    let dir = camino::Utf8Path::from_path(dir.path())
        .ok_or_else(|| Failure::new("tempdir", "a UTF-8 path", "not UTF-8".to_string()))?;
    let lines = crate::bench::boot_smoke(ctx, dir).map_err(|e| {
        Failure::new(
            "bench --only boot (one run each)",
            "every variant boots to its prompt",
            format!("{e:#}"),
        )
    })?;
    let wanted = [
        "Run /init → prompt | rdinit=/bin/sh",
        "Run /init → prompt | seed /init",
        "Run /init → prompt | reference init",
        "QEMU start → prompt, quiet (as `cargo xtask qemu` boots)",
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|want| !lines.iter().any(|line| line == want))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            "bench --only boot (one run each)",
            &format!("rows {missing:?}"),
            lines.join("\n"),
        ))
    }
}

fn pack_reproducible(ctx: &Ctx) -> Outcome {
    let board = &ctx.board;
    let dir =
        tempfile::tempdir().map_err(|e| Failure::new("tempdir", "a temp dir", e.to_string()))?;
    let options = rootfs::PackOptions {
        manifest: board.manifest().into(),
        vars: crate::stages::pack::manifest_vars(board),
        compression: rootfs::Compression::None,
        mtime: 0,
    };
    let a = dir.path().join("a.cpio");
    let b = dir.path().join("b.cpio");
    for out in [&a, &b] {
        rootfs::pack(&options, out)
            .map_err(|e| Failure::new("pack", "an archive", e.to_string()))?;
    }
    let (bytes_a, bytes_b) = (
        std::fs::read(&a).unwrap_or_default(),
        std::fs::read(&b).unwrap_or_default(),
    );
    if bytes_a != bytes_b || bytes_a.is_empty() {
        return Err(Failure::new(
            "pack twice",
            "identical, non-empty archives",
            format!("{} and {} bytes differ", bytes_a.len(), bytes_b.len()),
        ));
    }
    let ours: Vec<String> = rootfs::list(&bytes_a)
        .map_err(|e| Failure::new("rootfs::list", "a listing", e.to_string()))?
        .into_iter()
        .map(|e| e.name)
        .collect();
    let cpio = Command::new("cpio")
        .args(["-it", "--quiet", "-F"])
        .arg(&a)
        .output()
        .map_err(|e| Failure::new("cpio -it", "cpio runs", e.to_string()))?;
    let theirs: Vec<String> = String::from_utf8_lossy(&cpio.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    if !cpio.status.success() || ours != theirs {
        return Err(Failure::new(
            "cpio -it",
            "the archive's entries as rootfs lists them",
            format!("ours: {ours:?}\ncpio: {theirs:?}"),
        ));
    }
    Ok(())
}

fn kconfig_round_trip(ctx: &Ctx) -> Outcome {
    let kernel = ctx.board.kernel_src().join("arch");
    let arches = fs_err::read_dir(&kernel)
        .map_err(|e| Failure::new("list arches", "the fetched kernel tree", e.to_string()))?;
    let mut folders: Vec<Utf8PathBuf> = arches
        .flatten()
        .filter_map(|arch| Utf8PathBuf::try_from(arch.path().join("configs")).ok())
        .collect();
    folders.push(ctx.board.busybox_src().join("configs"));
    let mut files = Vec::new();
    for folder in folders.iter().filter(|f| f.is_dir()) {
        let found = files_under(folder)
            .map_err(|e| Failure::new("list defconfigs", "a readable tree", format!("{e:#}")))?;
        files.extend(found);
    }
    files.push(ctx.board.kernel_config());
    files.push(ctx.board.busybox_config());
    if files.len() < 100 {
        return Err(Failure::new(
            "list defconfigs",
            "the fetched trees' defconfigs",
            format!("only {} files under {kernel}", files.len()),
        ));
    }
    let mut bad = Vec::new();
    for f in &files {
        let text = match std::fs::read(f)
            .context("read")
            .and_then(|b| String::from_utf8(b).context("utf-8"))
        {
            Ok(text) => text,
            Err(e) => {
                bad.push(format!("{f}: {e:#}"));
                continue;
            }
        };
        match kconfig::Config::parse(&text) {
            Ok(config) if config.to_string() == text => {}
            Ok(_) => bad.push(format!("{f}: printed back differently")),
            Err(e) => bad.push(format!("{f}: {e}")),
        }
    }
    if !bad.is_empty() {
        return Err(Failure::new(
            "parse and print every defconfig",
            &format!("{} files byte-identical", files.len()),
            bad.join("\n"),
        ));
    }
    Ok(())
}

fn kconfig_set_boots(ctx: &Ctx) -> Outcome {
    // Edit a copy of the board, never the user's files: same board name, so the
    // same build directory and an incremental kernel build.
    let boards =
        tempfile::tempdir().map_err(|e| Failure::new("tempdir", "a temp dir", e.to_string()))?;
    let boards_dir = Utf8PathBuf::try_from(boards.path().to_path_buf()).expect("utf-8 temp path");
    let copy = boards_dir.join(&ctx.board.name);
    copy_dir(&ctx.board.dir, &copy)
        .map_err(|e| Failure::new("copy board", "a copy", format!("{e:#}")))?;
    let env = [("MINILINUX_BOARDS_DIR", boards_dir.as_path())];
    let wanted = format!("{} minilinux.e2e=kconfig-set", builtin_cmdline(&ctx.board)?);
    let wanted = wanted.trim_start();
    let assignment = format!("CONFIG_CMDLINE={wanted}");
    let (code, out, err) = xtask(ctx, &["kconfig", "set", &assignment], &env)?;
    if code != 0 || !out.contains("minilinux.e2e=kconfig-set") {
        return Err(Failure::new(
            &format!("cargo xtask kconfig set '{assignment}'"),
            "exit 0 and a diff",
            format!("exit {code}\n{out}\n{err}"),
        ));
    }
    let (code, out, err) = xtask(ctx, &["all", "--exec", "cat /proc/cmdline"], &env)?;
    // Put the real board's build back whatever happened (incremental, cached).
    let restored = crate::pipeline::build_all(ctx);
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
