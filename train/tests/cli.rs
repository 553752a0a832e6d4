//! The `gonpack` binary end to end on corpus images.
#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Output;

use common::text;
use gonpack_train::grid_encode::quality_lambda;

fn gonpack(args: &[&str]) -> Output {
    common::run(env!("CARGO_BIN_EXE_gonpack-train"), args)
}

/// `gonpack info PACK --json`, parsed.
fn info_json(pack: &Path) -> serde_json::Value {
    let out = gonpack(&["info", pack.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A folder with 12 digits, 4 CIFAR images in a sub-folder and a text file.
fn sample_folder(root: &Path) -> std::path::PathBuf {
    let dir = root.join("imgs");
    std::fs::create_dir_all(dir.join("colour")).unwrap();
    let corpus = common::corpus();
    for (sub, dst, n) in [("mnist", dir.clone(), 12), ("cifar", dir.join("colour"), 4)] {
        let mut names: Vec<_> = std::fs::read_dir(corpus.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for p in names.into_iter().take(n) {
            std::fs::copy(&p, dst.join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(dir.join("notes.txt"), "not an image").unwrap();
    dir
}

#[test]
fn encode_info_decode_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = sample_folder(tmp.path());
    let pack = tmp.path().join("imgs.gonpack");
    let out = gonpack(&[
        "encode",
        dir.to_str().unwrap(),
        "--steps",
        "40",
        "--hidden",
        "32",
    ]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(pack.exists(), "default output is DIR.gonpack");
    assert!(
        log.contains("encoded 16 images (12 grey, 4 colour)"),
        "{log}"
    );
    assert!(log.contains("notes.txt (not an image file)"), "{log}");
    for key in [
        "bits per pixel",
        "mean PSNR",
        "worst",
        "decoder",
        "latents",
        "index",
        "steps/s",
    ] {
        assert!(log.contains(key), "summary lacks {key:?}: {log}");
    }

    let json = info_json(&pack);
    assert_eq!(json["images"].as_array().unwrap().len(), 16);
    let parts: u64 = [
        "decoder_bytes",
        "latent_bytes",
        "index_bytes",
        "header_bytes",
    ]
    .iter()
    .map(|k| json[k].as_u64().unwrap())
    .sum();
    assert_eq!(parts, json["total_bytes"].as_u64().unwrap());
    assert_eq!(
        json["total_bytes"].as_u64().unwrap(),
        std::fs::metadata(&pack).unwrap().len()
    );
    assert_eq!(json["channels"], 3);

    let x2 = tmp.path().join("x2");
    let out = gonpack(&[
        "decode",
        pack.to_str().unwrap(),
        "--scale",
        "2",
        "-o",
        x2.to_str().unwrap(),
        "-q",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let digit = image::open(x2.join("00000_5.png")).unwrap();
    assert_eq!((digit.width(), digit.height()), (56, 56));
    assert_eq!(digit.color(), image::ColorType::L8, "grey stays grey");
    let cat = image::open(x2.join("colour/cat_0000.png")).unwrap();
    assert_eq!((cat.width(), cat.height()), (64, 64));
    assert_eq!(cat.color(), image::ColorType::Rgb8);
    let count = walk_pngs(&x2);
    assert_eq!(count, 16);

    let sized = tmp.path().join("sized");
    let out = gonpack(&[
        "decode",
        pack.to_str().unwrap(),
        "--size",
        "50x30",
        "--only",
        "colour/cat_0001.png",
        "-o",
        sized.to_str().unwrap(),
        "-q",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(walk_pngs(&sized), 1);
    let dog = image::open(sized.join("colour/cat_0001.png")).unwrap();
    assert_eq!((dog.width(), dog.height()), (50, 30));
}

fn walk_pngs(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count()
}

#[test]
fn decode_refuses_huge_outputs_and_damaged_packs() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = common::small_pack_path();
    let out = gonpack(&[
        "decode",
        pack.to_str().unwrap(),
        "--scale",
        "10000",
        "-o",
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let log = text(&out);
    assert!(
        log.contains("over the limit") && log.contains("--max-pixels"),
        "{log}"
    );

    let mut bytes = std::fs::read(&pack).unwrap();
    bytes.truncate(bytes.len() - 10);
    let broken = tmp.path().join("broken.gonpack");
    std::fs::write(&broken, &bytes).unwrap();
    let out = gonpack(&["info", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let log = text(&out);
    assert!(
        log.contains("broken.gonpack") && log.contains("truncated"),
        "{log}"
    );

    let out = gonpack(&["decode", pack.to_str().unwrap(), "--only", "nope.png"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn corrupt_images_are_errors_unless_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    let src = common::corpus().join("mnist/00000_5.png");
    std::fs::copy(&src, dir.join("a.png")).unwrap();
    let mut bad = std::fs::read(&src).unwrap();
    bad.truncate(bad.len() / 2);
    std::fs::write(dir.join("b.png"), bad).unwrap();
    let out = gonpack(&["encode", dir.to_str().unwrap(), "--steps", "5", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    let log = text(&out);
    assert!(log.contains("b.png"), "error names the file: {log}");
    assert!(
        !tmp.path().join("d.gonpack").exists(),
        "no output on failure"
    );

    let out = gonpack(&[
        "encode",
        dir.to_str().unwrap(),
        "--steps",
        "5",
        "--skip-invalid",
    ]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("skipping") && log.contains("b.png"), "{log}");
    assert!(log.contains("encoded 1 images"), "{log}");
}

#[test]
fn add_and_encode_with_an_existing_decoder() {
    for model in ["grid", "vector"] {
        add_and_reuse(model);
    }
}

/// The decoder of the pack at `path` (grid or vector), for comparing packs.
fn decoder_of(path: &std::path::Path) -> String {
    let reader = gonpack::Reader::open(path, gonpack::Limits::default()).unwrap();
    match reader.header().grid {
        Some(_) => format!("{:?}", reader.into_grid_pack().unwrap().decoder),
        None => format!("{:?}", reader.into_pack().unwrap().decoder),
    }
}

fn add_and_reuse(model: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = sample_folder(tmp.path());
    let pack = tmp.path().join("base.gonpack");
    let (p, d) = (pack.to_str().unwrap(), dir.to_str().unwrap());
    let mut args = vec![
        "encode", d, "-o", p, "--steps", "40", "--hidden", "32", "--model", model, "-q",
    ];
    // A grid pack at another operating point than the default: it records its rate weight,
    // which `add` and `encode --decoder` then default to.
    let grid = model == "grid";
    // A vector pack with fewer bits than the default 8: `encode --decoder` defaults to them.
    if grid {
        args.extend(["--quality", "5"]);
    } else {
        args.extend(["--bits", "5"]);
    }
    let out = gonpack(&args);
    assert!(out.status.success(), "{}", text(&out));
    let rate = |path: &std::path::Path| {
        gonpack::Reader::open(path, gonpack::Limits::default())
            .unwrap()
            .rate()
            .unwrap()
    };
    let stored = grid.then(|| quality_lambda(5.0));
    assert_eq!(rate(&pack), stored);
    // Four new digits (not in the sample folder) in a second folder.
    let more = tmp.path().join("more");
    std::fs::create_dir_all(&more).unwrap();
    let mut names: Vec<_> = std::fs::read_dir(common::corpus().join("mnist"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for src in &names[100..104] {
        std::fs::copy(src, more.join(src.file_name().unwrap())).unwrap();
    }
    let m = more.to_str().unwrap();
    let out = gonpack(&["add", p, m, "-q"]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("added 4 and replaced 0 images"), "{log}");
    assert!(log.contains("(now 20 images)"), "{log}");
    let out = gonpack(&["add", p, m, "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("already in the pack"), "{}", text(&out));
    assert!(gonpack(&["add", p, m, "--replace", "-q"]).status.success());
    assert_eq!(
        rate(&pack),
        stored,
        "added at the pack's own operating point"
    );

    let reuse = tmp.path().join("reuse.gonpack");
    let out = gonpack(&[
        "encode",
        m,
        "--decoder",
        p,
        "-o",
        reuse.to_str().unwrap(),
        "-q",
    ]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("not trained"), "{log}");
    assert_eq!(decoder_of(&reuse), decoder_of(&pack), "{model}");
    let reused = gonpack::Reader::open(&reuse, gonpack::Limits::default()).unwrap();
    assert_eq!(reused.len(), 4);
    assert_eq!(
        rate(&reuse),
        stored,
        "encoded at the base's operating point"
    );
    let bits = |path: &std::path::Path| {
        gonpack::Reader::open(path, gonpack::Limits::default())
            .unwrap()
            .header()
            .bits
    };
    if !grid {
        assert_eq!(bits(&reuse), 5, "encoded with the base's bits");
        let r = reuse.to_str().unwrap();
        let out = gonpack(&["encode", m, "--decoder", p, "-o", r, "--bits", "6", "-q"]);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(bits(&reuse), 6, "--bits overrides");
    }
    if grid {
        let r = reuse.to_str().unwrap();
        let out = gonpack(&["encode", m, "--decoder", p, "-o", r, "--quality", "2", "-q"]);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(
            rate(&reuse),
            Some(quality_lambda(2.0)),
            "--quality overrides"
        );
    }
}

/// The mean PSNR of the stored pack, from the summary's quality line.
fn summary_psnr(log: &str) -> f64 {
    let rest = log
        .split_once("mean PSNR ")
        .unwrap_or_else(|| panic!("no quality line: {log}"))
        .1;
    rest.split_once(" dB")
        .and_then(|(v, _)| v.parse().ok())
        .unwrap_or_else(|| panic!("unreadable mean PSNR: {log}"))
}

/// Training that ends about where it started (a flat picture of the mean value) is reported
/// with a hint, and training that learnt is not: one training step cannot learn anything and
/// must be reported; 300 steps learn (the pack beats a flat picture of the images by a margin,
/// measured here independently of the warning's own test) and must not be.
#[test]
fn stalled_training_is_reported() {
    const WARNING: &str = "warning: training made little progress";
    const HINT: &str = "try more --steps or a lower --lr";
    let tmp = tempfile::tempdir().unwrap();
    let dir = sample_folder(tmp.path());
    let (images, _) = gonpack::io::read_folder(&dir, false).unwrap();
    let flat = common::flat_psnr(&images);
    let encode = |steps: &str| -> String {
        let pack = tmp.path().join(format!("steps{steps}.gonpack"));
        let out = gonpack(&[
            "encode",
            dir.to_str().unwrap(),
            "-o",
            pack.to_str().unwrap(),
            "--steps",
            steps,
            "--hidden",
            "32",
            "--refine",
            "0",
            "--quant-refine",
            "0",
            "--model",
            "vector",
        ]);
        let log = text(&out);
        assert!(out.status.success(), "--steps {steps}: {log}");
        log
    };

    // One step: stalled, and said so with the hint.
    let stalled = encode("1");
    let psnr = summary_psnr(&stalled);
    eprintln!("--steps 1: pack {psnr:.2} dB, flat {flat:.2} dB");
    // Measured: pack 10.82 dB, flat 10.53 dB: nothing learnt.
    assert!(
        psnr < flat + 1.0,
        "one step should not learn: pack {psnr:.2} dB, a flat picture {flat:.2} dB"
    );
    assert!(
        stalled.contains(WARNING),
        "one training step must be reported as stalled: {stalled}"
    );
    assert!(
        stalled.contains(HINT),
        "the warning lacks its hint: {stalled}"
    );

    // 300 steps: learnt, and no warning.
    let learnt = encode("300");
    let psnr = summary_psnr(&learnt);
    eprintln!("--steps 300: pack {psnr:.2} dB, flat {flat:.2} dB");
    // Measured: pack 14.61 dB, flat 10.53 dB.
    assert!(
        psnr > flat + 2.5,
        "300 steps should learn: pack {psnr:.2} dB, a flat picture {flat:.2} dB"
    );
    assert!(
        !learnt.contains(WARNING),
        "training that learnt was reported as stalled: {learnt}"
    );
}

/// `--sampling kernel` writes a version-6 pack that `encode --decoder` reuses; without
/// `--sampling`, sets of colour images get the kernel and sets with grey images bilinear
/// sampling (version 5); the vector model refuses the option.
/// The version a grid pack described by `info --json` must carry: the oldest that holds it, 7
/// under the phased context coding, else 6 with learned kernels, else 5.
fn grid_version(json: &serde_json::Value) -> u64 {
    match (json["latent_coding"].as_str(), json["sampling"].as_str()) {
        (Some("phased"), _) => 7,
        (_, Some("kernel")) => 6,
        _ => 5,
    }
}

#[test]
fn learned_sampling_kernels_write_a_version_6_or_7_pack_that_new_images_reuse() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = sample_folder(tmp.path());
    let (base, again) = (tmp.path().join("k.gonpack"), tmp.path().join("l.gonpack"));
    let d = dir.to_str().unwrap();
    for args in [
        vec![
            "encode",
            d,
            "-o",
            base.to_str().unwrap(),
            "--steps",
            "150",
            "--sampling",
            "kernel",
        ],
        vec![
            "encode",
            d,
            "-o",
            again.to_str().unwrap(),
            "--decoder",
            base.to_str().unwrap(),
        ],
    ] {
        let out = gonpack(&[&args[..], &["-q"]].concat());
        assert!(out.status.success(), "{}", text(&out));
    }
    for pack in [&base, &again] {
        let json = info_json(pack);
        assert_eq!(json["sampling"].as_str(), Some("kernel"));
        assert_eq!(json["version"].as_u64(), Some(grid_version(&json)));
    }
    assert_eq!(decoder_of(&base), decoder_of(&again));
    // Not told: the kernel for colour sets, bilinear once a grey image is in the set.
    let colour = dir.join("colour");
    for (folder, expect) in [(colour.as_path(), "kernel"), (dir.as_path(), "bilinear")] {
        let pack = tmp.path().join("auto.gonpack");
        let (f, p) = (folder.to_str().unwrap(), pack.to_str().unwrap());
        let out = gonpack(&["encode", f, "-o", p, "--steps", "20", "-q"]);
        assert!(out.status.success(), "{}", text(&out));
        let json = info_json(&pack);
        assert_eq!(json["sampling"].as_str(), Some(expect), "{f}");
        assert_eq!(json["version"].as_u64(), Some(grid_version(&json)), "{f}");
    }
    // The vector model has no levels to sample.
    let out = gonpack(&["encode", d, "--model", "vector", "--sampling", "kernel"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("--sampling applies to --model grid only"),
        "{}",
        text(&out)
    );
}

/// `--sigmoid` writes a version-3 pack with a logistic output, `--jitter` trains with it, the
/// decoder learns, and a pack encoded against it keeps its output function.
#[test]
fn sigmoid_and_jitter_write_a_version_3_pack() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = sample_folder(tmp.path());
    let (base, again) = (tmp.path().join("s.gonpack"), tmp.path().join("t.gonpack"));
    let common = ["--supersample", "2", "--refine", "0", "--quant-refine", "0"];
    let base_args = [
        "encode",
        dir.to_str().unwrap(),
        "-o",
        base.to_str().unwrap(),
        "--steps",
        "300",
        "--hidden",
        "32",
        "--sigmoid",
        "--jitter",
        "--model",
        "vector",
    ];
    let reuse_args = [
        "encode",
        dir.to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
        "--decoder",
        base.to_str().unwrap(),
    ];
    for args in [&base_args[..], &reuse_args[..]] {
        let out = gonpack(&[args, &common[..]].concat());
        let log = text(&out);
        assert!(out.status.success(), "{log}");
        assert!(!log.contains("made little progress"), "{log}");
    }
    for pack in [&base, &again] {
        let json = info_json(pack);
        assert_eq!(
            (json["version"].as_u64(), json["output"].as_str()),
            (Some(3), Some("logistic"))
        );
    }
}

#[test]
fn shards_encoded_apart_merge_into_the_single_run_pack_byte_for_byte() {
    for model in ["grid", "vector"] {
        shards_merge_byte_for_byte(model);
    }
}

fn shards_merge_byte_for_byte(model: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = sample_folder(tmp.path()); // 16 images: 12 grey, 4 colour in a sub-folder
    let base = tmp.path().join("base.gonpack");
    let (b, d) = (base.to_str().unwrap(), dir.to_str().unwrap());
    let trained = gonpack(&[
        "encode", d, "-o", b, "--steps", "40", "--hidden", "32", "--model", model, "-q",
    ]);
    assert!(trained.status.success(), "{}", text(&trained));
    let whole = tmp.path().join("whole.gonpack");
    let w = whole.to_str().unwrap();
    let out = gonpack(&["encode", d, "--decoder", b, "-o", w, "-q"]);
    assert!(out.status.success(), "{}", text(&out));
    // Three parts of 5, 5 and 6 images: the colour sub-folder falls across a boundary.
    let parts: Vec<String> = (0..3)
        .map(|i| {
            let part = tmp.path().join(format!("part{i}.gonpack"));
            let shard = format!("{i}/3");
            let p = part.to_str().unwrap();
            let out = gonpack(&["encode", d, "--decoder", b, "--shard", &shard, "-o", p]);
            assert!(out.status.success(), "{}", text(&out));
            let want = if i == 2 {
                "encoded 6 images"
            } else {
                "encoded 5 images"
            };
            assert!(text(&out).contains(want), "{}", text(&out));
            p.to_owned()
        })
        .collect();
    let merged = tmp.path().join("merged.gonpack");
    let m = merged.to_str().unwrap();
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    args.extend(["-o", m]);
    let out = gonpack(&args);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("merged 3 packs (16 images)"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read(&merged).unwrap(),
        std::fs::read(&whole).unwrap(),
        "{model}: the merged parts are the single-run pack"
    );
    // Without --output, a part is named after the folder and the shard.
    let out = gonpack(&["encode", d, "--decoder", b, "--shard", "1/3", "-q"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(tmp.path().join("imgs.part-1-of-3.gonpack").exists());
    // --shard needs --decoder; a part outside 0..N is a usage error.
    for bad in [
        vec!["encode", d, "--shard", "0/2"],
        vec!["encode", d, "--decoder", b, "--shard", "2/2"],
    ] {
        let out = gonpack(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out));
    }
}

#[test]
fn alpha_is_kept_through_encode_and_decode() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::repo().join("tests/data/alpha");
    let pack = tmp.path().join("alpha.gonpack");
    let (d, p) = (dir.to_str().unwrap(), pack.to_str().unwrap());
    let out = gonpack(&["encode", d, "-o", p, "--steps", "40", "--hidden", "32"]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("(2 grey, 6 colour, 7 with alpha)"), "{log}");
    assert!(!log.contains("alpha channel dropped"), "{log}");
    let decoded = tmp.path().join("decoded");
    let out = gonpack(&["decode", p, "-o", decoded.to_str().unwrap(), "-q"]);
    assert!(out.status.success(), "{}", text(&out));
    let rgba = image::open(decoded.join("00004_1f471-1f3fe.png")).unwrap();
    assert_eq!(rgba.color(), image::ColorType::Rgba8);
    let la = image::open(decoded.join("00002_1f517-grey-alpha.png")).unwrap();
    assert_eq!(la.color(), image::ColorType::La8);
    let grey = image::open(decoded.join("00000_5.png")).unwrap();
    assert_eq!(grey.color(), image::ColorType::L8);
    // A decoder without alpha cannot take images with alpha.
    let rgb = common::repo().join("tests/data/rgb6-patch16.gonpack");
    let out = gonpack(&[
        "encode",
        d,
        "--decoder",
        rgb.to_str().unwrap(),
        "-o",
        tmp.path().join("no.gonpack").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("has 4 channels (rgba); the decoder has 3 (rgb)"),
        "{}",
        text(&out)
    );
}

/// With `encode --decoder` the base pack's decoder is reused as it is: an option that would
/// set up or train a decoder, or one of the other model than the base's, is a usage error
/// naming the option (not silently ignored), and no pack is written; `add` likewise refuses
/// the other model's options and leaves the pack as it was.
#[test]
fn reusing_a_decoder_refuses_options_it_would_ignore() {
    let tmp = tempfile::tempdir().unwrap();
    let data = common::repo().join("tests/data");
    let dir = data.join("grid12");
    let output = tmp.path().join("o.gonpack");
    let reused = "sets up a new decoder and cannot be used with --decoder";
    let cases: [(&str, &[&str], String); 8] = [
        (
            "grid12",
            &["--sampling", "kernel"],
            format!("--sampling {reused}"),
        ),
        ("grid12", &["--levels", "4"], format!("--levels {reused}")),
        ("grid12", &["--steps", "10"], format!("--steps {reused}")),
        ("grid12", &["--model", "grid"], format!("--model {reused}")),
        ("grid12", &["--seed", "3"], format!("--seed {reused}")),
        (
            "digits16",
            &["--latent", "16"],
            format!("--latent {reused}"),
        ),
        (
            "grid12",
            &["--bits", "6"],
            "--bits applies to --model vector only".into(),
        ),
        (
            "digits16",
            &["--quality", "2"],
            "--quality applies to --model grid only".into(),
        ),
    ];
    for (base, extra, expect) in cases {
        let base = data.join(format!("{base}.gonpack"));
        let args = [
            "encode",
            dir.to_str().unwrap(),
            "--decoder",
            base.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
        ];
        let out = gonpack(&[&args[..], extra].concat());
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", text(&out));
        assert!(text(&out).contains(&expect), "{extra:?}: {}", text(&out));
        assert!(!output.exists(), "{extra:?}: no pack written");
    }
    for (base, option, value, expect) in [
        (
            "grid12",
            "--quant-refine",
            "3",
            "--quant-refine applies to vector packs only",
        ),
        (
            "digits16",
            "--quality",
            "2",
            "--quality applies to grid packs only",
        ),
    ] {
        let pack = tmp.path().join(format!("{base}.gonpack"));
        std::fs::copy(data.join(format!("{base}.gonpack")), &pack).unwrap();
        let before = std::fs::read(&pack).unwrap();
        let (p, d) = (pack.to_str().unwrap(), dir.to_str().unwrap());
        let out = gonpack(&["add", p, d, "--replace", option, value]);
        assert_eq!(out.status.code(), Some(2), "{option}: {}", text(&out));
        assert!(text(&out).contains(expect), "{option}: {}", text(&out));
        assert_eq!(
            std::fs::read(&pack).unwrap(),
            before,
            "{option}: pack unchanged"
        );
    }
}
