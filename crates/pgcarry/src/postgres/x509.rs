//! Just enough DER to find the public key of an X.509 certificate of any version.
//!
//! libpq's `require` encrypts without checking the certificate, but the TLS handshake signature
//! must still be checked against the certificate's key; webpki refuses to parse X.509 v1
//! certificates, so the key is found here. Nothing here judges a certificate.

/// One DER element at the start of `input`: (tag, contents, the rest after it).
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[count..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const BIT_STRING: u8 = 0x03;
/// `[0] EXPLICIT Version`, present in v2 and v3 certificates only.
const VERSION: u8 = 0xa0;

/// The subject public key of a DER certificate: the contents of its algorithm identifier (as
/// rustls's `public_key_alg_id` spells them) and the key bits.
pub(crate) fn public_key(cert: &[u8]) -> Option<(&[u8], &[u8])> {
    let (SEQUENCE, certificate, _) = element(cert)? else {
        return None;
    };
    let (SEQUENCE, tbs, _) = element(certificate)? else {
        return None;
    };
    let mut rest = tbs;
    let (tag, _, after) = element(rest)?;
    if tag == VERSION {
        rest = after;
    }
    // serialNumber, signature, issuer, validity, subject
    for _ in 0..5 {
        rest = element(rest)?.2;
    }
    let (SEQUENCE, spki, _) = element(rest)? else {
        return None;
    };
    let (SEQUENCE, algorithm, after) = element(spki)? else {
        return None;
    };
    let (BIT_STRING, bits, _) = element(after)? else {
        return None;
    };
    // The first byte of a BIT STRING counts the unused bits: a key has none.
    let (0, key) = bits.split_first()? else {
        return None;
    };
    Some((algorithm, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_and_short_lengths() {
        assert_eq!(
            element(&[0x02, 0x01, 0x05, 0xff]),
            Some((0x02, &[5u8][..], &[0xffu8][..]))
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        assert_eq!(element(&long).map(|(_, c, _)| c.len()), Some(0x80));
        assert_eq!(element(&[0x04, 0x05, 1, 2]), None, "truncated");
        assert_eq!(element(&[0x04, 0x80]), None, "indefinite length");
    }

    #[test]
    fn garbage_is_no_key() {
        assert_eq!(public_key(b""), None);
        assert_eq!(public_key(&[0x30, 0x03, 0x02, 0x01, 0x00]), None);
    }
}
