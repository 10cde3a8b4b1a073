//! Split-safe streaming redaction.
//!
//! After each chunk the redactor holds back only the longest suffix of the
//! pending bytes that is a proper prefix of some pattern: any shorter hold
//! could let a match split across chunks through, any longer one delays
//! bytes that can no longer be part of a match.

use super::view::ViewStage;
use super::Patterns;
use agentsecrets_wire::REDACTION_MARKER;
use bytes::{Bytes, BytesMut};
use std::sync::Arc;

/// A trie of all patterns with Aho-Corasick failure links, used only to find
/// the held-back tail in time linear in the longest pattern. Patterns are
/// lower case and input bytes are folded, as the search automaton does.
///
/// Nodes are numbered breadth-first from the sorted pattern list, so the
/// children of node `n` are the consecutive ids `first_child[n] ..
/// first_child[n + 1]`, sorted by their edge byte: no per-node allocation.
pub(crate) struct PrefixTrie {
    /// Byte on the edge into each node (unused for the root).
    byte: Vec<u8>,
    /// `nodes + 1` entries.
    first_child: Vec<u32>,
    fail: Vec<u32>,
    depth: Vec<u32>,
    /// Longest proper prefix length: no held-back tail is longer.
    max_hold: usize,
}

const ROOT: u32 = 0;

impl PrefixTrie {
    /// `patterns` must be lower case, sorted and free of duplicates.
    pub(crate) fn new(patterns: &[Vec<u8>]) -> Self {
        debug_assert!(patterns.windows(2).all(|w| w[0] < w[1]));
        let total: usize = patterns.iter().map(Vec::len).sum();
        let id = |n: usize| u32::try_from(n).expect("pattern trie under 4G nodes");
        let mut byte = Vec::with_capacity(total + 1);
        let mut parent = Vec::with_capacity(total + 1);
        let mut depth = Vec::with_capacity(total + 1);
        let mut first_child = Vec::with_capacity(total + 2);
        byte.push(0);
        parent.push(ROOT);
        depth.push(0);
        // Each node of the current level is the range of patterns sharing
        // its prefix; sorting keeps each child's range contiguous.
        let mut level: Vec<(usize, usize)> = vec![(0, patterns.len())];
        let mut d = 0;
        let mut node = 0usize;
        while !level.is_empty() {
            let mut next_level = Vec::new();
            for &(lo, hi) in &level {
                first_child.push(id(byte.len()));
                let mut i = lo;
                while i < hi {
                    if patterns[i].len() <= d {
                        // Only the first pattern of a range can end here.
                        i += 1;
                        continue;
                    }
                    let b = patterns[i][d];
                    let start = i;
                    while i < hi && patterns[i][d] == b {
                        i += 1;
                    }
                    byte.push(b);
                    parent.push(id(node));
                    depth.push(id(d + 1));
                    next_level.push((start, i));
                }
                node += 1;
            }
            level = next_level;
            d += 1;
        }
        first_child.push(id(byte.len()));

        let mut trie = PrefixTrie {
            fail: vec![ROOT; byte.len()],
            byte,
            first_child,
            depth,
            max_hold: patterns
                .iter()
                .map(|p| p.len().saturating_sub(1))
                .max()
                .unwrap_or(0),
        };
        // Breadth-first id order: a node's parent and every shorter node
        // already have their failure link.
        for (n, &p) in parent.iter().enumerate().skip(1) {
            if p == ROOT {
                continue;
            }
            let b = trie.byte[n];
            let mut f = trie.fail[p as usize];
            trie.fail[n] = loop {
                if let Some(t) = trie.child(f, b) {
                    break t;
                }
                if f == ROOT {
                    break ROOT;
                }
                f = trie.fail[f as usize];
            };
        }
        trie
    }

    fn children(&self, s: u32) -> std::ops::Range<usize> {
        self.first_child[s as usize] as usize..self.first_child[s as usize + 1] as usize
    }

    fn child(&self, s: u32, b: u8) -> Option<u32> {
        let range = self.children(s);
        let start = range.start;
        self.byte[range]
            .binary_search(&b)
            .ok()
            .map(|i| (start + i) as u32)
    }

    fn step(&self, mut s: u32, b: u8) -> u32 {
        loop {
            if let Some(t) = self.child(s, b) {
                return t;
            }
            if s == ROOT {
                return ROOT;
            }
            s = self.fail[s as usize];
        }
    }

    /// Length of the longest suffix of `buf` that is a proper prefix of some
    /// pattern (0 if none).
    pub(crate) fn open_suffix_len(&self, buf: &[u8]) -> usize {
        // Every proper prefix fits in the last `max_hold` bytes.
        let window = &buf[buf.len().saturating_sub(self.max_hold)..];
        let mut s = ROOT;
        for &b in window {
            s = self.step(s, b.to_ascii_lowercase());
        }
        // `s` is the longest suffix that is a trie node; its failure chain
        // lists the shorter ones. A node with children is a proper prefix;
        // a leaf is a complete pattern that nothing extends.
        while s != ROOT && self.children(s).is_empty() {
            s = self.fail[s as usize];
        }
        self.depth[s as usize] as usize
    }
}

/// Capacity above which the pending buffer is replaced after a chunk.
const SHRINK_ABOVE: usize = 1 << 20;

/// Split-safe streaming redaction: holds back only a tail that could still
/// become a match, so output stays prompt. Gives exactly what
/// [`Patterns::redact`] gives on the whole input.
pub struct StreamRedactor {
    /// The decoded-view stage, which runs first.
    view: Option<ViewStage>,
    forms: FormsStage,
}

impl StreamRedactor {
    pub fn new(patterns: Arc<Patterns>) -> Self {
        StreamRedactor {
            view: Some(ViewStage::new(patterns.clone())),
            forms: FormsStage::new(patterns),
        }
    }

    /// The forms as they are, without the decoded view: the streaming form
    /// of [`Patterns::redact_forms`].
    #[doc(hidden)]
    pub fn forms_only(patterns: Arc<Patterns>) -> Self {
        StreamRedactor {
            view: None,
            forms: FormsStage::new(patterns),
        }
    }

    /// Feeds a chunk; returns what can be emitted now.
    pub fn push(&mut self, chunk: &[u8]) -> Bytes {
        match &mut self.view {
            Some(v) => self.forms.push_bytes(v.push(Bytes::copy_from_slice(chunk))),
            None => self.forms.push(chunk),
        }
    }

    /// [`push`](Self::push) for an owned chunk, without copying it where
    /// nothing is held back or replaced.
    pub fn push_bytes(&mut self, chunk: Bytes) -> Bytes {
        match &mut self.view {
            Some(v) => self.forms.push_bytes(v.push(chunk)),
            None => self.forms.push_bytes(chunk),
        }
    }

    /// Ends the stream; returns the rest (with a complete match in it redacted).
    pub fn finish(&mut self) -> Bytes {
        let Some(v) = &mut self.view else {
            return self.forms.finish();
        };
        let head = self.forms.push_bytes(v.finish());
        let tail = self.forms.finish();
        match (head.is_empty(), tail.is_empty()) {
            (_, true) => head,
            (true, false) => tail,
            (false, false) => Bytes::from([&head[..], &tail[..]].concat()),
        }
    }

    /// Whether anything was replaced so far.
    pub fn redacted(&self) -> bool {
        self.forms.redacted || self.view.as_ref().is_some_and(ViewStage::redacted)
    }

    /// Bytes held back, waiting for the next chunk or [`finish`](Self::finish).
    pub fn held_back(&self) -> usize {
        self.forms.pending.len() + self.view.as_ref().map_or(0, ViewStage::held_back)
    }
}

/// The search for the forms as they are.
struct FormsStage {
    patterns: Arc<Patterns>,
    pending: BytesMut,
    /// Bytes the last tail check looked at, counted with the next chunk:
    /// many tiny chunks also make the accelerator worth building.
    tail_work: usize,
    redacted: bool,
}

impl FormsStage {
    fn new(patterns: Arc<Patterns>) -> Self {
        FormsStage {
            patterns,
            pending: BytesMut::new(),
            tail_work: 0,
            redacted: false,
        }
    }

    fn push(&mut self, chunk: &[u8]) -> Bytes {
        let Some(mut search) = self.patterns.searcher(chunk.len() + self.tail_work) else {
            return Bytes::copy_from_slice(chunk);
        };
        self.pending.extend_from_slice(chunk);
        let oversized = self.pending.capacity() > SHRINK_ABOVE;
        let scan = scan(&mut search, &self.pending);
        self.note(&scan);
        let out = match scan.replaced {
            Some(out) => {
                let _ = self.pending.split_to(scan.tail);
                Bytes::from(out)
            }
            // Nothing replaced: hand the bytes on without copying them.
            None => self.pending.split_to(scan.tail).freeze(),
        };
        // The tail shares the chunk's buffer: it must not pin one oversized
        // chunk's memory for the whole stream.
        if oversized {
            self.pending = BytesMut::from(&self.pending[..]);
        }
        out
    }

    /// [`push`](Self::push) for an owned chunk: when nothing is held back
    /// from the previous one, the chunk is scanned where it is and its
    /// final part handed on without a copy.
    fn push_bytes(&mut self, chunk: Bytes) -> Bytes {
        if !self.pending.is_empty() {
            return self.push(&chunk);
        }
        let Some(mut search) = self.patterns.searcher(chunk.len() + self.tail_work) else {
            return chunk;
        };
        let scan = scan(&mut search, &chunk);
        self.note(&scan);
        self.pending.extend_from_slice(&chunk[scan.tail..]);
        match scan.replaced {
            Some(out) => Bytes::from(out),
            None => chunk.slice(..scan.tail),
        }
    }

    fn note(&mut self, scan: &Scan) {
        self.tail_work = scan.work;
        self.redacted |= scan.redacted;
    }

    fn finish(&mut self) -> Bytes {
        if self.pending.is_empty() {
            return Bytes::new();
        }
        let (out, hit) = self.patterns.redact_forms(&self.pending);
        self.redacted |= hit;
        self.pending.clear();
        Bytes::from(out)
    }
}

/// What one pass over the buffered bytes found.
struct Scan {
    /// The bytes before `tail` with matches replaced; `None` when nothing
    /// was replaced (they are then `buf[..tail]` as they are).
    replaced: Option<Vec<u8>>,
    /// Bytes from here on are held back: the longest suffix that could
    /// still become a match.
    tail: usize,
    /// Bytes the tail checks looked at.
    work: usize,
    redacted: bool,
}

fn scan(search: &mut super::Searcher<'_>, buf: &[u8]) -> Scan {
    let (open, mut work) = search.open_suffix_len(buf);
    let mut tail = buf.len() - open;
    let mut out: Option<Vec<u8>> = None;
    let mut emitted = 0;
    // Only a match starting before the tail is looked for: one starting
    // inside it may still grow or be replaced by a longer one, so it is
    // decided with more input.
    while let Some((start, end)) = search.find(buf, emitted, tail) {
        // A match starting before the tail is final. If a longer pattern
        // starting at `start` could still complete beyond the buffer
        // end, buf[start..] would be a proper prefix of it, i.e. a
        // longer open suffix than the tail: contradiction. So the
        // leftmost-longest match found here is the one the whole stream
        // would yield, and it ends inside the buffer.
        let out = out.get_or_insert_with(|| Vec::with_capacity(buf.len()));
        out.extend_from_slice(&buf[emitted..start]);
        out.extend_from_slice(REDACTION_MARKER.as_bytes());
        emitted = end;
        if emitted > tail {
            // The match ate into the tail. The search resumes at its end,
            // so only an open suffix starting there still needs holding;
            // the same argument applies to the matches after it.
            let (open, more) = search.open_suffix_len(&buf[emitted..]);
            work += more;
            tail = buf.len() - open;
        }
    }
    // No match starts in [emitted, tail): those bytes are final.
    let redacted = out.is_some();
    if let Some(out) = out.as_mut() {
        out.extend_from_slice(&buf[emitted..tail]);
    }
    Scan {
        replaced: out,
        tail,
        work,
        redacted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trie(ps: &[&str]) -> PrefixTrie {
        let mut ps: Vec<Vec<u8>> = ps.iter().map(|p| p.as_bytes().to_vec()).collect();
        ps.sort();
        PrefixTrie::new(&ps)
    }

    #[test]
    fn open_suffix_is_longest_proper_prefix() {
        let t = trie(&["abcd", "bcx", "ab"]);
        assert_eq!(t.open_suffix_len(b""), 0);
        assert_eq!(t.open_suffix_len(b"zz"), 0);
        assert_eq!(t.open_suffix_len(b"zza"), 1);
        // "ab" is a complete pattern but also a proper prefix of "abcd".
        assert_eq!(t.open_suffix_len(b"zzab"), 2);
        assert_eq!(t.open_suffix_len(b"zzabc"), 3);
        // "abcd" is complete and extends to nothing; "bcd"/"cd"/"d" start nothing.
        assert_eq!(t.open_suffix_len(b"zzabcd"), 0);
        // Falls back along the failure chain: "abcb" -> "b" starts "bcx".
        assert_eq!(t.open_suffix_len(b"abcb"), 1);
        assert_eq!(t.open_suffix_len(b"abcbc"), 2);
    }

    #[test]
    fn open_suffix_only_looks_at_the_window() {
        let t = trie(&["aaab"]);
        let mut long = vec![b'a'; 10_000];
        assert_eq!(t.open_suffix_len(&long), 3);
        long.push(b'b');
        assert_eq!(t.open_suffix_len(&long), 0);
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[test]
    fn a_match_ending_inside_the_tail_releases_what_follows() {
        // Value ` \`: its JSON form ` \\` is a proper prefix of the
        // twice-escaped ` \\\\`, so ` \\` is held back until the next byte
        // shows which one it is.
        let p = Arc::new(Patterns::new([b" \\".as_slice()]));
        let mut s = StreamRedactor::forms_only(p.clone());
        let a = s.push(b"x \\\\");
        assert_eq!(&a[..], b"x");
        assert_eq!(s.held_back(), 3);
        // `u` decides: ` \\` is the match, and `u` starts no pattern, so
        // nothing stays held back.
        let b = s.push(b"u");
        assert_eq!(b, format!("{REDACTION_MARKER}u").as_bytes());
        assert_eq!(s.held_back(), 0);
        assert!(s.redacted());
    }

    #[test]
    fn finish_redacts_a_complete_match_in_the_tail() {
        let p = Arc::new(Patterns::new([b"abc".as_slice(), b"abcdef".as_slice()]));
        let mut s = StreamRedactor::forms_only(p);
        assert_eq!(&s.push(b"-abc")[..], b"-");
        assert_eq!(s.finish(), REDACTION_MARKER.as_bytes());
        assert!(s.redacted());
        assert!(s.finish().is_empty());
    }
}

#[cfg(test)]
mod memory_tests {
    use super::*;

    #[test]
    fn an_oversized_chunk_is_not_pinned_by_the_tail() {
        let p = Arc::new(Patterns::new([b"secret-value".as_slice()]));
        let mut s = StreamRedactor::forms_only(p);
        let mut big = vec![b'x'; 4 * SHRINK_ABOVE];
        big.extend_from_slice(b"secret");
        let out = s.push(&big);
        assert_eq!(out.len(), 4 * SHRINK_ABOVE);
        assert_eq!(s.held_back(), 6);
        assert!(s.forms.pending.capacity() <= SHRINK_ABOVE);
        assert_eq!(
            s.push(b"-value!"),
            format!("{REDACTION_MARKER}!").as_bytes()
        );
    }
}
