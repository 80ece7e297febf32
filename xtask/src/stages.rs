//! The build stages, in the order `all` runs them: fetch, configure, build, pack.
//!
//! Each one reads the board and what the stage before it left on disk, writes its
//! outputs under `target/minilinux/<board>/` through the engine (fingerprint, log,
//! stamp), and never imports another stage: what passes between them is a file
//! (`fetch.toml` through [`crate::fetched`], a `.config`, a binary) or a returned value.

pub mod build;
pub mod configure;
pub mod fetch;
pub mod pack;
