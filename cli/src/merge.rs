//! `gonpack merge`.
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use gonpack::io::{lock_pack, PendingFile};
use gonpack::text::ShownPath;
use gonpack::{Error, Pack, Reader, Result};

/// Arguments of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The packs to join, in order (e.g. the parts of `encode --decoder BASE --shard I/N`).
    #[arg(required = true, num_args = 1..)]
    parts: Vec<PathBuf>,
    /// The merged pack (written atomically).
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    limits: super::size::LimitArgs,
}

pub fn run(a: MergeArgs) -> Result<()> {
    let start = Instant::now();
    if let Some(p) = a.parts.iter().find(|p| **p == a.output) {
        return Err(Error::Usage(format!(
            "{} is both a part and the output",
            ShownPath(p)
        )));
    }
    let pending = PendingFile::replacing(&a.output)?;
    let limits = a.limits.limits();
    let grid = Reader::open(&a.parts[0], limits)?.header().grid.is_some();
    let (bytes, sizes, count, pixels) = if grid {
        let mut parts = Vec::with_capacity(a.parts.len());
        for path in &a.parts {
            let pack = Reader::open(path, limits)?
                .into_grid_pack()
                .map_err(|e| e.in_file(path))?;
            parts.push((path.clone(), pack));
        }
        let merged = gonpack::format::merge::merge_grids(&parts)?;
        let (bytes, sizes) = merged.to_bytes()?;
        (bytes, sizes, merged.len(), merged.pixels())
    } else {
        let mut parts = Vec::with_capacity(a.parts.len());
        for path in &a.parts {
            let (pack, _) = Pack::read(path, &limits)?;
            parts.push((path.clone(), pack));
        }
        let merged = gonpack::format::merge::merge(&parts)?;
        let (bytes, sizes) = merged.to_bytes()?;
        (bytes, sizes, merged.len(), merged.pixels())
    };
    let _lock = lock_pack(pending.path())?;
    pending.commit(&bytes)?;
    let mut o = format!(
        "merged {} packs ({count} images) into {}\n",
        a.parts.len(),
        ShownPath(&a.output)
    );
    o += &super::size_lines(&sizes, pixels);
    o += &format!("  time     {:.2} s\n", start.elapsed().as_secs_f64());
    super::emit(&o)
}
