//! Random sequences of operations against a model of what must be stored.
//!
//! Operations: install an asset of a small pool (raw and deflate; one content
//! in both encodings, as a new build changing the codec would ship it), whole
//! or stopped part way, finished or not; mark_handled; gc through a manifest
//! of a random keep set; compact; remount. Any of them can have the power
//! cut after a random number of flash operations (`Chip::cut_at`, not
//! applied / prefix / garbage), after which the device reboots: remount.
//!
//! The model (a `BTreeMap` of committed SHA-256s to handled flags, exact but
//! for what a cut operation may or may not have done) is checked after every
//! step and every remount: the committed set holds every acknowledged asset
//! and only assets ever offered; acknowledged handled flags are set; after a
//! cut, every difference is one the cut operation could make (a gc's drop, an
//! install's commit, a mark_handled's flag; a compaction none), and nothing
//! else; `missing` and `pending` of both manifests and `contains` agree;
//! `check_invariants` holds; a remount with no cut lists the same extents; an
//! install never asks again for bytes the store already reported safe (its
//! `resume_offset` never goes back for the same asset unless a gc could drop
//! it, covers every block a returned `write` completed, and never passes
//! what was sent).
//!
//! `PROPTEST_CASES` sets the number of cases (128 by default; about 0.4 s in a
//! debug build, 10,000 in about 30 s).

#![cfg(feature = "deflate")]

mod sim;

use std::collections::{BTreeMap, BTreeSet};

use assetota::Manifest;
use assetota_store::{Error, Layout, Scratch, Store};
use proptest::prelude::*;
use sim::*;

type Flash = SimFlash<4, 256>;
type Sha = [u8; 32];
const BLOCKS: u32 = 24;
const SIZE: u32 = BLOCKS * 256;
const MAX: usize = 8;

/// The pool: 28 blocks if all were stored (the partition has 24), so space
/// runs out, fragments and needs compaction. 6 and 7 are one content in two
/// encodings.
fn pool() -> Vec<TestAsset> {
    let g = bytes(7, 1200, false);
    vec![
        TestAsset::deflated("a.txt", bytes(1, 2500, true), 9),
        TestAsset::stored_raw("b.bin", bytes(2, 700, false)),
        TestAsset::deflated("c.txt", bytes(3, 6000, true), 12),
        TestAsset::stored_raw("d.bin", bytes(4, 60, false)),
        TestAsset::deflated("e", Vec::new(), 9),
        TestAsset::stored_raw("f.bin", bytes(5, 1800, false)),
        TestAsset::deflated("g.bin", g.clone(), 12),
        TestAsset::stored_raw("g.bin", g),
    ]
}

/// The running firmware's manifest lists 0–6, the next build's 0–5 and 7.
fn firmware(pool: &[TestAsset], next: bool) -> Vec<u8> {
    let skip = if next { 6 } else { 7 };
    let assets: Vec<&TestAsset> = (0..pool.len())
        .filter(|&i| i != skip)
        .map(|i| &pool[i])
        .collect();
    manifest(&assets)
}

#[derive(Debug, Clone, Copy)]
struct Cut {
    /// Flash operations (writes and erases) into the step.
    after: u64,
    torn: Torn,
}

#[derive(Debug, Clone)]
enum Op {
    Install {
        asset: usize,
        chunk: usize,
        /// Send only this many thousandths of the payload.
        stop: Option<u16>,
        finish: bool,
        cut: Option<Cut>,
    },
    MarkHandled {
        asset: usize,
        cut: Option<Cut>,
    },
    /// gc keeping the pool assets whose bit is set.
    Gc {
        keep: u8,
        cut: Option<Cut>,
    },
    Compact {
        cut: Option<Cut>,
    },
    Remount,
}

fn cut() -> impl Strategy<Value = Option<Cut>> {
    prop::option::weighted(
        0.35,
        (
            prop_oneof![1u64..6, 6u64..48],
            prop::sample::select(TORN.to_vec()),
        )
            .prop_map(|(after, torn)| Cut { after, torn }),
    )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (
            0..8usize,
            prop_oneof![1..40usize, 40..400usize, Just(100_000)],
            prop::option::weighted(0.4, 0u16..1000),
            prop::bool::weighted(0.85),
            cut(),
        )
            .prop_map(|(asset, chunk, stop, finish, cut)| Op::Install {
                asset,
                chunk,
                stop,
                finish,
                cut
            }),
        2 => (0..8usize, cut()).prop_map(|(asset, cut)| Op::MarkHandled { asset, cut }),
        // Each asset kept with probability 3/4.
        2 => (any::<u8>(), any::<u8>(), cut()).prop_map(|(a, b, cut)| Op::Gc { keep: a | b, cut }),
        1 => cut().prop_map(|cut| Op::Compact { cut }),
        1 => Just(Op::Remount),
    ]
}

/// What must be stored. Exact, except right after a cut: then `maybe` holds
/// what the cut operation may have committed or dropped (with the handled
/// flag it has if it is there) and `maybe_handled` what it may have marked;
/// the remount after the cut settles both from the store.
#[derive(Debug, Default)]
struct Model {
    committed: BTreeMap<Sha, bool>,
    maybe: BTreeMap<Sha, bool>,
    maybe_handled: BTreeSet<Sha>,
    /// Every SHA-256 an install was started for.
    ever: BTreeSet<Sha>,
    /// Per pool asset: payload bytes the store reported safe (a resume
    /// offset, or the blocks a returned `write` completed), while its
    /// partial install is surely on flash.
    safe: BTreeMap<usize, u64>,
    /// Per pool asset: the furthest payload offset ever sent.
    sent: BTreeMap<usize, u64>,
}

struct Run {
    pool: Vec<TestAsset>,
    corpus: BTreeMap<Sha, Vec<u8>>,
    manifests: [Vec<u8>; 2],
    flash: Flash,
    store: Option<Store<Flash, MAX>>,
    scratch: Box<Scratch<4096>>,
    model: Model,
    layout: Layout,
    /// Cuts that fired, remounts, resumes from a nonzero offset, commits,
    /// refusals for space or table, compactions that moved something.
    stats: [u32; 6],
}

/// Bytes of the payload held by the blocks of its extent that a write
/// completed up to `pos` (their DONE word written): what a resume after a
/// cut must not ask for again.
fn completed(layout: &Layout, payload_len: u64, pos: u64) -> u64 {
    let blocks = layout.blocks_for(payload_len);
    let mut safe = 0;
    for k in 1..blocks {
        let held = u64::from(layout.head_payload()) + (k - 1) * u64::from(layout.block_payload());
        if held <= pos {
            safe = held;
        }
    }
    safe
}

impl Run {
    fn new() -> Self {
        let pool = pool();
        let corpus = pool.iter().map(|a| (a.id.sha256, a.raw.clone())).collect();
        let manifests = [firmware(&pool, false), firmware(&pool, true)];
        let flash = Flash::new(SIZE as usize);
        let store = Store::mount(flash.clone(), 0..SIZE).unwrap();
        Run {
            layout: store.layout(),
            pool,
            corpus,
            manifests,
            flash,
            store: Some(store),
            scratch: Box::new(Scratch::new()),
            model: Model::default(),
            stats: [0; 6],
        }
    }

    fn store(&mut self) -> &mut Store<Flash, MAX> {
        self.store.as_mut().unwrap()
    }

    fn arm(&self, cut: Option<Cut>) {
        if let Some(c) = cut {
            self.flash.chip.borrow_mut().cut_at(c.after, c.torn);
        }
    }

    fn is_cut(&self) -> bool {
        self.flash.chip.borrow().is_dead()
    }

    fn step(&mut self, op: &Op) {
        match *op {
            Op::Install {
                asset,
                chunk,
                stop,
                finish,
                cut,
            } => self.install(asset, chunk, stop, finish, cut),
            Op::MarkHandled { asset, cut } => self.mark_handled(asset, cut),
            Op::Gc { keep, cut } => self.gc(keep, cut),
            Op::Compact { cut } => self.compact(cut),
            Op::Remount => self.remount(false),
        }
        if self.is_cut() {
            self.stats[0] += 1;
            self.remount(true);
        } else {
            // A cut armed past the step's last operation does not fire later.
            self.flash.chip.borrow_mut().power_on();
        }
        self.check();
    }

    fn install(
        &mut self,
        i: usize,
        chunk: usize,
        stop: Option<u16>,
        finish: bool,
        cut: Option<Cut>,
    ) {
        let a = self.pool[i].clone();
        let sha = a.id.sha256;
        let plen = a.id.payload_len;
        // Another encoding's partial install of the same content is dropped.
        for (j, other) in self.pool.iter().enumerate() {
            if j != i && other.id.sha256 == sha {
                self.model.safe.remove(&j);
            }
        }
        self.model.ever.insert(sha);
        let stored = self.model.committed.contains_key(&sha);
        self.arm(cut);
        let layout = self.layout;
        let mut finish_called = false;
        // Ok(true): finish committed (or found it stored).
        let result = (|| -> Res<bool> {
            let store = self.store.as_mut().unwrap();
            let mut inst = store.install(a.id)?;
            let r = inst.resume_offset();
            assert_eq!(inst.is_stored(), stored, "{}: is_stored", a.name);
            if stored {
                assert_eq!(r, plen);
            } else {
                let safe = self.model.safe.get(&i).copied().unwrap_or(0);
                let sent = self.model.sent.get(&i).copied().unwrap_or(0);
                assert!(
                    r >= safe,
                    "{}: resume at {r}, the store reported {safe} safe",
                    a.name
                );
                assert!(r <= sent, "{}: resume at {r}, only {sent} sent", a.name);
                if r > 0 {
                    self.stats[2] += 1;
                }
                self.model.safe.insert(i, safe.max(r));
            }
            let until = stop.map_or(plen, |s| plen * u64::from(s) / 1000);
            let mut off = r;
            while off < until {
                let end = (off + chunk as u64).min(until);
                let sent = self.model.sent.entry(i).or_insert(0);
                *sent = (*sent).max(end);
                inst.write(off, &a.payload[off as usize..end as usize])?;
                off = end;
                let safe = self.model.safe.entry(i).or_insert(0);
                *safe = (*safe).max(completed(&layout, plen, off));
            }
            if !finish {
                return Ok(false);
            }
            finish_called = true;
            match inst.finish(&mut self.scratch) {
                Err(Error::Short { expected, received }) => {
                    assert!(off < plen && !stored);
                    assert_eq!((expected, received), (plen, off));
                    Ok(false)
                }
                other => {
                    assert!(
                        off >= plen || stored,
                        "finish of a short payload: {other:?}"
                    );
                    other.map(|()| true)
                }
            }
        })();
        match result {
            Ok(true) => {
                self.stats[3] += 1;
                let handled = self.model.committed.get(&sha).copied().unwrap_or(false);
                self.model.committed.insert(sha, handled);
                self.model.safe.remove(&i);
                assert!(self.store().contains(&sha));
            }
            Ok(false) => {}
            Err(Error::NoSpace { .. } | Error::TableFull { .. }) => {
                self.stats[4] += 1;
                assert!(!stored);
            }
            Err(Error::Flash(SimError::Cut)) => {
                assert!(self.is_cut());
                if finish_called && !stored {
                    self.model.maybe.insert(sha, false);
                }
            }
            Err(e) => panic!("install {}: {e:?}", a.name),
        }
    }

    fn mark_handled(&mut self, i: usize, cut: Option<Cut>) {
        let sha = self.pool[i].id.sha256;
        self.arm(cut);
        match self.store().mark_handled(&sha) {
            Ok(()) => {
                assert!(
                    self.model.committed.contains_key(&sha),
                    "marked an asset not stored"
                );
                self.model.committed.insert(sha, true);
            }
            Err(Error::NotStored) => assert!(!self.model.committed.contains_key(&sha)),
            Err(Error::Flash(SimError::Cut)) => {
                self.model.maybe_handled.insert(sha);
            }
            Err(e) => panic!("mark_handled: {e:?}"),
        }
    }

    fn gc(&mut self, mask: u8, cut: Option<Cut>) {
        let mut kept: Vec<&TestAsset> = Vec::new();
        for (i, a) in self.pool.iter().enumerate() {
            if mask & (1 << i) != 0 && !kept.iter().any(|k| k.id.sha256 == a.id.sha256) {
                kept.push(a);
            }
        }
        let keep: BTreeSet<Sha> = kept.iter().map(|a| a.id.sha256).collect();
        let bytes = manifest(&kept);
        let m = Manifest::parse(&bytes).unwrap();
        self.arm(cut);
        let used = self.store().used();
        let res = self.store.as_mut().unwrap().gc(&[m]);
        // What gc was not told to keep may be gone, partial installs included.
        let pool = &self.pool;
        self.model
            .safe
            .retain(|&i, _| keep.contains(&pool[i].id.sha256));
        match res {
            Ok(freed) => {
                self.model.committed.retain(|sha, _| keep.contains(sha));
                assert_eq!(used - self.store().used(), u64::from(freed) * 256);
                assert!(self.store().extents().all(|e| keep.contains(&e.sha256)));
            }
            Err(Error::Flash(SimError::Cut)) => {
                let dropped: Vec<(Sha, bool)> = self
                    .model
                    .committed
                    .iter()
                    .filter(|(sha, _)| !keep.contains(*sha))
                    .map(|(s, h)| (*s, *h))
                    .collect();
                for (sha, h) in dropped {
                    self.model.committed.remove(&sha);
                    self.model.maybe.insert(sha, h);
                }
            }
            Err(e) => panic!("gc: {e:?}"),
        }
    }

    fn compact(&mut self, cut: Option<Cut>) {
        self.arm(cut);
        let before = state(self.store());
        let res = self.store.as_mut().unwrap().compact(&mut self.scratch);
        match res {
            Ok(moved) => {
                self.stats[5] += u32::from(moved > 0);
                assert_eq!(
                    state(self.store()),
                    before,
                    "compact changed what is stored"
                );
                // No committed extent has a free run below it long enough to move to.
                let extents: Vec<_> = self.store().extents().collect();
                let mut gaps = Vec::new();
                let mut end = 0;
                for e in &extents {
                    gaps.push(end..e.first_block);
                    end = e.first_block + e.blocks;
                }
                for e in extents.iter().filter(|e| e.committed) {
                    assert!(
                        !gaps
                            .iter()
                            .any(|g| g.end <= e.first_block && g.end - g.start >= e.blocks),
                        "compact left room below {e:?}: {extents:?}"
                    );
                }
            }
            // A cut compaction changes nothing either: the remount checks it.
            Err(Error::Flash(SimError::Cut)) => {}
            Err(e) => panic!("compact: {e:?}"),
        }
    }

    /// Reboot: mount the flash again. Without a cut the table must be what
    /// the store listed; after one, the model settles what the cut made
    /// uncertain.
    fn remount(&mut self, after_cut: bool) {
        self.stats[1] += 1;
        let before: Vec<_> = self.store().extents().collect();
        drop(self.store.take());
        self.flash.chip.borrow_mut().power_on();
        let mut store = Store::<_, MAX>::mount(self.flash.clone(), 0..SIZE)
            .unwrap_or_else(|e| panic!("remount: {e:?}"));
        if !after_cut {
            assert_eq!(store.extents().collect::<Vec<_>>(), before, "remount");
        }
        let now = state(&store);
        let m = &mut self.model;
        for (sha, &handled) in &now {
            assert!(m.ever.contains(sha), "a committed asset never installed");
            let want = m.committed.get(sha).or_else(|| m.maybe.get(sha));
            let want = *want.unwrap_or_else(|| panic!("committed by no operation: {sha:02x?}"));
            assert!(
                handled == want || m.maybe_handled.contains(sha),
                "handled flag {handled}, want {want}"
            );
        }
        for sha in m.committed.keys() {
            assert!(now.contains_key(sha), "an acknowledged asset is gone");
        }
        m.committed = now;
        m.maybe.clear();
        m.maybe_handled.clear();
        check_invariants(&mut store, &self.corpus, &mut self.scratch).unwrap();
        self.store = Some(store);
    }

    /// After every step: the store agrees with the (exact) model.
    fn check(&mut self) {
        assert!(self.model.maybe.is_empty() && self.model.maybe_handled.is_empty());
        let store = self.store.as_mut().unwrap();
        assert_eq!(state(store), self.model.committed, "committed set");
        for e in store.extents() {
            assert!(self.model.ever.contains(&e.sha256), "{e:?} never installed");
        }
        for (i, a) in self.pool.iter().enumerate() {
            let sha = &a.id.sha256;
            assert_eq!(
                store.contains(sha),
                self.model.committed.contains_key(sha),
                "{i}"
            );
        }
        for bytes in &self.manifests {
            let m = Manifest::parse(bytes).unwrap();
            let names = |it: &mut dyn Iterator<Item = assetota::Asset<'_>>| {
                it.map(|a| a.name().to_owned()).collect::<Vec<_>>()
            };
            let want_missing: Vec<String> = m
                .iter()
                .filter(|a| !self.model.committed.contains_key(a.sha256()))
                .map(|a| a.name().to_owned())
                .collect();
            let want_pending: Vec<String> = m
                .iter()
                .filter(|a| self.model.committed.get(a.sha256()) == Some(&false))
                .map(|a| a.name().to_owned())
                .collect();
            assert_eq!(names(&mut store.missing(&m)), want_missing);
            assert_eq!(names(&mut store.pending(&m)), want_pending);
        }
        check_invariants(store, &self.corpus, &mut self.scratch).unwrap();
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn the_store_follows_the_model(ops in prop::collection::vec(op(), 1..48)) {
        let mut run = Run::new();
        for op in &ops {
            run.step(op);
        }
        // Always end with a clean reboot.
        run.remount(false);
        run.check();
    }
}

/// One long deterministic walk (the same steps every run), so the test
/// checks cuts, resumes and remounts even when proptest's cases are few.
#[test]
fn a_long_walk_follows_the_model() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let ops = prop::collection::vec(op(), 600)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let mut run = Run::new();
    for op in &ops {
        run.step(op);
    }
    run.remount(false);
    run.check();
    let [cuts, remounts, resumes, commits, refused, compacted] = run.stats;
    eprintln!(
        "long walk: {} steps, {cuts} cuts, {remounts} remounts, {resumes} resumes, \
         {commits} commits, {refused} refused for space, {compacted} compactions moved",
        ops.len()
    );
    assert!(
        cuts >= 15 && remounts > cuts && resumes >= 5 && commits >= 50,
        "{:?}",
        run.stats
    );
}
