//! Files: atomic writes, reading a folder of images, writing decoded PNGs.
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically: a temporary file in the same folder (created if
/// missing), synced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    #[cfg(unix)]
    {
        // tempfile creates 0600; give the result the usual permissions of a new file.
        use std::os::unix::fs::PermissionsExt;
        let perms = std::fs::Permissions::from_mode(0o644);
        tmp.as_file()
            .set_permissions(perms)
            .map_err(|e| Error::io(path, e))?;
    }
    tmp.write_all(bytes).map_err(|e| Error::io(path, e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// An 8-bit image read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceImage {
    /// Path relative to the folder, `/`-separated.
    pub name: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// 1 (grey) or 3 (RGB).
    pub channels: u8,
    /// Interleaved 8-bit samples, row by row.
    pub pixels: Vec<u8>,
}

impl SourceImage {
    /// Converts a decoded image to 8 bits: grey stays grey, everything else becomes RGB; alpha
    /// is dropped (not composited).
    pub fn from_dynamic(name: String, img: image::DynamicImage) -> Self {
        let (width, height) = (img.width(), img.height());
        let grey = !img.color().has_color();
        let (channels, pixels) = if grey {
            (1, img.into_luma8().into_raw())
        } else {
            (3, img.into_rgb8().into_raw())
        };
        SourceImage {
            name,
            width,
            height,
            channels,
            pixels,
        }
    }

    /// The samples with `channels` channels (grey is replicated to RGB; RGB to grey is not needed).
    pub fn samples_as(&self, channels: u8) -> Vec<u8> {
        if channels == self.channels {
            self.pixels.clone()
        } else {
            self.pixels.iter().flat_map(|&g| [g, g, g]).collect()
        }
    }
}

/// What [`read_folder`] found besides images.
#[derive(Debug, Default)]
pub struct FolderReport {
    /// Files skipped because they are not images (by extension).
    pub skipped_other: Vec<PathBuf>,
    /// Image files skipped because they could not be decoded (`skip_invalid`), with the reason.
    pub skipped_invalid: Vec<(PathBuf, String)>,
    /// Images read with a loss: alpha dropped, or samples of more than 8 bits reduced to 8.
    pub converted: Vec<(PathBuf, String)>,
}

/// Reads every image under `dir` (recursively, sorted by path, following symbolic links).
///
/// Files whose extension no image format claims are skipped and reported. An image file that
/// fails to decode is an error naming it, unless `skip_invalid` is set.
pub fn read_folder(dir: &Path, skip_invalid: bool) -> Result<(Vec<SourceImage>, FolderReport)> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!("{} is not a folder", dir.display())));
    }
    let mut images = Vec::new();
    let mut report = FolderReport::default();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            Error::io(path, e.into())
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        let readable = image::ImageFormat::from_path(path).is_ok_and(|f| f.reading_enabled());
        if !readable {
            report.skipped_other.push(path.to_path_buf());
            continue;
        }
        let img = image::ImageReader::open(path)
            .map_err(|e| Error::io(path, e))?
            .with_guessed_format()
            .map_err(|e| Error::io(path, e))?
            .decode();
        let img = match img {
            Ok(img) => img,
            Err(e) if skip_invalid => {
                report
                    .skipped_invalid
                    .push((path.to_path_buf(), e.to_string()));
                continue;
            }
            Err(source) => {
                return Err(Error::Image {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let color = img.color();
        let mut losses = Vec::new();
        if color.has_alpha() {
            losses.push("alpha channel dropped");
        }
        if color.bytes_per_pixel() / color.channel_count() > 1 {
            losses.push("samples of more than 8 bits converted to 8 bits");
        }
        if !losses.is_empty() {
            report
                .converted
                .push((path.to_path_buf(), losses.join(", ")));
        }
        let rel = path.strip_prefix(dir).unwrap_or(path);
        let name = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        images.push(SourceImage::from_dynamic(name, img));
    }
    Ok((images, report))
}

/// Output path for image `name` under `dir`: same relative path, extension `.png`.
pub fn output_path(dir: &Path, name: &str) -> Result<PathBuf> {
    if !crate::format::is_plain_relative_path(name) {
        return Err(Error::Format(format!(
            "image name {name:?} is not a plain relative path"
        )));
    }
    Ok(dir.join(name).with_extension("png"))
}

/// Encodes 8-bit samples as PNG and writes them atomically, creating folders as needed.
pub fn write_png(path: &Path, width: u32, height: u32, channels: u8, pixels: &[u8]) -> Result<()> {
    let color = if channels == 1 {
        image::ExtendedColorType::L8
    } else {
        image::ExtendedColorType::Rgb8
    };
    let mut buf = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut buf),
        pixels,
        width,
        height,
        color,
    )
    .map_err(|source| Error::Image {
        path: path.to_path_buf(),
        source,
    })?;
    write_atomic(path, &buf)
}
