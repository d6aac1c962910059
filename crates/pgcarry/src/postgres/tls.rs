//! TLS for connections to PostgreSQL, with libpq's meaning of each `sslmode`.
//!
//! This module owns the rustls client configuration handed to `postgres::Config::connect`:
//! `prefer` and `require` encrypt without checking the certificate (libpq's `require` does
//! not verify, rustls's default does), `verify-ca` checks the chain against `sslrootcert`
//! but not the host name, `verify-full` checks both. It must never quietly weaken a mode:
//! when a mode cannot be honoured (no root certificate to verify against), it is an error.
//! It also presents the client certificate (`sslcert`/`sslkey`) when one is configured.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::conn_error::ConnError;
use super::sslmode::SslMode;

/// The rustls connector for `mode` (which must not be `Disable`).
///
/// `rootcert` is the `sslrootcert` setting; for `verify-ca`/`verify-full` without one, libpq's
/// default `~/.postgresql/root.crt` is used when it exists. `client` is the certificate and key
/// to log in with (`sslcert`, `sslkey`), if any.
pub(crate) fn connector(
    mode: SslMode,
    rootcert: Option<&Path>,
    client: Option<(&Path, &Path)>,
) -> Result<MakeRustlsConnect, ConnError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        SslMode::Disable | SslMode::Allow | SslMode::Prefer | SslMode::Require => {
            Arc::new(EncryptOnly {
                provider: provider.clone(),
            })
        }
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let path = root_cert_path(mode, rootcert)?;
            let webpki = webpki_verifier(&path, provider.clone())?;
            if mode == SslMode::VerifyCa {
                Arc::new(ChainOnly { inner: webpki })
            } else {
                webpki
            }
        }
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|source| ConnError::TlsSetup { source })?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let (chain, key_der) = client_identity(cert, key)?;
            let signing_key = provider
                .key_provider
                .load_private_key(key_der)
                .map_err(|e| ConnError::ClientCert {
                    path: key.to_path_buf(),
                    problem: format!("unusable private key: {e}"),
                })?;
            // Not `with_client_auth_cert`: it parses the certificate with webpki, which refuses
            // X.509 v1 (what PostgreSQL's own documentation makes with `openssl x509 -req`).
            builder.with_client_cert_resolver(Arc::new(ClientIdentity(Arc::new(
                CertifiedKey::new(chain, signing_key),
            ))))
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// Presents the one client certificate whenever the server asks for one.
#[derive(Debug)]
struct ClientIdentity(Arc<CertifiedKey>);

impl ResolvesClientCert for ClientIdentity {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// The client certificate chain and its private key (PKCS#8, PKCS#1 RSA or SEC1 EC), from PEM.
fn client_identity(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), ConnError> {
    let bad = |path: &Path, problem: String| ConnError::ClientCert {
        path: path.to_path_buf(),
        problem,
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(bad(cert, "no PEM certificate in the file".into()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        bad(
            key,
            format!("no readable PEM private key (PKCS#8, RSA or EC): {e}"),
        )
    })?;
    Ok((chain, key_der))
}

/// `sslrootcert`, else libpq's default file; `system` (PostgreSQL 16's system store) is refused.
fn root_cert_path(mode: SslMode, rootcert: Option<&Path>) -> Result<PathBuf, ConnError> {
    if let Some(path) = rootcert {
        if path == Path::new("system") {
            return Err(ConnError::Unsupported {
                what: "sslrootcert=system (the system certificate store) is not supported yet; \
                       give the path of the CA certificate file"
                    .into(),
            });
        }
        return Ok(path.to_path_buf());
    }
    let default = std::env::var_os("HOME")
        .map(|home| Path::new(&home).join(".postgresql").join("root.crt"))
        .filter(|path| path.is_file());
    default.ok_or(ConnError::NoRootCert { mode })
}

fn webpki_verifier(
    path: &Path,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, ConnError> {
    let bad = |problem: String| ConnError::RootCert {
        path: path.to_path_buf(),
        problem,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate in the file".into()));
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| bad(e.to_string()))
}

/// libpq's `require`: the connection is encrypted, the certificate is not checked.
/// The handshake signatures are still verified, so the session key belongs to that certificate.
#[derive(Debug)]
struct EncryptOnly {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algs = &self.provider.signature_verification_algorithms;
        match verify_tls12_signature(message, cert, dss, algs) {
            Err(e) if unparsable_as_v3(&e) => spki_signature(message, cert, dss, algs),
            other => other,
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algs = &self.provider.signature_verification_algorithms;
        match verify_tls13_signature(message, cert, dss, algs) {
            // The scheme was checked (TLS 1.3 only) before the certificate was parsed.
            Err(e) if unparsable_as_v3(&e) => spki_signature(message, cert, dss, algs),
            other => other,
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// webpki reads only X.509 v3 certificates; a v1 certificate (what `openssl req -x509` makes
/// without extensions, and Citus generates) is refused before its key is even looked at.
fn unparsable_as_v3(error: &TlsError) -> bool {
    matches!(
        error,
        TlsError::InvalidCertificate(CertificateError::Other(_) | CertificateError::BadEncoding)
    )
}

/// The handshake signature checked against the certificate's public key read straight from its
/// DER (so any X.509 version will do): the key still has to have signed this handshake.
fn spki_signature(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    algs: &rustls::crypto::WebPkiSupportedAlgorithms,
) -> Result<HandshakeSignatureValid, TlsError> {
    let bad = || TlsError::InvalidCertificate(CertificateError::BadEncoding);
    let (key_alg, key) = super::x509::public_key(cert.as_ref()).ok_or_else(bad)?;
    let candidates = algs
        .mapping
        .iter()
        .find(|(scheme, _)| *scheme == dss.scheme)
        .map(|(_, candidates)| *candidates)
        .ok_or(TlsError::PeerMisbehaved(
            rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
        ))?;
    let mut fitting = candidates
        .iter()
        .filter(|alg| alg.public_key_alg_id().as_ref() == key_alg)
        .peekable();
    if fitting.peek().is_none() {
        return Err(TlsError::General(format!(
            "the server's certificate key cannot make {:?} signatures",
            dss.scheme
        )));
    }
    if fitting.any(|alg| alg.verify_signature(key, message, dss.signature()).is_ok()) {
        Ok(HandshakeSignatureValid::assertion())
    } else {
        Err(TlsError::InvalidCertificate(CertificateError::BadSignature))
    }
}

/// libpq's `verify-ca`: the chain must lead to a trusted root, the name is not checked.
/// rustls checks the chain before the name, so a name error means the chain was good.
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(TlsError::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
