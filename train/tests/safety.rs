//! Lose nothing, trust nothing, for the commands that write packs (`encode`, `add`): options
//! refused before any work, no two outputs on one file, no lost update when two runs change
//! one pack, no temporary file left for good by a killed run.
#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn gonpack(args: &[&str]) -> Output {
    common::run(env!("CARGO_BIN_EXE_gonpack-train"), args)
}

use common::text;

/// `encode DIR -o OUT --steps 5` plus `extra` (quiet unless `extra` asks otherwise): a quick
/// pack.
fn quick_encode(dir: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "encode",
        dir.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--steps",
        "5",
    ];
    if extra.is_empty() {
        args.push("-q");
    }
    args.extend_from_slice(extra);
    gonpack(&args)
}

/// A folder with the first `n` corpus digits.
fn digits(root: &Path, name: &str, skip: usize, n: usize) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(common::corpus().join("mnist"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for p in files.into_iter().skip(skip).take(n) {
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    dir
}

fn count_images(pack: &Path) -> usize {
    let out = gonpack(&["info", pack.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["image_count"].as_u64().unwrap() as usize
}

#[test]
fn bad_options_are_refused_before_any_image_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    // A folder whose only image is corrupt: reading it would fail with a message naming it,
    // so a refusal that names the option proves the option was checked first.
    let dir = tmp.path().join("in");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broken.png"), b"not a png").unwrap();
    let d = dir.to_str().unwrap();
    let out_pack = tmp.path().join("o.gonpack");
    let o = out_pack.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--layers", "300"],
            "--layers: number of sine layers 300 (must be 1 to 16)",
        ),
        (
            &["--layers", "17"],
            "--layers: number of sine layers 17 (must be 1 to 16)",
        ),
        (
            &["--latent", "100000"],
            "--latent: latent dimension 100000 (must be 1 to 1024)",
        ),
        (
            &["--latent", "65536"],
            "--latent: latent dimension 65536 (must be 1 to 1024)",
        ),
        (
            &["--latent", "1025"],
            "--latent: latent dimension 1025 (must be 1 to 1024)",
        ),
        (
            &["--hidden", "4097"],
            "--hidden: hidden width 4097 (must be 1 to 4096)",
        ),
        (
            &["--hidden", "65537"],
            "--hidden: hidden width 65537 (must be 1 to 4096)",
        ),
        (
            &["--modulated", "4"],
            "--modulated: number of modulated layers 4 (must be 1 to 3)",
        ),
        (&["--bits", "0"], "--bits"),
        (&["--bits", "17"], "--bits"),
        (&["--bits", "64"], "--bits"),
        (
            &["--w0", "0"],
            "--w0: 0 (must be above 0 and at most 10000)",
        ),
        (
            &["--w0", "NaN"],
            "--w0: w0 of the first layer is NaN (must be finite)",
        ),
        (
            &["--w0", "1e39"],
            "--w0: w0 of the first layer is inf (must be finite)",
        ),
        (
            &["--w0-hidden", "NaN"],
            "--w0-hidden: w0 of the other layers is NaN (must be finite)",
        ),
        (&["--lr=-1"], "--lr: -1 (must be above 0 and at most 1)"),
        (
            &["--lr", "NaN"],
            "--lr: NaN (must be above 0 and at most 1)",
        ),
        (&["--steps", "0"], "--steps: must be at least 1"),
        (&["--inner-steps", "0"], "--inner-steps: must be at least 1"),
        (
            &["--latent", "0"],
            "--latent: latent dimension 0 (must be 1 to 1024)",
        ),
        (&["--device", "tpu"], "--device must be cpu, cuda or auto"),
        (&["--batch", "0"], "--batch: must be at least 1"),
        (
            &["--patch", "16", "--overlap", "0"],
            "--patch 16 --overlap 0",
        ),
        (
            &["--step-init", "inf"],
            "--step-init: inf (must be positive and finite)",
        ),
        (
            &["--lambda", "NaN"],
            "--lambda: rate weight NaN (must be finite, at least 0)",
        ),
        (
            &["--lambda=-1"],
            "--lambda: rate weight -1 (must be finite, at least 0)",
        ),
        (
            &["--model", "vector", "--warmup", "true"],
            "--warmup applies to --model grid only",
        ),
        (
            &["--model", "vector", "--precondition", "false"],
            "--precondition applies to --model grid only",
        ),
        (
            &["--model", "vector", "--straight-through", "true"],
            "--straight-through applies to --model grid only",
        ),
        (&["--jitter"], "--jitter applies to --model vector only"),
        (&["--quality=-0.5"], "\"-0.5\" is not a number from 0 to 8"),
        (
            &["--model", "vector", "--quality", "1"],
            "--quality applies to --model grid only",
        ),
    ];
    for (args, says) in cases {
        let mut all = vec!["encode", d, "-o", o, "-q"];
        all.extend_from_slice(args);
        let out = gonpack(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(says), "{args:?}: {}", text(&out));
        assert!(
            !text(&out).contains("broken.png"),
            "{args:?} read the images first"
        );
        assert!(!out_pack.exists());
    }
    // Output paths that cannot be written are refused before the images are read too.
    let folder = tmp.path().join("a-folder");
    std::fs::create_dir_all(&folder).unwrap();
    let blocker = tmp.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let under_file = blocker.join("o.gonpack");
    for (output, says, code) in [
        (folder.to_str().unwrap(), "is a folder; give a file name", 2),
        (under_file.to_str().unwrap(), "cannot create folder", 1),
    ] {
        let out = gonpack(&["encode", d, "-o", output, "-q"]);
        assert_eq!(out.status.code(), Some(code), "{output}: {}", text(&out));
        assert!(text(&out).contains(says), "{output}: {}", text(&out));
        assert!(
            !text(&out).contains("broken.png"),
            "{output}: {}",
            text(&out)
        );
    }
    // Sound options do reach the images.
    let out = gonpack(&["encode", d, "-o", o, "-q"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("broken.png"), "{}", text(&out));
}

#[test]
fn inputs_that_would_decode_to_one_file_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = digits(tmp.path(), "in", 0, 3);
    let img = dir.join("00000_5.png");
    std::fs::copy(&img, dir.join("same.png")).unwrap();
    image::open(&img)
        .unwrap()
        .save(dir.join("same.bmp"))
        .unwrap();
    let o = tmp.path().join("o.gonpack");
    let out = quick_encode(&dir, &o, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(r#""same.bmp" and "same.png" would both decode to "same.png""#),
        "{}",
        text(&out)
    );
    assert!(!o.exists());
    // `add` checks new names against the pack's.
    std::fs::remove_file(dir.join("same.bmp")).unwrap();
    let out = quick_encode(&dir, &o, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let more = tmp.path().join("more");
    std::fs::create_dir_all(&more).unwrap();
    image::open(&img)
        .unwrap()
        .save(more.join("same.bmp"))
        .unwrap();
    let out = gonpack(&["add", o.to_str().unwrap(), more.to_str().unwrap(), "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("would both decode to"),
        "{}",
        text(&out)
    );
    assert_eq!(count_images(&o), 4);
}

#[cfg(target_os = "linux")]
#[test]
fn file_names_that_are_not_utf8_are_refused_not_merged() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = digits(tmp.path(), "in", 0, 2);
    let img = dir.join("00000_5.png");
    for bytes in [&b"x\xff.png"[..], &b"x\xfe.png"[..]] {
        std::fs::copy(&img, dir.join(std::ffi::OsStr::from_bytes(bytes))).unwrap();
    }
    let o = tmp.path().join("o.gonpack");
    let out = quick_encode(&dir, &o, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("file name is not valid UTF-8"),
        "{}",
        text(&out)
    );
    assert!(!o.exists());
    let out = quick_encode(&dir, &o, &["--skip-invalid"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("not valid UTF-8"), "{}", text(&out));
    assert_eq!(count_images(&o), 2);
}

#[test]
fn concurrent_adds_to_one_pack_keep_every_image() {
    let tmp = tempfile::tempdir().unwrap();
    let base = digits(tmp.path(), "base", 0, 4);
    let pack = tmp.path().join("p.gonpack");
    let p = pack.to_str().unwrap();
    let out = quick_encode(&base, &pack, &[]);
    assert!(out.status.success(), "{}", text(&out));
    for round in 0..2 {
        let a = digits(tmp.path(), &format!("a{round}"), 4 + 4 * round, 2);
        let b = digits(tmp.path(), &format!("b{round}"), 6 + 4 * round, 2);
        let spawn = |dir: &Path| {
            Command::new(env!("CARGO_BIN_EXE_gonpack-train"))
                .args(["add", p, dir.to_str().unwrap(), "-q"])
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        };
        let (mut x, mut y) = (spawn(&a), spawn(&b));
        assert!(x.wait().unwrap().success() && y.wait().unwrap().success());
        assert_eq!(count_images(&pack), 8 + 4 * round, "round {round}");
    }
}

/// Temporary files of `pack` in its folder.
fn temporaries(pack: &Path) -> Vec<PathBuf> {
    let name = pack.file_name().unwrap().to_str().unwrap();
    std::fs::read_dir(pack.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let f = p.file_name().unwrap().to_str().unwrap();
            f.starts_with(&format!(".{name}")) && f != name
        })
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn a_run_killed_before_its_rename_leaves_a_temporary_file_the_next_run_removes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = digits(tmp.path(), "in", 0, 8);
    let pack = tmp.path().join("p.gonpack");
    let p = pack.to_str().unwrap();
    // A long training run: its output's temporary file exists from the start.
    let mut child = Command::new(env!("CARGO_BIN_EXE_gonpack-train"))
        .args([
            "encode",
            dir.to_str().unwrap(),
            "-o",
            p,
            "--steps",
            "100000",
            "-q",
        ])
        .spawn()
        .unwrap();
    let start = Instant::now();
    while temporaries(&pack).is_empty() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(
        temporaries(&pack).len(),
        1,
        "the killed run's temporary file"
    );
    assert!(!pack.exists());
    let out = quick_encode(&dir, &pack, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        temporaries(&pack).is_empty(),
        "left: {:?}",
        temporaries(&pack)
    );
    assert_eq!(count_images(&pack), 8);
}
