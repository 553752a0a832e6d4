//! `gonpack decode`.
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use gonpack::{io, progress, Error, Limits, Reader, Result};
use rayon::prelude::*;

/// Arguments of `decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The pack to decode.
    pack: PathBuf,
    /// Output folder [default: PACK without extension, plus "-decoded"].
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Scale every image by this factor (1 = original size).
    #[arg(long, conflicts_with = "size")]
    scale: Option<f64>,
    /// Render every image at exactly WIDTHxHEIGHT.
    #[arg(long, value_parser = parse_size)]
    size: Option<(u32, u32)>,
    /// Decode only the image with this name (repeatable).
    #[arg(long)]
    only: Vec<String>,
    /// Largest output image, in pixels.
    #[arg(long, default_value_t = Limits::default().max_render_pixels)]
    max_pixels: u64,
    /// No progress bar.
    #[arg(short, long)]
    quiet: bool,
}

fn parse_size(s: &str) -> std::result::Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, got {s:?}"))?;
    let w: u32 = w.parse().map_err(|_| format!("bad width in {s:?}"))?;
    let h: u32 = h.parse().map_err(|_| format!("bad height in {s:?}"))?;
    if w == 0 || h == 0 {
        return Err("width and height must be positive".into());
    }
    Ok((w, h))
}

/// Output size of a `width x height` image for the requested scale or size.
fn target_size(
    width: u32,
    height: u32,
    scale: Option<f64>,
    size: Option<(u32, u32)>,
) -> Result<(u32, u32)> {
    if let Some(s) = size {
        return Ok(s);
    }
    let f = scale.unwrap_or(1.0);
    if !(f.is_finite() && f > 0.0) {
        return Err(Error::Usage(format!(
            "--scale must be a positive number, got {f}"
        )));
    }
    let dim = |v: u32| -> Result<u32> {
        let out = (f64::from(v) * f).round().max(1.0);
        if out > f64::from(u32::MAX) {
            return Err(Error::Limits(format!(
                "--scale {f:.3e} gives a side over 2^32 pixels"
            )));
        }
        Ok(out as u32)
    };
    Ok((dim(width)?, dim(height)?))
}

pub fn run(a: DecodeArgs) -> Result<()> {
    let limits = Limits {
        max_render_pixels: a.max_pixels,
        ..Limits::default()
    };
    let start = Instant::now();
    let mut reader = Reader::open(&a.pack, limits)?;
    let mut chosen = Vec::new();
    for name in &a.only {
        chosen.push(reader.find(name)?.ok_or_else(|| {
            Error::Usage(format!(
                "--only {name:?}: no such image in {}",
                a.pack.display()
            ))
        })?);
    }
    if a.only.is_empty() {
        chosen = (0..reader.len()).collect();
    }
    let out_dir = a
        .output
        .clone()
        .unwrap_or_else(|| super::sibling(&a.pack, "-decoded"));
    let mut jobs = Vec::with_capacity(chosen.len());
    for &i in &chosen {
        let e = reader.index()?[i].clone();
        let (w, h) = target_size(e.width, e.height, a.scale, a.size)?;
        limits.check_render(w, h).map_err(|err| match err {
            Error::Limits(m) => {
                Error::Limits(format!("{}: {m} (raise it with --max-pixels)", e.name))
            }
            other => other,
        })?;
        let path = io::output_path(&out_dir, &e.name).map_err(|e| e.in_file(&a.pack))?;
        jobs.push((reader.latent(i)?, w, h, e.channels, path));
    }
    let renderer = reader.renderer()?;
    let bar = progress::bar(jobs.len() as u64, "decoding", a.quiet);
    jobs.par_iter().try_for_each(|(z, w, h, channels, path)| {
        let pixels = renderer.render(z, *w, *h, *channels)?;
        io::write_png(path, *w, *h, *channels, &pixels)?;
        bar.inc(1);
        Ok::<(), Error>(())
    })?;
    bar.finish_and_clear();
    let out_pixels: u64 = jobs
        .iter()
        .map(|(_, w, h, _, _)| u64::from(*w) * u64::from(*h))
        .sum();
    if !a.quiet {
        super::emit(&format!(
            "decoded {} images ({:.2} megapixels) into {} in {:.2} s\n",
            jobs.len(),
            out_pixels as f64 / 1e6,
            out_dir.display(),
            start.elapsed().as_secs_f64()
        ))?;
    }
    Ok(())
}
