//! The benchmark harness end to end on a tiny set: `rd` measures every codec and writes JSON
//! whose figures are consistent, `rd-report` turns it into tables and a plot and notices when
//! they are stale, and the committed README section matches the committed results.
#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::Path;

use common::{corpus, flat_psnr, repo, run, text};
use gonpack::io::read_folder;
use gonpack_bench::{Layout, Run, Task};

const RD: &str = env!("CARGO_BIN_EXE_rd");
const REPORT: &str = env!("CARGO_BIN_EXE_rd-report");

#[test]
fn rd_measures_every_codec_and_the_report_is_made_from_its_json() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("results/tiny.json");
    let digits = corpus().join("mnist");
    let out = run(
        RD,
        &[
            "--train",
            digits.to_str().unwrap(),
            "--hold-out",
            "16",
            "--name",
            "tiny",
            "--title",
            "Tiny MNIST",
            "--latent",
            "16",
            "--steps",
            "150",
            "--refine",
            "2",
            "--bits",
            "4,8",
            "--quality",
            "2,4",
            "--grid-steps",
            "80",
            "--no-avif",
            "--json",
            json.to_str().unwrap(),
            "--work",
            dir.path().join("work").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let results = Run::read(&json).unwrap();
    let (all, _) = read_folder(&digits, false).unwrap();
    let test: Vec<_> = all.into_iter().step_by(16).collect();
    assert_eq!((results.images, results.pixels), (16, 16 * 28 * 28));
    let count = |codec: &str, layout: Layout| {
        results
            .records
            .iter()
            .filter(|r| r.codec == codec && r.layout == layout)
            .count()
    };
    assert_eq!(
        count("gonpack", Layout::Pack),
        4,
        "grid qualities 2, 4; vector refine 2 x bits 4, 8"
    );
    assert_eq!(count("JPEG", Layout::PerImage), 7);
    assert_eq!(count("JPEG", Layout::Mosaic), 7);
    assert_eq!(count("WebP", Layout::Mosaic), 6);
    for r in &results.records {
        assert_eq!(r.task, Task::Compression);
        let (bytes, bpp) = (r.bytes.unwrap(), r.bpp.unwrap());
        assert!(
            (bpp - bytes as f64 * 8.0 / results.pixels as f64).abs() < 1e-9,
            "{r:?}"
        );
        match r.codec.as_str() {
            "PNG" | "zstd -19" | "xz -9e" => assert!(r.psnr.is_none(), "checked lossless: {r:?}"),
            _ => assert!(r.psnr.unwrap().is_finite(), "{r:?}"),
        }
    }
    // gonpack: a real pack (the decoder counted apart), better than a flat picture, and more
    // bits cost more and give no less.
    let (grids, ours): (Vec<_>, Vec<_>) = results
        .records
        .iter()
        .filter(|r| r.codec == "gonpack")
        .partition(|r| r.config.starts_with("grids"));
    assert_eq!(grids.len(), 2, "{grids:?}");
    assert!(grids[0].config.ends_with("quality 2") && grids[1].config.ends_with("quality 4"));
    let flat = flat_psnr(&test);
    for r in ours.iter().chain(&grids) {
        assert!(r.bpp_with_decoder.unwrap() > r.bpp.unwrap() + 1.0, "{r:?}");
        assert!(
            r.psnr.unwrap() > flat + 3.0,
            "{r:?} against a flat {flat:.2} dB"
        );
    }
    assert!(ours[1].bytes > ours[0].bytes && ours[1].psnr >= ours[0].psnr);
    let best_jpeg = results
        .records
        .iter()
        .filter(|r| r.codec == "JPEG")
        .map(|r| r.psnr.unwrap());
    assert!(best_jpeg.fold(0.0, f64::max) > 30.0, "JPEG quality 75");

    // The report: a README section, a full table and a plot, all from the JSON.
    let readme = dir.path().join("README.md");
    let markers = "<!-- rd-tables:begin -->\nold\n<!-- rd-tables:end -->\n";
    std::fs::write(&readme, format!("# x\n\n{markers}after\n")).unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let args = |check: bool| {
        let mut v = vec![
            "--results".to_owned(),
            dir.path().join("results").to_str().unwrap().to_owned(),
        ];
        v.extend(["--readme".into(), readme.to_str().unwrap().to_owned()]);
        v.extend(["--docs".into(), docs.to_str().unwrap().to_owned()]);
        if check {
            v.push("--check".into());
        }
        v
    };
    let report = |check| {
        let a = args(check);
        run(REPORT, &a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let out = report(true);
    assert!(!out.status.success(), "stale README not noticed");
    assert!(report(false).status.success());
    let written = std::fs::read_to_string(&readme).unwrap();
    assert!(
        written.starts_with("# x\n\n<!-- rd-tables:begin")
            && written.ends_with("<!-- rd-tables:end -->\nafter\n")
    );
    // gonpack's rows are the hull of its grid and vector points, whichever lie on it.
    assert!(
        written.contains("#### Tiny MNIST")
            && (written.contains("| gonpack, latent 16, refine 2 | 8 bits |")
                || written.contains("| gonpack, grids 6+8, bilinear sampling, quality ")),
        "{written}"
    );
    assert!(written.contains("| WebP mosaic | quality "));
    let svg = std::fs::read_to_string(docs.join("rd-tiny.svg")).unwrap();
    assert!(
        svg.starts_with("<svg")
            && svg.contains("gonpack, decoder included")
            && svg.contains("gonpack, latents and index")
            && svg.contains("WebP mosaic")
    );
    assert!(std::fs::read_to_string(docs.join("rd-tiny.md"))
        .unwrap()
        .contains("| compression | xz -9e | raw array |"));
    assert!(
        report(true).status.success(),
        "fresh outputs reported stale"
    );
}

#[test]
fn the_readme_tables_and_plots_are_those_of_the_committed_results() {
    let root = repo();
    let out = run(
        REPORT,
        &[
            "--results",
            root.join("bench/results").to_str().unwrap(),
            "--readme",
            root.join("README.md").to_str().unwrap(),
            "--docs",
            root.join("docs").to_str().unwrap(),
            "--check",
        ],
    );
    assert!(
        out.status.success(),
        "run `cargo run --release -p gonpack-bench --bin rd-report`: {}",
        text(&out)
    );
    assert!(
        Path::new(&root.join("bench/results"))
            .read_dir()
            .unwrap()
            .count()
            >= 1
    );
}

#[test]
fn images_with_alpha_are_measured_with_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("alpha.json");
    let images = repo().join("tests/data/alpha");
    let folder = images.to_str().unwrap();
    let out = run(
        RD,
        &[
            "--train",
            folder,
            "--test",
            folder,
            "--name",
            "alpha",
            "--latent",
            "8",
            "--steps",
            "60",
            "--refine",
            "2",
            "--bits",
            "6",
            "--quality",
            "3",
            "--grid-steps",
            "60",
            "--no-avif",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let results = Run::read(&json).unwrap();
    let codecs: Vec<&str> = results.records.iter().map(|r| r.codec.as_str()).collect();
    assert!(
        !codecs.contains(&"JPEG"),
        "JPEG would drop alpha: {codecs:?}"
    );
    assert!(
        codecs.contains(&"gonpack") && codecs.contains(&"WebP"),
        "{codecs:?}"
    );
    let grids = results
        .records
        .iter()
        .filter(|r| r.config.starts_with("grids"));
    assert_eq!(grids.count(), 1, "one grid decoder, quality 3");
    for r in results.records.iter().filter(|r| r.psnr.is_some()) {
        // Means over the 7 images with alpha (`psnr` also counts the grey digit).
        let a = r
            .alpha
            .unwrap_or_else(|| panic!("lossy record without alpha: {r:?}"));
        assert!(a.on_white.is_finite() && a.alpha.is_finite(), "{r:?}");
        assert!(
            a.colour_opaque.is_finite() && r.psnr.unwrap().is_finite(),
            "{r:?}"
        );
    }
    let webp_best = results
        .records
        .iter()
        .filter(|r| r.codec == "WebP")
        .filter_map(|r| r.alpha)
        .map(|a| a.alpha)
        .fold(0.0, f64::max);
    assert!(
        webp_best > 30.0,
        "WebP at quality 75 keeps alpha well: {webp_best}"
    );
    let table = gonpack_bench::report::full_table(&results);
    assert!(table.contains("(alpha "), "{table}");
    assert!(gonpack_bench::report::caption(&results).contains("composited on white"));
}
