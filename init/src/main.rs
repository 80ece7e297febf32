//! PID 1 of the minilinux guest.
fn main() {}
