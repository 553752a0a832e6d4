//! `gonpack interpolate`.
use std::path::PathBuf;

use clap::Args;
use gonpack::render::latent_space::slerp;
use gonpack::sheet::Canvas;
use gonpack::{Error, Reader, Result};

/// Arguments of `interpolate`.
#[derive(Debug, Args)]
pub struct InterpolateArgs {
    /// The pack.
    pack: PathBuf,
    /// Name of the first image.
    a: String,
    /// Name of the last image.
    b: String,
    /// Frames in the strip, both ends included.
    #[arg(long, default_value_t = 8)]
    steps: u32,
    /// Output PNG [default: PACK without extension, plus "-interpolate.png"].
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    size: super::size::SizeArgs,
}

/// Pixels between frames of strips and grids.
pub const GAP: u32 = 2;

pub fn run(a: InterpolateArgs) -> Result<()> {
    if a.steps < 2 {
        return Err(Error::Usage("--steps must be at least 2".into()));
    }
    let mut reader = Reader::open(&a.pack, a.size.limits())?;
    let (ia, ib) = (reader.resolve(&a.a)?, reader.resolve(&a.b)?);
    let (ea, eb) = (reader.index()?[ia].clone(), reader.index()?[ib].clone());
    let patches = reader.header().patches;
    if (ea.width, ea.height) != (eb.width, eb.height) && !patches.is_whole(ea.width, ea.height) {
        return Err(Error::Usage(format!(
            "{:?} and {:?} are stored as patches of different grids; pick two images of one size",
            ea.name, eb.name
        )));
    }
    let (w, h) = a.size.target(&ea.name, ea.width, ea.height, 2.0)?;
    let channels = ea.channels.max(eb.channels);
    let (za, zb) = (reader.latent(ia)?, reader.latent(ib)?);
    reader.buffer_len(ia, w, h)?; // checks the work of one frame
    let renderer = reader.renderer()?;
    let limits = a.size.limits();
    let strip_w = u64::from(a.steps) * (u64::from(w) + u64::from(GAP)) - u64::from(GAP);
    let mut strip = Canvas::new(strip_w, u64::from(h), 255, &limits)?;
    for k in 0..a.steps {
        let z = slerp(&za, &zb, k as f32 / (a.steps - 1) as f32);
        let mut frame =
            gonpack::format::limits::zeroed(w as usize * h as usize * usize::from(channels))?;
        renderer.render_image(
            patches,
            &z,
            (ea.width, ea.height),
            (w, h),
            channels,
            &mut frame,
        )?;
        strip.paste(k * w.saturating_add(GAP), 0, w, h, channels, &frame, 1);
    }
    let output = super::save_picture(&strip, &a.output, &a.pack, "-interpolate.png")?;
    super::emit(&format!(
        "{} frames of {w}x{h} from {} to {} -> {}\n",
        a.steps,
        gonpack::text::shown(&ea.name),
        gonpack::text::shown(&eb.name),
        gonpack::text::ShownPath(&output)
    ))
}
