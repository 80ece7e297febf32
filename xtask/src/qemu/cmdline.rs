//! The kernel command line handed to QEMU's `-append`, composed so that the
//! kernel's built-in `CONFIG_CMDLINE` survives `--append` and `--exec`.
//!
//! A bootloader's command line (QEMU's `-append`, which becomes the device
//! tree's `/chosen/bootargs` or an ATAG) *replaces* `CONFIG_CMDLINE` whenever it
//! is not empty, unless the kernel was built with `CONFIG_CMDLINE_EXTEND` (the
//! built-in line is added to it) or `CONFIG_CMDLINE_FORCE` (the bootloader's is
//! ignored); see drivers/of/fdt.c and arch/arm/kernel/atags_parse.c. x86 spells
//! the same choices `CONFIG_CMDLINE_BOOL` and `CONFIG_CMDLINE_OVERRIDE`.

use anyhow::{Context, Result};
use camino::Utf8Path;
use kconfig::{Config, Tristate, Value};

use super::command_file;
use crate::kbuild::read_config;

/// How a kernel combines its built-in command line with the bootloader's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmdlineMode {
    /// The bootloader's line, when not empty, replaces the built-in one (the default).
    Replace,
    /// The built-in line is added after the bootloader's (`CONFIG_CMDLINE_EXTEND`).
    Extend,
    /// The built-in line is put before the bootloader's (x86's `CONFIG_CMDLINE_BOOL`).
    Prepend,
    /// The bootloader's line is ignored (`CONFIG_CMDLINE_FORCE`).
    Force,
}

/// A kernel's built-in command line, as its `.config` states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinCmdline {
    /// `CONFIG_CMDLINE`, empty when unset.
    pub text: String,
    /// How the kernel combines it with `-append`.
    pub mode: CmdlineMode,
}

/// The `-append` value to pass, and what the user should know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    /// The whole `-append` value; `None` to pass no `-append` at all.
    pub append: Option<String>,
    /// The command line the kernel will run with (for checks and messages).
    pub effective: String,
    /// Why part of the request cannot take effect.
    pub warning: Option<String>,
}

impl BuiltinCmdline {
    /// Reads `CONFIG_CMDLINE` and the `CONFIG_CMDLINE_*` mode from a parsed `.config`.
    pub fn from_config(config: &Config) -> BuiltinCmdline {
        let on = |symbol: &str| matches!(config.get(symbol), Some(Value::Tristate(Tristate::Yes)));
        let text = match config.get("CMDLINE") {
            Some(Value::Str(text)) => text.trim().to_string(),
            _ => String::new(),
        };
        let mode = if on("CMDLINE_FORCE") || on("CMDLINE_OVERRIDE") {
            CmdlineMode::Force
        } else if on("CMDLINE_EXTEND") {
            CmdlineMode::Extend
        } else if on("CMDLINE_BOOL") {
            CmdlineMode::Prepend
        } else {
            CmdlineMode::Replace
        };
        BuiltinCmdline { text, mode }
    }

    /// Reads a kernel's `.config` file.
    pub fn read(path: &Utf8Path) -> Result<BuiltinCmdline> {
        let config = read_config(path).with_context(|| {
            format!("cannot read the kernel command line from {path}: run `cargo xtask configure`")
        })?;
        Ok(BuiltinCmdline::from_config(&config))
    }
}

/// Composes `-append` from the kernel's built-in line, the user's `--append`
/// words and the parameters xtask adds for init (in that order). A bare flag
/// (a word without `=`, e.g. `quiet`) that the built-in line already has is not
/// added again: flags say the same once or twice.
pub fn compose(builtin: &BuiltinCmdline, user: &[String], generated: &[String]) -> Composed {
    let builtin_words: Vec<&str> = builtin.text.split_whitespace().collect();
    let extra: Vec<&str> = user
        .iter()
        .chain(generated)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .filter(|s| s.contains('=') || !builtin_words.contains(s))
        .collect();
    let joined = |parts: &[&str]| {
        parts
            .iter()
            .copied()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    if extra.is_empty() {
        // No -append at all: every mode then boots with CONFIG_CMDLINE as it is.
        return Composed {
            append: None,
            effective: builtin.text.clone(),
            warning: None,
        };
    }
    let extra = extra.join(" ");
    match builtin.mode {
        CmdlineMode::Replace => {
            let line = joined(&[&builtin.text, &extra]);
            Composed {
                append: Some(line.clone()),
                effective: line,
                warning: None,
            }
        }
        CmdlineMode::Extend => Composed {
            // drivers/of/fdt.c appends CONFIG_CMDLINE after the bootloader's line.
            effective: joined(&[&extra, &builtin.text]),
            append: Some(extra),
            warning: None,
        },
        CmdlineMode::Prepend => Composed {
            effective: joined(&[&builtin.text, &extra]),
            append: Some(extra),
            warning: None,
        },
        CmdlineMode::Force => Composed {
            append: None,
            effective: builtin.text.clone(),
            warning: Some(format!(
                "the kernel is built with CONFIG_CMDLINE_FORCE: it ignores `{extra}`; \
                 disable CONFIG_CMDLINE_FORCE in the board's kernel fragment to pass parameters"
            )),
        },
    }
}

/// A kernel command line the kernel would not take as written: refused before booting
/// (exit 122, docs/testing.md), since the kernel would boot anyway and init's
/// parameters would be lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmdlineError {
    /// A `"` without its pair: the kernel's splitter (lib/cmdline.c `next_arg`) runs
    /// the parameter to the end of the line, swallowing every parameter after it.
    #[error(
        "{part} has an unbalanced `\"`: the kernel would take the rest of its command line \
         as one parameter, init's parameters included; pair the quote or remove it"
    )]
    UnbalancedQuote {
        /// Where the quote is: `--append '...'` or `CONFIG_CMDLINE in <file>`.
        part: String,
    },
    /// Longer than the kernel's `COMMAND_LINE_SIZE`: the kernel cuts the end without a word.
    #[error(
        "the kernel command line would be {len} bytes, more than the {max} the kernel keeps \
         (COMMAND_LINE_SIZE for {arch}): its end, init's parameters included, would be cut; \
         shorten --append or CONFIG_CMDLINE"
    )]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The most the kernel keeps.
        max: usize,
        /// The kernel's `ARCH`.
        arch: String,
    },
}

/// The first `--append` word with an odd number of `"`, when the words together have one:
/// known before any file is read.
pub fn check_append(user: &[String]) -> Result<(), CmdlineError> {
    let quotes = |s: &str| s.matches('"').count();
    if user.iter().map(|w| quotes(w)).sum::<usize>() % 2 == 0 {
        return Ok(());
    }
    let word = user.iter().find(|w| quotes(w) % 2 == 1).map_or("", |w| w);
    Err(CmdlineError::UnbalancedQuote {
        part: format!("--append '{word}'"),
    })
}

/// Checks the command line the kernel will run with: its quotes pair up (else the
/// built-in part, named `builtin_source`, is the culprit: `--append` was checked by
/// [`check_append`]) and it fits `COMMAND_LINE_SIZE` for `arch`.
pub fn check_effective(
    effective: &str,
    builtin_source: &str,
    arch: &str,
) -> Result<(), CmdlineError> {
    if effective.matches('"').count() % 2 == 1 {
        return Err(CmdlineError::UnbalancedQuote {
            part: builtin_source.to_string(),
        });
    }
    let max = command_line_size(arch);
    if effective.len() >= max {
        return Err(CmdlineError::TooLong {
            len: effective.len(),
            max: max - 1,
            arch: arch.to_string(),
        });
    }
    Ok(())
}

/// The kernel's `COMMAND_LINE_SIZE` (arch/*/include/uapi/asm/setup.h; the generic 512
/// otherwise), the terminating NUL included.
fn command_line_size(arch: &str) -> usize {
    match arch {
        "arm" | "riscv" | "powerpc" | "loongarch" => 1024,
        "arm64" | "x86" | "x86_64" | "i386" | "s390" => 2048,
        _ => 512,
    }
}

/// The kernel parameters xtask adds for the guest's init: the marker of a command in a
/// file of the initramfs (see [`command_file`](super::command_file)), `init.poweroff=reboot`
/// on machines that cannot power off.
pub fn init_params(exec: bool, can_poweroff: bool) -> Vec<String> {
    let mut params = Vec::new();
    if exec {
        params.push(command_file::PARAM.to_string());
    }
    if !can_poweroff {
        params.push("init.poweroff=reboot".to_string());
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    /// Composes from a `.config` snippet, `--append` words and an `--exec` command.
    fn check(config: &str, user: &[&str], exec: Option<&str>, expect: Expect) {
        let builtin = BuiltinCmdline::from_config(&Config::parse(config).unwrap());
        let user: Vec<String> = user.iter().map(|s| s.to_string()).collect();
        let generated = init_params(exec.is_some(), false);
        let composed = compose(&builtin, &user, &generated);
        let shown = format!(
            "mode: {:?}\nappend: {}\nkernel sees: {}\nwarning: {}",
            builtin.mode,
            composed.append.as_deref().unwrap_or("<none>"),
            composed.effective,
            composed.warning.as_deref().unwrap_or("<none>"),
        );
        expect.assert_eq(&shown);
    }

    #[test]
    fn replace_mode_passes_the_builtin_line_first() {
        check(
            "CONFIG_CMDLINE=\"console=ttyAMA0 root=/dev/ram0\"\nCONFIG_CMDLINE_FROM_BOOTLOADER=y\n",
            &["loglevel=3"],
            Some("cat /proc/cmdline"),
            expect![[r#"
                mode: Replace
                append: console=ttyAMA0 root=/dev/ram0 loglevel=3 init.exec_file=/.minilinux/exec init.poweroff=reboot
                kernel sees: console=ttyAMA0 root=/dev/ram0 loglevel=3 init.exec_file=/.minilinux/exec init.poweroff=reboot
                warning: <none>"#]],
        );
    }

    #[test]
    fn a_flag_the_builtin_line_has_is_not_added_twice() {
        check(
            "CONFIG_CMDLINE=\"console=ttyAMA0 quiet lpj=100\"\n",
            &["quiet", "debug", "lpj=200"],
            None,
            expect![[r#"
                mode: Replace
                append: console=ttyAMA0 quiet lpj=100 debug lpj=200 init.poweroff=reboot
                kernel sees: console=ttyAMA0 quiet lpj=100 debug lpj=200 init.poweroff=reboot
                warning: <none>"#]],
        );
    }

    #[test]
    fn replace_mode_with_nothing_added_still_stops_by_reboot() {
        check(
            "CONFIG_CMDLINE=\"console=ttyAMA0\"\n",
            &[],
            None,
            expect![[r#"
                mode: Replace
                append: console=ttyAMA0 init.poweroff=reboot
                kernel sees: console=ttyAMA0 init.poweroff=reboot
                warning: <none>"#]],
        );
    }

    #[test]
    fn extend_mode_passes_only_the_additions() {
        check(
            "CONFIG_CMDLINE=\"console=ttyAMA0\"\nCONFIG_CMDLINE_EXTEND=y\n",
            &["quiet"],
            Some("true"),
            expect![[r#"
                mode: Extend
                append: quiet init.exec_file=/.minilinux/exec init.poweroff=reboot
                kernel sees: quiet init.exec_file=/.minilinux/exec init.poweroff=reboot console=ttyAMA0
                warning: <none>"#]],
        );
    }

    #[test]
    fn x86_cmdline_bool_prepends_the_builtin_line() {
        check(
            "CONFIG_CMDLINE_BOOL=y\nCONFIG_CMDLINE=\"console=ttyS0\"\n# CONFIG_CMDLINE_OVERRIDE is not set\n",
            &[],
            Some("true"),
            expect![[r#"
                mode: Prepend
                append: init.exec_file=/.minilinux/exec init.poweroff=reboot
                kernel sees: console=ttyS0 init.exec_file=/.minilinux/exec init.poweroff=reboot
                warning: <none>"#]],
        );
    }

    #[test]
    fn force_mode_warns_that_additions_are_ignored() {
        check(
            "CONFIG_CMDLINE=\"console=ttyAMA0\"\nCONFIG_CMDLINE_FORCE=y\n",
            &["quiet"],
            None,
            expect![[r#"
                mode: Force
                append: <none>
                kernel sees: console=ttyAMA0
                warning: the kernel is built with CONFIG_CMDLINE_FORCE: it ignores `quiet init.poweroff=reboot`; disable CONFIG_CMDLINE_FORCE in the board's kernel fragment to pass parameters"#]],
        );
    }

    #[test]
    fn no_builtin_line_passes_only_the_additions() {
        check(
            "# CONFIG_CMDLINE_BOOL is not set\n",
            &["console=ttyS0", "  "],
            Some("uname -a"),
            expect![[r#"
                mode: Replace
                append: console=ttyS0 init.exec_file=/.minilinux/exec init.poweroff=reboot
                kernel sees: console=ttyS0 init.exec_file=/.minilinux/exec init.poweroff=reboot
                warning: <none>"#]],
        );
    }

    #[test]
    fn escaped_quotes_in_config_cmdline_are_kept() {
        check(
            "CONFIG_CMDLINE=\"console=ttyAMA0 init.shell=\\\"/bin/sh -l\\\"\"\n",
            &["x"],
            None,
            expect![[r#"
                mode: Replace
                append: console=ttyAMA0 init.shell="/bin/sh -l" x init.poweroff=reboot
                kernel sees: console=ttyAMA0 init.shell="/bin/sh -l" x init.poweroff=reboot
                warning: <none>"#]],
        );
    }

    #[test]
    fn command_lines_the_kernel_would_not_take_are_refused() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let show = |r: Result<(), CmdlineError>| r.map_or_else(|e| e.to_string(), |()| "ok".into());
        let long = format!("console=ttyAMA0 x={}", "y".repeat(1010));
        expect![[r#"
            ok
            ok
            --append 'a="b' has an unbalanced `"`: the kernel would take the rest of its command line as one parameter, init's parameters included; pair the quote or remove it
            CONFIG_CMDLINE in .config has an unbalanced `"`: the kernel would take the rest of its command line as one parameter, init's parameters included; pair the quote or remove it
            the kernel command line would be 1028 bytes, more than the 1023 the kernel keeps (COMMAND_LINE_SIZE for arm): its end, init's parameters included, would be cut; shorten --append or CONFIG_CMDLINE
            ok"#]].assert_eq(
            &[
                show(check_append(&words(&["a=\"b c\"", "quiet"]))),
                show(check_append(&words(&["a=\"b", "c\""]))),
                show(check_append(&words(&["quiet", "a=\"b", "d"]))),
                show(check_effective(
                    "console=ttyAMA0 x=\"",
                    "CONFIG_CMDLINE in .config",
                    "arm",
                )),
                show(check_effective(&long, "", "arm")),
                show(check_effective(&long, "", "arm64")),
            ]
            .join("\n"),
        );
    }

    #[test]
    fn nothing_to_add_passes_no_append() {
        let builtin = BuiltinCmdline {
            text: "console=ttyAMA0".into(),
            mode: CmdlineMode::Replace,
        };
        let composed = compose(&builtin, &[], &[]);
        assert_eq!(
            composed,
            Composed {
                append: None,
                effective: "console=ttyAMA0".into(),
                warning: None
            }
        );
    }
}
