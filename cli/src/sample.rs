//! `gonpack sample`.
use std::collections::HashMap;
use std::path::PathBuf;

use clap::Args;
use gonpack::render::latent_space::Gaussian;
use gonpack::sheet::Canvas;
use gonpack::{Error, Reader, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::interpolate::GAP;

/// Arguments of `sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// The pack.
    pack: PathBuf,
    /// Number of new images.
    #[arg(short, default_value_t = 16)]
    n: u32,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output PNG grid [default: PACK without extension, plus "-samples.png"].
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    size: super::size::SizeArgs,
}

pub fn run(a: SampleArgs) -> Result<()> {
    if a.n == 0 {
        return Err(Error::Usage("-n must be positive".into()));
    }
    let limits = a.size.limits();
    let mut reader = Reader::open(&a.pack, limits)?;
    if reader.is_empty() {
        return Err(Error::Usage("holds no image".into()).in_file(&a.pack));
    }
    // Samples take the most common size of the images stored whole (the patch extent when
    // every image is cut into patches), grey when every image is grey.
    let patches = reader.header().patches;
    let mut counts: HashMap<(u32, u32), usize> = HashMap::new();
    for e in reader.index()? {
        if patches.is_whole(e.width, e.height) {
            *counts.entry((e.width, e.height)).or_default() += 1;
        }
    }
    let (sw, sh) = counts
        .iter()
        .max_by_key(|&(&size, &n)| (n, std::cmp::Reverse(size)))
        .map_or((patches.extent(), patches.extent()), |(&size, _)| size);
    let channels = reader
        .index()?
        .iter()
        .map(|e| e.channels)
        .max()
        .unwrap_or(1);
    let (w, h) = a.size.target("sample", sw, sh, 2.0)?;
    let d = reader.shape().latent_dim;
    let mut latents = Vec::with_capacity(reader.len() * d);
    for i in 0..reader.len() {
        latents.extend(reader.latent(i)?);
    }
    let gaussian = Gaussian::fit(&latents, d);
    let fitted = latents.len() / d; // one per whole image or patch
    let frame_work = reader.shape().work(u64::from(w) * u64::from(h), 1);
    limits.check_render_work(frame_work)?;
    let renderer = reader.renderer()?;
    let cols = (f64::from(a.n).sqrt().ceil() as u32).max(1);
    let rows = a.n.div_ceil(cols);
    let cell =
        |n: u32, side: u32| u64::from(n) * (u64::from(side) + u64::from(GAP)) - u64::from(GAP);
    let mut grid = Canvas::new(cell(cols, w), cell(rows, h), 255, &limits)?;

    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    for k in 0..a.n {
        let z = gaussian.sample(&mut rng);
        let picture = renderer.render(&z, w, h, channels)?;
        grid.paste(
            (k % cols) * w.saturating_add(GAP),
            (k / cols) * h.saturating_add(GAP),
            w,
            h,
            channels,
            &picture,
            1,
        );
    }
    let output = super::save_picture(&grid, &a.output, &a.pack, "-samples.png")?;
    super::emit(&format!(
        "{} samples of {w}x{h} from a Gaussian fitted to {} latents -> {}\n",
        a.n,
        fitted,
        gonpack::text::ShownPath(&output)
    ))
}
