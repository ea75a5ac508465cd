//! Iterators over a manifest's assets, and the manifest's methods that make
//! them (here, so the decoder does not depend on its iterators).

use core::iter::FusedIterator;

use crate::asset::Asset;
use crate::decode::Manifest;

/// The assets of a manifest in name order. See [`Manifest::iter`].
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    manifest: Manifest<'a>,
    front: usize,
    back: usize,
}

impl<'a> Iter<'a> {
    pub(crate) fn new(manifest: Manifest<'a>) -> Self {
        Iter {
            manifest,
            front: 0,
            back: manifest.len(),
        }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Asset<'a>;

    fn next(&mut self) -> Option<Asset<'a>> {
        if self.front >= self.back {
            return None;
        }
        let asset = self.manifest.asset(self.front);
        self.front = self.front.saturating_add(1);
        asset
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back.saturating_sub(self.front);
        (n, Some(n))
    }

    fn nth(&mut self, n: usize) -> Option<Asset<'a>> {
        self.front = self.front.saturating_add(n).min(self.back);
        self.next()
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<Asset<'a>> {
        if self.front >= self.back {
            return None;
        }
        self.back = self.back.saturating_sub(1);
        self.manifest.asset(self.back)
    }
}

impl ExactSizeIterator for Iter<'_> {}
impl FusedIterator for Iter<'_> {}

/// The manifest's assets whose (name, SHA-256) is not among what the device has
/// stored. See [`Manifest::missing`].
#[derive(Clone, Debug)]
pub struct Missing<'a, 's> {
    assets: Iter<'a>,
    stored: &'s [(&'s str, [u8; 32])],
}

impl<'a, 's> Missing<'a, 's> {
    pub(crate) fn new(assets: Iter<'a>, stored: &'s [(&'s str, [u8; 32])]) -> Self {
        Missing { assets, stored }
    }

    fn is_stored(&self, asset: &Asset<'_>) -> bool {
        self.stored
            .iter()
            .any(|(name, sha)| *name == asset.name() && sha == asset.sha256())
    }
}

impl<'a> Iterator for Missing<'a, '_> {
    type Item = Asset<'a>;

    fn next(&mut self) -> Option<Asset<'a>> {
        loop {
            let asset = self.assets.next()?;
            if !self.is_stored(&asset) {
                return Some(asset);
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, self.assets.size_hint().1)
    }
}

impl<'a> DoubleEndedIterator for Missing<'a, '_> {
    fn next_back(&mut self) -> Option<Asset<'a>> {
        loop {
            let asset = self.assets.next_back()?;
            if !self.is_stored(&asset) {
                return Some(asset);
            }
        }
    }
}

impl FusedIterator for Missing<'_, '_> {}

impl<'a> Manifest<'a> {
    /// The assets in name order.
    pub fn iter(&self) -> Iter<'a> {
        Iter::new(*self)
    }

    /// The manifest's assets that are not in `stored`, compared by (name, SHA-256):
    /// what the device must fetch. An asset stored under the same name with other
    /// content counts as missing. Costs `len() * stored.len()` comparisons.
    pub fn missing<'s>(&self, stored: &'s [(&'s str, [u8; 32])]) -> Missing<'a, 's> {
        Missing::new(self.iter(), stored)
    }
}

impl<'a> IntoIterator for Manifest<'a> {
    type Item = Asset<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &Manifest<'a> {
    type Item = Asset<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}
