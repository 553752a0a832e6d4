//! Fuzz target: open + index + decoder + latents + small renders of arbitrary bytes.
#![no_main]

#[path = "../exercise.rs"]
mod exercise;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    exercise::exercise(data);
});
