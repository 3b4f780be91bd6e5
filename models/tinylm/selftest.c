/* SPDX-License-Identifier: MIT */
/* tinylm: self-checks. Each kernel is compared with the plainest possible reference (in
 * double where rounding matters), and the whole decoder with itself across thread counts. */
#include "selftest.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "model.h"
#include "rng.h"
#include "workers.h"

#define SELFTEST_STREAM 7
#define SELFTEST_MAX_FLOATS 4096
#define SELFTEST_GEN 24

static int selftest_report(bool ok, const char *what, double figure)
{
    printf("%s %s (%.3g)\n", ok ? "ok  " : "FAIL", what, figure);
    return ok ? 0 : 1;
}

static void selftest_fill(struct rng *r, float *x, int n, float scale)
{
    for (int i = 0; i < n; i++)
        x[i] = (2.0f * rng_next_unit(r) - 1.0f) * scale;
}

/* Two parts of odd sizes (not multiples of the 8 dot-product lanes), a batch of 3, split
 * over 4 threads, against a triple loop in double; and 1 thread must match 4 bit for bit. */
static int selftest_matmul(struct rng *r, struct workers *w1, struct workers *w4)
{
    enum { ROWS_A = 37, ROWS_B = 19, COLS = 53, BATCH = 3 };
    static float wa[ROWS_A * COLS], wb[ROWS_B * COLS], x[BATCH * COLS];
    static float ya[BATCH * ROWS_A], yb[BATCH * ROWS_B], ya1[BATCH * ROWS_A];
    struct kernels_matmul_part parts[] = {
        {.w = wa, .x = x, .y = ya, .rows = ROWS_A, .cols = COLS},
        {.w = wb, .x = x, .y = yb, .rows = ROWS_B, .cols = COLS},
    };
    double max_err = 0.0;

    selftest_fill(r, wa, ROWS_A * COLS, 1.0f);
    selftest_fill(r, wb, ROWS_B * COLS, 1.0f);
    selftest_fill(r, x, BATCH * COLS, 1.0f);
    kernels_matmul(w4, parts, 2, BATCH);

    for (int p = 0; p < 2; p++) {
        for (int b = 0; b < BATCH; b++) {
            for (int i = 0; i < parts[p].rows; i++) {
                double ref = 0.0;

                for (int k = 0; k < COLS; k++)
                    ref += (double)parts[p].w[i * COLS + k] * x[b * COLS + k];
                max_err = fmax(max_err, fabs(ref - parts[p].y[b * parts[p].rows + i]));
            }
        }
    }

    parts[0].y = ya1;
    kernels_matmul(w1, parts, 1, BATCH);
    return selftest_report(max_err < 1e-4 && memcmp(ya, ya1, sizeof(ya)) == 0,
                           "matmul matches a triple loop; 4 threads equal 1 (max error)", max_err);
}

/* Logits spread out but far from 0: without the max subtraction expf overflows. */
static int selftest_softmax(struct rng *r)
{
    static float x[1000];
    double sum = 0.0;
    bool in_range = true;

    selftest_fill(r, x, 1000, 5.0f);
    for (int i = 0; i < 1000; i++)
        x[i] += 1000.0f;
    kernels_softmax(x, 1000);
    for (int i = 0; i < 1000; i++) {
        sum += x[i];
        in_range = in_range && x[i] >= 0.0f && x[i] <= 1.0f;
    }
    return selftest_report(in_range && fabs(sum - 1.0) < 1e-5, "softmax sums to 1 (|sum - 1|)",
                           fabs(sum - 1.0));
}

/* A rotation changes no pair's length, and position 0 changes nothing at all. */
static int selftest_rope(struct rng *r)
{
    enum { HEADS = 4, HEAD_DIM = 16, N = HEADS * HEAD_DIM };
    float x[N], y[N];
    double max_err = 0.0;
    bool identity;

    selftest_fill(r, x, N, 3.0f);
    memcpy(y, x, sizeof(x));
    kernels_rope(y, HEADS, HEAD_DIM, 0, 10000.0f);
    identity = memcmp(x, y, sizeof(x)) == 0;

    kernels_rope(y, HEADS, HEAD_DIM, 123, 10000.0f);
    for (int i = 0; i < N; i += 2) {
        double before = hypot(x[i], x[i + 1]);
        double after = hypot(y[i], y[i + 1]);

        max_err = fmax(max_err, fabs(after - before) / (before + 1e-30));
    }
    return selftest_report(identity && max_err < 1e-5,
                           "rope preserves pair norms (max relative change)", max_err);
}

/* With one cached position the softmax weight is exactly 1: each query head must get the V
 * of the KV head its group reads. */
static int selftest_attention(struct rng *r)
{
    enum { HEADS = 8, KV_HEADS = 2, HEAD_DIM = 16 };
    float q[HEADS * HEAD_DIM], k[KV_HEADS * HEAD_DIM], v[KV_HEADS * HEAD_DIM];
    float out[HEADS * HEAD_DIM], scores[HEADS];
    double max_err = 0.0;

    selftest_fill(r, q, HEADS * HEAD_DIM, 2.0f);
    selftest_fill(r, k, KV_HEADS * HEAD_DIM, 2.0f);
    selftest_fill(r, v, KV_HEADS * HEAD_DIM, 2.0f);
    kernels_attention(out, q, k, v, scores, HEADS, KV_HEADS, HEAD_DIM, 1);
    for (int h = 0; h < HEADS; h++) {
        int kvh = h / (HEADS / KV_HEADS);

        for (int d = 0; d < HEAD_DIM; d++)
            max_err = fmax(max_err, fabs(out[h * HEAD_DIM + d] - v[kvh * HEAD_DIM + d]));
    }
    return selftest_report(max_err < 1e-6, "attention over 1 position returns V (max error)",
                           max_err);
}

/* One request on a small model: a fixed prompt, then SELFTEST_GEN sampled tokens. */
static int selftest_generate(struct workers *w, int *tokens)
{
    const struct model_config cfg = {
        .n_layers = 2,
        .dim = 64,
        .n_heads = 4,
        .n_kv_heads = 2,
        .ffn_dim = 96,
        .vocab = 515,
        .ctx = 40,
        .temperature = 0.8f,
        .top_k = 20,
        .seed = 42,
    };
    struct model *m = model_new(&cfg, w);
    int token = -1;

    if (!m)
        return -1;
    for (int i = 0; i < 6; i++)
        token = model_step(m, (i * 97) % cfg.vocab, i == 5);
    for (int g = 0; g < SELFTEST_GEN; g++) {
        tokens[g] = token;
        token = model_step(m, token, true);
    }
    model_free(m);
    return 0;
}

static int selftest_determinism(struct workers *w1, struct workers *w4)
{
    int a[SELFTEST_GEN], b[SELFTEST_GEN];
    int distinct = 0;
    bool same;

    if (selftest_generate(w1, a) < 0 || selftest_generate(w4, b) < 0)
        return selftest_report(false, "same seed, same tokens with 1 and 4 threads", 0);
    same = memcmp(a, b, sizeof(a)) == 0;
    /* a sampler stuck on one token would pass trivially: count distinct tokens too */
    for (int i = 0; i < SELFTEST_GEN; i++) {
        bool seen = false;

        for (int j = 0; j < i; j++)
            seen = seen || a[j] == a[i];
        distinct += !seen;
    }
    return selftest_report(same && distinct > 1,
                           "same seed, same tokens with 1 and 4 threads (distinct tokens)",
                           distinct);
}

int selftest_run(void)
{
    struct workers *w1 = workers_new(1);
    struct workers *w4 = workers_new(4);
    struct rng r;
    int failed = 0;

    if (!w1 || !w4) {
        workers_free(w1);
        workers_free(w4);
        return selftest_report(false, "start worker threads", 0);
    }
    rng_init(&r, 1, SELFTEST_STREAM);
    failed += selftest_matmul(&r, w1, w4);
    failed += selftest_softmax(&r);
    failed += selftest_rope(&r);
    failed += selftest_attention(&r);
    failed += selftest_determinism(w1, w4);
    printf("%d of 5 checks failed\n", failed);
    workers_free(w4);
    workers_free(w1);
    return failed;
}
