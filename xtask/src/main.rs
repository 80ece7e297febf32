//! `cargo xtask`: builds a minimal Linux (kernel, static busybox, Rust init,
//! initramfs) for a board and boots it in QEMU.
//!
//! `main` only parses flags and dispatches; each subcommand lives in its own module.

mod bench;
mod board;
mod e2e;
mod elf;
mod engine;
mod fetched;
mod host;
mod kbuild;
mod kconfig_cmd;
mod layout;
mod pipeline;
mod preflight;
mod qemu;
mod render;
mod stages;
mod test;
mod uimage;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

use board::{Board, DEFAULT_BOARD};
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
    All(pipeline::AllArgs),
    /// Install the host packages the board needs (apt)
    Setup(host::setup::SetupArgs),
    /// Report which host tools are present and which are missing
    Doctor,
    /// Download and verify kernel and busybox sources
    Fetch(stages::fetch::FetchArgs),
    /// Make the kernel and busybox .config from defconfig + board fragments
    Configure(stages::configure::ConfigureArgs),
    /// Build the kernel, busybox and init
    Build(stages::build::BuildArgs),
    /// Pack the initramfs from the board's rootfs.toml
    Pack(stages::pack::PackArgs),
    /// Boot the result in QEMU
    Qemu(qemu::QemuArgs),
    /// Read and edit kernel/busybox config fragments
    Kconfig(kconfig_cmd::KconfigCmd),
    /// List the boards
    Boards,
    /// Run the test suite: fmt, clippy, cargo test, end-to-end boots in QEMU
    Test(test::TestArgs),
    /// Remove the board's build outputs (keeps the source cache)
    Clean(pipeline::CleanArgs),
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

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let board = cli.board.as_deref().unwrap_or(DEFAULT_BOARD);
    let ctx = || -> anyhow::Result<Ctx> {
        Ok(Ctx {
            board: Board::load(board)?,
            verbose: cli.verbose,
        })
    };
    match cli.command {
        Command::All(args) => return pipeline::all(&ctx()?, args),
        Command::Setup(args) => host::setup::run(&ctx()?.board, &args)?,
        Command::Doctor => return host::doctor::doctor(&ctx()?.board),
        Command::Fetch(args) => pipeline::single(&ctx()?, |ctx| stages::fetch::run(ctx, &args))?,
        Command::Configure(args) => {
            pipeline::single(&ctx()?, |ctx| stages::configure::run(ctx, &args))?
        }
        Command::Build(args) => pipeline::single(&ctx()?, |ctx| stages::build::run(ctx, &args))?,
        Command::Pack(args) => return stages::pack::command(&ctx()?, args),
        Command::Qemu(args) => return qemu::command(&ctx()?, &args),
        Command::Kconfig(cmd) => cmd.run(board)?,
        Command::Test(args) => return test::run(&ctx()?, cli.board.is_none(), &args),
        Command::Boards => pipeline::boards()?,
        Command::Clean(args) => pipeline::clean(&ctx()?, &args)?,
        Command::Bench(args) => bench::run(&ctx()?, &args)?,
    }
    Ok(ExitCode::SUCCESS)
}
