//! A self-signed X.509 certificate for the sandbox signing key, built when the sandbox
//! starts (never fetched), for the JWKS's `x5c` and `x5t`: Auth0 publishes both, and some
//! verifiers build the key from `x5c` rather than from `n` and `e`.
//!
//! The DER is written by hand (RFC 5280's few fields this needs) and signed with the key
//! itself through `jsonwebtoken`, so no certificate library is needed for one fixed shape.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use sha1::{Digest, Sha1};

/// `x5c` and `x5t`, or `None` when the key could not sign.
type Certificate = Option<(String, String)>;

/// [`x5c_and_x5t`] made once per subject for the process: signing costs as much as
/// hundreds of sandbox requests, and the test suites start hundreds of sandboxes.
pub(crate) fn cached(key: &EncodingKey, n: &str, e: &str, subject: &str) -> Option<(String, String)> {
    static MADE: std::sync::Mutex<Vec<(String, Certificate)>> = std::sync::Mutex::new(Vec::new());
    let mut made = MADE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, certificate)) = made.iter().find(|(s, _)| s == subject) {
        return certificate.clone();
    }
    let certificate = x5c_and_x5t(key, n, e, subject);
    made.push((subject.to_owned(), certificate.clone()));
    certificate
}

/// `x5c` (standard base64 of the DER, RFC 7517 §4.7) and `x5t` (base64url of its SHA-1,
/// §4.8) for the key with modulus `n` and exponent `e` (base64url), issued to `subject`.
pub(crate) fn x5c_and_x5t(key: &EncodingKey, n: &str, e: &str, subject: &str) -> Option<(String, String)> {
    let n = URL_SAFE_NO_PAD.decode(n).ok()?;
    let e = URL_SAFE_NO_PAD.decode(e).ok()?;
    let sha256_with_rsa = sequence(&[oid(&[1, 2, 840, 113_549, 1, 1, 11]), NULL.to_vec()]);
    let name = sequence(&[tlv(
        0x31,
        &sequence(&[oid(&[2, 5, 4, 3]), tlv(0x0c, subject.as_bytes())]),
    )]);
    let validity = sequence(&[tlv(0x17, b"260101000000Z"), tlv(0x18, b"20991231235959Z")]);
    let public_key = sequence(&[integer(&n), integer(&e)]);
    let key_info = sequence(&[
        sequence(&[oid(&[1, 2, 840, 113_549, 1, 1, 1]), NULL.to_vec()]),
        bit_string(&public_key),
    ]);
    let tbs = sequence(&[
        tlv(0xa0, &integer(&[2])),
        integer(&[1]),
        sha256_with_rsa.clone(),
        name.clone(),
        validity,
        name,
        key_info,
    ]);
    let signature = jsonwebtoken::crypto::sign(&tbs, key, Algorithm::RS256).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let certificate = sequence(&[tbs, sha256_with_rsa, bit_string(&signature)]);
    let thumbprint = Sha1::digest(&certificate);
    Some((STANDARD.encode(&certificate), URL_SAFE_NO_PAD.encode(thumbprint)))
}

const NULL: [u8; 2] = [0x05, 0x00];

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn sequence(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A non-negative INTEGER from big-endian bytes.
fn integer(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = if trimmed.is_empty() { vec![0] } else { trimmed };
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    tlv(0x02, &content)
}

fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = vec![0];
    content.extend_from_slice(bytes);
    tlv(0x03, &content)
}

fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut content = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut chunk = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            chunk.push(((rest & 0x7f) as u8) | 0x80);
            rest >>= 7;
        }
        chunk.reverse();
        content.extend(chunk);
    }
    tlv(0x06, &content)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One DER element at the start of `der`: (tag, content, rest).
    fn read(der: &[u8]) -> (u8, &[u8], &[u8]) {
        let (tag, first) = (der[0], der[1] as usize);
        let (len, header) = if first < 0x80 {
            (first, 2)
        } else {
            let n = first & 0x7f;
            (
                der[2..2 + n].iter().fold(0usize, |acc, b| acc << 8 | *b as usize),
                2 + n,
            )
        };
        (tag, &der[header..header + len], &der[header + len..])
    }

    #[test]
    fn the_certificate_holds_the_signing_key_and_is_signed_by_it() {
        let key = EncodingKey::from_rsa_pem(super::super::tokens::SIGNING_KEY_PEM.as_bytes()).unwrap();
        let (n, e) = (super::super::tokens::JWK_N, super::super::tokens::JWK_E);
        let (x5c, x5t) = x5c_and_x5t(&key, n, e, "sandbox.us.auth0.com").unwrap();
        let der = STANDARD.decode(&x5c).unwrap();
        assert_eq!(x5t, URL_SAFE_NO_PAD.encode(Sha1::digest(&der)));
        let (tag, certificate, rest) = read(&der);
        assert_eq!((tag, rest.len()), (0x30, 0));
        let tbs_len = der.len() - certificate.len();
        let (_, _, after_tbs) = read(certificate);
        let tbs = &certificate[..certificate.len() - after_tbs.len()];
        let (_, _, signature) = read(after_tbs);
        let (tag, signature, _) = read(signature);
        assert_eq!(tag, 0x03);
        let decoding = jsonwebtoken::DecodingKey::from_rsa_components(n, e).unwrap();
        let signature = URL_SAFE_NO_PAD.encode(&signature[1..]);
        assert!(
            jsonwebtoken::crypto::verify(&signature, tbs, &decoding, Algorithm::RS256).unwrap(),
            "the key signed the certificate"
        );
        let modulus = URL_SAFE_NO_PAD.decode(n).unwrap();
        assert!(
            tbs.windows(modulus.len()).any(|w| w == modulus),
            "the key is the subject's"
        );
        assert!(tbs_len > 0);
    }

    #[test]
    fn der_pieces_encode_as_x690_says() {
        assert_eq!(
            oid(&[1, 2, 840, 113_549, 1, 1, 11]),
            [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]
        );
        assert_eq!(integer(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(integer(&[0, 0, 1]), [0x02, 0x01, 0x01]);
        let long = tlv(0x04, &[0; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }
}
