//! Packs real manifests and checks the archives with the system's own tools:
//! GNU cpio, bsdtar (libarchive), gzip, zstd, xz and lz4.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use expect_test::{expect, Expect};
use rootfs::{list, pack, render_listing, Compression, PackOptions};

/// A temporary directory with host files, and a manifest in it.
struct Fixture {
    dir: tempfile::TempDir,
    vars: BTreeMap<String, PathBuf>,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
            vars: BTreeMap::new(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes a host file with permission bits `mode`, creating parents.
    fn file(&self, rel: &str, contents: &str, mode: u32) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    fn var(&mut self, name: &str, rel: &str) {
        let path = self.path(rel);
        self.vars.insert(name.to_string(), path);
    }

    fn options(&self, manifest: &str, compression: Compression) -> PackOptions {
        PackOptions {
            manifest: self.path(manifest),
            vars: self.vars.clone(),
            compression,
            mtime: 0,
        }
    }

    /// Packs `manifest` to `out` and returns the archive's bytes.
    fn pack(&self, manifest: &str, compression: Compression, out: &str) -> Vec<u8> {
        let out = self.path(out);
        pack(&self.options(manifest, compression), &out).unwrap();
        std::fs::read(out).unwrap()
    }

    /// Replaces the fixture's directory with `$DIR` so messages are stable.
    fn redact(&self, text: &str) -> String {
        text.replace(self.dir.path().to_str().unwrap(), "$DIR")
    }
}

/// Runs `program args` with `stdin`, in UTC so dates are stable; returns stdout, asserting success.
fn run(program: &str, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {program} (install it: cpio libarchive-tools zstd xz-utils lz4): {e}"
            )
        });
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || input.write_all(&stdin));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `initramfs.cpio` plus the compression's extension, as the pack stage names it.
fn archive_name(compression: Compression) -> String {
    match compression.extension() {
        "" => "initramfs.cpio".to_string(),
        ext => format!("initramfs.cpio.{ext}"),
    }
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

/// The host side of the versatilepb board: stand-ins for the build outputs.
fn board_fixture() -> Fixture {
    let mut fx = Fixture::new();
    fx.file("out/busybox", "#!busybox stand-in\n", 0o755);
    fx.file(
        "out/busybox.links",
        "/bin/ls\n/bin/sh\n/sbin/init\n/usr/bin/env\n/usr/sbin/chroot\n/linuxrc\n",
        0o644,
    );
    fx.file("out/init", "#!init stand-in\n", 0o700);
    fx.file("out/hostname", "versatilepb\n", 0o644);
    fx.var("busybox", "out/busybox");
    fx.var("hostname", "out/hostname");
    fx.var("busybox_links", "out/busybox.links");
    fx.var("init", "out/init");
    fx.var("board", "board");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../boards/versatilepb/rootfs.toml");
    std::fs::create_dir_all(fx.path("board")).unwrap();
    std::fs::copy(manifest, fx.path("board/rootfs.toml")).unwrap();
    fx
}

#[test]
fn versatilepb_manifest_lists_the_same_in_gnu_cpio_bsdtar_and_our_reader() {
    let fx = board_fixture();
    let gz = fx.pack("board/rootfs.toml", Compression::Gzip, "initramfs.cpio.gz");
    let raw = run("gzip", &["-dc"], &gz);

    expect![[r#"
        drwxr-xr-x   2 root     root            0 Jan  1  1970 bin
        -rwxr-xr-x   1 root     root           19 Jan  1  1970 bin/busybox
        lrwxrwxrwx   1 root     root            7 Jan  1  1970 bin/ls -> busybox
        lrwxrwxrwx   1 root     root            7 Jan  1  1970 bin/sh -> busybox
        drwxr-xr-x   3 root     root            0 Jan  1  1970 dev
        crw-------   1 root     root       5,   1 Jan  1  1970 dev/console
        crw-rw-rw-   1 root     root       1,   3 Jan  1  1970 dev/null
        drwxr-xr-x   2 root     root            0 Jan  1  1970 dev/pts
        drwxr-xr-x   2 root     root            0 Jan  1  1970 etc
        -rw-r--r--   1 root     root          307 Jan  1  1970 etc/group
        -rw-r--r--   1 root     root           12 Jan  1  1970 etc/hostname
        -rw-r--r--   1 root     root          340 Jan  1  1970 etc/passwd
        -rw-r--r--   1 root     root           44 Jan  1  1970 etc/profile
        -rwxr-xr-x   1 root     root           16 Jan  1  1970 init
        lrwxrwxrwx   1 root     root           11 Jan  1  1970 linuxrc -> bin/busybox
        drwxr-xr-x   2 root     root            0 Jan  1  1970 proc
        drwx------   2 root     root            0 Jan  1  1970 root
        drwxr-xr-x   2 root     root            0 Jan  1  1970 run
        drwxr-xr-x   2 root     root            0 Jan  1  1970 sbin
        lrwxrwxrwx   1 root     root           14 Jan  1  1970 sbin/init -> ../bin/busybox
        drwxr-xr-x   2 root     root            0 Jan  1  1970 sys
        drwxrwxrwt   2 root     root            0 Jan  1  1970 tmp
        drwxr-xr-x   4 root     root            0 Jan  1  1970 usr
        drwxr-xr-x   2 root     root            0 Jan  1  1970 usr/bin
        lrwxrwxrwx   1 root     root           17 Jan  1  1970 usr/bin/env -> ../../bin/busybox
        drwxr-xr-x   2 root     root            0 Jan  1  1970 usr/sbin
        lrwxrwxrwx   1 root     root           17 Jan  1  1970 usr/sbin/chroot -> ../../bin/busybox
    "#]]
    .assert_eq(&text(run("cpio", &["-itv", "--quiet"], &raw)));

    expect![[r#"
        drwxr-xr-x  2 0      0           0 Jan  1  1970 bin
        -rwxr-xr-x  1 0      0          19 Jan  1  1970 bin/busybox
        lrwxrwxrwx  1 0      0           7 Jan  1  1970 bin/ls -> busybox
        lrwxrwxrwx  1 0      0           7 Jan  1  1970 bin/sh -> busybox
        drwxr-xr-x  3 0      0           0 Jan  1  1970 dev
        crw-------  1 0      0         5,1 Jan  1  1970 dev/console
        crw-rw-rw-  1 0      0         1,3 Jan  1  1970 dev/null
        drwxr-xr-x  2 0      0           0 Jan  1  1970 dev/pts
        drwxr-xr-x  2 0      0           0 Jan  1  1970 etc
        -rw-r--r--  1 0      0         307 Jan  1  1970 etc/group
        -rw-r--r--  1 0      0          12 Jan  1  1970 etc/hostname
        -rw-r--r--  1 0      0         340 Jan  1  1970 etc/passwd
        -rw-r--r--  1 0      0          44 Jan  1  1970 etc/profile
        -rwxr-xr-x  1 0      0          16 Jan  1  1970 init
        lrwxrwxrwx  1 0      0          11 Jan  1  1970 linuxrc -> bin/busybox
        drwxr-xr-x  2 0      0           0 Jan  1  1970 proc
        drwx------  2 0      0           0 Jan  1  1970 root
        drwxr-xr-x  2 0      0           0 Jan  1  1970 run
        drwxr-xr-x  2 0      0           0 Jan  1  1970 sbin
        lrwxrwxrwx  1 0      0          14 Jan  1  1970 sbin/init -> ../bin/busybox
        drwxr-xr-x  2 0      0           0 Jan  1  1970 sys
        drwxrwxrwt  2 0      0           0 Jan  1  1970 tmp
        drwxr-xr-x  4 0      0           0 Jan  1  1970 usr
        drwxr-xr-x  2 0      0           0 Jan  1  1970 usr/bin
        lrwxrwxrwx  1 0      0          17 Jan  1  1970 usr/bin/env -> ../../bin/busybox
        drwxr-xr-x  2 0      0           0 Jan  1  1970 usr/sbin
        lrwxrwxrwx  1 0      0          17 Jan  1  1970 usr/sbin/chroot -> ../../bin/busybox
    "#]]
    .assert_eq(&text(run("bsdtar", &["-tvf", "-"], &gz)));
    expect![[r#"
        drwxr-xr-x 2 0 0    0 /bin
        -rwxr-xr-x 1 0 0   19 /bin/busybox
        lrwxrwxrwx 1 0 0    7 /bin/ls -> busybox
        lrwxrwxrwx 1 0 0    7 /bin/sh -> busybox
        drwxr-xr-x 3 0 0    0 /dev
        crw------- 1 0 0 5, 1 /dev/console
        crw-rw-rw- 1 0 0 1, 3 /dev/null
        drwxr-xr-x 2 0 0    0 /dev/pts
        drwxr-xr-x 2 0 0    0 /etc
        -rw-r--r-- 1 0 0  307 /etc/group
        -rw-r--r-- 1 0 0   12 /etc/hostname
        -rw-r--r-- 1 0 0  340 /etc/passwd
        -rw-r--r-- 1 0 0   44 /etc/profile
        -rwxr-xr-x 1 0 0   16 /init
        lrwxrwxrwx 1 0 0   11 /linuxrc -> bin/busybox
        drwxr-xr-x 2 0 0    0 /proc
        drwx------ 2 0 0    0 /root
        drwxr-xr-x 2 0 0    0 /run
        drwxr-xr-x 2 0 0    0 /sbin
        lrwxrwxrwx 1 0 0   14 /sbin/init -> ../bin/busybox
        drwxr-xr-x 2 0 0    0 /sys
        drwxrwxrwt 2 0 0    0 /tmp
        drwxr-xr-x 4 0 0    0 /usr
        drwxr-xr-x 2 0 0    0 /usr/bin
        lrwxrwxrwx 1 0 0   17 /usr/bin/env -> ../../bin/busybox
        drwxr-xr-x 2 0 0    0 /usr/sbin
        lrwxrwxrwx 1 0 0   17 /usr/sbin/chroot -> ../../bin/busybox
    "#]]
    .assert_eq(&render_listing(&list(&gz).unwrap()));
}

/// Builds the same host tree under `umask`, creating entries in `order`, with every mtime `mtime`.
fn umask_tree(fx: &Fixture, umask: &str, reverse: bool, mtime: &str) {
    let mut steps = [
        "mkdir -p overlay/etc/init.d overlay/usr/share",
        "printf 'welcome\\n' > overlay/etc/motd",
        "printf '#!/bin/sh\\n' > overlay/etc/init.d/S01 && chmod u+x overlay/etc/init.d/S01",
        "ln -s ../../etc/motd overlay/usr/share/motd",
        "printf 'busybox' > busybox && chmod u+x busybox",
        "printf '/bin/ls\\n/sbin/init\\n' > busybox.links",
    ];
    if reverse {
        steps[1..].reverse();
    }
    let script = format!(
        "set -e; umask {umask}; {}; find . -exec touch -h -d @{mtime} {{}} +",
        steps.join("; ")
    );
    let status = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(fx.dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(
        fx.path("rootfs.toml"),
        "[[file]]\npath = \"/bin/busybox\"\nsource = \"busybox\"\n\n\
         [[busybox_links]]\nlist = \"busybox.links\"\nbinary = \"/bin/busybox\"\n\n\
         [[overlay]]\nsource = \"overlay\"\n",
    )
    .unwrap();
}

#[test]
fn packs_are_byte_identical_whatever_the_umask_mtimes_and_creation_order() {
    let (a, b) = (Fixture::new(), Fixture::new());
    umask_tree(&a, "022", false, "1000000000");
    umask_tree(&b, "077", true, "1700000000");
    // The hosts really differ: group/other bits and mtimes.
    let mode = |fx: &Fixture, rel: &str| std::fs::metadata(fx.path(rel)).unwrap().mode() & 0o777;
    assert_eq!((mode(&a, "busybox"), mode(&b, "busybox")), (0o744, 0o700));
    assert_eq!(
        (mode(&a, "overlay/etc/motd"), mode(&b, "overlay/etc/motd")),
        (0o644, 0o600)
    );
    for compression in Compression::ALL {
        let out = archive_name(compression);
        assert_eq!(
            a.pack("rootfs.toml", compression, &out),
            b.pack("rootfs.toml", compression, &out),
            "{compression}"
        );
    }
    expect![[r#"
        drwxr-xr-x 2 0 0  0 /bin
        -rwxr-xr-x 1 0 0  7 /bin/busybox
        lrwxrwxrwx 1 0 0  7 /bin/ls -> busybox
        drwxr-xr-x 3 0 0  0 /etc
        drwxr-xr-x 2 0 0  0 /etc/init.d
        -rwxr-xr-x 1 0 0 10 /etc/init.d/S01
        -rw-r--r-- 1 0 0  8 /etc/motd
        drwxr-xr-x 2 0 0  0 /sbin
        lrwxrwxrwx 1 0 0 14 /sbin/init -> ../bin/busybox
        drwxr-xr-x 3 0 0  0 /usr
        drwxr-xr-x 2 0 0  0 /usr/share
        lrwxrwxrwx 1 0 0 14 /usr/share/motd -> ../../etc/motd
    "#]]
    .assert_eq(&render_listing(
        &list(&std::fs::read(b.path("initramfs.cpio")).unwrap()).unwrap(),
    ));
}

#[test]
fn source_date_epoch_sets_every_mtime() {
    let fx = board_fixture();
    let mut opts = fx.options("board/rootfs.toml", Compression::None);
    opts.mtime = 1_700_000_000;
    let out = fx.path("initramfs.cpio");
    pack(&opts, &out).unwrap();
    let entries = list(&std::fs::read(&out).unwrap()).unwrap();
    assert!(entries.len() > 20);
    assert!(entries.iter().all(|e| e.mtime == 1_700_000_000));
    opts.mtime = 1 << 32;
    expect!["mtime 4294967296 does not fit the newc format's 32 bits"]
        .assert_eq(&pack(&opts, &out).unwrap_err().to_string());
}

#[test]
fn every_compression_round_trips_through_the_system_decompressor() {
    let fx = board_fixture();
    let raw = fx.pack("board/rootfs.toml", Compression::None, "initramfs.cpio");
    for (compression, tool) in [
        (Compression::Gzip, "gzip"),
        (Compression::Zstd, "zstd"),
        (Compression::Xz, "xz"),
        (Compression::Lz4, "lz4"),
    ] {
        let packed = fx.pack("board/rootfs.toml", compression, &archive_name(compression));
        assert!(
            packed.len() < raw.len() / 2,
            "{compression} did not compress"
        );
        assert_eq!(run(tool, &["-dc"], &packed), raw, "{tool} -dc disagrees");
        assert_eq!(
            list(&packed).unwrap(),
            list(&raw).unwrap(),
            "our reader of {compression} disagrees"
        );
    }
}

#[test]
fn lz4_splits_large_archives_into_8_mib_legacy_blocks() {
    let fx = Fixture::new();
    // Over 8 MiB, and data that does not compress to nothing.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let big: String = (0..(9 << 20) / 8)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if i % 3 == 0 {
                format!("{:07x}\n", state >> 36)
            } else {
                "abcdefg\n".to_string()
            }
        })
        .collect();
    fx.file("overlay/big", &big, 0o644);
    fx.file("rootfs.toml", "[[overlay]]\nsource = \"overlay\"\n", 0o644);
    let raw = fx.pack("rootfs.toml", Compression::None, "initramfs.cpio");
    let lz4 = fx.pack("rootfs.toml", Compression::Lz4, "initramfs.cpio.lz4");
    let first_block = u32::from_le_bytes(lz4[4..8].try_into().unwrap()) as usize;
    let second_block =
        u32::from_le_bytes(lz4[8 + first_block..12 + first_block].try_into().unwrap()) as usize;
    assert_eq!(
        12 + first_block + second_block,
        lz4.len(),
        "expected exactly two blocks"
    );
    assert_eq!(run("lz4", &["-dc"], &lz4), raw);
    assert_eq!(list(&lz4).unwrap(), list(&raw).unwrap());
}

#[test]
fn compressed_headers_are_the_kernel_flavours() {
    let fx = board_fixture();
    let gz = fx.pack("board/rootfs.toml", Compression::Gzip, "i.gz");
    // gzip: deflate, no flags (so no file name), mtime 0.
    assert_eq!(gz[..8], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    let xz = fx.pack("board/rootfs.toml", Compression::Xz, "i.xz");
    // xz stream flags: check type 1 = CRC32, the only check the kernel's xz_dec verifies.
    assert_eq!(xz[..8], [0xfd, b'7', b'z', b'X', b'Z', 0, 0, 1]);
    expect![[r#"
        Strms  Blocks   Compressed Uncompressed  Ratio  Check   Filename
            1       1        840 B       4176 B  0.201  CRC32   $DIR/i.xz
    "#]]
    .assert_eq(&fx.redact(&text(run(
        "xz",
        &["-l", fx.path("i.xz").to_str().unwrap()],
        b"",
    ))));
    let lz4 = fx.pack("board/rootfs.toml", Compression::Lz4, "i.lz4");
    // lz4 legacy frame magic 0x184C2102, little-endian; `lz4 -l` writes the same.
    assert_eq!(lz4[..4], [0x02, 0x21, 0x4c, 0x18]);
    let raw = fx.pack("board/rootfs.toml", Compression::None, "i.cpio");
    assert_eq!(run("lz4", &["-l", "-c", "-q"], &raw)[..4], lz4[..4]);
}

/// Packs `manifest` (as `rootfs.toml`, next to a few host files) and shows the error, checking
/// that no archive was written.
fn check_error(manifest: &str, expect: Expect) {
    let mut fx = Fixture::new();
    fx.file("files/busybox", "busybox", 0o755);
    fx.file("files/busybox.links", "/bin/ls\n\n/sbin/init\n", 0o644);
    fx.file("files/bad.links", "/bin/ls\nbin/sh\n", 0o644);
    fx.file("files/big.list", "nod /dev/big 0600 0 0 c 4096 1\n", 0o644);
    fx.file(
        "files/bad.list",
        "# comment\ndir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5\n",
        0o644,
    );
    fx.var("files", "files");
    fx.file("rootfs.toml", manifest, 0o644);
    let out = fx.path("initramfs.cpio.gz");
    let err = pack(&fx.options("rootfs.toml", Compression::Gzip), &out).unwrap_err();
    assert!(!out.exists(), "an archive was written despite: {err}");
    expect.assert_eq(&fx.redact(&err.to_string()));
}

#[test]
fn bad_manifests_name_file_line_and_write_nothing() {
    check_error(
        r#"
[[dir]]
path = "/etc"

[[file]]
path = "/etc/../../passwd"
contents = "root::0:0::/root:/bin/sh\n"
"#,
        expect![[r#"$DIR/rootfs.toml:6: guest path "/etc/../../passwd" leaves `/`"#]],
    );
    check_error(
        r#"
[[node]]
path = "/dev/null"
type = "char"
major = 1
minor = 3

[[file]]
path = "/dev//null"
contents = ""
"#,
        expect!["$DIR/rootfs.toml:9: duplicate guest path /dev/null, also declared at $DIR/rootfs.toml:3"],
    );
    check_error(
        r#"
[[file]]
path = "/bin/busybox"
source = "${files}/busybox-1.35"
"#,
        expect!["$DIR/rootfs.toml:3: cannot read host file $DIR/files/busybox-1.35 for /bin/busybox: No such file or directory (os error 2)"],
    );
    check_error(
        r#"
[[node]]
path = "/dev/console"
type = "char"
"#,
        expect!["$DIR/rootfs.toml:3: device node /dev/console has no numbers: add `major = ..` and `minor = ..`"],
    );
    check_error(
        r#"
[[node]]
path = "/dev/console"
type = "char"
major = 5
"#,
        expect!["$DIR/rootfs.toml:3: a device node needs both `major` and `minor`"],
    );
    check_error(
        r#"
[[file]]
path = "/init"
source = "${init}"
"#,
        expect![[
            r#"$DIR/rootfs.toml:4: unknown variable `${init}` in "${init}"; defined variables: ${files}"#
        ]],
    );
    check_error(
        r#"
[[dir]]
path = "/root"
mode = 700
"#,
        expect![[r#"$DIR/rootfs.toml:4: mode 700 is not octal: write it as 0o700 or "0700""#]],
    );
    check_error(
        r#"
[[file]]
path = "/etc/motd"
contents = "hi"
mdoe = "0644"
"#,
        expect!["$DIR/rootfs.toml:5: unknown field `mdoe`, expected one of `path`, `source`, `contents`, `mode`, `uid`, `gid`"],
    );
    check_error(
        r#"
[[file]]
path = "/bin/busybox"
source = "${files}/busybox"

[[file]]
path = "/sbin/init"
contents = "echo init\n"

[[busybox_links]]
list = "${files}/busybox.links"
binary = "/bin/busybox"
"#,
        expect!["$DIR/files/busybox.links:3 (from $DIR/rootfs.toml:11): duplicate guest path /sbin/init, also declared at $DIR/rootfs.toml:7"],
    );
    check_error(
        r#"
[[file]]
path = "/bin/busybox"
source = "${files}/busybox"

[[busybox_links]]
list = "${files}/bad.links"
binary = "/bin/busybox"
"#,
        expect![[
            r#"$DIR/files/bad.links:2 (from $DIR/rootfs.toml:7): "bin/sh" is not an absolute applet path like /bin/ls"#
        ]],
    );
    check_error(
        r#"
[[busybox_links]]
list = "${files}/busybox.links"
binary = "/bin/busybox"
"#,
        expect!["$DIR/rootfs.toml:3: busybox binary /bin/busybox is not a regular file in the tree; add a [[file]] for it"],
    );
    check_error(
        r#"
[[gen_init_cpio]]
list = "${files}/bad.list"
"#,
        expect!["$DIR/files/bad.list:3 (from $DIR/rootfs.toml:3): `nod` takes 7 fields, got 6; usage: nod <name> <mode> <uid> <gid> <dev_type> <maj> <min>"],
    );
    check_error(
        r#"
[[dir]]
path = "/usr/lib"

[[hardlink]]
path = "/lib"
target = "/usr/lib"
"#,
        expect!["$DIR/rootfs.toml:6: hard link /lib points to /usr/lib, which is not a regular file in the tree"],
    );
    check_error(
        r#"
[[symlink]]
path = "/lib"
target = "usr/lib"

[[file]]
path = "/lib/ld.so"
contents = ""
"#,
        expect!["$DIR/rootfs.toml:7: /lib/ld.so is inside /lib, which is not a directory (declared at $DIR/rootfs.toml:3)"],
    );
    check_error(
        r#"
[[overlay]]
source = "${files}/busybox"
"#,
        expect!["$DIR/rootfs.toml:3: overlay source $DIR/files/busybox is not a directory (use [[file]] for a single file)"],
    );
}

/// Issue 18, case 12: input the kernel would misread, or that reads two ways, is refused.
#[test]
fn ambiguous_or_out_of_range_manifests_are_refused() {
    check_error(
        r#"
[[node]]
path = "/dev/big"
type = "char"
major = 4096
minor = 0
"#,
        expect!["$DIR/rootfs.toml:5: major 4096 is too large: the kernel's device numbers have 12 bits of major (0 to 4095), a larger one is read as another device; use a number up to 4095"],
    );
    check_error(
        r#"
[[node]]
path = "/dev/big"
type = "block"
major = 8
minor = 1048576
"#,
        expect!["$DIR/rootfs.toml:6: minor 1048576 is too large: the kernel's device numbers have 20 bits of minor (0 to 1048575), a larger one is read as another device; use a number up to 1048575"],
    );
    check_error(
        r#"
[[gen_init_cpio]]
list = "${files}/big.list"
"#,
        expect!["$DIR/files/big.list:1 (from $DIR/rootfs.toml:3): major 4096 is too large: the kernel's device numbers have 12 bits of major (0 to 4095), a larger one is read as another device; use a number up to 4095"],
    );
    check_error(
        r#"
[[dir]]
path = "etc"
"#,
        expect![[
            r#"$DIR/rootfs.toml:3: guest path "etc" is relative: guest paths are absolute, write /etc"#
        ]],
    );
    check_error(
        r#"
[[file]]
path = "/bin/busybox"
source = "${files}/busybox"

[[busybox_links]]
list = "${files}/busybox.links"
binary = "bin/busybox"
"#,
        expect![[
            r#"$DIR/rootfs.toml:8: guest path "bin/busybox" is relative: guest paths are absolute, write /bin/busybox"#
        ]],
    );
    check_error(
        r#"
[[dir]]
path = "/srv"
paths = ["/etc", "/var"]
"#,
        expect![[
            r#"$DIR/rootfs.toml:3: a [[dir]] takes `path` or `paths`, not both: move "/srv" into `paths`, or make it a [[dir]] of its own"#
        ]],
    );
    check_error(
        r#"
[[dir]]
path = "/root"
mode = 493
"#,
        expect![[
            r#"$DIR/rootfs.toml:4: mode 493 is not octal: TOML reads it as the number 493, which is 0o755 in octal; write 0o755 or "0755""#
        ]],
    );
    check_error(
        r#"
[[dir]]
path = "/root"
mode = 0x1c0
"#,
        expect![[
            r#"$DIR/rootfs.toml:4: mode 0x1c0 is not octal: TOML reads it as the number 448, which is 0o700 in octal; write 0o700 or "0700""#
        ]],
    );
    check_error(
        r#"
[[dir]]
path = "/root"
mode = 99999
"#,
        expect!["$DIR/rootfs.toml:4: mode 99999 is out of range: permission bits are octal, up to 0o7777 (write e.g. 0o755)"],
    );
}

/// The report names the largest files, for the caller to weigh against the guest's memory.
#[test]
fn the_report_names_the_largest_files() {
    let fx = Fixture::new();
    fx.file("big", &"x".repeat(3000), 0o644);
    fx.file("mid", &"x".repeat(2000), 0o644);
    fx.file(
        "rootfs.toml",
        r#"
[[file]]
path = "/big"
source = "big"

[[file]]
path = "/a/mid"
source = "mid"

[[file]]
path = "/small"
contents = "hi"

[[file]]
path = "/tiny"
contents = "h"

[[file]]
path = "/empty"
contents = ""
"#,
        0o644,
    );
    let report = pack(
        &fx.options("rootfs.toml", Compression::None),
        &fx.path("out.cpio"),
    )
    .unwrap();
    expect![[r#"[("/big", 3000), ("/a/mid", 2000), ("/small", 2)]"#]]
        .assert_eq(&format!("{:?}", report.largest_files));
}

#[test]
fn gen_init_cpio_lists_work_as_is() {
    let mut fx = Fixture::new();
    fx.file("out/busybox", "busybox", 0o755);
    fx.file("list/init.sh", "#!/bin/sh\nexec /bin/sh\n", 0o755);
    fx.var("busybox", "out/busybox");
    fx.file(
        "list/initramfs.list",
        "# A list as usr/gen_init_cpio reads it.\n\
         dir /dev 0755 0 0\n\
         nod /dev/console 0600 0 0 c 5 1\n\
         nod /dev/loop0 0660 0 6 b 7 0\n\
         dir /bin 0755 0 0\n\
         file /bin/busybox ${busybox} 0755 0 0 /bin/sh\n\
         slink /bin/ls busybox 0777 0 0\n\
         pipe /run/initctl 0600 0 0\n\
         sock /run/log 0666 0 0\n\
         \n\
         file /init init.sh 0755 1000 100\n",
        0o644,
    );
    let gz = fx.pack(
        "list/initramfs.list",
        Compression::Gzip,
        "initramfs.cpio.gz",
    );
    expect![[r#"
        drwxr-xr-x   2 0        0               0 Jan  1  1970 bin
        -rwxr-xr-x   2 0        0               0 Jan  1  1970 bin/busybox
        lrwxrwxrwx   1 0        0               7 Jan  1  1970 bin/ls -> busybox
        -rwxr-xr-x   2 0        0               7 Jan  1  1970 bin/sh
        drwxr-xr-x   2 0        0               0 Jan  1  1970 dev
        crw-------   1 0        0          5,   1 Jan  1  1970 dev/console
        brw-rw----   1 0        6          7,   0 Jan  1  1970 dev/loop0
        -rwxr-xr-x   1 1000     100            23 Jan  1  1970 init
        drwxr-xr-x   2 0        0               0 Jan  1  1970 run
        prw-------   1 0        0               0 Jan  1  1970 run/initctl
        srw-rw-rw-   1 0        0               0 Jan  1  1970 run/log
    "#]]
    .assert_eq(&text(run(
        "cpio",
        &["-itv", "--quiet", "--numeric-uid-gid"],
        &run("gzip", &["-dc"], &gz),
    )));
}

#[test]
fn hard_links_extract_as_one_inode_with_gnu_cpio_and_bsdtar() {
    let mut fx = Fixture::new();
    fx.file("out/busybox", "the busybox binary", 0o755);
    fx.var("busybox", "out/busybox");
    fx.file(
        "rootfs.toml",
        "[[file]]\npath = \"/bin/busybox\"\nsource = \"${busybox}\"\n\n\
         [[hardlink]]\npath = \"/sbin/init\"\ntarget = \"/bin/busybox\"\n\n\
         [[hardlink]]\npath = \"/bin/sh\"\ntarget = \"/sbin/init\"\n",
        0o644,
    );
    let raw = fx.pack("rootfs.toml", Compression::None, "initramfs.cpio");
    expect![[r#"
        drwxr-xr-x 2 0 0  0 /bin
        -rwxr-xr-x 3 0 0  0 /bin/busybox
        -rwxr-xr-x 3 0 0  0 /bin/sh
        drwxr-xr-x 2 0 0  0 /sbin
        -rwxr-xr-x 3 0 0 18 /sbin/init
    "#]]
    .assert_eq(&render_listing(&list(&raw).unwrap()));
    for (tool, args) in [
        ("cpio", &["-id", "--quiet"][..]),
        ("bsdtar", &["-xf", "-"][..]),
    ] {
        let dest = tempfile::tempdir().unwrap();
        let status = Command::new(tool)
            .args(args)
            .current_dir(dest.path())
            .stdin(std::fs::File::open(fx.path("initramfs.cpio")).unwrap())
            .status()
            .unwrap();
        assert!(status.success(), "{tool} failed");
        let inodes: Vec<(u64, u64, String)> = ["bin/busybox", "bin/sh", "sbin/init"]
            .iter()
            .map(|p| {
                let meta = std::fs::metadata(dest.path().join(p)).unwrap();
                (
                    meta.ino(),
                    meta.nlink(),
                    std::fs::read_to_string(dest.path().join(p)).unwrap(),
                )
            })
            .collect();
        assert!(inodes.iter().all(|i| *i == inodes[0]), "{tool}: {inodes:?}");
        assert_eq!(
            (inodes[0].1, inodes[0].2.as_str()),
            (3, "the busybox binary"),
            "{tool}"
        );
    }
}

#[test]
fn overlays_copy_host_trees_with_normalised_modes_and_implicit_parents() {
    let fx = Fixture::new();
    fx.file("overlay/app/run.sh", "#!/bin/sh\n", 0o700);
    fx.file("overlay/app/conf/app.conf", "x=1\n", 0o600);
    fx.file("overlay/app/README", "read me\n", 0o664);
    std::os::unix::fs::symlink("conf/app.conf", fx.path("overlay/app/current.conf")).unwrap();
    std::fs::set_permissions(
        fx.path("overlay/app/conf"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    fx.file(
        "rootfs.toml",
        "[[overlay]]\nsource = \"overlay\"\npath = \"/opt/vendor\"\nuid = 1000\ngid = 1000\n\n\
         [[dir]]\npath = \"/opt/vendor/app/conf\"\nmode = \"0750\"\n",
        0o644,
    );
    let raw = fx.pack("rootfs.toml", Compression::None, "initramfs.cpio");
    expect![[r#"
        drwxr-xr-x 3 0    0     0 /opt
        drwxr-xr-x 3 1000 1000  0 /opt/vendor
        drwxr-xr-x 3 1000 1000  0 /opt/vendor/app
        -rw-r--r-- 1 1000 1000  8 /opt/vendor/app/README
        drwxr-x--- 2 0    0     0 /opt/vendor/app/conf
        -rw-r--r-- 1 1000 1000  4 /opt/vendor/app/conf/app.conf
        lrwxrwxrwx 1 1000 1000 13 /opt/vendor/app/current.conf -> conf/app.conf
        -rwxr-xr-x 1 1000 1000 10 /opt/vendor/app/run.sh
    "#]]
    .assert_eq(&render_listing(&list(&raw).unwrap()));
    let inputs = rootfs::inputs(&fx.path("rootfs.toml"), &BTreeMap::new()).unwrap();
    let inputs: Vec<String> = inputs
        .iter()
        .map(|p| fx.redact(&p.display().to_string()))
        .collect();
    expect![[r#"
        [
            "$DIR/overlay",
            "$DIR/overlay/app",
            "$DIR/overlay/app/README",
            "$DIR/overlay/app/conf",
            "$DIR/overlay/app/conf/app.conf",
            "$DIR/overlay/app/current.conf",
            "$DIR/overlay/app/run.sh",
            "$DIR/rootfs.toml",
        ]
    "#]]
    .assert_eq(&format!("{inputs:#?}\n"));
}

#[test]
fn list_reads_an_uncompressed_archive_followed_by_a_compressed_one() {
    let fx = Fixture::new();
    fx.file(
        "early.toml",
        "[[file]]\npath = \"/kernel/x86/microcode/GenuineIntel.bin\"\ncontents = \"ucode\"\n",
        0o644,
    );
    fx.file(
        "main.toml",
        "[[file]]\npath = \"/init\"\ncontents = \"#!/bin/sh\\n\"\nmode = 0o755\n",
        0o644,
    );
    let mut both = fx.pack("early.toml", Compression::None, "early.cpio");
    both.extend([0; 8]);
    both.extend(fx.pack("main.toml", Compression::Zstd, "main.cpio.zst"));
    expect![[r#"
        drwxr-xr-x 3 0 0  0 /kernel
        drwxr-xr-x 3 0 0  0 /kernel/x86
        drwxr-xr-x 2 0 0  0 /kernel/x86/microcode
        -rw-r--r-- 1 0 0  5 /kernel/x86/microcode/GenuineIntel.bin
        -rwxr-xr-x 1 0 0 10 /init
    "#]]
    .assert_eq(&render_listing(&list(&both).unwrap()));
    expect!["bad archive: truncated body of \"init\" at offset 0"].assert_eq(
        &list(&fx.pack("main.toml", Compression::None, "main.cpio")[..120])
            .unwrap_err()
            .to_string(),
    );
}

#[test]
fn files_in_memory_make_an_archive_gnu_cpio_extracts_byte_for_byte() {
    // Any bytes: quotes, newlines, non-UTF-8, and more than 64 KiB.
    let mut script = b"echo \"a 'b'\"\nprintf '\xff\xfe'\n".to_vec();
    script.resize(script.len() + 70_000, b'w');
    let files = [rootfs::InlineFile {
        path: "/.minilinux/exec",
        mode: 0o755,
        data: &script,
    }];
    let archive = rootfs::archive_of_files(&files, 0).unwrap();
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("cpio")
        .args(["-idm", "--quiet", "--no-absolute-filenames"])
        .current_dir(out.path())
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&archive)?;
            child.wait()
        })
        .expect("GNU cpio runs");
    assert!(status.success());
    let extracted = out.path().join(".minilinux/exec");
    assert!(std::fs::read(&extracted).unwrap() == script);
    let mode = std::fs::metadata(&extracted).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o755);
    let listing = render_listing(&list(&archive).unwrap());
    expect![[r#"
        drwxr-xr-x 2 0 0     0 /.minilinux
        -rwxr-xr-x 1 0 0 70025 /.minilinux/exec
    "#]]
    .assert_eq(&listing);
}

#[test]
fn files_in_memory_with_a_bad_path_or_mode_are_refused() {
    let bad = |path, mode| {
        let file = rootfs::InlineFile {
            path,
            mode,
            data: b"",
        };
        rootfs::archive_of_files(&[file], 0)
            .unwrap_err()
            .to_string()
    };
    expect![[r#"
        guest path "/../x" leaves `/`
        mode 0o10000 of /x has bits beyond 0o7777"#]]
    .assert_eq(&format!("{}\n{}", bad("/../x", 0o644), bad("/x", 0o10000)));
}
