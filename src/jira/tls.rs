//! TLS set-up shared by every client: rustls with the ring provider, and the roots to trust.
//!
//! On Linux and other Unix systems (not macOS) rustls verifies against the system's CA bundle
//! (`SSL_CERT_FILE`, `SSL_CERT_DIR`, then the usual distribution paths). Where the system has
//! none at all (a `FROM scratch` container, an empty chroot), the Mozilla roots compiled into
//! the binary (`webpki-root-certs`) are used instead, so a static binary still reaches
//! `https://*.atlassian.net`. macOS and Windows use the operating system's verifier.
//! `ca_file` certificates are added in every case (docs/distribution.md).

use reqwest::blocking::ClientBuilder;
use reqwest::Certificate;

/// Trusts the system's roots (or, where it has none, the bundled ones) plus `extra`.
pub(super) fn trust(builder: ClientBuilder, mut extra: Vec<Certificate>) -> ClientBuilder {
    install_provider();
    if !system_has_roots() {
        log::debug!("no CA certificates on this system: trusting the bundled Mozilla roots");
        extra.extend(bundled_roots());
    }
    builder.tls_certs_merge(extra)
}

/// Makes ring rustls's provider for the process. reqwest is built without a default provider
/// (aws-lc-rs compiles a C library for a minute), so every reqwest client needs this first;
/// a second call finds the provider installed and does nothing.
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The Mozilla roots compiled into the binary.
fn bundled_roots() -> impl Iterator<Item = Certificate> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter_map(|der| Certificate::from_der(der).ok())
}

#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
fn system_has_roots() -> bool {
    !rustls_native_certs::load_native_certs().certs.is_empty()
}

/// macOS and Windows: the operating system's verifier always has its roots.
#[cfg(not(all(unix, not(target_vendor = "apple"), not(target_os = "android"))))]
fn system_has_roots() -> bool {
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bundled_roots_are_certificates() {
        assert!(super::bundled_roots().count() > 100);
    }
}
