//! Container tests: byte-exact round trips, quantisation bounds, typed errors on damaged files.
//! These need no libtorch.
mod common;

use gonpack::consts::*;
use gonpack::format::quant::Quantiser;
use gonpack::{Error, Limits, Pack};

fn small_pack_bytes() -> Vec<u8> {
    std::fs::read(common::small_pack_path()).expect("tests/data/digits16.gonpack")
}

#[test]
fn committed_pack_round_trips_byte_exact() {
    let bytes = small_pack_bytes();
    let pack = Pack::from_bytes(&bytes, &Limits::default()).unwrap();
    assert_eq!(pack.len(), 16);
    assert_eq!(pack.shape().channels, 1);
    assert_eq!(pack.index[0].name, "00000_5.png");
    assert_eq!((pack.index[0].width, pack.index[0].height), (28, 28));
    let (again, sizes) = pack.to_bytes().unwrap();
    assert_eq!(
        again, bytes,
        "re-serialising a pack must reproduce it byte for byte"
    );
    assert_eq!(sizes.total(), bytes.len() as u64);
    assert_eq!(Pack::from_bytes(&again, &Limits::default()).unwrap(), pack);
}

/// Writing replaces the file whole: a new file is written beside it and renamed over it, so
/// the old file is never changed in place (a reader that has it open, seen here through a
/// second hard link to it, keeps the complete old pack) and no temporary file is left.
#[test]
fn write_is_atomic_and_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.gonpack");
    let old = Pack::from_bytes(&small_pack_bytes(), &Limits::default()).unwrap();
    old.write(&path).unwrap();
    let old_bytes = std::fs::read(&path).unwrap();
    assert_eq!(Pack::read(&path, &Limits::default()).unwrap().0, old);
    // A second name for the file as it is now: what a reader opened before the next write has.
    let seen = dir.path().join("seen-by-a-reader");
    std::fs::hard_link(&path, &seen).unwrap();
    // Overwrite with a different (shorter) pack.
    let mut new = old.clone();
    new.index[0].name = "0.png".into();
    assert_ne!(new.to_bytes().unwrap().0.len(), old_bytes.len());
    new.write(&path).unwrap();
    assert!(
        std::fs::read(&seen).unwrap() == old_bytes,
        "the old file was changed in place, not replaced by a rename"
    );
    assert_eq!(Pack::read(&path, &Limits::default()).unwrap().0, new);
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["p.gonpack", "seen-by-a-reader"].map(std::ffi::OsString::from),
        "no temporary file left"
    );
}

#[test]
fn quantisation_error_is_at_most_half_a_step() {
    // Latents of the real pack, perturbed to fall between code levels.
    let pack = Pack::from_bytes(&small_pack_bytes(), &Limits::default()).unwrap();
    let d = pack.shape().latent_dim;
    let mut latents = Vec::new();
    for i in 0..pack.len() {
        for (k, v) in pack.latent(i).into_iter().enumerate() {
            latents.push(v + 0.37 * pack.quant.step(k) * ((i + k) % 3) as f32);
        }
    }
    for bits in [1u8, 4, 8, 12, 16] {
        let q = Quantiser::fit(&latents, d, bits).unwrap();
        for z in latents.chunks_exact(d) {
            let back = q.dequantise(&q.quantise(z));
            for k in 0..d {
                // A value outside a (clipped) range is clamped to its nearer end.
                let inside = z[k].clamp(q.lo[k], q.hi[k]);
                let err = (back[k] - inside).abs();
                let bound = q.max_error(k) * (1.0 + 1e-5) + 1e-6 * z[k].abs().max(1.0);
                assert!(err <= bound, "bits {bits} dim {k}: error {err} > {bound}");
            }
        }
        // The range ends are represented exactly.
        assert_eq!(q.dequantise(&q.quantise(&q.lo)), q.lo);
    }
}

/// Squared round-trip error of `latents` through `q`.
fn round_trip_error(q: &Quantiser, latents: &[f32]) -> f64 {
    let back = q.dequantise(&q.quantise(latents));
    back.iter()
        .zip(latents)
        .map(|(b, v)| f64::from(b - v).powi(2))
        .sum()
}

#[test]
fn fitted_ranges_beat_minimum_to_maximum_at_two_and_three_bits() {
    // The latents of the real pack, 20 times with small offsets, plus one outlier per
    // dimension two ranges above the rest.
    let pack = Pack::from_bytes(&small_pack_bytes(), &Limits::default()).unwrap();
    let d = pack.shape().latent_dim;
    let spread: Vec<f32> = (0..d)
        .map(|k| pack.quant.hi[k] - pack.quant.lo[k])
        .collect();
    let mut latents = Vec::new();
    for rep in 0..20 {
        for i in 0..pack.len() {
            for (k, v) in pack.latent(i).into_iter().enumerate() {
                let offset = ((rep * 7 + k) % 5) as f32 - 2.0;
                latents.push(v + 0.02 * spread[k] * offset);
            }
        }
    }
    latents.extend((0..d).map(|k| pack.quant.hi[k] + 2.0 * spread[k]));
    for bits in [2u8, 3] {
        let fitted = Quantiser::fit(&latents, d, bits).unwrap();
        let mut full = fitted.clone();
        for k in 0..d {
            let column = latents.iter().skip(k).step_by(d);
            full.lo[k] = column.clone().copied().fold(f32::INFINITY, f32::min);
            full.hi[k] = column.copied().fold(f32::NEG_INFINITY, f32::max);
        }
        let (a, b) = (
            round_trip_error(&fitted, &latents),
            round_trip_error(&full, &latents),
        );
        assert!(a < 0.9 * b, "{bits} bits: fitted {a}, min-max {b}");
    }
}

#[test]
fn bad_magic_is_not_gonpack() {
    let mut bytes = small_pack_bytes();
    bytes[1] = b'X';
    assert!(matches!(
        Pack::from_bytes(&bytes, &Limits::default()),
        Err(Error::NotGonpack)
    ));
    assert!(matches!(
        Pack::from_bytes(b"\x89PNG\r\n\x1a\n and more", &Limits::default()),
        Err(Error::NotGonpack)
    ));
}

#[test]
fn other_version_is_unsupported() {
    for version in [0u8, 8, 200] {
        let mut bytes = small_pack_bytes();
        bytes[8] = version;
        match Pack::from_bytes(&bytes, &Limits::default()) {
            Err(e @ Error::UnsupportedVersion(v)) if v == u16::from(version) => {
                assert!(e.to_string().contains("versions 1 to 7"), "{e}")
            }
            other => panic!("version {version}: {other:?}"),
        }
    }
}

/// `bytes` with header byte `at` set to `value` and the header CRC recomputed.
fn with_header_byte(mut bytes: Vec<u8>, at: usize, value: u8) -> Vec<u8> {
    bytes[at] = value;
    let crc = crc32fast::hash(&bytes[..HEADER_CRC_OFFSET]);
    bytes[HEADER_CRC_OFFSET..HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    bytes
}

#[test]
fn a_logistic_output_is_written_as_version_3_and_round_trips() {
    let bytes = small_pack_bytes();
    assert_eq!(
        (bytes[8], bytes[37]),
        (1, 0),
        "the identity output stays version 1"
    );
    let mut pack = Pack::from_bytes(&bytes, &Limits::default()).unwrap();
    pack.decoder.shape.output = gonpack::Output::Logistic;
    let (logistic, _) = pack.to_bytes().unwrap();
    assert_eq!(
        u16::from_le_bytes([logistic[8], logistic[9]]),
        OUTPUT_VERSION
    );
    assert_eq!(logistic[37], OUTPUT_LOGISTIC);
    // Only the version, the output byte, the latent count (written from version 2 on; 16)
    // and the header CRC differ.
    assert_eq!(logistic[38..42], 16u32.to_le_bytes());
    let differ: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i] != logistic[i])
        .collect();
    let allowed =
        |i: usize| [8, 37, 38].contains(&i) || (HEADER_CRC_OFFSET..HEADER_LEN).contains(&i);
    assert!(differ.iter().all(|&i| allowed(i)), "{differ:?}");
    let back = Pack::from_bytes(&logistic, &Limits::default()).unwrap();
    assert_eq!(back, pack);
    assert_eq!(back.to_bytes().unwrap().0, logistic);
}

#[test]
fn an_unknown_output_function_is_unsupported_and_needs_version_3() {
    let mut pack = Pack::from_bytes(&small_pack_bytes(), &Limits::default()).unwrap();
    pack.decoder.shape.output = gonpack::Output::Logistic;
    let (v3, _) = pack.to_bytes().unwrap();
    match Pack::from_bytes(&with_header_byte(v3.clone(), 37, 2), &Limits::default()) {
        Err(e @ Error::Unsupported(_)) => {
            assert_eq!(e.to_string(), "unsupported: output function 2")
        }
        other => panic!("expected unsupported, got {other:?}"),
    }
    // Before version 3 the byte is reserved.
    let v2 = with_header_byte(v3, 8, PATCH_VERSION as u8);
    match Pack::from_bytes(
        &with_header_byte(v2, 37, OUTPUT_LOGISTIC),
        &Limits::default(),
    ) {
        Err(Error::Format(msg)) => assert_eq!(msg, "header: reserved bytes are not zero"),
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn every_truncation_is_a_typed_error() {
    let bytes = small_pack_bytes();
    for len in 0..bytes.len() {
        match Pack::from_bytes(&bytes[..len], &Limits::default()) {
            Err(Error::Truncated(_)) => {}
            other => panic!("truncated to {len} bytes: expected Truncated, got {other:?}"),
        }
    }
}

#[test]
fn flipped_bytes_fail_their_checksum() {
    let bytes = small_pack_bytes();
    let table_end = HEADER_LEN + 4 * SECTION_ENTRY_LEN + TABLE_CRC_LEN;
    let cases = [
        (20, "header"),
        (HEADER_LEN + 10, "section table"),
        (table_end + 3, "section DECO"),
        (bytes.len() - 2, "section INDX"),
    ];
    for (pos, what) in cases {
        let mut damaged = bytes.clone();
        damaged[pos] ^= 0x40;
        match Pack::from_bytes(&damaged, &Limits::default()) {
            Err(Error::Checksum(s)) => assert_eq!(s, what, "byte {pos}"),
            other => panic!("byte {pos}: expected checksum error in {what}, got {other:?}"),
        }
    }
}

#[test]
fn limits_are_enforced_before_allocation() {
    let bytes = small_pack_bytes();
    let tight = Limits {
        max_images: 15,
        ..Limits::default()
    };
    assert!(matches!(
        Pack::from_bytes(&bytes, &tight),
        Err(Error::Limits(_))
    ));
    let tight = Limits {
        max_section_bytes: 100,
        ..Limits::default()
    };
    assert!(matches!(
        Pack::from_bytes(&bytes, &tight),
        Err(Error::Limits(_))
    ));
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.gonpack");
    std::fs::write(&path, b"hello").unwrap();
    let err = Pack::read(&path, &Limits::default()).unwrap_err();
    assert!(matches!(err.root(), Error::NotGonpack));
    let msg = err.to_string();
    assert!(
        msg.contains("broken.gonpack") && msg.contains("not a gonpack file"),
        "{msg}"
    );
}

#[test]
fn unsafe_or_duplicate_names_are_refused() {
    use gonpack::format::is_plain_relative_path;
    for bad in [
        "../x.png",
        "/abs.png",
        "a//b.png",
        "a/./b.png",
        "a\\b.png",
        "a\0.png",
        "",
    ] {
        assert!(!is_plain_relative_path(bad), "{bad:?}");
    }
    assert!(is_plain_relative_path("colour/cat_0001.png"));
    let mut pack = Pack::from_bytes(&small_pack_bytes(), &Limits::default()).unwrap();
    pack.index[0].name = "../escape.png".into();
    assert!(matches!(pack.to_bytes(), Err(Error::Usage(_))));
    // The writer leaves duplicates to the reader, which refuses them.
    pack.index[0].name = pack.index[1].name.clone();
    let (bytes, _) = pack.to_bytes().unwrap();
    match Pack::from_bytes(&bytes, &Limits::default()) {
        Err(Error::Format(msg)) => assert!(msg.contains("appears twice"), "{msg}"),
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn alpha_is_version_4_and_older_versions_cannot_declare_it() {
    let path = common::repo().join("tests/data/alpha8.gonpack");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), ALPHA_VERSION);
    let pack = Pack::from_bytes(&bytes, &Limits::default()).unwrap();
    assert_eq!(pack.shape().channels, 4);
    let channels: Vec<u8> = pack.index.iter().map(|e| e.channels).collect();
    assert!(channels.contains(&1) && channels.contains(&2) && channels.contains(&4));
    assert_eq!(
        pack.to_bytes().unwrap().0,
        bytes,
        "round trip byte for byte"
    );
    // The same pack declared as version 3: 4 output channels need version 4.
    match Pack::from_bytes(&with_header_byte(bytes.clone(), 8, 3), &Limits::default()) {
        Err(Error::Format(msg)) => assert_eq!(
            msg,
            "header: 4 output channels need version 4, the file is version 3"
        ),
        other => panic!("expected a format error, got {other:?}"),
    }
    // Five channels is no layout at all.
    match Pack::from_bytes(&with_header_byte(bytes, 12, 5), &Limits::default()) {
        Err(Error::Format(msg)) => assert!(msg.contains("channels 5 (must be 1 grey"), "{msg}"),
        other => panic!("expected a format error, got {other:?}"),
    }
    // An RGBA image in a pack whose decoder is RGB cannot be rendered: the index is refused.
    let mut rgb = pack.clone();
    rgb.decoder.shape.channels = 3;
    rgb.decoder
        .out_weight
        .truncate(3 * rgb.decoder.shape.hidden);
    rgb.decoder.out_bias.truncate(3);
    let (rgb_bytes, _) = rgb.to_bytes().unwrap();
    match Pack::from_bytes(&rgb_bytes, &Limits::default()) {
        Err(Error::Format(msg)) => assert_eq!(
            msg,
            "image \"00000_1f469-1f3ff-200d-1f9b0.png\" has 4 channels, which a 3-channel decoder cannot render"
        ),
        other => panic!("expected a format error, got {other:?}"),
    }
}
