//! Text from untrusted sources (image names, file paths) made safe to print on a terminal.
use std::borrow::Cow;
use std::fmt;
use std::path::Path;

/// `s` with every control character (ESC, CR, LF, DEL, C1 controls …) escaped as `\u{…}`
/// (or `\n`, `\r`, `\t`), so a name can neither move the cursor, recolour the terminal,
/// set a window title nor forge an output line. Other text is returned as it is.
pub fn shown(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A path for messages: lossy UTF-8 with control characters escaped ([`shown`]).
pub fn shown_path(p: &Path) -> String {
    shown(&p.to_string_lossy()).into_owned()
}

/// Displays a path through [`shown_path`] (for `format!` arguments).
pub struct ShownPath<'a>(pub &'a Path);

impl fmt::Display for ShownPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&shown_path(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(
            shown("a\x1b[31mred\r\nb\u{9b}c"),
            "a\\u{1b}[31mred\\r\\nb\\u{9b}c"
        );
        assert!(matches!(shown("plain/ünïcode name.png"), Cow::Borrowed(_)));
        assert_eq!(shown_path(Path::new("d/\x07bell")), "d/\\u{7}bell");
    }
}
