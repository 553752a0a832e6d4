//! The lazy pack reader: header and section table on open, each section when first needed.
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use byteorder::{ByteOrder, LittleEndian as LE};
use image::DynamicImage;

use crate::consts::*;
use crate::error::{Error, Result};
use crate::format::context::{self, read_context_models, Prediction};
use crate::format::entropy::{self, LevelModel};
use crate::format::grid::GridWeights;
use crate::format::grid_pack::{
    check_rate_weight, dequantise, fit_models, grid_runs, read_models, read_plain, runs, GridPack,
};
use crate::format::limits::Limits;
use crate::format::model::POINT_OVERHEAD;
use crate::format::model::{DecoderWeights, ModelShape};
use crate::format::quant::Quantiser;
use crate::format::section::{tag_name, SectionEntry};
use crate::format::{index, read_weights, Header, ImageEntry, Pack, SizeBreakdown};
use crate::pixels::{dynamic_image, renders};
use crate::render::grid::GridRenderer;
use crate::render::{RenderFn, Renderer};

/// Section tags in the order [`Reader`] keeps them.
const TAGS: [[u8; 4]; 4] = [TAG_DECODER, TAG_QUANT, TAG_LATENTS, TAG_INDEX];
const DECO: usize = 0;
const QUAN: usize = 1;
const LATN: usize = 2;
const INDX: usize = 3;

/// Reads a pack from any `Read + Seek` source, decoding each part only when asked for.
///
/// Opening reads and checks the 64-byte header and the section table (checksums, sizes the
/// header implies, sections inside the file, [`Limits`]); the index, decoder and latents
/// are read, checksummed and decompressed on first use and then kept. Errors from a reader
/// opened with [`Reader::open`] name the file.
///
/// ```
/// use gonpack::{Limits, Reader};
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/digits16.gonpack");
/// let mut reader = Reader::open(path, Limits::default())?;
/// assert_eq!((reader.len(), reader.shape().channels), (16, 1));
/// let entry = reader.index()?[0].clone();
/// // Image 0 at twice its size, into a buffer of our own.
/// let (w, h) = (2 * entry.width, 2 * entry.height);
/// let mut pixels = vec![0u8; reader.buffer_len(0, w, h)?];
/// reader.render_into(0, w, h, &mut pixels)?;
/// // Or as an `image::DynamicImage`, every image in turn.
/// for item in reader.images() {
///     let (entry, picture) = item?;
///     assert_eq!((picture.width(), picture.height()), (entry.width, entry.height));
/// }
/// # Ok::<(), gonpack::Error>(())
/// ```
pub struct Reader<R> {
    src: R,
    path: Option<PathBuf>,
    /// Size of the whole pack in bytes (work limits are relative to it).
    file_len: u64,
    /// Stored bytes of the ancillary sections.
    ancillary: u64,
    limits: Limits,
    header: Header,
    sections: [SectionEntry; 4],
    /// The first ancillary [`TAG_RATE`] section, if any (read and checked on use).
    rate: Option<SectionEntry>,
    index: Option<Vec<ImageEntry>>,
    /// First latent of each image plus the total, checked against the header.
    starts: Vec<usize>,
    decoder: Option<(DecoderWeights, Renderer)>,
    latents: Option<(Quantiser, Vec<u16>)>,
    grid_decoder: Option<(GridWeights, GridRenderer)>,
    grid_codes: Option<(Vec<LevelModel>, Vec<i16>)>,
}

impl Reader<BufReader<File>> {
    /// Opens the pack at `path`.
    pub fn open(path: impl AsRef<Path>, limits: Limits) -> Result<Self> {
        let path = path.as_ref();
        if path.is_dir() {
            return Err(Error::Usage("is a folder, not a pack file".into()).in_file(path));
        }
        let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        let mut reader = Reader::new(BufReader::new(file), limits).map_err(|e| e.in_file(path))?;
        reader.path = Some(path.to_path_buf());
        Ok(reader)
    }
}

impl<'a> Reader<Cursor<&'a [u8]>> {
    /// Reads a pack held in memory.
    pub fn from_slice(data: &'a [u8], limits: Limits) -> Result<Self> {
        Reader::new(Cursor::new(data), limits)
    }
}

impl<R: Read + Seek> Reader<R> {
    /// Reads and checks the header and section table of the pack `src` holds.
    pub fn new(mut src: R, limits: Limits) -> Result<Self> {
        let file_len = src.seek(SeekFrom::End(0)).map_err(io_err)?;
        src.seek(SeekFrom::Start(0)).map_err(io_err)?;
        let mut head = Vec::with_capacity(HEADER_LEN);
        (&mut src)
            .take(HEADER_LEN as u64)
            .read_to_end(&mut head)
            .map_err(io_err)?;
        let header = Header::parse(&head)?;
        let shape = header.shape;
        match header.grid {
            Some(g) => {
                limits.check_latents(u64::from(header.image_count), 1, file_len)?;
                limits.check_latents(u64::from(header.latent_count), 1, file_len)?;
                limits.check_decoder(g.param_count(), g.macs_per_point())?;
            }
            None => {
                limits.check_latents(
                    u64::from(header.latent_count),
                    shape.latent_dim as u64,
                    file_len,
                )?;
                limits.check_decoder(shape.param_count(), shape.macs_per_point())?;
            }
        }
        let table_end = table_end(&header);
        if file_len < table_end {
            return Err(Error::Truncated(format!(
                "section table needs {table_end} bytes, file has {file_len}"
            )));
        }
        let mut table = vec![0u8; table_end as usize - HEADER_LEN];
        src.read_exact(&mut table).map_err(io_err)?;
        let (entries, crc) = table.split_at(table.len() - TABLE_CRC_LEN);
        if crc32fast::hash(entries) != LE::read_u32(crc) {
            return Err(Error::Checksum("section table".into()));
        }
        let mut found: [Option<SectionEntry>; 4] = [None; 4];
        let mut rate = None;
        let mut ancillary = 0u64;
        for chunk in entries.chunks_exact(SECTION_ENTRY_LEN) {
            let e = SectionEntry::parse(chunk)?;
            match TAGS.iter().position(|t| *t == e.tag) {
                Some(k) if found[k].is_some() => {
                    return Err(Error::Format(format!(
                        "section {} appears twice",
                        tag_name(&e.tag)
                    )))
                }
                Some(k) => found[k] = Some(e),
                None if e.tag[0].is_ascii_lowercase() => {
                    ancillary = ancillary.saturating_add(e.stored_len);
                    if e.tag == TAG_RATE && rate.is_none() {
                        rate = Some(e);
                    }
                }
                None => {
                    return Err(Error::Unsupported(format!(
                        "critical section {}",
                        tag_name(&e.tag)
                    )))
                }
            }
        }
        let mut sections = [None; 4];
        for (k, e) in found.iter().enumerate() {
            let e = e.ok_or_else(|| {
                Error::Format(format!("section {} is missing", tag_name(&TAGS[k])))
            })?;
            e.check_placement(table_end, file_len, &limits)?;
            check_implied_size(&header, k, &e)?;
            sections[k] = Some(e);
        }
        Ok(Reader {
            src,
            path: None,
            file_len,
            limits,
            header,
            sections: sections.map(|e| e.expect("all four found above")),
            rate,
            ancillary,
            index: None,
            starts: Vec::new(),
            decoder: None,
            latents: None,
            grid_decoder: None,
            grid_codes: None,
        })
    }

    /// The fixed header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The decoder architecture.
    pub fn shape(&self) -> &ModelShape {
        &self.header.shape
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.header.image_count as usize
    }

    /// Whether the pack holds no image.
    pub fn is_empty(&self) -> bool {
        self.header.image_count == 0
    }

    /// Stored bytes of each part, from the section table.
    pub fn sizes(&self) -> SizeBreakdown {
        let s = &self.sections;
        SizeBreakdown {
            header: table_end(&self.header) + self.ancillary,
            decoder: s[DECO].stored_len,
            latents: s[QUAN].stored_len + s[LATN].stored_len,
            index: s[INDX].stored_len,
        }
    }

    /// The per-image index (read on first use).
    pub fn index(&mut self) -> Result<&[ImageEntry]> {
        if self.index.is_none() {
            let raw = self.section(INDX)?;
            let entries = index::read_index(&raw, self.len()).map_err(|e| self.named(e))?;
            let decoder = self.shape().channels as u8;
            if let Some(e) = entries.iter().find(|e| !renders(decoder, e.channels)) {
                let e = Error::Format(format!(
                    "image {:?} has {} channels, which a {decoder}-channel decoder cannot render",
                    e.name, e.channels
                ));
                return Err(self.named(e));
            }
            // Latents per image follow from the sizes; they must add up to the header's count.
            let mut starts = Vec::with_capacity(entries.len() + 1);
            let mut at = 0u64;
            starts.push(0);
            for e in &entries {
                at += self.units(e);
                if at > u64::from(self.header.latent_count) {
                    break;
                }
                starts.push(at as usize);
            }
            if at == u64::from(self.header.latent_count) {
                let points = entries.iter().fold(0u64, |sum, e| {
                    let size = (e.width, e.height);
                    sum.saturating_add(self.header.patches.points(size, size))
                });
                let work = self.work(points, at);
                if let Err(e) = self.limits.check_pack_work(work, self.file_len) {
                    return Err(self.named(e));
                }
            } else {
                let e = Error::Format(format!(
                    "the index implies {}{at} latent {}, the header says {}",
                    if starts.len() <= entries.len() {
                        "more than "
                    } else {
                        ""
                    },
                    if self.header.grid.is_some() {
                        "values"
                    } else {
                        "vectors"
                    },
                    self.header.latent_count
                ));
                return Err(self.named(e));
            }
            self.starts = starts;
            self.index = Some(entries);
        }
        Ok(self.index.as_deref().expect("set above"))
    }

    /// Position of the image called `name`.
    pub fn find(&mut self, name: &str) -> Result<Option<usize>> {
        Ok(self.index()?.iter().position(|e| e.name == name))
    }

    /// Position of the image a user means by `query`: its whole name, or its name without
    /// the extension when only one image has that stem ([`index::resolve`]); otherwise a
    /// usage error naming the candidates or near names.
    pub fn resolve(&mut self, query: &str) -> Result<usize> {
        let found = index::resolve(self.index()?, query);
        found.map_err(|e| self.named(e))
    }

    /// Latents of image `e`: vectors (one per patch) or grid values.
    fn units(&self, e: &ImageEntry) -> u64 {
        match &self.header.grid {
            Some(g) => g.latents(e.width, e.height),
            None => self.header.patches.units(e.width, e.height),
        }
    }

    /// The work of evaluating `points` points with `latents` latent vectors (or grid values).
    fn work(&self, points: u64, latents: u64) -> u64 {
        match &self.header.grid {
            Some(g) => points.saturating_mul(g.macs_per_point() + POINT_OVERHEAD),
            None => self.shape().work(points, latents),
        }
    }

    /// An error for a vector-model operation asked of a grid pack.
    fn vectors_only(&self, what: &str) -> Result<()> {
        match self.header.grid {
            Some(_) => Err(self.named(Error::Unsupported(format!(
                "{what}: this pack holds latent grids (version {GRID_VERSION} or later), not latent vectors"
            )))),
            None => Ok(()),
        }
    }

    /// The decoder weights (read on first use).
    pub fn decoder(&mut self) -> Result<&DecoderWeights> {
        Ok(&self.prepared_decoder()?.0)
    }

    /// The decoder prepared for rendering many images, e.g. in parallel (read on first use).
    pub fn renderer(&mut self) -> Result<&Renderer> {
        Ok(&self.prepared_decoder()?.1)
    }

    /// The dequantised latents of image `i`: `D` values for an image stored whole, one
    /// latent per patch (row by row) concatenated otherwise. The latent section is read on
    /// first use.
    pub fn latent(&mut self, i: usize) -> Result<Vec<f32>> {
        self.vectors_only("latent vectors")?;
        self.check_image(i)?;
        self.index()?;
        let (d, range) = (self.shape().latent_dim, self.starts[i]..self.starts[i + 1]);
        let (quant, codes) = self.codes()?;
        Ok(quant.dequantise(&codes[range.start * d..range.end * d]))
    }

    /// Bytes [`Self::render_into`] needs for image `i` at `width x height`, after checking
    /// the render against the limits (pixels and work).
    pub fn buffer_len(&mut self, i: usize, width: u32, height: u32) -> Result<usize> {
        let e = self.entry(i)?.clone();
        self.limits.check_render(width, height)?;
        let source = (e.width, e.height);
        let patches = self.header.patches;
        let points = patches.points(source, (width, height));
        let work = self.work(points, self.units(&e));
        self.limits.check_render_work(work)?;
        crate::render::buffer_len(width, height, e.channels).ok_or_else(|| {
            Error::Limits(format!("a {width}x{height} render does not fit in memory"))
        })
    }

    /// Renders image `i` at `width x height` into `buf`: row-major 8-bit samples with the
    /// image's own channel count; `buf` must be exactly [`Self::buffer_len`] bytes.
    pub fn render_into(&mut self, i: usize, width: u32, height: u32, buf: &mut [u8]) -> Result<()> {
        let need = self.buffer_len(i, width, height)?;
        if buf.len() != need {
            return Err(Error::Usage(format!(
                "buffer of {} bytes for a {width}x{height} render that needs {need}",
                buf.len()
            )));
        }
        let e = self.entry(i)?.clone();
        if self.header.grid.is_some() {
            let grids = self.grids(i)?;
            let renderer = &self.prepared_grid_decoder()?.1;
            return renderer.render_into(
                &grids,
                (e.width, e.height),
                (width, height),
                e.channels,
                buf,
            );
        }
        let z = self.latent(i)?;
        let patches = self.header.patches;
        let renderer = &self.prepared_decoder()?.1;
        renderer.render_image(
            patches,
            &z,
            (e.width, e.height),
            (width, height),
            e.channels,
            buf,
        )
    }

    /// Renders image `i` at `width x height` as an 8-bit image with its own channels (grey or
    /// RGB, with or without alpha).
    pub fn render(&mut self, i: usize, width: u32, height: u32) -> Result<DynamicImage> {
        let mut buf = crate::format::limits::zeroed(self.buffer_len(i, width, height)?)?;
        self.render_into(i, width, height, &mut buf)?;
        let image = dynamic_image(width, height, self.entry(i)?.channels, buf);
        Ok(image.expect("buffer length checked by render_into"))
    }

    /// Every image at its stored size, rendered one at a time as the iterator advances.
    pub fn images(&mut self) -> Images<'_, R> {
        Images {
            reader: self,
            next: 0,
        }
    }

    /// Every image's decoding, prepared once (decoder and latents read and decoded): a
    /// function that renders image `i` at `(width, height)` with `channels` channels into a
    /// buffer of exactly that size, callable from many threads. Sizes and limits are the
    /// caller's to check first ([`Self::buffer_len`]).
    pub fn prepare(&mut self) -> Result<RenderFn<'_>> {
        let n = self.len();
        self.index()?;
        if self.header.grid.is_some() {
            let grids = (0..n).map(|i| self.grids(i)).collect::<Result<Vec<_>>>()?;
            let renderer = &self.grid_decoder.as_ref().expect("read by grids").1;
            let index = self.index.as_deref().expect("read above");
            return Ok(Box::new(move |i, out, channels, buf| {
                let e = &index[i];
                renderer.render_into(&grids[i], (e.width, e.height), out, channels, buf)
            }));
        }
        let latents = (0..n).map(|i| self.latent(i)).collect::<Result<Vec<_>>>()?;
        self.prepared_decoder()?;
        let renderer = &self.decoder.as_ref().expect("read above").1;
        let index = self.index.as_deref().expect("read above");
        let patches = self.header.patches;
        Ok(Box::new(move |i, out, channels, buf| {
            let e = &index[i];
            renderer.render_image(
                patches,
                &latents[i],
                (e.width, e.height),
                out,
                channels,
                buf,
            )
        }))
    }

    /// The dequantised latent grids of image `i` of a grid pack, level after level
    /// (format-spec §11). The latent section is read and entropy-decoded on first use.
    pub fn grids(&mut self, i: usize) -> Result<Vec<f32>> {
        self.check_image(i)?;
        let e = self.entry(i)?.clone();
        let range = self.starts[i]..self.starts[i + 1];
        self.grid_codes()?;
        self.prepared_grid_decoder()?;
        let decoder = &self.grid_decoder.as_ref().expect("read above").0;
        let codes = &self.grid_codes.as_ref().expect("read above").1;
        Ok(dequantise(decoder, &e, &codes[range]))
    }

    /// Reads everything of a grid pack into a [`GridPack`].
    pub fn into_grid_pack(mut self) -> Result<GridPack> {
        let index = self.index()?.to_vec();
        let (models, codes) = self.grid_codes()?.clone();
        let decoder = self.prepared_grid_decoder()?.0.clone();
        Ok(GridPack {
            decoder,
            models,
            codes,
            index,
            weight_format: self.header.weight_format,
            lambda: self.rate()?,
        })
    }

    /// The rate weight λ a grid pack's codes were encoded with (its ancillary [`TAG_RATE`]
    /// section), or `None` where the pack does not say; a malformed section is a format
    /// error.
    pub fn rate(&mut self) -> Result<Option<f64>> {
        let Some(e) = self.rate else {
            return Ok(None);
        };
        let bad = |m: String| Error::Format(format!("section {}: {m}", tag_name(&TAG_RATE)));
        let checked = e
            .check_placement(table_end(&self.header), self.file_len, &self.limits)
            .and_then(|_| match e.raw_len as usize {
                RATE_LEN => self.read_section(e),
                n => Err(bad(format!("{n} bytes, must be {RATE_LEN}"))),
            })
            .and_then(|raw| check_rate_weight(LE::read_f64(&raw)).map_err(bad));
        checked.map(Some).map_err(|err| self.named(err))
    }

    fn prepared_grid_decoder(&mut self) -> Result<&(GridWeights, GridRenderer)> {
        let Some(shape) = self.header.grid else {
            return Err(Error::Usage("not a grid pack".into()));
        };
        if self.grid_decoder.is_none() {
            let raw = self.section(DECO)?;
            let weights = read_weights(self.header.weight_format, &raw)
                .and_then(|flat| GridWeights::from_flat(shape, &flat))
                .map_err(|e| self.named(e))?;
            let renderer = GridRenderer::new(&weights);
            self.grid_decoder = Some((weights, renderer));
        }
        Ok(self.grid_decoder.as_ref().expect("set above"))
    }

    fn grid_codes(&mut self) -> Result<&(Vec<LevelModel>, Vec<i16>)> {
        let Some(shape) = self.header.grid else {
            return Err(Error::Usage("not a grid pack".into()));
        };
        if self.grid_codes.is_none() {
            let index = self.index()?.to_vec();
            let quan = self.section(QUAN)?;
            let latn = self.section(LATN)?;
            let coding = self.header.latent_coding;
            let parsed = if let Some(prediction) = Prediction::of_coding(coding) {
                // The models of the plane laws are those the writer fits to the codes.
                read_context_models(&quan).and_then(|m| {
                    let runs = grid_runs(&shape, &index);
                    let codes = context::decode(&m, &runs, &latn, prediction)?;
                    Ok((fit_models(&shape, &index, &codes), codes))
                })
            } else {
                let runs = runs(&shape, &index);
                read_models(&quan).and_then(|m| {
                    let codes = match coding {
                        LATENT_CODING_RANGE => entropy::decode(&m, &runs, &latn)?,
                        _ => read_plain(&m, &runs, &latn)?,
                    };
                    Ok((m, codes))
                })
            };
            let (models, codes) = parsed.map_err(|e| self.named(e))?;
            self.grid_codes = Some((models, codes));
        }
        Ok(self.grid_codes.as_ref().expect("set above"))
    }

    /// Reads everything into a [`Pack`].
    pub fn into_pack(mut self) -> Result<Pack> {
        self.vectors_only("reading as a vector pack")?;
        let index = self.index()?.to_vec();
        let (quant, codes) = self.codes()?.clone();
        let weight_format = self.header.weight_format;
        let (decoder, _) = self.prepared_decoder()?.clone();
        Ok(Pack {
            decoder,
            quant,
            codes,
            index,
            weight_format,
            patches: self.header.patches,
        })
    }

    /// Index entry `i` (reads the index), or a usage error when the pack has no image `i`.
    pub fn entry(&mut self, i: usize) -> Result<&ImageEntry> {
        self.check_image(i)?;
        Ok(&self.index()?[i])
    }

    fn check_image(&self, i: usize) -> Result<()> {
        if i >= self.len() {
            return Err(Error::Usage(format!(
                "image {i} asked for, the pack holds {}",
                self.len()
            )));
        }
        Ok(())
    }

    fn prepared_decoder(&mut self) -> Result<&(DecoderWeights, Renderer)> {
        self.vectors_only("the vector decoder")?;
        if self.decoder.is_none() {
            let raw = self.section(DECO)?;
            let weights = parse_decoder(&self.header, &raw).map_err(|e| self.named(e))?;
            let renderer = Renderer::new(&weights);
            self.decoder = Some((weights, renderer));
        }
        Ok(self.decoder.as_ref().expect("set above"))
    }

    fn codes(&mut self) -> Result<&(Quantiser, Vec<u16>)> {
        if self.latents.is_none() {
            let quan = self.section(QUAN)?;
            let latn = self.section(LATN)?;
            let parsed = parse_quant(&self.header, &quan)
                .and_then(|q| Ok((parse_codes(&self.header, &latn, q.max_code())?, q)));
            let (codes, quant) = parsed.map_err(|e| self.named(e))?;
            self.latents = Some((quant, codes));
        }
        Ok(self.latents.as_ref().expect("set above"))
    }

    /// Reads, checks and decompresses section `k`.
    fn section(&mut self, k: usize) -> Result<Vec<u8>> {
        self.read_section(self.sections[k])
    }

    /// The raw contents of the section `e` describes (checksummed and decompressed).
    fn read_section(&mut self, e: SectionEntry) -> Result<Vec<u8>> {
        let read = self
            .src
            .seek(SeekFrom::Start(e.offset))
            .and_then(|_| {
                let mut stored = vec![0u8; e.stored_len as usize];
                self.src.read_exact(&mut stored).map(|_| stored)
            })
            .map_err(io_err);
        read.and_then(|stored| e.unpack(&stored))
            .map_err(|err| self.named(err))
    }

    fn named(&self, e: Error) -> Error {
        match &self.path {
            Some(p) => e.in_file(p),
            None => e,
        }
    }
}

/// Lazy iterator over a pack's images at their stored sizes (see [`Reader::images`]).
pub struct Images<'a, R> {
    reader: &'a mut Reader<R>,
    next: usize,
}

impl<R: Read + Seek> Iterator for Images<'_, R> {
    type Item = Result<(ImageEntry, DynamicImage)>;

    fn next(&mut self) -> Option<Self::Item> {
        let i = self.next;
        if i >= self.reader.len() {
            return None;
        }
        self.next += 1;
        let item = self.reader.entry(i).cloned().and_then(|e| {
            let picture = self.reader.render(i, e.width, e.height)?;
            Ok((e, picture))
        });
        if item.is_err() {
            self.next = self.reader.len(); // a broken pack ends the iteration
        }
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.reader.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

fn io_err(source: std::io::Error) -> Error {
    Error::Io {
        action: "read",
        path: None,
        source,
    }
}

/// Byte offset where the section table (with its CRC) ends.
fn table_end(header: &Header) -> u64 {
    (HEADER_LEN + usize::from(header.section_count) * SECTION_ENTRY_LEN + TABLE_CRC_LEN) as u64
}

/// Checks a section's declared length against what the header implies (before any read).
fn check_implied_size(header: &Header, k: usize, e: &SectionEntry) -> Result<()> {
    let shape = header.shape;
    let (d, n) = (shape.latent_dim as u64, u64::from(header.image_count));
    let exact = |len: u64| (len, len);
    let values = u64::from(header.latent_count);
    let (lo, hi) = match (k, header.grid) {
        (DECO, Some(g)) => exact(g.param_count() * header.weight_bytes() as u64),
        (QUAN, Some(g)) if Prediction::of_coding(header.latent_coding).is_some() => {
            exact((CONTEXT_MODEL_LEN * g.planes()) as u64)
        }
        (QUAN, Some(g)) => exact((LEVEL_MODEL_LEN * g.planes()) as u64),
        (LATN, Some(_)) if header.latent_coding != LATENT_CODING_PLAIN => {
            (0, values * GRID_BYTES_PER_VALUE + GRID_STREAM_SLACK)
        }
        // Plain codes: one or two bytes each, as the plane models (read later) say.
        (LATN, Some(_)) => (values, 2 * values),
        _ => match k {
            DECO => exact(shape.param_count() * header.weight_bytes() as u64),
            QUAN => exact(8 * d),
            LATN => exact(values * d * header.code_bytes() as u64),
            _ => (n * 12, n * (MAX_NAME_LEN as u64 + 11)),
        },
    };
    let raw = u64::from(e.raw_len);
    if raw < lo || raw > hi {
        let implied = if lo == hi {
            lo.to_string()
        } else {
            format!("{lo} to {hi}")
        };
        return Err(Error::Format(format!(
            "section {} declares {raw} bytes, header implies {implied}",
            tag_name(&e.tag)
        )));
    }
    Ok(())
}

fn parse_decoder(header: &Header, raw: &[u8]) -> Result<DecoderWeights> {
    DecoderWeights::from_flat(header.shape, &read_weights(header.weight_format, raw)?)
}

fn parse_quant(header: &Header, raw: &[u8]) -> Result<Quantiser> {
    let d = header.shape.latent_dim;
    let (mut lo, mut hi) = (Vec::with_capacity(d), Vec::with_capacity(d));
    for c in raw.chunks_exact(8) {
        let (l, h) = (LE::read_f32(&c[0..4]), LE::read_f32(&c[4..8]));
        if !(l.is_finite() && h.is_finite() && l <= h && (h - l).is_finite()) {
            return Err(Error::Format(
                "quantisation range is not finite with lo <= hi".into(),
            ));
        }
        lo.push(l);
        hi.push(h);
    }
    Ok(Quantiser {
        bits: header.bits,
        lo,
        hi,
    })
}

/// Dimension-major stored codes to image-major.
fn parse_codes(header: &Header, raw: &[u8], max: u16) -> Result<Vec<u16>> {
    let (n, d) = (header.latent_count as usize, header.shape.latent_dim);
    let mut codes = vec![0u16; n * d];
    for (k, chunk) in raw.chunks_exact(header.code_bytes()).enumerate() {
        let q = if chunk.len() == 1 {
            u16::from(chunk[0])
        } else {
            LE::read_u16(chunk)
        };
        if q > max {
            return Err(Error::Format(format!("latent code {q} above 2^bits - 1")));
        }
        codes[(k % n) * d + k / n] = q;
    }
    Ok(codes)
}

/// Reading whole packs: defined here, with the reader they use, rather than with the
/// container's structs below it.
impl Pack {
    /// Parses and validates a whole pack held in memory.
    pub fn from_bytes(data: &[u8], limits: &Limits) -> Result<Self> {
        Reader::from_slice(data, *limits)?.into_pack()
    }

    /// Reads a whole pack file with the given limits; errors name the file.
    pub fn read(path: &Path, limits: &Limits) -> Result<(Self, SizeBreakdown)> {
        let reader = Reader::open(path, *limits)?;
        let sizes = reader.sizes();
        Ok((reader.into_pack()?, sizes))
    }
}
