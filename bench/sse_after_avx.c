/* The cost of glibc's log10f (legacy-SSE code) with the vector registers' upper halves
 * dirty, as tract 0.23.9's x86-64 matrix kernels leave them (they return without
 * vzeroupper), against clean. BENCHMARKS.md, "Replay CPU: the vector state after tract".
 *
 *   gcc -O2 -o /tmp/sse_after_avx bench/sse_after_avx.c -lm && taskset -c 0 /tmp/sse_after_avx
 *
 * Needs an x86-64 processor with AVX-512F (the zmm line); prints ns per call. */
#include <math.h>
#include <stdio.h>
#include <time.h>

static double ns_per_log10f(void) {
    struct timespec a, b;
    float s = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 10000000; i++) s += log10f(1e-3f + (float)i * 1e-6f);
    clock_gettime(CLOCK_MONOTONIC, &b);
    volatile float sink = s;
    (void)sink;
    return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e7;
}

int main(void) {
    printf("clean                   %6.1f ns\n", ns_per_log10f());
    __asm__ volatile("vaddps %%ymm0, %%ymm0, %%ymm0" ::: "xmm0");
    printf("ymm upper halves dirty  %6.1f ns\n", ns_per_log10f());
    __asm__ volatile("vzeroupper" :::);
    printf("after vzeroupper        %6.1f ns\n", ns_per_log10f());
    __asm__ volatile("vaddps %%zmm0, %%zmm0, %%zmm0" ::: "xmm0");
    printf("zmm upper halves dirty  %6.1f ns\n", ns_per_log10f());
    __asm__ volatile("vzeroupper" :::);
    __asm__ volatile("vaddps %%zmm20, %%zmm20, %%zmm20" :::);
    printf("only zmm16-31 used      %6.1f ns\n", ns_per_log10f());
    return 0;
}
