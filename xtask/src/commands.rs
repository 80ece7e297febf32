//! One module per subcommand, each `run(&Ctx, Args) -> Result<ExitCode>`: it composes
//! the stages, QEMU and the host checks below it, and nothing below imports it.

pub mod all;
pub mod bench;
pub mod boards;
pub mod build;
pub mod clean;
pub mod configure;
pub mod doctor;
pub mod fetch;
pub mod kconfig;
pub mod pack;
pub mod qemu;
pub mod setup;
pub mod test;
