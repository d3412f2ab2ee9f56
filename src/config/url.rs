//! Checks the URLs of the configuration: tracker sites, the deployments API, the repository.
//!
//! A full URL parser is not needed to decide the few things that matter here: the scheme, the
//! host (is it loopback?), and that no credentials are written into the URL. The parsing is
//! strict: anything unusual is an error, not a guess.

use std::net::{Ipv4Addr, Ipv6Addr};

/// What a URL is used for, which decides the schemes it may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UrlUse {
    /// Credentials are sent to it: `https`, or `http` to a loopback host only.
    Credentials,
    /// Only shown to people as a link: `https` or `http`.
    Link,
}

/// Why a URL was refused: a message and a hint.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UrlProblem {
    pub(crate) message: String,
    pub(crate) hint: String,
}

fn problem(message: impl Into<String>, hint: impl Into<String>) -> UrlProblem {
    UrlProblem {
        message: message.into(),
        hint: hint.into(),
    }
}

/// Checks `text` for `usage`; returns it without a trailing `/`.
pub(crate) fn check_url(text: &str, usage: UrlUse) -> Result<String, UrlProblem> {
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(problem(
            "the URL contains a space or a control character",
            "write the URL on one line without spaces; percent-encode a space as %20",
        ));
    }
    let (scheme, rest) = text.split_once("://").ok_or_else(|| {
        problem(
            "this is not an absolute URL",
            "write it with its scheme, like `https://acme.atlassian.net`",
        )
    })?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if authority.contains('@') {
        return Err(problem(
            "the URL contains a user name or password",
            "remove the part before `@`; credentials go in `auth:` as `*_env` or `*_file` references",
        ));
    }
    let host = host_of(authority)?;
    check_scheme(scheme, &host, usage)?;
    if usage == UrlUse::Credentials && rest[authority_end..].contains(['?', '#']) {
        return Err(problem(
            "the URL has a query (`?`) or a fragment (`#`)",
            "write the base URL only, like `https://acme.atlassian.net`",
        ));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

fn check_scheme(scheme: &str, host: &Host, usage: UrlUse) -> Result<(), UrlProblem> {
    match (scheme.to_ascii_lowercase().as_str(), usage) {
        ("https", _) | ("http", UrlUse::Link) => Ok(()),
        ("http", UrlUse::Credentials) if host.is_loopback() => Ok(()),
        ("http", UrlUse::Credentials) => Err(problem(
            "the URL is `http`, which would send credentials unencrypted",
            "use `https`; `http` is accepted only for loopback hosts (localhost, 127.0.0.1, [::1])",
        )),
        _ => Err(problem(
            format!(
                "the URL's scheme is `{}`, not `https`",
                super::error::printable(scheme)
            ),
            "write the URL with `https://`",
        )),
    }
}

/// The host part of a URL's authority, as far as deploylink needs to know it.
enum Host {
    Name(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl Host {
    fn is_loopback(&self) -> bool {
        match self {
            Host::Name(name) => {
                let name = name.trim_end_matches('.');
                name.eq_ignore_ascii_case("localhost")
            }
            Host::V4(ip) => ip.is_loopback(),
            Host::V6(ip) => {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
        }
    }
}

fn host_of(authority: &str) -> Result<Host, UrlProblem> {
    let bad_host = || {
        problem(
            "the URL has no valid host name",
            "write it like `https://jira.example.com`",
        )
    };
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or_else(bad_host)?;
        let ip: Ipv6Addr = inside.parse().map_err(|_| bad_host())?;
        (Host::V6(ip), after.strip_prefix(':'))
    } else {
        let (name, port) = match authority.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (authority, None),
        };
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '%');
        if name.is_empty() || !name.chars().all(valid) {
            return Err(bad_host());
        }
        let host = match name.parse::<Ipv4Addr>() {
            Ok(ip) => Host::V4(ip),
            Err(_) => Host::Name(name.to_owned()),
        };
        (host, port)
    };
    if let Some(port) = port {
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(problem(
                "the URL's port is not a number from 1 to 65535",
                "write it like `https://jira.example.com:8443`",
            ));
        }
    }
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, usage: UrlUse) -> String {
        check_url(text, usage).unwrap()
    }

    fn err(text: &str, usage: UrlUse) -> String {
        check_url(text, usage).unwrap_err().message
    }

    #[test]
    fn https_is_accepted_and_trailing_slashes_dropped() {
        let c = UrlUse::Credentials;
        assert_eq!(
            ok("https://acme.atlassian.net/", c),
            "https://acme.atlassian.net"
        );
        assert_eq!(
            ok("https://jira.example.com:8443/jira", c),
            "https://jira.example.com:8443/jira"
        );
        assert_eq!(ok("HTTPS://[2001:db8::1]/", c), "HTTPS://[2001:db8::1]");
    }

    #[test]
    fn http_only_for_loopback_when_credentials_are_sent() {
        let c = UrlUse::Credentials;
        assert_eq!(ok("http://localhost:8080", c), "http://localhost:8080");
        assert_eq!(ok("http://127.3.2.1", c), "http://127.3.2.1");
        assert_eq!(ok("http://[::1]:9000/x", c), "http://[::1]:9000/x");
        assert!(err("http://jira.example.com", c).contains("unencrypted"));
        assert!(err("http://localhost.evil.com", c).contains("unencrypted"));
        assert!(err("http://128.0.0.1", c).contains("unencrypted"));
        assert_eq!(
            ok("http://git.example.com/web", UrlUse::Link),
            "http://git.example.com/web"
        );
    }

    #[test]
    fn odd_urls_are_refused() {
        let c = UrlUse::Credentials;
        assert!(err("https://me:pw@acme.atlassian.net", c).contains("user name or password"));
        assert!(err("https://@acme.atlassian.net", c).contains("user name or password"));
        assert!(err("acme.atlassian.net", c).contains("absolute URL"));
        assert!(err("ftp://acme.atlassian.net", c).contains("scheme"));
        assert!(err("https://", c).contains("host"));
        assert!(err("https://acme .net", c).contains("space"));
        assert!(err("https://acme.net:99999", c).contains("port"));
        assert!(err("https://[::1", c).contains("host"));
        assert!(err("https://a\\b", c).contains("host"));
        assert!(err("https://a.net/?x=1", c).contains("query"));
    }
}
