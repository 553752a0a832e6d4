//! The four latent codings of a grid pack on the same codes (format-spec §11.5): the plain
//! plane-major codes compressed by zstd, the range coder under each plane's geometric law
//! (§12), the range coder under the context model (§12.7) and under the phased context model
//! (§12.8), as whole files:
//! `cargo run --release --example latent_coding -- PACK...`. A writer stores the smallest
//! ([`GridPack::to_bytes`]).
use gonpack::consts::{
    LATENT_CODING_CONTEXT, LATENT_CODING_PHASED, LATENT_CODING_PLAIN, LATENT_CODING_RANGE,
};
use gonpack::format::grid_pack::GridPack;
use gonpack::{Limits, Reader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("| pack | images | codes | plain + zstd | range, per-plane laws | range, context model | phased context model | phased / context |");
    println!("|---|---|---|---|---|---|---|---|");
    for path in std::env::args().skip(1) {
        let pack: GridPack = Reader::open(&path, Limits::default())?.into_grid_pack()?;
        let latents = |coding| pack.to_bytes_with(coding).map(|(_, sizes)| sizes.latents);
        let (plain, range, context, phased) = (
            latents(LATENT_CODING_PLAIN)?,
            latents(LATENT_CODING_RANGE)?,
            latents(LATENT_CODING_CONTEXT)?,
            latents(LATENT_CODING_PHASED)?,
        );
        println!(
            "| {path} | {} | {} | {plain} | {range} | {context} | {phased} | {:.4} |",
            pack.len(),
            pack.codes.len(),
            phased as f64 / context as f64
        );
    }
    Ok(())
}
