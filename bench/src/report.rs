//! Benchmark JSON to what people read: the full markdown table of a run, the short table the
//! README shows, and an SVG plot of PSNR against bits per pixel.
//!
//! gonpack's operating points come from several configurations (latent size, refinement
//! steps) at several bit depths; tables and plots show the upper convex hull of all of them
//! (the best rate–distortion trade-off any configuration reaches), once for the latents and
//! index alone and once with the decoder's bytes included. Every other codec is one line per
//! layout through its quality settings.
use std::fmt::Write as _;

use crate::{Layout, Record, Run, Task};

/// Formats an optional number with `p` decimals, `-` when absent.
fn num(v: Option<f64>, p: usize) -> String {
    v.filter(|v| v.is_finite())
        .map_or("-".into(), |v| format!("{v:.p$}"))
}

fn psnr_cell(r: &Record) -> String {
    match r.psnr {
        None => "lossless".into(),
        p => num(p, 2),
    }
}

/// The PSNR cell of the full table: with alpha, also alpha and opaque-colour PSNR.
fn full_psnr_cell(r: &Record) -> String {
    match r.alpha {
        Some(a) => format!(
            "{} (alpha {}, opaque colour {})",
            psnr_cell(r),
            num(Some(a.alpha), 2),
            num(Some(a.colour_opaque), 2)
        ),
        None => psnr_cell(r),
    }
}

/// One line saying what a run measured, where and when (and, for images with alpha, what its
/// PSNR means).
pub fn caption(run: &Run) -> String {
    let alpha = if run.records.iter().any(|r| r.alpha.is_some()) {
        " Images with alpha: PSNR of the colour composited on white; the full table adds the PSNR of alpha and of the colour of fully opaque pixels; WebP codes alpha lossy at its quality setting (`cwebp -q Q -alpha_q Q`)."
    } else {
        ""
    };
    format!(
        "Trained on `{}`, measured on the {} images of {} ({:.1} Mpx); commit `{}`, {}, {:.0} min.{alpha}",
        run.train,
        run.images,
        run.test,
        run.pixels as f64 / 1e6,
        run.commit,
        run.date.get(..10).unwrap_or(&run.date),
        run.seconds / 60.0
    )
}

/// Every record of the run, in the order measured.
pub fn full_table(run: &Run) -> String {
    let mut s = caption(run) + "\n\n";
    s += "| task | codec | layout | configuration | setting | bytes | bpp | bpp incl. decoder | mean PSNR (dB) | encode (s) | decode (s) | training (s) |\n";
    s += "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for r in &run.records {
        let task = match r.task {
            Task::Compression => "compression",
            Task::SuperResolution => "super-resolution",
        };
        let _ = writeln!(
            s,
            "| {task} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.codec,
            r.layout.label(),
            r.config,
            r.setting,
            r.bytes.map_or("-".into(), |b| b.to_string()),
            num(r.bpp, 3),
            num(r.bpp_with_decoder, 3),
            full_psnr_cell(r),
            num(r.encode_s, 2),
            num(r.decode_s, 2),
            num(r.train_s, 0),
        );
    }
    s
}

/// Indices of the points on the upper convex hull of `(bpp, psnr)` points that gain PSNR with
/// rate: the best trade-offs, from the lowest rate up to the highest PSNR.
pub fn upper_hull(points: &[(f64, f64)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        points[a]
            .0
            .total_cmp(&points[b].0)
            .then(points[b].1.total_cmp(&points[a].1))
    });
    let mut hull: Vec<usize> = Vec::new();
    for i in order {
        let p = points[i];
        if hull.last().is_some_and(|&l| points[l].0 == p.0) {
            continue; // same rate, lower PSNR
        }
        while hull.len() >= 2 {
            let (a, b) = (points[hull[hull.len() - 2]], points[hull[hull.len() - 1]]);
            let cross = (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0);
            if cross >= 0.0 {
                hull.pop(); // b lies on or below the segment a–p
            } else {
                break;
            }
        }
        hull.push(i);
    }
    // Keep the rising part: past the highest PSNR, more rate buys nothing.
    let best = hull
        .iter()
        .enumerate()
        .max_by(|a, b| points[*a.1].1.total_cmp(&points[*b.1].1))
        .map_or(0, |(k, _)| k);
    hull.truncate(best + 1);
    hull
}

/// gonpack's compression records on the hull of (rate, PSNR), by the rate of the images alone
/// (`with_decoder` false) or including the decoder.
pub fn gonpack_hull(run: &Run, with_decoder: bool) -> Vec<&Record> {
    let recs: Vec<&Record> = run
        .records
        .iter()
        .filter(|r| r.task == Task::Compression && r.codec == "gonpack" && r.psnr.is_some())
        .collect();
    let rate = |r: &Record| {
        if with_decoder {
            r.bpp_with_decoder
        } else {
            r.bpp
        }
    };
    let recs: Vec<&Record> = recs.into_iter().filter(|r| rate(r).is_some()).collect();
    let points: Vec<(f64, f64)> = recs
        .iter()
        .map(|r| (rate(r).unwrap_or(0.0), r.psnr.unwrap_or(0.0)))
        .collect();
    upper_hull(&points).into_iter().map(|i| recs[i]).collect()
}

/// The lossy series of the other codecs, in order of first appearance: (name, records by rate).
pub fn baseline_series(run: &Run) -> Vec<(String, Vec<&Record>)> {
    let mut series: Vec<(String, Vec<&Record>)> = Vec::new();
    for r in run.records.iter().filter(|r| {
        r.task == Task::Compression && r.codec != "gonpack" && r.psnr.is_some() && r.bpp.is_some()
    }) {
        let name = r.series();
        match series.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push(r),
            None => series.push((name, vec![r])),
        }
    }
    for (_, v) in &mut series {
        v.sort_by(|a, b| a.bpp.unwrap_or(0.0).total_cmp(&b.bpp.unwrap_or(0.0)));
    }
    series
}

/// The README's table of a run: gonpack's hull points, each other lossy codec's points near
/// gonpack's range of rates (within a factor 1.5 either way, and the nearest one outside on
/// each side), the lossless codecs, and the super-resolution rows.
pub fn summary_table(run: &Run) -> String {
    let mut s = String::from(
        "| codec | setting | bpp | bpp incl. decoder | mean PSNR (dB) |\n|---|---|---|---|---|\n",
    );
    let hull = gonpack_hull(run, false);
    for r in &hull {
        let _ = writeln!(
            s,
            "| gonpack, {} | {} | {} | {} | {} |",
            r.config,
            r.setting,
            num(r.bpp, 3),
            num(r.bpp_with_decoder, 3),
            psnr_cell(r)
        );
    }
    let (lo, hi) = match (hull.first(), hull.last()) {
        (Some(a), Some(b)) => (a.bpp.unwrap_or(0.0) / 1.5, b.bpp.unwrap_or(0.0) * 1.5),
        _ => (0.0, 2.0),
    };
    for (name, recs) in baseline_series(run) {
        let bpp = |r: &&Record| r.bpp.unwrap_or(0.0);
        let below = recs.iter().rposition(|r| bpp(r) < lo);
        let above = recs.iter().position(|r| bpp(r) > hi);
        let from = below.unwrap_or(0);
        let to = above.map_or(recs.len(), |k| k + 1);
        let shown = &recs[from..to];
        let join = |f: &dyn Fn(&Record) -> String| {
            shown.iter().map(|r| f(r)).collect::<Vec<_>>().join(" / ")
        };
        let settings = join(&|r| r.setting.replace("quality ", "").replace(", speed 6", ""));
        let _ = writeln!(
            s,
            "| {name} | quality {settings} | {} | - | {} |",
            join(&|r| num(r.bpp, 3)),
            join(&|r| num(r.psnr, 2))
        );
    }
    for r in run
        .records
        .iter()
        .filter(|r| r.task == Task::Compression && r.psnr.is_none())
    {
        let _ = writeln!(
            s,
            "| {} | {} | {} | - | lossless |",
            r.series(),
            r.setting,
            num(r.bpp, 3)
        );
    }
    for r in run
        .records
        .iter()
        .filter(|r| r.task == Task::SuperResolution)
    {
        let _ = writeln!(
            s,
            "| super-resolution 2x: {}{} | {} | {} | {} | {} |",
            r.codec,
            if r.config.is_empty() {
                String::new()
            } else {
                format!(", {}", r.config)
            },
            r.setting,
            num(r.bpp, 3),
            num(r.bpp_with_decoder, 3),
            psnr_cell(r)
        );
    }
    s
}

/// A rounded step for about `n` ticks over `span`.
fn tick_step(span: f64, n: f64) -> f64 {
    let raw = span / n;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * mag)
}

/// One line of the plot.
struct Line {
    name: String,
    colour: &'static str,
    dash: &'static str,
    width: f64,
    points: Vec<(f64, f64)>,
}

/// The colour of a codec's lines.
fn colour(codec: &str) -> &'static str {
    match codec {
        "gonpack" => "#d62728",
        "JPEG" => "#8c564b",
        "WebP" => "#1f77b4",
        "AVIF" => "#2ca02c",
        _ => "#7f7f7f",
    }
}

/// PSNR against bits per pixel for the run's lossy compression records; `None` when it has
/// none. The x axis spans gonpack's points (both rates) with some room, or 0–2 bpp.
pub fn svg(run: &Run, title: &str) -> Option<String> {
    let mut lines = Vec::new();
    for (with_decoder, name, dash) in [
        (false, "gonpack, latents and index", ""),
        (true, "gonpack, decoder included", "7,4"),
    ] {
        let rate = |r: &Record| {
            if with_decoder {
                r.bpp_with_decoder
            } else {
                r.bpp
            }
        };
        let points: Vec<(f64, f64)> = gonpack_hull(run, with_decoder)
            .iter()
            .filter_map(|r| Some((rate(r)?, r.psnr?)))
            .collect();
        if !points.is_empty() {
            lines.push(Line {
                name: name.to_string(),
                colour: colour("gonpack"),
                dash,
                width: 2.5,
                points,
            });
        }
    }
    for (name, recs) in baseline_series(run) {
        let layout = recs[0].layout;
        lines.push(Line {
            name,
            colour: colour(&recs[0].codec),
            dash: if layout == Layout::Mosaic { "" } else { "2,3" },
            width: 1.5,
            points: recs
                .iter()
                .filter_map(|r| Some((r.bpp?, r.psnr?)))
                .collect(),
        });
    }
    if lines.is_empty() {
        return None;
    }
    let ours: Vec<f64> = lines
        .iter()
        .filter(|l| l.colour == colour("gonpack"))
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .collect();
    let x_max = if ours.is_empty() {
        2.0
    } else {
        let m = ours.iter().copied().fold(0.0, f64::max) * 1.25;
        let step = tick_step(m, 5.0);
        (m / step).ceil() * step
    };
    lines.retain(|l| l.points.iter().any(|p| p.0 <= x_max));
    let visible = lines
        .iter()
        .flat_map(|l| l.points.iter())
        .filter(|p| p.0 <= x_max)
        .map(|p| p.1);
    let (lo, hi) = visible.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
        (a.min(y), b.max(y))
    });
    let y_step = tick_step((hi - lo).max(1.0), 6.0);
    let (y_lo, y_hi) = (
        (lo / y_step).floor() * y_step,
        (hi / y_step).ceil() * y_step,
    );
    let title_lines = wrap(title, 90);
    let (pw, ph, left, legend) = (560.0, 360.0, 60.0, 300.0);
    let top = 24.0 + 18.0 * title_lines.len() as f64;
    let px = |b: f64| left + b / x_max * pw;
    let py = |p: f64| top + ph - (p - y_lo) / (y_hi - y_lo) * ph;
    let mut s = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' font-family='sans-serif' font-size='13'>\n<rect width='100%' height='100%' fill='white'/>\n<defs><clipPath id='plot'><rect x='{left}' y='{top}' width='{pw}' height='{ph}'/></clipPath></defs>\n\n",
        left + pw + legend,
        top + ph + 60.0,
    );
    for (k, line) in title_lines.iter().enumerate() {
        let _ = writeln!(
            s,
            "<text x='10' y='{}' font-size='14' font-weight='bold'>{}</text>",
            20.0 + 18.0 * k as f64,
            xml(line)
        );
    }
    let x_step = tick_step(x_max, 5.0);
    let mut x = 0.0;
    while x <= x_max + 1e-9 {
        let _ = writeln!(s, "<line x1='{0:.1}' y1='{top}' x2='{0:.1}' y2='{1}' stroke='#e4e4e4'/><text x='{0:.1}' y='{2}' text-anchor='middle'>{3}</text>", px(x), top + ph, top + ph + 18.0, trim(x));
        x += x_step;
    }
    let mut y = y_lo;
    while y <= y_hi + 1e-9 {
        let _ = writeln!(s, "<line x1='{left}' y1='{0:.1}' x2='{1}' y2='{0:.1}' stroke='#e4e4e4'/><text x='{2}' y='{3:.1}' text-anchor='end'>{4}</text>", py(y), left + pw, left - 6.0, py(y) + 4.0, trim(y));
        y += y_step;
    }
    let _ = writeln!(
        s,
        "<rect x='{left}' y='{top}' width='{pw}' height='{ph}' fill='none' stroke='#888'/>"
    );
    let _ = writeln!(s, "<text x='{}' y='{}' text-anchor='middle'>bits per pixel</text><text x='16' y='{2}' transform='rotate(-90 16 {2})' text-anchor='middle'>mean PSNR (dB)</text>", left + pw / 2.0, top + ph + 42.0, top + ph / 2.0);
    for (k, l) in lines.iter().enumerate() {
        let pts: Vec<String> = l
            .points
            .iter()
            .map(|&(b, p)| format!("{:.1},{:.1}", px(b), py(p)))
            .collect();
        let _ = writeln!(
            s,
            "<g clip-path='url(#plot)'><polyline fill='none' stroke='{}' stroke-width='{}' stroke-dasharray='{}' points='{}'/>",
            l.colour, l.width, l.dash, pts.join(" ")
        );
        for &(b, p) in &l.points {
            let _ = writeln!(
                s,
                "<circle cx='{:.1}' cy='{:.1}' r='{}' fill='{}'/>",
                px(b),
                py(p),
                l.width + 0.5,
                l.colour
            );
        }
        s += "</g>\n";
        let ly = top + 10.0 + 22.0 * k as f64;
        let lx = left + pw + 16.0;
        let _ = writeln!(
            s,
            "<line x1='{lx}' y1='{ly}' x2='{}' y2='{ly}' stroke='{}' stroke-width='{}' stroke-dasharray='{}'/><text x='{}' y='{}'>{}</text>",
            lx + 30.0,
            l.colour,
            l.width,
            l.dash,
            lx + 38.0,
            ly + 4.0,
            xml(&l.name)
        );
    }
    let note_y = top + 10.0 + 22.0 * lines.len() as f64 + 8.0;
    for (k, text) in [
        "gonpack: upper hull of all its",
        "configurations' points; dotted:",
        "per image, solid: one mosaic",
    ]
    .iter()
    .enumerate()
    {
        let _ = writeln!(
            s,
            "<text x='{}' y='{}' fill='#555' font-size='12'>{}</text>",
            left + pw + 16.0,
            note_y + 16.0 * k as f64,
            xml(text)
        );
    }
    Some(s + "</svg>\n")
}

/// `text` broken at spaces into lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// A tick label without trailing zeros.
fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `text` escaped for SVG.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hull_keeps_the_best_trade_offs_and_stops_at_the_best_psnr() {
        // (rate, PSNR): 1 lies below the segment 0–2, 4 costs more than 3 for less.
        let p = [
            (0.2, 20.0),
            (0.4, 20.5),
            (0.5, 24.0),
            (0.9, 26.0),
            (1.2, 25.0),
            (0.5, 22.0),
        ];
        assert_eq!(upper_hull(&p), [0, 2, 3]);
        assert!(upper_hull(&[]).is_empty());
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(1.0, 5.0), 0.2);
        assert_eq!(tick_step(13.0, 6.0), 2.5);
        assert_eq!(trim(0.25), "0.25");
        assert_eq!(trim(2.0), "2");
    }
}
