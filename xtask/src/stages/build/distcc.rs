//! `build --distcc HOSTS`: the kernel's and busybox's C compiled on distcc helpers.
//!
//! The compiler keeps its name. A private masquerade directory holding
//! `<cross>gcc -> distcc` goes first on make's `PATH` (distcc's own masquerade mode),
//! so `CC` stays `<cross>gcc` and Kbuild's recorded command lines (`.*.o.cmd`) are
//! the same as in a local build: switching between local and distributed builds
//! recompiles nothing, and the stage fingerprints leave the hosts out. Only the
//! cross compiler is linked, so `HOSTCC` (`gcc`, for Kbuild's host tools) stays local
//! on cross boards. With ccache (the default when installed), ccache hands its misses to distcc (`CCACHE_PREFIX`).
//!
//! This module does not start or configure distccd: the helpers run their own, with
//! the same compiler (see docs/distcc.md).

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use std::process::Command;

use crate::engine::symlink_atomic;

/// A checked distcc host list and the distcc that will use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distcc {
    /// The host list, in distcc's `DISTCC_HOSTS` syntax.
    pub hosts: String,
    /// Job slots of all hosts together, as `distcc -j` counts them.
    pub slots: usize,
    /// The distcc client program.
    pub program: Utf8PathBuf,
}

impl Distcc {
    /// Finds distcc and has it parse `hosts`; fails on a missing distcc or a bad list.
    pub fn probe(hosts: &str) -> Result<Distcc> {
        if hosts.trim().is_empty() {
            bail!("--distcc needs hosts in distcc's syntax, e.g. --distcc \"192.168.1.5/8 192.168.1.6/4\"");
        }
        let Some(program) = crate::layout::which("distcc") else {
            bail!("--distcc: distcc is not installed: run `cargo xtask setup` (or `apt-get install distcc`)");
        };
        let out = Command::new(&program)
            .arg("-j")
            .env("DISTCC_HOSTS", hosts)
            .output()
            .with_context(|| format!("running {program} -j"))?;
        let slots = parse_slots(
            hosts,
            &String::from_utf8_lossy(&out.stdout),
            &String::from_utf8_lossy(&out.stderr),
        )?;
        Ok(Distcc {
            hosts: hosts.to_string(),
            slots,
            program,
        })
    }

    /// Sends the C compiles of `make` through distcc. `compiler` is the name make runs
    /// (`<cross>gcc`); `ccache` says whether `CC` is already `ccache <compiler>`;
    /// `masquerade` is a directory of this tool's own for the compiler's link.
    pub fn route(
        &self,
        make: &mut Command,
        compiler: &str,
        ccache: bool,
        masquerade: &Utf8Path,
    ) -> Result<()> {
        make.env("DISTCC_HOSTS", &self.hosts);
        if ccache {
            make.env("CCACHE_PREFIX", &self.program);
            return Ok(());
        }
        symlink_atomic(&self.program, &masquerade.join(compiler))?;
        let path = std::env::var("PATH").unwrap_or_default();
        make.env("PATH", format!("{masquerade}:{path}"));
        Ok(())
    }

    /// What the stage log records: env vars are not part of a rendered command.
    pub fn describe(&self) -> String {
        format!(
            "distcc: DISTCC_HOSTS={:?} ({} job slots)",
            self.hosts, self.slots
        )
    }
}

/// The job slots `distcc -j` printed for `hosts`, or distcc's complaint about them
/// (distcc exits 0 either way: a bad list prints no number).
pub fn parse_slots(hosts: &str, stdout: &str, stderr: &str) -> Result<usize> {
    if let Ok(slots) = stdout.trim().parse::<usize>() {
        if slots > 0 {
            return Ok(slots);
        }
    }
    let complaints: Vec<&str> = stderr
        .lines()
        .map(distcc_message)
        .filter(|m| !m.is_empty() && !m.contains("Failed to get host list"))
        .collect();
    let why = if complaints.is_empty() {
        "it counts no job slots".to_string()
    } else {
        complaints.join("; ")
    };
    bail!("--distcc {hosts:?}: distcc rejects the host list: {why}")
}

/// A distcc message without its `distcc[pid] (function) ` prefix.
fn distcc_message(line: &str) -> &str {
    let line = line.trim();
    let line = match line.strip_prefix("distcc[") {
        Some(rest) => rest.split_once("] ").map_or(rest, |(_, m)| m),
        None => line,
    };
    match line.strip_prefix('(') {
        Some(rest) => rest.split_once(") ").map_or(rest, |(_, m)| m),
        None => line,
    }
}

/// How many compiles distcc ran here because it could not send them to a helper,
/// counted in a build log (distcc's own warnings, one per such compile).
pub fn local_fallbacks(log: &str) -> usize {
    log.lines()
        .filter(|l| l.starts_with("distcc[") && l.contains("failed to distribute"))
        .count()
}

/// The warning a build prints when distcc fell back to compiling here.
pub fn fallback_warning(count: usize, hosts: &str, compiler: &str) -> String {
    format!(
        "warning: {count} compile(s) ran on this machine: distcc could not send them to {hosts:?} \
         (see the log); check that distccd runs on the helpers, allows this machine (--allow) \
         and has {compiler} installed and whitelisted (Debian: update-distcc-symlinks)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    /// `distcc -j` output as recorded from distcc 3.4 (Debian 12) for each host list.
    fn check_slots(hosts: &str, stdout: &str, stderr: &str, expect: Expect) {
        let got = match parse_slots(hosts, stdout, stderr) {
            Ok(n) => format!("{n} slots"),
            Err(e) => format!("error: {e}"),
        };
        expect.assert_eq(&got);
    }

    #[test]
    fn slots_are_what_distcc_counts() {
        check_slots("127.0.0.1/2", "2\n", "", expect!["2 slots"]);
        check_slots("localhost/2 192.168.1.5/8", "10\n", "", expect!["10 slots"]);
    }

    #[test]
    fn a_list_distcc_rejects_names_its_reason() {
        check_slots(
            "127.0.0.1:notaport/2",
            "",
            "distcc[25223] (dcc_parse_tcp_host) ERROR: invalid tcp port specification in \"notaport/2\"\n\
             distcc[25223] (dcc_concurrency_level) CRITICAL! Failed to get host list\n",
            expect![[r#"error: --distcc "127.0.0.1:notaport/2": distcc rejects the host list: ERROR: invalid tcp port specification in "notaport/2""#]],
        );
        check_slots(
            "--randomize",
            "",
            "distcc[25206] (dcc_parse_hosts) Warning: $DISTCC_HOSTS contained no hosts; can't distribute work\n\
             distcc[25206] (dcc_concurrency_level) CRITICAL! Failed to get host list\n",
            expect![[r#"error: --distcc "--randomize": distcc rejects the host list: Warning: $DISTCC_HOSTS contained no hosts; can't distribute work"#]],
        );
        check_slots(
            "x",
            "0\n",
            "",
            expect![[
                r#"error: --distcc "x": distcc rejects the host list: it counts no job slots"#
            ]],
        );
    }

    #[test]
    fn fallbacks_are_counted_from_distcc_warnings_only() {
        let log = "\
  CC      init/main.o
distcc[28630] ERROR: nonblocking connect to 127.0.0.1:1 failed: Connection refused
distcc[28630] Warning: failed to distribute a.c to 127.0.0.1:1/2, running locally instead
distcc[28636] (dcc_build_somewhere) Warning: failed to distribute, running locally instead
  CC      kernel/fork.o
make: the words failed to distribute in a file name are not distcc's
";
        assert_eq!(local_fallbacks(log), 2);
        assert_eq!(local_fallbacks("  CC      init/main.o\n"), 0);
    }

    /// The make command after [`Distcc::route`], env first, `$PATH` and the temp dir redacted,
    /// and the masquerade link if one was made.
    fn check_route(ccache: bool, expect: Expect) {
        let dir = tempfile::tempdir().unwrap();
        let masquerade = Utf8PathBuf::try_from(dir.path().join("distcc")).unwrap();
        let distcc = Distcc {
            hosts: "127.0.0.1:3632/2 192.168.1.5/8".into(),
            slots: 10,
            program: "/usr/bin/distcc".into(),
        };
        let mut make = Command::new("make");
        make.arg("-C").arg("src");
        if ccache {
            make.arg("CC=ccache arm-linux-gnueabi-gcc");
        }
        distcc
            .route(&mut make, "arm-linux-gnueabi-gcc", ccache, &masquerade)
            .unwrap();
        let path = std::env::var("PATH").unwrap_or_default();
        let mut envs: Vec<String> = make
            .get_envs()
            .map(|(k, v)| {
                let v = v
                    .unwrap_or_default()
                    .to_string_lossy()
                    .replace(&path, "$PATH");
                format!("{}={v:?}", k.to_string_lossy())
            })
            .collect();
        envs.sort();
        let mut out = format!(
            "{} {}\n",
            envs.join(" "),
            crate::render::render_command(&make)
        );
        let link = masquerade.join("arm-linux-gnueabi-gcc");
        match std::fs::read_link(&link) {
            Ok(target) => out.push_str(&format!(
                "link: distcc/arm-linux-gnueabi-gcc -> {}\n",
                target.display()
            )),
            Err(_) => out.push_str("no link\n"),
        }
        let out = out.replace(dir.path().to_str().unwrap(), "$TMP");
        expect.assert_eq(&out);
    }

    #[test]
    fn compiles_go_through_a_masquerade_link_so_cc_keeps_its_name() {
        check_route(
            false,
            expect![[r#"
                DISTCC_HOSTS="127.0.0.1:3632/2 192.168.1.5/8" PATH="$TMP/distcc:$PATH" make -C src
                link: distcc/arm-linux-gnueabi-gcc -> /usr/bin/distcc
            "#]],
        );
    }

    #[test]
    fn with_ccache_its_misses_go_to_distcc() {
        check_route(
            true,
            expect![[r#"
                CCACHE_PREFIX="/usr/bin/distcc" DISTCC_HOSTS="127.0.0.1:3632/2 192.168.1.5/8" make -C src 'CC=ccache arm-linux-gnueabi-gcc'
                no link
            "#]],
        );
    }
}
