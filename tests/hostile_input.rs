//! Untrusted input: every flipped byte and every truncation of real packs, plus every
//! committed fuzz crash, must give a typed error or a valid result: never a panic, never a
//! hang, never memory beyond the limits. Runs in its own test binary because it counts
//! allocations with a global allocator. Needs no libtorch.
mod common;

#[path = "../fuzz/exercise.rs"]
mod exercise;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use exercise::{exercise, FUZZ_LIMITS};
use gonpack::consts::{LATENT_CODING_CONTEXT, LATENT_CODING_RANGE};
use gonpack::{Error, Limits, Reader};

/// Counts live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// One test at a time, so that the peak belongs to the test measuring it.
static SERIAL: Mutex<()> = Mutex::new(());

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(live, Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Heap growth allowed above the baseline: the 1 MiB section limit twice (stored and
/// decompressed) plus scratch and the render; anything beyond means a limit was bypassed.
const HEAP_BUDGET: usize = 8 << 20;

fn packs() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut packs: Vec<(String, Vec<u8>)> = [
        "digits16.gonpack",
        "rgb6-f32-12bit.gonpack",
        "rgb6-patch16.gonpack",
        "grid12.gonpack",
    ]
    .iter()
    .map(|n| (n.to_string(), std::fs::read(dir.join(n)).unwrap()))
    .collect();
    // The grid pack again with its codes range-coded and context-coded (the committed one
    // stores them plain).
    let grid = Reader::from_slice(&packs[3].1, Limits::default())
        .unwrap()
        .into_grid_pack()
        .unwrap();
    let ranged = grid.to_bytes_with(LATENT_CODING_RANGE).unwrap().0;
    packs.push(("grid12.gonpack, range-coded".into(), ranged));
    let context = grid.to_bytes_with(LATENT_CODING_CONTEXT).unwrap().0;
    packs.push(("grid12.gonpack, context-coded".into(), context));
    packs
}

/// Reads every part of a pack: index, decoder and every latent (vectors or grids).
fn read_all(data: &[u8]) -> Result<(), Error> {
    let mut reader = Reader::from_slice(data, FUZZ_LIMITS)?;
    reader.index()?;
    let _render = reader.prepare()?;
    Ok(())
}

/// Runs `attempt` on each numbered input, tracking the slowest attempt and the heap peak.
fn guarded(
    inputs: impl Iterator<Item = (usize, Vec<u8>)>,
    mut attempt: impl FnMut(usize, &[u8]),
) -> Duration {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let mut slowest = Duration::ZERO;
    for (k, data) in inputs {
        let t = Instant::now();
        attempt(k, &data);
        slowest = slowest.max(t.elapsed());
    }
    let growth = PEAK.load(Relaxed).saturating_sub(base);
    assert!(growth <= HEAP_BUDGET, "heap grew by {growth} bytes");
    assert!(
        slowest < Duration::from_secs(2),
        "an attempt took {slowest:?}"
    );
    slowest
}

#[test]
fn every_flipped_byte_is_caught() {
    let _serial = SERIAL.lock().unwrap();
    for (name, pack) in packs() {
        assert!(read_all(&pack).is_ok(), "{name} itself must read");
        // Every byte is covered by the header CRC, the table CRC or a section CRC, or is a
        // field checked before them (magic, version), so each flip must be an error.
        let mut missed = Vec::new();
        let slowest = guarded(
            (0..pack.len()).map(|pos| {
                let mut damaged = pack.clone();
                damaged[pos] ^= 1 << (pos % 8);
                (pos, damaged)
            }),
            |pos, damaged| {
                match read_all(damaged) {
                    Err(Error::Checksum(_) | Error::NotGonpack | Error::UnsupportedVersion(_)) => {}
                    Err(e) => panic!("{name} byte {pos}: unexpected error kind {e:?}"),
                    Ok(()) => missed.push(pos),
                }
                exercise(damaged);
            },
        );
        assert!(
            missed.is_empty(),
            "{name}: flips not detected at {missed:?}"
        );
        eprintln!("{name}: {} flips, slowest {slowest:?}", pack.len());
    }
}

#[test]
fn every_truncation_is_caught() {
    let _serial = SERIAL.lock().unwrap();
    for (name, pack) in packs() {
        let slowest = guarded(
            (0..pack.len()).map(|len| (len, pack[..len].to_vec())),
            |len, cut| match read_all(cut) {
                Err(Error::Truncated(_)) => assert_eq!(exercise(cut), 0),
                other => panic!("{name} cut to {len} bytes: got {other:?}"),
            },
        );
        eprintln!("{name}: {} truncations, slowest {slowest:?}", pack.len());
    }
}

/// Small packs that ask for absurd work (made by `fuzz/craft_regressions.py`): 16 Mi latents
/// in 769 bytes, a 4,096-wide decoder in 1.3 KB, sixteen 8192x8192 images in 326 bytes.
/// With the *default* limits each must be refused as a limits error before anything is
/// decoded (before this check, `extract` took 90 s, 1.8 s at 168 MB, and 6.6 s per image).
#[test]
fn packs_asking_for_absurd_work_are_refused_up_front() {
    let _serial = SERIAL.lock().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions");
    let files = [
        "amp-patch1-16mi-latents.gonpack",
        "amp-hidden4096.gonpack",
        "amp-sixteen-8192.gonpack",
    ];
    let inputs = files.iter().map(|f| std::fs::read(dir.join(f)).unwrap());
    let slowest = guarded(inputs.enumerate(), |k, data| {
        let attempt = || -> Result<(), Error> {
            let mut reader = Reader::from_slice(data, Limits::default())?;
            let e = reader.index()?[0].clone();
            reader.render(0, e.width, e.height).map(drop)
        };
        match attempt() {
            Err(Error::Limits(m)) => eprintln!("{}: {m}", files[k]),
            other => panic!("{}: expected a limits error, got {other:?}", files[k]),
        }
    });
    eprintln!("slowest refusal {slowest:?}");
}

#[test]
fn committed_fuzz_crashes_replay_cleanly() {
    let _serial = SERIAL.lock().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    inputs.sort();
    // An empty folder would make this test pass without testing anything.
    assert!(
        !inputs.is_empty(),
        "{} holds no fuzz inputs besides README.md",
        dir.display()
    );
    eprintln!("replaying {} committed fuzz inputs", inputs.len());
    let mut replayed = 0;
    let slowest = guarded(
        inputs.iter().map(|p| std::fs::read(p).unwrap()).enumerate(),
        |k, data| {
            let t = Instant::now();
            exercise(data);
            let took = t.elapsed();
            if took > Duration::from_millis(500) {
                eprintln!("  {} took {took:?}", inputs[k].display());
            }
            replayed += 1;
        },
    );
    assert_eq!(replayed, inputs.len());
    // The harness itself renders valid packs: 3 images x 2 sizes, as given and re-checksummed.
    for (name, pack) in packs() {
        assert_eq!(exercise(&pack), 12, "{name}");
    }
    eprintln!("replayed {replayed} committed fuzz inputs, slowest {slowest:?}");
}
