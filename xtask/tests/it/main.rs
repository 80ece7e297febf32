//! xtask's integration tests, one binary: the real `xtask` binary run on temp boards
//! and real tools.

mod clean;
mod distcc;
mod fetch;
mod kconfig_cli;
mod qemu;
mod support;
