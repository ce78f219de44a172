//! Texts compared exactly, `expect`-style: a file holds the expected text; when it differs
//! and `UPDATE_EXPECT=1` is set, the file is rewritten with the actual text in its place
//! (as the `expect-test` crate does for Rust sources), else the test fails showing both.

use crate::ScenarioFile;
use crate::driver::Part;
use crate::model::{Layer, Scenario, Step};
use toml::Spanned;

/// A text that differs from the file's.
#[derive(Debug, Clone)]
pub struct Mismatch {
    part: Part,
    index: usize,
    field: &'static str,
    expected: String,
    actual: String,
}

impl Mismatch {
    pub(crate) fn new(
        part: Part,
        index: usize,
        field: &'static str,
        expected: &Spanned<String>,
        actual: String,
    ) -> Mismatch {
        Mismatch { part, index, field, expected: expected.get_ref().clone(), actual }
    }

    pub(crate) fn describe(&self, layer: Layer, file: &ScenarioFile) -> String {
        format!(
            "{} {}: {}[{}].{} differs\n--- expected\n{}\n--- actual\n{}\n---",
            layer.name(),
            file.name,
            self.part.name(),
            self.index,
            self.field,
            self.expected,
            self.actual
        )
    }
}

/// Whether texts that differ are written back (`UPDATE_EXPECT=1`).
pub fn updating() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1")
}

/// Writes the actual texts into the file on disk, each in place of the one it differs from.
/// The file is read again first, so runs of several layers at once each see the others'
/// updates.
pub(crate) fn update(file: &ScenarioFile, mismatches: &[Mismatch]) -> Result<(), String> {
    let source = std::fs::read_to_string(file.path)
        .map_err(|e| format!("cannot read {}: {e}", file.path))?;
    let scenario: Scenario = toml::from_str(&source).map_err(|e| format!("{}: {e}", file.path))?;
    let mut edits = Vec::new();
    for m in mismatches {
        let steps = match m.part {
            Part::Setup => &scenario.setup,
            Part::Steps => &scenario.steps,
        };
        let step: &Step = steps
            .get(m.index)
            .ok_or_else(|| format!("{}: {}[{}] is gone", file.path, m.part.name(), m.index))?;
        let field = match m.field {
            "says" => step.says.as_ref(),
            _ => step.text.as_ref(),
        }
        .ok_or_else(|| {
            format!("{}: {}[{}] lost `{}`", file.path, m.part.name(), m.index, m.field)
        })?;
        if *field.get_ref() != m.actual {
            edits.push((field.span(), literal(&m.actual)));
        }
    }
    edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    let mut text = source;
    for (span, literal) in edits {
        text.replace_range(span, &literal);
    }
    let temporary = format!("{}.update", file.path);
    std::fs::write(&temporary, text).map_err(|e| format!("cannot write {temporary}: {e}"))?;
    std::fs::rename(&temporary, file.path).map_err(|e| format!("cannot replace {}: {e}", file.path))
}

/// The TOML literal for a text: a multi-line literal string where the text allows one.
fn literal(text: &str) -> String {
    let plain = !text.contains("'''")
        && !text.starts_with('\'')
        && !text.ends_with('\'')
        && !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    if plain && text.contains('\n') {
        format!("'''\n{text}'''")
    } else if plain && !text.contains('\'') {
        format!("'{text}'")
    } else {
        toml::Value::String(text.to_owned()).to_string()
    }
}

/// The text with every instant (`2026-11-22T10:00Z`, seconds and fractions optional)
/// replaced by `<time>`: a snapshot must read the same on every run and every layer, and
/// only the engine has a fixed clock.
pub fn redact_times(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        match instant_len(&bytes[i..]) {
            Some(n) => {
                out.push_str("<time>");
                i += n;
            }
            None => {
                let c = text[i..].chars().next().unwrap_or(' ');
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// The length of an instant at the start of `b`, if one starts there.
fn instant_len(b: &[u8]) -> Option<usize> {
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let date = (0..4).all(digit) && at(4, b'-') && digit(5) && digit(6) && at(7, b'-');
    let time = digit(8) && digit(9) && at(10, b'T') && digit(11) && digit(12) && at(13, b':');
    if !(date && time && digit(14) && digit(15)) {
        return None;
    }
    let mut n = 16;
    if at(n, b':') && digit(n + 1) && digit(n + 2) {
        n += 3;
        if at(n, b'.') {
            n += 1;
            while digit(n) {
                n += 1;
            }
        }
    }
    at(n, b'Z').then_some(n + 1)
}

#[cfg(test)]
mod tests {
    use super::{literal, redact_times};

    #[test]
    fn instants_are_redacted() {
        assert_eq!(
            redact_times("revoked at 2026-01-01T00:00Z, expired 2026-11-22T10:00:05.120Z."),
            "revoked at <time>, expired <time>."
        );
        assert_eq!(redact_times("2026-01-01 and Zürich"), "2026-01-01 and Zürich");
    }

    #[test]
    fn literals_read_back_as_the_text() {
        for text in ["denied\nbecause `x`\n", "one line", "it's", "'''\n", "tab\there", "a\u{7}"] {
            let doc = format!("t = {}", literal(text));
            let table: toml::Table = toml::from_str(&doc).unwrap_or_default();
            assert_eq!(table.get("t").and_then(|v| v.as_str()), Some(text), "{doc}");
        }
    }
}
