//! A stage's outputs are verified, not assumed: its stamp records each output's size
//! and sha256, and one that is truncated, changed or gone makes the stage run again
//! (shown with `pack` on a board without a kernel: an uncompressed archive of one file).

use crate::support::BoardSandbox;
use expect_test::{expect, Expect};

fn check(actual: String, expect: Expect) {
    expect.assert_eq(&actual);
}

/// Runs `pack --compression none` on the sandbox's board; the stage's lines (`[pack] ...`)
/// of stderr, timings left out, and the exit status.
fn pack(sb: &BoardSandbox) -> String {
    let output = sb
        .xtask()
        .args(["--board", sb.board(), "pack", "--compression", "none"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<String> = stderr
        .lines()
        .filter(|l| l.starts_with("[pack]"))
        .map(|l| match l.rfind(" in ") {
            Some(at) if l.contains(" done") || l.contains("up to date") => l[..at].to_string(),
            _ => l.to_string(),
        })
        .collect();
    let text = format!(
        "status: {}\n{}",
        output.status.code().unwrap_or(-1),
        lines.join("\n")
    );
    text.replace(
        sb.out_dir().canonicalize().unwrap().to_str().unwrap(),
        "$OUT",
    )
}

#[test]
fn a_truncated_changed_or_missing_initramfs_is_packed_again() {
    let board = format!("outputs-{}", std::process::id());
    let sb = BoardSandbox::new(&board).removing_outputs();
    sb.write(
        &format!("boards/{board}/rootfs.toml"),
        "[[file]]\npath = \"/hello\"\ncontents = \"hello\\n\"\nmode = 0o644\n",
    );
    let archive = sb.out_dir().join("initramfs.cpio");
    pack(&sb);
    let packed = std::fs::read(&archive).unwrap();
    check(
        pack(&sb),
        expect![[r#"
            status: 0
            [pack] started
            [pack] up to date"#]],
    );
    std::fs::write(&archive, &packed[..100]).unwrap();
    check(
        pack(&sb),
        expect![[r#"
        status: 0
        [pack] started
        [pack] $OUT/initramfs.cpio is not what this stage wrote (100 bytes, sha256 d7a4c4ef2352, recorded 248 bytes, sha256 981b49d60955): running it again
        [pack] done"#]],
    );
    assert_eq!(std::fs::read(&archive).unwrap(), packed);
    let mut flipped = packed.clone();
    flipped[120] ^= 1;
    std::fs::write(&archive, &flipped).unwrap();
    check(
        pack(&sb),
        expect![[r#"
        status: 0
        [pack] started
        [pack] $OUT/initramfs.cpio is not what this stage wrote (248 bytes, sha256 d01f462d833a, recorded 248 bytes, sha256 981b49d60955): running it again
        [pack] done"#]],
    );
    assert_eq!(std::fs::read(&archive).unwrap(), packed);
    std::fs::remove_file(&archive).unwrap();
    check(
        pack(&sb),
        expect![[r#"
        status: 0
        [pack] started
        [pack] $OUT/initramfs.cpio is not what this stage wrote (missing, recorded 248 bytes, sha256 981b49d60955): running it again
        [pack] done"#]],
    );
    assert_eq!(std::fs::read(&archive).unwrap(), packed);
}
