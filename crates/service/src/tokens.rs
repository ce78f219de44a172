//! Single-use tokens (access codes now; invitations and resets with the API): 256 random
//! bits from the operating system, handed out once, stored only as a SHA-256 hash (R12).

use sha2::{Digest, Sha256};

/// Why no token could be made.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct TokenError(String);

/// A fresh token and the hash to store in its place.
pub fn new_token() -> Result<(String, String), TokenError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| TokenError(e.to_string()))?;
    let token = hex::encode(bytes);
    let hash = hash_token(&token);
    Ok((token, hash))
}

/// The stored form of a token. Lookups go by this hash, so no comparison of secrets
/// happens in a way that leaks timing about the token itself.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn r12_tokens_are_random_256_bit_and_stored_hashed() {
        let (a, ha) = new_token().unwrap();
        let (b, hb) = new_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64, "256 bits, hex");
        assert_eq!(ha, hash_token(&a));
        assert_ne!(ha, a, "the hash is not the token");
        assert_ne!(ha, hb);
    }
}
