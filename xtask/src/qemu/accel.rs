//! KVM or TCG: which accelerator a boot uses.
//!
//! `/dev/kvm` existing proves little: on a VM whose KVM is a software nested
//! module, QEMU aborts setting an MSR, hangs, or hits an emulation failure. So a
//! board with `kvm = true` gets KVM only when a probe boot under KVM (the real
//! kernel and initramfs, running `true`) reports its status. The verdict is
//! cached per kernel image and QEMU binary in `target/minilinux/<board>/kvm-probe`.

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use std::time::Duration;

use crate::board::Board;

/// How long the probe boot may take: a KVM boot takes well under a second.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The accelerator a boot runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// The board does not ask for KVM: no `-accel` argument (QEMU's default, TCG).
    Default,
    /// `-accel tcg`: KVM was asked for but is not usable.
    Tcg,
    /// `-accel kvm` plus the board's `kvm_args`.
    Kvm,
}

/// The accelerator and, when KVM was asked for, a line saying which and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// What QEMU runs with.
    pub accel: Accel,
    /// One line for the user, e.g. why KVM was not used.
    pub note: Option<String>,
}

/// Whether a guest of kernel `ARCH=` `board_arch` can run natively on a `host_arch`
/// CPU (Rust's `std::env::consts::ARCH` names).
pub fn is_native(board_arch: &str, host_arch: &str) -> bool {
    matches!(
        (board_arch, host_arch),
        ("x86" | "x86_64", "x86_64") | ("arm64", "aarch64")
    )
}

/// What the cheap checks say before any probe boot: `Err(reason)` rules KVM out.
pub fn precheck(
    board_arch: &str,
    host_arch: &str,
    dev_kvm: Result<(), String>,
) -> Result<(), String> {
    if !is_native(board_arch, host_arch) {
        return Err(format!(
            "{board_arch} guests cannot run natively on this {host_arch} host"
        ));
    }
    dev_kvm.map_err(|e| format!("/dev/kvm cannot be opened read-write ({e})"))
}

/// Whether `/dev/kvm` opens read-write, or why not.
pub fn open_dev_kvm() -> Result<(), String> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The cached verdict of one probe: for which inputs, and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The inputs the probe ran with (see [`probe_key`]).
    pub key: String,
    /// `Ok` when the probe boot reported its status under KVM, else why not.
    pub result: Result<(), String>,
}

impl Verdict {
    /// `key`, then `ok` or `failed: <reason>`, one per line.
    pub fn render(&self) -> String {
        match &self.result {
            Ok(()) => format!("{}\nok\n", self.key),
            Err(reason) => format!("{}\nfailed: {reason}\n", self.key),
        }
    }

    /// Reads what [`Verdict::render`] wrote; `None` for anything else.
    pub fn parse(text: &str) -> Option<Verdict> {
        let (key, rest) = text.split_once('\n')?;
        let line = rest.lines().next()?;
        let result = match line.strip_prefix("failed: ") {
            Some(reason) => Err(reason.to_string()),
            None if line == "ok" => Ok(()),
            None => return None,
        };
        Some(Verdict {
            key: key.to_string(),
            result,
        })
    }
}

/// Size and modification time of a file, to notice it changed.
fn stamp(path: &Utf8Path) -> String {
    match std::fs::metadata(path) {
        Ok(m) => {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{path}:{}:{mtime}", m.len())
        }
        Err(_) => format!("{path}:missing"),
    }
}

/// What a probe verdict depends on: QEMU, the kernel, and the KVM arguments.
pub fn probe_key(qemu: &Utf8Path, kernel: &Utf8Path, kvm_args: &[String]) -> String {
    format!(
        "qemu {} kernel {} kvm_args {}",
        stamp(qemu),
        stamp(kernel),
        kvm_args.join(" ")
    )
}

/// Where the board's probe verdict is kept.
fn verdict_path(board: &Board) -> Utf8PathBuf {
    board.out_dir().join("kvm-probe")
}

/// What the last probe found, for `doctor`: its verdict line, or that none ran yet.
pub fn probe_summary(board: &Board) -> String {
    let path = verdict_path(board);
    match std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| Verdict::parse(&t))
    {
        Some(v) => format!(
            "{} ({})",
            match v.result {
                Ok(()) => "KVM worked".to_string(),
                Err(reason) => format!("KVM failed: {reason}"),
            },
            crate::layout::display_path(&path)
        ),
        None => "none yet: the first boot probes KVM".to_string(),
    }
}

/// The note for a choice made from `verdict` (`cached`: read from `path`, an earlier probe).
fn note(verdict: &Result<(), String>, cached: Option<&Utf8Path>) -> String {
    let when = match cached {
        Some(path) => format!(
            " (probed earlier; delete {} to probe again)",
            crate::layout::display_path(path)
        ),
        None => String::new(),
    };
    match verdict {
        Ok(()) => format!("kvm: a probe boot under KVM worked: using KVM{when}"),
        Err(reason) => {
            format!("kvm: a probe boot under KVM failed ({reason}): using TCG, slower{when}")
        }
    }
}

/// Chooses the accelerator for booting `kernel` on `board`, probing KVM when needed.
/// `probe` boots under KVM and says whether the guest reported its status (an outer
/// `Err`: the probe could not run, so there is no verdict to keep).
pub fn choose(
    board: &Board,
    qemu: &Utf8Path,
    kernel: &Utf8Path,
    probe: impl FnOnce(Duration) -> Result<Result<(), String>>,
) -> Result<Choice> {
    if !board.spec.qemu.kvm {
        return Ok(Choice {
            accel: Accel::Default,
            note: None,
        });
    }
    let precheck = precheck(&board.spec.arch, std::env::consts::ARCH, open_dev_kvm());
    let key = probe_key(qemu, kernel, &board.spec.qemu.kvm_args);
    choose_kvm(precheck, &key, &verdict_path(board), probe)
}

/// KVM or TCG for a board that asks for KVM: the precheck, then the verdict cached in
/// `path` for `key`, else a new probe whose verdict is written there.
fn choose_kvm(
    precheck: Result<(), String>,
    key: &str,
    path: &Utf8Path,
    probe: impl FnOnce(Duration) -> Result<Result<(), String>>,
) -> Result<Choice> {
    if let Err(reason) = precheck {
        return Ok(Choice {
            accel: Accel::Tcg,
            note: Some(format!("kvm: {reason}: using TCG, slower")),
        });
    }
    let cached = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| Verdict::parse(&t))
        .filter(|v| v.key == key);
    let (result, cached_in) = match cached {
        Some(v) => (v.result, Some(path)),
        None => {
            let verdict = Verdict {
                key: key.to_string(),
                result: probe(PROBE_TIMEOUT)?,
            };
            if let Some(dir) = path.parent() {
                fs_err::create_dir_all(dir)?;
            }
            crate::engine::write_atomic(path, verdict.render().as_bytes())
                .with_context(|| format!("recording the KVM probe in {path}"))?;
            (verdict.result, None)
        }
    };
    let accel = if result.is_ok() {
        Accel::Kvm
    } else {
        Accel::Tcg
    };
    Ok(Choice {
        accel,
        note: Some(note(&result, cached_in)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn precheck_needs_a_native_guest_and_an_openable_dev_kvm() {
        let cases = [
            ("x86_64", "x86_64", Ok(())),
            ("arm64", "aarch64", Ok(())),
            ("arm", "x86_64", Ok(())),
            ("arm64", "x86_64", Ok(())),
            (
                "x86_64",
                "x86_64",
                Err("Permission denied (os error 13)".to_string()),
            ),
        ];
        let got: Vec<String> = cases
            .into_iter()
            .map(|(board, host, dev)| {
                format!("{board} on {host}: {:?}", precheck(board, host, dev))
            })
            .collect();
        expect![[r#"
            x86_64 on x86_64: Ok(())
            arm64 on aarch64: Ok(())
            arm on x86_64: Err("arm guests cannot run natively on this x86_64 host")
            arm64 on x86_64: Err("arm64 guests cannot run natively on this x86_64 host")
            x86_64 on x86_64: Err("/dev/kvm cannot be opened read-write (Permission denied (os error 13))")"#]]
        .assert_eq(&got.join("\n"));
    }

    #[test]
    fn probes_once_per_key_and_falls_back_to_tcg_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::try_from(dir.path().join("out/kvm-probe")).unwrap();
        let probes = std::cell::Cell::new(0);
        let mut log = Vec::new();
        let mut run =
            |precheck: Result<(), String>, key: &str, verdict: Result<Result<(), String>>| {
                let choice = choose_kvm(precheck, key, &path, |_| {
                    probes.set(probes.get() + 1);
                    verdict
                });
                let shown = match choice {
                    Ok(c) => format!("{:?}: {}", c.accel, c.note.unwrap_or_default()),
                    Err(e) => format!("error: {e}"),
                };
                log.push(format!(
                    "probes {}: {}",
                    probes.get(),
                    shown.replace(path.as_str(), "<path>")
                ));
            };
        run(
            Err(
                "/dev/kvm cannot be opened read-write (No such file or directory (os error 2))"
                    .into(),
            ),
            "k1",
            Ok(Ok(())),
        );
        run(
            Ok(()),
            "k1",
            Err(anyhow::anyhow!("interrupted: stopped qemu")),
        );
        run(
            Ok(()),
            "k1",
            Ok(Err(
                "qemu exited (signal: 6 (SIGABRT)): failed to set MSR 0x10a".into(),
            )),
        );
        run(Ok(()), "k1", Ok(Ok(())));
        run(Ok(()), "k2", Ok(Ok(())));
        run(Ok(()), "k2", Ok(Err("not asked".into())));
        expect![[r#"
            probes 0: Tcg: kvm: /dev/kvm cannot be opened read-write (No such file or directory (os error 2)): using TCG, slower
            probes 1: error: interrupted: stopped qemu
            probes 2: Tcg: kvm: a probe boot under KVM failed (qemu exited (signal: 6 (SIGABRT)): failed to set MSR 0x10a): using TCG, slower
            probes 2: Tcg: kvm: a probe boot under KVM failed (qemu exited (signal: 6 (SIGABRT)): failed to set MSR 0x10a): using TCG, slower (probed earlier; delete <path> to probe again)
            probes 3: Kvm: kvm: a probe boot under KVM worked: using KVM
            probes 3: Kvm: kvm: a probe boot under KVM worked: using KVM (probed earlier; delete <path> to probe again)"#]]
        .assert_eq(&log.join("\n"));
    }

    #[test]
    fn verdict_round_trips_and_rejects_other_text() {
        let ok = Verdict {
            key: "qemu /q:1:2 kernel /k:3:4 kvm_args -cpu host".into(),
            result: Ok(()),
        };
        let failed = Verdict {
            key: "k".into(),
            result: Err("qemu-system-x86_64: error: failed to set MSR 0x10a to 0xc000069".into()),
        };
        expect![[r#"
            qemu /q:1:2 kernel /k:3:4 kvm_args -cpu host
            ok
            k
            failed: qemu-system-x86_64: error: failed to set MSR 0x10a to 0xc000069
        "#]]
        .assert_eq(&(ok.render() + &failed.render()));
        assert_eq!(Verdict::parse(&ok.render()), Some(ok));
        assert_eq!(Verdict::parse(&failed.render()), Some(failed));
        assert_eq!(Verdict::parse("key\nmaybe\n"), None);
        assert_eq!(Verdict::parse(""), None);
    }
}
