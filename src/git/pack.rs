//! A minimal, read-only reader of git pack files: whole commits for the walk (the hot path),
//! and any object, deltas resolved, for resolving revisions, peeling refs and reading the
//! project file, so that libgit2 does not open and map every pack index a second time.
//!
//! Why not libgit2 alone: reading a commit through libgit2 allocates a new zlib stream per
//! object and takes a process-wide mutex for every pack window, so two threads read only
//! 1.4x faster than one. This reader shares nothing but read-only memory maps between threads,
//! reuses one libdeflate decompressor per thread, and does the common case only: an object in
//! a pack with a version-2 index (stored whole, or as a delta chain within the packs).
//! Everything else (loose objects, alternates, anything unexpected) returns `None` and the
//! caller asks libgit2, which stays the source of truth and of error messages. Measurements:
//! docs/dependencies.md and bench/README.md.

use std::fs::File;
use std::path::Path;

use git2::Oid;
use libdeflater::Decompressor;
use memmap2::Mmap;

/// Pack object types.
pub const OBJ_COMMIT: u8 = 1;
pub const OBJ_TREE: u8 = 2;
pub const OBJ_TAG: u8 = 4;
const OBJ_OFS_DELTA: u8 = 6;
const OBJ_REF_DELTA: u8 = 7;
/// git's own default is 50; a longer chain is read by libgit2.
const MAX_DELTA_DEPTH: usize = 64;
/// No commit is this large; a header claiming more is treated as damage.
const MAX_OBJECT_SIZE: u64 = 1 << 30;
/// How far from its first guess `Pack::find` probes a second time (a 5,000-entry fan-out
/// bucket of uniformly spread ids puts the guess within about 40 entries).
const GUESS_STEP: usize = 64;

/// The packs of one object directory.
pub struct Packs {
    packs: Vec<Pack>,
}

struct Pack {
    index: Mmap,
    data: Mmap,
    count: usize,
}

/// One decompressor, reused for every object a thread reads.
///
/// libdeflate, not a zlib stream: a pack entry header gives the inflated size, so a whole
/// object can be inflated in one call into a buffer of that size, which is what libdeflate
/// does, with less per-object setup than a resumable zlib stream. Inflating ~1 KB commits is
/// most of a walk without a commit-graph (measurements: bench/README.md).
pub struct Inflater(Decompressor);

impl Default for Inflater {
    fn default() -> Self {
        Inflater(Decompressor::new())
    }
}

impl Packs {
    /// Maps every `pack-*.idx` (version 2) with its `.pack` under `objects/pack`. A pack
    /// that cannot be mapped is skipped: libgit2 still reads it.
    pub fn open(objects_dir: &Path) -> Packs {
        let mut packs = Vec::new();
        let Ok(entries) = std::fs::read_dir(objects_dir.join("pack")) else {
            return Packs { packs };
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "idx") {
                if let Some(pack) = Pack::open(&path) {
                    packs.push(pack);
                }
            }
        }
        Packs { packs }
    }

    /// Reads commit `id` (headers and message) into `out`, replacing its contents, when it is
    /// stored whole in a pack; `false` otherwise. `out` is reused from commit to commit, so a
    /// walk allocates nothing per commit here.
    pub fn read_commit(&self, id: Oid, inflater: &mut Inflater, out: &mut Vec<u8>) -> bool {
        self.packs.iter().any(|pack| {
            pack.find(id.as_bytes())
                .is_some_and(|offset| pack.read_whole(offset, OBJ_COMMIT, inflater, out))
        })
    }

    /// Starts loading the index entry of `id` into the cache (where `Pack::find` will first
    /// look, and its offset entry), so that a lookup soon after does not wait for memory:
    /// called with a commit's parents before its message is digested. In a 42 MB index each
    /// lookup's first probe is a cache and TLB miss, the largest cost of a walk without a
    /// commit-graph after inflating.
    pub fn prefetch(&self, id: Oid) {
        for pack in &self.packs {
            pack.prefetch(id.as_bytes());
        }
    }

    /// `read_commit`, and for a commit stored as a delta, resolves it (git's `pack-objects`
    /// makes a few commits deltas: 24 of Kafka's 14,053), so that libgit2 does not open and
    /// map the pack a second time for them.
    pub fn read_commit_or_delta(
        &self,
        id: Oid,
        inflater: &mut Inflater,
        out: &mut Vec<u8>,
    ) -> bool {
        self.read_commit(id, inflater, out)
            || self.read_object(id, inflater, out) == Some(OBJ_COMMIT)
    }

    /// The type of object `id` (1 commit, 2 tree, 3 blob, 4 tag) from its pack entry header,
    /// following delta bases; `None` when it is not in a pack (or anything is unexpected).
    pub fn kind(&self, id: Oid) -> Option<u8> {
        let (pack, offset) = self.locate(id.as_bytes())?;
        self.kind_at(pack, offset, 0)
    }

    /// Reads object `id` of any type into `out`, resolving deltas; returns its type.
    pub fn read_object(&self, id: Oid, inflater: &mut Inflater, out: &mut Vec<u8>) -> Option<u8> {
        let (pack, offset) = self.locate(id.as_bytes())?;
        self.read_at(pack, offset, inflater, out, 0)
    }

    fn locate(&self, id: &[u8]) -> Option<(&Pack, u64)> {
        self.packs
            .iter()
            .find_map(|pack| pack.find(id).map(|offset| (pack, offset)))
    }

    /// Where a delta's base is: its pack and offset.
    fn delta_base<'p>(
        &'p self,
        pack: &'p Pack,
        offset: u64,
        kind: u8,
        at: usize,
    ) -> Option<(&'p Pack, u64, usize)> {
        let rest = pack.data.get(at..)?;
        if kind == OBJ_OFS_DELTA {
            let (distance, used) = ofs_distance(rest)?;
            Some((pack, offset.checked_sub(distance)?, used))
        } else {
            let (pack, base) = self.locate(rest.get(..20)?)?;
            Some((pack, base, 20))
        }
    }

    fn kind_at(&self, pack: &Pack, offset: u64, depth: usize) -> Option<u8> {
        let at = usize::try_from(offset).ok()?;
        let (kind, _, header) = object_header(pack.data.get(at..)?)?;
        match kind {
            1..=4 => Some(kind),
            OBJ_OFS_DELTA | OBJ_REF_DELTA if depth < MAX_DELTA_DEPTH => {
                let (base_pack, base, _) = self.delta_base(pack, offset, kind, at + header)?;
                self.kind_at(base_pack, base, depth + 1)
            }
            _ => None,
        }
    }

    fn read_at(
        &self,
        pack: &Pack,
        offset: u64,
        inflater: &mut Inflater,
        out: &mut Vec<u8>,
        depth: usize,
    ) -> Option<u8> {
        let at = usize::try_from(offset).ok()?;
        let (kind, size, header) = object_header(pack.data.get(at..)?)?;
        let size = usize::try_from(size)
            .ok()
            .filter(|&s| s as u64 <= MAX_OBJECT_SIZE)?;
        match kind {
            1..=4 => inflate(pack.data.get(at + header..)?, size, inflater, out).then_some(kind),
            OBJ_OFS_DELTA | OBJ_REF_DELTA if depth < MAX_DELTA_DEPTH => {
                let (base_pack, base, used) = self.delta_base(pack, offset, kind, at + header)?;
                let mut delta = Vec::new();
                if !inflate(
                    pack.data.get(at + header + used..)?,
                    size,
                    inflater,
                    &mut delta,
                ) {
                    return None;
                }
                let kind = self.read_at(base_pack, base, inflater, out, depth + 1)?;
                *out = apply_delta(out, &delta)?;
                Some(kind)
            }
            _ => None,
        }
    }
}

/// Inflates one zlib stream of `size` bytes into `out` (replacing its contents). `input` may
/// go on past the stream's end (it is the rest of the pack): libdeflate stops at the end of
/// the stream and checks its Adler-32. A stream that inflates to any other size is refused.
fn inflate(input: &[u8], size: usize, inflater: &mut Inflater, out: &mut Vec<u8>) -> bool {
    out.clear();
    out.resize(size, 0);
    matches!(inflater.0.zlib_decompress(input, out), Ok(n) if n == size)
}

/// An `OBJ_OFS_DELTA`'s distance back to its base (git's offset encoding, not a plain varint).
fn ofs_distance(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut byte = *bytes.first()?;
    let mut distance = u64::from(byte & 0x7f);
    let mut used = 1;
    while byte & 0x80 != 0 {
        byte = *bytes.get(used)?;
        used += 1;
        distance = distance.checked_add(1)?.checked_mul(128)? | u64::from(byte & 0x7f);
    }
    Some((distance, used))
}

/// A delta's size header: a little-endian base-128 varint.
fn delta_size(bytes: &[u8], at: &mut usize) -> Option<usize> {
    let mut size = 0usize;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(*at)?;
        *at += 1;
        if shift > 56 {
            return None;
        }
        size |= usize::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Some(size);
        }
    }
}

/// Applies a git delta (copy and insert instructions) to `base`.
fn apply_delta(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    let mut at = 0;
    if delta_size(delta, &mut at)? != base.len() {
        return None;
    }
    let size = delta_size(delta, &mut at)?;
    let mut out = Vec::with_capacity(size);
    while at < delta.len() {
        let op = delta[at];
        at += 1;
        if op & 0x80 != 0 {
            let mut offset = 0usize;
            let mut length = 0usize;
            for bit in 0..7 {
                if op & (1 << bit) != 0 {
                    let byte = usize::from(*delta.get(at)?);
                    at += 1;
                    if bit < 4 {
                        offset |= byte << (8 * bit);
                    } else {
                        length |= byte << (8 * (bit - 4));
                    }
                }
            }
            if length == 0 {
                length = 0x10000;
            }
            out.extend_from_slice(base.get(offset..offset.checked_add(length)?)?);
        } else if op != 0 {
            out.extend_from_slice(delta.get(at..at + usize::from(op))?);
            at += usize::from(op);
        } else {
            return None; // reserved
        }
    }
    (out.len() == size).then_some(out)
}

impl Pack {
    fn open(index_path: &Path) -> Option<Pack> {
        // SAFETY (memory maps): git never rewrites a pack or index in place; a repack writes new
        // files and unlinks old ones, which stay mapped and valid until unmapped.
        let index = unsafe { Mmap::map(&File::open(index_path).ok()?) }.ok()?;
        let data =
            unsafe { Mmap::map(&File::open(index_path.with_extension("pack")).ok()?) }.ok()?;
        if index.get(..8)? != b"\xfftOc\0\0\0\x02" || data.get(..4)? != b"PACK" {
            return None;
        }
        let count = be32(&index, 8 + 255 * 4)? as usize;
        // names, CRCs and offsets must fit; large offsets are checked when used
        if index.len() < 8 + 1024 + count * 28 {
            return None;
        }
        Some(Pack { index, data, count })
    }

    /// The offset of `id` in the pack: within its fan-out bucket, a first guess where a
    /// uniformly spread id would be and one probe a few entries away, then binary search. Ids
    /// are hashes, so the guess is rarely off by more than a few dozen entries: two probes far
    /// apart and the rest in a few neighbouring cache lines, where plain binary search touches
    /// a dozen pages of a large index (Kafka's is 42 MB) for every commit.
    fn find(&self, id: &[u8]) -> Option<u64> {
        let first = *id.first()? as usize;
        let lo = if first == 0 {
            0
        } else {
            be32(&self.index, 8 + (first - 1) * 4)? as usize
        };
        let hi = be32(&self.index, 8 + first * 4)? as usize;
        // Most steps are decided by the first eight bytes, compared as one integer.
        let prefix = u64::from_be_bytes(id.get(..8)?.try_into().ok()?);
        let compare = |position: usize| -> Option<std::cmp::Ordering> {
            let at = 8 + 1024 + position * 20;
            let name = self.index.get(at..at + 20)?;
            let name_prefix = u64::from_be_bytes(name[..8].try_into().ok()?);
            Some(
                name_prefix
                    .cmp(&prefix)
                    .then_with(|| name[8..].cmp(&id[8..])),
            )
        };
        let (mut lo, mut hi) = (lo, hi.min(self.count));
        if let Some(guess) = self.guess(id) {
            match compare(guess)? {
                std::cmp::Ordering::Equal => return self.offset(guess),
                std::cmp::Ordering::Less => {
                    lo = guess + 1;
                    let probe = guess + GUESS_STEP;
                    if probe < hi {
                        match compare(probe)? {
                            std::cmp::Ordering::Equal => return self.offset(probe),
                            std::cmp::Ordering::Less => lo = probe + 1,
                            std::cmp::Ordering::Greater => hi = probe,
                        }
                    }
                }
                std::cmp::Ordering::Greater => {
                    hi = guess;
                    if let Some(probe) = guess.checked_sub(GUESS_STEP).filter(|&p| p >= lo) {
                        match compare(probe)? {
                            std::cmp::Ordering::Equal => return self.offset(probe),
                            std::cmp::Ordering::Less => lo = probe + 1,
                            std::cmp::Ordering::Greater => hi = probe,
                        }
                    }
                }
            }
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match compare(mid)? {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return self.offset(mid),
            }
        }
        None
    }

    /// `find`'s first guess for `id`, if its bucket is large enough for a guess.
    fn guess(&self, id: &[u8]) -> Option<usize> {
        let first = *id.first()? as usize;
        let lo = if first == 0 {
            0
        } else {
            be32(&self.index, 8 + (first - 1) * 4)? as usize
        };
        let hi = (be32(&self.index, 8 + first * 4)? as usize).min(self.count);
        if hi.saturating_sub(lo) <= 2 * GUESS_STEP {
            return None;
        }
        let prefix = u64::from_be_bytes(id.get(..8)?.try_into().ok()?);
        let below = u128::from(prefix & ((1 << 56) - 1)); // the bits after the first byte
        let guess = lo + ((below * (hi - lo) as u128) >> 56) as usize;
        Some(guess.min(hi - 1))
    }

    fn prefetch(&self, id: &[u8]) {
        let Some(guess) = self.guess(id) else {
            return;
        };
        let name = 8 + 1024 + guess * 20;
        let offset = 8 + 1024 + self.count * 24 + guess * 4;
        for at in [name, offset] {
            if let Some(byte) = self.index.get(at) {
                prefetch_line(byte);
            }
        }
    }

    fn offset(&self, position: usize) -> Option<u64> {
        let offsets = 8 + 1024 + self.count * 24;
        let small = be32(&self.index, offsets + position * 4)?;
        if small & 0x8000_0000 == 0 {
            return Some(u64::from(small));
        }
        let large = offsets + self.count * 4 + (small & 0x7fff_ffff) as usize * 8;
        let bytes = self.index.get(large..large + 8)?;
        Some(u64::from_be_bytes(bytes.try_into().ok()?))
    }

    /// Inflates the object at `offset` into `out` if it is stored whole with type `want`.
    fn read_whole(
        &self,
        offset: u64,
        want: u8,
        inflater: &mut Inflater,
        out: &mut Vec<u8>,
    ) -> bool {
        let Some((input, size)) = self.whole_object(offset, want) else {
            return false; // a delta, or not a commit: libgit2 resolves it
        };
        inflate(input, size, inflater, out)
    }

    /// The compressed bytes and the size of the object at `offset`, if stored whole as `want`.
    fn whole_object(&self, offset: u64, want: u8) -> Option<(&[u8], usize)> {
        let at = usize::try_from(offset).ok()?;
        let (kind, size, header) = object_header(self.data.get(at..)?)?;
        if kind != want || size > MAX_OBJECT_SIZE {
            return None;
        }
        Some((self.data.get(at + header..)?, usize::try_from(size).ok()?))
    }
}

/// A pack object header: type in bits 4-6 of the first byte, then the size as a varint.
fn object_header(bytes: &[u8]) -> Option<(u8, u64, usize)> {
    let mut byte = *bytes.first()?;
    let kind = (byte >> 4) & 7;
    let mut size = u64::from(byte & 0x0f);
    let mut shift = 4;
    let mut used = 1;
    while byte & 0x80 != 0 {
        byte = *bytes.get(used)?;
        used += 1;
        if shift > 57 {
            return None;
        }
        size |= u64::from(byte & 0x7f) << shift;
        shift += 7;
    }
    Some((kind, size, used))
}

/// A hint to the processor to load the cache line holding `byte`; nothing else happens.
#[cfg(target_arch = "x86_64")]
fn prefetch_line(byte: &u8) {
    // SAFETY: a prefetch reads nothing into the program and cannot fault; the pointer comes
    // from a live reference anyway.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (byte as *const u8).cast::<i8>(),
        );
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn prefetch_line(_byte: &u8) {}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::{apply_delta, object_header, ofs_distance, Pack};

    /// A version-2 index of `ids` (sorted), object `i` at offset `12 + i`, with a bare pack.
    fn pack_of(ids: &[[u8; 20]]) -> (tempfile::TempDir, Pack) {
        let mut index = b"\xfftOc\0\0\0\x02".to_vec();
        for byte in 0..256usize {
            let count = ids.iter().filter(|id| usize::from(id[0]) <= byte).count();
            index.extend_from_slice(&(count as u32).to_be_bytes());
        }
        ids.iter().for_each(|id| index.extend_from_slice(id));
        index.extend(std::iter::repeat_n(0u8, ids.len() * 4)); // CRCs
        for i in 0..ids.len() {
            index.extend_from_slice(&(12 + i as u32).to_be_bytes());
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.idx"), &index).unwrap();
        std::fs::write(dir.path().join("p.pack"), b"PACK\0\0\0\x02\0\0\0\0").unwrap();
        let pack = Pack::open(&dir.path().join("p.idx")).unwrap();
        (dir, pack)
    }

    #[test]
    fn find_locates_every_id_of_a_large_index_and_no_other() {
        // 60,000 ids: fan-out buckets of about 230 entries, where the first guess is used.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut ids: Vec<[u8; 20]> = (0..60_000)
            .map(|_| {
                let mut id = [0u8; 20];
                for chunk in id.chunks_mut(4) {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    chunk.copy_from_slice(&seed.to_be_bytes()[..chunk.len()]);
                }
                id
            })
            .collect();
        // and a crowd of ids sharing their first 8 bytes, far from where a guess lands
        ids.extend((0..300u16).map(|i| {
            let mut id = [0x80u8; 20];
            id[18..].copy_from_slice(&i.to_be_bytes());
            id
        }));
        ids.sort();
        ids.dedup();
        let (_dir, pack) = pack_of(&ids);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(pack.find(id), Some(12 + i as u64), "{i}");
            let mut absent = *id;
            absent[19] ^= 0x55;
            if ids.binary_search(&absent).is_err() {
                assert_eq!(pack.find(&absent), None);
            }
        }
    }

    #[test]
    fn deltas_copy_and_insert() {
        let base = b"hello, world";
        // base size 12, result size 11: copy 7 bytes from 0 ("hello, "), insert "git!"
        let delta = [12, 11, 0x80 | 0x10, 7, 4, b'g', b'i', b't', b'!'];
        assert_eq!(
            apply_delta(base, &delta).as_deref(),
            Some(&b"hello, git!"[..])
        );
        assert_eq!(apply_delta(b"short", &delta), None, "wrong base size");
        assert_eq!(
            apply_delta(base, &[12, 11, 0]),
            None,
            "reserved instruction"
        );
    }

    #[test]
    fn ofs_distances_use_gits_encoding() {
        assert_eq!(ofs_distance(&[0x05]), Some((5, 1)));
        // (1 + 1) * 128 + 0 = 256
        assert_eq!(ofs_distance(&[0x81, 0x00]), Some((256, 2)));
    }

    #[test]
    fn object_headers_decode_type_and_size() {
        // commit (1), size 0x25 = 37: 0b1_001_0101, 0b0000_0010
        assert_eq!(object_header(&[0x95, 0x02]), Some((1, 5 | (2 << 4), 2)));
        assert_eq!(object_header(&[0x1f]), Some((1, 15, 1)));
        assert_eq!(object_header(&[0x95]), None, "truncated varint");
        assert_eq!(object_header(&[0xff; 20]), None, "overlong varint");
    }
}
