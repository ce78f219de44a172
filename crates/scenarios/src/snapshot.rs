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

#[cfg(test)]
mod tests {
    use super::literal;

    #[test]
    fn literals_read_back_as_the_text() {
        for text in ["denied\nbecause `x`\n", "one line", "it's", "'''\n", "tab\there", "a\u{7}"] {
            let doc = format!("t = {}", literal(text));
            let table: toml::Table = toml::from_str(&doc).unwrap_or_default();
            assert_eq!(table.get("t").and_then(|v| v.as_str()), Some(text), "{doc}");
        }
    }
}
