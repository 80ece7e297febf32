//! init's settings, read from the kernel command line (`/proc/cmdline`).
//!
//! The kernel treats dotted parameters such as `init.exec=` as module
//! parameters and never passes them to init, so init parses the whole line
//! itself, splitting it exactly as the kernel's `next_arg()` does
//! (lib/cmdline.c): whitespace separates parameters except inside double
//! quotes, and one pair of quotes around a value (or a whole parameter) is
//! dropped. Everything after a bare `--` is init's own argument list.

/// Shell started when the command line names none.
pub const DEFAULT_SHELL: &str = "/bin/sh";

/// What the kernel command line asks of init.
#[derive(Debug, PartialEq, Eq)]
pub struct Config {
    /// Command mode: run this instead of the shell, print its status, stop the machine.
    pub exec: Option<Vec<String>>,
    /// The interactive shell and its arguments (`init.shell=`).
    pub shell: Vec<String>,
    /// Host name from `init.hostname=`, preferred over `/etc/hostname`.
    pub hostname: Option<String>,
    /// `init.poweroff=reboot`: the board cannot power off, so stop by rebooting.
    pub poweroff_by_reboot: bool,
    /// Parameters init understood but could not use, for the console.
    pub warnings: Vec<String>,
}

/// One parameter as the kernel splits it: `name` or `name=value`.
#[derive(Debug, PartialEq, Eq)]
struct Param {
    name: String,
    value: Option<String>,
}

fn is_kernel_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn skip_spaces(args: &[u8]) -> &[u8] {
    let start = args
        .iter()
        .position(|&b| !is_kernel_space(b))
        .unwrap_or(args.len());
    &args[start..]
}

/// Splits off the first parameter of `args` (which starts at a non-space) the way
/// the kernel's `next_arg()` does; returns it and the rest, leading spaces skipped.
fn next_param(args: &[u8]) -> (Param, &[u8]) {
    let mut args = args;
    let mut in_quote = false;
    let mut quoted = false;
    if args.first() == Some(&b'"') {
        args = &args[1..];
        in_quote = true;
        quoted = true;
    }
    let mut equals = None;
    let mut i = 0;
    while i < args.len() {
        let b = args[i];
        if is_kernel_space(b) && !in_quote {
            break;
        }
        if equals.is_none() && b == b'=' {
            equals = Some(i);
        }
        if b == b'"' {
            in_quote = !in_quote;
        }
        i += 1;
    }
    let mut token = &args[..i];
    // A leading quote pairs with a trailing one, wherever the value starts.
    if quoted && token.last() == Some(&b'"') {
        token = &token[..token.len() - 1];
    }
    let param = match equals {
        None => Param {
            name: String::from_utf8_lossy(token).into_owned(),
            value: None,
        },
        Some(eq) => {
            let name = &token[..eq.min(token.len())];
            let mut value = token.get(eq + 1..).unwrap_or(&[]);
            if value.first() == Some(&b'"') {
                value = &value[1..];
                if !quoted && value.last() == Some(&b'"') {
                    value = &value[..value.len() - 1];
                }
            }
            Param {
                name: String::from_utf8_lossy(name).into_owned(),
                value: Some(String::from_utf8_lossy(value).into_owned()),
            }
        }
    };
    (param, skip_spaces(&args[i..]))
}

/// Splits a whole command line into the parameters before `--` and those after it.
fn split_params(cmdline: &[u8]) -> (Vec<Param>, Option<Vec<Param>>) {
    let mut rest = skip_spaces(cmdline);
    let mut kernel = Vec::new();
    let mut init = None::<Vec<Param>>;
    while !rest.is_empty() {
        let (param, next) = next_param(rest);
        rest = next;
        match init.as_mut() {
            Some(init) => init.push(param),
            None if param.value.is_none() && param.name == "--" => init = Some(Vec::new()),
            None => kernel.push(param),
        }
    }
    (kernel, init)
}

/// Splits a command given as one parameter value into words: whitespace
/// separates words, single or double quotes group (and are removed), and
/// outside quotes a backslash keeps the next character as it is (so `'\''`
/// puts a single quote inside a single-quoted word, as in a shell).
pub fn split_words(value: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote = None;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None if c == '\\' => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
                in_word = true;
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Reads init's settings from the text of `/proc/cmdline`.
pub fn parse(cmdline: &[u8]) -> Config {
    let (kernel, after_dashes) = split_params(cmdline);
    let mut config = Config {
        exec: None,
        shell: vec![DEFAULT_SHELL.to_string()],
        hostname: None,
        poweroff_by_reboot: false,
        warnings: Vec::new(),
    };
    for Param { name, value } in kernel {
        let setting = match name.as_str() {
            "init.exec" | "init.shell" | "init.hostname" | "init.poweroff" => name,
            _ => continue,
        };
        let value = value.unwrap_or_default();
        match setting.as_str() {
            "init.exec" => {
                let words = split_words(&value);
                if words.is_empty() {
                    config.exec = None;
                    config
                        .warnings
                        .push("init.exec= is empty: starting the shell".to_string());
                } else {
                    config.exec = Some(words);
                }
            }
            "init.shell" => {
                let words = split_words(&value);
                if words.is_empty() {
                    config
                        .warnings
                        .push(format!("init.shell= is empty: using {DEFAULT_SHELL}"));
                    config.shell = vec![DEFAULT_SHELL.to_string()];
                } else {
                    config.shell = words;
                }
            }
            "init.hostname" => {
                config.hostname = if value.is_empty() { None } else { Some(value) };
            }
            _ => match value.as_str() {
                "reboot" => config.poweroff_by_reboot = true,
                "poweroff" => config.poweroff_by_reboot = false,
                other => config.warnings.push(format!(
                    "init.poweroff={other} is not understood: expected `reboot` or `poweroff`"
                )),
            },
        }
    }
    if let Some(args) = after_dashes {
        let words: Vec<String> = args
            .into_iter()
            .map(|p| match p.value {
                Some(v) => format!("{}={}", p.name, v),
                None => p.name,
            })
            .collect();
        if config.exec.is_some() {
            if !words.is_empty() {
                config.warnings.push(
                    "both init.exec= and `--` give a command: running init.exec=".to_string(),
                );
            }
        } else if !words.is_empty() {
            config.exec = Some(words);
        }
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cmdline: &str, expect: &str) {
        let actual = format!("{:?}", parse(cmdline.as_bytes()));
        assert_eq!(actual, expect, "cmdline: {cmdline:?}");
    }

    fn check_params(cmdline: &str, expect: &str) {
        let actual = format!("{:?}", split_params(cmdline.as_bytes()));
        assert_eq!(actual, expect, "cmdline: {cmdline:?}");
    }

    #[test]
    fn plain_boot_gives_the_default_shell() {
        check(
            "console=ttyAMA0 root=/dev/ram0\n",
            r#"Config { exec: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn quoted_exec_value_keeps_its_spaces() {
        check(
            "console=ttyAMA0 init.exec=\"ls -l /\" quiet\n",
            r#"Config { exec: Some(["ls", "-l", "/"]), shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn single_quotes_inside_exec_group_words() {
        check(
            "init.exec=\"sh -c 'echo a; exit 3'\"",
            r#"Config { exec: Some(["sh", "-c", "echo a; exit 3"]), shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn escaped_single_quote_inside_a_single_quoted_word() {
        check(
            r#"init.exec="/bin/sh -c 'tr '\''\n'\'' x; echo a\ b'""#,
            r#"Config { exec: Some(["/bin/sh", "-c", "tr '\\n' x; echo a\\ b"]), shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn arguments_after_dashes_are_the_command() {
        check(
            "console=ttyAMA0 -- sh -c \"echo hi\" x=1",
            r#"Config { exec: Some(["sh", "-c", "echo hi", "x=1"]), shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn init_params_after_dashes_are_command_words() {
        check(
            "-- echo init.exec=true",
            r#"Config { exec: Some(["echo", "init.exec=true"]), shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn exec_wins_over_dashes() {
        check(
            "init.exec=true -- false",
            r#"Config { exec: Some(["true"]), shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: ["both init.exec= and `--` give a command: running init.exec="] }"#,
        );
    }

    #[test]
    fn bare_dashes_start_the_shell() {
        check(
            "console=ttyAMA0 --",
            r#"Config { exec: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn unknown_and_lookalike_params_are_ignored() {
        check(
            "init=/init init.execute=x xinit.exec=y rdinit=/init single",
            r#"Config { exec: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
        );
    }

    #[test]
    fn shell_hostname_and_poweroff_are_read() {
        check(
            "init.shell=\"/bin/sh -l\" init.hostname=box init.poweroff=reboot",
            r#"Config { exec: None, shell: ["/bin/sh", "-l"], hostname: Some("box"), poweroff_by_reboot: true, warnings: [] }"#,
        );
    }

    #[test]
    fn empty_or_bad_values_warn() {
        check(
            "init.exec= init.shell=\"\" init.hostname= init.poweroff=maybe",
            r#"Config { exec: None, shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: ["init.exec= is empty: starting the shell", "init.shell= is empty: using /bin/sh", "init.poweroff=maybe is not understood: expected `reboot` or `poweroff`"] }"#,
        );
    }

    #[test]
    fn later_params_win() {
        check(
            "init.exec=false init.exec=true",
            r#"Config { exec: Some(["true"]), shell: ["/bin/sh"], hostname: None, poweroff_by_reboot: false, warnings: [] }"#,
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
