//! Indexes into a tree's symbols, properties, menus and files, and the fixed symbols
//! and flags.

pub(crate) type SymId = u32;
pub(crate) type PropId = u32;
pub(crate) type MenuId = u32;
pub(crate) type FileId = u32;

/// `y`, `m` and `n` are the first three symbols of every tree.
pub(crate) const SYM_YES: SymId = 0;
pub(crate) const SYM_MOD: SymId = 1;
pub(crate) const SYM_NO: SymId = 2;
pub(crate) const ROOT_MENU: MenuId = 0;

/// Symbol flags fixed at parse time (the evaluator keeps its own).
pub(crate) const F_CONST: u32 = 0x0001;
pub(crate) const F_CHOICE: u32 = 0x0010;
pub(crate) const F_CHOICEVAL: u32 = 0x0020;
pub(crate) const F_OPTIONAL: u32 = 0x0100;
pub(crate) const F_NO_WRITE: u32 = 0x1000;
