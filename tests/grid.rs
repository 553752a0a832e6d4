//! Grid packs (format versions 5 and 6) with the pure-Rust reader: byte-exact round trip, renders
//! that resemble the originals at any size, the header's grid fields and their errors, and
//! vector-only operations refused with a clear error. Needs no libtorch.
mod common;

use byteorder::{ByteOrder, LittleEndian as LE};
use gonpack::consts::*;
use gonpack::format::grid::{initial_kernel, Sampling};
use gonpack::format::grid_pack::GridPack;
use gonpack::io::read_folder;
use gonpack::render::metrics::{image_psnr, pack_psnr};
use gonpack::{Error, Limits, Reader};

fn fixture() -> Vec<u8> {
    read_fixture("grid12.gonpack")
}

/// The two grid fixtures: `grid12.gonpack` (version 5, bilinear) and the same images under
/// learned kernels, `kernel12.gonpack` (version 6).
const FIXTURES: [&str; 2] = ["grid12.gonpack", "kernel12.gonpack"];

fn read_fixture(name: &str) -> Vec<u8> {
    std::fs::read(common::repo().join("tests/data").join(name)).unwrap()
}

fn grid_pack() -> GridPack {
    pack_of(&fixture())
}

/// The grid pack that `bytes` hold.
fn pack_of(bytes: &[u8]) -> GridPack {
    Reader::from_slice(bytes, Limits::default())
        .unwrap()
        .into_grid_pack()
        .unwrap()
}

/// `data` with the header CRC recomputed after an edit.
fn with_header_crc(mut data: Vec<u8>) -> Vec<u8> {
    let crc = crc32fast::hash(&data[..HEADER_CRC_OFFSET]);
    LE::write_u32(&mut data[HEADER_CRC_OFFSET..HEADER_LEN], crc);
    data
}

#[test]
fn a_grid_pack_round_trips_byte_for_byte() {
    let bytes = fixture();
    let pack = grid_pack();
    assert_eq!(pack.len(), 12);
    assert_eq!(pack.shape().channels, 4, "an RGBA decoder for the emoji");
    let (again, sizes) = pack.to_bytes().unwrap();
    assert_eq!(again, bytes);
    assert_eq!(sizes.total(), bytes.len() as u64);
    assert_eq!(LE::read_u16(&bytes[8..10]), GRID_VERSION);
    assert_eq!(bytes[42], MODEL_GRID);
}

#[test]
fn every_latent_coding_holds_the_same_codes_and_the_smallest_is_written() {
    let pack = grid_pack();
    let codings = [
        LATENT_CODING_PLAIN,
        LATENT_CODING_RANGE,
        LATENT_CODING_CONTEXT,
        LATENT_CODING_PHASED,
    ];
    let files: Vec<Vec<u8>> = codings
        .iter()
        .map(|&c| pack.to_bytes_with(c).unwrap().0)
        .collect();
    for (bytes, &coding) in files.iter().zip(&codings) {
        assert_eq!(bytes[45], coding);
        let again = pack_of(bytes);
        assert_eq!(again, pack, "coding {coding}");
    }
    let smallest = files.iter().min_by_key(|f| f.len()).unwrap();
    assert_eq!(&pack.to_bytes().unwrap().0, smallest);
    // The phased coding is written as version 7, the others as the fixture's version 5.
    for (bytes, &coding) in files.iter().zip(&codings) {
        let version = if coding == LATENT_CODING_PHASED {
            PHASED_VERSION
        } else {
            GRID_VERSION
        };
        assert_eq!(LE::read_u16(&bytes[8..10]), version, "coding {coding}");
    }
    // An unknown coding is unsupported; the phased coding in an older version is a format
    // error.
    let mut d = fixture();
    d[45] = 4;
    let e = Reader::from_slice(&with_header_crc(d), Limits::default()).map(|_| ());
    assert!(matches!(e, Err(Error::Unsupported(m)) if m.contains("latent coding 4")));
    let mut d = fixture();
    d[45] = LATENT_CODING_PHASED;
    let e = Reader::from_slice(&with_header_crc(d), Limits::default()).map(|_| ());
    assert!(
        matches!(&e, Err(Error::Format(m)) if m.ends_with("latent coding 3 needs version 7, the file is version 5")),
        "{e:?}"
    );
}

/// `phased12.gonpack` is `grid12.gonpack` written under the phased context coding (version
/// 7): the same pack, and exactly the bytes the writer makes of it.
#[test]
fn the_phased_fixture_holds_grid12_byte_for_byte() {
    let bytes = read_fixture("phased12.gonpack");
    assert_eq!(LE::read_u16(&bytes[8..10]), PHASED_VERSION);
    assert_eq!(bytes[45], LATENT_CODING_PHASED);
    let phased = pack_of(&bytes);
    let pack = grid_pack();
    assert_eq!(phased, pack);
    assert_eq!(pack.to_bytes_with(LATENT_CODING_PHASED).unwrap().0, bytes);
}

#[test]
fn grid_renders_resemble_the_originals() {
    let (originals, _) = read_folder(&common::repo().join("tests/data/grid12"), false).unwrap();
    for name in FIXTURES {
        let data = read_fixture(name);
        renders_resemble(&data, &originals, name);
    }
}

fn renders_resemble(data: &[u8], originals: &[gonpack::pixels::SourceImage], name: &str) {
    let pack = pack_of(data);
    let psnr = pack_psnr(&pack, originals).unwrap();
    let mean = psnr.iter().sum::<f64>() / psnr.len() as f64;
    let flat = common::flat_psnr(originals);
    assert!(
        mean > flat + 5.0,
        "{name}: mean {mean:.2} dB, flat {flat:.2} dB"
    );
    // The reader renders what the in-memory pack renders.
    let mut reader = Reader::from_slice(data, Limits::default()).unwrap();
    for (i, o) in originals.iter().enumerate() {
        let k = reader.find(&o.name).unwrap().unwrap();
        let mut buf = vec![0u8; reader.buffer_len(k, o.width, o.height).unwrap()];
        reader.render_into(k, o.width, o.height, &mut buf).unwrap();
        assert!((image_psnr(&buf, &o.pixels, o.channels) - psnr[i]).abs() < 1e-9);
    }
}

/// Both fixtures render at any size, and the `f x f` means of a render at `f` times the size
/// (2 and 4) agree with the 1x render: one continuous picture. A kernel whose weights summed
/// to different totals at different phases would draw a lattice at 4x and fail here.
#[test]
fn grid_images_render_at_any_size_and_agree_across_sizes() {
    for name in FIXTURES {
        let data = read_fixture(name);
        let mut reader = Reader::from_slice(&data, Limits::default()).unwrap();
        for i in 0..reader.len() {
            let e = reader.entry(i).unwrap().clone();
            let one = reader.render(i, e.width, e.height).unwrap().into_bytes();
            let odd = reader.render(i, 5, 3).unwrap();
            assert_eq!((odd.width(), odd.height()), (5, 3));
            let c = usize::from(e.channels);
            let (w, h) = (e.width as usize, e.height as usize);
            for f in [2, 4] {
                let big = reader
                    .render(i, f as u32 * e.width, f as u32 * e.height)
                    .unwrap()
                    .into_bytes();
                let mut means = vec![0u8; one.len()];
                for y in 0..h {
                    for x in 0..w {
                        for k in 0..c {
                            let s: usize = (0..f * f)
                                .map(|j| {
                                    let (yy, xx) = (f * y + j / f, f * x + j % f);
                                    usize::from(big[(yy * f * w + xx) * c + k])
                                })
                                .sum();
                            means[(y * w + x) * c + k] = ((s + f * f / 2) / (f * f)) as u8;
                        }
                    }
                }
                let agree = gonpack::render::metrics::psnr_u8(&means, &one);
                assert!(
                    agree > 30.0,
                    "{name} image {i}: {f}x and 1x agree to {agree:.2} dB"
                );
            }
        }
    }
}

#[test]
fn grid_header_fields_are_checked() {
    let good = fixture();
    let open = |d: &[u8]| Reader::from_slice(d, Limits::default()).map(|_| ());
    assert!(open(&good).is_ok());
    let edit = |at: usize, v: u8| {
        let mut d = good.clone();
        d[at] = v;
        open(&with_header_crc(d))
    };
    // A reserved byte of a grid header.
    assert!(matches!(edit(50, 1), Err(Error::Format(m)) if m.contains("reserved")));
    // Bits must be 0 in a grid pack.
    assert!(matches!(edit(13, 8), Err(Error::Format(_))));
    // An unknown model.
    assert!(matches!(edit(42, 2), Err(Error::Unsupported(m)) if m.contains("model 2")));
    // Out-of-range fields name themselves.
    assert!(matches!(edit(43, 9), Err(Error::Format(m)) if m.contains("Fourier frequencies 9")));
    assert!(matches!(edit(15, 0), Err(Error::Format(m)) if m.contains("gradient-origin steps 0")));
    // A version-4 reader's view: a grid header labelled version 4 is a vector header with
    // non-zero reserved bytes.
    let mut v4 = good.clone();
    LE::write_u16(&mut v4[8..10], 4);
    assert!(matches!(open(&with_header_crc(v4)), Err(Error::Format(_))));
    // Byte 46 is reserved in version 5: a sampling there is refused, not guessed.
    assert!(matches!(edit(46, SAMPLING_KERNEL), Err(Error::Format(m)) if m.contains("reserved")));
}

#[test]
fn kernel_sampling_is_version_6_and_round_trips() {
    let mut pack = grid_pack();
    assert_eq!(
        pack.decoder.shape.sampling,
        Sampling::Bilinear,
        "the fixture is version 5"
    );
    pack.decoder.shape.sampling = Sampling::Kernel;
    pack.decoder.kernel = initial_kernel().repeat(pack.decoder.shape.levels);
    let (bytes, _) = pack.to_bytes().unwrap();
    assert_eq!(LE::read_u16(&bytes[8..10]), SAMPLING_VERSION);
    assert_eq!(bytes[46], SAMPLING_KERNEL);
    let again = pack_of(&bytes);
    assert_eq!(again.decoder, pack.decoder);
    assert_eq!(again.codes, pack.codes);
    assert_eq!(again.to_bytes().unwrap().0, bytes);
    // The same codes sampled otherwise render otherwise.
    let (kernel, bilinear) = (
        pack_psnr(
            &again,
            &read_folder(&common::repo().join("tests/data/grid12"), false)
                .unwrap()
                .0,
        )
        .unwrap(),
        pack_psnr(
            &grid_pack(),
            &read_folder(&common::repo().join("tests/data/grid12"), false)
                .unwrap()
                .0,
        )
        .unwrap(),
    );
    assert_ne!(kernel, bilinear);
    // An unknown sampling code in version 6 is unsupported; version 5 refuses any.
    let edit = |at: usize, v: u8| {
        let mut d = bytes.clone();
        d[at] = v;
        Reader::from_slice(&with_header_crc(d), Limits::default()).map(|_| ())
    };
    assert!(
        matches!(edit(46, 2), Err(Error::Unsupported(m)) if m == "grid sampling 2"),
        "{:?}",
        edit(46, 2)
    );
    assert!(matches!(edit(47, 1), Err(Error::Format(m)) if m.contains("reserved")));
    let mut v5 = bytes.clone();
    LE::write_u16(&mut v5[8..10], GRID_VERSION);
    assert!(matches!(
        Reader::from_slice(&with_header_crc(v5), Limits::default()),
        Err(Error::Format(m)) if m.contains("reserved")
    ));
}

#[test]
fn vector_operations_on_a_grid_pack_say_why_they_fail() {
    let data = fixture();
    let mut reader = Reader::from_slice(&data, Limits::default()).unwrap();
    let e = reader.latent(0).unwrap_err();
    assert!(
        matches!(&e, Error::Unsupported(m) if m.contains("latent grids")),
        "{e}"
    );
    assert!(matches!(reader.decoder(), Err(Error::Unsupported(_))));
    let whole = Reader::from_slice(&data, Limits::default()).unwrap();
    assert!(matches!(whole.into_pack(), Err(Error::Unsupported(_))));
    // And grid operations on a vector pack.
    let vector = std::fs::read(common::small_pack_path()).unwrap();
    let mut reader = Reader::from_slice(&vector, Limits::default()).unwrap();
    assert!(matches!(reader.grids(0), Err(Error::Usage(_))));
}

#[test]
fn grid_limits_bound_work_before_decoding() {
    let data = fixture();
    // A pixel budget below one render.
    let limits = Limits {
        max_render_work: 1000,
        ..Limits::default()
    };
    let mut reader = Reader::from_slice(&data, limits).unwrap();
    let e = reader.entry(0).unwrap().clone();
    assert!(matches!(
        reader.buffer_len(0, e.width, e.height),
        Err(Error::Limits(_))
    ));
    // A decoder over the parameter limit is refused on open.
    let limits = Limits {
        max_params: 100,
        ..Limits::default()
    };
    assert!(matches!(
        Reader::from_slice(&data, limits).map(|_| ()),
        Err(Error::Limits(_))
    ));
}

/// `data` (a pack whose last section is a stored `rate` section, the fifth of the table)
/// with that section's value replaced and both CRCs recomputed.
fn with_rate_value(mut data: Vec<u8>, value: f64) -> Vec<u8> {
    let n = data.len();
    data[n - RATE_LEN..].copy_from_slice(&value.to_le_bytes());
    let entry = HEADER_LEN + 4 * SECTION_ENTRY_LEN;
    assert_eq!(&data[entry..entry + 4], &TAG_RATE);
    let crc = crc32fast::hash(&data[n - RATE_LEN..]);
    LE::write_u32(&mut data[entry + 28..entry + 32], crc);
    let table_end = HEADER_LEN + 5 * SECTION_ENTRY_LEN;
    let crc = crc32fast::hash(&data[HEADER_LEN..table_end]);
    LE::write_u32(&mut data[table_end..table_end + TABLE_CRC_LEN], crc);
    data
}

#[test]
fn the_rate_weight_travels_in_an_ancillary_section() {
    let mut pack = grid_pack();
    assert_eq!(pack.lambda, None, "the fixture records none");
    pack.lambda = Some(0.002);
    let (bytes, sizes) = pack.to_bytes().unwrap();
    assert_eq!(sizes.total(), bytes.len() as u64);
    assert_eq!(bytes.len(), fixture().len() + SECTION_ENTRY_LEN + RATE_LEN);
    assert_eq!(bytes[33], 5, "five sections");
    let mut reader = Reader::from_slice(&bytes, Limits::default()).unwrap();
    assert_eq!(reader.sizes(), sizes);
    assert_eq!(reader.rate().unwrap(), Some(0.002));
    let again = reader.into_grid_pack().unwrap();
    assert_eq!(again, pack);
    assert_eq!(again.to_bytes().unwrap().0, bytes);
    // The same images render from it: nothing else changed.
    let plain = grid_pack();
    assert_eq!((again.codes, again.decoder), (plain.codes, plain.decoder));
    // A value that is no rate weight is a format error naming the section; a damaged one
    // fails its checksum.
    for bad in [f64::NAN, -1.0, f64::INFINITY] {
        let data = with_rate_value(bytes.clone(), bad);
        let mut r = Reader::from_slice(&data, Limits::default()).unwrap();
        let e = r.rate().unwrap_err();
        assert!(
            matches!(&e, Error::Format(m) if m.contains("section rate: rate weight")),
            "{e}"
        );
    }
    let mut damaged = bytes.clone();
    *damaged.last_mut().unwrap() ^= 1;
    let mut r = Reader::from_slice(&damaged, Limits::default()).unwrap();
    assert!(matches!(r.rate(), Err(Error::Checksum(_))));
    // Refused on writing too.
    pack.lambda = Some(f64::NAN);
    assert!(matches!(pack.to_bytes(), Err(Error::Usage(m)) if m.contains("rate weight")));
}

#[test]
fn merged_and_extended_packs_keep_a_rate_weight_only_where_their_parts_agree() {
    use gonpack::format::merge::merge_grids;
    let pack = grid_pack();
    let (a, b) = pack.index.split_at(6);
    let starts = gonpack::format::grid_pack::code_starts(pack.shape(), &pack.index);
    let part = |index: &[gonpack::ImageEntry], from: usize, to: usize, lambda| GridPack {
        index: index.to_vec(),
        codes: pack.codes[starts[from]..starts[to]].to_vec(),
        lambda,
        ..pack.clone()
    };
    let parts = |la, lb| {
        vec![
            ("a.gonpack".into(), part(a, 0, 6, la)),
            ("b.gonpack".into(), part(b, 6, 12, lb)),
        ]
    };
    let same = merge_grids(&parts(Some(0.002), Some(0.002))).unwrap();
    assert_eq!(same.lambda, Some(0.002));
    assert_eq!(same.codes, pack.codes);
    assert_eq!(
        merge_grids(&parts(Some(0.002), Some(0.004)))
            .unwrap()
            .lambda,
        None
    );
    assert_eq!(merge_grids(&parts(None, Some(0.002))).unwrap().lambda, None);
    let mut grown = part(a, 0, 6, Some(0.002));
    grown.absorb(part(b, 6, 12, Some(0.002)), false).unwrap();
    assert_eq!(grown.lambda, Some(0.002));
    let mut mixed = part(a, 0, 6, Some(0.002));
    mixed.absorb(part(b, 6, 12, Some(0.001)), false).unwrap();
    assert_eq!(mixed.lambda, None);
}
