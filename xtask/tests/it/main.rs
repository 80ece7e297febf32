//! xtask's integration tests, one binary: the real `xtask` binary run on temp boards
//! and real tools, and the tidy checks over the workspace's sources.

mod bad_input;
mod bench_compare;
mod clean;
mod distcc;
mod fetch;
mod kconfig_cli;
mod outputs;
mod qemu;
mod random_bad_input;
mod setup;
mod special_files;
mod support;
mod tidy;
