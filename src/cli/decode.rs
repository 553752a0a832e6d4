//! `gonpack decode`.
use std::path::PathBuf;
use std::time::Instant;

use crate::{io, progress, Error, Reader, Result};
use clap::Args;
use rayon::prelude::*;

/// Arguments of `decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The pack to decode.
    pack: PathBuf,
    /// Output folder [default: PACK without extension, plus "-decoded"].
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    size: super::size::SizeArgs,
    /// Decode only the image with this name (repeatable).
    #[arg(long)]
    only: Vec<String>,
    /// No progress bar.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(a: DecodeArgs) -> Result<()> {
    let start = Instant::now();
    let mut reader = Reader::open(&a.pack, a.size.limits())?;
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
        let (w, h) = a.size.target(&e.name, e.width, e.height, 1.0)?;
        let path = io::output_path(&out_dir, &e.name).map_err(|e| e.in_file(&a.pack))?;
        jobs.push((reader.latent(i)?, e, w, h, path));
    }
    let patches = reader.header().patches;
    let renderer = reader.renderer()?;
    let bar = progress::bar(jobs.len() as u64, "decoding", a.quiet);
    jobs.par_iter().try_for_each(|(z, e, w, h, path)| {
        let mut pixels = vec![0u8; *w as usize * *h as usize * usize::from(e.channels)];
        let source = (e.width, e.height);
        renderer.render_image(patches, z, source, (*w, *h), e.channels, &mut pixels)?;
        io::write_png(path, *w, *h, e.channels, &pixels)?;
        bar.inc(1);
        Ok::<(), Error>(())
    })?;
    bar.finish_and_clear();
    let out_pixels: u64 = jobs
        .iter()
        .map(|(_, _, w, h, _)| u64::from(*w) * u64::from(*h))
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
