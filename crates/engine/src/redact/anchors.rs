//! Search for thousands of forms at once: sampled anchor windows.
//!
//! Every secret of a home is searched for in every response, so the form
//! set can hold tens of thousands of forms, too many for a SIMD prefilter
//! and too large for a fast automaton. Instead the forms are grouped by
//! length. In a group whose forms are at least `m` bytes long, windows of
//! `q` bytes are looked at only at positions that are multiples of
//! `stride = m - q + 1`: any occurrence of a form covers one such position
//! with a whole window inside it, at an offset below `stride` from its
//! start. So each form registers its windows at offsets `0..stride`, and a
//! scan hashes one window every `stride` bytes into a bit filter; only a
//! set bit costs a table look-up and a comparison. Forms shorter than
//! [`MIN_ANCHORED`] keep the first-byte search of [`Forms`].

use super::search::{eq_fold, Forms};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Shortest form searched by anchors.
pub(crate) const MIN_ANCHORED: usize = 8;

/// Window length in bytes (a whole `u64`).
const Q: usize = 8;

/// Filter bits per registered window. Each window sets two bits (a Bloom
/// filter with two hashes): about one false hit in 1,000 probes, so a body
/// that repeats one unlucky window (`aaaaaaaa…`) does not turn every probe
/// into a table look-up.
const BITS_PER_WINDOW: usize = 64;

/// Length classes: forms of at least 16 bytes, and of 8 to 15. Each
/// class's stride comes from its shortest form, so a home of long keys is
/// probed once every 20 bytes or more.
const GROUPS: [usize; 2] = [16, MIN_ANCHORED];

/// One length class of forms.
struct Group {
    stride: usize,
    /// Length of its shortest and its longest form.
    shortest: usize,
    longest: usize,
    /// Hash bits of the filter index.
    shift: u32,
    filter: Box<[u64]>,
    /// Folded window → (form index, offset of the window in the form).
    table: HashMap<u64, Vec<(u32, u32)>, BuildHasherDefault<WindowHasher>>,
}

/// Windows are looked up only after the filter, by their bytes: one
/// multiplication mixes them well enough, where SipHash would cost more
/// than the rest of the look-up.
#[derive(Default)]
struct WindowHasher(u64);

impl Hasher for WindowHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, w: u64) {
        self.0 = w.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    }
}

/// The anchor search over every form of at least [`MIN_ANCHORED`] bytes,
/// with the shorter ones searched by their own [`Forms`].
pub(crate) struct Anchors {
    groups: Vec<Group>,
    short: Option<Forms>,
    tails: OpenTails,
}

/// What finds the held-back tail of a chunk without walking a trie over
/// the longest form's length: every form's first window, and every proper
/// prefix shorter than a window.
struct OpenTails {
    /// First window of each form of more than [`Q`] bytes → those forms,
    /// behind a bit filter (a chunk's tail is probed at every position).
    firsts: HashMap<u64, Vec<u32>, BuildHasherDefault<WindowHasher>>,
    filter: Box<[u64]>,
    shift: u32,
    /// Proper prefixes of 1 to 7 bytes, packed with their length.
    short: std::collections::HashSet<u64, BuildHasherDefault<WindowHasher>>,
}

/// Up to seven folded bytes and their count in one word.
fn packed(bytes: &[u8]) -> u64 {
    let mut b = [0u8; Q];
    b[..bytes.len()].copy_from_slice(bytes);
    fold(u64::from_le_bytes(b) & 0x00FF_FFFF_FFFF_FFFF) | (bytes.len() as u64) << 56
}

impl OpenTails {
    fn new(forms: &[Vec<u8>]) -> OpenTails {
        let mut firsts: HashMap<u64, Vec<u32>, BuildHasherDefault<WindowHasher>> =
            HashMap::default();
        let mut short = std::collections::HashSet::default();
        for (i, f) in forms.iter().enumerate() {
            if f.len() > Q {
                firsts.entry(window(f, 0)).or_default().push(i as u32);
            }
            for n in 1..f.len().min(Q) {
                short.insert(packed(&f[..n]));
            }
        }
        let bits = (firsts.len() * BITS_PER_WINDOW)
            .next_power_of_two()
            .clamp(1 << 12, 1 << 26);
        let shift = 64 - bits.trailing_zeros();
        let mut filter = vec![0u64; bits / 64].into_boxed_slice();
        for &w in firsts.keys() {
            for s in slots(w, shift) {
                filter[s >> 6] |= 1 << (s & 63);
            }
        }
        OpenTails {
            firsts,
            filter,
            shift,
            short,
        }
    }

    /// Length of the longest suffix of `buf` that is a proper prefix of
    /// some form (0 if none). Tails at least as long as their group's
    /// shortest form are found by its anchors, a few probes in all; only the
    /// last `near` bytes are probed at every position.
    fn open_suffix_len(&self, groups: &[Group], forms: &[Vec<u8>], buf: &[u8]) -> usize {
        let end = buf.len();
        let anchored = groups
            .iter()
            .map(|g| g.open_tail(forms, buf))
            .max()
            .unwrap_or(0);
        let near = groups.iter().map(|g| g.shortest).max().unwrap_or(Q);
        // Longest first: a tail of at least a window starts with some
        // form's first window.
        let from = end.saturating_sub(near.saturating_sub(1));
        for i in from..end.saturating_sub(Q - 1).min(end - anchored) {
            let w = window(buf, i);
            if !slots(w, self.shift)
                .iter()
                .all(|&k| self.filter[k >> 6] & (1 << (k & 63)) != 0)
            {
                continue;
            }
            let Some(cands) = self.firsts.get(&w) else {
                continue;
            };
            let tail = &buf[i..];
            if cands.iter().any(|&k| {
                let f = &forms[k as usize];
                f.len() > tail.len() && eq_fold(tail, &f[..tail.len()])
            }) {
                return tail.len();
            }
        }
        if anchored > 0 {
            return anchored;
        }
        (1..Q.min(end + 1))
            .rev()
            .find(|&n| self.short.contains(&packed(&buf[end - n..])))
            .unwrap_or(0)
    }
}

/// A window's eight bytes with ASCII letters lower-cased (SWAR).
#[inline]
fn fold(w: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let low7 = w & !HI;
    let ge_a = low7.wrapping_add(LO * (0x80 - b'A' as u64));
    let gt_z = low7.wrapping_add(LO * (0x80 - b'Z' as u64 - 1));
    let upper = ge_a & !gt_z & !w & HI;
    w | (upper >> 2)
}

#[inline]
fn window(hay: &[u8], at: usize) -> u64 {
    let mut b = [0u8; Q];
    b.copy_from_slice(&hay[at..at + Q]);
    fold(u64::from_le_bytes(b))
}

#[inline]
fn slots(w: u64, shift: u32) -> [usize; 2] {
    [
        (w.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize,
        (w.wrapping_mul(0xC2B2_AE3D_27D4_EB4F) >> shift) as usize,
    ]
}

impl Group {
    fn new(forms: &[Vec<u8>], members: &[u32]) -> Group {
        let shortest = members
            .iter()
            .map(|&i| forms[i as usize].len())
            .min()
            .unwrap_or(Q);
        let longest = members
            .iter()
            .map(|&i| forms[i as usize].len())
            .max()
            .unwrap_or(Q);
        let stride = shortest - Q + 1;
        let mut table: HashMap<u64, Vec<(u32, u32)>, BuildHasherDefault<WindowHasher>> =
            HashMap::default();
        for &i in members {
            let f = &forms[i as usize];
            for off in 0..stride.min(f.len() - Q + 1) {
                table
                    .entry(window(f, off))
                    .or_default()
                    .push((i, off as u32));
            }
        }
        let bits = (table.len() * BITS_PER_WINDOW)
            .next_power_of_two()
            .clamp(1 << 12, 1 << 26);
        let shift = 64 - bits.trailing_zeros();
        let mut filter = vec![0u64; bits / 64].into_boxed_slice();
        for &w in table.keys() {
            for s in slots(w, shift) {
                filter[s >> 6] |= 1 << (s & 63);
            }
        }
        Group {
            stride,
            shortest,
            longest,
            shift,
            filter,
            table,
        }
    }

    /// Whether the window at `p` may start some form's window.
    #[inline]
    fn maybe(&self, w: u64) -> bool {
        slots(w, self.shift)
            .iter()
            .all(|&k| self.filter[k >> 6] & (1 << (k & 63)) != 0)
    }

    /// The longest suffix of `buf` that is a proper prefix of one of this
    /// group's forms, found by anchors: sure to be found when at least as
    /// long as the group's shortest form, perhaps when shorter.
    fn open_tail(&self, forms: &[Vec<u8>], buf: &[u8]) -> usize {
        let end = buf.len();
        let s = self.stride;
        let mut best = 0;
        let mut p = end.saturating_sub(self.longest - 1).div_ceil(s) * s;
        while p + Q <= end {
            let w = window(buf, p);
            if self.maybe(w) {
                for &(i, off) in self.table.get(&w).into_iter().flatten() {
                    let f = &forms[i as usize];
                    let Some(start) = p.checked_sub(off as usize) else {
                        continue;
                    };
                    let n = end - start;
                    if n > best && n < f.len() && eq_fold(&buf[start..], &f[..n]) {
                        best = n;
                    }
                }
            }
            p += s;
        }
        best
    }

    /// The leftmost-longest occurrence of this group's forms starting in
    /// `from..limit` of `hay`.
    fn find(
        &self,
        forms: &[Vec<u8>],
        hay: &[u8],
        from: usize,
        limit: usize,
    ) -> Option<(usize, usize)> {
        let s = self.stride;
        // A match starting at `a` shows at the one multiple of the stride in
        // `a..a + stride`, with its whole window inside the input.
        let mut last = limit
            .saturating_add(s - 1)
            .min(hay.len().saturating_sub(Q - 1));
        let mut p = from.div_ceil(s) * s;
        let mut best: Option<(usize, usize)> = None;
        while p < last {
            let w = window(hay, p);
            if self.maybe(w) {
                for &(i, off) in self.table.get(&w).into_iter().flatten() {
                    let Some(start) = p.checked_sub(off as usize) else {
                        continue;
                    };
                    let f = &forms[i as usize];
                    if start < from || start >= limit || start + f.len() > hay.len() {
                        continue;
                    }
                    let better = match best {
                        None => true,
                        Some((bs, be)) => start < bs || (start == bs && start + f.len() > be),
                    };
                    if better && eq_fold(&hay[start..start + f.len()], f) {
                        best = Some((start, start + f.len()));
                        // Nothing starting before it shows later than this.
                        last = last.min(start + s);
                    }
                }
            }
            p += s;
        }
        best
    }
}

impl Anchors {
    /// `forms` as for [`Forms::new`].
    pub(crate) fn new(forms: &[Vec<u8>]) -> Anchors {
        let mut groups = Vec::new();
        let mut upper = usize::MAX;
        for &shortest in &GROUPS {
            let members: Vec<u32> = (0..forms.len() as u32)
                .filter(|&i| (shortest..upper).contains(&forms[i as usize].len()))
                .collect();
            if !members.is_empty() {
                groups.push(Group::new(forms, &members));
            }
            upper = shortest;
        }
        let short: Vec<Vec<u8>> = forms
            .iter()
            .filter(|f| f.len() < MIN_ANCHORED)
            .cloned()
            .collect();
        Anchors {
            groups,
            short: (!short.is_empty()).then(|| Forms::new(short)),
            tails: OpenTails::new(forms),
        }
    }

    /// Length of the longest suffix of `buf` that is a proper prefix of
    /// some form: what a stream must hold back.
    pub(crate) fn open_suffix_len(&self, forms: &[Vec<u8>], buf: &[u8]) -> usize {
        self.tails.open_suffix_len(&self.groups, forms, buf)
    }

    /// The leftmost-longest match starting in `from..limit`; `hits` keeps
    /// what earlier calls on the same `hay` (with `from` never decreasing)
    /// found, so no part is scanned twice.
    pub(crate) fn find(
        &self,
        forms: &[Vec<u8>],
        hay: &[u8],
        from: usize,
        limit: usize,
        hits: &mut AnchorHits,
    ) -> Option<(usize, usize)> {
        if hits.0.len() != self.groups.len() + 1 {
            hits.0 = vec![Memo::default(); self.groups.len() + 1];
        }
        let mut best: Option<(usize, usize)> = None;
        for (k, memo) in hits.0.iter_mut().enumerate() {
            let found = memo.get(from, limit, || match self.groups.get(k) {
                Some(g) => g.find(forms, hay, from, limit),
                None => self.short.as_ref().and_then(|s| s.find(hay, from, limit)),
            });
            best = match (best, found) {
                (None, f) => f,
                (b, None) => b,
                (Some(b), Some(f)) => Some(if f.0 < b.0 || (f.0 == b.0 && f.1 > b.1) {
                    f
                } else {
                    b
                }),
            };
        }
        best
    }
}

/// Per group, the answer of its last search and the range it covered.
#[derive(Clone, Copy, Default)]
struct Memo {
    from: usize,
    limit: usize,
    found: Option<(usize, usize)>,
    valid: bool,
}

impl Memo {
    /// The group's leftmost-longest match in `from..limit`, from the last
    /// answer when it still holds.
    fn get(
        &mut self,
        from: usize,
        limit: usize,
        search: impl FnOnce() -> Option<(usize, usize)>,
    ) -> Option<(usize, usize)> {
        let holds = self.valid
            && from >= self.from
            && match self.found {
                Some((s, _)) => s >= from && (s < limit || limit <= self.limit),
                None => limit <= self.limit,
            };
        if holds {
            return self.found.filter(|&(s, _)| s < limit);
        }
        let found = search();
        *self = Memo {
            from,
            limit,
            found,
            valid: true,
        };
        found
    }
}

/// What [`Anchors::find`] remembers between calls on one input.
#[derive(Default)]
pub(crate) struct AnchorHits(Vec<Memo>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_lowers_letters_only() {
        for b in 0..=255u8 {
            let w = u64::from_le_bytes([b, b'A', b'z', b'@', b'[', 0xC1, b'Z', b'`']);
            let f = fold(w).to_le_bytes();
            assert_eq!(f[0], b.to_ascii_lowercase(), "{b}");
            assert_eq!(&f[1..], &[b'a', b'z', b'@', b'[', 0xC1, b'z', b'`']);
        }
    }

    fn sorted(forms: &[&str]) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = forms.iter().map(|f| f.as_bytes().to_vec()).collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn finds_the_leftmost_longest_of_every_length_class() {
        let forms = sorted(&[
            "abc",
            "0123456789",
            "0123456789abcdefghij",
            "x-y-z-w-v-u-t-s-r-q-p-o-n-m-l-k-j-i",
        ]);
        let a = Anchors::new(&forms);
        let hay = b"..ABC..0123456789ABCDEFGHIJ..X-Y-Z-W-V-U-T-S-R-Q-P-O-N-M-L-K-J-I..0123456789.";
        let mut hits = AnchorHits::default();
        let mut at = 0;
        let mut found = Vec::new();
        while let Some((s, e)) = a.find(&forms, hay, at, hay.len(), &mut hits) {
            found.push(String::from_utf8_lossy(&hay[s..e]).into_owned());
            at = e;
        }
        assert_eq!(
            found,
            [
                "ABC",
                "0123456789ABCDEFGHIJ",
                "X-Y-Z-W-V-U-T-S-R-Q-P-O-N-M-L-K-J-I",
                "0123456789"
            ]
        );
    }
}
