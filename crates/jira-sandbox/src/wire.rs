//! The HTTP details the routes share: replies and Jira's two error shapes (jira-api-facts 1.6),
//! percent- and form-decoding, and reading an `Authorization` header. Written here because
//! they are a few lines each and not worth a dependency.

use serde_json::{json, Value};

/// A response before it becomes a hyper one.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: &Value) -> Reply {
        Reply {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json;charset=UTF-8".into(),
            )],
            body: body.to_string().into_bytes(),
        }
    }

    pub fn html(body: String) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "text/html;charset=UTF-8".into())],
            body: body.into_bytes(),
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The platform API's `ErrorCollection`: `{"errorMessages": [...], "errors": {...}}`.
    pub fn platform_error(status: u16, messages: &[String], errors: Value) -> Reply {
        Reply::json(
            status,
            &json!({"errorMessages": messages, "errors": errors}),
        )
    }

    pub fn platform_message(status: u16, message: &str) -> Reply {
        Reply::platform_error(status, &[message.to_string()], json!({}))
    }

    /// The Jira Software APIs' `ErrorMessages`: `[{"message": ...}]`.
    pub fn software_error(status: u16, messages: &[String]) -> Reply {
        let body: Vec<Value> = messages.iter().map(|m| json!({"message": m})).collect();
        Reply::json(status, &Value::Array(body))
    }

    pub fn not_found() -> Reply {
        Reply::platform_message(404, "The requested resource does not exist in the sandbox.")
    }
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as in a query string or form
/// body). `None` when the result is not UTF-8; a malformed escape is kept as it is.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

/// `a=1&b=2` as decoded pairs; undecodable pairs are skipped.
pub(crate) fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(name, true)?, percent_decode(value, true)?))
        })
        .collect()
}

/// What an `Authorization` header carries.
#[derive(Debug, PartialEq)]
pub(crate) enum Authorization {
    Basic { user: String, secret: String },
    Bearer(String),
    Other,
}

impl Authorization {
    /// The scheme as sent, for the request log (never the credential).
    pub fn scheme(header: &str) -> String {
        header
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    }

    pub fn parse(header: &str) -> Authorization {
        let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            return Authorization::Bearer(rest.to_string());
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64_decode(rest).and_then(|b| String::from_utf8(b).ok());
            if let Some((user, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
                return Authorization::Basic {
                    user: user.to_string(),
                    secret: secret.to_string(),
                };
            }
        }
        Authorization::Other
    }
}

/// Standard base64 (padding optional); `None` on any other character.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        buffer = (buffer << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Minimal HTML escaping for text and attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_and_plus() {
        assert_eq!(percent_decode("a%3Db+c", true).as_deref(), Some("a=b c"));
        assert_eq!(percent_decode("a+b%zz%", false).as_deref(), Some("a+b%zz%"));
        assert_eq!(percent_decode("%ff", false), None);
    }

    #[test]
    fn parses_authorization() {
        // "fred@example.com:tok:en"
        let basic = "Basic ZnJlZEBleGFtcGxlLmNvbTp0b2s6ZW4=";
        assert_eq!(
            Authorization::parse(basic),
            Authorization::Basic {
                user: "fred@example.com".into(),
                secret: "tok:en".into()
            }
        );
        assert_eq!(
            Authorization::parse("Bearer abc"),
            Authorization::Bearer("abc".into())
        );
        assert_eq!(Authorization::parse("Basic !!!"), Authorization::Other);
        assert_eq!(Authorization::parse(""), Authorization::Other);
    }

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
