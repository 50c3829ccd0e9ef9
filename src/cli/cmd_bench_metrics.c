/*
 * cmd_bench_metrics.c - `winclip bench-metrics`: time and memory of all pixel metrics of one
 * synthetic category (experiments/bench/bench_metrics.sh runs it; not a test).
 *
 * Does: generate N continuous-valued maps (H, W) with rectangular defects on half of the
 * images, time metrics_pixel (AUROC, AP, F1-max, AUPRO@0.3, trapezoidal AUPR, cflow-200 in one
 * call), report seconds and the peak memory beyond the inputs.
 * Does not: check values (tests/check_metrics.c does).
 */
#include "util/base.h"
#include "cli/cli.h"
#include "eval/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: winclip bench-metrics [--images N] [--size H W] [--defect-fraction F] [--repeat R]\n"
    "\n"
    "Times all pixel metrics of one synthetic category (metrics_pixel: AUROC, AP, F1-max,\n"
    "AUPRO@0.3, trapezoidal AUPR, cflow-200) and reports the peak memory used beyond the\n"
    "inputs (maps 4 B + masks 1 B per pixel). Maps are continuous (nearly every pixel a\n"
    "distinct score, the worst case for ranking); half of the images carry rectangular\n"
    "defects covering F of all pixels.\n"
    "\n"
    "Options (defaults):\n"
    "  --images N             test images (174: ~10 M pixels at 240 x 240)\n"
    "  --size H W             map size (240 240)\n"
    "  --defect-fraction F    fraction of all pixels that are defects (0.03)\n"
    "  --repeat R             timed runs, the fastest is reported (3)\n"
    "\n"
    "Run one case per process: the peak-memory figure is the process high-water mark.\n"
    "Example: winclip bench-metrics --images 30 --size 1024 1024 --repeat 1\n";

extern const Command cmd_bench_metrics;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static float rng_unit(uint64_t *s) { return (float)(rng_next(s) >> 40) / 16777216.0f; }

static int parse_pos(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return *end == 0 && end != s && *out > 0;
}

static int run(int argc, char **argv)
{
    double images = 174, h = 240, w = 240, frac = 0.03, repeat = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int ok = 0;
        if (strcmp(a, "--images") == 0 && i + 1 < argc) ok = parse_pos(argv[++i], &images);
        else if (strcmp(a, "--size") == 0 && i + 2 < argc) {
            ok = parse_pos(argv[i + 1], &h) && parse_pos(argv[i + 2], &w);
            i += 2;
        }
        else if (strcmp(a, "--defect-fraction") == 0 && i + 1 < argc) ok = parse_pos(argv[++i], &frac) && frac < 1;
        else if (strcmp(a, "--repeat") == 0 && i + 1 < argc) ok = parse_pos(argv[++i], &repeat);
        if (!ok) return cli_usage_error(&cmd_bench_metrics, "bad or incomplete option '%s'", a);
    }
    size_t n = (size_t)images, hw = (size_t)h * (size_t)w, total = n * hw;
    if (n < 2) return cli_usage_error(&cmd_bench_metrics, "--images must be >= 2");

    float *maps = xmalloc(total * sizeof *maps);
    uint8_t *masks = xcalloc(total, 1);
    /* each anomalous image (every other one) gets one centred rectangle of area 2F */
    double side = sqrt(2 * frac);
    if (side > 1) side = 1;
    int rh = (int)(side * h), rw = (int)(side * w);
    uint64_t seed = 12345;
    for (size_t i = 0; i < n; i++) {
        int anomalous = i % 2 == 1;
        int y0 = (int)(rng_unit(&seed) * (float)((int)h - rh + 1)), x0 = (int)(rng_unit(&seed) * (float)((int)w - rw + 1));
        for (size_t p = 0; p < hw; p++) {
            int y = (int)(p / (size_t)w), x = (int)(p % (size_t)w);
            int d = anomalous && y >= y0 && y < y0 + rh && x >= x0 && x < x0 + rw;
            masks[i * hw + p] = d ? 255 : 0;
            maps[i * hw + p] = rng_unit(&seed) + (d ? 0.6f : 0.0f);
        }
    }
    size_t rss_inputs = mem_peak_rss();
    PixelMetrics pm;
    Error err = {0};
    double best = 1e30;
    for (int r = 0; r < (int)repeat; r++) {
        double t0 = time_now();
        if (metrics_pixel(maps, masks, n, (int)h, (int)w, 0.3, &pm, &err)) {
            fprintf(stderr, "winclip bench-metrics: %s\n", err.msg);
            free(maps);
            free(masks);
            return 1;
        }
        double t = time_now() - t0;
        if (t < best) best = t;
    }
    size_t rss_peak = mem_peak_rss();
    double extra = rss_peak > rss_inputs ? (double)(rss_peak - rss_inputs) : 0;
    printf("case\t%zu x %d x %d\n", n, (int)h, (int)w);
    printf("pixels\t%zu\n", total);
    printf("defect_pixels\t%lld (%.2f%%)\n", (long long)pm.n_pos_pixels, 100.0 * (double)pm.n_pos_pixels / (double)total);
    printf("seconds\t%.3f (fastest of %d)\n", best, (int)repeat);
    printf("input_MiB\t%.1f\n", (double)total * 5 / 1048576.0);
    printf("peak_rss_MiB\t%.1f\n", (double)rss_peak / 1048576.0);
    printf("extra_MiB\t%.1f\n", extra / 1048576.0);
    printf("extra_bytes_per_pixel\t%.2f\n", extra / (double)total);
    printf("extra_bytes_per_defect_pixel\t%.2f\n", pm.n_pos_pixels ? extra / (double)pm.n_pos_pixels : 0);
    printf("values\tauroc %.6f ap %.6f f1max %.6f aupro %.6f\n", pm.auroc, pm.ap, pm.f1max, pm.aupro);
    free(maps);
    free(masks);
    return 0;
}

const Command cmd_bench_metrics = {"bench-metrics", "time and memory of all pixel metrics on a synthetic category",
                                   HELP, run};
