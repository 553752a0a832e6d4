//! gonpack's grid model (format version 5) as a benchmark codec: one decoder trained per
//! `--quality` on the training images (as `gonpack encode --quality Q` trains it), the test
//! images encoded against it frozen, each point a real pack whose bytes are counted and whose
//! images are rendered as `decode` renders them.
use std::time::Instant;

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
    pub qualities: Vec<u8>,
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
            let (trained, report) = encode_grid_pack(self.train, &cfg)?;
            let t = report.train;
            eprintln!(
                "rd: grid quality {q}: trained in {:.1} s ({} steps), last-10% train PSNR {:.2} dB",
                t.seconds, t.steps, t.final_psnr
            );
            let scales = report.scales.clone();
            let start = Instant::now();
            let pack = pack_with_decoder(&trained.decoder, &scales, test.images, &cfg)?;
            let encode_s = start.elapsed().as_secs_f64();
            let start = Instant::now();
            let decoded = pack_render(&pack, test.images)?;
            let decode_s = start.elapsed().as_secs_f64();
            let mut r = pack_record(
                pack.to_bytes()?.1,
                Task::Compression,
                &format!(
                    "grids {}+{}, quality {q}",
                    cfg.shape.levels, cfg.shape.global
                ),
                format!("refine {}", cfg.refine),
                test.pixels(),
                Some(mean_psnr(&decoded, test.images)),
            )?
            .timed(encode_s, decode_s)
            .with_alpha(mean_alpha(&decoded, test.images));
            r.train_s = Some(t.seconds);
            records.push(r);
        }
        Ok(records)
    }
}
