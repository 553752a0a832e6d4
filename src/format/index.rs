//! The per-image index: relative name, stored size and source channels.
use byteorder::{ByteOrder, LittleEndian as LE};

use crate::consts::MAX_NAME_LEN;
use crate::error::{Error, Result};

/// What the pack remembers about one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageEntry {
    /// Path relative to the encoded folder, `/`-separated.
    pub name: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Channels of the source image: 1 (grey) or 3 (colour).
    pub channels: u8,
}

/// Serialises the index.
pub fn write_index(entries: &[ImageEntry]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for e in entries {
        let name = e.name.as_bytes();
        if name.is_empty() || name.len() > MAX_NAME_LEN || !is_plain_relative_path(&e.name) {
            return Err(Error::Usage(format!(
                "image name {:?} cannot be stored",
                e.name
            )));
        }
        let mut fixed = [0u8; 11];
        LE::write_u16(&mut fixed[0..2], name.len() as u16);
        out.extend_from_slice(&fixed[0..2]);
        out.extend_from_slice(name);
        LE::write_u32(&mut fixed[2..6], e.width);
        LE::write_u32(&mut fixed[6..10], e.height);
        fixed[10] = e.channels;
        out.extend_from_slice(&fixed[2..11]);
    }
    Ok(out)
}

/// Whether `name` is `/`-separated components, none empty, `.` or `..`, and no NUL or `\\`.
pub fn is_plain_relative_path(name: &str) -> bool {
    !name.contains(['\0', '\\'])
        && name
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Parses exactly `count` entries filling all of `raw`.
pub fn read_index(raw: &[u8], count: usize) -> Result<Vec<ImageEntry>> {
    let bad = |i: usize, what: &str| Error::Format(format!("index entry {i}: {what}"));
    let mut entries = Vec::with_capacity(count.min(raw.len() / 11));
    let mut seen = std::collections::HashSet::new();
    let mut pos = 0usize;
    for i in 0..count {
        let len_end = pos + 2;
        if len_end > raw.len() {
            return Err(bad(i, "ends early"));
        }
        let len = usize::from(LE::read_u16(&raw[pos..len_end]));
        if len == 0 || len > MAX_NAME_LEN {
            return Err(bad(i, "name length out of range"));
        }
        let end = len_end + len + 9;
        if end > raw.len() {
            return Err(bad(i, "ends early"));
        }
        let name = std::str::from_utf8(&raw[len_end..len_end + len])
            .map_err(|_| bad(i, "name is not UTF-8"))?
            .to_owned();
        if !is_plain_relative_path(&name) {
            return Err(bad(i, "name is not a plain relative path"));
        }
        if !seen.insert(name.clone()) {
            return Err(bad(i, "name appears twice"));
        }
        let f = &raw[len_end + len..end];
        let entry = ImageEntry {
            name,
            width: LE::read_u32(&f[0..4]),
            height: LE::read_u32(&f[4..8]),
            channels: f[8],
        };
        if entry.width == 0 || entry.height == 0 {
            return Err(bad(i, "zero width or height"));
        }
        if !(1..=4).contains(&entry.channels) {
            return Err(bad(i, "source channels must be 1 to 4"));
        }
        entries.push(entry);
        pos = end;
    }
    if pos != raw.len() {
        return Err(Error::Format(format!(
            "index has {} bytes after the last entry",
            raw.len() - pos
        )));
    }
    Ok(entries)
}

/// `name` without the extension of its last component (`sub/a.png` → `sub/a`; a leading dot
/// is not an extension).
pub fn stem(name: &str) -> &str {
    let last = name.rfind('/').map_or(0, |k| k + 1);
    match name[last..].rfind('.') {
        Some(dot) if dot > 0 => &name[..last + dot],
        _ => name,
    }
}

/// The entry a user means by `query`: the one named exactly `query`, else the only one whose
/// name without its extension ([`stem`]) is `query`. Otherwise a usage error that lists the
/// candidates when several match, or up to three near names when none does.
pub fn resolve(entries: &[ImageEntry], query: &str) -> Result<usize> {
    if let Some(i) = entries.iter().position(|e| e.name == query) {
        return Ok(i);
    }
    let by_stem: Vec<usize> = (0..entries.len())
        .filter(|&i| stem(&entries[i].name) == query)
        .collect();
    let quoted = |ids: &mut dyn Iterator<Item = usize>| {
        ids.map(|i| format!("{:?}", entries[i].name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match by_stem[..] {
        [i] => Ok(i),
        [] => {
            let mut near: Vec<(usize, usize)> = entries
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let d = strsim::levenshtein(query, &e.name)
                        .min(strsim::levenshtein(query, stem(&e.name)));
                    (d, i)
                })
                .filter(|&(d, _)| d <= (query.chars().count() / 3).max(2))
                .collect();
            near.sort_unstable();
            let hint = if near.is_empty() {
                String::new()
            } else {
                let names = quoted(&mut near.iter().take(3).map(|&(_, i)| i));
                format!("; did you mean {names}?")
            };
            Err(Error::Usage(format!("no image named {query:?}{hint}")))
        }
        _ => Err(Error::Usage(format!(
            "{query:?} is ambiguous: it names {}; give the whole name",
            quoted(&mut by_stem.iter().copied())
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(names: &[&str]) -> Vec<ImageEntry> {
        names
            .iter()
            .map(|n| ImageEntry {
                name: n.to_string(),
                width: 1,
                height: 1,
                channels: 1,
            })
            .collect()
    }

    #[test]
    fn names_resolve_exactly_then_by_unambiguous_stem() {
        let e = entries(&[
            "00000_5.png",
            "sub/a.png",
            "sub/a.jpg",
            "b",
            ".hidden",
            "c.d.png",
        ]);
        assert_eq!(resolve(&e, "00000_5.png").unwrap(), 0);
        assert_eq!(resolve(&e, "00000_5").unwrap(), 0);
        assert_eq!(resolve(&e, "b").unwrap(), 3);
        assert_eq!(resolve(&e, ".hidden").unwrap(), 4);
        assert_eq!(resolve(&e, "c.d").unwrap(), 5);
        assert_eq!(resolve(&e, "sub/a.jpg").unwrap(), 2);
        let msg = resolve(&e, "sub/a").unwrap_err().to_string();
        assert_eq!(
            msg,
            r#""sub/a" is ambiguous: it names "sub/a.png", "sub/a.jpg"; give the whole name"#
        );
        let msg = resolve(&e, "00000_6").unwrap_err().to_string();
        assert_eq!(
            msg,
            r#"no image named "00000_6"; did you mean "00000_5.png"?"#
        );
        let msg = resolve(&e, "zzzzzzzzzz").unwrap_err().to_string();
        assert_eq!(msg, r#"no image named "zzzzzzzzzz""#);
    }
}
