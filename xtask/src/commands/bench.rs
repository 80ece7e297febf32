//! `cargo xtask bench`: minilinux side by side with what it replaces — the kernel's
//! `merge_config.sh`, `find | cpio | gzip` and `gen_init_cpio`, the seed's shell-script
//! `/init`, a no-op `make` — with medians, ratios and the targets, printed and
//! written to `target/minilinux/bench/` (docs/bench.md).

mod boot;
mod cli;
mod cold;
mod gen_init_cpio;
mod kconfig_merge;
mod kconfig_olddefconfig;
mod noop;
mod outputs;
mod pack;
mod pipe;
mod report;
mod samples;
mod timeline;

pub use boot::smoke as boot_smoke;
pub use cli::{run, BenchArgs};
pub use timeline::smoke as timeline_smoke;
