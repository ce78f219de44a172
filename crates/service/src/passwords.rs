//! Password rules and hashing (R15): at least 12 characters, long ones accepted whole, no
//! composition rules, common passwords refused, Argon2id at m=19 MiB, t=2, p=1 or more.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
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
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// Whether `password` may be set (R15). Nothing is trimmed or truncated.
pub fn validate(password: &str) -> Result<(), PasswordError> {
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
    Ok(())
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
    #![allow(clippy::unwrap_used)]
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
        assert!(validate(&"ab".repeat(40)).is_ok());
        // Characters, not bytes: twelve multi-byte characters are enough.
        assert!(validate("ééééééééééé!").is_ok());
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
