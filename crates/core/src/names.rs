//! Logon names and keys (R10): what is allowed, and when two names count as the same.
//!
//! Two logon names collide when the TR39 skeletons of their case-folded NFKC forms are
//! equal, so `Jane`, `JANE` and `jаne` (Cyrillic а) are one name.

use unicode_normalization::UnicodeNormalization;

/// The longest logon name accepted, in characters.
pub const MAX_LOGON_CHARS: usize = 128;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must not be empty")]
    Empty,
    #[error("must not start or end with spaces")]
    SurroundingSpace,
    #[error(
        "must not contain control, invisible or bidirectional-format characters (found U+{0:04X})"
    )]
    ForbiddenChar(u32),
    #[error("is longer than {0} characters")]
    TooLong(usize),
}

/// Characters that render as nothing or reorder text: Unicode's format characters (Cf)
/// that matter in practice, plus the bidi controls.
fn is_invisible_or_bidi(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFFB | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// Checks a logon name or display name for the characters R10 forbids.
pub fn validate_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.trim() != name {
        return Err(NameError::SurroundingSpace);
    }
    if let Some(c) = name.chars().find(|c| c.is_control() || is_invisible_or_bidi(*c)) {
        return Err(NameError::ForbiddenChar(c as u32));
    }
    if name.chars().count() > MAX_LOGON_CHARS {
        return Err(NameError::TooLong(MAX_LOGON_CHARS));
    }
    Ok(())
}

/// The case-folded NFKC form: equal for names that differ only in case or compatibility form.
pub fn fold(name: &str) -> String {
    // NFKC leaves ASCII as it is: the common case needs no Unicode tables.
    if name.is_ascii() {
        return name.to_ascii_lowercase();
    }
    name.nfkc().flat_map(char::to_lowercase).nfkc().collect()
}

/// The key under which a name is unique: the TR39 skeleton of its folded form, so that
/// confusable names collide.
pub fn collision_key(name: &str) -> String {
    let folded = fold(name);
    // The skeleton may map to characters whose lowercase differs; fold once more so that
    // case never matters after the confusable mapping either.
    unicode_security::skeleton(&folded).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn r10_case_and_compatibility_forms_collide() {
        assert_eq!(collision_key("Jane.Doe"), collision_key("jane.doe"));
        assert_eq!(collision_key("ｊａｎｅ"), collision_key("jane"));
    }

    #[test]
    fn r10_confusables_collide() {
        // Cyrillic і (U+0456) for Latin i, Cyrillic а (U+0430) for Latin a.
        assert_eq!(collision_key("j\u{0456}m"), collision_key("jim"));
        assert_eq!(collision_key("j\u{0430}ne"), collision_key("jane"));
        assert_ne!(collision_key("jim"), collision_key("tim"));
    }

    #[test]
    fn r10_invisible_bidi_control_and_spaces_are_refused() {
        assert_eq!(validate_name("ja\u{200B}ne"), Err(NameError::ForbiddenChar(0x200B)));
        assert_eq!(validate_name("ja\u{202E}ne"), Err(NameError::ForbiddenChar(0x202E)));
        assert_eq!(validate_name("ja\nne"), Err(NameError::ForbiddenChar(0x0A)));
        assert_eq!(validate_name(" jane"), Err(NameError::SurroundingSpace));
        assert_eq!(validate_name(""), Err(NameError::Empty));
        assert!(validate_name("jane.doe@example.com").is_ok());
        assert!(validate_name("Zoë Ünal").is_ok());
    }
}
