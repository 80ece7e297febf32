//! The timeline as an SVG picture: a time axis in milliseconds since QEMU was spawned,
//! the phases shaded behind, one row per initcall above a threshold, the marks as
//! vertical lines. Plain SVG 1.1 with `<title>` tooltips: no script, no style sheet.

use std::fmt::Write;

use super::model::{load_text, ms, Span, Timeline};

/// Initcalls shorter than this get no row of their own (they still count in the phases).
pub const ROW_THRESHOLD_MS: f64 = 2.0;

/// Width of the label column, of the chart, and the height of a row, in pixels.
const LABEL_W: f64 = 300.0;
/// See [`LABEL_W`].
const CHART_W: f64 = 800.0;
/// See [`LABEL_W`].
const ROW_H: f64 = 16.0;
/// Above the first row: the title, the load line and the phases' names.
const HEAD_H: f64 = 90.0;
/// Below the last row: the axis.
const FOOT_H: f64 = 44.0;

/// The phases' fills, in order (they repeat past five).
const PHASE_FILLS: [&str; 5] = ["#d9d9d9", "#c6dbef", "#fdd0a2", "#c7e9c0", "#dadaeb"];

/// The picture of `timeline`.
pub fn render(timeline: &Timeline) -> String {
    let rows: Vec<&Span> = timeline
        .initcalls
        .iter()
        .filter(|c| c.duration_ms() >= ROW_THRESHOLD_MS)
        .collect();
    let total = timeline.total_ms().max(1.0);
    let chart_h = rows.len() as f64 * ROW_H;
    let height = HEAD_H + chart_h + FOOT_H;
    let width = LABEL_W + CHART_W + 60.0;
    let x = |t: f64| LABEL_W + t / total * CHART_W;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"##
    );
    let _ = writeln!(
        svg,
        r##"<rect class="background" x="0" y="0" width="{width}" height="{height}" fill="white"/>"##
    );
    header(&mut svg, timeline, total);
    phases(&mut svg, timeline, &x, chart_h);
    for (i, call) in rows.iter().enumerate() {
        row(&mut svg, call, HEAD_H + i as f64 * ROW_H, &x);
    }
    marks(&mut svg, timeline, &x, chart_h);
    axis(&mut svg, total, HEAD_H + chart_h, &x);
    svg += "</svg>\n";
    svg
}

/// The title and the boot's conditions.
fn header(svg: &mut String, t: &Timeline, total: f64) {
    let _ = writeln!(
        svg,
        r##"<text class="title" x="8" y="18" font-size="14" font-weight="bold">{} boot: QEMU start → prompt {}</text>"##,
        escape(&t.board),
        ms(total)
    );
    let _ = writeln!(
        svg,
        r##"<text class="conditions" x="8" y="34">{}, {}, load {}; initcalls of {} ms or more: one row each</text>"##,
        escape(&t.date),
        escape(&t.accel),
        load_text(t.load),
        ROW_THRESHOLD_MS
    );
    let _ = writeln!(
        svg,
        r##"<text class="cmdline" x="8" y="48" fill="#555">{}</text>"##,
        escape(&t.cmdline)
    );
}

/// Each phase as a shaded band behind the rows, and in the legend above them with its
/// length.
fn phases(svg: &mut String, t: &Timeline, x: &dyn Fn(f64) -> f64, chart_h: f64) {
    let (mut legend_x, mut legend_y) = (8.0, HEAD_H - 36.0);
    for (i, p) in t.phases.iter().enumerate() {
        let fill = PHASE_FILLS[i % PHASE_FILLS.len()];
        let (x0, x1) = (x(p.start_ms), x(p.end_ms));
        let _ = writeln!(
            svg,
            r##"<rect class="phase" x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}"><title>{}: {}</title></rect>"##,
            HEAD_H - 8.0,
            (x1 - x0).max(0.5),
            chart_h + 8.0,
            escape(&p.name),
            ms(p.duration_ms())
        );
        let label = format!("{} {}", p.name, ms(p.duration_ms()));
        let label_w = 13.0 + 6.0 * label.chars().count() as f64 + 12.0;
        if legend_x + label_w > LABEL_W + CHART_W {
            (legend_x, legend_y) = (8.0, legend_y + 14.0);
        }
        let _ = writeln!(
            svg,
            r##"<rect class="legend" x="{legend_x:.1}" y="{legend_y:.1}" width="10" height="10" fill="{fill}"/>"##,
        );
        let _ = writeln!(
            svg,
            r##"<text class="legend-label" x="{:.1}" y="{:.1}">{}</text>"##,
            legend_x + 13.0,
            legend_y + 9.0,
            escape(&label)
        );
        legend_x += label_w;
    }
}

/// One initcall: its name and length on the left, its bar on the axis.
fn row(svg: &mut String, call: &Span, y: f64, x: &dyn Fn(f64) -> f64) {
    let (x0, x1) = (x(call.start_ms), x(call.end_ms));
    let _ = writeln!(
        svg,
        r##"<text class="initcall-label" x="{:.1}" y="{:.1}" text-anchor="end">{} {}</text>"##,
        LABEL_W - 6.0,
        y + ROW_H - 4.0,
        escape(&call.name),
        ms(call.duration_ms())
    );
    let _ = writeln!(
        svg,
        r##"<rect class="initcall" x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#3182bd"><title>{}: {} from {}</title></rect>"##,
        y + 2.0,
        (x1 - x0).max(1.0),
        ROW_H - 4.0,
        escape(&call.name),
        ms(call.duration_ms()),
        ms(call.start_ms)
    );
}

/// The marks as dashed vertical lines, named at the top.
fn marks(svg: &mut String, t: &Timeline, x: &dyn Fn(f64) -> f64, chart_h: f64) {
    for (i, m) in t.marks.iter().enumerate() {
        let at = x(m.at_ms);
        let _ = writeln!(
            svg,
            r##"<line class="mark" x1="{at:.1}" y1="{:.1}" x2="{at:.1}" y2="{:.1}" stroke="#b30000" stroke-dasharray="4 3"><title>{} at {}</title></line>"##,
            HEAD_H - 8.0,
            HEAD_H + chart_h,
            escape(&m.name),
            ms(m.at_ms)
        );
        let _ = writeln!(
            svg,
            r##"<text class="mark-label" x="{:.1}" y="{:.1}" fill="#b30000" font-size="9">{}</text>"##,
            at + 2.0,
            HEAD_H + chart_h + 24.0 + (i % 2) as f64 * 10.0,
            escape(&m.name)
        );
    }
}

/// The time axis: a tick every round number of milliseconds.
fn axis(svg: &mut String, total: f64, y: f64, x: &dyn Fn(f64) -> f64) {
    let step = tick_step(total);
    let _ = writeln!(
        svg,
        r##"<line class="axis" x1="{LABEL_W}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="black"/>"##,
        LABEL_W + CHART_W
    );
    let mut t = 0.0;
    while t <= total + 1e-9 {
        let _ = writeln!(
            svg,
            r##"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle" font-size="9">{t:.0} ms</text>"##,
            x(t),
            y + 12.0
        );
        t += step;
    }
}

/// A round step giving about ten ticks over `total` milliseconds.
fn tick_step(total: f64) -> f64 {
    let raw = total / 10.0;
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|&s| s >= raw)
        .unwrap_or(power * 10.0)
}

/// Text for an SVG element.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::super::model::tests::sample;
    use super::*;
    use expect_test::expect;

    /// The picture's structure: each element's name, class and text, without the
    /// coordinates and sizes (its pixels are not the point).
    fn structure(svg: &str) -> String {
        let numbers =
            regex::Regex::new(r#"(x|y|x1|y1|x2|y2|width|height|viewBox)="[^"]*""#).unwrap();
        svg.lines()
            .map(|line| numbers.replace_all(line, "$1=…").into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_svg_has_a_row_per_initcall_above_the_threshold_phases_and_marks() {
        expect![[r##"
            <svg xmlns="http://www.w3.org/2000/svg" width=… height=… viewBox=… font-family=… font-size="11">
            <rect class="background" x=… y=… width=… height=… fill="white"/>
            <text class="title" x=… y=… font-size="14" font-weight="bold">versatilepb boot: QEMU start → prompt 400.0 ms</text>
            <text class="conditions" x=… y=…>2026-12-02T13:00:00Z, TCG, load 1.00 / 2.00 / 3.00; initcalls of 2 ms or more: one row each</text>
            <text class="cmdline" x=… y=… fill="#555">console=ttyAMA0 quiet initcall_debug</text>
            <rect class="phase" x=… y=… width=… height=… fill="#d9d9d9"><title>QEMU start → kernel clock 0: 100.0 ms</title></rect>
            <rect class="legend" x=… y=… width=… height=… fill="#d9d9d9"/>
            <text class="legend-label" x=… y=…>QEMU start → kernel clock 0 100.0 ms</text>
            <rect class="phase" x=… y=… width=… height=… fill="#c6dbef"><title>kernel, before the initcalls: 10.0 ms</title></rect>
            <rect class="legend" x=… y=… width=… height=… fill="#c6dbef"/>
            <text class="legend-label" x=… y=…>kernel, before the initcalls 10.0 ms</text>
            <rect class="phase" x=… y=… width=… height=… fill="#fdd0a2"><title>initcalls: 150.0 ms</title></rect>
            <rect class="legend" x=… y=… width=… height=… fill="#fdd0a2"/>
            <text class="legend-label" x=… y=…>initcalls 150.0 ms</text>
            <rect class="phase" x=… y=… width=… height=… fill="#c7e9c0"><title>kernel, after the initcalls → Run /init: 90.0 ms</title></rect>
            <rect class="legend" x=… y=… width=… height=… fill="#c7e9c0"/>
            <text class="legend-label" x=… y=…>kernel, after the initcalls → Run /init 90.0 ms</text>
            <rect class="phase" x=… y=… width=… height=… fill="#dadaeb"><title>Run /init → prompt: 50.0 ms</title></rect>
            <rect class="legend" x=… y=… width=… height=… fill="#dadaeb"/>
            <text class="legend-label" x=… y=…>Run /init → prompt 50.0 ms</text>
            <text class="initcall-label" x=… y=… text-anchor="end">early 2.0 ms</text>
            <rect class="initcall" x=… y=… width=… height=… fill="#3182bd"><title>early: 2.0 ms from 110.0 ms</title></rect>
            <text class="initcall-label" x=… y=… text-anchor="end">pl011_init 70.0 ms</text>
            <rect class="initcall" x=… y=… width=… height=… fill="#3182bd"><title>pl011_init: 70.0 ms from 150.0 ms</title></rect>
            <text class="initcall-label" x=… y=… text-anchor="end">inet_init 30.0 ms</text>
            <rect class="initcall" x=… y=… width=… height=… fill="#3182bd"><title>inet_init: 30.0 ms from 230.0 ms</title></rect>
            <text class="initcall-label" x=… y=… text-anchor="end">initramfs unpacking (populate_rootfs) 70.0 ms</text>
            <rect class="initcall" x=… y=… width=… height=… fill="#3182bd"><title>initramfs unpacking (populate_rootfs): 70.0 ms from 230.0 ms</title></rect>
            <line class="mark" x1=… y1=… x2=… y2=… stroke="#b30000" stroke-dasharray=…><title>kernel clock 0 at 100.0 ms</title></line>
            <text class="mark-label" x=… y=… fill="#b30000" font-size="9">kernel clock 0</text>
            <line class="mark" x1=… y1=… x2=… y2=… stroke="#b30000" stroke-dasharray=…><title>first console byte at 300.0 ms</title></line>
            <text class="mark-label" x=… y=… fill="#b30000" font-size="9">first console byte</text>
            <line class="mark" x1=… y1=… x2=… y2=… stroke="#b30000" stroke-dasharray=…><title>Run /init at 350.0 ms</title></line>
            <text class="mark-label" x=… y=… fill="#b30000" font-size="9">Run /init</text>
            <line class="mark" x1=… y1=… x2=… y2=… stroke="#b30000" stroke-dasharray=…><title>prompt at 400.0 ms</title></line>
            <text class="mark-label" x=… y=… fill="#b30000" font-size="9">prompt</text>
            <line class="axis" x1=… y1=… x2=… y2=… stroke="black"/>
            <text class="tick" x=… y=… text-anchor="middle" font-size="9">0 ms</text>
            <text class="tick" x=… y=… text-anchor="middle" font-size="9">50 ms</text>
            <text class="tick" x=… y=… text-anchor="middle" font-size="9">100 ms</text>
            <text class="tick" x=… y=… text-anchor="middle" font-size="9">150 ms</text>
            <text class="tick" x=… y=… text-anchor="middle" font-size="9">200 ms</text>
            <text class="tick" x=… y=… text-anchor="middle" font-size="9">250 ms</text>
            <text class="tick" x=… y=… text-anchor="middle" font-size="9">300 ms</text>
            <text class="tick" x=… y=… text-anchor="middle" font-size="9">350 ms</text>
            <text class="tick" x=… y=… text-anchor="middle" font-size="9">400 ms</text>
            </svg>"##]].assert_eq(&structure(&render(&sample())));
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(400.0), 50.0);
        assert_eq!(tick_step(1234.0), 200.0);
        assert_eq!(tick_step(95.0), 10.0);
    }
}
