//! The host: what a board needs installed (packages, the guest's Rust std), checking
//! it, and installing it through apt (and zizmor, the workflow linter, through pip). The `setup` and `doctor` commands are built on it.

pub mod apt;
pub mod os;
pub mod requirements;
pub mod rust_std;
pub mod setup;
pub mod zizmor;
