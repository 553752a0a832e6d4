//! Errors of training and encoding: a pack or input problem, or one raised by libtorch.

/// Errors from training, latent derivation and adding images.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input, format, usage or I/O errors, as the `gonpack` crate reports them.
    #[error(transparent)]
    Pack(#[from] gonpack::Error),
    /// An error raised by libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

impl Error {
    /// A caller error (bad argument or option).
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Pack(gonpack::Error::Usage(message.into()))
    }

    /// Attaches the file or folder an error concerns.
    pub fn in_file(self, path: impl Into<std::path::PathBuf>) -> Self {
        match self {
            Error::Pack(e) => Error::Pack(e.in_file(path)),
            e => e,
        }
    }

    /// Whether this is a caller error (exit code 2 of the command line).
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::Pack(e) if matches!(e.root(), gonpack::Error::Usage(_)))
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
