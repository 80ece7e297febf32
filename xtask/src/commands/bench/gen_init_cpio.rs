//! The kernel's own initramfs tools as baselines: `usr/gen_init_cpio` compiled from the
//! source tree, and the file lists it reads (`Documentation/driver-api/early-userspace`).

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use std::fmt::Write as _;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::process::Command;

/// One line of a `gen_init_cpio` list; every entry is owned by root (uid and gid 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListEntry {
    /// `dir <name> <mode> 0 0`
    Dir {
        /// Guest path.
        path: String,
        /// Permission bits.
        mode: u32,
    },
    /// `file <name> <location> <mode> 0 0`
    File {
        /// Guest path.
        path: String,
        /// Host file to copy.
        source: Utf8PathBuf,
        /// Permission bits.
        mode: u32,
    },
    /// `slink <name> <target> <mode> 0 0`
    Symlink {
        /// Guest path.
        path: String,
        /// What the link points to.
        target: String,
        /// Permission bits.
        mode: u32,
    },
    /// `nod <name> <mode> 0 0 <c|b> <major> <minor>`
    Node {
        /// Guest path.
        path: String,
        /// Permission bits.
        mode: u32,
        /// `c` for a character device, `b` for a block device.
        kind: char,
        /// Device major number.
        major: u32,
        /// Device minor number.
        minor: u32,
    },
    /// `pipe <name> <mode> 0 0`
    Pipe {
        /// Guest path.
        path: String,
        /// Permission bits.
        mode: u32,
    },
    /// `sock <name> <mode> 0 0`
    Socket {
        /// Guest path.
        path: String,
        /// Permission bits.
        mode: u32,
    },
}

/// The list as `gen_init_cpio` reads it, one entry per line.
pub fn render_list(entries: &[ListEntry]) -> String {
    let mut out = String::new();
    for entry in entries {
        // Writing to a String cannot fail.
        let _ = match entry {
            ListEntry::Dir { path, mode } => writeln!(out, "dir {path} {mode:o} 0 0"),
            ListEntry::File { path, source, mode } => {
                writeln!(out, "file {path} {source} {mode:o} 0 0")
            }
            ListEntry::Symlink { path, target, mode } => {
                writeln!(out, "slink {path} {target} {mode:o} 0 0")
            }
            ListEntry::Node {
                path,
                mode,
                kind,
                major,
                minor,
            } => writeln!(out, "nod {path} {mode:o} 0 0 {kind} {major} {minor}"),
            ListEntry::Pipe { path, mode } => writeln!(out, "pipe {path} {mode:o} 0 0"),
            ListEntry::Socket { path, mode } => writeln!(out, "sock {path} {mode:o} 0 0"),
        };
    }
    out
}

/// Every entry under `root` (not `root` itself), parents before children, names sorted:
/// what `usr/gen_initramfs.sh` lists for a directory, with uid and gid squashed to 0.
pub fn list_tree(root: &Utf8Path) -> Result<Vec<ListEntry>> {
    let mut entries = Vec::new();
    walk(root, "", &mut entries)?;
    Ok(entries)
}

fn walk(dir: &Utf8Path, guest_dir: &str, entries: &mut Vec<ListEntry>) -> Result<()> {
    let mut children: Vec<_> = fs_err::read_dir(dir)?.collect::<Result<_, _>>()?;
    children.sort_by_key(|e| e.file_name());
    for child in children {
        let name = child.file_name();
        let name = name.to_str().context("a non-UTF-8 file name in the tree")?;
        let host = dir.join(name);
        let path = format!("{guest_dir}/{name}");
        let meta = fs_err::symlink_metadata(&host)?;
        let kind = meta.file_type();
        let mode = meta.mode() & 0o7777;
        let entry = if kind.is_symlink() {
            let target = fs_err::read_link(&host)?;
            let target = target.to_str().context("a non-UTF-8 link target")?.into();
            ListEntry::Symlink { path, target, mode }
        } else if kind.is_dir() {
            entries.push(ListEntry::Dir {
                path: path.clone(),
                mode,
            });
            walk(&host, &path, entries)?;
            continue;
        } else if kind.is_file() {
            ListEntry::File {
                path,
                source: host,
                mode,
            }
        } else if kind.is_char_device() || kind.is_block_device() {
            let rdev = meta.rdev();
            ListEntry::Node {
                path,
                mode,
                kind: if kind.is_char_device() { 'c' } else { 'b' },
                major: libc::major(rdev),
                minor: libc::minor(rdev),
            }
        } else if kind.is_fifo() {
            ListEntry::Pipe { path, mode }
        } else {
            ListEntry::Socket { path, mode }
        };
        entries.push(entry);
    }
    Ok(())
}

/// Compiles the kernel's `usr/gen_init_cpio.c` from `kernel_src` into `<dir>/usr/gen_init_cpio`,
/// where the kernel's `usr/gen_initramfs.sh` looks for it when run from `dir`.
pub fn build(kernel_src: &Utf8Path, dir: &Utf8Path) -> Result<Utf8PathBuf> {
    let out = dir.join("usr/gen_init_cpio");
    if out.is_file() {
        return Ok(out);
    }
    fs_err::create_dir_all(dir.join("usr"))?;
    let source = kernel_src.join("usr/gen_init_cpio.c");
    let output = Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&out)
        .arg(&source)
        .output()
        .context("cannot run `cc`: install a host C compiler (`cargo xtask setup`)")?;
    if !output.status.success() {
        bail!(
            "compiling {source} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_tree_lists_parents_first_in_name_order() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(tmp.path()).unwrap();
        fs_err::create_dir_all(root.join("bin")).unwrap();
        fs_err::set_permissions(root.join("bin"), PermissionsExt::from_mode(0o755)).unwrap();
        fs_err::write(root.join("bin/busybox"), b"elf").unwrap();
        fs_err::set_permissions(root.join("bin/busybox"), PermissionsExt::from_mode(0o755))
            .unwrap();
        std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
        fs_err::create_dir(root.join("tmp")).unwrap();
        fs_err::set_permissions(root.join("tmp"), PermissionsExt::from_mode(0o1777)).unwrap();
        fs_err::create_dir(root.join("a")).unwrap();
        fs_err::set_permissions(root.join("a"), PermissionsExt::from_mode(0o700)).unwrap();
        let list = render_list(&list_tree(root).unwrap());
        expect![[r#"
            dir /a 700 0 0
            dir /bin 755 0 0
            file /bin/busybox <root>/bin/busybox 755 0 0
            slink /bin/sh busybox 777 0 0
            dir /tmp 1777 0 0
        "#]]
        .assert_eq(&list.replace(root.as_str(), "<root>"));
    }

    #[test]
    fn nodes_pipes_and_sockets_render_with_their_fields() {
        let list = render_list(&[
            ListEntry::Node {
                path: "/dev/console".into(),
                mode: 0o600,
                kind: 'c',
                major: 5,
                minor: 1,
            },
            ListEntry::Pipe {
                path: "/run/fifo".into(),
                mode: 0o644,
            },
            ListEntry::Socket {
                path: "/run/sock".into(),
                mode: 0o755,
            },
        ]);
        expect![[r#"
            nod /dev/console 600 0 0 c 5 1
            pipe /run/fifo 644 0 0
            sock /run/sock 755 0 0
        "#]]
        .assert_eq(&list);
    }
}
