//! Joining packs that share a decoder into one, without re-encoding.
use std::collections::HashMap;
use std::path::PathBuf;

use super::grid_pack::{fit_models, GridPack};
use super::{ImageEntry, Pack};
use crate::error::{Error, Result};
use crate::text::ShownPath;

/// One pack holding every image of `parts`, in order: the parts' index entries and latent
/// codes concatenated, so each image decodes exactly as it did from its part.
///
/// The parts must agree on everything an image's decoding depends on besides its own codes —
/// decoder weights and their stored precision, patch geometry, quantisation bits and ranges
/// (as `encode --decoder BASE` gives every part encoded against the same `BASE` with the same
/// `--bits`) — and no name may appear twice. Errors name the part at fault.
pub fn merge(parts: &[(PathBuf, Pack)]) -> Result<Pack> {
    let Some(((first_path, first), rest)) = parts.split_first() else {
        return Err(Error::Usage("no packs to merge".into()));
    };
    let first_name = ShownPath(first_path);
    for (path, part) in rest {
        let differs = |what: &str, hint: &str| {
            Error::Usage(format!(
                "its {what} differs from that of {first_name}: {hint}"
            ))
            .in_file(path)
        };
        if part.decoder != first.decoder || part.weight_format != first.weight_format {
            return Err(differs(
                "decoder",
                "only packs encoded against the same decoder (encode --decoder BASE) can be merged",
            ));
        }
        if part.patches != first.patches {
            return Err(differs(
                "patch geometry",
                "the packs come from different decoders",
            ));
        }
        if part.quant != first.quant {
            return Err(differs(
                "latent quantisation (bits or ranges)",
                "encode every part with the same --bits against the same --decoder",
            ));
        }
    }
    unique_names(parts.iter().map(|(path, p)| (path, p.index.as_slice())))?;
    let mut merged = first.clone();
    for (_, part) in rest {
        merged.index.extend_from_slice(&part.index);
        merged.codes.extend_from_slice(&part.codes);
    }
    Ok(merged)
}

/// One grid pack holding every image of `parts`, in order: index entries and codes
/// concatenated, the entropy models refitted to all codes (so the result is byte for byte the
/// pack one `encode --decoder BASE` run over all the images writes; the rate weight is kept
/// where every part has the same, else dropped). The parts must share
/// the decoder and its stored precision, and no name may appear twice.
pub fn merge_grids(parts: &[(PathBuf, GridPack)]) -> Result<GridPack> {
    let Some(((first_path, first), rest)) = parts.split_first() else {
        return Err(Error::Usage("no packs to merge".into()));
    };
    for (path, part) in rest {
        if part.decoder != first.decoder || part.weight_format != first.weight_format {
            return Err(Error::Usage(format!(
                "its decoder differs from that of {}: only packs encoded against the same decoder (encode --decoder BASE) can be merged",
                ShownPath(first_path)
            ))
            .in_file(path));
        }
    }
    unique_names(parts.iter().map(|(path, p)| (path, p.index.as_slice())))?;
    let mut merged = first.clone();
    for (_, part) in rest {
        merged.index.extend_from_slice(&part.index);
        merged.codes.extend_from_slice(&part.codes);
    }
    merged.models = fit_models(merged.shape(), &merged.index, &merged.codes);
    // The parts' rate weight where they agree (shards of one run do); else unknown.
    if rest.iter().any(|(_, p)| p.lambda != first.lambda) {
        merged.lambda = None;
    }
    Ok(merged)
}

/// An error naming the part at fault unless every name of the parts' indexes is unique.
fn unique_names<'a>(parts: impl Iterator<Item = (&'a PathBuf, &'a [ImageEntry])>) -> Result<()> {
    let parts: Vec<_> = parts.collect();
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (k, (path, index)) in parts.iter().enumerate() {
        for e in index.iter() {
            if let Some(earlier) = owner.insert(&e.name, k) {
                let where_ = if earlier == k {
                    "twice in this pack".to_string()
                } else {
                    format!(
                        "also in {} (part {})",
                        ShownPath(parts[earlier].0),
                        earlier + 1
                    )
                };
                return Err(Error::Usage(format!(
                    "image {:?} is {where_}: merged packs must not share names",
                    e.name
                ))
                .in_file(path));
            }
        }
    }
    Ok(())
}
