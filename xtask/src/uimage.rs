//! U-Boot legacy image (`uImage`) headers: how QEMU boots an uncompressed ARM kernel.
//!
//! QEMU's `-kernel` loads a raw 32-bit ARM `Image` at RAM + 0x10000, where the
//! kernel cannot run (it computes its physical base from where it runs and wants
//! a 16 MiB-aligned base + 0x8000). A uImage says where to load it and where to
//! enter, and QEMU honours both and still boots it as Linux (dtb in r2). Under
//! TCG that spares the zImage decompressor: a few hundred milliseconds of boot.
//! The format is U-Boot's `include/image.h` (`struct legacy_img_hdr`), 64 bytes, big endian.

/// `IH_MAGIC`.
const MAGIC: u32 = 0x2705_1956;
/// `IH_OS_LINUX`.
const OS_LINUX: u8 = 5;
/// `IH_ARCH_ARM`.
const ARCH_ARM: u8 = 2;
/// `IH_TYPE_KERNEL`.
const TYPE_KERNEL: u8 = 2;
/// `IH_COMP_NONE`.
const COMP_NONE: u8 = 0;
/// Length of the name field (`IH_NMLEN`).
const NAME_LEN: usize = 32;

/// `payload` (an uncompressed ARM kernel `Image`) behind a header that loads and
/// enters it at `load`; `name` is cut to 31 bytes. The time stamp is 0, so the
/// same `Image` always gives the same bytes.
pub fn wrap(payload: &[u8], load: u32, name: &str) -> Vec<u8> {
    let size = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut header = Vec::with_capacity(64);
    header.extend_from_slice(&MAGIC.to_be_bytes());
    header.extend_from_slice(&0u32.to_be_bytes()); // header CRC, filled in below
    header.extend_from_slice(&0u32.to_be_bytes()); // time stamp
    header.extend_from_slice(&size.to_be_bytes());
    header.extend_from_slice(&load.to_be_bytes()); // load address
    header.extend_from_slice(&load.to_be_bytes()); // entry point
    header.extend_from_slice(&crc32fast::hash(payload).to_be_bytes());
    header.extend_from_slice(&[OS_LINUX, ARCH_ARM, TYPE_KERNEL, COMP_NONE]);
    let mut name_field = [0u8; NAME_LEN];
    let name = name.as_bytes();
    let n = name.len().min(NAME_LEN - 1);
    name_field[..n].copy_from_slice(&name[..n]);
    header.extend_from_slice(&name_field);
    let header_crc = crc32fast::hash(&header);
    header[4..8].copy_from_slice(&header_crc.to_be_bytes());
    header.extend_from_slice(payload);
    header
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    /// The header as `mkimage -l` shows it, read back field by field.
    fn check(payload: &[u8], load: u32, name: &str, expect: Expect) {
        let image = wrap(payload, load, name);
        let be = |at: usize| u32::from_be_bytes(image[at..at + 4].try_into().unwrap());
        let mut zeroed = image[..64].to_vec();
        zeroed[4..8].fill(0);
        let name_end = image[32..64].iter().position(|&b| b == 0).unwrap_or(32);
        let shown = format!(
            "magic {:08x} header crc ok: {} time {} size {} load {:#x} entry {:#x} data crc {:08x} \
             os {} arch {} type {} comp {} name {:?} payload follows: {}",
            be(0),
            be(4) == crc32fast::hash(&zeroed),
            be(8),
            be(12),
            be(16),
            be(20),
            be(24),
            image[28],
            image[29],
            image[30],
            image[31],
            String::from_utf8_lossy(&image[32..32 + name_end]),
            &image[64..] == payload,
        );
        expect.assert_eq(&shown);
    }

    #[test]
    fn header_fields() {
        // crc32("123456789") is the standard check value cbf43926.
        check(
            b"123456789",
            0x8000,
            "Linux",
            expect![[
                r#"magic 27051956 header crc ok: true time 0 size 9 load 0x8000 entry 0x8000 data crc cbf43926 os 5 arch 2 type 2 comp 0 name "Linux" payload follows: true"#
            ]],
        );
    }

    #[test]
    fn long_names_are_cut_and_stay_terminated() {
        check(
            b"",
            0x6000_8000,
            "a name that is much longer than thirty-two bytes",
            expect![[
                r#"magic 27051956 header crc ok: true time 0 size 0 load 0x60008000 entry 0x60008000 data crc 00000000 os 5 arch 2 type 2 comp 0 name "a name that is much longer than" payload follows: true"#
            ]],
        );
    }
}
