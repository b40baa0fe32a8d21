/* What a second core gains on this machine, without nmf: the yardstick for nmf's
 * 2-thread figures (README, Performance). For each array size (MB) it times, one
 * thread against two threads each doing half (OpenMP), medians of 11:
 *
 *   read     one double per 64-byte cache line, in order (streaming)
 *   copy     memcpy
 *   random   one double from each of 4 million random cache lines
 *
 * and, once, a loop on registers only (no memory): both threads running it at once
 * against one alone (1.00 when the two virtual CPUs are two free cores).
 *
 *     cc -O2 -fopenmp asv_benchmarks/memory_scaling.c -o memory_scaling
 *     ./memory_scaling 16 400
 *
 * A size within the L3 shows the caches, one far past it main memory.
 */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { REPEATS = 11, LINE = 64 / sizeof(double), RANDOM_READS = 4000000 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    const double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static double median(double *t) {
    qsort(t, REPEATS, sizeof *t, by_value);
    return t[REPEATS / 2];
}

volatile double sink;

/* part `id` of `parts` of each operation */
static void read_lines(const double *a, size_t n, int id, int parts) {
    double s = 0;
    for (size_t i = n * id / parts / LINE * LINE; i < n * (id + 1) / parts; i += LINE) s += a[i];
    sink = s;
}

static void copy_part(char *to, const char *from, size_t bytes, int id, int parts) {
    const size_t lo = bytes * id / parts, hi = bytes * (id + 1) / parts;
    memcpy(to + lo, from + lo, hi - lo);
}

static void read_random(const double *a, const uint32_t *at, int id, int parts) {
    double s = 0;
    for (size_t i = (size_t) RANDOM_READS * id / parts; i < (size_t) RANDOM_READS * (id + 1) / parts; i++)
        s += a[at[i]];
    sink = s;
}

volatile double multiplier = 1.0000001, addend = 0.9999999;
volatile long register_steps = 40000000;

static double registers_only(void) {
    const double b = multiplier, c = addend;
    double x0 = 1.0, x1 = 1.1, x2 = 1.2, x3 = 1.3, x4 = 1.4, x5 = 1.5;
    for (long i = 0; i < register_steps; i++) {
        x0 = x0 * b + c; x1 = x1 * b + c; x2 = x2 * b + c;
        x3 = x3 * b + c; x4 = x4 * b + c; x5 = x5 * b + c;
    }
    return x0 + x1 + x2 + x3 + x4 + x5;
}

/* Seconds of op on 1 thread and on 2 threads (each half), medians. */
#define TIME_BOTH(one, two, OP)                                                        \
    do {                                                                               \
        double t1[REPEATS], t2[REPEATS];                                               \
        for (int r = 0; r < REPEATS; r++) {                                            \
            double start = now();                                                      \
            { const int id = 0, parts = 1; OP; }                                       \
            t1[r] = now() - start;                                                     \
            start = now();                                                             \
            _Pragma("omp parallel num_threads(2)")                                     \
            { const int id = omp_get_thread_num(), parts = omp_get_num_threads(); OP; } \
            t2[r] = now() - start;                                                     \
        }                                                                              \
        one = median(t1);                                                              \
        two = median(t2);                                                              \
    } while (0)

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MB [MB ...]\n", argv[0]);
        return 2;
    }
    printf("%-8s %6s %10s %10s %8s\n", "op", "MB", "1 thread", "2 threads", "2t / 1t");
    for (int arg = 1; arg < argc; arg++) {
        const double mb = atof(argv[arg]);
        const size_t bytes = (size_t) (mb * (1 << 20)) / 64 * 64, n = bytes / sizeof(double);
        if (n < LINE) {
            fprintf(stderr, "%s: %s MB is too small\n", argv[0], argv[arg]);
            return 2;
        }
        double *a = aligned_alloc(64, bytes), *b = aligned_alloc(64, bytes);
        uint32_t *at = malloc(RANDOM_READS * sizeof *at);
        if (!a || !b || !at) {
            fprintf(stderr, "%s: out of memory\n", argv[0]);
            return 1;
        }
        memset(a, 1, bytes);
        memset(b, 2, bytes);
        uint64_t state = 88172645463325252u;         /* xorshift: any fixed seed */
        for (size_t i = 0; i < RANDOM_READS; i++) {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            at[i] = (uint32_t) (state % (n / LINE) * LINE);
        }
        double one, two;
        TIME_BOTH(one, two, read_lines(a, n, id, parts));
        printf("%-8s %6g %8.2f ms %8.2f ms %8.2f\n", "read", mb, 1e3 * one, 1e3 * two, two / one);
        TIME_BOTH(one, two, copy_part((char *) b, (const char *) a, bytes, id, parts));
        printf("%-8s %6g %8.2f ms %8.2f ms %8.2f\n", "copy", mb, 1e3 * one, 1e3 * two, two / one);
        TIME_BOTH(one, two, read_random(a, at, id, parts));
        printf("%-8s %6g %8.2f ms %8.2f ms %8.2f\n", "random", mb, 1e3 * one, 1e3 * two, two / one);
        free(a);
        free(b);
        free(at);
    }
    /* both threads run the whole loop: equal times when each has a core */
    double t1[REPEATS], t2[REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        double start = now();
        sink = registers_only();
        t1[r] = now() - start;
        start = now();
#pragma omp parallel num_threads(2)
        sink = registers_only();
        t2[r] = now() - start;
    }
    const double one = median(t1), two = median(t2);
    printf("%-8s %6s %8.2f ms %8.2f ms %8.2f\n", "cores", "-", 1e3 * one, 1e3 * two, two / one);
    return 0;
}
