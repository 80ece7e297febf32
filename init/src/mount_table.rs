//! The mount table as the kernel shows it in `/proc/self/mounts`.

/// One mounted filesystem.
#[derive(Debug, PartialEq, Eq)]
pub struct Mount {
    /// What was mounted (`proc`, `/dev/sda1`, ...).
    pub source: String,
    /// Where it is mounted.
    pub target: String,
    /// Filesystem type.
    pub fstype: String,
    /// Comma-separated mount options.
    pub options: String,
}

/// Undoes the kernel's octal escapes (`\040` for space, `\011`, `\012`, `\134`).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let digits = &bytes[i + 1..i + 4];
            if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                if let Ok(byte) = u8::try_from(value) {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads the text of `/proc/self/mounts`; malformed lines are skipped.
pub fn parse(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let source = fields.next()?;
            let target = fields.next()?;
            let fstype = fields.next()?;
            let options = fields.next()?;
            Some(Mount {
                source: unescape(source),
                target: unescape(target),
                fstype: unescape(fstype),
                options: options.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect: &str) {
        let actual = format!("{:#?}", parse(text));
        assert_eq!(actual, expect.trim_start_matches('\n'), "mounts: {text:?}");
    }

    #[test]
    fn after_boot() {
        check(
            "rootfs / rootfs rw 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\ndevtmpfs /dev devtmpfs rw,relatime,size=62376k,nr_inodes=15594,mode=755 0 0\n",
            r#"
[
    Mount {
        source: "rootfs",
        target: "/",
        fstype: "rootfs",
        options: "rw",
    },
    Mount {
        source: "proc",
        target: "/proc",
        fstype: "proc",
        options: "rw,nosuid,nodev,noexec,relatime",
    },
    Mount {
        source: "devtmpfs",
        target: "/dev",
        fstype: "devtmpfs",
        options: "rw,relatime,size=62376k,nr_inodes=15594,mode=755",
    },
]"#,
        );
    }

    #[test]
    fn octal_escapes_are_decoded() {
        check(
            "my\\040disk /mnt/a\\040b\\011c\\134d tmpfs rw 0 0\n",
            r#"
[
    Mount {
        source: "my disk",
        target: "/mnt/a b\tc\\d",
        fstype: "tmpfs",
        options: "rw",
    },
]"#,
        );
    }

    #[test]
    fn short_or_bad_escapes_stay_literal() {
        check(
            "a\\04 /b\\999 tmpfs rw 0 0\n",
            r#"
[
    Mount {
        source: "a\\04",
        target: "/b\\999",
        fstype: "tmpfs",
        options: "rw",
    },
]"#,
        );
    }

    #[test]
    fn malformed_lines_are_skipped() {
        check("\nproc /proc\n", "[]");
    }
}
