//! Logon names and keys (R10): what is allowed, and when two names count as the same.
//!
//! Two logon names collide when the TR39 skeletons of their case-folded NFKC forms are
//! equal, so `Jane`, `JANE` and `jаne` (Cyrillic а) are one name.
//!
//! A logon name is checked against an allow-list, not a deny-list: every character must be
//! allowed for identifiers by the General Security Profile of Unicode TS #39
//! (`Identifier_Status=Allowed`), besides the ASCII `.`, `-`, `_` and `@`. A deny-list of
//! "invisible" characters always misses some (U+2800 braille blank, U+2028, the Arabic and
//! Egyptian format characters…); the profile leaves out every control, format, space,
//! separator and default-ignorable character by construction.

use unicode_normalization::UnicodeNormalization;
use unicode_security::GeneralSecurityProfile;
use unicode_security::general_security_profile::IdentifierType;

/// The longest logon name accepted, in characters.
pub const MAX_LOGON_CHARS: usize = 128;

/// The ASCII punctuation a logon name may hold besides what the profile allows.
const LOGON_PUNCTUATION: [char; 4] = ['.', '-', '_', '@'];

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must not be empty")]
    Empty,
    #[error("must not start or end with spaces")]
    SurroundingSpace,
    #[error(
        "must not contain control, invisible, format, separator or bidirectional-format \
         characters (found U+{0:04X})"
    )]
    ForbiddenChar(u32),
    #[error("is longer than {0} characters")]
    TooLong(usize),
    /// A logon name holds a character outside the General Security Profile (R10).
    #[error(
        "must not contain U+{:04X}, {}{}: a logon name may hold only the characters (letters, \
         digits, marks) the Unicode General Security Profile allows in identifiers, and `.`, \
         `-`, `_`, `@`",
        .0.code, .0.reason, if .0.after_nfkc { " (found after NFKC normalisation)" } else { "" }
    )]
    NotInProfile(RefusedChar),
}

/// A character a logon name may not hold, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusedChar {
    code: u32,
    reason: &'static str,
    after_nfkc: bool,
}

impl RefusedChar {
    /// The refused character's code point.
    pub fn code(&self) -> u32 {
        self.code
    }

    /// Why it is refused, in words (`a control character`).
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// Whether the character appeared only in the name's NFKC form, not as typed.
    pub fn after_nfkc(&self) -> bool {
        self.after_nfkc
    }
}

/// Characters that render as nothing, reorder text or split lines: Unicode's format
/// characters (Cf), the bidi controls, the line and paragraph separators, and the blanks
/// that are letters or symbols (Hangul fillers, the braille blank).
fn is_invisible_or_bidi(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890 | 0x0891
        | 0x08E2 | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F | 0x200B..=0x200F
        | 0x2028..=0x202E | 0x2060..=0x206F | 0x2800 | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF
        | 0xFFA0 | 0xFFF0..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1345F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// Checks a display name (first or last name, tenant, group or resource name) for the
/// characters R10 forbids in any name.
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

/// Checks a logon name (R10): not empty, no surrounding spaces, at most
/// [`MAX_LOGON_CHARS`], and every character allowed by the General Security Profile or one
/// of `.`, `-`, `_`, `@`, both as typed and in its NFKC form.
pub fn validate_logon(logon: &str) -> Result<(), NameError> {
    if logon.is_empty() {
        return Err(NameError::Empty);
    }
    if logon.trim() != logon {
        return Err(NameError::SurroundingSpace);
    }
    // Before any Unicode work, so a long name costs nothing more.
    if logon.chars().count() > MAX_LOGON_CHARS {
        return Err(NameError::TooLong(MAX_LOGON_CHARS));
    }
    if let Some(c) = logon.chars().find(|c| !logon_char_allowed(*c)) {
        return Err(NameError::NotInProfile(refused(c, false)));
    }
    // The name is compared (and so, in effect, used) in its NFKC form: that form must pass
    // too. Every allowed character is NFKC-stable, but a composition of several could, in
    // principle, give one that is not.
    if !logon.is_ascii()
        && let Some(c) = logon.nfkc().find(|c| !logon_char_allowed(*c))
    {
        return Err(NameError::NotInProfile(refused(c, true)));
    }
    Ok(())
}

fn logon_char_allowed(c: char) -> bool {
    LOGON_PUNCTUATION.contains(&c) || c.identifier_allowed()
}

/// Why `c` is not allowed in a logon name, in words.
fn refused(c: char, after_nfkc: bool) -> RefusedChar {
    let reason = if c.is_control() {
        "a control character"
    } else if c.is_whitespace() || matches!(c, '\u{2800}' | '\u{3164}' | '\u{FFA0}') {
        "a space, separator or blank character"
    } else if is_invisible_or_bidi(c) {
        "an invisible, format or bidirectional-format character"
    } else {
        match c.identifier_type() {
            Some(IdentifierType::Default_Ignorable) => "an invisible (default-ignorable) character",
            Some(IdentifierType::Not_NFKC) => {
                "a compatibility form that NFKC normalisation changes"
            }
            Some(IdentifierType::Not_XID) => "a symbol, punctuation or format character",
            Some(IdentifierType::Not_Character) => "not an assigned character",
            Some(IdentifierType::Deprecated) => "a deprecated character",
            Some(IdentifierType::Exclusion | IdentifierType::Obsolete) => {
                "a character of a historic script"
            }
            Some(IdentifierType::Technical) => "a technical character",
            Some(IdentifierType::Uncommon_Use) => "a character in uncommon use",
            Some(IdentifierType::Limited_Use) => "a character of a script in limited use",
            Some(IdentifierType::Inclusion | IdentifierType::Recommended) | None => {
                "a character not allowed in identifiers"
            }
        }
    };
    RefusedChar { code: c as u32, reason, after_nfkc }
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
    #![allow(clippy::unwrap_used, clippy::panic)]
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

    #[test]
    fn r10_logon_names_allow_only_the_general_security_profile() {
        let refused: &[(&str, u32)] = &[
            ("\u{2800}operator", 0x2800), // braille pattern blank
            ("op\u{2800}erator", 0x2800),
            ("jane\u{0600}", 0x0600),   // Arabic number sign (format)
            ("ja\u{06DD}ne", 0x06DD),   // Arabic end of ayah (format)
            ("ja\u{070F}ne", 0x070F),   // Syriac abbreviation mark (format)
            ("ja\u{08E2}ne", 0x08E2),   // Arabic disputed end of ayah (format)
            ("ja\u{110BD}ne", 0x110BD), // Kaithi number sign (format)
            ("ja\u{13430}ne", 0x13430), // Egyptian hieroglyph vertical joiner (format)
            ("ja\u{2028}ne", 0x2028),   // line separator
            ("ja\u{2029}ne", 0x2029),   // paragraph separator
            ("ja\u{200B}ne", 0x200B),   // zero-width space
            ("ja\u{00A0}ne", 0x00A0),   // no-break space
            ("ja\u{202E}ne", 0x202E),   // right-to-left override
            ("ja\tne", 0x09),
            ("\u{FEFF}jane", 0xFEFF), // zero-width no-break space (byte-order mark)
            ("ja\u{3164}ne", 0x3164), // Hangul filler
            ("ja\u{00AD}ne", 0x00AD), // soft hyphen
            ("ja ne", 0x20),
            ("ｊａｎｅ", 0xFF4A),     // fullwidth forms: NFKC would change them
            ("jane\u{FE0F}", 0xFE0F), // variation selector
            ("jane+x", u32::from('+')),
            ("jane/x", u32::from('/')),
            ("jane🦀", 0x1F980),
        ];
        for &(name, code) in refused {
            match validate_logon(name) {
                Err(NameError::NotInProfile(c)) => {
                    assert_eq!(c.code(), code, "{name:?}");
                    let message = NameError::NotInProfile(c).to_string();
                    assert!(message.contains(&format!("U+{code:04X}")), "{message}");
                }
                other => panic!("{name:?}: {other:?}"),
            }
        }
        assert_eq!(validate_logon(" jane"), Err(NameError::SurroundingSpace));
        assert_eq!(validate_logon("jane\u{3000}"), Err(NameError::SurroundingSpace));
        assert_eq!(validate_logon(""), Err(NameError::Empty));
        let long = "a".repeat(MAX_LOGON_CHARS + 1);
        assert_eq!(validate_logon(&long), Err(NameError::TooLong(MAX_LOGON_CHARS)));

        let message = validate_logon("\u{2800}operator").unwrap_err().to_string();
        assert!(message.contains("U+2800") && message.contains("blank"), "{message}");

        for name in [
            "jane.doe",
            "ann-lee_2",
            "bob@example.com",
            "josé",
            "jose\u{0301}", // é as e + combining acute: allowed, and its NFKC form too
            "müller",
            "李雷",
            "Jane.Doe",
            "operator",
        ] {
            assert_eq!(validate_logon(name), Ok(()), "{name:?}");
        }
    }
}
