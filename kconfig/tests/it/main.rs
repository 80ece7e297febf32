//! Behaviour of the kconfig crate through its public API; one module per area.

mod busybox_tree;
mod check;
mod diff;
mod edit;
mod kernel_tree;
mod language;
mod merge;
mod olddefconfig;
mod parse;
mod roundtrip_random;
mod symbol_index;
mod why_blame;
