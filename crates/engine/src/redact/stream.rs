//! Split-safe streaming redaction.
//!
//! After each chunk the redactor holds back only the longest suffix of the
//! pending bytes that is a proper prefix of some pattern: any shorter hold
//! could let a match split across chunks through, any longer one delays
//! bytes that can no longer be part of a match.

use super::Patterns;
use agentsecrets_wire::REDACTION_MARKER;
use bytes::Bytes;
use std::sync::Arc;

/// A trie of all patterns with Aho-Corasick failure links, used only to find
/// the held-back tail in time linear in the longest pattern.
pub(crate) struct PrefixTrie {
    nodes: Vec<Node>,
    /// Longest proper prefix length: no held-back tail is longer.
    max_hold: usize,
}

struct Node {
    /// Sorted by byte.
    next: Vec<(u8, u32)>,
    fail: u32,
    depth: u32,
}

const ROOT: u32 = 0;

impl PrefixTrie {
    pub(crate) fn new(patterns: &[Vec<u8>]) -> Self {
        let mut nodes = vec![Node {
            next: Vec::new(),
            fail: ROOT,
            depth: 0,
        }];
        for p in patterns {
            let mut s = ROOT;
            for &b in p {
                s = match nodes[s as usize].next.binary_search_by_key(&b, |e| e.0) {
                    Ok(i) => nodes[s as usize].next[i].1,
                    Err(i) => {
                        let id = u32::try_from(nodes.len()).expect("pattern trie under 4G nodes");
                        let depth = nodes[s as usize].depth + 1;
                        nodes[s as usize].next.insert(i, (b, id));
                        nodes.push(Node {
                            next: Vec::new(),
                            fail: ROOT,
                            depth,
                        });
                        id
                    }
                };
            }
        }
        let mut trie = PrefixTrie {
            max_hold: patterns
                .iter()
                .map(|p| p.len().saturating_sub(1))
                .max()
                .unwrap_or(0),
            nodes,
        };
        // Breadth-first, so a node's failure target is final before its children need it.
        let mut queue = std::collections::VecDeque::new();
        let root_children: Vec<u32> = trie.nodes[ROOT as usize].next.iter().map(|e| e.1).collect();
        queue.extend(root_children);
        while let Some(s) = queue.pop_front() {
            let children = trie.nodes[s as usize].next.clone();
            for (b, child) in children {
                let mut f = trie.nodes[s as usize].fail;
                let target = loop {
                    if let Some(t) = trie.child(f, b) {
                        break t;
                    }
                    if f == ROOT {
                        break ROOT;
                    }
                    f = trie.nodes[f as usize].fail;
                };
                trie.nodes[child as usize].fail = target;
                queue.push_back(child);
            }
        }
        trie
    }

    fn child(&self, s: u32, b: u8) -> Option<u32> {
        let next = &self.nodes[s as usize].next;
        next.binary_search_by_key(&b, |e| e.0)
            .ok()
            .map(|i| next[i].1)
    }

    fn step(&self, mut s: u32, b: u8) -> u32 {
        loop {
            if let Some(t) = self.child(s, b) {
                return t;
            }
            if s == ROOT {
                return ROOT;
            }
            s = self.nodes[s as usize].fail;
        }
    }

    /// Length of the longest suffix of `buf` that is a proper prefix of some
    /// pattern (0 if none).
    pub(crate) fn open_suffix_len(&self, buf: &[u8]) -> usize {
        // Every proper prefix fits in the last `max_hold` bytes.
        let window = &buf[buf.len().saturating_sub(self.max_hold)..];
        let mut s = ROOT;
        for &b in window {
            s = self.step(s, b);
        }
        // `s` is the longest suffix that is a trie node; its failure chain
        // lists the shorter ones. A node with children is a proper prefix;
        // a leaf is a complete pattern that nothing extends.
        while s != ROOT && self.nodes[s as usize].next.is_empty() {
            s = self.nodes[s as usize].fail;
        }
        self.nodes[s as usize].depth as usize
    }
}

/// Split-safe streaming redaction: holds back only a tail that could still
/// become a match, so output stays prompt.
pub struct StreamRedactor {
    patterns: Arc<Patterns>,
    pending: Vec<u8>,
    redacted: bool,
}

impl StreamRedactor {
    pub fn new(patterns: Arc<Patterns>) -> Self {
        StreamRedactor {
            patterns,
            pending: Vec::new(),
            redacted: false,
        }
    }

    /// Feeds a chunk; returns what can be emitted now.
    pub fn push(&mut self, chunk: &[u8]) -> Bytes {
        let Some(ac) = self.patterns.automaton() else {
            return Bytes::copy_from_slice(chunk);
        };
        self.pending.extend_from_slice(chunk);
        let buf = &self.pending;
        let tail = buf.len() - self.patterns.trie().open_suffix_len(buf);

        let mut out = Vec::with_capacity(buf.len() + REDACTION_MARKER.len());
        let mut emitted = 0;
        for m in ac.find_iter(buf.as_slice()) {
            // A match starting inside the tail may still grow or be replaced
            // by a longer one: decide it with more input.
            if m.start() >= tail {
                break;
            }
            // A match starting before the tail is final. If a longer pattern
            // starting at m.start() could still complete beyond the buffer
            // end, buf[m.start()..] would be a proper prefix of it, i.e. a
            // longer open suffix than the tail: contradiction. So the
            // leftmost-longest match found here is the one the whole stream
            // would yield, and it ends inside the buffer.
            out.extend_from_slice(&buf[emitted..m.start()]);
            out.extend_from_slice(REDACTION_MARKER.as_bytes());
            emitted = m.end();
            self.redacted = true;
        }
        // No match starts in [emitted, tail), so those bytes are final; a
        // committed match may end inside the tail, and the search resumes
        // after it exactly as a whole-buffer search would.
        let keep_from = emitted.max(tail);
        out.extend_from_slice(&buf[emitted..keep_from]);
        self.pending.drain(..keep_from);
        Bytes::from(out)
    }

    /// Ends the stream; returns the rest (with a complete match in it redacted).
    pub fn finish(&mut self) -> Bytes {
        if self.pending.is_empty() {
            return Bytes::new();
        }
        let (out, hit) = self.patterns.redact(&self.pending);
        self.redacted |= hit;
        self.pending.clear();
        Bytes::from(out)
    }

    /// Whether anything was replaced so far.
    pub fn redacted(&self) -> bool {
        self.redacted
    }

    /// Bytes held back, waiting for the next chunk or [`finish`](Self::finish).
    pub fn held_back(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trie(ps: &[&str]) -> PrefixTrie {
        PrefixTrie::new(&ps.iter().map(|p| p.as_bytes().to_vec()).collect::<Vec<_>>())
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
