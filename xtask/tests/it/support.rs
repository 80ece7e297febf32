//! What the integration tests that run the real `xtask` binary on a temp board share:
//! [`BoardSandbox`], a temp folder with a copy of `boards/versatilepb`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A temp folder with `boards/<board>`, a copy of `boards/versatilepb`; with
/// [`BoardSandbox::removing_outputs`], removes the board's outputs under the
/// workspace's `target/` when dropped.
pub struct BoardSandbox {
    dir: tempfile::TempDir,
    board: String,
    remove_outputs: bool,
}

impl BoardSandbox {
    /// A new temp folder with `boards/<board>` copied from `boards/versatilepb`.
    pub fn new(board: &str) -> BoardSandbox {
        let sandbox = BoardSandbox {
            dir: tempfile::tempdir().unwrap(),
            board: board.to_string(),
            remove_outputs: false,
        };
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../boards/versatilepb");
        let dest = sandbox.board_dir();
        std::fs::create_dir_all(&dest).unwrap();
        for entry in std::fs::read_dir(source).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dest.join(entry.file_name())).unwrap();
        }
        sandbox
    }

    /// Makes the sandbox remove [`BoardSandbox::out_dir`] when dropped.
    pub fn removing_outputs(mut self) -> BoardSandbox {
        self.remove_outputs = true;
        self
    }

    /// The temp folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The board's name.
    pub fn board(&self) -> &str {
        &self.board
    }

    /// `boards/<board>` in the temp folder.
    pub fn board_dir(&self) -> PathBuf {
        self.path("boards").join(&self.board)
    }

    /// A path in the temp folder.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Writes a file in the temp folder, creating its parent folders.
    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Reads a file in the temp folder.
    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap()
    }

    /// `text` with the temp folder's path written as `$TMP`.
    pub fn redact_tmp(&self, text: &str) -> String {
        text.replace(self.dir.path().to_str().unwrap(), "$TMP")
    }

    /// The board's outputs: `target/minilinux/<board>` in the workspace.
    pub fn out_dir(&self) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/minilinux")
            .join(&self.board)
    }

    /// The xtask binary, finding its boards in the temp folder (`MINILINUX_BOARDS_DIR`)
    /// and no board from the environment (`MINILINUX_BOARD` removed); no arguments yet.
    pub fn xtask(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .env("MINILINUX_BOARDS_DIR", self.path("boards"))
            .env_remove("MINILINUX_BOARD");
        command
    }
}

impl Drop for BoardSandbox {
    fn drop(&mut self) {
        if self.remove_outputs {
            let _ = std::fs::remove_dir_all(self.out_dir());
        }
    }
}

/// A free local port: nothing listens on it once this returns.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Every file under `dir` by path, with its bytes (a symlink: its target), to check that a
/// command changed nothing.
pub fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                todo.push(path);
            } else if meta.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(path, target.to_string_lossy().as_bytes().to_vec());
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path, bytes);
            }
        }
    }
    out
}

/// Runs `command` to its end, or kills it after `secs` seconds and panics saying it
/// hung: a test of something that used to hang fails instead of hanging too.
pub fn output_within(command: &mut Command, secs: u64) -> std::process::Output {
    use std::process::Stdio;
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} still running after {secs} s: it hangs");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Makes a FIFO at `path` with `mkfifo`.
pub fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {} failed", path.display());
}

/// Writes `text` to `path` as an executable (mode 755) from a child process, so this
/// multi-threaded test process never has the file open for writing: a child another
/// test forked at that moment would inherit the descriptor until its exec, and
/// running the file meanwhile fails with ETXTBSY ("Text file busy"), which made
/// tests that run fake tools fail now and then under the whole suite's load.
pub fn write_executable(path: &Path, text: &str) {
    let mut child = Command::new("sh")
        .args(["-c", "cat > \"$1\" && chmod 755 \"$1\"", "sh"])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    assert!(
        child.wait().unwrap().success(),
        "writing {}",
        path.display()
    );
}

/// `board.toml` text without the `[kernel]` keys `keys` (re-serialized: comments go).
pub fn without_kernel_keys(toml: &str, keys: &[&str]) -> String {
    let mut spec: toml::Value = toml::from_str(toml).unwrap();
    let kernel = spec["kernel"].as_table_mut().unwrap();
    for key in keys {
        kernel.remove(*key);
    }
    toml::to_string(&spec).unwrap()
}
