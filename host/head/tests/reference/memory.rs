//! The trainer's memory for the reference head, stated and held to issue 12's target of
//! 128 KB (KiB here) for parameters, gradients, Adam moments and one batch; the whole
//! gradient is never held (it reaches the optimizer row by row), which leaves room for
//! early stopping's copy of the best parameters inside the same budget.

use dagr_head::{arena_len, BatchActivations, MemoryBudget, MAX_BATCH};

use crate::model::reference_head;

/// The batch the budget is stated for: the largest power of two that fits.
const BATCH: usize = 8;

/// 128 KiB.
const TARGET: usize = 128 * 1024;

#[test]
fn training_the_reference_head_fits_in_128_kib_at_batch_8() {
    let (shape, _) = reference_head();
    let m = MemoryBudget::of(shape, BATCH);
    println!("reference head {shape:?}, batch {BATCH}: {m:#?}");
    println!(
        "one step: {} bytes ({:.1} KiB); with the early-stopping copy: {} bytes ({:.1} KiB)",
        m.step_total(),
        m.step_total() as f64 / 1024.0,
        m.total(),
        m.total() as f64 / 1024.0
    );
    // 6669 parameters: 3 * (32 * 64 + 32) + 13 * 32 + 13
    assert_eq!(m.params, 6669 * 4);
    assert_eq!(m.adam_moments, 2 * m.params);
    assert_eq!(m.batch_features, BATCH * 3 * 64 * 4);
    assert_eq!(m.activations, BatchActivations::len(shape, BATCH) * 4);
    assert_eq!(m.batch_masks, MAX_BATCH * 5);
    // the arena the caller provides is exactly the budget minus the parameters (the
    // caller's own) and the masks (on the stack)
    assert_eq!(
        arena_len(shape, BATCH) * 4,
        m.total() - m.params - m.batch_masks
    );
    assert!(m.total() <= TARGET, "{} > {TARGET}", m.total());
    // and the next power of two does not fit with the best-parameter copy: batch 8 is
    // the stated limit (batch 16 fits without early stopping)
    assert!(MemoryBudget::of(shape, 2 * BATCH).total() > TARGET);
    assert!(MemoryBudget::of(shape, 2 * BATCH).step_total() <= TARGET);
}
