/* How far apart the first two CPUs this process may run on are: the round trip of a
 * cache line between two threads pinned one to each (one thread writes a counter, the
 * other waits for it and writes the next value back), in nanoseconds, the median of
 * REPEATS runs of ROUND_TRIPS round trips.
 *
 *     cc -O2 -pthread asv_benchmarks/core_latency.c -o core_latency && ./core_latency
 *
 * On a virtual machine this tells where the host put the two virtual CPUs right now.
 * On the AMD EPYC Zen 4 benchmark VM it reads one of a few levels, 50-80 ns up to
 * 570-610 ns, switching within minutes; nmf's 2-thread timings follow it (README,
 * Performance). asv_benchmarks/placement.py builds and runs it for compare.py.
 *
 * Exits 2 when fewer than two CPUs are allowed (nothing to measure).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { REPEATS = 7, ROUND_TRIPS = 20000 };

/* The counter alone on its cache line. */
static _Alignas(64) atomic_long counter;
static int cpus[2];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* The second thread: answers each odd value with the next even one. */
static void *answer(void *unused) {
    (void) unused;
    pin(cpus[1]);
    for (long i = 0; i < ROUND_TRIPS; i++) {
        while (atomic_load_explicit(&counter, memory_order_acquire) != 2 * i + 1)
            ;
        atomic_store_explicit(&counter, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static double round_trip_ns(void) {
    pthread_t other;
    atomic_store(&counter, 0);
    if (pthread_create(&other, NULL, answer, NULL) != 0) {
        perror("pthread_create");
        exit(1);
    }
    const double start = now();
    for (long i = 0; i < ROUND_TRIPS; i++) {
        atomic_store_explicit(&counter, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&counter, memory_order_acquire) != 2 * i + 2)
            ;
    }
    const double seconds = now() - start;
    pthread_join(other, NULL);
    return 1e9 * seconds / ROUND_TRIPS;
}

static int by_value(const void *a, const void *b) {
    const double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

int main(void) {
    cpu_set_t allowed;
    int found = 0;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        perror("sched_getaffinity");
        return 1;
    }
    for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++)
        if (CPU_ISSET(cpu, &allowed))
            cpus[found++] = cpu;
    if (found < 2) {
        fprintf(stderr, "core_latency: fewer than two CPUs allowed; nothing to measure\n");
        return 2;
    }
    pin(cpus[0]);
    double t[REPEATS];
    for (int r = 0; r < REPEATS; r++)
        t[r] = round_trip_ns();
    qsort(t, REPEATS, sizeof *t, by_value);
    printf("cpus %d %d round trip %.1f ns\n", cpus[0], cpus[1], t[REPEATS / 2]);
    return 0;
}
