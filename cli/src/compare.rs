//! `gonpack compare`.
use std::path::PathBuf;

use clap::Args;
use gonpack::render::metrics::image_psnr;
use gonpack::sheet::{Canvas, GLYPH};
use gonpack::{Error, Reader, Result};

use super::interpolate::GAP;

/// Arguments of `compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The pack.
    pack: PathBuf,
    /// Folder holding the original images: the one that was encoded, or a sub-folder of it.
    dir: PathBuf,
    /// Output PNG [default: PACK without extension, plus "-compare.png"].
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Enlargement of the panels: originals and stored-size decodes are blown up with
    /// nearest-neighbour pixels, the third panel is decoded at this scale.
    #[arg(long, default_value_t = 4)]
    zoom: u32,
    /// At most this many images (the first ones of the pack found in DIR).
    #[arg(long, default_value_t = 16)]
    limit: usize,
    #[command(flatten)]
    limits: super::size::LimitArgs,
}

/// Scale of the label font.
const FONT: u32 = 2;

pub fn run(a: CompareArgs) -> Result<()> {
    if a.zoom == 0 || a.zoom > 16 {
        return Err(Error::Usage("--zoom must be 1 to 16".into()));
    }
    let mut reader = Reader::open(&a.pack, a.limits.limits())?;
    let originals = super::read_images(&a.dir, gonpack::io::Shard::ALL, false, false)?;
    let mut rows = Vec::new();
    for img in originals {
        if rows.len() == a.limit {
            break;
        }
        // DIR may be the encoded folder or one of its sub-folders ("photos/x.png" in the
        // pack is "x.png" under DIR/photos).
        let suffix = format!("/{}", img.name);
        let found = reader
            .index()?
            .iter()
            .position(|e| e.name == img.name || e.name.ends_with(&suffix));
        if let Some(i) = found {
            rows.push((i, img));
        }
    }
    if rows.is_empty() {
        return Err(Error::Usage(format!(
            "no image of {} is in {}",
            gonpack::text::ShownPath(&a.dir),
            gonpack::text::ShownPath(&a.pack)
        )));
    }
    let z = a.zoom;
    let panel_w = rows.iter().map(|(_, img)| img.width).max().unwrap_or(1) * z;
    let label_w = Canvas::text_width("00.00 dB", FONT) + 2 * GAP;
    let header = (GLYPH.1 + 2) * FONT;
    let height: u32 = header
        + rows
            .iter()
            .map(|(_, img)| img.height * z + GAP)
            .sum::<u32>();
    let limits = a.limits.limits();
    let width = 3 * (u64::from(panel_w) + u64::from(GAP)) + u64::from(label_w);
    let mut sheet = Canvas::new(width, u64::from(height), 255, &limits)?;
    let black = [0; 3];
    sheet.text(panel_w + GAP, 0, "1x", FONT, black);
    sheet.text(2 * (panel_w + GAP), 0, &format!("{z}x"), FONT, black);
    let mut table = String::new();
    let (mut y, mut sum) = (header, 0.0);
    for (i, img) in &rows {
        let (w, h, c) = (img.width, img.height, img.channels);
        let stored = reader.render(*i, w, h)?.into_bytes();
        let large = reader.render(*i, w * z, h * z)?.into_bytes();
        let psnr = image_psnr(&stored, &img.pixels, img.channels);
        sum += psnr;
        sheet.paste(0, y, w, h, c, &img.pixels, z);
        sheet.paste(panel_w + GAP, y, w, h, c, &stored, z);
        sheet.paste(2 * (panel_w + GAP), y, w * z, h * z, c, &large, 1);
        let label = format!("{psnr:.2} dB");
        sheet.text(
            3 * (panel_w + GAP) + GAP,
            y + (h * z).saturating_sub(GLYPH.1 * FONT) / 2,
            &label,
            FONT,
            black,
        );
        table += &format!("  {psnr:6.2} dB  {}\n", gonpack::text::shown(&img.name));
        y += h * z + GAP;
    }
    let output = super::save_picture(&sheet, &a.output, &a.pack, "-compare.png")?;
    super::emit(&format!(
        "{} images (original | decoded | decoded at {z}x), mean PSNR {:.2} dB -> {}\n{table}",
        rows.len(),
        sum / rows.len() as f64,
        gonpack::text::ShownPath(&output)
    ))
}
