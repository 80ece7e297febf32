//! Two timelines side by side: each phase's length in A and B and the difference, then
//! the initcalls that changed most (gone, new, faster, slower).

use std::collections::BTreeMap;

use super::model::{load_text, ms, Timeline};

/// Initcalls whose length changed by less than this are left out of the table.
pub const MIN_DELTA_MS: f64 = 1.0;

/// The side-by-side table of `a` and `b`, with at most `n` initcall rows.
pub fn compare(a: &Timeline, b: &Timeline, n: usize) -> String {
    let mut out = format!(
        "A: {} {} {} (load {})\nB: {} {} {} (load {})\n\n{:<44} {:>10} {:>10} {:>10}\n",
        a.board,
        a.date,
        a.accel,
        load_text(a.load),
        b.board,
        b.date,
        b.accel,
        load_text(b.load),
        "phase",
        "A",
        "B",
        "Δ B-A"
    );
    let phase_names = union(
        a.phases.iter().map(|p| p.name.as_str()),
        b.phases.iter().map(|p| p.name.as_str()),
    );
    let length = |t: &Timeline, name: &str| {
        t.phases
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.duration_ms())
    };
    for name in phase_names {
        out += &line(&name, length(a, &name), length(b, &name));
    }
    out += &line(
        "QEMU start → prompt",
        Some(a.total_ms()),
        Some(b.total_ms()),
    );
    if let (Some(x), Some(y)) = (a.tcg_blocks, b.tcg_blocks) {
        let d = y as i64 - x as i64;
        let pct = 100.0 * d as f64 / (x.max(1)) as f64;
        out += &format!(
            "{:<44} {:>10} {:>10} {:>10}  ({pct:+.1}%, the load does not change it)\n",
            "TCG blocks translated by the prompt",
            x,
            y,
            format!("{d:+}")
        );
    }
    let (rows, rest) = initcall_rows(a, b, n);
    out += &format!(
        "\ninitcalls whose length changed by {} or more, largest change first\n{:<44} {:>10} {:>10} {:>10}\n",
        ms(MIN_DELTA_MS),
        "initcall",
        "A",
        "B",
        "Δ B-A"
    );
    for (name, in_a, in_b) in &rows {
        out += &line(name, *in_a, *in_b);
    }
    if rest > 0 {
        out += &format!("  ... and {rest} more\n");
    }
    let sum = |t: &Timeline| t.initcalls.iter().map(|c| c.duration_ms()).sum::<f64>();
    out += &line("all initcalls, summed", Some(sum(a)), Some(sum(b)));
    out
}

/// An initcall's name and its length in A and in B, if it ran there.
type Pair = (String, Option<f64>, Option<f64>);

/// The initcalls by largest change (an initcall in one only counts as its whole
/// length), those changed by at least [`MIN_DELTA_MS`], at most `n`; and how many more.
fn initcall_rows(a: &Timeline, b: &Timeline, n: usize) -> (Vec<Pair>, usize) {
    let (in_a, in_b) = (lengths(a), lengths(b));
    let mut rows: Vec<Pair> = union(in_a.keys().copied(), in_b.keys().copied())
        .into_iter()
        .map(|name| {
            let (x, y) = (
                in_a.get(name.as_str()).copied(),
                in_b.get(name.as_str()).copied(),
            );
            (name, x, y)
        })
        .filter(|(_, x, y)| delta(*x, *y).abs() >= MIN_DELTA_MS)
        .collect();
    rows.sort_by(|p, q| delta(q.1, q.2).abs().total_cmp(&delta(p.1, p.2).abs()));
    let rest = rows.len().saturating_sub(n);
    rows.truncate(n);
    (rows, rest)
}

/// Each initcall's length (summed, should a name run twice).
fn lengths(t: &Timeline) -> BTreeMap<&str, f64> {
    let mut by_name: BTreeMap<&str, f64> = BTreeMap::new();
    for c in &t.initcalls {
        *by_name.entry(c.name.as_str()).or_default() += c.duration_ms();
    }
    by_name
}

/// B - A, an absent side counting as zero.
fn delta(a: Option<f64>, b: Option<f64>) -> f64 {
    b.unwrap_or(0.0) - a.unwrap_or(0.0)
}

/// One row: the name, A, B (`-` when absent) and the difference.
fn line(name: &str, a: Option<f64>, b: Option<f64>) -> String {
    let side = |v: Option<f64>| v.map_or("-".to_string(), ms);
    let d = delta(a, b);
    let note = match (a, b) {
        (Some(_), None) => "  (gone)",
        (None, Some(_)) => "  (new)",
        _ => "",
    };
    format!(
        "{:<44} {:>10} {:>10} {:>10}{note}\n",
        name,
        side(a),
        side(b),
        format!("{}{:.1} ms", if d >= 0.0 { "+" } else { "" }, d)
    )
}

/// The names of `a` in order, then those only in `b`.
fn union<'a>(a: impl Iterator<Item = &'a str>, b: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in a.chain(b) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::super::model::tests::sample;
    use super::super::model::Span;
    use super::*;
    use expect_test::expect;

    #[test]
    fn phases_and_the_initcalls_that_changed() {
        let a = sample();
        let mut b = sample();
        b.date = "2026-12-02T14:00:00Z".into();
        // pl011_init gone, inet_init 10 ms slower, a new initcall, the prompt later.
        b.initcalls.retain(|c| c.name != "pl011_init");
        for c in b.initcalls.iter_mut().filter(|c| c.name == "inet_init") {
            c.end_ms += 10.0;
        }
        b.initcalls.push(Span {
            name: "pl031_driver_init".into(),
            start_ms: 300.0,
            end_ms: 305.5,
        });
        b.phases[4].end_ms = 420.0;
        b.tcg_blocks = Some(30_100);
        expect![[r#"
            A: versatilepb 2026-12-02T13:00:00Z TCG (load 1.00 / 2.00 / 3.00)
            B: versatilepb 2026-12-02T14:00:00Z TCG (load 1.00 / 2.00 / 3.00)

            phase                                                 A          B      Δ B-A
            QEMU start → kernel clock 0                    100.0 ms   100.0 ms    +0.0 ms
            kernel, before the initcalls                    10.0 ms    10.0 ms    +0.0 ms
            initcalls                                      150.0 ms   150.0 ms    +0.0 ms
            kernel, after the initcalls → Run /init         90.0 ms    90.0 ms    +0.0 ms
            Run /init → prompt                              50.0 ms    70.0 ms   +20.0 ms
            QEMU start → prompt                            400.0 ms   420.0 ms   +20.0 ms
            TCG blocks translated by the prompt               31188      30100      -1088  (-3.5%, the load does not change it)

            initcalls whose length changed by 1.0 ms or more, largest change first
            initcall                                              A          B      Δ B-A
            pl011_init                                      70.0 ms          -   -70.0 ms  (gone)
            inet_init                                       30.0 ms    40.0 ms   +10.0 ms
              ... and 1 more
            all initcalls, summed                          172.0 ms   117.5 ms   -54.5 ms
        "#]]
        .assert_eq(&compare(&a, &b, 2));
    }
}
