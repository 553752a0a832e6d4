//! `gonpack extract`.
use std::path::PathBuf;

use clap::Args;
use gonpack::text::{shown, ShownPath};
use gonpack::{io, Reader, Result};

/// Arguments of `extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// The pack.
    pack: PathBuf,
    /// The image: its name as `gonpack info` lists it, or that name without the extension
    /// when no other image shares it.
    name: String,
    /// Output PNG [default: the image's file name with extension .png, in the current folder].
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    size: super::size::SizeArgs,
}

pub fn run(a: ExtractArgs) -> Result<()> {
    let mut reader = Reader::open(&a.pack, a.size.limits())?;
    let i = reader.resolve(&a.name)?;
    let e = reader.index()?[i].clone();
    let (w, h) = a.size.target(&e.name, e.width, e.height, 1.0)?;
    let len = reader.buffer_len(i, w, h)?;
    let output = a.output.clone().unwrap_or_else(|| {
        let name = io::png_name(&e.name);
        PathBuf::from(name.rsplit('/').next().unwrap_or(&name))
    });
    let pending = io::PendingFile::replacing(&output)?;
    let mut pixels = gonpack::format::limits::zeroed(len)?;
    reader.render_into(i, w, h, &mut pixels)?;
    pending.commit(&io::encode_png(w, h, e.channels, &pixels)?)?;
    super::emit(&format!(
        "{} ({w}x{h}) -> {}\n",
        shown(&e.name),
        ShownPath(&output)
    ))
}
