//! The equity a streaming accumulator has received and not folded in yet.
//!
//! The accumulators take the equity in blocks: `on_equity` stores the value, and a full block
//! is folded in one loop over a local copy of the running state, which the compiler then keeps
//! in registers (per bar through a `&mut self` called from the engine's loop, every field went
//! through memory). The operations and their order are those of one bar at a time, so the
//! result is the same bits.

/// Bars per block.
pub(crate) const BLOCK: usize = 128;

/// Up to [`BLOCK`] equities, in bar order.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    buf: [f64; BLOCK],
    len: usize,
}

impl Pending {
    pub(crate) fn new() -> Pending {
        Pending { buf: [0.0; BLOCK], len: 0 }
    }

    /// Stores `e`; true when the block is full.
    #[inline]
    pub(crate) fn push(&mut self, e: f64) -> bool {
        self.buf[self.len] = e;
        self.len += 1;
        self.len == BLOCK
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The stored equities, emptying the block.
    pub(crate) fn take(&mut self) -> &[f64] {
        let n = std::mem::take(&mut self.len);
        &self.buf[..n]
    }
}
