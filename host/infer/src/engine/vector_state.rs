//! The vector registers left clean after tract's matrix kernels.
//!
//! tract 0.23.9's hand-written x86-64 kernels (`fma_mmm_f32_*`, `avx512_mmm_f32_*`) use
//! 256- and 512-bit registers and return without `vzeroupper`. Until something clears the
//! registers' upper halves, every legacy-SSE instruction after them pays the processor's
//! AVX-SSE transition penalty: all float code built for baseline x86-64 (tract's own
//! non-kernel code, the gateway's preprocessing and decoders) and glibc's `log10f` and
//! `atan2f`. On the gateway's benchmark machine one `log10f` took 144 ns with dirty upper
//! halves against 5.5 ns clean (BENCHMARKS.md, "Replay CPU: the vector state after
//! tract"). [`clear_upper_halves`] is the `vzeroupper` tract's kernels leave out.

/// Clears the upper halves of the vector registers (`vzeroupper`) where the processor has
/// AVX; nothing elsewhere. Changes no value: between calls the upper halves hold nothing
/// the ABI lets code rely on. Public for benchmarks that time other code after tract in the
/// same thread (the `latency` example clears before each contender, so ONNX Runtime does not
/// start from the state tract left).
#[allow(unsafe_code)]
pub fn clear_upper_halves() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: `vzeroupper` requires AVX, detected just above, and nothing else; the
        // compiler treats the intrinsic as clobbering the vector registers' upper halves.
        unsafe { std::arch::x86_64::_mm256_zeroupper() }
    }
}
