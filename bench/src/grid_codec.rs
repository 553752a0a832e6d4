//! gonpack's grid model (format versions 5 and 6) as a benchmark codec: one decoder trained per
//! `--quality` on the training images (as `gonpack encode --quality Q` trains it), the test
//! images encoded against it frozen, each point a real pack whose bytes are counted and whose
//! images are rendered as `decode` renders them.
use std::time::Instant;

use gonpack::format::model::Output;
use gonpack::pixels::SourceImage;
use gonpack::render::metrics::pack_render;
use gonpack_train::grid_encode::{encode_grid_pack, pack_with_decoder, quality_lambda, GridConfig};

use crate::gonpack_codec::pack_record;
use crate::picture::{mean_alpha, mean_psnr};
use crate::{BenchError, Codec, Record, Task, TestSet};

/// The grid model at several qualities.
pub struct GridCodec<'a> {
    /// The images each decoder is trained on.
    pub train: &'a [SourceImage],
    /// Training and encoding settings (λ is set per quality).
    pub cfg: GridConfig,
    /// The `--quality` of each decoder.
    pub qualities: Vec<f64>,
}

impl Codec for GridCodec<'_> {
    fn name(&self) -> String {
        "gonpack".into()
    }

    fn run(&mut self, test: &TestSet) -> Result<Vec<Record>, BenchError> {
        let mut records = Vec::new();
        for &q in &self.qualities {
            let cfg = GridConfig {
                lambda: quality_lambda(q),
                quiet: true,
                ..self.cfg.clone()
            };
            let config = format!(
                "grids {}+{}, {} sampling, quality {q}",
                cfg.shape.levels,
                cfg.shape.global,
                cfg.shape.sampling.name()
            );
            let setting = format!("refine {}", cfg.refine);
            let what = format!("quality {q}");
            let point = Point {
                train: self.train,
                encode: test.images,
                task: Task::Compression,
            };
            records.push(point.measure(test, &cfg, &what, &config, setting)?);
        }
        Ok(records)
    }
}

/// One operating point: a decoder trained on `train`, `encode` encoded against it frozen,
/// rendered at the sizes of the test images.
struct Point<'a> {
    train: &'a [SourceImage],
    encode: &'a [SourceImage],
    task: Task,
}

impl Point<'_> {
    fn measure(
        &self,
        test: &TestSet,
        cfg: &GridConfig,
        what: &str,
        config: &str,
        setting: String,
    ) -> Result<Record, BenchError> {
        let (trained, report) = encode_grid_pack(self.train, cfg)?;
        let t = report.train;
        eprintln!(
            "rd: grid {what}: trained in {:.1} s ({} steps), last-10% train PSNR {:.2} dB",
            t.seconds, t.steps, t.final_psnr
        );
        let start = Instant::now();
        let pack = pack_with_decoder(&trained.decoder, &report.rate, self.encode, cfg)?;
        let encode_s = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let decoded = pack_render(&pack, test.images)?;
        let decode_s = start.elapsed().as_secs_f64();
        let mut r = pack_record(
            pack.to_bytes()?.1,
            self.task,
            config,
            setting,
            test.pixels(),
            Some(mean_psnr(&decoded, test.images)),
        )?
        .timed(encode_s, decode_s)
        .with_alpha(mean_alpha(&decoded, test.images));
        r.train_s = Some(t.seconds);
        Ok(r)
    }
}

/// Points per pixel side of the grid model's super-resolution decoder.
pub const GRID_SR_SUPERSAMPLE: u32 = 2;

/// The grid model's super-resolution row: a decoder trained on `train_half` with each pixel
/// the mean of 2 x 2 points (`encode --supersample 2`, the `cfg` settings otherwise),
/// `test_half` encoded against it and decoded at the size of the full test images.
pub fn grid_super_resolution(
    train_half: &[SourceImage],
    test_half: &[SourceImage],
    test: &TestSet,
    cfg: &GridConfig,
) -> Result<Record, BenchError> {
    let mut cfg = GridConfig {
        supersample: GRID_SR_SUPERSAMPLE,
        quiet: true,
        ..cfg.clone()
    };
    cfg.shape.output = Output::Logistic;
    let point = Point {
        train: train_half,
        encode: test_half,
        task: Task::SuperResolution,
    };
    let config = format!(
        "grids {}+{}, λ {}, decoder trained and images encoded at 1/2 size (--supersample {GRID_SR_SUPERSAMPLE} --sigmoid)",
        cfg.shape.levels, cfg.shape.global, cfg.lambda
    );
    let setting = format!("refine {}, decoded at --scale 2", cfg.refine);
    point.measure(test, &cfg, "super-resolution", &config, setting)
}
