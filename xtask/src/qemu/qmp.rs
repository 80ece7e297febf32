//! Just enough of QEMU's machine protocol (QMP) to ask the monitor a question: how
//! many blocks of guest code TCG has translated (`info jit`), which is what a boot
//! under TCG mostly pays for, and which does not move with the host's load.

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// A connection to QEMU's `-qmp unix:<path>,server=on,wait=off` socket, past the
/// capabilities handshake.
pub struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qmp {
    /// Connects to the socket at `path` and negotiates; each reply may take `timeout`.
    pub fn connect(path: &Utf8Path, timeout: Duration) -> Result<Qmp> {
        let stream = UnixStream::connect(path)
            .with_context(|| format!("connecting to QEMU's monitor at {path}"))?;
        stream.set_read_timeout(Some(timeout))?;
        let writer = stream.try_clone()?;
        let mut qmp = Qmp {
            reader: BufReader::new(stream),
            writer,
        };
        let greeting = qmp.read_message()?;
        if greeting.get("QMP").is_none() {
            bail!("QEMU's monitor did not greet with QMP: {greeting}");
        }
        qmp.execute("qmp_capabilities", None)?;
        Ok(qmp)
    }

    /// Runs `command` and returns its `return` value; events in between are skipped.
    pub fn execute(&mut self, command: &str, arguments: Option<Value>) -> Result<Value> {
        let mut request = json!({ "execute": command });
        if let Some(arguments) = arguments {
            request["arguments"] = arguments;
        }
        writeln!(self.writer, "{request}").context("writing to QEMU's monitor")?;
        loop {
            let mut reply = self.read_message()?;
            if let Some(value) = reply.get_mut("return") {
                return Ok(value.take());
            }
            if let Some(error) = reply.get("error") {
                bail!("QEMU's monitor refused {command}: {error}");
            }
        }
    }

    /// A human monitor command (`info jit`), as the monitor prints it.
    pub fn human(&mut self, line: &str) -> Result<String> {
        let value = self.execute(
            "human-monitor-command",
            Some(json!({ "command-line": line })),
        )?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// One JSON message (one line).
    fn read_message(&mut self) -> Result<Value> {
        let mut line = String::new();
        let read = self
            .reader
            .read_line(&mut line)
            .context("reading from QEMU's monitor")?;
        if read == 0 {
            bail!("QEMU's monitor closed the connection");
        }
        serde_json::from_str(&line)
            .with_context(|| format!("QEMU's monitor sent something that is not JSON: {line:?}"))
    }
}

/// `TB count` from `info jit`: how many blocks TCG has translated (none under KVM).
pub fn translated_blocks(info_jit: &str) -> Option<u64> {
    info_jit.lines().find_map(|line| {
        line.trim()
            .strip_prefix("TB count")
            .and_then(|rest| rest.trim().parse().ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn the_block_count_from_info_jit() {
        let text = "Accelerator settings:\none-insn-per-tb: off\n\nTranslation buffer state:\n\
                    gen code size       19338403/1073736704\nTB count            32490\n\
                    TB avg target size  19 max=632 bytes\n";
        assert_eq!(translated_blocks(text), Some(32490));
        assert_eq!(translated_blocks("TB count  many\n"), None);
        assert_eq!(translated_blocks(""), None);
    }

    /// A monitor that greets, answers the handshake, sends an event, then answers.
    fn fake_monitor(
        path: &std::path::Path,
        answer: &'static str,
    ) -> std::thread::JoinHandle<Vec<String>> {
        let listener = UnixListener::bind(path).unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut out = stream.try_clone().unwrap();
            let mut lines = BufReader::new(stream).lines();
            let mut seen = Vec::new();
            writeln!(out, r#"{{"QMP": {{"version": {{}}, "capabilities": []}}}}"#).unwrap();
            seen.push(lines.next().unwrap().unwrap());
            writeln!(out, r#"{{"return": {{}}}}"#).unwrap();
            seen.push(lines.next().unwrap().unwrap());
            writeln!(out, r#"{{"event": "RTC_CHANGE", "data": {{}}}}"#).unwrap();
            writeln!(out, "{answer}").unwrap();
            seen
        })
    }

    #[test]
    fn a_human_command_through_the_handshake_and_past_an_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qmp.sock");
        let server = fake_monitor(&path, r#"{"return": "TB count            812\n"}"#);
        let path = Utf8Path::from_path(&path).unwrap();
        let mut qmp = Qmp::connect(path, Duration::from_secs(5)).unwrap();
        let text = qmp.human("info jit").unwrap();
        assert_eq!(translated_blocks(&text), Some(812));
        let seen = server.join().unwrap();
        assert_eq!(seen[0], r#"{"execute":"qmp_capabilities"}"#);
        assert_eq!(
            seen[1],
            r#"{"arguments":{"command-line":"info jit"},"execute":"human-monitor-command"}"#
        );
    }

    #[test]
    fn a_refusal_is_an_error_naming_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qmp.sock");
        let server = fake_monitor(
            &path,
            r#"{"error": {"class": "GenericError", "desc": "no"}}"#,
        );
        let path = Utf8Path::from_path(&path).unwrap();
        let mut qmp = Qmp::connect(path, Duration::from_secs(5)).unwrap();
        let err = qmp.human("info jit").unwrap_err().to_string();
        assert!(
            err.starts_with("QEMU's monitor refused human-monitor-command"),
            "{err}"
        );
        server.join().unwrap();
    }
}
