//! `cargo xtask`: builds a minimal Linux (kernel, static busybox, Rust init,
//! initramfs) for a board and boots it in QEMU.
//!
//! `main` only parses flags and dispatches; each subcommand is a module of `commands/`.
//! ARCHITECTURE.md has the layers and the rules between them.

mod board;
mod commands;
mod dtb;
mod elf;
mod engine;
mod fetched;
mod host;
mod kbuild;
mod layout;
mod qemu;
mod render;
mod stages;
mod uimage;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

use commands::{
    all, bench, boards, build, clean, configure, doctor, fetch, kconfig, pack, setup, test,
};
use engine::Ctx;

/// Build a minimal Linux system and boot it in QEMU.
#[derive(Debug, Parser)]
#[command(name = "xtask", bin_name = "cargo xtask", version, about, long_about = None)]
struct Cli {
    /// Board to build (a folder under boards/) [default: versatilepb; `test`: every board]
    #[arg(long, global = true, env = "MINILINUX_BOARD")]
    board: Option<String>,
    /// Stream tool output to the terminal as well as to the stage logs
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every stage: setup check, fetch, configure, build, pack, qemu
    All(all::AllArgs),
    /// Install the host packages the board needs (apt)
    Setup(setup::SetupArgs),
    /// Report which host tools are present and which are missing
    Doctor(doctor::DoctorArgs),
    /// Download and verify kernel and busybox sources
    Fetch(stages::fetch::FetchArgs),
    /// Make the kernel and busybox .config from defconfig + board fragments
    Configure(stages::configure::ConfigureArgs),
    /// Build the kernel, busybox and init
    Build(stages::build::BuildArgs),
    /// Pack the initramfs from the board's rootfs.toml
    Pack(pack::PackArgs),
    /// Boot the result in QEMU
    Qemu(commands::qemu::QemuArgs),
    /// Read and edit kernel/busybox config fragments
    Kconfig(kconfig::KconfigCmd),
    /// List the boards
    Boards(boards::BoardsArgs),
    /// Run the test suite: fmt, clippy, cargo test, end-to-end boots in QEMU
    Test(test::TestArgs),
    /// Remove the board's build outputs (keeps the source cache)
    Clean(clean::CleanArgs),
    /// Time kconfig merge, pack, boot and a no-op rebuild against the tools they replace
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    engine::install_interrupt_handler();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", engine::render_error(&err));
            ExitCode::FAILURE
        }
    }
}

/// The one dispatch: every subcommand is `commands::<name>::run(&ctx, args)`.
fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::new(cli.board, cli.verbose);
    match cli.command {
        Command::All(args) => all::run(&ctx, args),
        Command::Setup(args) => setup::run(&ctx, args),
        Command::Doctor(args) => doctor::run(&ctx, args),
        Command::Fetch(args) => fetch::run(&ctx, args),
        Command::Configure(args) => configure::run(&ctx, args),
        Command::Build(args) => build::run(&ctx, args),
        Command::Pack(args) => pack::run(&ctx, args),
        Command::Qemu(args) => commands::qemu::run(&ctx, args),
        Command::Kconfig(args) => kconfig::run(&ctx, args),
        Command::Boards(args) => boards::run(&ctx, args),
        Command::Test(args) => test::run(&ctx, args),
        Command::Clean(args) => clean::run(&ctx, args),
        Command::Bench(args) => bench::run(&ctx, args),
    }
}
