//! Lose nothing, trust nothing: what the reading commands and the reader do with packs and
//! requests that would lose data, write where they must not, print hostile text, or ask
//! for absurd work. Needs no libtorch.
#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Output;

use byteorder::{ByteOrder, LittleEndian as LE};
use gonpack::consts::{COMPRESSION_ZSTD, HEADER_LEN, SECTION_ENTRY_LEN, TABLE_CRC_LEN};
use gonpack::{Error, Limits, Pack, Reader};

fn gonpack(args: &[&str]) -> Output {
    common::run(env!("CARGO_BIN_EXE_gonpack"), args)
}

use common::text;

/// The committed 16-digit pack with its images renamed to `names` (the first `names.len()`
/// images kept).
fn renamed_pack(names: &[&str]) -> Pack {
    let (mut pack, _) = Pack::read(&common::small_pack_path(), &Limits::default()).unwrap();
    let d = pack.shape().latent_dim;
    pack.index.truncate(names.len());
    pack.codes.truncate(names.len() * d);
    for (e, n) in pack.index.iter_mut().zip(names) {
        e.name = n.to_string();
    }
    pack
}

fn write_pack(dir: &Path, file: &str, pack: &Pack) -> String {
    let path = dir.join(file);
    pack.write(&path).unwrap();
    path.to_str().unwrap().to_owned()
}

fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |rd| {
        rd.flatten()
            .map(|e| {
                if e.path().is_dir() {
                    files_under(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}

#[test]
fn decode_refuses_names_that_would_share_an_output_file() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = renamed_pack(&["other.png", "same.png", "same.jpg", "same", "same.PNG"]);
    let p = write_pack(tmp.path(), "clash.gonpack", &pack);
    let out_dir = tmp.path().join("out");
    let out = gonpack(&["decode", &p, "-o", out_dir.to_str().unwrap(), "-q"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(r#""same.png" and "same.jpg" would both decode to "same.png""#),
        "{}",
        text(&out)
    );
    assert_eq!(files_under(&out_dir), 0, "nothing is written");
    // Each of them alone decodes; `--only` picks names that do not clash.
    let out = gonpack(&[
        "decode",
        &p,
        "-o",
        out_dir.to_str().unwrap(),
        "--only",
        "same.jpg",
        "--only",
        "other",
        "-q",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(files_under(&out_dir), 2);
}

#[test]
fn info_escapes_control_characters_in_names_and_json_keeps_them() {
    let tmp = tempfile::tempdir().unwrap();
    let names = [
        "a\x1b[31mred.png",
        "b\rforged.png",
        "c\n     28x28    grey fake.png",
    ];
    let p = write_pack(tmp.path(), "names.gonpack", &renamed_pack(&names));
    let out = gonpack(&["info", &p]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        !stdout.chars().any(|c| c.is_control() && c != '\n'),
        "raw control characters: {stdout:?}"
    );
    let listed: Vec<&str> = stdout.lines().filter(|l| l.contains("grey")).collect();
    assert_eq!(listed.len(), 3, "one line per image: {stdout}");
    assert!(stdout.contains(r"a\u{1b}[31mred.png") && stdout.contains(r"b\rforged.png"));
    let out = gonpack(&["info", &p, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stored: Vec<&str> = json["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(stored, names, "JSON holds the names exactly");
    // Errors that quote a name escape it too.
    let o = tmp.path().join("forged.png");
    let out = gonpack(&["extract", &p, "b\rforged", "-o", o.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\r'));
}

/// `bytes` (a pack written by this crate: sections back to back after the table, in table
/// order) with section `k`'s stored body replaced by `body`, declared as zstd with raw
/// length `raw_len`; offsets and checksums are recomputed.
fn with_section(bytes: &[u8], k: usize, body: &[u8], raw_len: u32) -> Vec<u8> {
    let count = usize::from(bytes[33]);
    let table_end = HEADER_LEN + count * SECTION_ENTRY_LEN + TABLE_CRC_LEN;
    let mut out = bytes[..table_end].to_vec();
    let mut bodies = Vec::new();
    let mut offset = table_end as u64;
    for j in 0..count {
        let e = HEADER_LEN + j * SECTION_ENTRY_LEN;
        let (start, len) = (
            LE::read_u64(&bytes[e + 8..]),
            LE::read_u64(&bytes[e + 16..]),
        );
        let stored = if j == k {
            out[e + 4] = COMPRESSION_ZSTD;
            LE::write_u32(&mut out[e + 24..], raw_len);
            body.to_vec()
        } else {
            bytes[start as usize..(start + len) as usize].to_vec()
        };
        LE::write_u64(&mut out[e + 8..], offset);
        LE::write_u64(&mut out[e + 16..], stored.len() as u64);
        LE::write_u32(&mut out[e + 28..], crc32fast::hash(&stored));
        offset += stored.len() as u64;
        bodies.push(stored);
    }
    let crc = crc32fast::hash(&out[HEADER_LEN..table_end - TABLE_CRC_LEN]);
    out[table_end - TABLE_CRC_LEN..table_end].copy_from_slice(&crc.to_le_bytes());
    bodies.iter().for_each(|b| out.extend_from_slice(b));
    out
}

#[test]
fn a_section_must_be_exactly_one_zstd_frame() {
    let pack = renamed_pack(&["a.png", "b.png"]);
    let (bytes, _) = pack.to_bytes().unwrap();
    // The decoder's raw bytes (f16), compressed as one frame and as two.
    let raw: Vec<u8> = pack
        .decoder
        .to_flat()
        .iter()
        .flat_map(|v| half::f16::from_f32(*v).to_bits().to_le_bytes())
        .collect();
    let half = raw.len() / 2;
    let one = zstd::bulk::compress(&raw, 3).unwrap();
    let mut two = zstd::bulk::compress(&raw[..half], 3).unwrap();
    two.extend(zstd::bulk::compress(&raw[half..], 3).unwrap());
    let raw_len = raw.len() as u32;
    let good = with_section(&bytes, 0, &one, raw_len);
    assert_eq!(Pack::from_bytes(&good, &Limits::default()).unwrap(), pack);
    let bad = with_section(&bytes, 0, &two, raw_len);
    let mut reader = Reader::from_slice(&bad, Limits::default()).unwrap();
    match reader.decoder() {
        Err(Error::Format(m)) => {
            assert_eq!(m, "section DECO: not exactly one complete zstd frame")
        }
        other => panic!("two frames accepted: {other:?}"),
    }
    // A frame followed by stray bytes is no better.
    let mut trailing = one.clone();
    trailing.extend_from_slice(&[0, 0, 0, 0]);
    let bad = with_section(&bytes, 0, &trailing, raw_len);
    let mut reader = Reader::from_slice(&bad, Limits::default()).unwrap();
    assert!(matches!(reader.decoder(), Err(Error::Format(_))));
}

#[test]
fn errors_of_input_and_output_name_the_file_and_the_action() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    let out = gonpack(&["info", dir]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("{dir}: is a folder, not a pack file")),
        "{}",
        text(&out)
    );
    let missing = tmp.path().join("missing.gonpack");
    let out = gonpack(&["info", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(&format!("{}: cannot open: No such file", missing.display())),
        "{}",
        text(&out)
    );
    // Decoding into a "folder" that is a file.
    let blocker = tmp.path().join("blocker");
    std::fs::write(&blocker, b"x").unwrap();
    let p = common::small_pack_path();
    let out = gonpack(&[
        "decode",
        p.to_str().unwrap(),
        "-o",
        blocker.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "{}: cannot create folder: File exists",
            blocker.display()
        )),
        "{}",
        text(&out)
    );
}

#[cfg(unix)]
#[test]
fn decode_does_not_write_through_a_symbolic_link_inside_the_output_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    let out_dir = tmp.path().join("out");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(&out_dir).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out_dir.join("digits")).unwrap();
    let p = write_pack(
        tmp.path(),
        "sub.gonpack",
        &renamed_pack(&["digits/a.png", "b.png"]),
    );
    let out = gonpack(&["decode", &p, "-o", out_dir.to_str().unwrap(), "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("symbolic link inside the output folder"),
        "{}",
        text(&out)
    );
    assert_eq!(
        files_under(&elsewhere),
        0,
        "nothing written through the link"
    );
    // The output folder itself may be a link the user chose.
    let chosen = tmp.path().join("chosen");
    std::os::unix::fs::symlink(&elsewhere, &chosen).unwrap();
    let out = gonpack(&["decode", &p, "-o", chosen.to_str().unwrap(), "-q"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(elsewhere.join("digits/a.png").is_file());
}

#[test]
fn absurd_render_sizes_are_refused_without_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let p = common::small_pack_path();
    let o = tmp.path().join("x.png");
    for args in [
        [
            "--size",
            "4294967295x4294967295",
            "--max-pixels",
            "18446744073709551615",
        ],
        [
            "--size",
            "100000x100000",
            "--max-pixels",
            "18446744073709551615",
        ],
        ["--scale", "1e9", "--max-pixels", "18446744073709551615"],
    ] {
        let mut all = vec![
            "extract",
            p.to_str().unwrap(),
            "00000_5.png",
            "-o",
            o.to_str().unwrap(),
        ];
        all.extend(args);
        let out = gonpack(&all);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("limit"), "{args:?}: {}", text(&out));
    }
    let out = gonpack(&[
        "interpolate",
        p.to_str().unwrap(),
        "00000_5",
        "00001_0",
        "--steps",
        "4294967295",
        "-o",
        o.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!o.exists());
}

#[test]
fn images_are_found_by_their_name_without_the_extension() {
    let tmp = tempfile::tempdir().unwrap();
    let p = common::small_pack_path();
    let p = p.to_str().unwrap();
    let o = tmp.path().join("five.png");
    let out = gonpack(&["extract", p, "00000_5", "-o", o.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(o.is_file());
    let out_dir = tmp.path().join("only");
    let out = gonpack(&[
        "decode",
        p,
        "--only",
        "00001_0",
        "-o",
        out_dir.to_str().unwrap(),
        "-q",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(out_dir.join("00001_0.png").is_file());
    let strip = tmp.path().join("strip.png");
    let out = gonpack(&[
        "interpolate",
        p,
        "00000_5",
        "00002_4",
        "-o",
        strip.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = gonpack(&["extract", p, "00000_6", "-o", o.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains(r#"no image named "00000_6"; did you mean "00000_5.png""#),
        "{}",
        text(&out)
    );
}

#[test]
fn the_writer_refuses_shapes_the_reader_would_refuse() {
    for (latent, layers, hidden) in [
        (65_536, 3, 32),
        (100_000, 3, 32),
        (1025, 3, 32),
        (16, 300, 32),
        (16, 17, 32),
        (16, 3, 4097),
    ] {
        let mut pack = renamed_pack(&["a.png"]);
        pack.decoder.shape.latent_dim = latent;
        pack.decoder.shape.layers = layers;
        pack.decoder.shape.hidden = hidden;
        match pack.to_bytes() {
            Err(Error::Usage(m)) => {
                assert!(m.starts_with("cannot write this pack: header:"), "{m}")
            }
            other => panic!("latent {latent}, layers {layers}, hidden {hidden}: {other:?}"),
        }
    }
}
