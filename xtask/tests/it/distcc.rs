//! `cargo xtask build --distcc`: a real build through a private distccd on loopback.
//!
//! The board is a copy of versatilepb whose kernel is a small stand-in tree (a
//! Makefile that takes the targets and variables xtask gives Kbuild and compiles a
//! few C files with `$(CC)`), so the test takes a minute, not the kernel's seven;
//! busybox is the real one (its allnoconfig), built by its real Kbuild. Both go through the same make
//! command as the kernel. The test reads distccd's own log to see that the
//! compiles ran there, and checks that switching back to a local build rebuilds
//! nothing.

use std::io::Read;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{self, BoardSandbox};
use expect_test::expect;

/// The C files of the stand-in kernel.
const KERNEL_FILES: &[&str] = &["entry.c", "fork.c", "sched.c", "printk.c"];

/// A [`BoardSandbox`] whose board (versatilepb) builds a stand-in kernel tree `linux/`;
/// removes the board's outputs under `target/` when dropped.
struct Sandbox {
    base: BoardSandbox,
    /// The board's `[kernel] image`, relative to the kernel build dir.
    image: String,
}

impl Deref for Sandbox {
    type Target = BoardSandbox;

    fn deref(&self) -> &BoardSandbox {
        &self.base
    }
}

impl Sandbox {
    fn new() -> Sandbox {
        let board = format!("distcc-test-{}", std::process::id());
        let base = BoardSandbox::new(&board).removing_outputs();
        base.write(
            &format!("boards/{board}/linux.config"),
            "CONFIG_DISTCC_TEST=y\n",
        );
        // The stand-in kernel's dtb is a stand-in too: no nodes to disable.
        let toml = format!("boards/{board}/board.toml");
        let spec = support::without_kernel_keys(&base.read(&toml), &["dtb_disable"]);
        // busybox's allnoconfig (plus the board's fragment): still its real Kbuild and
        // 139 compiles, a quarter of the defconfig's, so the test costs less CPU.
        let busybox = "[busybox]\ndefconfig = \"defconfig\"";
        assert!(spec.contains(busybox), "{toml}: no {busybox:?} to replace");
        base.write(
            &toml,
            &spec.replace(busybox, "[busybox]\ndefconfig = \"allnoconfig\""),
        );
        let image = write_kernel(&base);
        Sandbox { base, image }
    }

    fn kernel_tree(&self) -> PathBuf {
        self.path("linux")
    }

    /// Runs `xtask --board <board> ARGS`; panics with its stderr unless it succeeds.
    fn run(&self, args: &[&str]) -> String {
        let output = self
            .xtask()
            .args(["--board", self.board()])
            .args(args)
            // An empty compiler cache of its own: every compile is a miss, which ccache
            // (used whenever installed) hands to distcc.
            .env("CCACHE_DIR", self.path("ccache"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            output.status.success(),
            "xtask {} failed ({}):\n{stderr}",
            args.join(" "),
            output.status
        );
        stderr
    }
}

/// The stand-in kernel in `linux/`: builds the board's `[kernel] targets`, `image` and
/// `dtb`. Returns the image's path.
fn write_kernel(sandbox: &BoardSandbox) -> String {
    let text = sandbox.read(&format!("boards/{}/board.toml", sandbox.board()));
    let spec: toml::Value = toml::from_str(&text).unwrap();
    let kernel = &spec["kernel"];
    let targets: Vec<&str> = kernel["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let image = kernel["image"].as_str().unwrap();
    let dtb = kernel.get("dtb").and_then(|d| d.as_str());
    sandbox.write(
        "linux/Kconfig",
        "config DISTCC_TEST\n\tbool \"distcc test\"\n",
    );
    for (i, file) in KERNEL_FILES.iter().enumerate() {
        let body = if i == 0 {
            "void _start(void) { for (;;) ; }\n".to_string()
        } else {
            format!("int f{i}(int x) {{ return x * {i} + 1; }}\n")
        };
        sandbox.write(&format!("linux/{file}"), &body);
    }
    let mut image_recipe =
        format!("\tmkdir -p $(dir $(O)/{image})\n\t$(CC) -nostdlib -o $(O)/{image} $(OBJS)\n");
    if let Some(dtb) = dtb {
        image_recipe.push_str(&format!(
            "\tmkdir -p $(dir $(O)/{dtb})\n\techo stand-in > $(O)/{dtb}\n"
        ));
    }
    let makefile = format!(
        "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION = -distcc-test\n\
         # A stand-in for the kernel's Kbuild: CC as Kbuild sets it, objects under O=.\n\
         CC = $(CROSS_COMPILE)gcc\n\
         OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard *.c))\n\
         .PHONY: {targets} olddefconfig\n\
         %_defconfig:\n\tmkdir -p $(O)\n\techo CONFIG_DISTCC_TEST=y > $(O)/.config\n\
         olddefconfig:\n\t@:\n\
         $(O)/%.o: %.c\n\t$(CC) -O2 -c $< -o $@\n\
         {targets}: $(O)/image.done\n\
         $(O)/image.done: $(OBJS)\n{image_recipe}\ttouch $@\n",
        targets = targets.join(" "),
    );
    sandbox.write("linux/Makefile", &makefile);
    image.to_string()
}

/// A distccd of the test's own on a free loopback port, stopped when dropped.
struct Distccd {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Distccd {
    fn start(dir: &Path) -> Distccd {
        let port = support::free_port();
        let log = dir.join("distccd.log");
        // --log-stderr into a file the test opened: run as root, distccd drops to
        // the `distcc` user, which could not open a --log-file in the test's temp dir.
        let log_file = std::fs::File::create(&log).unwrap();
        let child = Command::new("distccd")
            .args(["--daemon", "--no-detach", "--listen", "127.0.0.1"])
            .args(["--port", &port.to_string()])
            .args([
                "--allow",
                "127.0.0.1",
                "--log-stderr",
                "--log-level",
                "info",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run distccd ({e}): run `cargo xtask setup`, which installs distcc \
                     (build --distcc and this test use it)"
                )
            });
        let mut daemon = Distccd { child, port, log };
        daemon.wait_listening();
        daemon
    }

    fn wait_listening(&mut self) {
        let ready = format!("listening on 127.0.0.1:{}", self.port);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if self.log_text().contains(&ready) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("distccd exited ({status}):\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("distccd is not listening after 20 s:\n{}", self.log_text());
    }

    fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    /// distccd's job summaries: `(status, compiler, input file)`, one per compile it ran.
    fn jobs(&self) -> Vec<(String, String, String)> {
        self.log_text()
            .lines()
            .filter(|l| l.contains("(dcc_job_summary)"))
            .filter_map(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                let status = words.iter().position(|w| w.starts_with("COMPILE_"))?;
                let time = words.iter().position(|w| w.starts_with("time:"))?;
                let compiler = words.get(time + 1)?;
                let input = words.last()?;
                Some((
                    words[status].to_string(),
                    compiler.to_string(),
                    input.to_string(),
                ))
            })
            .collect()
    }
}

impl Drop for Distccd {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: distccd then stops its preforked children too.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// ELF `e_machine` of a file.
fn elf_machine(path: &Path) -> u16 {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..4],
        b"\x7fELF",
        "{} is not an ELF file",
        path.display()
    );
    u16::from_le_bytes([bytes[18], bytes[19]])
}

#[test]
fn build_compiles_on_distccd_and_switching_back_to_local_rebuilds_nothing() {
    let sb = Sandbox::new();
    let kernel_src = sb.kernel_tree();
    sb.run(&["fetch", "--kernel-src", kernel_src.to_str().unwrap()]);
    sb.run(&["configure"]);

    let distccd = Distccd::start(sb.dir());
    let hosts = format!("127.0.0.1:{}/2", distccd.port);
    let stderr = sb.run(&["build", "--distcc", &hosts]);
    assert!(
        !stderr.contains("ran on this machine"),
        "distcc fell back to local compiles:\n{stderr}\n--- distccd log\n{}",
        distccd.log_text()
    );

    // busybox's Makefile.flags probes the compiler with mktemp files (`tmp.*.c`)
    // that may fail to compile; every other compile must succeed.
    let jobs: Vec<_> = distccd
        .jobs()
        .into_iter()
        .filter(|(_, _, input)| !input.starts_with("tmp."))
        .collect();
    let mut statuses: Vec<&str> = jobs.iter().map(|(s, _, _)| s.as_str()).collect();
    statuses.sort();
    statuses.dedup();
    // By its file name: ccache (used whenever installed) hands distcc the compiler it
    // found on PATH, `/usr/bin/arm-linux-gnueabi-gcc`; make alone gives the bare name.
    let mut compilers: Vec<&str> = jobs
        .iter()
        .map(|(_, c, _)| c.rsplit('/').next().unwrap_or(c))
        .collect();
    compilers.sort();
    compilers.dedup();
    let mut kernel: Vec<&str> = jobs
        .iter()
        .map(|(_, _, input)| input.as_str())
        .filter(|input| KERNEL_FILES.contains(input))
        .collect();
    kernel.sort();
    let busybox = jobs.len() - kernel.len();
    let summary = format!(
        "statuses: {statuses:?}\ncompilers: {compilers:?}\nkernel files: {kernel:?}\n\
         busybox compiles on distccd: more than 100: {}\n",
        busybox > 100
    );
    // HOSTCC (gcc, for Kbuild's host tools) stays local: only the cross compiler is sent.
    expect![[r#"
        statuses: ["COMPILE_OK"]
        compilers: ["arm-linux-gnueabi-gcc"]
        kernel files: ["entry.c", "fork.c", "printk.c", "sched.c"]
        busybox compiles on distccd: more than 100: true
    "#]]
    .assert_eq(&summary);

    let out = sb.out_dir();
    let image = out.join("linux").join(&sb.image);
    assert_eq!(elf_machine(&image), 40, "stand-in kernel image is not ARM");
    assert_eq!(
        elf_machine(&out.join("busybox/busybox")),
        40,
        "busybox is not ARM"
    );

    // The hosts are not an input of the build: a local build finds everything done.
    let stderr = sb.run(&["build"]);
    for stage in ["build-linux", "build-busybox", "build-init"] {
        assert!(
            stderr.contains(&format!("[{stage}] up to date")),
            "{stage} ran again without --distcc:\n{stderr}"
        );
    }

    // And make itself, run locally, sees the same command lines: busybox's Kbuild
    // (which rebuilds an object whose recorded command changed) compiles nothing.
    std::fs::remove_file(out.join("stamps/build-busybox")).unwrap();
    let jobs_before = distccd.jobs().len();
    sb.run(&["build"]);
    let log = std::fs::read_to_string(out.join("logs/build-busybox.log")).unwrap();
    let compiled: Vec<&str> = log.lines().filter(|l| l.starts_with("  CC ")).collect();
    assert!(
        compiled.is_empty(),
        "a local make after the distcc build recompiled:\n{}",
        compiled.join("\n")
    );
    assert_eq!(
        distccd.jobs().len(),
        jobs_before,
        "a local build used distccd"
    );
}
