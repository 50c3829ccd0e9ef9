/*
 * cmd_bench_clip.c - `winclip bench-clip`: time the CLIP image tower at full size.
 *
 * One 240x240 image: the full-image encode, the WinCLIP window set (k = 2, 3), both together;
 * seconds, achieved GFLOP/s (FLOPs actually computed, and the nominal count without the
 * exact savings), the GEMM backend's own rate on a product of the windows' shape measured in
 * the same run, the tower's own matrix products alone (its 148 shapes with the model's weights,
 * alternating with the tower image by image) and the share of the tower's time outside them,
 * and the peak RSS. A benchmark, not a test (experiments/bench/bench_clip.sh).
 * Reference: shared/spec/clip.md §8 (cost).
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cli.h"

#include "util/base.h"
#include "clip/clip_model.h"
#include "clip/clip_vision.h"
#include "clip/gemm.h"
#include "clip/ops_isa.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const Command cmd_bench_clip;

/* FLOPs (2 per multiply-add) of one block over `rows` rows in sequences of length T, where
 * only `q_rows` rows need queries and outputs (q_rows = rows except in a CLS-only last block)
 * and `qkv` says whether ln_1/qkv is computed (not for gathered window rows of block 0). */
static double block_flops(double W, double rows, double T, double q_rows, int qkv)
{
    const double kv = qkv ? 2.0 * rows * 2 * W * W : 0.0, q = qkv ? 2.0 * q_rows * W * W : 0.0;
    const double attn = 2.0 * 2.0 * q_rows * T * W;      /* scores + weighted values */
    const double rest = 2.0 * q_rows * (W * W + 8 * W * W); /* out_proj + MLP */
    return kv + q + attn + rest;
}

typedef struct {
    double full, windows, windows_nominal;
} Flops;

static Flops count_flops(const ClipConfig *cfg, const ClipVision *v)
{
    const double W = cfg->vision.width, L = cfg->vision.layers, T = v->n_tok, P = cfg->vision.patch_size,
                 E = cfg->embed_dim;
    Flops f = {0, 0, 0};
    f.full = 2.0 * (T - 1) * 3 * P * P * W + L * block_flops(W, T, T, T, 1) + 2.0 * W * E;
    for (int s = 0; s < v->geom.n_scales; s++) {
        const double n = v->n_windows[s], len = 1.0 + v->geom.scales[s] * v->geom.scales[s], rows = n * len;
        f.windows += block_flops(W, rows, len, rows, 0) - 0.0;                /* block 0, gathered qkv */
        f.windows += (L - 2) * block_flops(W, rows, len, rows, 1);           /* middle blocks */
        f.windows += block_flops(W, rows, len, n, 1) + 2.0 * n * W * E;      /* CLS-only last block */
        f.windows_nominal += L * block_flops(W, rows, len, rows, 1) + 2.0 * n * W * E;
    }
    return f;
}

/* The tower's matrix products for one image (full image + every window scale): out (M, N) =
 * a (M, K) @ w^T with w the model's own weight of that layer (so the weights stream from
 * memory as in the tower) and contiguous operands (the tower reads a few with row strides). */
typedef struct {
    int M, N, K;
    const float *w;
} Product;

#define MAX_PRODUCTS 512

static int add_product(Product *p, int n, int M, int N, int K, const float *w)
{
    CHECK(n < MAX_PRODUCTS);
    if (M > 0) p[n++] = (Product){M, N, K, w};
    return n;
}

/* The four linear layers of block b over R rows (qkv only when `qkv`). */
static int block_products(Product *p, int n, const ClipBlock *b, int R, int W, int qkv)
{
    if (qkv) n = add_product(p, n, R, 3 * W, W, b->in_proj_w);
    n = add_product(p, n, R, W, W, b->out_proj_w);
    n = add_product(p, n, R, 4 * W, W, b->c_fc_w);
    return add_product(p, n, R, W, 4 * W, b->c_proj_w);
}

static int tower_products(const ClipModel *m, const ClipVision *v, Product *p)
{
    const ClipVisionWeights *vw = &m->visual;
    const int W = m->cfg.vision.width, L = m->cfg.vision.layers, T = v->n_tok, P = m->cfg.vision.patch_size,
              E = m->cfg.embed_dim;
    int n = add_product(p, 0, T - 1, W, 3 * P * P, vw->conv1_w);
    for (int l = 0; l < L; l++) n = block_products(p, n, &vw->blocks[l], T, W, 1);
    n = add_product(p, n, 1, E, W, vw->proj);
    for (int s = 0; s < v->geom.n_scales; s++) {
        const int nw = v->n_windows[s], R = nw * (1 + v->geom.scales[s] * v->geom.scales[s]);
        const ClipBlock *last = &vw->blocks[L - 1];
        for (int l = 0; l < L - 1; l++) n = block_products(p, n, &vw->blocks[l], R, W, l > 0);
        n = add_product(p, n, R, 2 * W, W, last->in_proj_w + (size_t)W * W); /* k, v of every row */
        n = add_product(p, n, nw, W, W, last->in_proj_w);                    /* q of the CLS rows */
        n = block_products(p, n, last, nw, W, 0);
        n = add_product(p, n, nw, E, W, vw->proj);
    }
    return n;
}

/* Seconds of one pass over the products, a and c sized for the largest. */
static double products_seconds(const Product *p, int n, const float *a, float *c)
{
    const double t0 = time_now();
    for (int i = 0; i < n; i++) gemm(0, 1, p[i].M, p[i].N, p[i].K, 1.0f, a, p[i].K, p[i].w, p[i].K, 0.0f, c, p[i].N);
    return time_now() - t0;
}

static double seconds_of(ClipVision *v, const float *pixels, ClipImageFeatures *f, int repeat)
{
    double best = 1e30;
    for (int r = 0; r < repeat; r++) {
        const double t0 = time_now();
        CHECK(clip_vision_features(v, pixels, f, NULL) == 0);
        const double dt = time_now() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

/* Best-of-5 GFLOP/s of c (M, N) = a (M, K) @ b^T (b stored (N, K)). */
static double gemm_rate(const float *a, const float *b, float *c, int M, int N, int K)
{
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        const double t0 = time_now();
        gemm(0, 1, M, N, K, 1.0f, a, K, b, K, 0.0f, c, N);
        const double dt = time_now() - t0;
        if (dt < best) best = dt;
    }
    return 2.0 * M * N * K / best / 1e9;
}

/* The model at model_path, or (NULL) random ViT-B-16-plus-240 weights written to a temporary
 * file and removed once loaded. Returns 0, or 1 after printing the error. */
static int load_model(ClipModel *m, const char *model_path)
{
    Error err = {0};
    char tmpdir[] = "/tmp/winclip-bench-XXXXXX", tmpfile[64] = "";
    if (!model_path) {
        if (!mkdtemp(tmpdir)) {
            fprintf(stderr, "winclip bench-clip: cannot create a temporary folder: %s\n", strerror(errno));
            return 1;
        }
        snprintf(tmpfile, sizeof tmpfile, "%s/random.h5", tmpdir);
        ClipConfig cfg;
        CHECK(clip_config_preset(&cfg, "ViT-B-16-plus-240", NULL) == 0);
        printf("model: random ViT-B-16-plus-240 weights written to %s\n", tmpfile);
        if (clip_model_write_random(tmpfile, &cfg, 1, &err)) {
            fprintf(stderr, "winclip bench-clip: %s\n", err.msg);
            rmdir(tmpdir);
            return 1;
        }
        model_path = tmpfile;
    }
    int rc = clip_model_load(m, model_path, &err);
    if (tmpfile[0]) {
        remove(tmpfile);
        rmdir(tmpdir);
    }
    if (rc) {
        fprintf(stderr, "winclip bench-clip: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int run(int argc, char **argv)
{
    const char *model_path = NULL;
    int repeat = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) model_path = argv[++i];
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            char *end;
            long r = strtol(argv[++i], &end, 10);
            if (*end || r < 1 || r > 100) return cli_usage_error(&cmd_bench_clip, "--repeat: expected 1..100, found '%s'", argv[i]);
            repeat = (int)r;
        } else return cli_usage_error(&cmd_bench_clip, "unknown or incomplete option '%s'", argv[i]);
    }
    ClipModel m = {0};
    if (load_model(&m, model_path) != 0) return 1;
    const int S = m.cfg.vision.image_size, scales[2] = {2, 3};
    ClipVision vfull = {0}, vwin = {0};
    ClipImageFeatures ffull, fwin;
    CHECK(clip_vision_init(&vfull, &m, NULL, 0, 1, NULL) == 0);
    CHECK(clip_vision_init(&vwin, &m, scales, 2, 1, NULL) == 0);
    clip_features_init(&ffull, &vfull.geom);
    clip_features_init(&fwin, &vwin.geom);
    float *pixels = xmalloc((size_t)3 * S * S * sizeof *pixels);
    uint64_t st = 7;
    for (size_t i = 0; i < (size_t)3 * S * S; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        pixels[i] = (float)((double)(st >> 11) / 9007199254740992.0 * 4.0 - 2.0);
    }
    /* the GEMM backend alone on the k = 3 batch's MLP shape, measured before and after the
     * encoder timings (the higher rate is the reference: the machine may be shared) */
    const int M = vwin.n_windows[1] * 10, N = 4 * m.cfg.vision.width, K = m.cfg.vision.width;
    float *a = xcalloc((size_t)M * K, sizeof *a), *b = xcalloc((size_t)N * K, sizeof *b), *c = xmalloc((size_t)M * N * sizeof *c);
    for (size_t i = 0; i < (size_t)M * K; i++) a[i] = (float)(i % 13) * 0.01f;
    for (size_t i = 0; i < (size_t)N * K; i++) b[i] = (float)(i % 7) * 0.01f;
    gemm(0, 1, M, N, K, 1.0f, a, K, b, K, 0.0f, c, N);
    const double gemm_before = gemm_rate(a, b, c, M, N, K);
    /* warm up (first GEMM calls JIT-compile kernels), then best of `repeat` */
    CHECK(clip_vision_features(&vwin, pixels, &fwin, NULL) == 0);
    const double t_full = seconds_of(&vfull, pixels, &ffull, repeat);
    /* the tower and its products alone alternate, one image each, so a change in the speed of a
     * shared machine falls on both */
    Product prod[MAX_PRODUCTS];
    const int n_prod = tower_products(&m, &vwin, prod);
    size_t max_a = 0, max_c = 0;
    double prod_flops = 0.0;
    for (int i = 0; i < n_prod; i++) {
        const size_t sa = (size_t)prod[i].M * prod[i].K, sc = (size_t)prod[i].M * prod[i].N;
        max_a = sa > max_a ? sa : max_a, max_c = sc > max_c ? sc : max_c;
        prod_flops += 2.0 * prod[i].M * prod[i].N * prod[i].K;
    }
    float *pa = xmalloc(max_a * sizeof *pa), *pc = xmalloc(max_c * sizeof *pc);
    for (size_t i = 0; i < max_a; i++) pa[i] = (float)(i % 13) * 0.01f;
    double t_both = 1e30, t_prod = 1e30, gemm_during = 0.0;
    for (int r = 0; r < repeat; r++) {
        const double tb = seconds_of(&vwin, pixels, &fwin, 1);
        const double tp = products_seconds(prod, n_prod, pa, pc);
        const double g = gemm_rate(a, b, c, M, N, K); /* the reference rate, in the same rhythm */
        t_both = tb < t_both ? tb : t_both;
        t_prod = tp < t_prod ? tp : t_prod;
        gemm_during = g > gemm_during ? g : gemm_during;
    }
    free(pa), free(pc);
    const double t_win = t_both - t_full;
    const Flops fl = count_flops(&m.cfg, &vwin);
    const double gemm_after = gemm_rate(a, b, c, M, N, K);
    double gemm_best = gemm_before > gemm_after ? gemm_before : gemm_after;
    gemm_best = gemm_during > gemm_best ? gemm_during : gemm_best;
    int finite = 1;
    for (int i = 0; i < fwin.geom.embed_dim; i++) finite &= fwin.image_embedding[i] == fwin.image_embedding[i];
    const char *threads = getenv("OMP_NUM_THREADS");
    printf("kernels: %s (cpu: %s; WINCLIP_ISA caps it)\n", ops_isa_name(ops_isa_active()),
           ops_isa_name(ops_isa_detected()));
    printf("backend: %s (OMP_NUM_THREADS=%s), image %dx%d, windows k=2 (%d x %d tokens) and k=3 (%d x %d tokens), best of %d\n",
           gemm_backend(), threads ? threads : "unset", S, S, vwin.n_windows[0], 5, vwin.n_windows[1], 10, repeat);
    printf("%-24s %8s %10s %12s %14s\n", "stage", "seconds", "GFLOP", "GFLOP/s", "nominal GF/s");
    printf("%-24s %8.3f %10.1f %12.1f %14.1f\n", "full image", t_full, fl.full / 1e9, fl.full / t_full / 1e9,
           fl.full / t_full / 1e9);
    printf("%-24s %8.3f %10.1f %12.1f %14.1f\n", "windows (k=2,3)", t_win, fl.windows / 1e9, fl.windows / t_win / 1e9,
           fl.windows_nominal / t_win / 1e9);
    printf("%-24s %8.3f %10.1f %12.1f %14.1f\n", "full + windows", t_both, (fl.full + fl.windows) / 1e9,
           (fl.full + fl.windows) / t_both / 1e9, (fl.full + fl.windows_nominal) / t_both / 1e9);
    printf("nominal work (no savings): %.1f GFLOP per image\n", (fl.full + fl.windows_nominal) / 1e9);
    printf("gemm %dx%dx%d alone: %.1f GFLOP/s before, %.1f between the timed images, %.1f after; full + windows "
           "reach %.0f%% of the highest (computed FLOPs)\n", M, N, K, gemm_before, gemm_during, gemm_after, 100.0 * (fl.full + fl.windows) / t_both / 1e9 / gemm_best);
    printf("the tower's %d products alone (%.1f of the %.1f GFLOP; the rest is attention): %.3f s, "
           "%.1f GFLOP/s; full + windows take %.3f s: %.1f%% of the time is outside the products, the tower "
           "runs at %.0f%% of its own products' rate\n",
           n_prod, prod_flops / 1e9, (fl.full + fl.windows) / 1e9, t_prod, prod_flops / t_prod / 1e9, t_both,
           100.0 * (t_both - t_prod) / t_both, 100.0 * (fl.full + fl.windows) / t_both / (prod_flops / t_prod));
    if (t_prod > t_both) printf("(negative: the products alone ran slower than the tower, so the machine's speed changed within the run)\n");
    printf("peak RSS: %.0f MB (weights %.0f MB)%s\n", (double)mem_peak_rss() / 1e6, (double)m.n_params * 4 / 1e6,
           finite ? "" : "  WARNING: non-finite embedding");
    free(a), free(b), free(c), free(pixels);
    clip_features_free(&ffull);
    clip_features_free(&fwin);
    clip_vision_free(&vfull);
    clip_vision_free(&vwin);
    clip_model_free(&m);
    return finite ? 0 : 1;
}

const Command cmd_bench_clip = {
    "bench-clip", "benchmark the CLIP image tower (full image + WinCLIP windows)",
    "usage: winclip bench-clip [--model M.h5] [--repeat N]\n"
    "\n"
    "Times one 240x240 image through the image tower: the full image, the WinCLIP window\n"
    "set (k = 2 and 3, stride 1: 196 x 5 + 169 x 10 tokens) and both together, and prints\n"
    "seconds, GFLOP/s of the work actually computed and of the nominal work, the GEMM\n"
    "backend's own rate on a product of the same shape, the tower's own matrix products\n"
    "alone (same shapes and weights, alternating with the tower) with the share of the\n"
    "tower's time spent outside them, and the peak resident memory.\n"
    "\n"
    "options:\n"
    "  --model M.h5  model file (default: random ViT-B-16-plus-240 weights written to a\n"
    "                temporary folder and deleted after loading)\n"
    "  --repeat N    timed repetitions, the best is reported (default 3)\n"
    "\n"
    "Threads: the GEMM backend's (OMP_NUM_THREADS for oneDNN, OPENBLAS_NUM_THREADS).\n",
    run};
