//! Files: reading a folder of images, atomic and locked writes, decoded PNGs.
mod atomic;
mod output;
mod shard;

use std::path::{Path, PathBuf};

pub use atomic::{lock_pack, remove_stale_temps, write_atomic, PackLock, PendingFile};
pub use output::{
    clash_message, create_dirs_within, encode_png, first_clash, output_path, png_name, write_png,
};
pub use shard::Shard;

use crate::error::{Error, Result};
use crate::format::{Pack, SizeBreakdown};
use crate::pixels::SourceImage;

/// What [`read_folder`] found besides images.
#[derive(Debug, Default)]
pub struct FolderReport {
    /// Files skipped because they are not images (by extension).
    pub skipped_other: Vec<PathBuf>,
    /// Image files skipped because they could not be decoded (`skip_invalid`), with the reason.
    pub skipped_invalid: Vec<(PathBuf, String)>,
    /// Images read with a loss: samples of more than 8 bits reduced to 8.
    pub converted: Vec<(PathBuf, String)>,
}

/// Reads every image under `dir` (recursively, sorted by path, following symbolic links).
///
/// Files whose extension no image format claims are skipped and reported. An image file that
/// fails to decode is an error naming it, unless `skip_invalid` is set.
pub fn read_folder(dir: &Path, skip_invalid: bool) -> Result<(Vec<SourceImage>, FolderReport)> {
    read_folder_part(dir, skip_invalid, Shard::ALL)
}

/// [`read_folder`] for one part of the folder: the image files (by extension, sorted by path)
/// are partitioned first, so every part sees the same partition whatever fails to decode,
/// and only this part's files are decoded.
pub fn read_folder_part(
    dir: &Path,
    skip_invalid: bool,
    shard: Shard,
) -> Result<(Vec<SourceImage>, FolderReport)> {
    let (files, mut report) = list_images(dir)?;
    let mut images = Vec::new();
    for (path, name) in &files[shard.range(files.len())] {
        let Some(name) = name else {
            let why = "file name is not valid UTF-8";
            if skip_invalid {
                report.skipped_invalid.push((path.clone(), why.into()));
                continue;
            }
            return Err(
                Error::Unsupported(format!("{why}; rename it or use --skip-invalid")).in_file(path),
            );
        };
        let img = image::ImageReader::open(path)
            .map_err(|e| Error::io("open", path, e))?
            .with_guessed_format()
            .map_err(|e| Error::io("read", path, e))?
            .decode();
        let img = match img {
            Ok(img) => img,
            Err(e) if skip_invalid => {
                report.skipped_invalid.push((path.clone(), e.to_string()));
                continue;
            }
            Err(source) => {
                return Err(Error::Image {
                    path: path.clone(),
                    source,
                })
            }
        };
        let color = img.color();
        if color.bytes_per_pixel() / color.channel_count() > 1 {
            let loss = "samples of more than 8 bits converted to 8 bits";
            report.converted.push((path.clone(), loss.into()));
        }
        images.push(SourceImage::from_dynamic(name.clone(), img));
    }
    Ok((images, report))
}

/// An image file and its name relative to the folder (`None` when not valid UTF-8: names are
/// stored as UTF-8, and two names that differ only in invalid bytes would become one).
type Listed = (PathBuf, Option<String>);

/// The image files under `dir` (by extension), sorted by path ([`Listed`]); other files go to
/// the report.
fn list_images(dir: &Path) -> Result<(Vec<Listed>, FolderReport)> {
    if !dir.is_dir() {
        return Err(Error::Usage("is not a folder".into()).in_file(dir));
    }
    let mut files = Vec::new();
    let mut report = FolderReport::default();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            Error::io("read folder", path, e.into())
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
        let rel = path.strip_prefix(dir).unwrap_or(path);
        let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
        files.push((path.to_path_buf(), parts.map(|p| p.join("/"))));
    }
    Ok((files, report))
}

/// Writing packs: defined here, with the atomic writes they use, rather than with the
/// container's structs below them.
impl Pack {
    /// Writes the pack atomically (temporary file in the same folder, then rename).
    pub fn write(&self, path: &Path) -> Result<SizeBreakdown> {
        let (bytes, sizes) = self.to_bytes()?;
        PendingFile::replacing(path)?.commit(&bytes)?;
        Ok(sizes)
    }
}
