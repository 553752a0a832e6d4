//! `gonpack extract`.
use std::path::PathBuf;

use crate::{io, Error, Reader, Result};
use clap::Args;

/// Arguments of `extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// The pack.
    pack: PathBuf,
    /// Name of the image, as `gonpack info` lists it.
    name: String,
    /// Output PNG [default: the image's file name with extension .png, in the current folder].
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    size: super::size::SizeArgs,
}

pub fn run(a: ExtractArgs) -> Result<()> {
    let mut reader = Reader::open(&a.pack, a.size.limits())?;
    let i = reader.find(&a.name)?.ok_or_else(|| {
        Error::Usage(format!(
            "{:?}: no such image in {}",
            a.name,
            a.pack.display()
        ))
    })?;
    let e = reader.index()?[i].clone();
    let (w, h) = a.size.target(&e.name, e.width, e.height, 1.0)?;
    let mut pixels = vec![0u8; reader.buffer_len(i, w, h)?];
    reader.render_into(i, w, h, &mut pixels)?;
    let output = a.output.clone().unwrap_or_else(|| {
        let file = e.name.rsplit('/').next().unwrap_or(&e.name);
        PathBuf::from(file).with_extension("png")
    });
    io::write_png(&output, w, h, e.channels, &pixels)?;
    super::emit(&format!("{} ({w}x{h}) -> {}\n", e.name, output.display()))
}
