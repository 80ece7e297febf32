//! `blame`: every line of the written `.config` with what set it.

use std::collections::HashMap;
use std::fmt;

use super::dotconfig::Evaluation;
use super::eval::{Reason, State, Val, NO};
use super::model::*;
use crate::merge::Fragment;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An input file set it: the defconfig or fragment and line (or the input's line when
    /// no files were named).
    Input {
        /// `file:line`, or `line N` of the input.
        at: String,
    },
    /// A `default` of the symbol.
    Default {
        /// Where the `default` line is.
        at: Location,
    },
    /// Another symbol's `select`.
    Select {
        /// The selecting symbol, with its prefix.
        by: String,
        /// Where the `select` line is.
        at: Location,
    },
    /// Another symbol's `imply`.
    Imply {
        /// The implying symbol, with its prefix.
        by: String,
        /// Where the `imply` line is.
        at: Location,
    },
    /// A member of a choice: the choice's selection decided it.
    Choice {
        /// The member the choice selected (with prefix), if any.
        selected: Option<String>,
        /// How the choice selected it: `input file:line`, `default at file:line`, or `first visible member`.
        how: String,
        /// Where the choice is.
        at: Location,
    },
    /// A `range` moved the value into its bounds.
    Range {
        /// Where the `range` line is.
        at: Location,
    },
    /// Nothing set it: the type's empty value (`n`, `""`), or dependencies not met.
    Unset {
        /// Where the symbol is defined.
        at: Location,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Input { at } => write!(f, "set in {at}"),
            Origin::Default { at } => write!(f, "default at {at}"),
            Origin::Select { by, at } => write!(f, "selected by {by} at {at}"),
            Origin::Imply { by, at } => write!(f, "implied by {by} at {at}"),
            Origin::Choice { selected, how, at } => match selected {
                Some(s) => write!(f, "choice at {at} selected {s} ({how})"),
                None => write!(f, "choice at {at} selected nothing"),
            },
            Origin::Range { at } => write!(f, "range at {at}"),
            Origin::Unset { at } => write!(f, "no default applies (defined at {at})"),
        }
    }
}

/// One line of the written `.config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlameLine {
    /// The line as written.
    pub text: String,
    /// For a symbol's line, where its value came from.
    pub origin: Option<Origin>,
}

/// The written `.config`, line by line with origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blame {
    /// Every line, header and menu comments included.
    pub lines: Vec<BlameLine>,
}

impl fmt::Display for Blame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .lines
            .iter()
            .filter(|l| l.origin.is_some())
            .map(|l| l.text.len())
            .max()
            .unwrap_or(0)
            .min(48);
        for line in &self.lines {
            match &line.origin {
                Some(origin) => writeln!(f, "{:width$}  # {origin}", line.text)?,
                None => writeln!(f, "{}", line.text)?,
            }
        }
        Ok(())
    }
}

/// The 1-based line of each symbol's last assignment in `config`.
fn last_lines(config: &crate::Config) -> HashMap<&str, usize> {
    let mut out = HashMap::new();
    for (i, line) in config.lines().iter().enumerate() {
        if let Some(s) = line.symbol() {
            out.insert(s, i + 1);
        }
    }
    out
}

pub(crate) struct Sources<'a> {
    files: Vec<(&'a str, HashMap<&'a str, usize>)>,
}

impl<'a> Sources<'a> {
    pub(crate) fn new(sources: &'a [Fragment<'a>]) -> Sources<'a> {
        Sources {
            files: sources
                .iter()
                .map(|s| (s.name, last_lines(s.config)))
                .collect(),
        }
    }

    /// Where the user value of `name` was set: the last source that assigns it.
    pub(crate) fn place(&self, name: &str, input_line: Option<u32>) -> String {
        if let Some(at) = self.find(name) {
            return at;
        }
        match input_line {
            Some(l) => format!("line {l} of the input"),
            None => "the input".to_string(),
        }
    }
}

impl Sources<'_> {
    /// `file:line` of the last source that assigns `name`, if one does.
    pub(crate) fn find(&self, name: &str) -> Option<String> {
        self.files
            .iter()
            .rev()
            .find_map(|(file, lines)| lines.get(name).map(|line| format!("{file}:{line}")))
    }
}

/// The `select`/`imply` lines aimed at each symbol.
pub(crate) fn reverse_props(k: &Kconfig, kind: PropKind) -> HashMap<SymId, Vec<PropId>> {
    let mut out: HashMap<SymId, Vec<PropId>> = HashMap::new();
    for (i, p) in k.props.iter().enumerate() {
        if p.kind == kind {
            if let Some(t) = p.symbol() {
                out.entry(t).or_default().push(i as PropId);
            }
        }
    }
    out
}

/// The first `select` (or `imply`) of `sym` that gives it `tri` now.
pub(crate) fn active_selector(
    st: &mut State,
    props: &HashMap<SymId, Vec<PropId>>,
    sym: SymId,
    tri: u8,
) -> Option<(SymId, PropId)> {
    let k = st.k;
    for &p in props.get(&sym).map_or(&[][..], Vec::as_slice) {
        let prop = k.prop(p);
        let Some(by) = k.menu(prop.menu).sym else {
            continue;
        };
        st.calc(by);
        let v = st.curr_tri[by as usize].min(st.eval(prop.visible.as_ref()));
        if v >= tri && v != NO {
            return Some((by, p));
        }
    }
    None
}

impl Evaluation<'_> {
    /// What set `sym`'s current value.
    pub(crate) fn origin(
        &mut self,
        sym: SymId,
        sources: &Sources,
        selects: &HashMap<SymId, Vec<PropId>>,
        implies: &HashMap<SymId, Vec<PropId>>,
    ) -> Origin {
        let k = self.state.k;
        self.state.calc(sym);
        let name = k.sym(sym).display_name().to_string();
        let defined = k.definitions(sym).into_iter().next().unwrap_or(Location {
            file: Default::default(),
            line: 0,
        });
        let prefixed = |s: SymId| format!("{}{}", k.prefix, k.sym(s).display_name());
        match self.state.reason[sym as usize] {
            Reason::User => Origin::Input {
                at: sources.place(&name, self.user_line[sym as usize]),
            },
            Reason::Default(p) => Origin::Default {
                at: k.prop_location(p),
            },
            Reason::Range(p) => Origin::Range {
                at: k.prop_location(p),
            },
            Reason::Selected | Reason::Implied => {
                let tri = self.state.curr_tri[sym as usize];
                let selected = self.state.reason[sym as usize] == Reason::Selected;
                let table = if selected { selects } else { implies };
                match active_selector(&mut self.state, table, sym, tri) {
                    Some((by, p)) if selected => Origin::Select {
                        by: prefixed(by),
                        at: k.prop_location(p),
                    },
                    Some((by, p)) => Origin::Imply {
                        by: prefixed(by),
                        at: k.prop_location(p),
                    },
                    None => Origin::Unset { at: defined },
                }
            }
            Reason::ChoiceMember => {
                let c = k.sym(sym).choice.unwrap_or(SYM_NO);
                let at = k
                    .sym(c)
                    .props
                    .first()
                    .map(|&p| k.prop_location(p))
                    .unwrap_or(defined);
                let selected = match self.state.curr_val[c as usize] {
                    Val::Member(m) => m,
                    Val::Str(_) => None,
                };
                let how = match self.state.reason[c as usize] {
                    Reason::ChoiceUser => {
                        let m = selected.unwrap_or(sym);
                        format!(
                            "set in {}",
                            sources.place(k.sym(m).display_name(), self.user_line[m as usize])
                        )
                    }
                    Reason::ChoiceDefault(Some(p)) => {
                        format!("its default at {}", k.prop_location(p))
                    }
                    _ => "its first visible member".to_string(),
                };
                Origin::Choice {
                    selected: selected.map(prefixed),
                    how,
                    at,
                }
            }
            _ => Origin::Unset { at: defined },
        }
    }

    /// The `.config` this evaluation writes, each symbol's line with its [`Origin`];
    /// user values are traced to the last of `sources` (the defconfig, then the fragments,
    /// in merge order) that assigns them.
    pub fn blame(&mut self, sources: &[Fragment<'_>]) -> Blame {
        self.blame_over(sources, None)
    }

    /// [`Evaluation::blame`] of an `olddefconfig` whose input is a `.config` that `base`
    /// (the defconfig expansion, [`Evaluation::defconfig_expanded`]) wrote, with fragments
    /// merged onto it: a user value that no file of `sources` assigns has the origin it
    /// had in `base` (the default, select or choice that filled it in then).
    pub fn blame_over(
        &mut self,
        sources: &[Fragment<'_>],
        base: Option<&mut Evaluation<'_>>,
    ) -> Blame {
        let mut base = base;
        let k = self.state.k;
        let text = self.write();
        let sources = Sources::new(sources);
        let selects = reverse_props(k, PropKind::Select);
        let implies = reverse_props(k, PropKind::Imply);
        let prefix = k.prefix.clone();
        let mut lines = Vec::new();
        for line in text.lines() {
            let name = line
                .strip_prefix(prefix.as_str())
                .and_then(|l| l.split_once('=').map(|(n, _)| n))
                .or_else(|| {
                    line.strip_prefix("# ")
                        .and_then(|l| l.strip_prefix(prefix.as_str()))
                        .and_then(|l| l.strip_suffix(" is not set"))
                });
            let origin = name.and_then(|n| k.find(n)).map(|s| {
                let origin = self.origin(s, &sources, &selects, &implies);
                // A user value (or a choice's user selection) that no source assigns
                // was filled in by the base's expansion.
                let user = match &origin {
                    Origin::Input { .. } => Some(k.sym(s).display_name()),
                    Origin::Choice {
                        selected: Some(m),
                        how,
                        ..
                    } if how.starts_with("set in ") => m.strip_prefix(prefix.as_str()),
                    _ => None,
                };
                let from_base = user.is_some_and(|name| sources.find(name).is_none());
                match base.as_deref_mut() {
                    Some(base) if from_base => base.origin(s, &sources, &selects, &implies),
                    _ => origin,
                }
            });
            lines.push(BlameLine {
                text: line.to_string(),
                origin,
            });
        }
        Blame { lines }
    }
}
