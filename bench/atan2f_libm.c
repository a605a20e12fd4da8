/* glibc's atan2f, as the WiFi tensor calls it for each packet's phase differences: its
 * time per call in a loop of its own, and how often its result differs from the correctly
 * rounded one (atan2 in double, rounded to float) on random products of CSI-sized values.
 * BENCHMARKS.md, "Replay CPU: 300x on ONNX Runtime, 249x on tract".
 *
 *   gcc -O2 -o /tmp/atan2f_libm bench/atan2f_libm.c -lm && taskset -c 0 /tmp/atan2f_libm
 */
#include <math.h>
#include <stdio.h>
#include <time.h>

#define CALLS 20000000
#define PAIRS 1024

/* A 32-bit LCG, so the inputs are the same on every run. */
static unsigned next(unsigned *s) { return *s = *s * 1103515245u + 12345u; }

int main(void) {
    static float re[PAIRS], im[PAIRS];
    unsigned s = 12345;
    for (int i = 0; i < PAIRS; i++) {
        re[i] = (float)((int)(next(&s) >> 8) % 20000 - 10000) / 37.0f;
        im[i] = (float)((int)(next(&s) >> 8) % 20000 - 10000) / 41.0f;
    }
    struct timespec a, b;
    float acc = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < CALLS; i++) acc += atan2f(im[i % PAIRS], re[i % PAIRS]);
    clock_gettime(CLOCK_MONOTONIC, &b);
    volatile float sink = acc;
    (void)sink;
    double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / CALLS;

    long differ = 0;
    for (int i = 0; i < CALLS; i++) {
        float y = (float)((int)(next(&s) >> 8) % 20000 - 10000) / 41.0f;
        float x = (float)((int)(next(&s) >> 8) % 20000 - 10000) / 37.0f;
        differ += atan2f(y, x) != (float)atan2((double)y, (double)x);
    }
    printf("atan2f: %.2f ns per call; %.1f %% of %d results differ from the correctly "
           "rounded value\n", ns, 100.0 * differ / CALLS, CALLS);
    return 0;
}
