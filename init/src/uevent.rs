//! Device nodes described by sysfs `uevent` files (`/sys/dev/{char,block}/*/uevent`).
//!
//! Used only when the kernel has no devtmpfs and init must fill `/dev` itself.

/// A device node to create under `/dev`.
#[derive(PartialEq, Eq)]
pub struct DeviceNode<'a> {
    /// Path below `/dev`, e.g. `ttyAMA0` or `input/event0`.
    pub name: &'a [u8],
    /// Major device number.
    pub major: u32,
    /// Minor device number.
    pub minor: u32,
    /// Permission bits from `DEVMODE`, when the driver asks for more than 0600.
    pub mode: Option<u32>,
}

/// Permission bits devtmpfs gives a node whose driver sets no `DEVMODE`.
pub const DEFAULT_MODE: u32 = 0o600;

impl DeviceNode<'_> {
    /// The device number as `mknod` takes it (the kernel's `new_encode_dev`,
    /// which is also the low 32 bits of glibc's `makedev()`).
    pub fn dev(&self) -> u32 {
        (self.minor & 0xff) | ((self.major & 0xfff) << 8) | ((self.minor & !0xff) << 12)
    }
}

/// The number `digits` spell in `radix` (8 or 10); `None` if they are not all
/// digits, none at all, or too large for a `u32`.
fn number(digits: &[u8], radix: u32) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u32, |acc, &d| {
        let digit = char::from(d).to_digit(radix)?;
        acc.checked_mul(radix)?.checked_add(digit)
    })
}

/// Reads a device node from the text of a `uevent` file; `None` when it names
/// no node or its name would leave `/dev`.
pub fn parse(text: &[u8]) -> Option<DeviceNode<'_>> {
    let mut major = None;
    let mut minor = None;
    let mut name = None;
    let mut mode = None;
    for line in text.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let eq = match line.iter().position(|&b| b == b'=') {
            Some(eq) => eq,
            None => continue,
        };
        let (key, value) = (&line[..eq], &line[eq + 1..]);
        match key {
            b"MAJOR" => major = number(value, 10),
            b"MINOR" => minor = number(value, 10),
            b"DEVNAME" => name = Some(value),
            b"DEVMODE" => mode = number(value, 8).filter(|m| *m <= 0o7777),
            _ => {}
        }
    }
    let name = name?;
    let escapes = name.is_empty()
        || name.starts_with(b"/")
        || name
            .split(|&b| b == b'/')
            .any(|part| part.is_empty() || part == b"." || part == b"..");
    if escapes {
        return None;
    }
    Some(DeviceNode {
        name,
        major: major?,
        minor: minor?,
        mode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect: &str) {
        let actual = match parse(text.as_bytes()) {
            Some(n) => format!(
                "Some(({}, DeviceNode {{ name: {:?}, major: {}, minor: {}, mode: {:?} }}))",
                n.dev(),
                String::from_utf8_lossy(n.name),
                n.major,
                n.minor,
                n.mode
            ),
            None => "None".to_string(),
        };
        assert_eq!(actual, expect, "uevent: {text:?}");
    }

    #[test]
    fn serial_port() {
        check(
            "MAJOR=204\nMINOR=64\nDEVNAME=ttyAMA0\n",
            r#"Some((52288, DeviceNode { name: "ttyAMA0", major: 204, minor: 64, mode: None }))"#,
        );
    }

    #[test]
    fn devmode_is_octal() {
        check(
            "MAJOR=1\nMINOR=3\nDEVNAME=null\nDEVMODE=0666\n",
            r#"Some((259, DeviceNode { name: "null", major: 1, minor: 3, mode: Some(438) }))"#,
        );
    }

    #[test]
    fn nested_name_and_extra_keys() {
        check(
            "MAJOR=13\nMINOR=64\nDEVNAME=input/event0\nDEVTYPE=x\nDEVPATH=/devices/y\n",
            r#"Some((3392, DeviceNode { name: "input/event0", major: 13, minor: 64, mode: None }))"#,
        );
    }

    #[test]
    fn large_minor_uses_the_high_bits() {
        check(
            "MAJOR=259\nMINOR=300\nDEVNAME=nvme0n1p300\n",
            r#"Some((1114924, DeviceNode { name: "nvme0n1p300", major: 259, minor: 300, mode: None }))"#,
        );
    }

    #[test]
    fn no_devname_means_no_node() {
        check("MAJOR=4\nMINOR=1\n", "None");
    }

    #[test]
    fn missing_or_bad_numbers_mean_no_node() {
        check("MINOR=1\nDEVNAME=tty1\n", "None");
        check("MAJOR=x\nMINOR=1\nDEVNAME=tty1\n", "None");
        check("MAJOR=\nMINOR=1\nDEVNAME=tty1\n", "None");
        check("MAJOR=4294967296\nMINOR=1\nDEVNAME=tty1\n", "None");
    }

    #[test]
    fn names_leaving_dev_are_refused() {
        check("MAJOR=1\nMINOR=1\nDEVNAME=../etc/passwd\n", "None");
        check("MAJOR=1\nMINOR=1\nDEVNAME=/mem\n", "None");
        check("MAJOR=1\nMINOR=1\nDEVNAME=\n", "None");
    }

    #[test]
    fn bad_devmode_is_dropped() {
        check(
            "MAJOR=1\nMINOR=8\nDEVNAME=random\nDEVMODE=rw\n",
            r#"Some((264, DeviceNode { name: "random", major: 1, minor: 8, mode: None }))"#,
        );
    }
}
