//! Progress bars for long work (hidden when quiet or not on a terminal).
use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` ticks labelled `what`, showing rate and ETA; hidden when `quiet`.
pub fn bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{prefix:>9} [{bar:30}] {pos}/{len} {per_sec} ETA {eta} {msg}",
    )
    .expect("valid template")
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(what.to_owned());
    bar
}
