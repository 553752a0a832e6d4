//! The crate's error type: each variant says who is at fault.
use std::path::PathBuf;

/// Errors from reading, writing and rendering packs (training adds libtorch's, in gonpack-train).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The data does not start with the gonpack signature.
    #[error("not a gonpack file (bad magic bytes)")]
    NotGonpack,
    /// A pack of a version this reader does not implement.
    #[error("unsupported gonpack version {0} (this reader implements versions {lo} to {hi})", lo = crate::consts::MIN_VERSION, hi = crate::consts::VERSION)]
    UnsupportedVersion(u16),
    /// A CRC-32 did not match: the file is corrupt.
    #[error("checksum mismatch in {0}")]
    Checksum(String),
    /// The data ends before a structure it declares.
    #[error("truncated file: {0}")]
    Truncated(String),
    /// Header, table or section contents contradict each other or the spec.
    #[error("invalid pack: {0}")]
    Format(String),
    /// A valid feature this implementation does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A size exceeds the configured [`Limits`](crate::Limits).
    #[error("limit exceeded: {0}")]
    Limits(String),
    /// Caller error: a bad argument or option.
    #[error("{0}")]
    Usage(String),
    /// An input image could not be read or decoded.
    #[error("{}: cannot decode image: {source}", crate::text::shown_path(path))]
    Image {
        /// The offending file.
        path: PathBuf,
        /// What the image decoder said.
        source: image::ImageError,
    },
    /// An I/O error: what was being done, to which file, and what the system said.
    #[error("{}cannot {action}: {source}", path.as_deref().map(|p| format!("{}: ", crate::text::shown_path(p))).unwrap_or_default())]
    Io {
        /// What was being done: "read", "create folder", "rename into place" …
        action: &'static str,
        /// The file or folder concerned (`None` until [`Error::in_file`] names it, for a
        /// reader over an anonymous source).
        path: Option<PathBuf>,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An error about one file: the file, then what is wrong with it.
    #[error("{}: {source}", crate::text::shown_path(path))]
    InFile {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong.
        source: Box<Error>,
    },
}

impl Error {
    /// Wraps an I/O error with the action that failed and the path it concerns.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: Some(path.into()),
            source,
        }
    }

    /// Attaches the file an error concerns (errors that already name theirs are kept).
    pub fn in_file(self, path: impl Into<PathBuf>) -> Self {
        match self {
            Error::Io {
                action,
                path: None,
                source,
            } => Error::Io {
                action,
                path: Some(path.into()),
                source,
            },
            e @ (Error::Io { .. } | Error::Image { .. } | Error::InFile { .. }) => e,
            e => Error::InFile {
                path: path.into(),
                source: Box::new(e),
            },
        }
    }

    /// The innermost error, past any [`Error::InFile`] wrappers.
    pub fn root(&self) -> &Error {
        match self {
            Error::InFile { source, .. } => source.root(),
            e => e,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
