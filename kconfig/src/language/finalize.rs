//! `menu_finalize` (`scripts/kconfig/menu.c`): dependencies of menus, `if` blocks and
//! choices pushed down into every entry and property, `select`/`imply` turned into the
//! reverse dependencies of their targets, choice values marked, `if` blocks flattened.

use super::expr::{and, contains_symbol, depends_symbol, or, rewrite_m, Expr};
use super::model::*;

fn props_of_node(k: &Kconfig, menu: MenuId) -> Vec<PropId> {
    let m = k.menu(menu);
    match m.sym {
        Some(s) => k
            .sym(s)
            .props
            .iter()
            .copied()
            .filter(|&p| k.prop(p).menu == menu)
            .collect(),
        None => m.prompt.into_iter().collect(),
    }
}

fn children(k: &Kconfig, menu: MenuId) -> Vec<MenuId> {
    let mut out = Vec::new();
    let mut m = k.menu(menu).list;
    while let Some(id) = m {
        out.push(id);
        m = k.menu(id).next;
    }
    out
}

pub(crate) fn finalize(k: &mut Kconfig, parent: MenuId) {
    let sym = k.menu(parent).sym;
    let is_choice = sym.is_some_and(|s| k.sym(s).is_choice());
    if k.menu(parent).list.is_some() {
        let parentdep = if let (true, Some(s)) = (is_choice, sym) {
            if k.sym(s).ty == Type::Unknown {
                let first = children(k, parent)
                    .into_iter()
                    .filter_map(|m| k.menu(m).sym)
                    .map(|c| k.sym(c).ty)
                    .find(|&t| t != Type::Unknown);
                if let Some(t) = first {
                    k.symbols[s as usize].ty = t;
                }
            }
            let ty = k.sym(s).ty;
            for m in children(k, parent) {
                if let Some(c) = k.menu(m).sym {
                    if k.sym(c).ty == Type::Unknown {
                        k.symbols[c as usize].ty = ty;
                    }
                }
            }
            Some(Expr::Sym(s))
        } else {
            k.menu(parent).dep.clone()
        };
        for m in children(k, parent) {
            let own = k.menus[m as usize].dep.take();
            let basedep = and(parentdep.clone(), rewrite_m(own, k.modules));
            k.menus[m as usize].dep = basedep.clone();
            for p in props_of_node(k, m) {
                let visible = k.props[p as usize].visible.take();
                let dep = and(basedep.clone(), rewrite_m(visible, k.modules));
                k.props[p as usize].visible = dep.clone();
                let kind = k.prop(p).kind;
                if let (PropKind::Select | PropKind::Imply, Some(target), Some(me)) =
                    (kind, k.prop(p).symbol(), k.menu(m).sym)
                {
                    let term = and(Some(Expr::Sym(me)), dep);
                    let t = &mut k.symbols[target as usize];
                    if kind == PropKind::Select {
                        t.rev_dep = or(t.rev_dep.take(), term);
                    } else {
                        t.implied = or(t.implied.take(), term);
                    }
                }
            }
        }
        // Follow the links as they change: an entry can take the ones after it as its
        // submenu, and those are then finalized below it, not again here.
        let mut cursor = k.menu(parent).list;
        while let Some(m) = cursor {
            finalize(k, m);
            cursor = k.menu(m).next;
        }
    } else if let Some(s) = sym {
        // Automatic submenus: following entries that depend on this symbol go below it.
        let mut last = None;
        let mut next = k.menu(parent).next;
        while let Some(m) = next {
            let node = k.menu(m);
            let dep = match node.prompt {
                Some(p) => k.prop(p).visible.as_ref(),
                None => node.dep.as_ref(),
            };
            if !contains_symbol(dep, s) || !depends_symbol(dep, s) {
                break;
            }
            finalize(k, m);
            k.menus[m as usize].parent = Some(parent);
            last = Some(m);
            next = k.menu(m).next;
        }
        if let Some(last) = last {
            let first = k.menu(parent).next;
            let after = k.menu(last).next;
            k.menus[parent as usize].list = first;
            k.menus[parent as usize].next = after;
            k.menus[last as usize].next = None;
        }
        let dep = k.menu(parent).dep.clone();
        let s = &mut k.symbols[s as usize];
        s.dir_dep = or(s.dir_dep.take(), dep);
    }
    let mut cursor = k.menu(parent).list;
    while let Some(m) = cursor {
        if let (true, Some(choice), Some(value)) = (is_choice, sym, k.menu(m).sym) {
            if !k.sym(value).is_choice_value() {
                mark_choice_value(k, choice, value, m);
            }
        }
        let node = k.menu(m);
        if let (Some(first), None) = (node.list, node.prompt) {
            let mut last = first;
            loop {
                k.menus[last as usize].parent = Some(parent);
                match k.menu(last).next {
                    Some(n) => last = n,
                    None => break,
                }
            }
            k.menus[last as usize].next = k.menu(m).next;
            k.menus[m as usize].next = Some(first);
            k.menus[m as usize].list = None;
        }
        cursor = k.menu(m).next;
    }
    if let Some(s) = sym {
        if k.sym(s).flags & F_OPTIONAL == 0 {
            if let Some(p) = k.menu(parent).prompt {
                let visible = k.prop(p).visible.clone();
                let term = and(visible, Some(Expr::Sym(SYM_MOD)));
                let sym = &mut k.symbols[s as usize];
                sym.rev_dep = or(sym.rev_dep.take(), term);
            }
        }
    }
}

fn mark_choice_value(k: &mut Kconfig, choice: SymId, value: SymId, menu: MenuId) {
    k.symbols[value as usize].flags |= F_CHOICEVAL;
    if k.sym(choice).ty == Type::Tristate && k.sym(value).ty != Type::Tristate {
        let basedep = Expr::Cmp(super::expr::Cmp::Equal, choice, SYM_YES);
        let dep = k.menus[menu as usize].dep.take();
        k.menus[menu as usize].dep = and(Some(basedep.clone()), dep);
        for p in props_of_node(k, menu) {
            let v = k.props[p as usize].visible.take();
            k.props[p as usize].visible = and(Some(basedep.clone()), v);
        }
    }
    let id = k.props.len() as PropId;
    k.props.push(Property {
        kind: PropKind::Choice,
        expr: PropExpr::Expr(Expr::Sym(choice)),
        visible: None,
        text: String::new(),
        file: k.menu(menu).file,
        line: k.menu(menu).line,
        menu,
    });
    k.symbols[value as usize].props.push(id);
    k.symbols[value as usize].choice = Some(choice);
    k.symbols[choice as usize].members.push(value);
}
