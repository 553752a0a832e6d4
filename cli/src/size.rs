//! Output-size options shared by the commands that render: `--scale`, `--size`, `--max-pixels`.
use clap::Args;
use gonpack::{Error, Limits, Result};

/// How large to render.
#[derive(Debug, Clone, Args)]
pub struct SizeArgs {
    /// Scale every image by this factor (1 = stored size).
    #[arg(long, conflicts_with = "size")]
    scale: Option<f64>,
    /// Render at exactly WIDTHxHEIGHT.
    #[arg(long, value_parser = parse_size)]
    size: Option<(u32, u32)>,
    /// Largest output image, in pixels.
    #[arg(long, default_value_t = Limits::DEFAULT.max_render_pixels)]
    max_pixels: u64,
    #[command(flatten)]
    limits: LimitArgs,
}

/// The work limits of a reading command (see `gonpack::Limits`).
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Largest work of one render, in decoder multiply-adds.
    #[arg(long, default_value_t = Limits::DEFAULT.max_render_work)]
    max_work: u64,
    /// Trust the pack: lift the limits relative to its file size (latent values and decoding
    /// work per byte, decoder cost per pixel) that refuse small packs asking for huge work.
    #[arg(long)]
    trusted: bool,
}

impl LimitArgs {
    /// Reader limits with these options applied.
    pub fn limits(&self) -> Limits {
        let limits = Limits {
            max_render_work: self.max_work,
            ..Limits::DEFAULT
        };
        if self.trusted {
            limits.trusted()
        } else {
            limits
        }
    }
}

fn parse_size(s: &str) -> std::result::Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, got {s:?}"))?;
    let w: u32 = w.parse().map_err(|_| format!("bad width in {s:?}"))?;
    let h: u32 = h.parse().map_err(|_| format!("bad height in {s:?}"))?;
    if w == 0 || h == 0 {
        return Err("width and height must be positive".into());
    }
    Ok((w, h))
}

impl SizeArgs {
    /// Reader limits with `--max-pixels` applied.
    pub fn limits(&self) -> Limits {
        Limits {
            max_render_pixels: self.max_pixels,
            ..self.limits.limits()
        }
    }

    /// Output size for an image stored at `width x height` (`default_scale` when neither
    /// `--scale` nor `--size` is given), checked against `--max-pixels`; `name` is for the
    /// error message.
    pub fn target(
        &self,
        name: &str,
        width: u32,
        height: u32,
        default_scale: f64,
    ) -> Result<(u32, u32)> {
        let (w, h) = match self.size {
            Some(s) => s,
            None => {
                let f = self.scale.unwrap_or(default_scale);
                gonpack::render::coords::scaled_size(width, height, f).map_err(|e| match e {
                    Error::Usage(m) => Error::Usage(format!("--{m}")),
                    Error::Limits(m) => {
                        Error::Limits(format!("{}: --{m}", gonpack::text::shown(name)))
                    }
                    other => other,
                })?
            }
        };
        self.limits().check_render(w, h).map_err(|err| match err {
            Error::Limits(m) => Error::Limits(format!(
                "{}: {m} (raise it with --max-pixels)",
                gonpack::text::shown(name)
            )),
            other => other,
        })?;
        Ok((w, h))
    }
}
