/* SPDX-License-Identifier: MIT */
/* tinylm: fp32 kernels written for clarity first and speed second: the dot product keeps
 * eight independent sums so the compiler can use vector lanes without -ffast-math. */
#include "kernels.h"

#include <math.h>

#include "workers.h"

#define KERNELS_LANES 8

struct kernels_matmul_job {
    const struct kernels_matmul_part *parts;
    int n_parts;
    int batch;
    long total_rows;
};

/* A fixed summation order (lane sums, then lanes in order) makes the result independent of
 * how rows are spread over threads: determinism across --threads depends on it. */
static float kernels_dot(const float *a, const float *b, int n)
{
    float lane[KERNELS_LANES] = {0};
    float sum = 0.0f;
    int i = 0;

    for (; i + KERNELS_LANES <= n; i += KERNELS_LANES) {
        for (int j = 0; j < KERNELS_LANES; j++)
            lane[j] += a[i + j] * b[i + j];
    }
    for (int j = 0; j < KERNELS_LANES; j++)
        sum += lane[j];
    for (; i < n; i++)
        sum += a[i] * b[i];
    return sum;
}

void kernels_rmsnorm(float *out, const float *x, const float *weight, int n, float eps)
{
    double ss = 0.0;
    float scale;

    /* accumulate in double: the sum of squares of a 512..8192-wide vector loses digits */
    for (int i = 0; i < n; i++)
        ss += (double)x[i] * x[i];
    scale = (float)(1.0 / sqrt(ss / n + eps));
    for (int i = 0; i < n; i++)
        out[i] = x[i] * scale * weight[i];
}

static void kernels_matmul_share(void *arg, int share, int n_shares)
{
    const struct kernels_matmul_job *job = arg;
    long first = job->total_rows * share / n_shares;
    long last = job->total_rows * (share + 1) / n_shares;
    long base = 0;

    /* the share is a contiguous range of the parts' rows laid end to end */
    for (int p = 0; p < job->n_parts && base < last; p++) {
        const struct kernels_matmul_part *part = &job->parts[p];
        long lo = first > base ? first - base : 0;
        long hi = last - base < part->rows ? last - base : part->rows;

        for (long r = lo; r < hi; r++) {
            const float *wr = part->w + r * part->cols;

            /* every batch row against the same weight row: W is read once per share */
            for (int b = 0; b < job->batch; b++) {
                part->y[(long)b * part->rows + r] =
                    kernels_dot(wr, part->x + (long)b * part->cols, part->cols);
            }
        }
        base += part->rows;
    }
}

void kernels_matmul(struct workers *w, const struct kernels_matmul_part *parts, int n_parts,
                    int batch)
{
    struct kernels_matmul_job job = {
        .parts = parts,
        .n_parts = n_parts,
        .batch = batch,
        .total_rows = 0,
    };

    for (int p = 0; p < n_parts; p++)
        job.total_rows += parts[p].rows;
    workers_run(w, kernels_matmul_share, &job);
}

void kernels_rope(float *x, int n_heads, int head_dim, int pos, float theta)
{
    for (int i = 0; i < head_dim; i += 2) {
        /* the angle depends on the pair index only: compute it once for all heads */
        double freq = pow((double)theta, -(double)i / head_dim);
        double angle = pos * freq;
        float c = (float)cos(angle);
        float s = (float)sin(angle);

        for (int h = 0; h < n_heads; h++) {
            float *v = x + (long)h * head_dim + i;
            float a = v[0];
            float b = v[1];

            v[0] = a * c - b * s;
            v[1] = a * s + b * c;
        }
    }
}

void kernels_softmax(float *x, int n)
{
    float max = x[0];
    float sum = 0.0f;

    for (int i = 1; i < n; i++) {
        if (x[i] > max)
            max = x[i];
    }
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    for (int i = 0; i < n; i++)
        x[i] /= sum;
}

void kernels_attention(float *out, const float *q, const float *k_cache, const float *v_cache,
                       float *scores, int n_heads, int n_kv_heads, int head_dim, int n_pos)
{
    int group = n_heads / n_kv_heads;
    int kv_dim = n_kv_heads * head_dim;
    float scale = 1.0f / sqrtf((float)head_dim);

    for (int h = 0; h < n_heads; h++) {
        const float *qh = q + (long)h * head_dim;
        /* grouped-query attention: `group` consecutive query heads share one KV head */
        long kv_off = (long)(h / group) * head_dim;
        float *sh = scores + (long)h * n_pos;
        float *oh = out + (long)h * head_dim;

        /* causal by construction: the cache holds only positions up to this one */
        for (int t = 0; t < n_pos; t++)
            sh[t] = kernels_dot(qh, k_cache + (long)t * kv_dim + kv_off, head_dim) * scale;
        kernels_softmax(sh, n_pos);

        for (int d = 0; d < head_dim; d++)
            oh[d] = 0.0f;
        for (int t = 0; t < n_pos; t++) {
            const float *vt = v_cache + (long)t * kv_dim + kv_off;
            float p = sh[t];

            for (int d = 0; d < head_dim; d++)
                oh[d] += p * vt[d];
        }
    }
}

void kernels_swiglu(float *gate, const float *up, int n)
{
    for (int i = 0; i < n; i++) {
        float g = gate[i];

        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void kernels_add(float *x, const float *y, int n)
{
    for (int i = 0; i < n; i++)
        x[i] += y[i];
}
