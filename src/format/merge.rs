//! Joining packs that share a decoder into one, without re-encoding.
use std::collections::HashMap;
use std::path::PathBuf;

use super::Pack;
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
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (k, (path, part)) in parts.iter().enumerate() {
        for e in &part.index {
            if let Some(earlier) = owner.insert(&e.name, k) {
                let where_ = if earlier == k {
                    "twice in this pack".to_string()
                } else {
                    format!(
                        "also in {} (part {})",
                        ShownPath(&parts[earlier].0),
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
    let mut merged = first.clone();
    for (_, part) in rest {
        merged.index.extend_from_slice(&part.index);
        merged.codes.extend_from_slice(&part.codes);
    }
    Ok(merged)
}
