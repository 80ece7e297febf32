//! `cargo xtask bench --compare A.json B.json`: two boot timelines side by side, and a
//! file that is not a timeline named in the error.

use expect_test::expect;

use crate::support::BoardSandbox;

/// A timeline as `bench --timeline` writes it: two phases, `gone` only in A when
/// `with_gone`, `kept` taking `kept_ms`.
fn timeline(with_gone: bool, kept_ms: f64, prompt_ms: f64) -> String {
    let mut calls = vec![format!(
        r#"{{"name": "kept", "start_ms": 100.0, "end_ms": {}}}"#,
        100.0 + kept_ms
    )];
    if with_gone {
        calls.push(r#"{"name": "gone", "start_ms": 200.0, "end_ms": 260.0}"#.into());
    }
    format!(
        r#"{{"board": "versatilepb", "date": "2026-12-02T14:00:00Z", "load": [1.0, 1.0, 1.0],
        "accel": "TCG", "cmdline": "quiet initcall_debug",
        "phases": [{{"name": "QEMU start → kernel clock 0", "start_ms": 0.0, "end_ms": 90.0}},
                   {{"name": "Run /init → prompt", "start_ms": 90.0, "end_ms": {prompt_ms}}}],
        "marks": [], "initcalls": [{}]}}"#,
        calls.join(", ")
    )
}

#[test]
fn two_timelines_side_by_side_with_their_differences() {
    let sandbox = BoardSandbox::new("compare");
    sandbox.write("a.json", &timeline(true, 10.0, 400.0));
    sandbox.write("b.json", &timeline(false, 14.5, 330.0));
    let output = sandbox
        .xtask()
        .args(["bench", "--compare"])
        .arg(sandbox.path("a.json"))
        .arg(sandbox.path("b.json"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    expect![[r#"
        A: versatilepb 2026-12-02T14:00:00Z TCG (load 1.00 / 1.00 / 1.00)
        B: versatilepb 2026-12-02T14:00:00Z TCG (load 1.00 / 1.00 / 1.00)

        phase                                                 A          B      Δ B-A
        QEMU start → kernel clock 0                     90.0 ms    90.0 ms    +0.0 ms
        Run /init → prompt                             310.0 ms   240.0 ms   -70.0 ms
        QEMU start → prompt                            400.0 ms   330.0 ms   -70.0 ms

        initcalls whose length changed by 1.0 ms or more, largest change first
        initcall                                              A          B      Δ B-A
        gone                                            60.0 ms          -   -60.0 ms  (gone)
        kept                                            10.0 ms    14.5 ms    +4.5 ms
        all initcalls, summed                           70.0 ms    14.5 ms   -55.5 ms
    "#]]
    .assert_eq(&String::from_utf8_lossy(&output.stdout));
}

#[test]
fn a_file_that_is_not_a_timeline_is_named() {
    let sandbox = BoardSandbox::new("compare-bad");
    sandbox.write("a.json", &timeline(true, 10.0, 400.0));
    sandbox.write("b.json", "{\"board\": 1}\n");
    let output = sandbox
        .xtask()
        .args(["bench", "--compare"])
        .arg(sandbox.path("a.json"))
        .arg(sandbox.path("b.json"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("b.json is not a timeline written by `cargo xtask bench --timeline`"),
        "{stderr}"
    );
}
