//! One crypto library for everything: the rustls `CryptoProvider` that TLS uses (the
//! application's, when it installed one; else the one this crate's feature selects: aws-lc-rs,
//! as reqwest's default TLS uses, or ring). Service-account signatures (RS256), SHA-256 and
//! random bytes all come from it, so no second crypto library is compiled beside the
//! application's.

use std::sync::Arc;

use rustls::SignatureScheme;
use rustls::crypto::CryptoProvider;
use rustls::crypto::hash::{Hash, HashAlgorithm};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::SigningKey;

use super::Error;

#[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
compile_error!(
    "google-people needs a crypto provider for rustls: enable the `aws-lc-rs` (default) or the \
     `ring` feature"
);

/// The provider this crate was built with.
fn builtin() -> CryptoProvider {
    #[cfg(feature = "aws-lc-rs")]
    return rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    return rustls::crypto::ring::default_provider();
}

/// Install this crate's provider as the process's rustls provider unless one is installed
/// already (the application's choice wins).
pub fn install_crypto_provider() {
    if CryptoProvider::get_default().is_none() {
        // An error means another thread installed one first, which is just as good.
        let _ = builtin().install_default();
    }
}

/// The process's provider (installing this crate's first if there is none).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    install_crypto_provider();
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(builtin()))
}

/// The provider's SHA-256, from one of its TLS 1.3 suites.
fn sha256_of(p: &CryptoProvider) -> Option<&'static dyn Hash> {
    p.cipher_suites.iter().find_map(|s| match s {
        rustls::SupportedCipherSuite::Tls13(t)
            if t.common.hash_provider.algorithm() == HashAlgorithm::SHA256 =>
        {
            Some(t.common.hash_provider)
        }
        _ => None,
    })
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let p = provider();
    let hash = match sha256_of(&p) {
        Some(h) => h.hash(data),
        // A custom provider without SHA-256 suites: the built-in one (it always has them).
        None => sha256_of(&builtin())
            .expect("rustls's built-in providers offer SHA-256 suites")
            .hash(data),
    };
    let mut out = [0; 32];
    out.copy_from_slice(&hash.as_ref()[..32]);
    out
}

/// `buf` filled with random bytes.
pub(crate) fn random(buf: &mut [u8]) -> Result<(), Error> {
    provider()
        .secure_random
        .fill(buf)
        .map_err(|_| Error::config("the crypto provider could not give random bytes"))
}

/// An RSA private key (PKCS#8 DER) loaded by the provider, for RS256 signatures.
#[derive(Clone)]
pub(crate) struct RsaKey(Arc<dyn SigningKey>);

impl RsaKey {
    /// Load a PKCS#8 key; `None` when it is not an RSA key the provider can sign with.
    pub(crate) fn from_pkcs8(der: Vec<u8>) -> Option<Self> {
        let key = provider()
            .key_provider
            .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)))
            .ok()?;
        key.choose_scheme(&[SignatureScheme::RSA_PKCS1_SHA256])?;
        Some(Self(key))
    }

    /// An RSASSA-PKCS1-v1_5 SHA-256 signature of `message` (JWT's RS256).
    pub(crate) fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let signer = self
            .0
            .choose_scheme(&[SignatureScheme::RSA_PKCS1_SHA256])
            .ok_or_else(|| Error::auth("the key cannot make RS256 signatures", None))?;
        signer
            .sign(message)
            .map_err(|_| Error::auth("signing the JWT assertion failed", None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_sha256() {
        let h = sha256(b"abc");
        assert_eq!(
            h[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "the FIPS 180-2 test vector"
        );
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        random(&mut a).unwrap();
        random(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
