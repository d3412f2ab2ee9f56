//! What git tells a hook about a push, on its standard input (githooks(5)):
//! `post-receive` gets `<old> <new> <ref>` per updated ref, `pre-push` gets
//! `<local ref> <local sha> <remote ref> <remote sha>`. A line that is not of that shape is
//! reported with its number, and the other lines are still used.

use git2::Oid;

/// One ref a `post-receive` hook was told about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedRef {
    pub old: Oid,
    pub new: Oid,
    pub refname: String,
}

impl ReceivedRef {
    pub fn is_deletion(&self) -> bool {
        self.new.is_zero()
    }

    pub fn is_creation(&self) -> bool {
        self.old.is_zero()
    }
}

/// One ref a `pre-push` hook was told about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedRef {
    pub local_ref: String,
    pub local: Oid,
    pub remote_ref: String,
    pub remote: Oid,
}

/// A line that could not be read: its number (from 1) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    pub number: usize,
    pub problem: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stdin line {}: {}", self.number, self.problem)
    }
}

/// Reads `post-receive` input.
pub fn parse_received(input: &[u8]) -> (Vec<ReceivedRef>, Vec<BadLine>) {
    parse_lines(input, 3, "<old-sha> <new-sha> <ref>", |f| {
        Ok(ReceivedRef {
            old: sha(f[0])?,
            new: sha(f[1])?,
            refname: refname(f[2])?,
        })
    })
}

/// Reads `pre-push` input.
pub fn parse_pushed(input: &[u8]) -> (Vec<PushedRef>, Vec<BadLine>) {
    parse_lines(
        input,
        4,
        "<local-ref> <local-sha> <remote-ref> <remote-sha>",
        |f| {
            Ok(PushedRef {
                // git writes `(delete)` as the local ref of a deletion.
                local_ref: f[0].to_owned(),
                local: sha(f[1])?,
                remote_ref: refname(f[2])?,
                remote: sha(f[3])?,
            })
        },
    )
}

fn parse_lines<T>(
    input: &[u8],
    fields: usize,
    shape: &str,
    read: impl Fn(&[&str]) -> Result<T, String>,
) -> (Vec<T>, Vec<BadLine>) {
    let mut items = Vec::new();
    let mut bad = Vec::new();
    for (index, raw) in input.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        let Ok(line) = std::str::from_utf8(raw) else {
            bad.push(BadLine {
                number,
                problem: "not UTF-8 text".into(),
            });
            continue;
        };
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let result = if parts.len() == fields {
            read(&parts)
        } else {
            Err(format!("expected {shape}, got {} fields", parts.len()))
        };
        match result {
            Ok(item) => items.push(item),
            Err(problem) => bad.push(BadLine {
                number,
                problem: format!("{problem}: {:?}", clip(line)),
            }),
        }
    }
    (items, bad)
}

fn sha(text: &str) -> Result<Oid, String> {
    let hex = text.len() == 40 || text.len() == 64;
    if !hex || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{:?} is not a commit id", clip(text)));
    }
    Oid::from_str(text).map_err(|_| format!("{:?} is not a commit id", clip(text)))
}

fn refname(text: &str) -> Result<String, String> {
    if text.starts_with("refs/") && git2::Reference::is_valid_name(text) {
        Ok(text.to_owned())
    } else {
        Err(format!("{:?} is not a full ref name", clip(text)))
    }
}

fn clip(text: &str) -> String {
    text.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn good_lines_are_read_and_bad_ones_reported_by_number() {
        let input = format!(
            "{A} {B} refs/heads/main\ngarbage\n\n{Z} {B} refs/heads/new\n{B} {Z} refs/tags/v1\n{A} {B} main\n\u{fffd}\n"
        );
        let (refs, bad) = parse_received(input.as_bytes());
        assert_eq!(refs.len(), 3);
        assert!(refs[1].is_creation());
        assert!(refs[2].is_deletion());
        assert_eq!(
            bad.iter().map(|b| b.number).collect::<Vec<_>>(),
            vec![2, 6, 7]
        );
        assert!(bad[0]
            .to_string()
            .starts_with("stdin line 2: expected <old-sha> <new-sha> <ref>"));
        assert!(bad[1].problem.contains("not a full ref name"), "{}", bad[1]);
        let (refs, bad) = parse_received(&[0xff, 0xfe, b'\n']);
        assert!(refs.is_empty());
        assert_eq!(bad[0].problem, "not UTF-8 text");
    }

    #[test]
    fn pre_push_lines_keep_the_local_ref_as_git_writes_it() {
        let input =
            format!("refs/heads/main {B} refs/heads/main {A}\n(delete) {Z} refs/heads/old {A}\n");
        let (refs, bad) = parse_pushed(input.as_bytes());
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(refs[1].local_ref, "(delete)");
        assert!(refs[1].local.is_zero());
    }
}
