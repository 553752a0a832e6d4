//! `gonpack._gonpack`: the pure-Rust pack reader for Python (pyo3 + numpy).
//!
//! The Python package (`python/gonpack/`) wraps [`PackReader`] in the `gonpack.Pack` class
//! that users see (keys, iteration, context manager); this module holds what must be native:
//! opening with limits, the index, rendering into numpy arrays with the GIL released, and the
//! mapping from the reader's errors to Python exceptions.
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use rayon::ThreadPool;

use gonpack::consts::WEIGHTS_F16;
use gonpack::format::limits::zeroed;
use gonpack::render::coords::scaled_size;
use gonpack::{Error, Limits, Output, Reader};
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{IntoPyArray, PyArrayDyn};
use pyo3::create_exception;
use pyo3::exceptions::{self as exc, PyException};
use pyo3::prelude::*;
use pyo3::types::PyDict;

create_exception!(
    gonpack,
    GonpackError,
    PyException,
    "Base class of the errors gonpack raises about a pack."
);
create_exception!(
    gonpack,
    FormatError,
    GonpackError,
    "The file is not a valid pack: bad signature, checksum, truncation or contradictory fields."
);
create_exception!(
    gonpack,
    UnsupportedError,
    FormatError,
    "A valid pack using a version or feature this reader does not implement."
);
create_exception!(
    gonpack,
    LimitsError,
    GonpackError,
    "A size or amount of work beyond the reader's limits (raise them with the open() options)."
);

/// The reader's error as the Python exception that says who is at fault: the file
/// (`FormatError`, `UnsupportedError`), the limits (`LimitsError`), the caller (`ValueError`)
/// or the system (`OSError` and its subclasses, with the errno).
fn to_py(e: Error) -> PyErr {
    let message = e.to_string();
    match e.root() {
        Error::NotGonpack | Error::Checksum(_) | Error::Truncated(_) | Error::Format(_) => {
            FormatError::new_err(message)
        }
        Error::UnsupportedVersion(_) | Error::Unsupported(_) => UnsupportedError::new_err(message),
        Error::Limits(_) => LimitsError::new_err(message),
        Error::Usage(_) => exc::PyValueError::new_err(message),
        Error::Io { source, .. } => {
            let args = (source.raw_os_error().unwrap_or(0), message);
            match source.kind() {
                std::io::ErrorKind::NotFound => exc::PyFileNotFoundError::new_err(args),
                std::io::ErrorKind::PermissionDenied => exc::PyPermissionError::new_err(args),
                std::io::ErrorKind::IsADirectory => exc::PyIsADirectoryError::new_err(args),
                _ => exc::PyOSError::new_err(args),
            }
        }
        Error::Image { .. } | Error::InFile { .. } => GonpackError::new_err(message),
    }
}

/// The renderer's thread pool of this process. A process forked from one that has rendered
/// (a `DataLoader` worker) inherits rayon's global pool without its threads, so a render there
/// would wait forever: each process builds its own pool on first use instead.
fn pool() -> PyResult<&'static ThreadPool> {
    static POOL: Mutex<Option<(u32, &'static ThreadPool)>> = Mutex::new(None);
    let pid = std::process::id();
    let mut guard = POOL.lock().unwrap_or_else(|p| p.into_inner());
    match *guard {
        Some((owner, pool)) if owner == pid => Ok(pool),
        _ => {
            let pool = rayon::ThreadPoolBuilder::new()
                .build()
                .map_err(|e| exc::PyRuntimeError::new_err(format!("thread pool: {e}")))?;
            // Kept for the life of the process; a pool inherited across a fork is not dropped
            // (its threads do not exist here).
            let pool: &'static ThreadPool = Box::leak(Box::new(pool));
            *guard = Some((pid, pool));
            Ok(pool)
        }
    }
}

/// An open pack: the lazy reader behind a lock (`None` once closed).
#[pyclass(module = "gonpack._gonpack")]
pub struct PackReader {
    reader: Mutex<Option<Reader<BufReader<File>>>>,
    path: PathBuf,
}

type FileReader = Reader<BufReader<File>>;

impl PackReader {
    /// The open reader, or `ValueError` once closed.
    fn with<T>(&self, f: impl FnOnce(&mut FileReader) -> gonpack::Result<T>) -> PyResult<T> {
        let mut guard = self.lock();
        let reader = guard.as_mut().ok_or_else(|| {
            exc::PyValueError::new_err(format!("{}: pack is closed", self.path.display()))
        })?;
        f(reader).map_err(to_py)
    }

    fn lock(&self) -> MutexGuard<'_, Option<FileReader>> {
        // A panic while rendering cannot leave the reader half-updated in a way that matters
        // (its caches are filled whole or not at all), so a poisoned lock is still usable.
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[pymethods]
impl PackReader {
    /// Opens the pack at `path` and checks its header and section table. `max_pixels` and
    /// `max_work` bound one render (pixels, decoder multiply-adds); `trusted` lifts the limits
    /// relative to the file size.
    #[new]
    #[pyo3(signature = (path, max_pixels=None, max_work=None, trusted=false))]
    fn open(
        path: PathBuf,
        max_pixels: Option<u64>,
        max_work: Option<u64>,
        trusted: bool,
    ) -> PyResult<Self> {
        let mut limits = Limits {
            max_render_pixels: max_pixels.unwrap_or(Limits::DEFAULT.max_render_pixels),
            max_render_work: max_work.unwrap_or(Limits::DEFAULT.max_render_work),
            ..Limits::DEFAULT
        };
        if trusted {
            limits = limits.trusted();
        }
        if path.is_dir() {
            let message = format!("{}: is a folder, not a pack file", path.display());
            return Err(exc::PyIsADirectoryError::new_err(message));
        }
        let reader = Reader::open(&path, limits).map_err(to_py)?;
        Ok(PackReader {
            reader: Mutex::new(Some(reader)),
            path,
        })
    }

    /// The file this reader was opened on.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.lock().is_none()
    }

    /// Releases the file; later calls raise `ValueError`.
    fn close(&self) {
        self.lock().take();
    }

    /// Number of images.
    fn __len__(&self) -> PyResult<usize> {
        self.with(|r| Ok(r.len()))
    }

    /// Every image name, in pack order (reads the index).
    fn names(&self) -> PyResult<Vec<String>> {
        self.with(|r| Ok(r.index()?.iter().map(|e| e.name.clone()).collect()))
    }

    /// `(name, width, height, channels)` of image `i` as stored.
    fn entry(&self, i: usize) -> PyResult<(String, u32, u32, u8)> {
        self.with(|r| {
            let e = r.entry(i)?;
            Ok((e.name.clone(), e.width, e.height, e.channels))
        })
    }

    /// Position of the image a name means: the whole name, or the name without its extension
    /// when only one image has that stem; `KeyError` otherwise (naming candidates).
    fn resolve(&self, name: &str) -> PyResult<usize> {
        let found = self.with(|r| Ok(r.resolve(name)))?;
        found.map_err(|e| match e.root() {
            Error::Usage(_) => exc::PyKeyError::new_err(e.to_string()),
            _ => to_py(e),
        })
    }

    /// Output size of image `i` for `scale` (a factor) or `size` (`(width, height)`), at
    /// most one given (neither: the stored size); checked against the limits (which refuse a
    /// zero size).
    #[pyo3(signature = (i, scale=None, size=None))]
    fn target(
        &self,
        i: usize,
        scale: Option<f64>,
        size: Option<(u32, u32)>,
    ) -> PyResult<(u32, u32)> {
        let (_, width, height, _) = self.entry(i)?;
        let (w, h) = match (scale, size) {
            (Some(_), Some(_)) => {
                return Err(exc::PyValueError::new_err("give scale or size, not both"))
            }
            (None, Some(s)) => s,
            (f, None) => scaled_size(width, height, f.unwrap_or(1.0)).map_err(to_py)?,
        };
        self.with(|r| r.buffer_len(i, w, h).map(|_| (w, h)))
    }

    /// Image `i` rendered at `width x height`: a `uint8` array, `(height, width)` for grey,
    /// `(height, width, channels)` otherwise. The GIL is released while rendering.
    fn render<'py>(
        &self,
        py: Python<'py>,
        i: usize,
        width: u32,
        height: u32,
    ) -> PyResult<Bound<'py, PyArrayDyn<u8>>> {
        let pool = pool()?;
        let (pixels, channels) = py.detach(|| {
            self.with(|r| {
                let mut buf = zeroed(r.buffer_len(i, width, height)?)?;
                pool.install(|| r.render_into(i, width, height, &mut buf))?;
                Ok((buf, r.index()?[i].channels))
            })
        })?;
        let (h, w) = (height as usize, width as usize);
        let dims = if channels == 1 {
            vec![h, w]
        } else {
            vec![h, w, usize::from(channels)]
        };
        let array = ArrayD::from_shape_vec(IxDyn(&dims), pixels)
            .expect("render_into filled width * height * channels samples");
        Ok(array.into_pyarray(py))
    }

    /// The dequantised latents of image `i` (one per patch, concatenated, for a patched
    /// image) as a `float32` array.
    fn latent<'py>(&self, py: Python<'py>, i: usize) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let z = self.with(|r| match r.header().grid {
            Some(_) => r.grids(i),
            None => r.latent(i),
        })?;
        let n = z.len();
        Ok(ArrayD::from_shape_vec(IxDyn(&[n]), z)
            .expect("one dimension of the vector's length")
            .into_pyarray(py))
    }

    /// The header, decoder architecture and stored sizes as a dict.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (header, sizes) = self.with(|r| Ok((*r.header(), r.sizes())))?;
        let s = header.shape;
        let d = PyDict::new(py);
        d.set_item("path", self.path.to_string_lossy())?;
        d.set_item("version", header.version())?;
        d.set_item("images", header.image_count)?;
        d.set_item("latents", header.latent_count)?;
        d.set_item("channels", s.channels)?;
        d.set_item("latent_dim", s.latent_dim)?;
        d.set_item("hidden", s.hidden)?;
        d.set_item("layers", s.layers)?;
        d.set_item("modulated_layers", s.modulated)?;
        d.set_item("w0", s.w0_first)?;
        d.set_item("w0_hidden", s.w0_hidden)?;
        let output = match s.output {
            Output::Identity => "identity",
            Output::Logistic => "logistic",
        };
        d.set_item("output", output)?;
        d.set_item("bits", header.bits)?;
        let weights = if header.weight_format == WEIGHTS_F16 {
            "f16"
        } else {
            "f32"
        };
        d.set_item("weights", weights)?;
        d.set_item("patch", header.patches.patch)?;
        d.set_item("overlap", header.patches.overlap)?;
        d.set_item("file_bytes", sizes.total())?;
        d.set_item("header_bytes", sizes.header)?;
        d.set_item("decoder_bytes", sizes.decoder)?;
        d.set_item("latent_bytes", sizes.latents)?;
        d.set_item("index_bytes", sizes.index)?;
        match header.grid {
            Some(g) => {
                // A grid pack: its own architecture fields instead of the vector model's.
                for key in ["latent_dim", "modulated_layers", "w0", "w0_hidden", "bits"] {
                    d.del_item(key)?;
                }
                d.set_item("model", "grid")?;
                d.set_item("levels", g.levels)?;
                d.set_item("global_latents", g.global)?;
                d.set_item("frequencies", g.frequencies)?;
                d.set_item("sampling", g.sampling.name())?;
                d.set_item("gon_steps", g.steps)?;
            }
            None => d.set_item("model", "vector")?,
        }
        Ok(d)
    }
}

/// The native half of the `gonpack` Python package.
#[pymodule]
fn _gonpack(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PackReader>()?;
    m.add("GonpackError", py.get_type::<GonpackError>())?;
    m.add("FormatError", py.get_type::<FormatError>())?;
    m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    m.add("LimitsError", py.get_type::<LimitsError>())?;
    m.add("FORMAT_VERSION", gonpack::consts::VERSION)?;
    Ok(())
}
