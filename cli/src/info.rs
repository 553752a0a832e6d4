//! `gonpack info`.
use std::fmt::Write;
use std::path::PathBuf;

use clap::Args;
use gonpack::consts::{LATENT_CODING_CONTEXT, LATENT_CODING_PHASED, LATENT_CODING_RANGE};
use gonpack::text::{shown, ShownPath};
use gonpack::{Output, Reader, Result};

/// Arguments of `info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The pack to inspect.
    pack: PathBuf,
    /// Print JSON (every image) instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    limits: super::size::LimitArgs,
}

/// Images listed by the text output before it summarises the rest.
const TEXT_LIST: usize = 20;

pub fn run(a: InfoArgs) -> Result<()> {
    let mut reader = Reader::open(&a.pack, a.limits.limits())?;
    let (header, sizes) = (*reader.header(), reader.sizes());
    let rate = reader.rate()?;
    let s = &header.shape;
    let weights = if header.weight_format == gonpack::consts::WEIGHTS_F16 {
        "f16"
    } else {
        "f32"
    };
    let output = match s.output {
        Output::Identity => "identity",
        Output::Logistic => "logistic",
    };
    let index = reader.index()?;
    let pixels: u64 = index
        .iter()
        .map(|e| u64::from(e.width) * u64::from(e.height))
        .sum();
    let grid = header.grid;
    if a.json {
        let images: Vec<_> = index
            .iter()
            .map(|e| {
                serde_json::json!({"name": e.name, "width": e.width, "height": e.height,
                    "channels": e.channels})
            })
            .collect();
        let doc = serde_json::json!({
            "file": a.pack.display().to_string(),
            "version": header.version(),
            "patch": header.patches.patch,
            "overlap": header.patches.overlap,
            "latent_count": header.latent_count,
            "channels": s.channels,
            "latent_dim": s.latent_dim,
            "hidden": s.hidden,
            "layers": s.layers,
            "modulated_layers": s.modulated,
            "w0_first": s.w0_first,
            "w0_hidden": s.w0_hidden,
            "output": output,
            "bits": header.bits,
            "weight_format": weights,
            "parameters": s.param_count(),
            "image_count": index.len(),
            "pixels": pixels,
            "total_bytes": sizes.total(),
            "header_bytes": sizes.header,
            "decoder_bytes": sizes.decoder,
            "latent_bytes": sizes.latents,
            "index_bytes": sizes.index,
            "bits_per_pixel": sizes.total() as f64 * 8.0 / pixels.max(1) as f64,
            "images": images,
        });
        let mut doc = doc;
        doc["model"] = "vector".into();
        if let Some(g) = grid {
            // A grid pack: its own architecture fields instead of the vector model's.
            let o = doc.as_object_mut().expect("an object");
            for key in [
                "latent_dim",
                "modulated_layers",
                "w0_first",
                "w0_hidden",
                "bits",
            ] {
                o.remove(key);
            }
            o.insert("model".into(), "grid".into());
            o.insert("levels".into(), g.levels.into());
            o.insert("rate_weight".into(), rate.into());
            o.insert("global_latents".into(), g.global.into());
            o.insert("frequencies".into(), g.frequencies.into());
            o.insert("sampling".into(), g.sampling.name().into());
            o.insert("gon_steps".into(), g.steps.into());
            o.insert("parameters".into(), g.param_count().into());
            o.insert(
                "latent_coding".into(),
                coding_name(header.latent_coding).0.into(),
            );
        }
        let json = serde_json::to_string_pretty(&doc).expect("JSON of plain values");
        return super::emit(&(json + "\n"));
    }
    let mut o = String::new();
    writeln!(o, "{}: gonpack v{}", ShownPath(&a.pack), header.version()).ok();
    if let Some(g) = grid {
        writeln!(
            o,
            "  decoder  latent grids: {} levels ({} sampling) + {} global, {} Fourier frequencies, {} sine layers x {} wide, {} channel(s), {} output, {} parameters ({})",
            g.levels, g.sampling.name(), g.global, g.frequencies, g.layers, g.hidden, g.channels, output, g.param_count(), weights
        )
        .ok();
        writeln!(
            o,
            "  latents  {} images, {} grid values in all, {}",
            index.len(),
            header.latent_count,
            coding_name(header.latent_coding).1
        )
        .ok();
        if let Some(l) = rate {
            writeln!(
                o,
                "  encoded  at rate weight λ = {l:.6} (what images encoded against this decoder default to)"
            )
            .ok();
        }
    } else {
        writeln!(
        o,
        "  decoder  SIREN {} sine layers x {} wide, w0 {} / {}, latent {} into {} layer(s), {} channel(s), {} output, {} parameters ({})",
        s.layers,
        s.hidden,
        s.w0_first,
        s.w0_hidden,
        s.latent_dim,
        s.modulated,
        s.channels,
        output,
        s.param_count(),
        weights
    )
    .ok();
        writeln!(
            o,
            "  latents  {} images x {} dims x {} bits",
            index.len(),
            s.latent_dim,
            header.bits
        )
        .ok();
        if header.patches.patch > 0 {
            let patched = index
                .iter()
                .filter(|e| !header.patches.is_whole(e.width, e.height))
                .count();
            writeln!(
            o,
            "  patches  {patched} image(s) larger than {0}x{0} cut into patches of {0} + {1} margin; {2} latents in all",
            header.patches.patch, header.patches.overlap, header.latent_count
        )
        .ok();
        }
    }
    o += &super::size_lines(&sizes, pixels);
    for e in index.iter().take(TEXT_LIST) {
        let kind = gonpack::pixels::channel_name(e.channels);
        writeln!(
            o,
            "  {:>5}x{:<5} {kind:4} {}",
            e.width,
            e.height,
            shown(&e.name)
        )
        .ok();
    }
    if index.len() > TEXT_LIST {
        writeln!(
            o,
            "  ... and {} more (--json lists all)",
            index.len() - TEXT_LIST
        )
        .ok();
    }
    super::emit(&o)
}

/// A grid pack's latent coding (format-spec §11.5): its JSON name and its description.
fn coding_name(coding: u8) -> (&'static str, &'static str) {
    match coding {
        LATENT_CODING_RANGE => ("range", "range-coded under per-plane laws"),
        LATENT_CODING_CONTEXT => ("context", "range-coded under a context model"),
        LATENT_CODING_PHASED => (
            "phased",
            "range-coded under a context model with phased predictions",
        ),
        _ => ("plain", "zstd-compressed"),
    }
}
