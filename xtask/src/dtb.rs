//! Device tree blobs: the board's dtb with the nodes `[kernel] dtb_disable` names set to
//! `status = "disabled"`, so the kernel neither registers nor probes hardware the guest
//! does not use (each probe is code that TCG translates on every boot).
//!
//! The blob is read with the `fdt` crate and written again with `vm-fdt` (rust-vmm's
//! writer): every node, property and memory reservation is kept, in order; only the
//! named nodes' `status` changes (added where the node had none).

use std::collections::BTreeSet;

/// Why a blob could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum DtbError {
    /// The input is not a flattened device tree.
    #[error("not a device tree blob: {0:?}")]
    Parse(fdt::FdtError),
    /// The named nodes are not in the tree.
    #[error("no node {} in the device tree", .0.join(", no node "))]
    Missing(Vec<String>),
    /// A path does not start at the root.
    #[error(
        "{0:?} is not a device tree node path: write it from the root, as /amba/uart@101f2000"
    )]
    NotAPath(String),
    /// The writer refused the tree (a name or a size it cannot hold).
    #[error("writing the device tree: {0}")]
    Write(vm_fdt::Error),
}

/// `blob` with each node of `paths` (full paths with unit addresses, as
/// `/amba/uart@101f2000`) set to `status = "disabled"`.
pub fn disable_nodes(blob: &[u8], paths: &[String]) -> Result<Vec<u8>, DtbError> {
    check_paths(paths)?;
    let tree = fdt::Fdt::new(blob).map_err(DtbError::Parse)?;
    let reservations: Vec<vm_fdt::FdtReserveEntry> = tree
        .memory_reservations()
        .map(|r| vm_fdt::FdtReserveEntry::new(r.address() as u64, r.size() as u64))
        .collect::<Result<_, _>>()
        .map_err(DtbError::Write)?;
    let mut writer =
        vm_fdt::FdtWriter::new_with_mem_reserv(&reservations).map_err(DtbError::Write)?;
    writer.set_boot_cpuid_phys(boot_cpuid_phys(blob));
    let mut wanted: BTreeSet<&str> = paths.iter().map(|p| p.trim_end_matches('/')).collect();
    let root = tree
        .find_node("/")
        .ok_or(DtbError::Missing(vec!["/".into()]))?;
    copy_node(&mut writer, root, "", &mut wanted)?;
    if !wanted.is_empty() {
        return Err(DtbError::Missing(
            wanted.into_iter().map(str::to_string).collect(),
        ));
    }
    writer.finish().map_err(DtbError::Write)
}

/// Every path starts at the root (`/amba/uart@101f2000`), else the first that does not.
pub fn check_paths(paths: &[String]) -> Result<(), DtbError> {
    match paths.iter().find(|p| !p.starts_with('/')) {
        Some(bad) => Err(DtbError::NotAPath(bad.clone())),
        None => Ok(()),
    }
}

/// Writes `node` (at `path`, "" for the root) and its children, disabling it when
/// `wanted` holds its path (which is then removed from `wanted`).
fn copy_node(
    writer: &mut vm_fdt::FdtWriter,
    node: fdt::node::FdtNode,
    path: &str,
    wanted: &mut BTreeSet<&str>,
) -> Result<(), DtbError> {
    let name = if path.is_empty() { "" } else { node.name };
    let disable = wanted.remove(path);
    let handle = writer.begin_node(name).map_err(DtbError::Write)?;
    let mut has_status = false;
    for property in node.properties() {
        if disable && property.name == "status" {
            has_status = true;
            writer.property_string("status", "disabled")
        } else {
            writer.property(property.name, property.value)
        }
        .map_err(DtbError::Write)?;
    }
    if disable && !has_status {
        writer
            .property_string("status", "disabled")
            .map_err(DtbError::Write)?;
    }
    for child in node.children() {
        let child_path = format!("{path}/{}", child.name);
        copy_node(writer, child, &child_path, wanted)?;
    }
    writer.end_node(handle).map_err(DtbError::Write)
}

/// The header's `boot_cpuid_phys` (offset 28, big endian), 0 when the blob is short.
fn boot_cpuid_phys(blob: &[u8]) -> u32 {
    blob.get(28..32)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    /// A small tree like a board's: a bus with two UARTs, one already `okay`.
    fn board_blob() -> Vec<u8> {
        let mut w =
            vm_fdt::FdtWriter::new_with_mem_reserv(&[
                vm_fdt::FdtReserveEntry::new(0x1000, 0x2000).unwrap()
            ])
            .unwrap();
        let root = w.begin_node("").unwrap();
        w.property_string("model", "test board").unwrap();
        w.property_u32("#address-cells", 1).unwrap();
        let amba = w.begin_node("amba").unwrap();
        let uart0 = w.begin_node("uart@101f1000").unwrap();
        w.property_u32("phandle", 7).unwrap();
        w.end_node(uart0).unwrap();
        let uart1 = w.begin_node("uart@101f2000").unwrap();
        w.property_string("status", "okay").unwrap();
        w.property_array_u32("reg", &[0x101f_2000, 0x1000]).unwrap();
        w.end_node(uart1).unwrap();
        w.end_node(amba).unwrap();
        w.end_node(root).unwrap();
        w.finish().unwrap()
    }

    /// The tree as text: each node's path, then its properties (strings where printable).
    fn dump(blob: &[u8]) -> String {
        fn walk(node: fdt::node::FdtNode, path: &str, out: &mut String) {
            out.push_str(if path.is_empty() { "/" } else { path });
            out.push('\n');
            for p in node.properties() {
                let text = std::str::from_utf8(p.value)
                    .ok()
                    .filter(|s| s.len() > 1 && s.ends_with('\0'))
                    .filter(|s| {
                        s[..s.len() - 1]
                            .chars()
                            .all(|c| c.is_ascii_graphic() || c == ' ')
                    })
                    .map(|s| format!("{:?}", s.trim_end_matches('\0')))
                    .unwrap_or_else(|| format!("{:02x?}", p.value));
                out.push_str(&format!("  {} = {text}\n", p.name));
            }
            for child in node.children() {
                walk(child, &format!("{path}/{}", child.name), out);
            }
        }
        let tree = fdt::Fdt::new(blob).unwrap();
        let mut out = String::new();
        for r in tree.memory_reservations() {
            out.push_str(&format!(
                "reserve {:#x} {:#x}\n",
                r.address() as u64,
                r.size()
            ));
        }
        walk(tree.find_node("/").unwrap(), "", &mut out);
        out
    }

    fn check(paths: &[&str], expect: Expect) {
        let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
        let out = match disable_nodes(&board_blob(), &paths) {
            Ok(blob) => dump(&blob),
            Err(e) => format!("error: {e}"),
        };
        expect.assert_eq(&out);
    }

    #[test]
    fn nothing_to_disable_keeps_the_tree() {
        check(
            &[],
            expect![[r#"
                reserve 0x1000 0x2000
                /
                  model = "test board"
                  #address-cells = [00, 00, 00, 01]
                /amba
                /amba/uart@101f1000
                  phandle = [00, 00, 00, 07]
                /amba/uart@101f2000
                  status = "okay"
                  reg = [10, 1f, 20, 00, 00, 00, 10, 00]
            "#]],
        );
    }

    #[test]
    fn a_status_is_added_or_replaced_in_place() {
        check(
            &["/amba/uart@101f1000", "/amba/uart@101f2000/"],
            expect![[r#"
                reserve 0x1000 0x2000
                /
                  model = "test board"
                  #address-cells = [00, 00, 00, 01]
                /amba
                /amba/uart@101f1000
                  phandle = [00, 00, 00, 07]
                  status = "disabled"
                /amba/uart@101f2000
                  status = "disabled"
                  reg = [10, 1f, 20, 00, 00, 00, 10, 00]
            "#]],
        );
    }

    #[test]
    fn bad_paths_are_named() {
        check(
            &["/amba/uart@101f3000", "/amba/uart", "/amba/uart@101f1000"],
            expect!["error: no node /amba/uart, no node /amba/uart@101f3000 in the device tree"],
        );
        check(
            &["amba/uart@101f1000"],
            expect![[
                r#"error: "amba/uart@101f1000" is not a device tree node path: write it from the root, as /amba/uart@101f2000"#
            ]],
        );
        let err = disable_nodes(b"not a dtb at all, just bytes", &[]).unwrap_err();
        assert!(
            err.to_string().starts_with("not a device tree blob"),
            "{err}"
        );
    }
}
