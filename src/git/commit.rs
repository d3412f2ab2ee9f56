//! A raw commit object, parsed just enough for a range: parents, committer time, message.
//!
//! Parsing is ours (a few lines) rather than libgit2's, because commits are read from packs
//! directly (src/pack.rs) into a reused buffer and borrowed from it.

use git2::Oid;

/// One commit as the range walk needs it, borrowed from the buffer it was read into.
#[derive(Clone, Debug)]
pub struct CommitRef<'a> {
    pub parents: Vec<Oid>,
    /// Committer time, seconds since the epoch: the walk's ordering key, as in git.
    pub time: i64,
    /// The message bytes exactly as stored (may be non-UTF-8, may be megabytes).
    pub message: &'a [u8],
}

/// Parents and committer time, read from the headers at the start of a raw commit.
#[derive(Debug, PartialEq, Eq)]
pub enum Links {
    Found {
        parents: Vec<Oid>,
        time: i64,
    },
    /// `data` stops before the committer line ends: read more of the commit.
    Incomplete,
    /// No committer line before the end of the headers, a bad parent id, an unreadable time.
    Malformed,
}

/// The parents and committer time of a raw commit from its first header lines, up to the
/// committer line: git reads parents only before it (`parse_commit_buffer`), and this is what
/// lets the walk inflate only the start of each commit. `whole` says whether `data` is the
/// whole object or only its first bytes.
pub fn parse_links(data: &[u8], whole: bool) -> Links {
    let mut parents = Vec::new();
    let mut rest = data;
    loop {
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None if whole => (rest, &rest[rest.len()..]),
            None => return Links::Incomplete,
        };
        if line.is_empty() {
            return Links::Malformed; // the end of the headers (or of the object), no committer
        }
        if let Some(hex) = line.strip_prefix(b"parent ") {
            match oid_from_hex(hex) {
                Some(id) => parents.push(id),
                None => return Links::Malformed,
            }
        } else if let Some(who) = line.strip_prefix(b"committer ") {
            return match parse_signature_time(who) {
                Some(time) => Links::Found { parents, time },
                None => Links::Malformed,
            };
        }
        rest = next;
    }
}

/// Parses a raw commit object: headers up to the first empty line, then the message.
/// Returns `None` when the headers are malformed (no committer line, bad parent id).
pub fn parse_commit(data: &[u8]) -> Option<CommitRef<'_>> {
    let Links::Found { parents, time } = parse_links(data, true) else {
        return None;
    };
    let message =
        memchr::memmem::find(data, b"\n\n").map_or(&data[data.len()..], |i| &data[i + 2..]);
    Some(CommitRef {
        parents,
        time,
        message,
    })
}

/// A 40-digit hex id, decoded here rather than through libgit2 (a call per parent).
fn oid_from_hex(hex: &[u8]) -> Option<Oid> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let hex: &[u8; 40] = hex.try_into().ok()?;
    let mut bytes = [0u8; 20];
    for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Oid::from_bytes(&bytes).ok()
}

/// `Name <email> 1700000000 +0000` -> 1700000000. A malformed time counts as 0 (the epoch),
/// as git does, rather than failing the whole range.
fn parse_signature_time(who: &[u8]) -> Option<i64> {
    let after_email = who
        .iter()
        .rposition(|&b| b == b'>')
        .map_or(who, |i| &who[i + 1..]);
    let text = std::str::from_utf8(after_email).ok()?;
    Some(
        text.split_whitespace()
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0),
    )
}

/// The first line of a message, lossily decoded, for summaries and human output.
pub fn subject(message: &[u8]) -> String {
    let line = message.split(|&b| b == b'\n').next().unwrap_or_default();
    String::from_utf8_lossy(line)
        .trim_end_matches('\r')
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_headers_and_message() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 1111111111111111111111111111111111111111\nparent 2222222222222222222222222222222222222222\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 1700000000 +0100\ngpgsig -----BEGIN\n more\n\nWEB-1: subject\n\nbody";
        let c = parse_commit(raw).unwrap();
        assert_eq!(c.parents.len(), 2);
        assert_eq!(c.time, 1700000000);
        assert_eq!(c.message, b"WEB-1: subject\n\nbody");
        assert_eq!(subject(c.message), "WEB-1: subject");
    }

    #[test]
    fn malformed_commit_is_none_not_panic() {
        assert!(parse_commit(b"tree x\nparent zz\n\nmsg").is_none());
        assert!(parse_commit(b"").is_none());
        assert!(parse_commit(b"tree x\n").is_none());
    }

    #[test]
    fn links_need_only_the_headers_up_to_the_committer_line() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 1111111111111111111111111111111111111111\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 1700000000 +0100\ngpgsig -----BEGIN\n more\n\nWEB-1: subject\n";
        let found = Links::Found {
            parents: vec![Oid::from_str("1111111111111111111111111111111111111111").unwrap()],
            time: 1700000000,
        };
        let committer_end = raw.windows(5).position(|w| w == b"+0100").unwrap() + 5;
        for cut in 0..raw.len() {
            let links = parse_links(&raw[..cut], false);
            let want = if cut > committer_end {
                &found
            } else {
                &Links::Incomplete
            };
            assert_eq!(&links, want, "first {cut} bytes");
        }
        assert_eq!(parse_links(raw, true), found);
        // git reads parents only before the committer line, and the first committer line
        let late = b"tree x\ncommitter C <c@x> 5 +0000\nparent 1111111111111111111111111111111111111111\ncommitter C <c@x> 6 +0000\n\nm";
        assert_eq!(
            parse_links(late, true),
            Links::Found {
                parents: vec![],
                time: 5
            }
        );
        assert_eq!(
            parse_links(b"tree x\n\ncommitter C <c@x> 5 +0000\n", false),
            Links::Malformed
        );
        let c = parse_commit(b"tree x\ncommitter C <c@x> 5 +0000").unwrap();
        assert_eq!((c.time, c.message), (5, &b""[..]));
    }
}
