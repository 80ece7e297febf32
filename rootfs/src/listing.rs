//! `ls -l`-style rendering of archive entries, for `pack --list`.

use crate::newc::{Entry, EntryKind};

/// One line per entry: mode string, link count, uid, gid, size (or `major, minor`), path, and
/// `-> target` for symlinks. Columns are aligned; paths are shown absolute.
pub fn render_listing(entries: &[Entry]) -> String {
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|e| {
            let size = match e.kind() {
                EntryKind::CharDevice | EntryKind::BlockDevice => {
                    format!("{}, {}", e.rdev.0, e.rdev.1)
                }
                _ => e.data.len().to_string(),
            };
            let mut path = display_path(&e.name);
            if let Some(target) = e.symlink_target() {
                path = format!("{path} -> {target}");
            }
            [
                mode_string(e),
                e.nlink.to_string(),
                e.uid.to_string(),
                e.gid.to_string(),
                size,
                path,
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].len()).max().unwrap_or(0);
    let (links, uid, gid, size) = (width(1), width(2), width(3), width(4));
    let mut out = String::new();
    for [mode, nlink, u, g, s, path] in &rows {
        out += &format!("{mode} {nlink:>links$} {u:<uid$} {g:<gid$} {s:>size$} {path}\n");
    }
    out
}

/// `bin/ls`, `./bin/ls` and `/bin/ls` all show as `/bin/ls`; `.` shows as `/`.
fn display_path(name: &str) -> String {
    let trimmed = name.trim_start_matches("./").trim_start_matches('/');
    if trimmed == "." {
        "/".to_string()
    } else {
        format!("/{trimmed}")
    }
}

/// The ten-character `drwxr-xr-x` string, with `s`/`S` and `t`/`T` for set-id and sticky bits.
fn mode_string(entry: &Entry) -> String {
    let kind = match entry.kind() {
        EntryKind::Dir => 'd',
        EntryKind::File => '-',
        EntryKind::Symlink => 'l',
        EntryKind::CharDevice => 'c',
        EntryKind::BlockDevice => 'b',
        EntryKind::Fifo => 'p',
        EntryKind::Socket => 's',
        EntryKind::Unknown => '?',
    };
    let mode = entry.mode;
    let mut s = String::from(kind);
    for (shift, special, set_char) in [(6, 0o4000, 's'), (3, 0o2000, 's'), (0, 0o1000, 't')] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        let exec = bits & 1 != 0;
        s.push(match (mode & special != 0, exec) {
            (true, true) => set_char,
            (true, false) => set_char.to_ascii_uppercase(),
            (false, true) => 'x',
            (false, false) => '-',
        });
    }
    s
}
