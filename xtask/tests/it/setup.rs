//! `cargo xtask setup` with a fake `apt-get` and `pip3` first on `PATH`: a board that
//! needs one package no host has. As root, setup runs them as a stage (their output
//! in `logs/setup.log`, one line per step on the terminal, what it installed at the
//! end; on failure the log's tail and the command to rerun); without root, it prints
//! the commands to run with sudo.

use std::process::Output;

use crate::support::{self, BoardSandbox};

/// apt-get that chats like the real one (`update` alternating between its standard
/// output and error); `install` creates the package's program, unless `FAKE_APT_FAIL`
/// is set.
const FAKE_APT_GET: &str = r#"#!/bin/sh
echo "fake apt-get $*"
if [ "$1" = update ]; then
  i=0; while [ $i -lt 50 ]; do i=$((i+1)); echo "out $i"; echo "err $i" >&2; done
fi
i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo "Get:$i http://deb.example fake chatter $i"; done
[ "$1" = update ] && exit 0
if [ -n "$FAKE_APT_FAIL" ]; then
  echo "E: Unable to locate package minilinux-fake-pkg" >&2
  exit 100
fi
printf '#!/bin/sh\n' > "$FAKE_BIN/minilinux-fake-tool"
chmod +x "$FAKE_BIN/minilinux-fake-tool"
echo "Setting up minilinux-fake-pkg (1.0) ..."
"#;

/// pip3 that "installs" a zizmor into the `--target` folder.
const FAKE_PIP3: &str = r#"#!/bin/sh
echo "fake pip3 $*"
while [ $# -gt 0 ]; do
  if [ "$1" = --target ]; then mkdir -p "$2/bin"; printf '#!/bin/sh\n' > "$2/bin/zizmor"; chmod +x "$2/bin/zizmor"; fi
  shift
done
echo "Successfully installed zizmor"
"#;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A sandbox board needing `minilinux-fake-pkg` (program `minilinux-fake-tool`).
fn sandbox(name: &str) -> BoardSandbox {
    let sandbox = BoardSandbox::new(name).removing_outputs();
    let board_toml = format!("boards/{name}/board.toml");
    let text = sandbox.read(&board_toml).replace(
        "[host.packages]\n",
        "[host.packages]\nminilinux-fake-pkg = \"minilinux-fake-tool\"\n",
    );
    sandbox.write(&board_toml, &text);
    for (file, script) in [
        ("fakebin/apt-get", FAKE_APT_GET),
        ("fakebin/pip3", FAKE_PIP3),
    ] {
        let path = sandbox.path(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        support::write_executable(&path, script);
    }
    sandbox
}

/// `xtask --board <name> setup` with the fakes first on `PATH` and a cache of its own.
fn setup(sandbox: &BoardSandbox, fail: bool) -> (Output, String) {
    let fakebin = sandbox.path("fakebin");
    let path = format!("{}:{}", fakebin.display(), std::env::var("PATH").unwrap());
    let mut cmd = sandbox.xtask();
    cmd.args(["--board", sandbox.board(), "setup"])
        .env("PATH", path)
        .env("FAKE_BIN", &fakebin)
        .env("MINILINUX_CACHE", sandbox.path("cache"))
        .env_remove("SUDO_USER");
    if fail {
        cmd.env("FAKE_APT_FAIL", "1");
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // Times vary: `in 0.3s` -> `in N s`.
    let re = regex::Regex::new(r"in \d+\.\ds").unwrap();
    let redacted = sandbox.redact_tmp(&stderr);
    let stderr = re.replace_all(&redacted, "in N s");
    let root = env!("CARGO_MANIFEST_DIR").trim_end_matches("/xtask");
    (out, stderr.replace(root, "$WS"))
}

#[test]
fn setup_logs_apt_and_pip_and_says_what_it_installed() {
    let sandbox = sandbox("setup-ok-test");
    let (out, stderr) = setup(&sandbox, false);
    if !is_root() {
        assert!(!out.status.success());
        expect_test::expect![[r#"
            setup: missing for board setup-ok-test: minilinux-fake-pkg, zizmor 1.32.0 (pip)
            error: installing host packages needs root; run:
              sudo apt-get update
              sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends minilinux-fake-pkg
        "#]]
        .assert_eq(&stderr);
        return;
    }
    assert!(out.status.success(), "{stderr}");
    expect_test::expect![[r#"
        setup: missing for board setup-ok-test: minilinux-fake-pkg, zizmor 1.32.0 (pip)
        [setup] started
        [setup] installing 1 package for board setup-ok-test with apt: minilinux-fake-pkg
        [setup] installing zizmor 1.32.0 from PyPI into $TMP/cache/tools/zizmor-1.32.0
        [setup] installed minilinux-fake-pkg, zizmor 1.32.0
        [setup] done in N s
        setup: all 23 host packages for board setup-ok-test are present
    "#]]
    .assert_eq(&stderr);
    let log = std::fs::read_to_string(sandbox.out_dir().join("logs/setup.log")).unwrap();
    // Both streams in one log, in the order the tool wrote them (as `2>&1`).
    let interleaved: String = (1..=50).map(|i| format!("out {i}\nerr {i}\n")).collect();
    assert!(log.contains(&interleaved), "streams out of order:\n{log}");
    for text in [
        "$ apt-get update",
        "Get:40 http://deb.example fake chatter 40",
        "Setting up minilinux-fake-pkg (1.0) ...",
        "fake pip3 install",
        "Successfully installed zizmor",
    ] {
        assert!(log.contains(text), "{text:?} not in setup.log:\n{log}");
    }
    assert!(sandbox
        .path("cache/tools/zizmor-1.32.0/bin/zizmor")
        .is_file());
    // Everything is there now: nothing to do, no apt.
    let (out, stderr) = setup(&sandbox, false);
    assert!(out.status.success(), "{stderr}");
    expect_test::expect![[r#"
        setup: all 23 host packages for board setup-ok-test are present: nothing to install
    "#]]
    .assert_eq(&stderr);
}

#[test]
fn a_failed_install_shows_the_log_tail_and_how_to_rerun() {
    if !is_root() {
        // Without root nothing runs: the other test checks the commands printed.
        return;
    }
    let sandbox = sandbox("setup-fail-test");
    let (out, stderr) = setup(&sandbox, true);
    assert!(!out.status.success());
    let stderr: Vec<&str> = stderr.lines().collect();
    let shown = format!(
        "{}\n...\n{}",
        stderr[..4].join("\n"),
        stderr[stderr.len() - 5..].join("\n")
    );
    expect_test::expect![[r#"
        setup: missing for board setup-fail-test: minilinux-fake-pkg, zizmor 1.32.0 (pip)
        [setup] started
        [setup] installing 1 package for board setup-fail-test with apt: minilinux-fake-pkg
        [setup] failed in N s
        ...
        Get:39 http://deb.example fake chatter 39
        Get:40 http://deb.example fake chatter 40
        E: Unable to locate package minilinux-fake-pkg
        full log: $WS/target/minilinux/setup-fail-test/logs/setup.log
        to run it again: cargo xtask --board setup-fail-test setup"#]]
    .assert_eq(&shown);
    assert!(stderr.iter().any(|l| l.starts_with(
        "error: stage `setup` failed: `env DEBIAN_FRONTEND=noninteractive apt-get install"
    )));
}
