//! `cargo xtask fetch`: runs the real binary on a temp board whose sources are small
//! local tarballs (file:// URLs), with the cache in a temp dir, and checks what it
//! prints and what it leaves in the cache.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{self, BoardSandbox};
use expect_test::{expect, Expect};
use sha2::{Digest, Sha256};

/// A [`BoardSandbox`] whose board is fetched from `tarballs/` into `cache/`; removes
/// the board's outputs under the workspace's `target/` when dropped.
struct Sandbox(BoardSandbox);

impl Deref for Sandbox {
    type Target = BoardSandbox;

    fn deref(&self) -> &BoardSandbox {
        &self.0
    }
}

/// A source tarball made for a test, and its sha256.
struct Tarball {
    path: PathBuf,
    sha256: String,
}

impl Tarball {
    fn url(&self) -> String {
        format!("file://{}", self.path.display())
    }
}

impl Sandbox {
    fn new(test: &str) -> Sandbox {
        let board = format!("fetch-test-{test}-{}", std::process::id());
        Sandbox(BoardSandbox::new(&board).removing_outputs())
    }

    /// `tarballs/<top>.tar.gz` holding `<top>/Makefile` (with `makefile` as its version
    /// lines) and `<top>/<marker>`.
    fn tarball(&self, top: &str, makefile: &str, marker: &str) -> Tarball {
        let staging = self.path(&format!("staging/{top}"));
        self.write(&format!("staging/{top}/Makefile"), makefile);
        self.write(&format!("staging/{top}/{marker}"), "# test tree\n");
        let path = self.path(&format!("tarballs/{top}.tar.gz"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let status = Command::new("tar")
            .arg("-czf")
            .arg(&path)
            .arg("-C")
            .arg(staging.parent().unwrap())
            .arg(top)
            .status()
            .unwrap();
        assert!(status.success(), "tar failed");
        let sha256 = format!("{:x}", Sha256::digest(std::fs::read(&path).unwrap()));
        Tarball { path, sha256 }
    }

    fn linux(&self) -> Tarball {
        self.tarball(
            "linux-6.1.999",
            "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 999\nEXTRAVERSION =\n",
            "Kconfig",
        )
    }

    fn busybox(&self) -> Tarball {
        self.tarball(
            "busybox-1.35.0",
            "VERSION = 1\nPATCHLEVEL = 35\nSUBLEVEL = 0\nEXTRAVERSION =\n",
            "Config.in",
        )
    }

    /// Replaces the board's `[sources]` with the given URLs and pins.
    fn sources(&self, linux: (&[String], &str), busybox: (&[String], &str)) {
        let path = format!("boards/{}/board.toml", self.board());
        let text = self.read(&path);
        let head = &text[..text.find("[sources.linux]").unwrap()];
        let table = |name: &str, version: &str, (urls, sha): (&[String], &str)| {
            let urls: Vec<String> = urls.iter().map(|u| format!("{u:?}")).collect();
            format!(
                "[sources.{name}]\nversion = {version:?}\nurls = [{}]\nsha256 = {sha:?}\n\n",
                urls.join(", ")
            )
        };
        let text = format!(
            "{head}{}{}",
            table("linux", "6.1", linux),
            table("busybox", "1.35.0", busybox)
        );
        self.write(&path, &text);
    }

    /// Runs `xtask --board <board> fetch ARGS`; shows the exit status, stdout, and the
    /// error stderr ends with (timings left out), with temp paths and hashes redacted.
    fn fetch(&self, args: &[&str], redact: &[(&str, &str)]) -> String {
        let output = self.fetch_command(args).output().unwrap();
        self.render(&output, redact)
    }

    /// `xtask --board <board> fetch ARGS` with the sandbox's cache, and `fakes/` (the
    /// tools a test puts there) first on `PATH`.
    fn fetch_command(&self, args: &[&str]) -> Command {
        let path = format!(
            "{}:{}",
            self.path("fakes").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = self.xtask();
        command
            .env("MINILINUX_CACHE", self.path("cache"))
            .env("PATH", path)
            .args(["--board", self.board(), "fetch"])
            .args(args);
        command
    }

    /// Writes an executable shell script `fakes/<name>`, found before the real tool.
    fn fake_tool(&self, name: &str, script: &str) {
        let path = self.path(&format!("fakes/{name}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        support::write_executable(&path, &format!("#!/bin/sh\n{script}"));
    }

    /// A fetch's exit status, stdout, the stage's notes and the error stderr ends
    /// with, redacted as [`Sandbox::fetch`] shows them.
    fn render(&self, output: &std::process::Output, redact: &[(&str, &str)]) -> String {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let notes: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("[fetch] ") && !l.starts_with("[fetch] started"))
            .filter(|l| {
                !["[fetch] done", "[fetch] up to date", "[fetch] failed"]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .collect();
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("--- notes\n{}\n", notes.join("\n"))
        };
        let error: Vec<&str> = stderr
            .lines()
            .skip_while(|l| !l.starts_with("error:"))
            .take_while(|l| !l.starts_with("--- last lines"))
            .collect();
        let skipped = stderr.contains("[fetch] up to date");
        let text = format!(
            "status: {}{}\n--- stdout\n{}{notes}--- error\n{}",
            output.status.code().unwrap_or(-1),
            if skipped { " (up to date)" } else { "" },
            String::from_utf8_lossy(&output.stdout),
            error.join("\n")
        );
        self.redact(&text, redact)
    }

    fn redact(&self, text: &str, redact: &[(&str, &str)]) -> String {
        let mut text = self.redact_tmp(text);
        text = text.replace(self.board(), "$BOARD");
        for (from, to) in redact {
            text = text.replace(from, to);
            text = text.replace(&from[..12], &to[..to.len().min(12)]);
        }
        // A local tree's signature ends in its newest modification time.
        let mut lines: Vec<String> = Vec::new();
        for line in text.split('\n') {
            match line.find(", newest ") {
                Some(at) if line.starts_with("signature = ") => {
                    lines.push(format!("{}, newest $MTIME\"", &line[..at]))
                }
                _ => lines.push(line.to_string()),
            }
        }
        lines.join("\n")
    }

    /// Every path in the cache except inside extracted trees, sorted.
    fn cache_listing(&self, redact: &[(&str, &str)]) -> String {
        let cache = self.path("cache");
        let mut paths = Vec::new();
        for sub in ["", "downloads", "src"] {
            let Ok(dir) = std::fs::read_dir(cache.join(sub)) else {
                continue;
            };
            for entry in dir {
                let entry = entry.unwrap();
                let rel = Path::new(sub).join(entry.file_name());
                paths.push(format!(
                    "{}{}",
                    rel.display(),
                    if entry.path().is_dir() { "/" } else { "" }
                ));
            }
        }
        paths.sort();
        self.redact(&paths.join("\n"), redact)
    }

    fn link(&self, name: &str, redact: &[(&str, &str)]) -> String {
        match std::fs::read_link(self.out_dir().join("src").join(name)) {
            Ok(target) => self.redact(&target.display().to_string(), redact),
            Err(e) => format!("no link: {e}"),
        }
    }
}

/// A local port nothing listens on: connecting to it is refused at once.
fn refused_url(file: &str) -> String {
    format!("http://127.0.0.1:{}/{file}", support::free_port())
}

fn check(actual: String, expect: Expect) {
    expect.assert_eq(&actual);
}

/// The `--- name` part of a rendered fetch ([`Sandbox::render`]), up to the next part.
fn section<'a>(rendered: &'a str, name: &str) -> &'a str {
    let header = format!("--- {name}\n");
    let Some(at) = rendered.find(&header) else {
        return "";
    };
    let rest = &rendered[at + header.len()..];
    let end = rest.find("\n--- ").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

const WRONG_SHA: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[test]
fn wrong_hash_is_rejected_and_leaves_nothing_in_the_cache() {
    let sb = Sandbox::new("wrong-hash");
    let (linux, busybox) = (sb.linux(), sb.busybox());
    sb.sources(
        (&[linux.url()], WRONG_SHA),
        (&[busybox.url()], &busybox.sha256),
    );
    let redact = [
        (busybox.sha256.as_str(), "<busybox-sha>"),
        (linux.sha256.as_str(), "<linux-sha>"),
    ];
    check(
        sb.fetch(&[], &redact),
        expect![[r#"
            status: 1
            --- stdout
            --- error
            error: stage `fetch` failed: every source of linux failed:
              file://$TMP/tarballs/linux-6.1.999.tar.gz: sha256 mismatch: expected 0000000000000000000000000000000000000000000000000000000000000000, got <linux-sha> (download discarded)"#]],
    );
    // busybox was verified and kept; nothing of linux, no .part, no .tmp
    check(
        sb.cache_listing(&redact),
        expect![[r#"
            CACHEDIR.TAG
            downloads/
            downloads/busybox-1.35.0.tar.gz
            lock
            src/
            src/busybox-1.35.0-<busybox-sha.manifest
            src/busybox-1.35.0-<busybox-sha.toml
            src/busybox-1.35.0-<busybox-sha/"#]],
    );
    check(
        sb.link("linux", &redact),
        expect![[r#"no link: No such file or directory (os error 2)"#]],
    );
}

#[test]
fn right_hash_is_used_after_an_unreachable_mirror_and_a_corrupt_cached_download() {
    let sb = Sandbox::new("right-hash");
    let (linux, busybox) = (sb.linux(), sb.busybox());
    sb.sources(
        (
            &[refused_url("linux-6.1.999.tar.gz"), linux.url()],
            &linux.sha256,
        ),
        (&[busybox.url()], &busybox.sha256),
    );
    // leftovers of an interrupted run: a truncated download, a half-unpacked tree
    sb.write("cache/downloads/linux-6.1.999.tar.gz", "truncated");
    sb.write("cache/downloads/linux-6.1.999.tar.gz.part", "partial");
    sb.write(
        &format!(
            "cache/src/linux-6.1-{}.tmp/linux-6.1.999/Makefile",
            &linux.sha256[..12]
        ),
        "",
    );
    let redact = [
        (busybox.sha256.as_str(), "<busybox-sha>"),
        (linux.sha256.as_str(), "<linux-sha>"),
    ];
    check(
        sb.fetch(&[], &redact),
        expect![[r#"
            status: 0
            --- stdout
            # Written by `cargo xtask fetch`: where each source tree of board $BOARD came from.
            [busybox]
            route = "url"
            url = "file://$TMP/tarballs/busybox-1.35.0.tar.gz"
            tarball = "$TMP/cache/downloads/busybox-1.35.0.tar.gz"
            sha256 = "<busybox-sha>"
            version = "1.35.0"
            tree = "$TMP/cache/src/busybox-1.35.0-<busybox-sha"

            [linux]
            route = "url"
            url = "file://$TMP/tarballs/linux-6.1.999.tar.gz"
            tarball = "$TMP/cache/downloads/linux-6.1.999.tar.gz"
            sha256 = "<linux-sha>"
            version = "6.1.999"
            tree = "$TMP/cache/src/linux-6.1-<linux-sha>"
            --- error
        "#]],
    );
    check(
        sb.cache_listing(&redact),
        expect![[r#"
            CACHEDIR.TAG
            downloads/
            downloads/busybox-1.35.0.tar.gz
            downloads/linux-6.1.999.tar.gz
            lock
            src/
            src/busybox-1.35.0-<busybox-sha.manifest
            src/busybox-1.35.0-<busybox-sha.toml
            src/busybox-1.35.0-<busybox-sha/
            src/linux-6.1-<linux-sha>.manifest
            src/linux-6.1-<linux-sha>.toml
            src/linux-6.1-<linux-sha>/"#]],
    );
    check(
        sb.link("linux", &redact),
        expect![[r#"$TMP/cache/src/linux-6.1-<linux-sha>"#]],
    );
    let makefile = sb.out_dir().join("src/linux/Makefile");
    assert!(makefile.is_file(), "{} missing", makefile.display());
    check(
        sb.fetch(&[], &redact),
        expect![[r#"
            status: 0 (up to date)
            --- stdout
            --- error
        "#]],
    );
}

#[test]
fn tarball_declaring_another_version_is_rejected() {
    let sb = Sandbox::new("version");
    let linux = sb.tarball(
        "linux-6.10.2",
        "VERSION = 6\nPATCHLEVEL = 10\nSUBLEVEL = 2\nEXTRAVERSION =\n",
        "Kconfig",
    );
    let busybox = sb.busybox();
    sb.sources(
        (&[linux.url()], &linux.sha256),
        (&[busybox.url()], &busybox.sha256),
    );
    let redact = [
        (busybox.sha256.as_str(), "<busybox-sha>"),
        (linux.sha256.as_str(), "<linux-sha>"),
    ];
    check(
        sb.fetch(&[], &redact),
        expect![[r#"
            status: 1
            --- stdout
            --- error
            error: stage `fetch` failed: every source of linux failed:
              file://$TMP/tarballs/linux-6.10.2.tar.gz: $TMP/cache/downloads/linux-6.10.2.tar.gz holds linux 6.10.2, but the board says 6.1"#]],
    );
    check(
        sb.cache_listing(&redact),
        expect![[r#"
            CACHEDIR.TAG
            downloads/
            downloads/busybox-1.35.0.tar.gz
            downloads/linux-6.10.2.tar.gz
            lock
            src/
            src/busybox-1.35.0-<busybox-sha.manifest
            src/busybox-1.35.0-<busybox-sha.toml
            src/busybox-1.35.0-<busybox-sha/"#]],
    );
}

#[test]
fn local_trees_must_look_like_kernel_and_busybox_trees() {
    let sb = Sandbox::new("local");
    sb.sources((&[], ""), (&[], ""));
    sb.write("not-linux/Makefile", "all:\n");
    sb.write(
        "linux/Makefile",
        "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 5\n",
    );
    sb.write("linux/Kconfig", "");
    sb.write(
        "busybox/Makefile",
        "VERSION = 1\nPATCHLEVEL = 36\nSUBLEVEL = 1\n",
    );
    sb.write("busybox/Config.in", "");
    sb.write(
        "configured/Makefile",
        "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 5\n",
    );
    sb.write("configured/Kconfig", "");
    sb.write("configured/.config", "CONFIG_ARM=y\n");
    let path = |p: &str| sb.path(p).to_str().unwrap().to_string();
    check(
        sb.fetch(
            &[
                "--kernel-src",
                &path("not-linux"),
                "--busybox-src",
                &path("busybox"),
            ],
            &[],
        ),
        expect![[r#"
            status: 1
            --- stdout
            --- error
            error: stage `fetch` failed: --kernel-src $TMP/not-linux: has no Kconfig, so it is not a linux source tree"#]],
    );
    check(
        sb.fetch(
            &[
                "--kernel-src",
                &path("configured"),
                "--busybox-src",
                &path("busybox"),
            ],
            &[],
        ),
        expect![[r#"
            status: 1
            --- stdout
            --- error
            error: stage `fetch` failed: --kernel-src $TMP/configured: the tree is configured in place (has .config), which `make O=` refuses: run `make mrproper` in it or use a clean copy"#]],
    );
    check(
        sb.fetch(
            &[
                "--kernel-src",
                &path("linux"),
                "--busybox-src",
                &path("busybox"),
            ],
            &[],
        ),
        expect![[r#"
            status: 0
            --- stdout
            # Written by `cargo xtask fetch`: where each source tree of board $BOARD came from.
            [busybox]
            route = "local"
            version = "1.36.1"
            tree = "$TMP/busybox"
            signature = "2 files, newest $MTIME"

            [linux]
            route = "local"
            version = "6.1.5"
            tree = "$TMP/linux"
            signature = "2 files, newest $MTIME"
            --- error
        "#]],
    );
    check(sb.link("busybox", &[]), expect![[r#"$TMP/busybox"#]]);
    let args = [
        "--kernel-src",
        &path("linux"),
        "--busybox-src",
        &path("busybox"),
    ];
    let first_line = |out: String| out.lines().next().unwrap_or("").to_string();
    check(
        first_line(sb.fetch(&args, &[])),
        expect!["status: 0 (up to date)"],
    );
    // an edit inside a local tree is a new input for the stages after fetch
    sb.write("linux/init/new.c", "int x;\n");
    check(first_line(sb.fetch(&args, &[])), expect!["status: 0"]);
}

#[test]
fn a_file_deleted_from_a_cached_tree_is_noticed_and_the_tree_unpacked_again() {
    let sb = Sandbox::new("manifest");
    let (linux, busybox) = (sb.linux(), sb.busybox());
    sb.sources(
        (&[linux.url()], &linux.sha256),
        (&[busybox.url()], &busybox.sha256),
    );
    let redact = [
        (busybox.sha256.as_str(), "<busybox-sha>"),
        (linux.sha256.as_str(), "<linux-sha>"),
    ];
    let first_line = |out: String| out.lines().next().unwrap_or("").to_string();
    check(first_line(sb.fetch(&[], &redact)), expect!["status: 0"]);
    let kconfig = sb.path(&format!(
        "cache/src/linux-6.1-{}/Kconfig",
        &linux.sha256[..12]
    ));
    std::fs::remove_file(&kconfig).unwrap();
    // Up to date: a tree is checked when fetch runs, not on every no-op.
    check(
        first_line(sb.fetch(&[], &redact)),
        expect!["status: 0 (up to date)"],
    );
    check(
        sb.fetch(&["--verify"], &redact),
        expect![[r#"
            status: 0
            --- stdout
            # Written by `cargo xtask fetch`: where each source tree of board $BOARD came from.
            [busybox]
            route = "url"
            cached = true
            url = "file://$TMP/tarballs/busybox-1.35.0.tar.gz"
            tarball = "$TMP/cache/downloads/busybox-1.35.0.tar.gz"
            sha256 = "<busybox-sha>"
            version = "1.35.0"
            tree = "$TMP/cache/src/busybox-1.35.0-<busybox-sha"

            [linux]
            route = "url"
            url = "file://$TMP/tarballs/linux-6.1.999.tar.gz"
            tarball = "$TMP/cache/downloads/linux-6.1.999.tar.gz"
            sha256 = "<linux-sha>"
            version = "6.1.999"
            tree = "$TMP/cache/src/linux-6.1-<linux-sha>"
            --- notes
            [fetch] $TMP/cache/src/linux-6.1-<linux-sha>: Kconfig is missing, unlike the tarball it was unpacked from: unpacking it again
            --- error
        "#]],
    );
    assert!(kconfig.is_file(), "Kconfig not unpacked again");
    check(
        sb.fetch(&["--verify"], &redact)
            .lines()
            .take(2)
            .collect::<Vec<_>>()
            .join("\n"),
        expect![[r#"
            status: 0
            --- stdout"#]],
    );
}

/// `fakes/apt-cache` and `fakes/apt-get` serving a Debian package
/// `fake-linux-source 1.0-1` that holds `/usr/src/fake-linux.tar.gz`, the test's
/// linux tarball; every `apt-get` run adds a line to `apt-get.runs`.
fn fake_debian_archive(sb: &Sandbox, linux: &Tarball) {
    sb.write(
        "deb/DEBIAN/control",
        "Package: fake-linux-source\nVersion: 1.0-1\nArchitecture: all\n\
         Maintainer: test <test@example.org>\nDescription: test\n",
    );
    std::fs::create_dir_all(sb.path("deb/usr/src")).unwrap();
    std::fs::copy(&linux.path, sb.path("deb/usr/src/fake-linux.tar.gz")).unwrap();
    let status = Command::new("dpkg-deb")
        .args(["--root-owner-group", "--build"])
        .arg(sb.path("deb"))
        .arg(sb.path("fake.deb"))
        .output()
        .unwrap()
        .status;
    assert!(status.success(), "dpkg-deb --build failed");
    sb.fake_tool(
        "apt-cache",
        "printf 'fake-linux-source:\\n  Installed: (none)\\n  Candidate: 1.0-1\\n'\n",
    );
    sb.fake_tool(
        "apt-get",
        &format!(
            "echo \"$*\" >> {runs}\ncp {deb} ./fake-linux-source_1.0-1_all.deb\n",
            runs = sb.path("apt-get.runs").display(),
            deb = sb.path("fake.deb").display()
        ),
    );
    let path = format!("boards/{}/board.toml", sb.board());
    let text = sb.read(&path);
    let head = &text[..text.find("[sources.linux]").unwrap()];
    sb.write(
        &path,
        &format!(
            "{head}[sources.linux]\nversion = \"6.1\"\ndebian_package = \"fake-linux-source\"\n\
             debian_tarball = \"/usr/src/fake-linux.tar.gz\"\n\n\
             [sources.busybox]\nversion = \"1.35.0\"\nurls = [{:?}]\nsha256 = {:?}\n",
            sb.busybox().url(),
            sb.busybox().sha256
        ),
    );
}

#[test]
fn a_corrupt_download_from_the_debian_archive_is_discarded_and_downloaded_again() {
    let sb = Sandbox::new("debian");
    let linux = sb.linux();
    fake_debian_archive(&sb, &linux);
    let busybox = sb.busybox();
    let redact = [
        (busybox.sha256.as_str(), "<busybox-sha>"),
        (linux.sha256.as_str(), "<linux-sha>"),
    ];
    let runs = || sb.read("apt-get.runs").lines().count();
    let first_line = |out: String| out.lines().next().unwrap_or("").to_string();
    check(first_line(sb.fetch(&[], &redact)), expect!["status: 0"]);
    assert_eq!(runs(), 1);
    let tarball = "cache/downloads/fake-linux-source_1.0-1_fake-linux.tar.gz";
    // Damaged after it was recorded: found by its hash, downloaded again.
    sb.write(tarball, "corrupt");
    let redownloaded = sb.fetch(&["--verify"], &redact);
    check(
        redownloaded.clone(),
        expect![[r#"
        status: 0
        --- stdout
        # Written by `cargo xtask fetch`: where each source tree of board $BOARD came from.
        [busybox]
        route = "url"
        cached = true
        url = "file://$TMP/tarballs/busybox-1.35.0.tar.gz"
        tarball = "$TMP/cache/downloads/busybox-1.35.0.tar.gz"
        sha256 = "<busybox-sha>"
        version = "1.35.0"
        tree = "$TMP/cache/src/busybox-1.35.0-<busybox-sha"

        [linux]
        route = "debian-archive"
        cached = true
        package = "fake-linux-source"
        package_version = "1.0-1"
        tarball = "$TMP/cache/downloads/fake-linux-source_1.0-1_fake-linux.tar.gz"
        sha256 = "<linux-sha>"
        version = "6.1.999"
        tree = "$TMP/cache/src/linux-6.1-<linux-sha>"
        --- notes
        [fetch] $TMP/cache/downloads/fake-linux-source_1.0-1_fake-linux.tar.gz: its sha256 11d510e067d2 is not the <linux-sha> recorded when it was downloaded: discarding it and downloading again
        --- error
    "#]],
    );
    assert_eq!(runs(), 2);
    assert_eq!(
        std::fs::read(sb.path(tarball)).unwrap(),
        std::fs::read(&linux.path).unwrap()
    );
    // A download of an older minilinux (no record) that a cached tree came from is kept.
    std::fs::remove_file(sb.path(&format!("{tarball}.sha256"))).unwrap();
    check(
        first_line(sb.fetch(&["--verify"], &redact)),
        expect!["status: 0"],
    );
    assert_eq!(runs(), 2);
    assert!(
        sb.path(&format!("{tarball}.sha256")).is_file(),
        "not recorded"
    );
    // One without a record that nothing came from is not trusted: downloaded again, the
    // same fetch.toml as above, another reason.
    std::fs::remove_file(sb.path(&format!("{tarball}.sha256"))).unwrap();
    sb.write(tarball, "corrupt");
    let unrecorded = sb.fetch(&["--verify"], &redact);
    for part in ["stdout", "error"] {
        assert_eq!(
            section(&unrecorded, part),
            section(&redownloaded, part),
            "--- {part}"
        );
    }
    check(
        format!(
            "{}\n{}",
            first_line(unrecorded.clone()),
            section(&unrecorded, "notes")
        ),
        expect![[r#"
            status: 0
            [fetch] $TMP/cache/downloads/fake-linux-source_1.0-1_fake-linux.tar.gz: no sha256 was recorded when it was downloaded: discarding it and downloading again
        "#]],
    );
    assert_eq!(runs(), 3);
}

/// Whether process `pid` is gone (or a zombie: dead, not yet reaped).
fn is_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

#[test]
fn a_tool_dies_with_a_killed_fetch_and_the_next_fetch_reclaims_its_leftovers() {
    let sb = Sandbox::new("killed");
    let (linux, busybox) = (sb.linux(), sb.busybox());
    sb.sources(
        (&[linux.url()], &linux.sha256),
        (&[busybox.url()], &busybox.sha256),
    );
    let pid_file = sb.path("bsdtar.pid");
    sb.fake_tool(
        "bsdtar",
        &format!(
            "echo $$ > {pid}.tmp && mv {pid}.tmp {pid}\nexec sleep 120\n",
            pid = pid_file.display()
        ),
    );
    let mut fetch = sb.fetch_command(&[]).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !pid_file.is_file() {
        assert!(std::time::Instant::now() < deadline, "bsdtar never ran");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let bsdtar: u32 = sb.read("bsdtar.pid").trim().parse().unwrap();
    fetch.kill().unwrap(); // SIGKILL: no handler of xtask's runs
    fetch.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !is_dead(bsdtar) {
        assert!(
            std::time::Instant::now() < deadline,
            "bsdtar (pid {bsdtar}) outlived the fetch that ran it"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::fs::remove_dir_all(sb.path("fakes")).unwrap();
    let redact = [
        (busybox.sha256.as_str(), "<busybox-sha>"),
        (linux.sha256.as_str(), "<linux-sha>"),
    ];
    let first_line = |out: String| out.lines().next().unwrap_or("").to_string();
    check(first_line(sb.fetch(&[], &redact)), expect!["status: 0"]);
    check(
        sb.cache_listing(&redact),
        expect![[r#"
        CACHEDIR.TAG
        downloads/
        downloads/busybox-1.35.0.tar.gz
        downloads/linux-6.1.999.tar.gz
        lock
        src/
        src/busybox-1.35.0-<busybox-sha.manifest
        src/busybox-1.35.0-<busybox-sha.toml
        src/busybox-1.35.0-<busybox-sha/
        src/linux-6.1-<linux-sha>.manifest
        src/linux-6.1-<linux-sha>.toml
        src/linux-6.1-<linux-sha>/"#]],
    );
}
