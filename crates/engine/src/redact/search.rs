//! Leftmost-longest, ASCII case-insensitive search for the encoded forms.
//!
//! A proxied request builds its own [`Forms`] and usually scans a few KiB
//! with it, so nothing here is compiled up front: candidates are found with
//! a first-byte prefilter (`memchr` for up to three bytes, a table
//! otherwise) and checked against the forms that start with that byte. Only
//! once a set of forms has scanned enough bytes to repay it does
//! [`Accel`] build a SIMD prefilter (Teddy, over the case variants of the
//! forms' first bytes) or, where that is unavailable, an Aho-Corasick NFA,
//! plus the prefix trie for the held-back tail. Both paths give the same
//! matches: the accelerator only finds candidates sooner.

use super::anchors::{AnchorHits, Anchors};
use super::starts::TokenStarts;
use super::stream::PrefixTrie;
use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};

/// Lower-case forms, grouped by first byte, with the first-byte prefilter.
pub(crate) struct Forms {
    /// Lower case, sorted, distinct, none empty.
    pub(crate) forms: Vec<Vec<u8>>,
    /// The forms starting with lower-case byte `b` are
    /// `forms[bucket[b]..bucket[b + 1]]`.
    bucket: Box<[u32; 257]>,
    /// For a byte (either case) that starts some form, 1 + the index of its
    /// set in `seconds`; 0 for other bytes.
    starts: Box<[u8; 256]>,
    /// Per lower-case first byte, the lower-case second bytes that follow it
    /// in some form (every byte if a one-byte form starts with it).
    seconds: Vec<[u64; 4]>,
    /// The distinct start bytes, when there are at most three.
    few: Few,
    pub(crate) max_len: usize,
    /// Every byte (either case) that occurs in some form.
    pub(crate) alphabet: Box<[bool; 256]>,
}

#[derive(Clone, Copy)]
enum Few {
    One(u8),
    Two(u8, u8),
    Three(u8, u8, u8),
    Many,
}

/// Whether `hay` equals the lower-case `lower`, ignoring ASCII case.
pub(crate) fn eq_fold(hay: &[u8], lower: &[u8]) -> bool {
    hay.len() == lower.len()
        && hay
            .iter()
            .zip(lower)
            .all(|(&h, &l)| h.to_ascii_lowercase() == l)
}

impl Forms {
    /// `forms` must be lower case, sorted, distinct and not empty.
    pub(crate) fn new(forms: Vec<Vec<u8>>) -> Forms {
        debug_assert!(forms.windows(2).all(|w| w[0] < w[1]));
        debug_assert!(forms.iter().all(|f| !f.is_empty()));
        let mut bucket = Box::new([0u32; 257]);
        let mut starts = Box::new([0u8; 256]);
        let mut seconds: Vec<[u64; 4]> = Vec::new();
        let mut distinct = Vec::with_capacity(4);
        // Sorted, so each first byte's forms are one run.
        let mut i = 0;
        for b in 0..256usize {
            bucket[b] = i as u32;
            let mut set = [0u64; 4];
            while i < forms.len() && forms[i][0] as usize == b {
                match forms[i].get(1) {
                    Some(&s) => set[s as usize >> 6] |= 1 << (s & 63),
                    None => set = [u64::MAX; 4],
                }
                i += 1;
            }
            if bucket[b] as usize != i {
                // Lower-case first bytes are at most 230: 1 + index fits a u8.
                seconds.push(set);
                let b = b as u8;
                for c in [b, b.to_ascii_uppercase()] {
                    if starts[c as usize] == 0 {
                        distinct.push(c);
                    }
                    starts[c as usize] = seconds.len() as u8;
                }
            }
        }
        bucket[256] = i as u32;
        let few = match distinct[..] {
            [a] => Few::One(a),
            [a, b] => Few::Two(a, b),
            [a, b, c] => Few::Three(a, b, c),
            _ => Few::Many,
        };
        let mut alphabet = Box::new([false; 256]);
        for &b in forms.iter().flatten() {
            alphabet[b as usize] = true;
            alphabet[b.to_ascii_uppercase() as usize] = true;
        }
        Forms {
            max_len: forms.iter().map(Vec::len).max().unwrap_or(0),
            alphabet,
            forms,
            bucket,
            starts,
            seconds,
            few,
        }
    }

    fn bucket(&self, b: u8) -> &[Vec<u8>] {
        let b = b.to_ascii_lowercase() as usize;
        &self.forms[self.bucket[b] as usize..self.bucket[b + 1] as usize]
    }

    /// Whether a form can start at `hay[i]`, judging by its first two
    /// bytes (the first alone at the end of `hay`).
    #[inline]
    fn may_start(&self, hay: &[u8], i: usize) -> bool {
        let k = self.starts[hay[i] as usize];
        if k == 0 {
            return false;
        }
        let Some(&s) = hay.get(i + 1) else {
            return true;
        };
        let s = s.to_ascii_lowercase();
        self.seconds[k as usize - 1][s as usize >> 6] & (1 << (s & 63)) != 0
    }

    /// First position in `from..limit` where a form may start in `hay`.
    fn candidate(&self, hay: &[u8], from: usize, limit: usize) -> Option<usize> {
        let mut at = from;
        loop {
            let h = &hay[at..limit];
            let i = at
                + match self.few {
                    Few::One(a) => memchr::memchr(a, h)?,
                    Few::Two(a, b) => memchr::memchr2(a, b, h)?,
                    Few::Three(a, b, c) => memchr::memchr3(a, b, c, h)?,
                    Few::Many => {
                        return (at..limit).find(|&i| self.may_start(hay, i));
                    }
                };
            if self.may_start(hay, i) {
                return Some(i);
            }
            at = i + 1;
        }
    }

    /// Length of the longest form occurring at `hay[i..]`.
    fn longest_at(&self, hay: &[u8], i: usize) -> Option<usize> {
        let rest = &hay[i..];
        let mut best = None;
        for f in self.bucket(rest[0]) {
            if f.len() <= rest.len() && eq_fold(&rest[..f.len()], f) {
                best = best.max(Some(f.len()));
            }
        }
        best
    }

    /// The leftmost-longest match in `hay` starting in `from..limit`.
    pub(crate) fn find(&self, hay: &[u8], from: usize, limit: usize) -> Option<(usize, usize)> {
        let mut at = from;
        while at < limit {
            let i = self.candidate(hay, at, limit)?;
            if let Some(len) = self.longest_at(hay, i) {
                return Some((i, i + len));
            }
            at = i + 1;
        }
        None
    }

    /// Length of the longest suffix of `buf` that is a proper prefix of some
    /// form (0 if none), and how many bytes were looked at to find it.
    pub(crate) fn open_suffix_len(&self, buf: &[u8]) -> (usize, usize) {
        // Every proper prefix fits in the last `max_len - 1` bytes.
        let from = buf.len() - buf.len().min(self.max_len.saturating_sub(1));
        let mut at = from;
        let mut work = buf.len() - from;
        while let Some(i) = self.candidate(buf, at, buf.len()) {
            let rest = &buf[i..];
            work += rest.len();
            let open = self
                .bucket(rest[0])
                .iter()
                .any(|f| f.len() > rest.len() && eq_fold(rest, &f[..rest.len()]));
            if open {
                return (rest.len(), work);
            }
            at = i + 1;
        }
        (0, work)
    }
}

/// Each prefix searcher's next hit (`usize::MAX`: none left) at or after
/// where it last searched, or each anchor group's last answer: with several
/// searchers, a match found by one must not make the others scan the rest
/// of the input again.
#[derive(Default)]
pub(crate) struct Hits([Option<usize>; MAX_SEARCHERS], AnchorHits);

/// Which accelerator a set of forms builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// The SIMD prefilter where it can be built, else the anchors.
    Auto,
    /// The Aho-Corasick automaton.
    Automaton,
    /// The sampled anchors, whatever the number of forms.
    Anchors,
}

/// What a set of forms builds once it has scanned enough to repay it.
pub(crate) struct Accel {
    search: AccelSearch,
    /// For the held-back tail, unless the anchors find it themselves.
    trie: Option<PrefixTrie>,
    /// Where the decoded view's useful tokens may start.
    pub(crate) starts: TokenStarts,
}

enum AccelSearch {
    /// Each finds where a case variant of some form's first bytes occurs
    /// (the variants are split over several searchers when too many for
    /// one); each candidate is then checked as in the small path.
    Prefix(Vec<packed::Searcher>),
    Automaton(AhoCorasick),
    /// Sampled anchor windows: the many-forms case.
    Anchors(Anchors),
    /// Neither could be built: keep the small path.
    None,
}

impl Accel {
    pub(crate) fn new(forms: &Forms, kind: Search) -> Accel {
        let search = match kind {
            Search::Auto => (forms.forms.len() <= PREFILTER_FORMS)
                .then(|| prefix_searchers(&forms.forms))
                .flatten()
                .map(AccelSearch::Prefix)
                .unwrap_or_else(|| AccelSearch::Anchors(Anchors::new(&forms.forms))),
            Search::Anchors => AccelSearch::Anchors(Anchors::new(&forms.forms)),
            Search::Automaton => AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .ascii_case_insensitive(true)
                .build(&forms.forms)
                .map_or(AccelSearch::None, AccelSearch::Automaton),
        };
        let trie =
            (!matches!(search, AccelSearch::Anchors(_))).then(|| PrefixTrie::new(&forms.forms));
        let starts = TokenStarts::new(|b| forms.alphabet[b as usize]);
        Accel {
            search,
            trie,
            starts,
        }
    }

    /// Length of the longest suffix of `buf` that is a proper prefix of
    /// some form.
    pub(crate) fn open_suffix_len(&self, forms: &Forms, buf: &[u8]) -> usize {
        match (&self.search, &self.trie) {
            (AccelSearch::Anchors(a), _) => a.open_suffix_len(&forms.forms, buf),
            (_, Some(t)) => t.open_suffix_len(buf),
            (_, None) => forms.open_suffix_len(buf).0,
        }
    }

    /// Same as [`Forms::find`]. `hits` carries what earlier calls on the
    /// same `hay`, with `from` never decreasing, learnt.
    pub(crate) fn find(
        &self,
        forms: &Forms,
        hay: &[u8],
        from: usize,
        limit: usize,
        hits: &mut Hits,
    ) -> Option<(usize, usize)> {
        match &self.search {
            AccelSearch::Prefix(pres) => {
                let next = &mut hits.0[..pres.len()];
                let mut at = from;
                while at < limit {
                    let mut i = usize::MAX;
                    for (pre, n) in pres.iter().zip(next.iter_mut()) {
                        if n.is_none_or(|n| n < at) {
                            *n = Some(
                                pre.find_in(hay, packed_span(at, hay.len()))
                                    .map_or(usize::MAX, |m| m.start()),
                            );
                        }
                        i = i.min(n.unwrap_or(usize::MAX));
                    }
                    if i >= limit {
                        return None;
                    }
                    if let Some(len) = forms.longest_at(hay, i) {
                        return Some((i, i + len));
                    }
                    at = i + 1;
                }
                None
            }
            AccelSearch::Automaton(ac) => {
                let m = ac.find(Input::new(hay).span(from..hay.len()))?;
                (m.start() < limit).then(|| (m.start(), m.end()))
            }
            AccelSearch::Anchors(a) => a.find(&forms.forms, hay, from, limit, &mut hits.1),
            AccelSearch::None => forms.find(hay, from, limit),
        }
    }
}

fn packed_span(start: usize, end: usize) -> aho_corasick::Span {
    aho_corasick::Span { start, end }
}

/// Most Teddy searchers run side by side: past that the automaton is faster.
const MAX_SEARCHERS: usize = 6;

/// Most forms the SIMD prefilter is used for: with more (a few values), its
/// candidates share first bytes with ordinary text too often, and the
/// anchors are faster.
const PREFILTER_FORMS: usize = 64;

/// Teddy over every ASCII case variant of the forms' first three bytes, in
/// groups of at most 64; `None` without SIMD support or when the variants
/// need more than [`MAX_SEARCHERS`].
fn prefix_searchers(forms: &[Vec<u8>]) -> Option<Vec<packed::Searcher>> {
    const K: usize = 3;
    const GROUP: usize = 64;
    let mut variants: Vec<[u8; K]> = Vec::new();
    let mut short: Vec<Vec<u8>> = Vec::new();
    for f in forms {
        let prefix = &f[..K.min(f.len())];
        let letters: Vec<usize> = (0..prefix.len())
            .filter(|&i| prefix[i].is_ascii_alphabetic())
            .collect();
        for mask in 0..1u32 << letters.len() {
            let mut v = [0u8; K];
            v[..prefix.len()].copy_from_slice(prefix);
            for (bit, &i) in letters.iter().enumerate() {
                if mask & (1 << bit) != 0 {
                    v[i] = v[i].to_ascii_uppercase();
                }
            }
            if prefix.len() == K {
                variants.push(v);
            } else {
                short.push(v[..prefix.len()].to_vec());
            }
        }
        if variants.len() + short.len() > 2 * GROUP * MAX_SEARCHERS {
            return None;
        }
    }
    variants.sort_unstable();
    variants.dedup();
    short.sort_unstable();
    short.dedup();
    let all: Vec<&[u8]> = short
        .iter()
        .map(Vec::as_slice)
        .chain(variants.iter().map(|v| &v[..]))
        .collect();
    if all.len() > GROUP * MAX_SEARCHERS {
        return None;
    }
    // Even groups: Teddy slows down as it nears its limit.
    let groups = all.len().div_ceil(GROUP);
    let per = all.len().div_ceil(groups);
    all.chunks(per)
        .map(|group| {
            packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostFirst)
                .builder()
                .extend(group)
                .build()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::patterns::forms_into;

    fn forms_of(values: &[&str]) -> Forms {
        let mut forms = Vec::new();
        for v in values {
            forms_into(v.as_bytes(), true, &mut forms);
        }
        for f in &mut forms {
            f.make_ascii_lowercase();
        }
        forms.sort_unstable();
        forms.dedup();
        Forms::new(forms)
    }

    const VALUES: [&str; 5] = [
        "sk_live_51H8xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ];

    /// A long text with every form, in both cases, spread through filler
    /// that shares their first bytes.
    fn text(forms: &Forms) -> Vec<u8> {
        let mut t = Vec::new();
        for (i, f) in forms.forms.iter().enumerate() {
            t.extend_from_slice(b"{\"sk\":\"c2t\",\"%7\":\"\\u00\",\"ghp\":");
            let mut f = f.clone();
            if i % 2 == 0 {
                f.make_ascii_uppercase();
            }
            // Whole, then cut short by one byte.
            t.extend_from_slice(&f);
            t.extend_from_slice(b"\",");
            t.extend_from_slice(&f[..f.len() - 1]);
            t.extend_from_slice(b"\"}\n");
        }
        t
    }

    fn all(mut find: impl FnMut(usize) -> Option<(usize, usize)>) -> Vec<(usize, usize)> {
        let mut at = 0;
        let mut out = Vec::new();
        while let Some((s, e)) = find(at) {
            out.push((s, e));
            at = e;
        }
        out
    }

    #[test]
    fn accelerated_search_finds_what_the_small_path_finds() {
        for n in [1, 2, 5] {
            let forms = forms_of(&VALUES[..n]);
            let text = text(&forms);
            let small = all(|at| forms.find(&text, at, text.len()));
            // Every whole form found (a cut one may still hold a shorter form).
            assert!(small.len() >= forms.forms.len());
            for kind in [Search::Auto, Search::Automaton, Search::Anchors] {
                let accel = Accel::new(&forms, kind);
                let mut hits = Hits::default();
                let big = all(|at| accel.find(&forms, &text, at, text.len(), &mut hits));
                assert_eq!(big, small, "{n} values, {kind:?}");
            }
        }
    }

    #[test]
    fn a_limit_stops_the_search_but_not_the_match() {
        let forms = forms_of(&["secret-value"]);
        let text = b"xx secret-value yy";
        assert_eq!(forms.find(text, 0, 3), None);
        assert_eq!(forms.find(text, 0, 4), Some((3, 15)));
        for kind in [Search::Auto, Search::Automaton, Search::Anchors] {
            let accel = Accel::new(&forms, kind);
            assert_eq!(accel.find(&forms, text, 0, 3, &mut Hits::default()), None);
            assert_eq!(
                accel.find(&forms, text, 0, 4, &mut Hits::default()),
                Some((3, 15))
            );
        }
    }

    #[test]
    fn open_suffix_matches_the_trie() {
        let forms = forms_of(&VALUES);
        let trie = PrefixTrie::new(&forms.forms);
        let text = text(&forms);
        let anchors = Accel::new(&forms, Search::Anchors);
        for end in 0..text.len() {
            let buf = &text[..end];
            assert_eq!(
                forms.open_suffix_len(buf).0,
                trie.open_suffix_len(buf),
                "{end}"
            );
            assert_eq!(
                anchors.open_suffix_len(&forms, buf),
                trie.open_suffix_len(buf),
                "{end}"
            );
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_simd_prefilter_for_a_few_forms_and_anchors_for_many() {
        if !std::arch::is_x86_feature_detected!("ssse3") {
            return;
        }
        for n in [1, 5] {
            let forms = forms_of(&VALUES[..n]);
            let accel = Accel::new(&forms, Search::Auto);
            match (&accel.search, forms.forms.len() <= PREFILTER_FORMS) {
                (AccelSearch::Prefix(_), true) | (AccelSearch::Anchors(_), false) => {}
                _ => panic!("wrong accelerator for {n} values"),
            }
        }
    }
}
