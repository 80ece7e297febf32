//! Device nodes described by sysfs `uevent` files (`/sys/dev/{char,block}/*/uevent`).
//!
//! Used only when the kernel has no devtmpfs and init must fill `/dev` itself.

/// A device node to create under `/dev`.
#[derive(Debug, PartialEq, Eq)]
pub struct DeviceNode {
    /// Path below `/dev`, e.g. `ttyAMA0` or `input/event0`.
    pub name: String,
    /// Major device number.
    pub major: u32,
    /// Minor device number.
    pub minor: u32,
    /// Permission bits from `DEVMODE`, when the driver asks for more than 0600.
    pub mode: Option<u32>,
}

/// Permission bits devtmpfs gives a node whose driver sets no `DEVMODE`.
pub const DEFAULT_MODE: u32 = 0o600;

impl DeviceNode {
    /// The `dev_t` of this node, encoded as glibc's `makedev()` does.
    pub fn dev(&self) -> u64 {
        let major = u64::from(self.major);
        let minor = u64::from(self.minor);
        ((major & 0xffff_f000) << 32)
            | ((major & 0x0000_0fff) << 8)
            | ((minor & 0xffff_ff00) << 12)
            | (minor & 0x0000_00ff)
    }
}

/// Reads a device node from the text of a `uevent` file; `None` when it names
/// no node or its name would leave `/dev`.
pub fn parse(text: &str) -> Option<DeviceNode> {
    let mut major = None;
    let mut minor = None;
    let mut name = None;
    let mut mode = None;
    for line in text.lines() {
        let (key, value) = match line.split_once('=') {
            Some(kv) => kv,
            None => continue,
        };
        match key {
            "MAJOR" => major = value.parse::<u32>().ok(),
            "MINOR" => minor = value.parse::<u32>().ok(),
            "DEVNAME" => name = Some(value.to_string()),
            "DEVMODE" => mode = u32::from_str_radix(value, 8).ok().filter(|m| *m <= 0o7777),
            _ => {}
        }
    }
    let name = name?;
    let escapes = name.is_empty()
        || name.starts_with('/')
        || name
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..");
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
        let actual = format!("{:?}", parse(text).map(|n| (n.dev(), n)));
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
