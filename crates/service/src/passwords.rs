//! Password rules and hashing (R15): at least 12 characters, long ones accepted whole, no
//! composition rules; common passwords, passwords containing the account's logon name or
//! e-mail, and passwords zxcvbn scores below 3 of 4 refused; Argon2id at m=19 MiB, t=2, p=1
//! or more.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use deputy_core::names;
use std::collections::HashSet;
use std::sync::LazyLock;

/// The shortest password accepted, in characters.
pub const MIN_CHARS: usize = 12;
/// The longest: far above R15's "at least 64", low enough that hashing stays bounded.
pub const MAX_CHARS: usize = 1024;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
});

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashCost {
    /// R15's floor: m=19 MiB, t=2, p=1.
    pub const DEFAULT: HashCost = HashCost { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 };

    fn hasher(self) -> Result<Argon2<'static>, PasswordError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| PasswordError::Hashing(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password must have at least {MIN_CHARS} characters")]
    TooShort,
    #[error("password must have at most {MAX_CHARS} characters")]
    TooLong,
    #[error("password is on the list of common passwords; choose another")]
    Common,
    #[error("password contains the logon name")]
    ContainsLogon,
    #[error("password contains the e-mail address")]
    ContainsEmail,
    #[error("password contains the e-mail address's name (the part before the @)")]
    ContainsEmailName,
    /// zxcvbn scored the password below [`MIN_SCORE`]; `advice` is its feedback.
    #[error("password is too easy to guess (strength {score} of 4); {advice}")]
    TooEasy { score: u8, advice: String },
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// The lowest zxcvbn score accepted (R15: "below 3 of 4" is refused).
pub const MIN_SCORE: u8 = 3;
/// How much of a password zxcvbn scores, in characters. Its matchers grow faster than
/// linearly with the length, so a longer password is judged on its first `SCORED_CHARS`
/// characters (the whole password is still stored, hashed and compared, never truncated);
/// a 1024-character password then costs no more to score than a 100-character one.
pub const SCORED_CHARS: usize = 100;
/// The shortest logon name, or e-mail name part, that a password may not contain (one it
/// equals is always refused): shorter ones (`al`) occur in too many good passwords, and
/// zxcvbn still discounts them as user inputs.
const MIN_LOGON_CONTAINED: usize = 3;
const MIN_EMAIL_NAME_CONTAINED: usize = 4;

/// What a password is checked against besides itself (R15): the account it is for.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordContext<'a> {
    /// The account's logon name; empty when unknown.
    pub logon: &'a str,
    /// The account's e-mail address; empty when unknown.
    pub email: &'a str,
    /// Other words a guesser would try first (first and last name, tenant name): they make
    /// zxcvbn's score lower, but are not refused on their own.
    pub other_inputs: &'a [&'a str],
}

/// Whether `password` may be set (R15) when the account is not known: length, the list of
/// common passwords and zxcvbn's score. Nothing is trimmed or truncated.
pub fn validate(password: &str) -> Result<(), PasswordError> {
    validate_for(password, &PasswordContext::default())
}

/// Whether `password` may be set for the account `context` describes (R15): as
/// [`validate`], and the password must neither equal nor contain the logon name, the
/// e-mail address or the e-mail's name part (case-insensitively), which zxcvbn also gets,
/// with `other_inputs`, as words a guesser would try first.
pub fn validate_for(password: &str, context: &PasswordContext<'_>) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if n > MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    if COMMON.contains(password.to_lowercase().as_str()) {
        return Err(PasswordError::Common);
    }
    let folded = names::fold(password);
    let logon = names::fold(context.logon.trim());
    let email = names::fold(context.email.trim());
    let email_name = email.rsplit_once('@').map_or("", |(name, _)| name);
    if contains(&folded, &logon, MIN_LOGON_CONTAINED) {
        return Err(PasswordError::ContainsLogon);
    }
    if contains(&folded, &email, 1) {
        return Err(PasswordError::ContainsEmail);
    }
    if contains(&folded, email_name, MIN_EMAIL_NAME_CONTAINED) {
        return Err(PasswordError::ContainsEmailName);
    }
    let inputs: Vec<&str> = [context.logon, context.email, email_name]
        .into_iter()
        .chain(context.other_inputs.iter().copied())
        .collect();
    let entropy = strength(password, &inputs);
    let score = u8::from(entropy.score());
    if score < MIN_SCORE {
        return Err(PasswordError::TooEasy { score, advice: advice(entropy.feedback()) });
    }
    Ok(())
}

/// zxcvbn's estimate of the first [`SCORED_CHARS`] characters of `password`, with `inputs`
/// (each cut as short) as words a guesser tries first.
fn strength(password: &str, inputs: &[&str]) -> zxcvbn::Entropy {
    // zxcvbn cuts at 100 characters itself today; cutting here keeps the bound ours.
    let scored: String = password.chars().take(SCORED_CHARS).collect();
    let mut inputs: Vec<String> = inputs
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(SCORED_CHARS).collect())
        .collect();
    inputs.sort();
    inputs.dedup();
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    zxcvbn::zxcvbn(&scored, &inputs)
}

/// Whether `password` equals `part`, or contains it and `part` has at least `min_chars`
/// characters. An empty `part` is never contained.
fn contains(password: &str, part: &str, min_chars: usize) -> bool {
    !part.is_empty()
        && (password == part || (part.chars().count() >= min_chars && password.contains(part)))
}

/// zxcvbn's warning and suggestions as one lowercase clause list: "a word by itself is
/// easy to guess; add another word or two; uncommon words are better".
fn advice(feedback: Option<&zxcvbn::feedback::Feedback>) -> String {
    let mut sentences = Vec::new();
    if let Some(feedback) = feedback {
        sentences.extend(feedback.warning().map(|w| w.to_string()));
        sentences.extend(feedback.suggestions().iter().map(ToString::to_string));
    }
    let clauses: Vec<String> = sentences
        .iter()
        .flat_map(|s| s.split(". "))
        .map(|s| s.trim().trim_end_matches('.'))
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut chars = s.chars();
            chars.next().map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
        })
        .collect();
    if clauses.is_empty() {
        "add another word or two; uncommon words are better".to_owned()
    } else {
        clauses.join("; ")
    }
}

/// The PHC string of a new Argon2id hash of `password` with a random salt.
pub fn hash(password: &str, cost: HashCost) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Ok(cost
        .hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| PasswordError::Hashing(e.to_string()))?
        .to_string())
}

/// Whether `password` matches the stored `phc` (the comparison is constant-time inside
/// `argon2`). A malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    // The parameters come from the stored hash, so older, cheaper hashes still verify.
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
}

/// Whether a stored hash is cheaper than `cost` (then it is rehashed at sign-in, R15).
pub fn needs_rehash(phc: &str, cost: HashCost) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return true };
    let Ok(params) = Params::try_from(&parsed) else { return true };
    parsed.algorithm.as_str() != "argon2id"
        || params.m_cost() < cost.memory_kib
        || params.t_cost() < cost.iterations
        || params.p_cost() < cost.parallelism
}

/// A random password for "generate one" (R14): 20 characters from an unambiguous alphabet
/// (about 113 bits).
pub fn generate() -> Result<String, PasswordError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    // 256 is not a multiple of 56, so reject the top values to keep the draw uniform.
    let mut out = String::with_capacity(20);
    let mut pool = bytes.to_vec();
    while out.len() < 20 {
        match pool.pop() {
            Some(b) if usize::from(b) < 256 - 256 % ALPHABET.len() => {
                out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
            }
            Some(_) => {}
            None => {
                let mut more = [0u8; 20];
                getrandom::fill(&mut more).map_err(|e| PasswordError::Hashing(e.to_string()))?;
                pool.extend_from_slice(&more);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    const CHEAP: HashCost = HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 };

    #[test]
    fn r15_length_and_common_passwords() {
        assert_eq!(validate("short"), Err(PasswordError::TooShort));
        assert_eq!(validate("eleven char"), Err(PasswordError::TooShort));
        assert_eq!(validate("QWERTY123456"), Err(PasswordError::Common), "case-insensitive");
        assert_eq!(validate("1qaz2wsx3edc"), Err(PasswordError::Common));
        assert_eq!(validate(&"x".repeat(MAX_CHARS + 1)), Err(PasswordError::TooLong));
        assert!(validate("correct horse battery staple").is_ok());
        // Long passwords are accepted whole: 64 and more characters.
        let long = "granite otter whistles under a crooked lantern while nine quiet ferns argue";
        assert!(long.chars().count() > 64);
        assert!(validate(long).is_ok());
        // Characters, not bytes: twelve multi-byte characters are enough, eleven are not.
        assert!(validate("żółćęśąźńłóż").is_ok());
        assert_eq!(validate("żółćęśąźńłó"), Err(PasswordError::TooShort));
    }

    #[test]
    fn r15_passwords_containing_the_logon_or_email_are_refused() {
        let names = ["Jane", "Doe"];
        let jane =
            PasswordContext { logon: "jdoe", email: "Jane.Doe@Example.com", other_inputs: &names };
        let refused = [
            ("jdoe-granite-otter-lantern", PasswordError::ContainsLogon),
            ("granite JDOE otter lantern", PasswordError::ContainsLogon),
            ("jane.doe@example.com", PasswordError::ContainsEmail),
            ("my JANE.DOE@EXAMPLE.COM vault", PasswordError::ContainsEmail),
            ("granite jane.doe otter lantern", PasswordError::ContainsEmailName),
        ];
        for (password, error) in refused {
            assert_eq!(validate_for(password, &jane), Err(error.clone()), "{password}");
            assert!(validate(password).is_ok(), "{password}: refused only for jane");
        }
        assert_eq!(PasswordError::ContainsLogon.to_string(), "password contains the logon name");
        // Equal to the logon name, case-insensitively.
        let zebra = PasswordContext { logon: "zebra-umbrella-42", ..PasswordContext::default() };
        assert_eq!(validate_for("Zebra-Umbrella-42", &zebra), Err(PasswordError::ContainsLogon));
        // Short logon names and e-mail name parts are refused only when equal: `al` and `jo`
        // occur in too many good passwords.
        let short = PasswordContext { logon: "al", email: "jo@example.com", other_inputs: &[] };
        assert!(validate_for("totally joyful granite lanterns", &short).is_ok());
        assert!(validate_for("correct horse battery staple", &jane).is_ok());
    }

    #[test]
    fn r15_weak_passwords_by_zxcvbn_are_refused() {
        for password in ["aaaaaaaaaaaa", "abcabcabcabc", "password1234", "qwertyuiopasdf"] {
            assert!(u8::from(strength(password, &[]).score()) < MIN_SCORE, "{password}");
            match validate(password) {
                // The list of common passwords may catch it first.
                Err(PasswordError::Common) => {}
                Err(PasswordError::TooEasy { score, advice }) => {
                    assert!(score < MIN_SCORE, "{password}");
                    assert!(!advice.is_empty() && advice.chars().all(|c| !c.is_uppercase()));
                }
                other => panic!("{password}: {other:?}"),
            }
        }
        let message = validate("aaaaaaaaaaaa").unwrap_err().to_string();
        assert!(message.starts_with("password is too easy to guess (strength "), "{message}");
        assert!(!message.ends_with('.'), "{message}");
        assert!(validate("correct horse battery staple").is_ok());
        // The account's names count as easy words: a password built of them scores lower.
        let names = ["Margarethe", "Vanderbilt"];
        let context = PasswordContext { logon: "mvb", email: "", other_inputs: &names };
        assert!(validate("margarethevanderbilt").is_ok());
        assert!(matches!(
            validate_for("margarethevanderbilt", &context),
            Err(PasswordError::TooEasy { .. })
        ));
        // A long password is scored on its first SCORED_CHARS characters, so the longest
        // accepted costs no more than that; it is still accepted or refused as a whole.
        let strong_start = format!("correct horse battery staple {}", "a".repeat(MAX_CHARS - 29));
        assert_eq!(strong_start.chars().count(), MAX_CHARS);
        assert!(validate(&strong_start).is_ok());
        assert!(matches!(validate(&"a".repeat(MAX_CHARS)), Err(PasswordError::TooEasy { .. })));
    }

    #[test]
    fn r15_hash_verifies_and_is_argon2id_with_the_default_cost() {
        let phc = hash("correct horse battery staple", HashCost::DEFAULT).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery staple", &phc));
        assert!(!verify("correct horse battery stapl", &phc));
        assert!(!verify("correct horse battery staple", "not a hash"));
        assert!(!needs_rehash(&phc, HashCost::DEFAULT));
    }

    #[test]
    fn r15_cheaper_hashes_are_rehashed() {
        let cheap = hash("correct horse battery staple", CHEAP).unwrap();
        assert!(verify("correct horse battery staple", &cheap));
        assert!(needs_rehash(&cheap, HashCost::DEFAULT));
        assert!(!needs_rehash(&cheap, CHEAP));
    }

    #[test]
    fn r14_generated_passwords_are_long_random_and_valid() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.chars().count(), 20);
        assert_ne!(a, b);
        assert!(validate(&a).is_ok());
    }
}
