//! The two latent codings of a grid pack on the same codes (format-spec §11.5): the range
//! coder driven by each plane's geometric model (§12) against the plain plane-major codes
//! compressed by zstd, as whole files: `cargo run --release --example latent_coding -- PACK...`.
//! A writer stores the smaller ([`GridPack::to_bytes`]).
use gonpack::consts::{LATENT_CODING_PLAIN, LATENT_CODING_RANGE};
use gonpack::format::grid_pack::GridPack;
use gonpack::{Limits, Reader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("| pack | images | codes | plain + zstd: latent bytes | range coder: latent bytes | range / plain |");
    println!("|---|---|---|---|---|---|");
    for path in std::env::args().skip(1) {
        let pack: GridPack = Reader::open(&path, Limits::default())?.into_grid_pack()?;
        let latents = |coding| pack.to_bytes_with(coding).map(|(_, sizes)| sizes.latents);
        let (plain, range) = (latents(LATENT_CODING_PLAIN)?, latents(LATENT_CODING_RANGE)?);
        println!(
            "| {path} | {} | {} | {plain} | {range} | {:.3} |",
            pack.len(),
            pack.codes.len(),
            range as f64 / plain as f64
        );
    }
    Ok(())
}
