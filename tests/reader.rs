//! The lazy reader API: sources, rendering into buffers and images, limits, laziness.
//! Needs no libtorch.
mod common;

use gonpack::consts::{HEADER_LEN, SECTION_ENTRY_LEN, TABLE_CRC_LEN};
use gonpack::render::metrics::psnr_u8;
use gonpack::{Error, Limits, Pack, Reader};

fn bytes() -> Vec<u8> {
    std::fs::read(common::small_pack_path()).unwrap()
}

#[test]
fn path_slice_and_read_seek_sources_agree() {
    let data = bytes();
    let path = common::small_pack_path();
    let mut from_path = Reader::open(&path, Limits::default()).unwrap();
    let mut from_slice = Reader::from_slice(&data, Limits::default()).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let mut from_file = Reader::new(file, Limits::default()).unwrap();
    assert_eq!(from_path.header(), from_slice.header());
    assert_eq!(from_path.sizes().total(), data.len() as u64);
    for i in [0, 7, 15] {
        let a = from_path.render(i, 40, 30).unwrap();
        assert_eq!(a, from_slice.render(i, 40, 30).unwrap());
        assert_eq!(a, from_file.render(i, 40, 30).unwrap());
    }
    assert_eq!(from_path.index().unwrap(), from_file.index().unwrap());
}

#[test]
fn renders_resemble_the_original_digits() {
    // digits16 holds the first 16 corpus digits; decoded at their own size they must be
    // recognisably the same images.
    let originals = common::corpus_images("mnist", 16);
    let data = bytes();
    let mut reader = Reader::from_slice(&data, Limits::default()).unwrap();
    let mut psnr = Vec::new();
    for (i, original) in originals.iter().enumerate() {
        let entry = reader.index().unwrap()[i].clone();
        assert_eq!(entry.name, original.name);
        let mut buf = vec![0u8; reader.buffer_len(i, 28, 28).unwrap()];
        reader.render_into(i, 28, 28, &mut buf).unwrap();
        psnr.push(psnr_u8(&buf, &original.pixels));
    }
    let mean = psnr.iter().sum::<f64>() / psnr.len() as f64;
    eprintln!("digits16 mean PSNR {mean:.2} dB");
    assert!(mean > 22.0, "mean PSNR {mean:.2} dB");
}

#[test]
fn images_iterate_lazily_at_their_stored_size() {
    let data = bytes();
    let mut reader = Reader::from_slice(&data, Limits::default()).unwrap();
    let pack = Pack::from_bytes(&data, &Limits::default()).unwrap();
    let renderer = gonpack::render::Renderer::new(&pack.decoder);
    let mut images = reader.images();
    assert_eq!(images.size_hint(), (16, Some(16)));
    let (entry, first) = images.next().unwrap().unwrap();
    assert_eq!(entry, pack.index[0]);
    assert_eq!(
        first.as_luma8().unwrap().as_raw(),
        &renderer.render(&pack.latent(0), 28, 28, 1).unwrap()
    );
    assert_eq!(images.count(), 15);
}

#[test]
fn buffer_size_index_and_limits_are_checked() {
    let data = bytes();
    let mut reader = Reader::from_slice(&data, Limits::default()).unwrap();
    let mut small = vec![0u8; 28 * 28 - 1];
    assert!(matches!(
        reader.render_into(0, 28, 28, &mut small),
        Err(Error::Usage(_))
    ));
    assert!(matches!(reader.render(16, 28, 28), Err(Error::Usage(_))));
    assert!(matches!(reader.render(0, 0, 28), Err(Error::Usage(_))));
    match reader.render(0, 100_000, 100_000) {
        Err(Error::Limits(m)) => assert!(m.contains("100000x100000"), "{m}"),
        other => panic!("expected a limits error, got {other:?}"),
    }
    let tight = Limits {
        max_render_pixels: 56 * 56,
        ..Limits::default()
    };
    let mut reader = Reader::from_slice(&data, tight).unwrap();
    assert!(reader.render(0, 56, 56).is_ok());
    assert!(matches!(reader.render(0, 57, 56), Err(Error::Limits(_))));
    let mut unlimited = Reader::from_slice(&data, Limits::unlimited()).unwrap();
    assert!(unlimited.render(0, 3, 3).is_ok());
}

#[test]
fn nothing_is_decoded_before_it_is_asked_for() {
    // Damage the latent section: opening, the index and the decoder still work; only the
    // first latent read reports the bad checksum, naming the section and the file.
    let mut data = bytes();
    let pack = Reader::from_slice(&data, Limits::default()).unwrap();
    let sizes = pack.sizes();
    let table_end = (HEADER_LEN + 4 * SECTION_ENTRY_LEN + TABLE_CRC_LEN) as u64;
    assert_eq!(sizes.header, table_end);
    let latn_last = (table_end + sizes.decoder + sizes.latents - 1) as usize;
    data[latn_last] ^= 0x10;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.gonpack");
    std::fs::write(&path, &data).unwrap();
    let mut reader = Reader::open(&path, Limits::default()).unwrap();
    assert_eq!(reader.index().unwrap().len(), 16);
    assert_eq!(reader.decoder().unwrap().shape.latent_dim, 16);
    let err = reader.latent(0).unwrap_err();
    assert!(
        matches!(err.root(), Error::Checksum(s) if s == "section LATN"),
        "{err:?}"
    );
    assert!(err.to_string().contains("damaged.gonpack"), "{err}");
}

#[test]
fn patched_images_equal_their_patches_inside_the_cores() {
    // rgb6-patch16: CIFAR 32x32 and MNIST 28x28 images cut into 2x2 patches of 16 + 2 margin.
    let path = common::small_pack_path().with_file_name("rgb6-patch16.gonpack");
    let mut reader = Reader::open(&path, Limits::default()).unwrap();
    let g = reader.header().patches;
    assert_eq!(
        (g.patch, g.overlap, reader.header().latent_count),
        (16, 2, 24)
    );
    let renderer = reader.renderer().unwrap().clone();
    for i in [0, 4] {
        let e = reader.index().unwrap()[i].clone();
        let (nx, ny) = g.grid(e.width, e.height);
        assert_eq!((nx, ny), (2, 2));
        let z = reader.latent(i).unwrap();
        let d = reader.shape().latent_dim;
        let full = reader.render(i, e.width, e.height).unwrap().into_bytes();
        let c = usize::from(e.channels);
        for k in 0..4u32 {
            let (px, py) = (k % 2, k / 2);
            let e2 = g.extent();
            let alone = renderer
                .render(&z[k as usize * d..(k as usize + 1) * d], e2, e2, e.channels)
                .unwrap();
            // Where only patch k has weight (more than `overlap` inside its core), the blend
            // is exactly that patch, sampled at the same coordinates.
            for y in py * 16 + 2..(py * 16 + 14).min(e.height - 1) {
                for x in px * 16 + 2..(px * 16 + 14).min(e.width - 1) {
                    let (lx, ly) = (x + 2 - px * 16, y + 2 - py * 16);
                    let a = &full[(y * e.width + x) as usize * c..][..c];
                    let b = &alone[(ly * e2 + lx) as usize * c..][..c];
                    assert_eq!(a, b, "image {i} patch {k} at ({x}, {y})");
                }
            }
        }
        // Any size renders, including ones smaller than a patch.
        assert!(reader.render(i, 7, 5).is_ok() && reader.render(i, 97, 64).is_ok());
    }
}
