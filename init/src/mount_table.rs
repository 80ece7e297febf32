//! The mount table as the kernel shows it in `/proc/self/mounts`.

use crate::cstr::CBuf;
use crate::errno::Errno;

/// One mounted filesystem, its fields as the kernel wrote them (escaped).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Mount<'a> {
    /// What was mounted (`proc`, `/dev/sda1`, ...).
    pub source: &'a [u8],
    /// Where it is mounted.
    pub target: &'a [u8],
    /// Filesystem type.
    pub fstype: &'a [u8],
    /// Comma-separated mount options.
    pub options: &'a [u8],
}

/// Reads one line of `/proc/self/mounts`; `None` for a malformed one.
pub fn parse_line(line: &[u8]) -> Option<Mount<'_>> {
    let mut fields = line.split(|&b| b == b' ');
    Some(Mount {
        source: fields.next()?,
        target: fields.next()?,
        fstype: fields.next()?,
        options: fields.next()?,
    })
}

/// The mounts of the text of `/proc/self/mounts`, newest (last) first;
/// malformed lines are skipped.
pub fn newest_first(text: &[u8]) -> impl Iterator<Item = Mount<'_>> {
    text.rsplit(|&b| b == b'\n').filter_map(parse_line)
}

/// Undoes the kernel's octal escapes (`\040` for space, `\011`, `\012`, `\134`)
/// of `field` into `out`.
pub fn unescape<const N: usize>(field: &[u8], out: &mut CBuf<N>) -> Result<(), Errno> {
    out.clear();
    let mut i = 0;
    while let Some(&b) = field.get(i) {
        if b == b'\\' {
            if let Some(digits) = field.get(i + 1..i + 4) {
                if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                    let value = digits
                        .iter()
                        .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                    if let Ok(byte) = u8::try_from(value) {
                        out.push(&[byte])?;
                        i += 4;
                        continue;
                    }
                }
            }
        }
        out.push(&[b])?;
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect: &str) {
        let show = |field: &[u8]| {
            let mut out = CBuf::<256>::new();
            match unescape(field, &mut out) {
                Ok(()) => format!("{:?}", String::from_utf8_lossy(out.as_bytes())),
                Err(e) => format!("{e:?}"),
            }
        };
        let mounts: Vec<String> = newest_first(text.as_bytes())
            .map(|m| {
                format!(
                    "Mount {{ source: {}, target: {}, fstype: {}, options: {:?} }}",
                    show(m.source),
                    show(m.target),
                    show(m.fstype),
                    String::from_utf8_lossy(m.options)
                )
            })
            .collect();
        assert_eq!(
            mounts.join("\n"),
            expect.trim_start_matches('\n'),
            "mounts: {text:?}"
        );
    }

    #[test]
    fn after_boot_newest_first() {
        check(
            "rootfs / rootfs rw 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\ndevtmpfs /dev devtmpfs rw,relatime,size=62376k,nr_inodes=15594,mode=755 0 0\n",
            r#"
Mount { source: "devtmpfs", target: "/dev", fstype: "devtmpfs", options: "rw,relatime,size=62376k,nr_inodes=15594,mode=755" }
Mount { source: "proc", target: "/proc", fstype: "proc", options: "rw,nosuid,nodev,noexec,relatime" }
Mount { source: "rootfs", target: "/", fstype: "rootfs", options: "rw" }"#,
        );
    }

    #[test]
    fn octal_escapes_are_decoded() {
        check(
            "my\\040disk /mnt/a\\040b\\011c\\134d tmpfs rw 0 0\n",
            r#"Mount { source: "my disk", target: "/mnt/a b\tc\\d", fstype: "tmpfs", options: "rw" }"#,
        );
    }

    #[test]
    fn short_or_bad_escapes_stay_literal() {
        check(
            "a\\04 /b\\999 tmpfs rw 0 0\n",
            r#"Mount { source: "a\\04", target: "/b\\999", fstype: "tmpfs", options: "rw" }"#,
        );
    }

    #[test]
    fn malformed_lines_are_skipped() {
        check("\nproc /proc\n", "");
    }

    #[test]
    fn a_nul_or_a_too_long_target_is_an_error() {
        check(
            "x /a\\000b tmpfs rw 0 0\n",
            r#"Mount { source: "x", target: Errno(22), fstype: "tmpfs", options: "rw" }"#,
        );
    }
}
