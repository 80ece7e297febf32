//! Just enough ELF to check a guest binary: machine, and whether it is dynamically linked.

/// What the checks need from an ELF header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elf {
    /// `e_machine` (40 = ARM, 62 = x86-64, 183 = AArch64).
    pub machine: u16,
    /// Whether a `PT_INTERP` program header asks for a dynamic loader.
    pub interpreter: bool,
}

impl Elf {
    /// Parses the header and program headers; `None` when `bytes` is not ELF.
    pub fn parse(bytes: &[u8]) -> Option<Elf> {
        if bytes.get(..4)? != b"\x7fELF" {
            return None;
        }
        let is64 = match bytes.get(4)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        let little = match bytes.get(5)? {
            1 => true,
            2 => false,
            _ => return None,
        };
        let u16_at = |off: usize| -> Option<u64> {
            let b: [u8; 2] = bytes.get(off..off + 2)?.try_into().ok()?;
            Some(if little {
                u16::from_le_bytes(b)
            } else {
                u16::from_be_bytes(b)
            } as u64)
        };
        let u32_at = |off: usize| -> Option<u64> {
            let b: [u8; 4] = bytes.get(off..off + 4)?.try_into().ok()?;
            Some(if little {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            } as u64)
        };
        let u64_at = |off: usize| -> Option<u64> {
            let b: [u8; 8] = bytes.get(off..off + 8)?.try_into().ok()?;
            Some(if little {
                u64::from_le_bytes(b)
            } else {
                u64::from_be_bytes(b)
            })
        };
        let machine = u16_at(18)? as u16;
        let (phoff, phentsize, phnum) = if is64 {
            (u64_at(32)?, u16_at(54)?, u16_at(56)?)
        } else {
            (u32_at(28)?, u16_at(42)?, u16_at(44)?)
        };
        const PT_INTERP: u64 = 3;
        let mut interpreter = false;
        for i in 0..phnum {
            let off = usize::try_from(phoff + i * phentsize).ok()?;
            if u32_at(off)? == PT_INTERP {
                interpreter = true;
            }
        }
        Some(Elf {
            machine,
            interpreter,
        })
    }
}

/// Why a file cannot run on the guest, by [`check_guest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestElfError {
    /// Not an ELF file at all.
    NotElf,
    /// An ELF for another machine.
    Machine {
        /// Its `e_machine`.
        found: u16,
        /// The board's.
        expected: u16,
    },
    /// It asks for a dynamic loader, which the initramfs may not have.
    Dynamic,
}

impl std::fmt::Display for GuestElfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GuestElfError::NotElf => write!(f, "is not an ELF file"),
            GuestElfError::Machine { found, expected } => write!(
                f,
                "is an ELF for machine {found}, but the board needs machine {expected}"
            ),
            GuestElfError::Dynamic => write!(f, "is dynamically linked"),
        }
    }
}

/// The check every guest binary passes (busybox and init when built, `/init` before a
/// boot): an ELF for the board's `machine`, and with `static_only` one that needs no
/// dynamic loader.
pub fn check_guest(bytes: &[u8], machine: u16, static_only: bool) -> Result<Elf, GuestElfError> {
    let elf = Elf::parse(bytes).ok_or(GuestElfError::NotElf)?;
    if elf.machine != machine {
        return Err(GuestElfError::Machine {
            found: elf.machine,
            expected: machine,
        });
    }
    if static_only && elf.interpreter {
        return Err(GuestElfError::Dynamic);
    }
    Ok(elf)
}

#[cfg(test)]
mod tests {
    use super::{check_guest, Elf};

    #[test]
    fn reads_the_host_test_binary() {
        let exe = std::env::current_exe().unwrap();
        let elf = Elf::parse(&std::fs::read(exe).unwrap()).unwrap();
        assert_eq!(
            elf.machine,
            if cfg!(target_arch = "x86_64") {
                62
            } else {
                elf.machine
            }
        );
    }

    #[test]
    fn a_guest_binary_is_an_elf_for_the_machine_and_static_when_asked() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let host = Elf::parse(&exe).unwrap();
        let check = |bytes: &[u8], machine: u16, static_only: bool| match check_guest(
            bytes,
            machine,
            static_only,
        ) {
            Ok(_) => "ok".to_string(),
            Err(e) => e.to_string(),
        };
        let other = host.machine + 1;
        let got = [
            check(b"#!/bin/sh\n", host.machine, false),
            check(&exe, other, false)
                .replace(&other.to_string(), "N+1")
                .replace(&host.machine.to_string(), "N"),
            check(&exe, host.machine, false),
            // The test binary is linked dynamically.
            check(&exe, host.machine, true),
        ];
        expect_test::expect![[r#"
            is not an ELF file
            is an ELF for machine N, but the board needs machine N+1
            ok
            is dynamically linked"#]]
        .assert_eq(&got.join("\n"));
    }

    #[test]
    fn rejects_non_elf() {
        assert_eq!(Elf::parse(b"#!/bin/sh\n"), None);
        assert_eq!(Elf::parse(b"\x7fELF"), None);
    }
}
