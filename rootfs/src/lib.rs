//! Initramfs builder: manifest -> file tree -> newc cpio -> compression.
//!
//! It knows nothing of boards, QEMU or kernel configs.
