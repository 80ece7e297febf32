//! Lossless model of Linux/busybox `.config` files: parse, edit, merge, diff.
//!
//! It knows nothing of boards, QEMU or the rootfs.
