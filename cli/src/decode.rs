//! `gonpack decode`.
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use gonpack::text::ShownPath;
use gonpack::{io, progress, Error, Reader, Result};
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
    /// Decode only this image: its name, or its name without the extension when that is
    /// unambiguous (repeatable).
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
        let i = reader.resolve(name)?;
        if !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    if a.only.is_empty() {
        chosen = (0..reader.len()).collect();
    }
    let out_dir = a
        .output
        .clone()
        .unwrap_or_else(|| super::sibling(&a.pack, "-decoded"));
    // Every output path, size and limit is checked before anything is rendered or written.
    let index = reader.index()?;
    if let Some((x, y)) = io::first_clash(chosen.iter().map(|&i| index[i].name.as_str())) {
        return Err(Error::Format(io::clash_message(x, y)).in_file(&a.pack));
    }
    let mut jobs = Vec::with_capacity(chosen.len());
    for &i in &chosen {
        let e = reader.index()?[i].clone();
        let (w, h) = a.size.target(&e.name, e.width, e.height, 1.0)?;
        let len = reader.buffer_len(i, w, h)?;
        let path = io::output_path(&out_dir, &e.name).map_err(|e| e.in_file(&a.pack))?;
        jobs.push((i, e, w, h, len, path));
    }
    let mut dirs = BTreeSet::new();
    for (.., path) in &jobs {
        io::create_dirs_within(&out_dir, path)?;
        dirs.insert(path.parent().map(PathBuf::from).unwrap_or_default());
    }
    for dir in &dirs {
        io::remove_stale_temps(dir, None)?;
    }
    let work = jobs;
    let render = reader.prepare()?;
    let bar = progress::bar(work.len() as u64, "decoding", a.quiet);
    work.par_iter().try_for_each(|(i, e, w, h, len, path)| {
        let mut pixels = gonpack::format::limits::zeroed(*len)?;
        render(*i, (*w, *h), e.channels, &mut pixels)?;
        io::write_png(path, *w, *h, e.channels, &pixels)?;
        bar.inc(1);
        Ok::<(), Error>(())
    })?;
    bar.finish_and_clear();
    let out_pixels: u64 = work
        .iter()
        .map(|(_, _, w, h, ..)| u64::from(*w) * u64::from(*h))
        .sum();
    if !a.quiet {
        super::emit(&format!(
            "decoded {} images ({:.2} megapixels) into {} in {:.2} s\n",
            work.len(),
            out_pixels as f64 / 1e6,
            ShownPath(&out_dir),
            start.elapsed().as_secs_f64()
        ))?;
    }
    Ok(())
}
