//! Blocks: the symbol buffer, Huffman trees built the way zlib builds them
//! (a binary heap ordered by frequency then depth, lengths limited by
//! moving leaves down, canonical codes), and the choice between a stored,
//! a static and a dynamic block by their exact bit costs.

use super::bits::{BitWriter, reverse};
use super::tables::{dist_base, dist_code, dist_extra, length_base, length_code, length_extra};

const LITERALS: usize = 256;
const END_BLOCK: usize = 256;
const L_CODES: usize = LITERALS + 1 + 29;
const D_CODES: usize = 30;
const BL_CODES: usize = 19;
const HEAP_SIZE: usize = 2 * L_CODES + 1;
const MAX_BITS: usize = 15;
const MAX_BL_BITS: usize = 7;
const REP_3_6: usize = 16;
const REPZ_3_10: usize = 17;
const REPZ_11_138: usize = 18;
/// The order code-length code lengths are sent in (RFC 1951 §3.2.7).
const BL_ORDER: [usize; BL_CODES] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// One Huffman tree with room for its internal nodes.
struct Tree {
    freq: Vec<u32>,
    len: Vec<u16>,
    code: Vec<u16>,
    dad: Vec<u16>,
    max_code: isize,
}

impl Tree {
    fn new(nodes: usize) -> Self {
        Tree {
            freq: vec![0; nodes],
            len: vec![0; nodes],
            code: vec![0; nodes],
            dad: vec![0; nodes],
            max_code: 0,
        }
    }
}

/// What differs between the literal/length, distance and bit-length trees.
struct Desc {
    elems: usize,
    extra_base: usize,
    max_length: usize,
    extra: fn(usize) -> u32,
}

const L_DESC: Desc = Desc {
    elems: L_CODES,
    extra_base: LITERALS + 1,
    max_length: MAX_BITS,
    extra: length_extra,
};
const D_DESC: Desc = Desc {
    elems: D_CODES,
    extra_base: 0,
    max_length: MAX_BITS,
    extra: dist_extra,
};
const BL_DESC: Desc = Desc {
    elems: BL_CODES,
    extra_base: 0,
    max_length: MAX_BL_BITS,
    extra: bl_extra,
};

fn bl_extra(code: usize) -> u32 {
    match code {
        REP_3_6 => 2,
        REPZ_3_10 => 3,
        REPZ_11_138 => 7,
        _ => 0,
    }
}

/// The fixed trees of RFC 1951 §3.2.6: (code, length) per symbol.
struct Static {
    ltree: Vec<(u16, u16)>,
    dtree: Vec<(u16, u16)>,
}

impl Static {
    fn new() -> Self {
        let lens: Vec<u16> = (0..L_CODES + 2)
            .map(|n| match n {
                0..=143 => 8,
                144..=255 => 9,
                256..=279 => 7,
                _ => 8,
            })
            .collect();
        let mut count = [0u16; MAX_BITS + 1];
        for &l in &lens {
            count[l as usize] += 1;
        }
        let codes = canonical_codes(&lens, &count);
        Static {
            ltree: codes.into_iter().zip(lens).collect(),
            dtree: (0..D_CODES)
                .map(|n| (reverse(n as u32, 5) as u16, 5))
                .collect(),
        }
    }
}

/// Canonical (RFC 1951 §3.2.2) codes for `lens`, bit-reversed for sending.
fn canonical_codes(lens: &[u16], count: &[u16; MAX_BITS + 1]) -> Vec<u16> {
    let mut next = [0u32; MAX_BITS + 1];
    let mut code = 0u32;
    for bits in 1..=MAX_BITS {
        code = (code + u32::from(count[bits - 1])) << 1;
        next[bits] = code;
    }
    lens.iter()
        .map(|&l| {
            if l == 0 {
                0
            } else {
                let c = next[l as usize];
                next[l as usize] += 1;
                reverse(c, u32::from(l)) as u16
            }
        })
        .collect()
}

/// Symbols of the current block and the bit stream written so far.
pub(crate) struct Blocks {
    /// (distance, length - 3 or the literal); distance 0 for a literal.
    syms: Vec<(u16, u8)>,
    sym_end: usize,
    ltree: Tree,
    dtree: Tree,
    bltree: Tree,
    heap: Vec<usize>,
    heap_len: usize,
    heap_max: usize,
    depth: Vec<u8>,
    bl_count: [u16; MAX_BITS + 1],
    opt_len: i64,
    static_len: i64,
    fixed: Static,
    pub(crate) out: BitWriter,
}

impl Blocks {
    /// `lit_bufsize` symbols of room; a block ends after `lit_bufsize - 1`.
    pub(crate) fn new(lit_bufsize: usize, out_capacity: usize) -> Self {
        let mut b = Blocks {
            syms: Vec::with_capacity(lit_bufsize),
            sym_end: lit_bufsize - 1,
            ltree: Tree::new(HEAP_SIZE),
            dtree: Tree::new(2 * D_CODES + 1),
            bltree: Tree::new(2 * BL_CODES + 1),
            heap: vec![0; HEAP_SIZE],
            heap_len: 0,
            heap_max: 0,
            depth: vec![0; HEAP_SIZE],
            bl_count: [0; MAX_BITS + 1],
            opt_len: 0,
            static_len: 0,
            fixed: Static::new(),
            out: BitWriter::new(out_capacity),
        };
        b.init_block();
        b
    }

    fn init_block(&mut self) {
        self.ltree.freq[..L_CODES].fill(0);
        self.dtree.freq[..D_CODES].fill(0);
        self.bltree.freq[..BL_CODES].fill(0);
        self.ltree.freq[END_BLOCK] = 1;
        self.opt_len = 0;
        self.static_len = 0;
        self.syms.clear();
    }

    /// Records a literal; true when the block is full.
    #[inline]
    pub(crate) fn literal(&mut self, c: u8) -> bool {
        self.syms.push((0, c));
        self.ltree.freq[usize::from(c)] += 1;
        self.syms.len() == self.sym_end
    }

    /// Records a match of `len` (3..=258) bytes `dist` (1..=32768) back;
    /// true when the block is full.
    #[inline]
    pub(crate) fn matched(&mut self, dist: usize, len: usize) -> bool {
        let lc = len - 3;
        self.syms.push((dist as u16, lc as u8));
        self.ltree.freq[length_code(lc) + LITERALS + 1] += 1;
        self.dtree.freq[dist_code(dist - 1)] += 1;
        self.syms.len() == self.sym_end
    }

    fn smaller(freq: &[u32], depth: &[u8], n: usize, m: usize) -> bool {
        freq[n] < freq[m] || (freq[n] == freq[m] && depth[n] <= depth[m])
    }

    /// Sifts `heap[k]` down; the heap is 1-based, least frequent at the top.
    fn down_heap(&mut self, tree: &Tree, mut k: usize) {
        let v = self.heap[k];
        let mut j = k << 1;
        while j <= self.heap_len {
            if j < self.heap_len
                && Self::smaller(&tree.freq, &self.depth, self.heap[j + 1], self.heap[j])
            {
                j += 1;
            }
            if Self::smaller(&tree.freq, &self.depth, v, self.heap[j]) {
                break;
            }
            self.heap[k] = self.heap[j];
            k = j;
            j <<= 1;
        }
        self.heap[k] = v;
    }

    /// Builds `tree` from its frequencies: code lengths, codes, `max_code`,
    /// and adds the block's cost with this tree (and with the static one) to
    /// `opt_len` (`static_len`).
    fn build_tree(&mut self, tree: &mut Tree, desc: &Desc, stree: Option<&[(u16, u16)]>) {
        let elems = desc.elems;
        let mut max_code: isize = -1;
        self.heap_len = 0;
        self.heap_max = HEAP_SIZE;
        for n in 0..elems {
            if tree.freq[n] != 0 {
                self.heap_len += 1;
                self.heap[self.heap_len] = n;
                max_code = n as isize;
                self.depth[n] = 0;
            } else {
                tree.len[n] = 0;
            }
        }
        // A code needs two symbols at least: add fake ones of frequency 1.
        while self.heap_len < 2 {
            let node = if max_code < 2 {
                max_code += 1;
                max_code as usize
            } else {
                0
            };
            self.heap_len += 1;
            self.heap[self.heap_len] = node;
            tree.freq[node] = 1;
            self.depth[node] = 0;
            self.opt_len -= 1;
            if let Some(s) = stree {
                self.static_len -= i64::from(s[node].1);
            }
        }
        tree.max_code = max_code;
        for n in (1..=self.heap_len / 2).rev() {
            self.down_heap(tree, n);
        }
        let mut node = elems;
        loop {
            let n = self.heap[1];
            self.heap[1] = self.heap[self.heap_len];
            self.heap_len -= 1;
            self.down_heap(tree, 1);
            let m = self.heap[1];
            self.heap_max -= 1;
            self.heap[self.heap_max] = n;
            self.heap_max -= 1;
            self.heap[self.heap_max] = m;
            tree.freq[node] = tree.freq[n] + tree.freq[m];
            self.depth[node] = self.depth[n].max(self.depth[m]) + 1;
            tree.dad[n] = node as u16;
            tree.dad[m] = node as u16;
            self.heap[1] = node;
            node += 1;
            self.down_heap(tree, 1);
            if self.heap_len < 2 {
                break;
            }
        }
        self.heap_max -= 1;
        self.heap[self.heap_max] = self.heap[1];
        self.gen_bitlen(tree, desc, stree);
        let lens = &tree.len[..=max_code as usize];
        let codes = canonical_codes(lens, &self.bl_count);
        tree.code[..codes.len()].copy_from_slice(&codes);
    }

    /// Code lengths from the tree in `heap[heap_max..]`, limited to
    /// `desc.max_length` by zlib's method (a leaf one level down moves two
    /// overlong leaves up), then reassigned to leaves by frequency order.
    fn gen_bitlen(&mut self, tree: &mut Tree, desc: &Desc, stree: Option<&[(u16, u16)]>) {
        let max_code = tree.max_code;
        let max_length = desc.max_length;
        self.bl_count = [0; MAX_BITS + 1];
        let mut len_of = vec![0u16; tree.len.len()];
        len_of[self.heap[self.heap_max]] = 0;
        let mut overflow = 0i32;
        let mut h = self.heap_max + 1;
        while h < HEAP_SIZE {
            let n = self.heap[h];
            let mut bits = usize::from(len_of[usize::from(tree.dad[n])]) + 1;
            if bits > max_length {
                bits = max_length;
                overflow += 1;
            }
            len_of[n] = bits as u16;
            h += 1;
            if n as isize > max_code {
                continue;
            }
            tree.len[n] = bits as u16;
            self.bl_count[bits] += 1;
            let xbits = if n >= desc.extra_base {
                (desc.extra)(n - desc.extra_base)
            } else {
                0
            };
            let f = i64::from(tree.freq[n]);
            self.opt_len += f * (bits as i64 + i64::from(xbits));
            if let Some(s) = stree {
                self.static_len += f * (i64::from(s[n].1) + i64::from(xbits));
            }
        }
        if overflow == 0 {
            return;
        }
        loop {
            let mut bits = max_length - 1;
            while self.bl_count[bits] == 0 {
                bits -= 1;
            }
            self.bl_count[bits] -= 1;
            self.bl_count[bits + 1] += 2;
            self.bl_count[max_length] -= 1;
            overflow -= 2;
            if overflow <= 0 {
                break;
            }
        }
        let mut h = HEAP_SIZE;
        for bits in (1..=max_length).rev() {
            let mut n = self.bl_count[bits];
            while n != 0 {
                h -= 1;
                let m = self.heap[h];
                if m as isize > max_code {
                    continue;
                }
                if usize::from(tree.len[m]) != bits {
                    self.opt_len +=
                        (bits as i64 - i64::from(tree.len[m])) * i64::from(tree.freq[m]);
                    tree.len[m] = bits as u16;
                }
                n -= 1;
            }
        }
    }

    /// Runs of code lengths in `lens` (with a sentinel after the last), as
    /// RFC 1951 §3.2.7 codes them: (length or repeat code, count).
    fn length_runs(lens: &[u16], mut each: impl FnMut(usize, usize, usize)) {
        // each(code, extra value, previous length) for every emitted code.
        let mut prevlen: isize = -1;
        let mut nextlen = lens[0] as isize;
        let mut count = 0usize;
        let (mut max_count, mut min_count) = if nextlen == 0 { (138, 3) } else { (7, 4) };
        for n in 0..lens.len() {
            let curlen = nextlen;
            nextlen = if n + 1 < lens.len() {
                lens[n + 1] as isize
            } else {
                -1 // guard
            };
            count += 1;
            if count < max_count && curlen == nextlen {
                continue;
            } else if count < min_count {
                for _ in 0..count {
                    each(curlen as usize, usize::MAX, 0);
                }
            } else if curlen != 0 {
                if curlen != prevlen {
                    each(curlen as usize, usize::MAX, 0);
                    count -= 1;
                }
                each(REP_3_6, count - 3, 2);
            } else if count <= 10 {
                each(REPZ_3_10, count - 3, 3);
            } else {
                each(REPZ_11_138, count - 11, 7);
            }
            count = 0;
            prevlen = curlen;
            if nextlen == 0 {
                (max_count, min_count) = (138, 3);
            } else if curlen == nextlen {
                (max_count, min_count) = (6, 3);
            } else {
                (max_count, min_count) = (7, 4);
            }
        }
    }

    /// Builds the bit-length tree; returns the index in BL_ORDER of the last
    /// length to send.
    fn build_bl_tree(&mut self) -> usize {
        let mut bl = std::mem::replace(&mut self.bltree, Tree::new(0));
        for tree in [&self.ltree, &self.dtree] {
            let lens = &tree.len[..=tree.max_code as usize];
            Self::length_runs(lens, |code, _, _| bl.freq[code] += 1);
        }
        self.build_tree(&mut bl, &BL_DESC, None);
        let mut max_blindex = BL_CODES - 1;
        while max_blindex >= 3 && bl.len[BL_ORDER[max_blindex]] == 0 {
            max_blindex -= 1;
        }
        self.opt_len += 3 * (max_blindex as i64 + 1) + 5 + 5 + 4;
        self.bltree = bl;
        max_blindex
    }

    fn send_tree(out: &mut BitWriter, bl: &Tree, lens: &[u16]) {
        Self::length_runs(lens, |code, extra, nbits| {
            out.put(u32::from(bl.code[code]), u32::from(bl.len[code]));
            if extra != usize::MAX {
                out.put(extra as u32, nbits as u32);
            }
        });
    }

    fn compress_block(&mut self, ltree: &[(u16, u16)], dtree: &[(u16, u16)]) {
        let out = &mut self.out;
        for &(dist, lc) in &self.syms {
            let lc = usize::from(lc);
            if dist == 0 {
                let (c, l) = ltree[lc];
                out.put(u32::from(c), u32::from(l));
            } else {
                let code = length_code(lc);
                let (c, l) = ltree[code + LITERALS + 1];
                out.put(u32::from(c), u32::from(l));
                let extra = length_extra(code);
                if extra != 0 {
                    out.put((lc - length_base(code)) as u32, extra);
                }
                let d = usize::from(dist) - 1;
                let code = dist_code(d);
                let (c, l) = dtree[code];
                out.put(u32::from(c), u32::from(l));
                let extra = dist_extra(code);
                if extra != 0 {
                    out.put((d - dist_base(code)) as u32, extra);
                }
            }
        }
        let (c, l) = ltree[END_BLOCK];
        out.put(u32::from(c), u32::from(l));
    }

    /// Ends the block holding `stored_len` bytes (`data`, when they are
    /// still in the window) with whichever of stored, static or dynamic
    /// coding is smallest, zlib's tie-breaks included.
    pub(crate) fn flush(&mut self, data: Option<&[u8]>, stored_len: usize, last: bool) {
        let mut ltree = std::mem::replace(&mut self.ltree, Tree::new(0));
        let mut dtree = std::mem::replace(&mut self.dtree, Tree::new(0));
        let fixed = std::mem::replace(
            &mut self.fixed,
            Static {
                ltree: Vec::new(),
                dtree: Vec::new(),
            },
        );
        self.build_tree(&mut ltree, &L_DESC, Some(&fixed.ltree));
        self.build_tree(&mut dtree, &D_DESC, Some(&fixed.dtree));
        self.ltree = ltree;
        self.dtree = dtree;
        let max_blindex = self.build_bl_tree();
        let mut opt_lenb = (self.opt_len + 3 + 7) >> 3;
        let static_lenb = (self.static_len + 3 + 7) >> 3;
        if static_lenb <= opt_lenb {
            opt_lenb = static_lenb;
        }
        let last_bit = u32::from(last);
        match data {
            Some(bytes) if stored_len as i64 + 4 <= opt_lenb => {
                self.out.put(last_bit, 3);
                self.out.align();
                let len = stored_len as u16;
                self.out.put(u32::from(len), 16);
                self.out.put(u32::from(!len), 16);
                self.out.put_bytes(&bytes[..stored_len]);
            }
            _ if static_lenb == opt_lenb => {
                self.out.put(2 + last_bit, 3);
                self.compress_block(&fixed.ltree, &fixed.dtree);
            }
            _ => {
                self.out.put(4 + last_bit, 3);
                let lcodes = self.ltree.max_code as usize + 1;
                let dcodes = self.dtree.max_code as usize + 1;
                self.out.put((lcodes - 257) as u32, 5);
                self.out.put((dcodes - 1) as u32, 5);
                self.out.put((max_blindex + 1 - 4) as u32, 4);
                for &o in &BL_ORDER[..=max_blindex] {
                    self.out.put(u32::from(self.bltree.len[o]), 3);
                }
                Self::send_tree(&mut self.out, &self.bltree, &self.ltree.len[..lcodes]);
                Self::send_tree(&mut self.out, &self.bltree, &self.dtree.len[..dcodes]);
                let lt: Vec<(u16, u16)> = (0..L_CODES)
                    .map(|n| (self.ltree.code[n], self.ltree.len[n]))
                    .collect();
                let dt: Vec<(u16, u16)> = (0..D_CODES)
                    .map(|n| (self.dtree.code[n], self.dtree.len[n]))
                    .collect();
                self.compress_block(&lt, &dt);
            }
        }
        self.fixed = fixed;
        self.init_block();
        if last {
            self.out.align();
        }
    }
}
