//! Initcall names from the kernel's `System.map`, for kernels without `CONFIG_KALLSYMS`
//! (tinyconfig): there `initcall_debug` logs each function as an address (`0xffffffff818c388a`).

/// A kernel's text symbols, sorted by address.
#[derive(Debug, Default)]
pub struct SymbolMap {
    symbols: Vec<(u64, String)>,
}

impl SymbolMap {
    /// Reads `System.map` text (`ffffffff818c388a T name` per line); other lines are skipped.
    pub fn parse(text: &str) -> SymbolMap {
        let mut symbols: Vec<(u64, String)> = text
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                let address = u64::from_str_radix(words.next()?, 16).ok()?;
                let kind = words.next()?;
                let name = words.next()?;
                matches!(kind, "t" | "T" | "w" | "W").then(|| (address, name.to_string()))
            })
            .collect();
        symbols.sort();
        SymbolMap { symbols }
    }

    /// The name for `name` when it is an address (`0x...`): the symbol that starts
    /// there, else the one it falls in with `+0x<offset>`; any other name as it is,
    /// and an address below every symbol as it is.
    pub fn resolve(&self, name: &str) -> String {
        let Some(address) = name
            .strip_prefix("0x")
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        else {
            return name.to_string();
        };
        let at = self.symbols.partition_point(|(a, _)| *a <= address);
        match at.checked_sub(1).map(|i| &self.symbols[i]) {
            Some((start, symbol)) if *start == address => symbol.clone(),
            Some((start, symbol)) => format!("{symbol}+{:#x}", address - start),
            None => name.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = "\
ffffffff81000000 T _text
ffffffff818c3880 t early_fn
ffffffff818c388a t pci_arch_init
ffffffff818c75bc T init_hw_perf_events
ffffffff818c8000 D some_data
ffffffff818c9000 W weak_init
";

    fn check(name: &str, expect: &str) {
        assert_eq!(SymbolMap::parse(MAP).resolve(name), expect, "for {name}");
    }

    #[test]
    fn addresses_become_the_symbols_they_name() {
        check("0xffffffff818c388a", "pci_arch_init");
        check("0xffffffff818c75bc", "init_hw_perf_events");
        check("0xffffffff818c9000", "weak_init");
        // Inside a function: its name and the offset.
        check("0xffffffff818c3890", "pci_arch_init+0x6");
        // Data symbols are not functions: the text symbol before it.
        check("0xffffffff818c8000", "init_hw_perf_events+0xa44");
        // Below every symbol, or not an address: unchanged.
        check("0xffffffff00000000", "0xffffffff00000000");
        check("pl011_init", "pl011_init");
        check("0xnothex", "0xnothex");
    }

    #[test]
    fn an_empty_map_leaves_names_alone() {
        assert_eq!(
            SymbolMap::parse("").resolve("0xffffffff818c388a"),
            "0xffffffff818c388a"
        );
    }
}
