//! `cargo xtask clean`: removes only the board's outputs under `target/minilinux/` and,
//! with `--cache`, only a folder minilinux marked as its cache.

use std::path::Path;

use crate::support::BoardSandbox;

fn files_under(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_board_given_as_a_path_keeps_its_files_and_cleans_its_outputs_under_target() {
    let sandbox = BoardSandbox::new("clean-by-path").removing_outputs();
    let before = files_under(&sandbox.board_dir());
    std::fs::create_dir_all(sandbox.out_dir().join("stamps")).unwrap();
    std::fs::write(sandbox.out_dir().join("stamps/pack"), "x").unwrap();
    let output = sandbox
        .xtask()
        .arg("--board")
        .arg(sandbox.board_dir())
        .arg("clean")
        .env("MINILINUX_CACHE", sandbox.path("cache"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(files_under(&sandbox.board_dir()), before);
    assert!(!sandbox.out_dir().join("stamps").exists());
}

#[test]
fn a_board_name_that_is_not_one_folder_is_refused() {
    let sandbox = BoardSandbox::new("refused");
    for name in ["..", ".", "", "a b"] {
        let output = sandbox
            .xtask()
            .args(["--board", name, "clean"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{name}: {stderr}");
        assert!(stderr.contains("invalid board name"), "{name}: {stderr}");
    }
}

#[test]
fn clean_cache_refuses_a_folder_minilinux_did_not_mark() {
    let sandbox = BoardSandbox::new("clean-cache");
    sandbox.write("home/notes.txt", "precious");
    let output = sandbox
        .xtask()
        .args(["--board", "clean-cache", "clean", "--cache"])
        .env("MINILINUX_CACHE", sandbox.path("home"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("has no CACHEDIR.TAG"), "{stderr}");
    assert_eq!(sandbox.read("home/notes.txt"), "precious");
}

#[test]
fn clean_cache_removes_a_marked_cache() {
    let sandbox = BoardSandbox::new("clean-marked");
    sandbox.write(
        "cache/CACHEDIR.TAG",
        "Signature: 8a477f597d28d172789f06886806bc55\n\
         # This file is a cache directory tag created by minilinux (cargo xtask).\n",
    );
    sandbox.write("cache/downloads/x.tar", "x");
    let output = sandbox
        .xtask()
        .args(["--board", "clean-marked", "clean", "--cache"])
        .env("MINILINUX_CACHE", sandbox.path("cache"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(!sandbox.path("cache").exists());
}

#[test]
fn ctrl_c_while_waiting_for_the_board_lock_ends_the_command_without_running_it() {
    use std::io::{BufRead, BufReader};
    let sandbox = BoardSandbox::new("clean-waits").removing_outputs();
    std::fs::create_dir_all(sandbox.out_dir()).unwrap();
    std::fs::write(sandbox.out_dir().join("kept"), "x").unwrap();
    let lock = std::fs::File::create(sandbox.out_dir().join("lock")).unwrap();
    lock.lock().unwrap();
    let mut child = sandbox
        .xtask()
        .args(["--board", "clean-waits", "clean"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert!(first.starts_with("waiting for"), "{first}");
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(!status.success());
    assert!(rest.contains("interrupted while waiting"), "{rest}");
    drop(lock);
    assert!(sandbox.out_dir().join("kept").exists());
}
