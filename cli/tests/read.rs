//! The reading commands of the `gonpack` binary on the committed test pack: extract,
//! interpolate, sample, compare. Needs no libtorch.
#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

use gonpack::{Limits, Reader};

/// Runs gonpack; panics with its output unless it succeeds.
fn gonpack_ok(args: &[&str]) -> String {
    let (code, log) = gonpack_status(args);
    assert_eq!(code, Some(0), "gonpack {args:?}: {log}");
    log
}

fn png(path: &Path) -> image::DynamicImage {
    image::open(path).unwrap()
}

fn pack() -> String {
    common::small_pack_path().to_str().unwrap().to_owned()
}

#[test]
fn extract_renders_one_image_exactly_as_the_reader_does() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("five.png");
    gonpack_ok(&[
        "extract",
        &pack(),
        "00000_5.png",
        "--scale",
        "3",
        "-o",
        out.to_str().unwrap(),
    ]);
    let mut reader = Reader::open(common::small_pack_path(), Limits::default()).unwrap();
    assert_eq!(png(&out), reader.render(0, 84, 84).unwrap());
    // An unknown name is a usage error (exit 2).
    let status = Command::new(env!("CARGO_BIN_EXE_gonpack"))
        .args(["extract", &pack(), "nope.png"])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
}

#[test]
fn interpolation_strip_starts_and_ends_at_the_two_images() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("strip.png");
    let args = [
        "interpolate",
        &pack(),
        "00000_5.png",
        "00001_0.png",
        "--steps",
        "5",
    ];
    gonpack_ok(&[&args[..], &["--scale", "1", "-o", out.to_str().unwrap()]].concat());
    let strip = png(&out).into_luma8();
    assert_eq!(strip.dimensions(), (5 * 30 - 2, 28));
    let mut reader = Reader::open(common::small_pack_path(), Limits::default()).unwrap();
    let frame = |k: u32| image::imageops::crop_imm(&strip, k * 30, 0, 28, 28).to_image();
    assert_eq!(
        frame(0).as_raw(),
        reader.render(0, 28, 28).unwrap().as_bytes()
    );
    assert_eq!(
        frame(4).as_raw(),
        reader.render(1, 28, 28).unwrap().as_bytes()
    );
    assert_ne!(frame(2), frame(0));
    assert_ne!(frame(2), frame(4));
}

#[test]
fn samples_are_distinct_and_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a.png"), tmp.path().join("b.png"));
    for out in [&a, &b] {
        gonpack_ok(&[
            "sample",
            &pack(),
            "-n",
            "6",
            "--seed",
            "3",
            "--scale",
            "1",
            "-o",
            out.to_str().unwrap(),
        ]);
    }
    let grid = png(&a).into_luma8();
    assert_eq!(
        grid.dimensions(),
        (3 * 30 - 2, 2 * 30 - 2),
        "3 columns, 2 rows"
    );
    assert_eq!(grid, png(&b).into_luma8(), "same seed, same picture");
    let tile =
        |k: u32| image::imageops::crop_imm(&grid, (k % 3) * 30, (k / 3) * 30, 28, 28).to_image();
    for k in 1..6 {
        assert_ne!(tile(k), tile(0), "sample {k} repeats sample 0");
    }
}

#[test]
fn compare_sheet_reports_the_psnr_of_each_image() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sheet.png");
    let corpus = common::corpus().join("mnist");
    let log = gonpack_ok(&[
        "compare",
        &pack(),
        corpus.to_str().unwrap(),
        "--limit",
        "4",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(log.contains("4 images"), "{log}");
    // The PSNR printed for the first image is the one the reader gives.
    let originals = common::corpus_images("mnist", 1);
    let mut reader = Reader::open(common::small_pack_path(), Limits::default()).unwrap();
    let decoded = reader.render(0, 28, 28).unwrap();
    let psnr = gonpack::render::metrics::psnr_u8(decoded.as_bytes(), &originals[0].pixels);
    assert!(
        log.contains(&format!("{psnr:6.2} dB  00000_5.png")),
        "{psnr:.2} not in {log}"
    );
    let sheet = png(&out);
    assert_eq!(
        sheet.height(),
        14 + 4 * (4 * 28 + 2),
        "header plus four rows of 4x panels"
    );
}

/// `gonpack encode` and `gonpack add` run gonpack-train with the same arguments (`--help`
/// included) and exit with its status; a missing gonpack-train is a clear error.
#[cfg(unix)]
#[test]
fn encode_and_add_run_gonpack_train() {
    let run = |program: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_gonpack"))
            .env(gonpack_cli::TRAIN_PROGRAM_ENV, program)
            .args(args)
            .output()
            .expect("run gonpack")
    };
    let out = run(
        "echo",
        &["encode", "corpus", "-o", "x.gonpack", "--steps", "5"],
    );
    assert!(out.status.success());
    assert_eq!(out.stdout, b"encode corpus -o x.gonpack --steps 5\n");
    let out = run("echo", &["add", "--help"]);
    assert_eq!(out.stdout, b"add --help\n");
    assert_eq!(run("false", &["encode", "corpus"]).status.code(), Some(1));
    let out = run("/nonexistent/gonpack-train", &["encode", "corpus"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(
            "gonpack: error: unsupported: `gonpack encode` runs /nonexistent/gonpack-train ("
        ) && err.contains("cargo build --release -p gonpack-train"),
        "{err}"
    );
}

/// The `gonpack` program never links libtorch, so reading commands start in milliseconds
/// (loading libtorch alone takes about 0.3 s).
#[test]
fn gonpack_does_not_link_libtorch() {
    let bin = std::fs::read(env!("CARGO_BIN_EXE_gonpack")).unwrap();
    // The names a dynamic section would hold (NUL-terminated), not mere mentions in messages.
    for lib in [&b"libtorch_cpu.so\0"[..], b"libtorch.so\0", b"libc10.so\0"] {
        assert!(
            !bin.windows(lib.len()).any(|w| w == lib),
            "gonpack refers to {}",
            String::from_utf8_lossy(&lib[..lib.len() - 1])
        );
    }
}

/// Runs gonpack and returns its exit code and output.
fn gonpack_status(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gonpack"))
        .args(args)
        .output()
        .expect("run gonpack");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), log)
}

#[test]
fn merge_refuses_packs_that_do_not_share_a_decoder_or_share_names() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("all.gonpack");
    let o = out.to_str().unwrap();
    let small = pack();
    let h64 = common::repo().join("tests/data/digits16-h64.gonpack");
    let h64 = h64.to_str().unwrap();
    // Same images under the same names, different decoders: the decoder check comes first.
    let (code, log) = gonpack_status(&["merge", &small, h64, "-o", o]);
    assert_eq!(code, Some(2), "{log}");
    assert!(
        log.contains("digits16-h64.gonpack: its decoder differs from that of"),
        "{log}"
    );
    // The same decoder twice: every name is duplicated.
    let (code, log) = gonpack_status(&["merge", &small, &small, "-o", o]);
    assert_eq!(code, Some(2), "{log}");
    assert!(log.contains("image \"00000_5.png\" is also in"), "{log}");
    // Same decoder, different quantisation: a copy with 12-bit codes.
    let mut requantised =
        gonpack::Pack::read(common::small_pack_path().as_path(), &Limits::default())
            .unwrap()
            .0;
    let values: Vec<Vec<f32>> = (0..requantised.len())
        .map(|i| requantised.latent(i))
        .collect();
    requantised.quant.bits = 12;
    requantised.codes = values
        .iter()
        .flat_map(|z| requantised.quant.quantise(z))
        .collect();
    for e in &mut requantised.index {
        e.name = format!("copy/{}", e.name);
    }
    let other = tmp.path().join("twelve-bit.gonpack");
    requantised.write(&other).unwrap();
    let (code, log) = gonpack_status(&["merge", &small, other.to_str().unwrap(), "-o", o]);
    assert_eq!(code, Some(2), "{log}");
    assert!(
        log.contains("its latent quantisation (bits or ranges) differs"),
        "{log}"
    );
    // The output may not be one of the parts; nothing was written by the failures.
    let (code, log) = gonpack_status(&["merge", &small, "-o", &small]);
    assert_eq!(code, Some(2), "{log}");
    assert!(!out.exists());
    // A pack merged with nothing is itself; with a renamed copy, both halves decode as before.
    gonpack_ok(&["merge", &small, "-o", o]);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&small).unwrap());
    let mut renamed = gonpack::Pack::read(common::small_pack_path().as_path(), &Limits::default())
        .unwrap()
        .0;
    for e in &mut renamed.index {
        e.name = format!("again/{}", e.name);
    }
    let again = tmp.path().join("again.gonpack");
    renamed.write(&again).unwrap();
    let log = gonpack_ok(&["merge", &small, again.to_str().unwrap(), "-o", o]);
    assert!(log.contains("merged 2 packs (32 images)"), "{log}");
    let mut merged = Reader::open(&out, Limits::default()).unwrap();
    let mut original = Reader::open(common::small_pack_path(), Limits::default()).unwrap();
    for i in 0..16 {
        let want = original.render(i, 28, 28).unwrap();
        assert_eq!(merged.render(i, 28, 28).unwrap(), want);
        assert_eq!(merged.render(16 + i, 28, 28).unwrap(), want);
    }
}

#[test]
fn alpha_decodes_to_rgba_and_grey_alpha_pngs_that_follow_the_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = common::repo().join("tests/data/alpha8.gonpack");
    let out = tmp.path().join("x1");
    gonpack_ok(&[
        "decode",
        pack.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let (sources, _) =
        gonpack::io::read_folder(&common::repo().join("tests/data/alpha"), false).unwrap();
    let mut reader = Reader::open(&pack, Limits::default()).unwrap();
    let mut kinds = Vec::new();
    for src in &sources {
        let i = reader
            .find(&src.name)
            .unwrap()
            .expect("every source is in the pack");
        let decoded = png(&out.join(&src.name));
        assert_eq!(decoded, reader.render(i, src.width, src.height).unwrap());
        assert_eq!(
            decoded.color().channel_count(),
            src.channels,
            "{}",
            src.name
        );
        kinds.push(src.channels);
        if gonpack::pixels::has_alpha(src.channels) {
            // Far above a flat picture (the mean of every sample) composited the same way.
            let mean = (src.pixels.iter().map(|&v| u64::from(v)).sum::<u64>()
                / src.pixels.len() as u64) as u8;
            let flat = vec![mean; src.pixels.len()];
            let q =
                gonpack::render::metrics::alpha_psnr(decoded.as_bytes(), &src.pixels, src.channels);
            let f = gonpack::render::metrics::alpha_psnr(&flat, &src.pixels, src.channels);
            assert!(
                q.on_white > f.on_white + 5.0,
                "{}: {q:?} vs flat {f:?}",
                src.name
            );
            assert!(q.alpha > f.alpha + 5.0, "{}: {q:?} vs flat {f:?}", src.name);
        }
    }
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds, [1, 2, 4], "grey, grey + alpha and RGBA sources");
}
