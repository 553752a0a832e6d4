//! Where decoded images go: one PNG per image, named after it, under an output folder, with
//! no two images written to one file and nothing written through a symbolic link.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::{is_plain_relative_path, stem};
use crate::text::shown_path;

/// The file name an image decodes to: its name with the extension replaced by `.png`
/// (`a/b.jpg` → `a/b.png`, `c` → `c.png`).
pub fn png_name(name: &str) -> String {
    format!("{}.png", stem(name))
}

/// Output path for image `name` under `dir`: [`png_name`] as a relative path.
pub fn output_path(dir: &Path, name: &str) -> Result<PathBuf> {
    if !is_plain_relative_path(name) {
        return Err(Error::Format(format!(
            "image name {name:?} is not a plain relative path"
        )));
    }
    Ok(dir.join(png_name(name)))
}

/// The first two of `names` that decode to the same file ([`png_name`], compared without
/// regard to letter case, as on case-insensitive file systems): `same.png`, `same.jpg`,
/// `same` and `SAME.PNG` all would.
pub fn first_clash<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<(&'a str, &'a str)> {
    let mut seen: HashMap<String, &str> = HashMap::new();
    for name in names {
        if let Some(first) = seen.insert(png_name(name).to_lowercase(), name) {
            return Some((first, name));
        }
    }
    None
}

/// The message for two images that would decode to one file.
pub fn clash_message(a: &str, b: &str) -> String {
    format!(
        "{a:?} and {b:?} would both decode to {:?}; rename one of them",
        png_name(b)
    )
}

/// Creates the folders between `root` (created if missing; it may itself be a symbolic
/// link the caller chose) and the file `path` below it, refusing to go through a symbolic
/// link or a file: a link planted inside an output folder must not redirect writes.
pub fn create_dirs_within(root: &Path, path: &Path) -> Result<()> {
    std::fs::create_dir_all(root).map_err(|e| Error::io("create folder", root, e))?;
    let rel = path
        .parent()
        .and_then(|p| p.strip_prefix(root).ok())
        .ok_or_else(|| {
            Error::Usage(format!("{} is outside the output folder", shown_path(path)))
        })?;
    let mut at = root.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::Usage(
                    "is a symbolic link inside the output folder; refusing to write through it"
                        .into(),
                )
                .in_file(&at))
            }
            Ok(_) => {
                return Err(Error::Usage("is a file, not a folder".into()).in_file(&at));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match std::fs::create_dir(&at) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if !std::fs::symlink_metadata(&at).is_ok_and(|m| m.is_dir()) {
                        return Err(Error::io("create folder", &at, e));
                    }
                }
                Err(e) => return Err(Error::io("create folder", &at, e)),
            },
            Err(e) => return Err(Error::io("inspect", &at, e)),
        }
    }
    Ok(())
}

/// Encodes 8-bit samples as PNG and writes them atomically, creating folders as needed.
pub fn write_png(path: &Path, width: u32, height: u32, channels: u8, pixels: &[u8]) -> Result<()> {
    let png = encode_png(width, height, channels, pixels).map_err(|e| e.in_file(path))?;
    super::write_atomic(path, &png)
}

/// Encodes 8-bit samples as PNG: grey, grey + alpha, RGB or RGBA for 1 to 4 `channels`.
pub fn encode_png(width: u32, height: u32, channels: u8, pixels: &[u8]) -> Result<Vec<u8>> {
    let color = match channels {
        1 => image::ExtendedColorType::L8,
        2 => image::ExtendedColorType::La8,
        3 => image::ExtendedColorType::Rgb8,
        4 => image::ExtendedColorType::Rgba8,
        c => return Err(Error::Usage(format!("cannot write {c} channels as PNG"))),
    };
    let mut buf = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut buf),
        pixels,
        width,
        height,
        color,
    )
    .map_err(|e| Error::Usage(format!("cannot encode PNG: {e}")))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_decode_to_one_file_clash() {
        assert_eq!(png_name("a/b.jpg"), "a/b.png");
        assert_eq!(png_name("c"), "c.png");
        assert_eq!(
            first_clash(["same.png", "other.png", "same.jpg"]),
            Some(("same.png", "same.jpg"))
        );
        assert_eq!(
            first_clash(["same", "x", "same.PNG"]),
            Some(("same", "same.PNG"))
        );
        assert_eq!(first_clash(["a.png", "a.png.png", "b/a.png"]), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_inside_the_output_folder_is_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), out.join("sub")).unwrap();
        let err = create_dirs_within(&out, &out.join("sub/deeper/x.png")).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(!elsewhere.path().join("deeper").exists());
        create_dirs_within(&out, &out.join("new/deeper/x.png")).unwrap();
        assert!(out.join("new/deeper").is_dir());
    }
}
