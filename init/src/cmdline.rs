//! init's settings, read from the kernel command line (`/proc/cmdline`).
//!
//! The kernel treats dotted parameters such as `init.exec=` as module
//! parameters and never passes them to init, so init parses the whole line
//! itself, splitting it exactly as the kernel's `next_arg()` does
//! (lib/cmdline.c): whitespace separates parameters except inside double
//! quotes, and one pair of quotes around a value (or a whole parameter) is
//! dropped. Everything after a bare `--` is init's own argument list.
//!
//! Nothing is allocated: names and values are slices of the text, and
//! commands are built in fixed [`Argv`] buffers.

use crate::argv::Argv;
use crate::console::{Line, Piece};

/// Shell started when the command line names none.
pub const DEFAULT_SHELL: &[u8] = b"/bin/sh";
/// The most warnings kept; later ones are dropped.
const WARNINGS_MAX: usize = 8;

/// What the kernel command line asks of init.
pub struct Config<'a> {
    /// Command mode: run this instead of the shell, print its status, stop the machine.
    pub exec: Option<Argv>,
    /// Command mode with the command in a file (`init.exec_file=`): run it as a script.
    pub exec_file: Option<&'a [u8]>,
    /// The interactive shell and its arguments (`init.shell=`).
    pub shell: Argv,
    /// Host name from `init.hostname=`, preferred over `/etc/hostname`.
    pub hostname: Option<&'a [u8]>,
    /// `init.poweroff=reboot`: the board cannot power off, so stop by rebooting.
    pub poweroff_by_reboot: bool,
    /// Parameters init understood but could not use, for the console.
    pub warnings: Warnings<'a>,
}

/// A parameter init understood but could not use.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Warning<'a> {
    /// `init.exec=` with no words.
    EmptyExec,
    /// `init.exec=` with more words or bytes than a command can hold.
    ExecTooLong,
    /// `init.exec_file=` with no path.
    EmptyExecFile,
    /// `init.shell=` with no words.
    EmptyShell,
    /// `init.shell=` with more words or bytes than a command can hold.
    ShellTooLong,
    /// The words after `--`, more than a command can hold.
    DashesTooLong,
    /// `init.poweroff=` with this value, neither `reboot` nor `poweroff`.
    BadPoweroff(&'a [u8]),
    /// Both `init.exec=` and `--` give a command.
    BothCommands,
    /// `init.exec_file=` and also `init.exec=` or `--` give a command.
    FileAndCommand,
}

/// The warnings of one command line, in order.
#[derive(Clone, Copy)]
pub struct Warnings<'a> {
    list: [Option<Warning<'a>>; WARNINGS_MAX],
}

impl<'a> Warnings<'a> {
    fn push(&mut self, warning: Warning<'a>) {
        if let Some(slot) = self.list.iter_mut().find(|w| w.is_none()) {
            *slot = Some(warning);
        }
    }

    /// Every warning, in the order of the parameters.
    pub fn iter(&self) -> impl Iterator<Item = Warning<'a>> + '_ {
        self.list.iter().filter_map(|w| *w)
    }
}

impl Piece for Warning<'_> {
    fn put(&self, line: &mut Line) {
        let shell = "starting the shell";
        let parts: [&[u8]; 3] = match *self {
            Warning::EmptyExec => [b"init.exec= is empty: ", shell.as_bytes(), b""],
            Warning::ExecTooLong => [b"init.exec= is too long: ", shell.as_bytes(), b""],
            Warning::EmptyExecFile => [b"init.exec_file= is empty: ignored", b"", b""],
            Warning::EmptyShell => [b"init.shell= is empty: using ", DEFAULT_SHELL, b""],
            Warning::ShellTooLong => [b"init.shell= is too long: using ", DEFAULT_SHELL, b""],
            Warning::DashesTooLong => [
                b"the command after `--` is too long: ",
                shell.as_bytes(),
                b"",
            ],
            Warning::BadPoweroff(value) => [
                b"init.poweroff=",
                value,
                b" is not understood: expected `reboot` or `poweroff`",
            ],
            Warning::BothCommands => [
                b"both init.exec= and `--` give a command: running init.exec=",
                b"",
                b"",
            ],
            Warning::FileAndCommand => [
                b"init.exec_file= and another command are given: running init.exec_file=",
                b"",
                b"",
            ],
        };
        for part in parts {
            line.push(part);
        }
    }
}

/// One parameter as the kernel splits it: `name` or `name=value`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Param<'a> {
    name: &'a [u8],
    value: Option<&'a [u8]>,
}

fn is_kernel_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn skip_spaces(args: &[u8]) -> &[u8] {
    let start = args
        .iter()
        .position(|&b| !is_kernel_space(b))
        .unwrap_or(args.len());
    args.get(start..).unwrap_or(&[])
}

/// Splits off the first parameter of `args` (which starts at a non-space) the way
/// the kernel's `next_arg()` does; returns it and the rest, leading spaces skipped.
fn next_param(args: &[u8]) -> (Param<'_>, &[u8]) {
    let mut args = args;
    let mut in_quote = false;
    let mut quoted = false;
    if args.first() == Some(&b'"') {
        args = args.get(1..).unwrap_or(&[]);
        in_quote = true;
        quoted = true;
    }
    let mut equals = None;
    let mut end = args.len();
    for (i, &b) in args.iter().enumerate() {
        if is_kernel_space(b) && !in_quote {
            end = i;
            break;
        }
        if equals.is_none() && b == b'=' {
            equals = Some(i);
        }
        if b == b'"' {
            in_quote = !in_quote;
        }
    }
    let mut token = args.get(..end).unwrap_or(&[]);
    // A leading quote pairs with a trailing one, wherever the value starts.
    if quoted && token.last() == Some(&b'"') {
        token = token.get(..token.len() - 1).unwrap_or(&[]);
    }
    let param = match equals {
        None => Param {
            name: token,
            value: None,
        },
        Some(eq) => {
            let name = token.get(..eq).unwrap_or(token);
            let mut value = token.get(eq + 1..).unwrap_or(&[]);
            if value.first() == Some(&b'"') {
                value = value.get(1..).unwrap_or(&[]);
                if !quoted && value.last() == Some(&b'"') {
                    value = value.get(..value.len() - 1).unwrap_or(&[]);
                }
            }
            Param {
                name,
                value: Some(value),
            }
        }
    };
    (param, skip_spaces(args.get(end..).unwrap_or(&[])))
}

/// The parameters of `text`, in order.
fn params(text: &[u8]) -> impl Iterator<Item = Param<'_>> {
    let mut rest = skip_spaces(text);
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (param, next) = next_param(rest);
        rest = next;
        Some(param)
    })
}

/// Splits a command given as one parameter value into words, appended to
/// `out`: whitespace separates words, single or double quotes group (and are
/// removed), and outside quotes a backslash keeps the next byte as it is (so
/// `'\''` puts a single quote inside a single-quoted word, as in a shell).
pub fn split_words(value: &[u8], out: &mut Argv) {
    let mut in_word = false;
    let mut quote = None;
    let mut bytes = value.iter().copied();
    while let Some(c) = bytes.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => out.push_byte(c),
            None if is_kernel_space(c) => {
                if in_word {
                    out.end_word();
                    in_word = false;
                }
            }
            None => {
                if !in_word {
                    out.begin_word();
                    in_word = true;
                }
                match c {
                    b'\\' => {
                        if let Some(next) = bytes.next() {
                            out.push_byte(next);
                        }
                    }
                    b'\'' | b'"' => quote = Some(c),
                    _ => out.push_byte(c),
                }
            }
        }
    }
    if in_word {
        out.end_word();
    }
}

/// The words of a command parameter's value; `Err` with the warning to give
/// when there are none or too many.
fn command(
    value: &[u8],
    empty: Warning<'static>,
    too_long: Warning<'static>,
) -> Result<Argv, Warning<'static>> {
    let mut argv = Argv::new();
    split_words(value, &mut argv);
    if argv.overflowed() {
        Err(too_long)
    } else if argv.is_empty() {
        Err(empty)
    } else {
        Ok(argv)
    }
}

/// Reads init's settings from the text of `/proc/cmdline`.
pub fn parse(cmdline: &[u8]) -> Config<'_> {
    let mut config = Config {
        exec: None,
        exec_file: None,
        shell: Argv::of(&[DEFAULT_SHELL]),
        hostname: None,
        poweroff_by_reboot: false,
        warnings: Warnings {
            list: [None; WARNINGS_MAX],
        },
    };
    let mut all = params(cmdline);
    for Param { name, value } in all.by_ref() {
        if value.is_none() && name == b"--" {
            break;
        }
        let value = value.unwrap_or(&[]);
        match name {
            b"init.exec" => {
                config.exec = match command(value, Warning::EmptyExec, Warning::ExecTooLong) {
                    Ok(argv) => Some(argv),
                    Err(warning) => {
                        config.warnings.push(warning);
                        None
                    }
                }
            }
            b"init.shell" => {
                config.shell = match command(value, Warning::EmptyShell, Warning::ShellTooLong) {
                    Ok(argv) => argv,
                    Err(warning) => {
                        config.warnings.push(warning);
                        Argv::of(&[DEFAULT_SHELL])
                    }
                }
            }
            b"init.exec_file" => {
                config.exec_file = Some(value).filter(|v| !v.is_empty());
                if config.exec_file.is_none() {
                    config.warnings.push(Warning::EmptyExecFile);
                }
            }
            b"init.hostname" => config.hostname = Some(value).filter(|v| !v.is_empty()),
            b"init.poweroff" => match value {
                b"reboot" => config.poweroff_by_reboot = true,
                b"poweroff" => config.poweroff_by_reboot = false,
                other => config.warnings.push(Warning::BadPoweroff(other)),
            },
            _ => {}
        }
    }
    // What is left followed a bare `--`: one word per parameter.
    let mut words = Argv::new();
    for Param { name, value } in all {
        words.begin_word();
        words.push_bytes(name);
        if let Some(value) = value {
            words.push_byte(b'=');
            words.push_bytes(value);
        }
        words.end_word();
    }
    if words.overflowed() {
        config.warnings.push(Warning::DashesTooLong);
    } else if config.exec.is_some() {
        if !words.is_empty() {
            config.warnings.push(Warning::BothCommands);
        }
    } else if !words.is_empty() {
        config.exec = Some(words);
    }
    if config.exec_file.is_some() && config.exec.take().is_some() {
        config.warnings.push(Warning::FileAndCommand);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    fn words(argv: &Argv) -> Vec<String> {
        argv.iter().map(|w| text(w.to_bytes())).collect()
    }

    fn render(config: &Config) -> String {
        let warnings: Vec<String> = config
            .warnings
            .iter()
            .map(|w| {
                let mut line = Line::new();
                line.put(&w);
                text(line.as_bytes())
            })
            .collect();
        format!(
            "Config {{ exec: {}, exec_file: {:?}, shell: {:?}, hostname: {:?}, poweroff_by_reboot: {}, warnings: {:?} }}",
            match &config.exec {
                Some(argv) => format!("Some({:?})", words(argv)),
                None => "None".to_string(),
            },
            config.exec_file.map(text),
            words(&config.shell),
            config.hostname.map(text),
            config.poweroff_by_reboot,
            warnings,
        )
    }

    fn check(cmdline: &str, expect: &str) {
        let actual = render(&parse(cmdline.as_bytes()));
        assert_eq!(actual, expect, "cmdline: {cmdline:?}");
    }

    /// The parameters before `--` and, when there is one, those after it.
    fn check_params(cmdline: &str, expect: &str) {
        let show = |p: Param| {
            format!(
                "Param {{ name: {:?}, value: {:?} }}",
                text(p.name),
                p.value.map(text)
            )
        };
        let mut all = params(cmdline.as_bytes());
        let before: Vec<String> = all
            .by_ref()
            .take_while(|p| !(p.value.is_none() && p.name == b"--"))
            .map(show)
            .collect();
        let after: Vec<String> = all.map(show).collect();
        let dashes = cmdline.split_whitespace().any(|w| w == "--");
        let actual = format!(
            "([{}], {})",
            before.join(", "),
            if dashes {
                format!("Some([{}])", after.join(", "))
            } else {
                "None".to_string()
            }
        );
        assert_eq!(actual, expect, "cmdline: {cmdline:?}");
    }

    #[test]
    fn plain_boot_gives_the_default_shell() {
        check(
            "console=ttyAMA0 root=/dev/ram0\n",
            r#"Config { exec: None, exec_file: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn quoted_exec_value_keeps_its_spaces() {
        check(
            "console=ttyAMA0 init.exec=\"ls -l /\" quiet\n",
            r#"Config { exec: Some(["ls", "-l", "/"]), exec_file: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn single_quotes_inside_exec_group_words() {
        check(
            "init.exec=\"sh -c 'echo a; exit 3'\"",
            r#"Config { exec: Some(["sh", "-c", "echo a; exit 3"]), exec_file: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn escaped_single_quote_inside_a_single_quoted_word() {
        check(
            r#"init.exec="/bin/sh -c 'tr '\''\n'\'' x; echo a\ b'""#,
            r#"Config { exec: Some(["/bin/sh", "-c", "tr '\\n' x; echo a\\ b"]), exec_file: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn a_command_in_a_file_is_named_by_its_path() {
        // How `cargo xtask qemu --exec` passes any command: in a file of the initramfs.
        check(
            "console=ttyS0 init.exec_file=/.minilinux/exec quiet",
            r#"Config { exec: None, exec_file: Some("/.minilinux/exec"), shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn a_command_file_wins_over_other_commands() {
        check(
            "init.exec=true init.exec_file=/x -- false",
            r#"Config { exec: None, exec_file: Some("/x"), shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: ["both init.exec= and `--` give a command: running init.exec=", "init.exec_file= and another command are given: running init.exec_file="] }"#,
        );
        check(
            "init.exec_file= init.exec=true",
            r#"Config { exec: Some(["true"]), exec_file: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: ["init.exec_file= is empty: ignored"] }"#,
        );
    }

    #[test]
    fn empty_quoted_words_are_words() {
        check(
            "init.exec=\"printf %s '' x\\\\\"",
            r#"Config { exec: Some(["printf", "%s", "", "x\\"]), exec_file: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn arguments_after_dashes_are_the_command() {
        check(
            "console=ttyAMA0 -- sh -c \"echo hi\" x=1",
            r#"Config { exec: Some(["sh", "-c", "echo hi", "x=1"]), exec_file: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn init_params_after_dashes_are_command_words() {
        check(
            "-- echo init.exec=true",
            r#"Config { exec: Some(["echo", "init.exec=true"]), exec_file: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn exec_wins_over_dashes() {
        check(
            "init.exec=true -- false",
            r#"Config { exec: Some(["true"]), exec_file: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: ["both init.exec= and `--` give a command: running init.exec="] }"#,
        );
    }

    #[test]
    fn bare_dashes_start_the_shell() {
        check(
            "console=ttyAMA0 --",
            r#"Config { exec: None, exec_file: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn unknown_and_lookalike_params_are_ignored() {
        check(
            "init=/init init.execute=x xinit.exec=y rdinit=/init single",
            r#"Config { exec: None, exec_file: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn shell_hostname_and_poweroff_are_read() {
        check(
            "init.shell=\"/bin/sh -l\" init.hostname=box init.poweroff=reboot",
            r#"Config { exec: None, exec_file: None, shell: ["/bin/sh", "-l"], hostname: Some("box"), poweroff_by_reboot: true, warnings: [] }"#,
        );
    }

    #[test]
    fn empty_or_bad_values_warn() {
        check(
            "init.exec= init.shell=\"\" init.hostname= init.poweroff=maybe",
            r#"Config { exec: None, exec_file: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: ["init.exec= is empty: starting the shell", "init.shell= is empty: using /bin/sh", "init.poweroff=maybe is not understood: expected `reboot` or `poweroff`"] }"#,
        );
    }

    #[test]
    fn a_command_too_long_for_its_buffer_warns() {
        let many = "x ".repeat(300);
        check(
            &format!("init.exec=\"{many}\" init.shell=\"{many}\" -- {many}"),
            r#"Config { exec: None, exec_file: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: ["init.exec= is too long: starting the shell", "init.shell= is too long: using /bin/sh", "the command after `--` is too long: starting the shell"] }"#,
        );
    }

    #[test]
    fn later_params_win() {
        check(
            "init.exec=false init.exec=true",
            r#"Config { exec: Some(["true"]), exec_file: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn split_follows_the_kernels_next_arg() {
        check_params(
            "  a=\"b c\"  \"d=e f\" g\"h i\"j k= \"l m\"\n",
            r#"([Param { name: "a", value: Some("b c") }, Param { name: "d", value: Some("e f") }, Param { name: "g\"h i\"j", value: None }, Param { name: "k", value: Some("") }, Param { name: "l m", value: None }], None)"#,
        );
    }

    #[test]
    fn unterminated_quote_runs_to_the_end() {
        check_params(
            "a=\"b c",
            r#"([Param { name: "a", value: Some("b c") }], None)"#,
        );
    }

    #[test]
    fn dashes_inside_a_value_do_not_split() {
        check_params(
            "a=-- -- b",
            r#"([Param { name: "a", value: Some("--") }], Some([Param { name: "b", value: None }]))"#,
        );
    }
}
