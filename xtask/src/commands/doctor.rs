//! `cargo xtask doctor`: every tool the board needs, where it was found, and what is missing.

use anyhow::Result;
use camino::Utf8Path;
use std::process::ExitCode;

use crate::board::Board;
use crate::engine::Ctx;
use crate::host::apt::dpkg_query;
use crate::host::requirements::{optional_feature, Scope};
use crate::host::rust_std::RustStd;
use crate::host::setup::{describe_missing, Check};
use crate::layout;
use crate::render::human_size;

/// `cargo xtask doctor` takes no options.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DoctorArgs {}

/// A note on whether QEMU can use KVM, for boards the host could run natively.
pub fn kvm_note(
    board_arch: &str,
    host_arch: &str,
    dev_kvm_usable: bool,
    cpuinfo: &str,
) -> Option<String> {
    if !crate::qemu::is_native(board_arch, host_arch) {
        return None;
    }
    if !dev_kvm_usable {
        return Some("no usable /dev/kvm: QEMU runs under TCG (slower)".to_string());
    }
    let hw_virt = cpuinfo
        .lines()
        .filter(|l| l.starts_with("flags"))
        .any(|l| l.split_whitespace().any(|f| f == "vmx" || f == "svm"));
    Some(if hw_virt || host_arch != "x86_64" {
        "/dev/kvm present and accessible: KVM can be used".to_string()
    } else {
        "/dev/kvm present but the CPU shows no vmx/svm (nested/software KVM): expect TCG"
            .to_string()
    })
}

/// Free bytes on the file system holding `path` (or its nearest existing parent).
fn free_bytes(path: &Utf8Path) -> Option<u64> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let c_path = std::ffi::CString::new(existing.as_str()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct we own; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut st) };
    (rc == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
}

/// `cargo xtask doctor`: prints the report; fails when the board needs something missing.
pub fn run(ctx: &Ctx, _args: DoctorArgs) -> Result<ExitCode> {
    let board = ctx.board()?;
    let check = Check::run(board, Scope::WithOptional);
    println!("board {}: {}", board.name, board.spec.description);
    println!(
        "host: {}",
        if check.os.pretty.is_empty() {
            "unknown OS"
        } else {
            &check.os.pretty
        }
    );
    println!();
    print_tools(&check);
    let rust_ok = print_rust_std(board, &check);
    println!();
    print_machine(board);
    let needed_missing = check
        .missing
        .iter()
        .any(|r| optional_feature(&r.package).is_none());
    if !needed_missing && rust_ok {
        if check.missing.is_empty() {
            println!("\nall present");
        } else {
            println!(
                "\nall the board needs is present; optional, `cargo xtask setup` installs: {}",
                describe_missing(&check)
            );
        }
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "\nmissing: {}: run `cargo xtask setup`",
            describe_missing(&check)
        );
        Ok(ExitCode::FAILURE)
    }
}

/// The table of requirements: the program or file, its package, and where it was found.
fn print_tools(check: &Check) {
    let names: Vec<String> = check
        .requirements
        .iter()
        .map(|r| r.package.clone())
        .collect();
    let versions = dpkg_query(&names);
    println!("{:<40} {:<22} {:<42}", "tool", "package", "found");
    for req in &check.requirements {
        let found = match req.probe.find() {
            Some(path) => {
                let version = versions
                    .iter()
                    .find(|p| p.name == req.package && p.installed)
                    .map(|p| format!(" ({})", p.version))
                    .unwrap_or_default();
                format!("{path}{version}")
            }
            None => match optional_feature(&req.package) {
                Some(feature) => format!("missing (optional: {feature})"),
                None => "MISSING".to_string(),
            },
        };
        println!("{:<40} {:<22} {found}", req.probe.name(), req.package);
    }
}

/// The line for the guest's Rust std; whether it is there.
fn print_rust_std(board: &Board, check: &Check) -> bool {
    let target = &board.spec.rust_target;
    let (rust_line, rust_ok) = match &check.rust_std {
        RustStd::Host => ("host toolchain (cargo)".to_string(), true),
        RustStd::Debian { arch } if check.arch_missing() => (
            format!("MISSING: dpkg architecture {arch} (Debian's libstd-rust-dev:{arch})"),
            false,
        ),
        RustStd::Debian { arch } => (format!("Debian's rustc + libstd-rust-dev:{arch}"), true),
        RustStd::Missing { .. } => (format!("MISSING: run `rustup target add {target}`"), false),
    };
    println!(
        "{:<40} {:<22} {rust_line}",
        format!("Rust std for {target}"),
        ""
    );
    rust_ok
}

/// KVM, and the free space where the cache and the build outputs go.
fn print_machine(board: &Board) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let kvm_usable = crate::qemu::open_dev_kvm().is_ok();
    if let Some(note) = kvm_note(
        &board.spec.arch,
        std::env::consts::ARCH,
        kvm_usable,
        &cpuinfo,
    ) {
        println!("kvm: {note}");
    }
    if board.spec.qemu.kvm {
        println!("kvm probe: {}", crate::qemu::probe_summary(board));
    }
    let cache = layout::cache_dir();
    let free = free_bytes(&cache)
        .map(human_size)
        .unwrap_or_else(|| "unknown".into());
    println!("cache: {cache} ({free} free)");
    let target_dir = layout::target_dir();
    let free = free_bytes(&target_dir)
        .map(human_size)
        .unwrap_or_else(|| "unknown".into());
    println!("build outputs: {target_dir} ({free} free; a kernel build takes about 2 GiB)");
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn kvm_note_only_for_native_boards() {
        let cases = [
            ("arm", "x86_64", true, "flags : fpu vmx"),
            ("x86_64", "x86_64", false, "flags : fpu vmx"),
            ("x86_64", "x86_64", true, "flags : fpu vmx sse"),
            ("x86_64", "x86_64", true, "flags : fpu sse hypervisor"),
        ];
        let got: Vec<String> = cases
            .iter()
            .map(|(b, h, usable, cpu)| format!("{b} on {h}: {:?}", kvm_note(b, h, *usable, cpu)))
            .collect();
        expect![[r#"
            arm on x86_64: None
            x86_64 on x86_64: Some("no usable /dev/kvm: QEMU runs under TCG (slower)")
            x86_64 on x86_64: Some("/dev/kvm present and accessible: KVM can be used")
            x86_64 on x86_64: Some("/dev/kvm present but the CPU shows no vmx/svm (nested/software KVM): expect TCG")"#]]
        .assert_eq(&got.join("\n"));
    }
}
