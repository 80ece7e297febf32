//! What one QEMU run boots: the board's machine, the kernel, dtb and
//! initramfs, and the kernel command line; and the QEMU command for it.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use std::process::Command;
use std::sync::Arc;

use super::accel::{self, Accel};
use super::cmdline::{self, compose, init_params, BuiltinCmdline, CmdlineMode};
use super::command_file;
use super::exec::{self, Echo, ExecOptions, ExecOutcome, ExecResult};
use crate::board::{Board, QemuSpec};
use crate::layout::display_path;

/// Files given on the command line instead of the board's build outputs.
#[derive(Debug, Clone, Default)]
pub struct FileOverrides {
    /// `--kernel`: a kernel image built elsewhere.
    pub kernel: Option<Utf8PathBuf>,
    /// `--dtb`: a device tree blob.
    pub dtb: Option<Utf8PathBuf>,
    /// `--kernel-config`: the `.config` `--kernel` was built from.
    pub kernel_config: Option<Utf8PathBuf>,
    /// `--initrd`: an initramfs.
    pub initrd: Option<Utf8PathBuf>,
}

/// The files QEMU loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootFiles {
    /// Kernel image (`-kernel`).
    pub kernel: Utf8PathBuf,
    /// Device tree blob (`-dtb`), if the board boots with one.
    pub dtb: Option<Utf8PathBuf>,
    /// Initramfs (`-initrd`).
    pub initrd: Utf8PathBuf,
    /// The kernel's `.config`, read for `CONFIG_CMDLINE`; `None` when unknown.
    pub kernel_config: Option<Utf8PathBuf>,
}

/// What to boot and how: files, `--append` words, an `--exec` command.
#[derive(Debug, Clone, Default)]
pub struct BootRequest {
    /// Files replacing the board's outputs.
    pub files: FileOverrides,
    /// `--append`: added to the kernel command line.
    pub append: Vec<String>,
    /// `--exec` or `--exec-file`: the script init runs instead of a shell (any bytes).
    pub exec: Option<Vec<u8>>,
}

/// One QEMU run, ready to start.
#[derive(Debug, Clone)]
pub struct Boot {
    /// The board's `[qemu]`.
    pub qemu: QemuSpec,
    /// What QEMU loads.
    pub files: BootFiles,
    /// The `-append` value, if any.
    pub append: Option<String>,
    /// The command line the kernel will run with: `CONFIG_CMDLINE` and `-append` combined.
    pub cmdline: String,
    /// What the user should know before booting (e.g. `--append` ignored).
    pub warnings: Vec<String>,
    /// KVM or TCG.
    pub accel: Accel,
    /// Lines worth showing that are not warnings (e.g. why KVM is not used).
    pub notes: Vec<String>,
    /// With a command: the initramfs QEMU boots, the command's archive then `files.initrd`
    /// (a temp file, removed with the last clone of the `Boot`).
    pub exec_initrd: Option<Arc<command_file::ExecInitrd>>,
    /// Where [`Boot::exec`] writes the console and QEMU's messages.
    pub log: Utf8PathBuf,
}

impl BootFiles {
    /// The board's build outputs, or the overrides.
    pub fn locate(board: &Board, overrides: &FileOverrides) -> BootFiles {
        // A kernel from elsewhere was not built from the board's .config.
        let kernel_config = match (&overrides.kernel_config, &overrides.kernel) {
            (Some(config), _) => Some(config.clone()),
            (None, Some(_)) => None,
            (None, None) => Some(board.kernel_config()),
        };
        BootFiles {
            kernel: overrides
                .kernel
                .clone()
                .unwrap_or_else(|| board.kernel_image()),
            dtb: overrides.dtb.clone().or_else(|| board.dtb()),
            initrd: overrides
                .initrd
                .clone()
                .unwrap_or_else(|| board.current_initramfs()),
            kernel_config,
        }
    }

    /// Fails, naming the fix, when a file is missing.
    pub fn check(&self, overrides: &FileOverrides) -> Result<()> {
        let wanted = [
            (
                "kernel image",
                Some(&self.kernel),
                overrides.kernel.is_some(),
                "--kernel",
                "build",
            ),
            (
                "device tree blob",
                self.dtb.as_ref(),
                overrides.dtb.is_some(),
                "--dtb",
                "build",
            ),
            (
                "initramfs",
                Some(&self.initrd),
                overrides.initrd.is_some(),
                "--initrd",
                "pack",
            ),
            (
                "kernel .config",
                self.kernel_config.as_ref(),
                overrides.kernel_config.is_some(),
                "--kernel-config",
                "configure",
            ),
        ];
        for (what, path, given, flag, stage) in wanted {
            let Some(path) = path else { continue };
            if path.exists() {
                continue;
            }
            if given {
                bail!("{flag} {path}: no such file");
            }
            bail!(
                "{what} {} not found: run `cargo xtask {stage}` (or `cargo xtask all`)",
                display_path(path)
            );
        }
        Ok(())
    }
}

impl Boot {
    /// Locates and checks the files, checks QEMU is installed, composes the command
    /// line and chooses the accelerator (probing KVM if the board asks for it).
    pub fn prepare(board: &Board, request: &BootRequest) -> Result<Boot> {
        let mut boot = Boot::prepare_with(board, request, Accel::Default)?;
        let qemu = find_program(&board.spec.qemu.binary)?;
        let choice = accel::choose(board, &qemu, &boot.files.kernel, |timeout| {
            kvm_probe(board, request, timeout)
        })?;
        boot.accel = choice.accel;
        boot.notes.extend(choice.note);
        Ok(boot)
    }

    /// [`Boot::prepare`] with the accelerator given.
    fn prepare_with(board: &Board, request: &BootRequest, accel: Accel) -> Result<Boot> {
        // A bad --append is reported before anything about files.
        cmdline::check_append(&request.append)?;
        let generated = init_params(request.exec.is_some(), board.spec.qemu.can_poweroff);
        let files = BootFiles::locate(board, &request.files);
        files.check(&request.files)?;
        find_program(&board.spec.qemu.binary)?;
        let mut warnings = Vec::new();
        let builtin = builtin_cmdline(&files, &mut warnings)?;
        if request.exec.is_some() && builtin.mode == CmdlineMode::Force {
            bail!(
                "--exec passes {} on the kernel command line, but the kernel is built with \
                 CONFIG_CMDLINE_FORCE and ignores it: turn CONFIG_CMDLINE_FORCE off in {}",
                command_file::PARAM,
                display_path(&board.kernel_fragment())
            );
        }
        let composed = compose(&builtin, &request.append, &generated);
        let builtin_source = match &files.kernel_config {
            Some(config) => format!("CONFIG_CMDLINE in {}", display_path(config)),
            None => "the kernel command line".to_string(),
        };
        cmdline::check_effective(&composed.effective, &builtin_source, &board.spec.arch)?;
        warnings.extend(composed.warning);
        let exec_initrd = match &request.exec {
            Some(command) => Some(Arc::new(command_file::write(
                &board.out_dir(),
                &files.initrd,
                command,
            )?)),
            None => None,
        };
        Ok(Boot {
            qemu: board.spec.qemu.clone(),
            files,
            append: composed.append,
            cmdline: composed.effective,
            warnings,
            accel,
            notes: Vec::new(),
            exec_initrd,
            log: board.log_dir().join("qemu.log"),
        })
    }

    /// The QEMU command: the board's machine and flags, the files, the serial
    /// console on stdio (`-nographic`) and `-no-reboot`, so a guest reboot ends QEMU.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.qemu.binary);
        cmd.arg("-M").arg(&self.qemu.machine);
        cmd.args(&self.qemu.args);
        match self.accel {
            Accel::Default => {}
            Accel::Tcg => {
                cmd.args(["-accel", "tcg"]);
            }
            Accel::Kvm => {
                cmd.args(["-accel", "kvm"]).args(&self.qemu.kvm_args);
            }
        }
        cmd.arg("-kernel").arg(&self.files.kernel);
        if let Some(dtb) = &self.files.dtb {
            cmd.arg("-dtb").arg(dtb);
        }
        match &self.exec_initrd {
            Some(initrd) => cmd.arg("-initrd").arg(initrd.path()),
            None => cmd.arg("-initrd").arg(&self.files.initrd),
        };
        if let Some(append) = &self.append {
            cmd.arg("-append").arg(append);
        }
        cmd.arg("-nographic").arg("-no-reboot");
        cmd
    }

    /// Boots it (prepared with an `--exec` command) and waits for the command's status:
    /// see [`exec::run`].
    /// The console and QEMU's stderr are written to [`Boot::log`] (atomically) at the end.
    pub fn exec(&self, options: &ExecOptions) -> Result<ExecResult> {
        let command = self.command();
        let shown = crate::render::render_command(&command);
        let mut result = exec::run(command, options)?;
        let text = format!(
            "$ {shown}\n--- console\n{}\n--- qemu's stderr\n{}",
            result.console, result.qemu_stderr
        );
        result.log = crate::engine::write_atomic(&self.log, text.as_bytes())
            .ok()
            .map(|()| self.log.clone());
        Ok(result)
    }
}

/// The kernel's built-in command line from its `.config`; unknown without one (a warning).
fn builtin_cmdline(files: &BootFiles, warnings: &mut Vec<String>) -> Result<BuiltinCmdline> {
    Ok(match &files.kernel_config {
        Some(config) => BuiltinCmdline::read(config)?,
        None => {
            warnings.push(
                "--kernel without --kernel-config: its CONFIG_CMDLINE is unknown and \
                 -append replaces it unless the kernel has CONFIG_CMDLINE_EXTEND"
                    .to_string(),
            );
            BuiltinCmdline {
                text: String::new(),
                mode: CmdlineMode::Replace,
            }
        }
    })
}

/// Boots the request's files under KVM running `true`: `Ok(Ok)` when the guest reports
/// its status, `Ok(Err)` with what went wrong under KVM (QEMU's first error line, a
/// timeout, a panic); `Err` when the probe itself could not run (or was interrupted),
/// which says nothing about KVM.
fn kvm_probe(
    board: &Board,
    request: &BootRequest,
    timeout: std::time::Duration,
) -> Result<Result<(), String>> {
    let probe = BootRequest {
        files: request.files.clone(),
        append: vec!["quiet".to_string()],
        exec: Some(b"true".to_vec()),
    };
    let boot = Boot::prepare_with(board, &probe, Accel::Kvm)?;
    let result = boot
        .exec(&ExecOptions {
            timeout: Some(timeout),
            echo: Echo::Quiet,
            silent: Some(exec::SILENT_CONSOLE),
        })
        .context("probing KVM with a boot")?;
    Ok(match result.outcome {
        ExecOutcome::Exited(_) => Ok(()),
        ExecOutcome::Panic => Err("the guest kernel panicked".to_string()),
        ExecOutcome::Timeout => Err(format!("no status within {} s", timeout.as_secs())),
        ExecOutcome::Silent => Err(format!(
            "no console output within {} s",
            exec::SILENT_CONSOLE.as_secs()
        )),
        ExecOutcome::QemuExited(status) | ExecOutcome::QemuFailed(Some(status)) => {
            Err(format!("qemu exited ({status}): {}", result.qemu_said()))
        }
        ExecOutcome::QemuFailed(None) => Err(format!("qemu did not start: {}", result.qemu_said())),
    })
}

/// QEMU cannot be started: its program is missing (exit 121, docs/testing.md).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QemuMissing(String);

/// The full path of `program` if it is on `PATH` (or is a path to an existing file).
pub fn find_program(program: &str) -> Result<Utf8PathBuf, QemuMissing> {
    if program.contains('/') {
        if Utf8Path::new(program).is_file() {
            return Ok(program.into());
        }
        return Err(QemuMissing(format!(
            "{program}: no such file: run `cargo xtask setup`"
        )));
    }
    crate::layout::which(program).ok_or_else(|| {
        QemuMissing(format!(
            "`{program}` is not installed (not on PATH): run `cargo xtask setup`"
        ))
    })
}

/// A boot of the files in `$MINILINUX_QEMU_TEST_FILES` (`kernel`, `dtb`, `config`,
/// `initramfs`) on the default board; `None`, after a `skipped:` line, when it is unset.
#[cfg(test)]
pub fn test_boot(test: &str, request: BootRequest) -> Option<Boot> {
    use std::io::Write;
    let Some(dir) = std::env::var_os("MINILINUX_QEMU_TEST_FILES") else {
        // Straight to stderr: the test harness captures eprintln! of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {test}: set MINILINUX_QEMU_TEST_FILES to a directory with kernel, dtb, config, initramfs"
        );
        return None;
    };
    let dir = Utf8PathBuf::from(dir.to_string_lossy().into_owned());
    let board = Board::load(crate::board::DEFAULT_BOARD).expect("default board loads");
    let files = FileOverrides {
        kernel: Some(dir.join("kernel")),
        dtb: Some(dir.join("dtb")),
        kernel_config: Some(dir.join("config")),
        initrd: Some(dir.join("initramfs")),
    };
    Some(Boot::prepare(&board, &BootRequest { files, ..request }).expect("the test files boot"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::render_command;
    use expect_test::expect;

    fn versatilepb_boot(append: Option<&str>, dtb: bool) -> Boot {
        let board = Board::load("versatilepb").unwrap();
        Boot {
            qemu: board.spec.qemu.clone(),
            files: BootFiles {
                kernel: "/k/zImage".into(),
                dtb: dtb.then(|| "/k/versatile-pb.dtb".into()),
                initrd: "/k/initramfs.cpio.gz".into(),
                kernel_config: None,
            },
            append: append.map(str::to_string),
            cmdline: String::new(),
            warnings: Vec::new(),
            accel: Accel::Default,
            notes: Vec::new(),
            exec_initrd: None,
            log: "/k/qemu.log".into(),
        }
    }

    #[test]
    fn command_comes_from_the_board() {
        let boot = versatilepb_boot(Some("console=ttyAMA0 init.exec=\"uname -a\""), true);
        expect![[r#"qemu-system-arm -M versatilepb -m 128M -audio none -kernel /k/zImage -dtb /k/versatile-pb.dtb -initrd /k/initramfs.cpio.gz -append 'console=ttyAMA0 init.exec="uname -a"' -nographic -no-reboot"#]]
            .assert_eq(&render_command(&boot.command()));
    }

    #[test]
    fn command_without_dtb_or_append() {
        let boot = versatilepb_boot(None, false);
        expect!["qemu-system-arm -M versatilepb -m 128M -audio none -kernel /k/zImage -initrd /k/initramfs.cpio.gz -nographic -no-reboot"]
            .assert_eq(&render_command(&boot.command()));
    }

    #[test]
    fn missing_files_name_the_stage_or_flag_to_fix_them() {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(dir.path()).unwrap();
        fs_err::write(dir.join("zImage"), b"").unwrap();
        let files = |config: &str| BootFiles {
            kernel: dir.join("zImage"),
            dtb: None,
            initrd: dir.join("initramfs"),
            kernel_config: Some(dir.join(config)),
        };
        let show = |r: Result<()>| {
            r.map_or_else(
                |e| e.to_string().replace(dir.as_str(), "<dir>"),
                |()| "ok".into(),
            )
        };
        let given = FileOverrides {
            initrd: Some(dir.join("initramfs")),
            ..Default::default()
        };
        fs_err::write(dir.join(".config"), b"").unwrap();
        expect![[r#"
            initramfs <dir>/initramfs not found: run `cargo xtask pack` (or `cargo xtask all`)
            --initrd <dir>/initramfs: no such file
            ok"#]]
        .assert_eq(&format!(
            "{}\n{}\n{}",
            show(files(".config").check(&FileOverrides::default())),
            show(files(".config").check(&given)),
            show({
                fs_err::write(dir.join("initramfs"), b"").unwrap();
                files(".config").check(&given)
            }),
        ));
    }

    #[test]
    fn missing_qemu_names_setup() {
        expect!["`qemu-system-nonesuch` is not installed (not on PATH): run `cargo xtask setup`"]
            .assert_eq(
                &find_program("qemu-system-nonesuch")
                    .unwrap_err()
                    .to_string(),
            );
    }
}
