//! Rate–distortion benchmark: gonpack against standard codecs on the same test images, results
//! as JSON (`bench/results/NAME.json` by default), a table of them on standard output.
//!
//! ```sh
//! cargo run --release -p gonpack-bench --bin rd -- --train ../shared/datasets/mnist-train-10k \
//!     --test ../shared/datasets/mnist-test-1k --name mnist --latent 64,128 --steps 8000
//! ```
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use gonpack::format::patches::Geometry;
use gonpack::io::read_folder;
use gonpack::pixels::SourceImage;
use gonpack_bench::baselines::{standard, Avif};
use gonpack_bench::gonpack_codec::{train_options, GonpackCodec, BITS, REFINES};
use gonpack_bench::grid_codec::GridCodec;
use gonpack_bench::super_resolution::SuperResolution;
use gonpack_bench::{report, BenchError, Codec, Run, TestSet};
use gonpack_train::grid_encode::{default_grid_steps, quality_lambda, GridConfig};
use gonpack_train::model_choice::{
    auto_model, auto_sampling, low_rate_bits, low_rate_training, ModelChoice, LOW_RATE_LATENT,
};

/// Trains one gonpack grid decoder per `--quality` and one vector decoder per `--latent` size
/// on `--train` (the `encode` defaults unless set here), encodes the test images against it frozen at every `--refine` x `--bits`
/// point, codes the same images with PNG, zstd -19, xz -9e, JPEG and WebP (per image and as
/// one mosaic) and AVIF (one mosaic, or per image for images of several sizes, through Pillow),
/// and writes one JSON record per codec and operating point.
#[derive(Parser)]
#[command(name = "rd")]
struct Args {
    /// Training images (a folder).
    #[arg(long)]
    train: PathBuf,
    /// Test images (a folder); the training folder may be given again.
    #[arg(
        long,
        conflicts_with = "hold_out",
        required_unless_present = "hold_out"
    )]
    test: Option<PathBuf>,
    /// Test on every K-th image of --train (sorted order, from the first), train on the rest.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(2..))]
    hold_out: Option<u32>,
    /// Name of the data set in the results (default: the test folder's name).
    #[arg(long)]
    name: Option<String>,
    /// Heading of its table and plot (default: NAME).
    #[arg(long)]
    title: Option<String>,
    /// Results file (default: bench/results/NAME.json).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Scratch folder (AVIF files).
    #[arg(long, default_value = "out/rd")]
    work: PathBuf,
    /// Latent sizes, one decoder trained for each; `none` for the other codecs only.
    #[arg(long, value_delimiter = ',', default_value = "32,64")]
    latent: Vec<String>,
    /// Training steps (default: one per training image, 1,000 to 3,000).
    #[arg(long)]
    steps: Option<usize>,
    /// Qualities (`gonpack encode --quality`), each with the model `encode` chooses: the grid
    /// model, one decoder trained for each; under quality 2 on large sets of small grey images
    /// the vector model, one decoder for all such qualities (their bits do not change
    /// training); `none` for no such rows.
    #[arg(long, value_delimiter = ',', default_value = "2,3,4,5")]
    quality: Vec<String>,
    /// Training steps of each grid decoder (default: as `gonpack encode`, two per training
    /// image, 1,400 to 6,000).
    #[arg(long)]
    grid_steps: Option<usize>,
    /// Frequency of the first sine layer (default: the `encode` default).
    #[arg(long)]
    w0: Option<f32>,
    /// Width of the hidden layers (default: the `encode` default).
    #[arg(long)]
    hidden: Option<usize>,
    /// Peak learning rate (default: the `encode` default).
    #[arg(long)]
    lr: Option<f64>,
    /// Patch core and margin, `CORE,MARGIN` (default: the `encode` default; `0,0` keeps images whole).
    #[arg(long, value_parser = parse_patch)]
    patch: Option<Geometry>,
    /// Refinement steps of gonpack's operating points.
    #[arg(long, value_delimiter = ',', default_values_t = REFINES)]
    refine: Vec<usize>,
    /// Bits per latent code of gonpack's operating points.
    #[arg(long, value_delimiter = ',', default_values_t = BITS)]
    bits: Vec<u8>,
    /// Add the super-resolution rows (train and encode at half size, decode at full size,
    /// against bicubic upsampling): the vector model's unless `--latent none`, the grid
    /// model's (the highest `--quality`, `--supersample 2 --sigmoid`) unless `--quality none`.
    #[arg(long)]
    sr: bool,
    /// Only the super-resolution rows.
    #[arg(long)]
    sr_only: bool,
    /// Leave out the AVIF rows (they need Python with Pillow).
    #[arg(long)]
    no_avif: bool,
}

fn parse_patch(v: &str) -> Result<Geometry, String> {
    let (core, margin) = v.split_once(',').ok_or("needs CORE,MARGIN")?;
    let num = |x: &str| x.trim().parse::<u32>().map_err(|e| e.to_string());
    let g = Geometry {
        patch: num(core)?,
        overlap: num(margin)?,
    };
    if !g.is_storable() {
        return Err(
            "the margin must be 1 to the core size and at most 255 (0,0: no patches)".into(),
        );
    }
    Ok(g)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rd: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn folder(dir: &std::path::Path) -> Result<Vec<SourceImage>, BenchError> {
    Ok(read_folder(dir, false)?.0)
}

fn run(a: &Args) -> Result<(), BenchError> {
    let started = Instant::now();
    let commit = commit(); // of the tree this run starts from
    let latents: Vec<usize> = numbers(&a.latent, "latent")?;
    let qualities: Vec<f64> = numbers(&a.quality, "quality")?;
    let mut train = folder(&a.train)?;
    let (test, described) = match (&a.test, a.hold_out) {
        (Some(dir), _) => (folder(dir)?, format!("`{}`", dir.display())),
        (None, Some(k)) => {
            let (test, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut train)
                .into_iter()
                .enumerate()
                .partition(|(i, _)| i % k as usize == 0);
            train = rest.into_iter().map(|(_, img)| img).collect();
            let test = test.into_iter().map(|(_, img)| img).collect();
            (
                test,
                format!(
                    "`{}` at every {k}th position in sorted order (held out of training)",
                    a.train.display()
                ),
            )
        }
        (None, None) => unreachable!("clap requires --test or --hold-out"),
    };
    if train.is_empty() || test.is_empty() {
        return Err(BenchError::Usage("no training or no test images".into()));
    }
    let name = match &a.name {
        Some(n) => n.clone(),
        None => a
            .test
            .as_deref()
            .unwrap_or(&a.train)
            .file_name()
            .map_or("rd".into(), |n| n.to_string_lossy().into_owned()),
    };
    let set = TestSet { images: &test };
    let options = |latent| {
        let mut opts = train_options(latent, |t| {
            t.steps = a.steps.unwrap_or(train.len().clamp(1000, 3000));
            t.shape.w0_first = a.w0.unwrap_or(t.shape.w0_first);
            t.shape.hidden = a.hidden.unwrap_or(t.shape.hidden);
            t.lr = a.lr.unwrap_or(t.lr);
        });
        opts.patches = a.patch.unwrap_or(opts.patches);
        opts
    };
    let mut records = Vec::new();
    let largest = latents.iter().copied().max();
    let mut full_decoder = None;
    let mut grid_cfg = GridConfig {
        steps: a.grid_steps.unwrap_or(default_grid_steps(train.len())),
        ..GridConfig::DEFAULT
    };
    grid_cfg.shape.sampling = auto_sampling(&train);
    let grid_sr = qualities.iter().copied().reduce(f64::max);
    if !a.sr_only {
        // Each quality trains the model `encode` would choose for these training images.
        let (vector_qualities, grid_qualities): (Vec<f64>, Vec<f64>) = qualities
            .iter()
            .partition(|&&q| auto_model(&train, q) != ModelChoice::Grid);
        if !grid_qualities.is_empty() {
            let mut codec = GridCodec {
                train: &train,
                cfg: grid_cfg.clone(),
                qualities: grid_qualities,
            };
            records.extend(codec.run(&set)?);
        }
        if !vector_qualities.is_empty() {
            // Bits do not change training: one decoder serves every such quality.
            let bits: Vec<u8> = vector_qualities.iter().map(|&q| low_rate_bits(q)).collect();
            let mut opts = options(LOW_RATE_LATENT);
            low_rate_training(&mut opts.train);
            if let Some(steps) = a.steps {
                opts.train.steps = steps;
            }
            let mut codec = GonpackCodec {
                train: &train,
                opts,
                refines: vec![gonpack_train::DEFAULT_REFINE],
                bits,
                decoder: None,
            };
            // One refinement setting: one record per bits, in the order of the qualities.
            for (mut r, q) in codec.run(&set)?.into_iter().zip(&vector_qualities) {
                r.config = format!("vector at quality {q}");
                records.push(r);
            }
        }
        for &latent in &latents {
            let mut codec = GonpackCodec {
                train: &train,
                opts: options(latent),
                refines: a.refine.clone(),
                bits: a.bits.clone(),
                decoder: None,
            };
            records.extend(codec.run(&set)?);
            if Some(latent) == largest {
                full_decoder = codec.decoder;
            }
        }
        let avif = (!a.no_avif).then(|| Avif {
            python: Avif::find_python(),
            work: a.work.join(&name).join("avif"),
        });
        for mut codec in standard(&set, avif) {
            match codec.run(&set) {
                Ok(r) => records.extend(r),
                Err(e) if codec.name() == "AVIF" => eprintln!("rd: no AVIF rows: {e}"),
                Err(e) => return Err(e),
            }
        }
    }
    if a.sr || a.sr_only {
        let latent = largest.unwrap_or(gonpack_train::TrainConfig::DEFAULT.shape.latent_dim);
        let mut sr = SuperResolution {
            train: &train,
            opts: options(latent),
            lr_given: a.lr.is_some(),
            full_decoder,
            vector: !latents.is_empty(),
            grid: grid_sr.map(|q| GridConfig {
                lambda: quality_lambda(q),
                ..grid_cfg
            }),
        };
        records.extend(sr.run(&set)?);
    }
    let run = Run {
        dataset: name.clone(),
        title: a.title.clone().unwrap_or_else(|| name.clone()),
        train: a.train.display().to_string(),
        test: described,
        images: test.len(),
        pixels: set.pixels(),
        command: std::env::args().skip(1).collect::<Vec<_>>().join(" "),
        commit,
        date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        seconds: started.elapsed().as_secs_f64(),
        records,
    };
    let json = a
        .json
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("bench/results/{name}.json")));
    run.write(&json)?;
    print!("{}", report::full_table(&run));
    eprintln!("rd: wrote {}", json.display());
    Ok(())
}

/// The numbers of a comma-separated option, or none for `none`.
fn numbers<T: std::str::FromStr>(list: &[String], option: &str) -> Result<Vec<T>, BenchError>
where
    T::Err: std::fmt::Display,
{
    match list {
        [none] if none == "none" => Ok(Vec::new()),
        list => list
            .iter()
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|e| BenchError::Usage(format!("--{option} {v}: {e}")))
            })
            .collect(),
    }
}

/// `git describe --always --dirty` of the working tree, or `unknown`.
fn commit() -> String {
    std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}
