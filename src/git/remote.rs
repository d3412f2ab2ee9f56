//! A git remote's URL as the repository's web address (for links in Jira), and the full name
//! of a ref given by its short name.

use super::Repo;

impl Repo {
    /// The full ref name when `rev` names a ref (`main` -> `refs/heads/main`; `HEAD` -> the
    /// branch it points at).
    pub fn full_refname(&self, rev: &str) -> Option<String> {
        let reference = self.git().resolve_reference_from_short_name(rev).ok()?;
        let reference = reference
            .resolve()
            .ok()
            .filter(|_| rev == "HEAD")
            .unwrap_or(reference);
        reference.name().ok().map(str::to_owned)
    }
}

/// Which repository URLs can become a web URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlForms {
    /// Only `https://...`.
    HttpsOnly,
    /// `https://...`, and SSH forms (`git@host:path`, `ssh://git@host/path`) whose host is
    /// taken to serve the web pages too (true of GitHub, GitLab and Bitbucket).
    HttpsOrSsh,
}

/// The repository's web URL (`https://host/path`) from a clone URL, without credentials, a
/// trailing `.git` or `/`; `None` when it cannot be one.
pub fn web_url(value: &str, forms: UrlForms) -> Option<String> {
    let (authority, path) = if let Some(rest) = strip_prefix_ignore_case(value, "https://") {
        split_authority(rest)?
    } else if forms == UrlForms::HttpsOnly {
        return None;
    } else if let Some(rest) = strip_prefix_ignore_case(value, "ssh://") {
        let (authority, path) = split_authority(rest)?;
        if authority.contains(':') {
            return None; // a port: the web server is elsewhere
        }
        (authority, path)
    } else if value.contains("://") {
        return None;
    } else {
        // scp-like: [user@]host:path
        let (authority, path) = value.split_once(':')?;
        (authority, path.trim_start_matches('/'))
    };
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let path = path.trim_end_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    let plausible = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c == '/');
    if !plausible(host) || path.is_empty() || path.chars().any(char::is_whitespace) {
        return None;
    }
    Some(format!("https://{host}/{path}"))
}

/// The path of a clone URL in any form, without a trailing `.git` or `/`: the repository's
/// name on its server (`https://github.com/acme/shop.git`, `git@github.com:acme/shop`,
/// `ssh://git@host:7999/acme/shop.git` all give `acme/shop`). A local path or `file://` URL
/// gives its last component only (`/srv/git/shop.git` gives `shop`), as the directory above
/// it says nothing about the repository. `None` when there is no path.
pub fn url_path(value: &str) -> Option<String> {
    let value = value.trim();
    let local = |path: &str| {
        let path = path.trim_end_matches('/');
        let path = path.strip_suffix("/.git").unwrap_or(path);
        let last = path.rsplit('/').next().unwrap_or(path);
        clean_path(last)
    };
    if let Some(rest) = strip_prefix_ignore_case(value, "file://") {
        return local(rest);
    }
    if let Some((_, rest)) = value.split_once("://") {
        let (_, path) = split_authority(rest)?;
        // A query or fragment is no part of the repository's name.
        let path = path.split(['?', '#']).next().unwrap_or(path);
        return clean_path(path);
    }
    // git's rule: a `:` before any `/` makes it scp-like (`[user@]host:path`).
    match (value.find(':'), value.find('/')) {
        (Some(colon), slash) if slash.is_none_or(|slash| colon < slash) => {
            let path = &value[colon + 1..];
            // `user:secret@host/path` is no scp-like URL but credentials: never a name.
            let first = path.split('/').next().unwrap_or(path);
            if first.contains('@') {
                return None;
            }
            clean_path(path)
        }
        _ => local(value),
    }
}

/// `path` without leading and trailing `/` and without a trailing `.git`; `None` when empty.
fn clean_path(path: &str) -> Option<String> {
    let path = path.trim_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    (!path.is_empty()).then(|| path.to_owned())
}

/// `host/path` split at the first `/`; `None` without a path.
fn split_authority(rest: &str) -> Option<(&str, &str)> {
    rest.split_once('/')
}

fn strip_prefix_ignore_case<'v>(value: &'v str, prefix: &str) -> Option<&'v str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &value[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_urls_become_web_urls() {
        let https = UrlForms::HttpsOnly;
        let ssh = UrlForms::HttpsOrSsh;
        let cases = [
            (
                "https://github.com/acme/shop.git",
                https,
                Some("https://github.com/acme/shop"),
            ),
            (
                "https://github.com/acme/shop/",
                https,
                Some("https://github.com/acme/shop"),
            ),
            (
                "HTTPS://github.com/acme/shop",
                https,
                Some("https://github.com/acme/shop"),
            ),
            (
                "https://acme@dev.azure.com/acme/Web%20Shop/_git/shop",
                https,
                Some("https://dev.azure.com/acme/Web%20Shop/_git/shop"),
            ),
            (
                "https://ci:s3cret@git.example.com:8443/a/b.git",
                https,
                Some("https://git.example.com:8443/a/b"),
            ),
            ("git@github.com:acme/shop.git", https, None),
            (
                "git@github.com:acme/shop.git",
                ssh,
                Some("https://github.com/acme/shop"),
            ),
            (
                "git@gitlab.com:acme/group/shop",
                ssh,
                Some("https://gitlab.com/acme/group/shop"),
            ),
            (
                "git@bitbucket.org:/acme/shop.git",
                ssh,
                Some("https://bitbucket.org/acme/shop"),
            ),
            (
                "ssh://git@github.com/acme/shop.git",
                ssh,
                Some("https://github.com/acme/shop"),
            ),
            ("ssh://git@git.example.com:7999/acme/shop.git", ssh, None),
            ("http://github.com/acme/shop", ssh, None),
            ("file:///srv/git/shop.git", ssh, None),
            ("/srv/git/shop.git", ssh, None),
            ("https://github.com", https, None),
            ("https:///acme/shop", https, None),
            ("git@github.com:", ssh, None),
            ("https://github.com/acme/my shop", https, None),
        ];
        for (url, forms, expected) in cases {
            assert_eq!(
                web_url(url, forms).as_deref(),
                expected,
                "{url} ({forms:?})"
            );
        }
    }

    #[test]
    fn clone_urls_give_their_path() {
        let cases = [
            ("https://github.com/acme/shop.git", Some("acme/shop")),
            (
                "https://ci:s3cret@git.example.com:8443/acme/shop/",
                Some("acme/shop"),
            ),
            (
                "http://git.example.com/group/sub/shop",
                Some("group/sub/shop"),
            ),
            (
                "ssh://git@git.example.com:7999/acme/shop.git",
                Some("acme/shop"),
            ),
            ("git@github.com:acme/shop.git", Some("acme/shop")),
            ("github.com:acme/shop", Some("acme/shop")),
            ("git@bitbucket.org:/acme/shop.git", Some("acme/shop")),
            ("git://git.example.com/shop.git", Some("shop")),
            ("/srv/git/shop.git", Some("shop")),
            ("/srv/git/shop/.git", Some("shop")),
            ("../shop.git/", Some("shop")),
            ("file:///srv/git/shop.git", Some("shop")),
            ("https://github.com", None),
            ("https://github.com/", None),
            ("git@github.com:", None),
            ("ci:s3cret@git.example.com/acme/shop", None),
            ("", None),
        ];
        for (url, expected) in cases {
            assert_eq!(url_path(url).as_deref(), expected, "{url}");
        }
    }
}
