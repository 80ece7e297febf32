//! The host: what a board needs installed (packages, the guest's Rust std), checking
//! it, and installing it through apt.

pub mod apt;
pub mod doctor;
pub mod os;
pub mod requirements;
pub mod rust_std;
pub mod setup;
