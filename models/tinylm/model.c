/* SPDX-License-Identifier: MIT */
/* tinylm: the decoder. Weights are separate heap tensors registered by dotted path; each
 * step carves its activations from the tensor pool and reports every span and kernel. */
#include "model.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nctop.h>

#include "kernels.h"
#include "rng.h"
#include "sampler.h"
#include "tensor_pool.h"

#define MODEL_NORM_EPS 1e-5f
#define MODEL_ROPE_THETA 10000.0f
#define MODEL_WEIGHT_STREAM 1 /* rng stream of the weights; see rng_init() */
#define MODEL_POOL_ROUND_BYTES (1024 * 1024)
#define MODEL_PATH_BYTES 64
#define MODEL_PAGE_BYTES 4096
#define MODEL_ATTN_MAX NCTOP_MATRIX_DIM_MAX /* heads and key positions a heatmap shows */
#define MODEL_LABEL_BYTES 32 /* the SDK keeps NCTOP_MATRIX_LABEL_MAX - 1 bytes of a label */

/* One registered weight tensor. */
struct model_tensor {
    float *data;
    size_t bytes;
};

struct model_layer {
    float *attn_norm, *wq, *wk, *wv, *wo;
    float *mlp_norm, *w_gate, *w_up, *w_down;
    float *k_cache, *v_cache; /* ctx x kv_dim each */
};

/* nctop name ids, interned once so the hot path only passes integers */
struct model_ids {
    uint32_t step, embedding, forward, output, sampling;
    uint32_t attn_norm, qkv, rope, sdpa, o_proj, mlp_norm, mlp;
    uint32_t *block; /* "block <i>", n_layers entries */
    uint32_t cpu;
    uint32_t matmul_qkv, matmul_o, matmul_gate_up, matmul_down, matmul_lm_head, attention;
};

struct model {
    struct model_config cfg;
    int head_dim;
    int kv_dim;
    struct workers *workers; /* borrowed */

    struct model_tensor *tensors;
    int n_tensors;
    uint64_t weight_bytes;
    float *embedding, *final_norm, *lm_head;
    struct model_layer *layers;

    size_t kv_bytes_per_pos; /* K and V of one position, all layers */
    uint32_t kv_gauge;
    int pos;

    struct tensor_pool *pool;
    struct sampler sampler;
    struct model_ids ids;

    /* The last layer's attention of the latest token, published as a heatmap: one row per
     * query head, one column per key position (the latest MODEL_ATTN_MAX). */
    uint32_t attn_matrix;
    float *attn_pub;                      /* heads x MODEL_ATTN_MAX */
    char (*attn_rows)[MODEL_LABEL_BYTES]; /* "head 0", ... */
    char (*attn_cols)[MODEL_LABEL_BYTES]; /* "pos 17", ... */
    const char **attn_row_ptr, **attn_col_ptr;
};

/* Allocate one tensor, fill it (uniform in [-scale, scale], or all `scale` when constant)
 * and register it. Returns NULL on allocation failure. */
static float *model_add_tensor(struct model *m, struct rng *r, const char *path, size_t n,
                               float scale, bool constant)
{
    struct model_tensor *t = &m->tensors[m->n_tensors];

    t->bytes = n * sizeof(float);
    t->data = malloc(t->bytes);
    if (!t->data)
        return NULL;
    m->n_tensors++;
    for (size_t i = 0; i < n; i++)
        t->data[i] = constant ? scale : (2.0f * rng_next_unit(r) - 1.0f) * scale;
    /* the fill above faulted every page in: the registered bytes are resident bytes */
    nctop_weight_set(path, t->bytes, 0);
    m->weight_bytes += t->bytes;
    return t->data;
}

static char *model_layer_path(char *buf, int layer, const char *suffix)
{
    snprintf(buf, MODEL_PATH_BYTES, "layers.%d.%s", layer, suffix);
    return buf;
}

/* Allocate and fault in every page, so the KV cache's capacity is resident as its gauge
 * claims. A write per page through volatile: a plain memset of fresh memory may be folded
 * into calloc, which leaves the pages untouched. */
static float *model_alloc_resident(size_t bytes)
{
    unsigned char *p = malloc(bytes);

    if (!p)
        return NULL;
    for (size_t off = 0; off < bytes; off += MODEL_PAGE_BYTES)
        ((volatile unsigned char *)p)[off] = 0;
    return (float *)(void *)p;
}

static int model_init_layer(struct model *m, struct rng *r, int i)
{
    struct model_layer *l = &m->layers[i];
    const struct model_config *c = &m->cfg;
    /* 1/sqrt(fan_in) keeps activations of the random network in a sane range */
    float s_dim = 1.0f / sqrtf((float)c->dim);
    float s_ffn = 1.0f / sqrtf((float)c->ffn_dim);
    size_t dd = (size_t)c->dim * c->dim;
    size_t dkv = (size_t)m->kv_dim * c->dim;
    size_t df = (size_t)c->ffn_dim * c->dim;
    char p[MODEL_PATH_BYTES];

    l->attn_norm = model_add_tensor(m, r, model_layer_path(p, i, "attn_norm"), c->dim, 1.0f, true);
    l->wq = model_add_tensor(m, r, model_layer_path(p, i, "attn.q_proj"), dd, s_dim, false);
    l->wk = model_add_tensor(m, r, model_layer_path(p, i, "attn.k_proj"), dkv, s_dim, false);
    l->wv = model_add_tensor(m, r, model_layer_path(p, i, "attn.v_proj"), dkv, s_dim, false);
    l->wo = model_add_tensor(m, r, model_layer_path(p, i, "attn.o_proj"), dd, s_dim, false);
    l->mlp_norm = model_add_tensor(m, r, model_layer_path(p, i, "mlp_norm"), c->dim, 1.0f, true);
    l->w_gate = model_add_tensor(m, r, model_layer_path(p, i, "mlp.gate_proj"), df, s_dim, false);
    l->w_up = model_add_tensor(m, r, model_layer_path(p, i, "mlp.up_proj"), df, s_dim, false);
    l->w_down = model_add_tensor(m, r, model_layer_path(p, i, "mlp.down_proj"), df, s_ffn, false);
    if (!l->attn_norm || !l->wq || !l->wk || !l->wv || !l->wo || !l->mlp_norm || !l->w_gate ||
        !l->w_up || !l->w_down)
        return -ENOMEM;

    l->k_cache = model_alloc_resident((size_t)c->ctx * m->kv_dim * sizeof(float));
    l->v_cache = model_alloc_resident((size_t)c->ctx * m->kv_dim * sizeof(float));
    if (!l->k_cache || !l->v_cache)
        return -ENOMEM;
    return 0;
}

static void model_intern_names(struct model *m)
{
    struct model_ids *id = &m->ids;
    char name[32];

    id->step = nctop_name("step");
    id->embedding = nctop_name("embedding");
    id->forward = nctop_name("forward");
    id->output = nctop_name("output");
    id->sampling = nctop_name("sampling");
    id->attn_norm = nctop_name("attn_norm");
    id->qkv = nctop_name("qkv");
    id->rope = nctop_name("rope");
    id->sdpa = nctop_name("sdpa");
    id->o_proj = nctop_name("o_proj");
    id->mlp_norm = nctop_name("mlp_norm");
    id->mlp = nctop_name("mlp");
    for (int i = 0; i < m->cfg.n_layers; i++) {
        snprintf(name, sizeof(name), "block %d", i);
        id->block[i] = nctop_name(name);
    }
    id->cpu = nctop_name("cpu");
    id->matmul_qkv = nctop_name("matmul_qkv");
    id->matmul_o = nctop_name("matmul_o");
    id->matmul_gate_up = nctop_name("matmul_gate_up");
    id->matmul_down = nctop_name("matmul_down");
    id->matmul_lm_head = nctop_name("matmul_lm_head");
    id->attention = nctop_name("attention");
}

/* The pool holds the worst step: the residual stream, then the larger of a block's
 * scratch at full context and the output head's. */
static size_t model_pool_bytes(const struct model *m)
{
    const struct model_config *c = &m->cfg;
    size_t vec = tensor_pool_footprint((size_t)c->dim * sizeof(float));
    size_t block = 5 * vec /* xb, q, att, o, down */ +
                   tensor_pool_footprint((size_t)c->n_heads * c->ctx * sizeof(float)) +
                   2 * tensor_pool_footprint((size_t)c->ffn_dim * sizeof(float));
    size_t out = vec + tensor_pool_footprint((size_t)c->vocab * sizeof(float)) +
                 tensor_pool_footprint((size_t)c->top_k * sizeof(float)) +
                 tensor_pool_footprint((size_t)c->top_k * sizeof(int));
    size_t need = vec + (block > out ? block : out);

    /* whole MiB, as an engine reserves a round arena with headroom */
    return (need + MODEL_POOL_ROUND_BYTES - 1) / MODEL_POOL_ROUND_BYTES * MODEL_POOL_ROUND_BYTES;
}

/* The attention heatmap's matrix and its label buffers (named after the last layer). */
static int model_attn_init(struct model *m)
{
    int heads = m->cfg.n_heads < MODEL_ATTN_MAX ? m->cfg.n_heads : MODEL_ATTN_MAX;
    char name[MODEL_PATH_BYTES];

    m->attn_pub = calloc((size_t)heads * MODEL_ATTN_MAX, sizeof(float));
    m->attn_rows = calloc((size_t)heads, sizeof(*m->attn_rows));
    m->attn_cols = calloc(MODEL_ATTN_MAX, sizeof(*m->attn_cols));
    m->attn_row_ptr = calloc((size_t)heads, sizeof(*m->attn_row_ptr));
    m->attn_col_ptr = calloc(MODEL_ATTN_MAX, sizeof(*m->attn_col_ptr));
    if (!m->attn_pub || !m->attn_rows || !m->attn_cols || !m->attn_row_ptr || !m->attn_col_ptr)
        return -1;
    for (int h = 0; h < heads; h++) {
        snprintf(m->attn_rows[h], MODEL_LABEL_BYTES, "head %d", h);
        m->attn_row_ptr[h] = m->attn_rows[h];
    }
    for (int t = 0; t < MODEL_ATTN_MAX; t++)
        m->attn_col_ptr[t] = m->attn_cols[t];
    snprintf(name, sizeof(name), "attention.layer%d", m->cfg.n_layers - 1);
    m->attn_matrix = nctop_matrix(name, "p");
    return 0;
}

/* Publish the softmax weights the last layer just computed for the latest token (scores:
 * n_heads x n_pos), when an nctop is watching: rows are query heads, columns the latest key
 * positions, each row summing to 1 over all positions. */
static void model_publish_attention(struct model *m, const float *scores, int n_pos)
{
    int heads = m->cfg.n_heads < MODEL_ATTN_MAX ? m->cfg.n_heads : MODEL_ATTN_MAX;
    int cols = n_pos < MODEL_ATTN_MAX ? n_pos : MODEL_ATTN_MAX;
    int first = n_pos - cols;

    if (m->attn_matrix == 0 || !nctop_attached())
        return;
    for (int h = 0; h < heads; h++)
        memcpy(m->attn_pub + (size_t)h * cols, scores + (size_t)h * n_pos + first,
               (size_t)cols * sizeof(float));
    for (int t = 0; t < cols; t++)
        snprintf(m->attn_cols[t], MODEL_LABEL_BYTES, "pos %d", first + t);
    nctop_matrix_publish(m->attn_matrix, (uint32_t)heads, (uint32_t)cols, m->attn_pub,
                         m->attn_row_ptr, m->attn_col_ptr);
}

struct model *model_new(const struct model_config *cfg, struct workers *workers)
{
    struct model *m = NULL;
    struct rng r;
    int err = ENOMEM;

    assert(cfg->n_heads % cfg->n_kv_heads == 0 && cfg->dim % cfg->n_heads == 0);
    assert((cfg->dim / cfg->n_heads) % 2 == 0 && cfg->top_k >= 1);

    m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->cfg = *cfg;
    m->workers = workers;
    m->head_dim = cfg->dim / cfg->n_heads;
    m->kv_dim = cfg->n_kv_heads * m->head_dim;
    m->kv_bytes_per_pos = 2 * (size_t)cfg->n_layers * m->kv_dim * sizeof(float);

    m->tensors = calloc(3 + 9 * (size_t)cfg->n_layers, sizeof(*m->tensors));
    m->layers = calloc((size_t)cfg->n_layers, sizeof(*m->layers));
    m->ids.block = calloc((size_t)cfg->n_layers, sizeof(*m->ids.block));
    if (!m->tensors || !m->layers || !m->ids.block)
        goto err;
    model_intern_names(m);

    rng_init(&r, cfg->seed, MODEL_WEIGHT_STREAM);
    m->embedding = model_add_tensor(m, &r, "embedding", (size_t)cfg->vocab * cfg->dim, 1.0f, false);
    if (!m->embedding)
        goto err;
    for (int i = 0; i < cfg->n_layers; i++) {
        if (model_init_layer(m, &r, i) < 0)
            goto err;
    }
    m->final_norm = model_add_tensor(m, &r, "final_norm", cfg->dim, 1.0f, true);
    m->lm_head = model_add_tensor(m, &r, "lm_head", (size_t)cfg->vocab * cfg->dim,
                                  1.0f / sqrtf((float)cfg->dim), false);
    if (!m->final_norm || !m->lm_head)
        goto err;

    m->pool = tensor_pool_new(model_pool_bytes(m), "tensor_pool");
    if (!m->pool)
        goto err;
    m->kv_gauge = nctop_gauge("kv_cache", NCTOP_MEM_KV_CACHE, 0);
    if (model_attn_init(m) < 0)
        goto err;
    sampler_init(&m->sampler, cfg->temperature, cfg->top_k, cfg->seed);
    model_reset(m);
    return m;

err:
    model_free(m);
    errno = err;
    return NULL;
}

void model_free(struct model *m)
{
    if (!m)
        return;
    /* registrations stay: they are the last facts nctop shows of a process that exits */
    for (int i = 0; i < m->n_tensors; i++)
        free(m->tensors[i].data);
    for (int i = 0; m->layers && i < m->cfg.n_layers; i++) {
        free(m->layers[i].k_cache);
        free(m->layers[i].v_cache);
    }
    tensor_pool_free(m->pool);
    free(m->attn_pub);
    free(m->attn_rows);
    free(m->attn_cols);
    free(m->attn_row_ptr);
    free(m->attn_col_ptr);
    free(m->ids.block);
    free(m->layers);
    free(m->tensors);
    free(m);
}

static void model_publish_kv(const struct model *m)
{
    nctop_gauge_set(m->kv_gauge, (uint64_t)m->pos * m->kv_bytes_per_pos,
                    (uint64_t)m->cfg.ctx * m->kv_bytes_per_pos);
}

void model_reset(struct model *m)
{
    /* stale entries past pos are never read: attention only covers positions < pos */
    m->pos = 0;
    model_publish_kv(m);
}

int model_position(const struct model *m)
{
    return m->pos;
}

uint64_t model_weight_bytes(const struct model *m)
{
    return m->weight_bytes;
}

/* Run a matmul job on the workers and report it as one cpu kernel with its own timing. */
static void model_matmul(struct model *m, uint32_t kernel_id,
                         const struct kernels_matmul_part *parts, int n_parts)
{
    uint64_t t0 = nctop_now_ns();

    kernels_matmul(m->workers, parts, n_parts, 1);
    nctop_kernel(kernel_id, m->ids.cpu, t0, nctop_now_ns() - t0);
}

/* The attention half of block l: x += o_proj(attention(rope(qkv(norm(x))))). Scratch is
 * carved from the pool and released by the caller at the end of the block. */
static void model_attention(struct model *m, int l, float *x, float *xb)
{
    const struct model_config *c = &m->cfg;
    const struct model_ids *id = &m->ids;
    struct model_layer *ly = &m->layers[l];
    /* K and V are projected straight into this position's cache slot */
    float *k = ly->k_cache + (size_t)m->pos * m->kv_dim;
    float *v = ly->v_cache + (size_t)m->pos * m->kv_dim;
    int n_pos = m->pos + 1;
    float *q, *scores, *att, *o;
    uint64_t t0;

    nctop_span_begin(id->attn_norm);
    kernels_rmsnorm(xb, x, ly->attn_norm, c->dim, MODEL_NORM_EPS);
    nctop_span_end(id->attn_norm);

    nctop_span_begin(id->qkv);
    q = tensor_pool_carve(m->pool, (size_t)c->dim * sizeof(float));
    {
        const struct kernels_matmul_part parts[] = {
            {.w = ly->wq, .x = xb, .y = q, .rows = c->dim, .cols = c->dim},
            {.w = ly->wk, .x = xb, .y = k, .rows = m->kv_dim, .cols = c->dim},
            {.w = ly->wv, .x = xb, .y = v, .rows = m->kv_dim, .cols = c->dim},
        };

        model_matmul(m, id->matmul_qkv, parts, 3);
    }
    nctop_span_end(id->qkv);

    nctop_span_begin(id->rope);
    kernels_rope(q, c->n_heads, m->head_dim, m->pos, MODEL_ROPE_THETA);
    kernels_rope(k, c->n_kv_heads, m->head_dim, m->pos, MODEL_ROPE_THETA);
    nctop_span_end(id->rope);

    nctop_span_begin(id->sdpa);
    /* the score buffer grows with the sequence, and so does this phase's memory delta */
    scores = tensor_pool_carve(m->pool, (size_t)c->n_heads * n_pos * sizeof(float));
    att = tensor_pool_carve(m->pool, (size_t)c->dim * sizeof(float));
    t0 = nctop_now_ns();
    kernels_attention(att, q, ly->k_cache, ly->v_cache, scores, c->n_heads, c->n_kv_heads,
                      m->head_dim, n_pos);
    nctop_kernel(id->attention, id->cpu, t0, nctop_now_ns() - t0);
    if (l == c->n_layers - 1)
        model_publish_attention(m, scores, n_pos);
    nctop_span_end(id->sdpa);

    nctop_span_begin(id->o_proj);
    o = tensor_pool_carve(m->pool, (size_t)c->dim * sizeof(float));
    {
        const struct kernels_matmul_part part = {
            .w = ly->wo, .x = att, .y = o, .rows = c->dim, .cols = c->dim};

        model_matmul(m, id->matmul_o, &part, 1);
    }
    kernels_add(x, o, c->dim);
    nctop_span_end(id->o_proj);
}

/* The MLP half of block l: x += down(silu(gate(norm(x))) * up(norm(x))). */
static void model_mlp(struct model *m, int l, float *x, float *xb)
{
    const struct model_config *c = &m->cfg;
    const struct model_ids *id = &m->ids;
    struct model_layer *ly = &m->layers[l];
    float *gate, *up, *down;

    nctop_span_begin(id->mlp_norm);
    kernels_rmsnorm(xb, x, ly->mlp_norm, c->dim, MODEL_NORM_EPS);
    nctop_span_end(id->mlp_norm);

    nctop_span_begin(id->mlp);
    gate = tensor_pool_carve(m->pool, (size_t)c->ffn_dim * sizeof(float));
    up = tensor_pool_carve(m->pool, (size_t)c->ffn_dim * sizeof(float));
    {
        const struct kernels_matmul_part parts[] = {
            {.w = ly->w_gate, .x = xb, .y = gate, .rows = c->ffn_dim, .cols = c->dim},
            {.w = ly->w_up, .x = xb, .y = up, .rows = c->ffn_dim, .cols = c->dim},
        };

        model_matmul(m, id->matmul_gate_up, parts, 2);
    }
    kernels_swiglu(gate, up, c->ffn_dim);
    down = tensor_pool_carve(m->pool, (size_t)c->dim * sizeof(float));
    {
        const struct kernels_matmul_part part = {
            .w = ly->w_down, .x = gate, .y = down, .rows = c->dim, .cols = c->ffn_dim};

        model_matmul(m, id->matmul_down, &part, 1);
    }
    kernels_add(x, down, c->dim);
    nctop_span_end(id->mlp);
}

static void model_block(struct model *m, int l, float *x)
{
    size_t mark = tensor_pool_mark(m->pool);
    float *xb;

    nctop_span_begin(m->ids.block[l]);
    /* carved inside the block span but before its first phase: the block's own delta */
    xb = tensor_pool_carve(m->pool, (size_t)m->cfg.dim * sizeof(float));
    model_attention(m, l, x, xb);
    model_mlp(m, l, x, xb);
    tensor_pool_release(m->pool, mark);
    nctop_span_end(m->ids.block[l]);
}

/* Final norm and lm head: returns the logits, carved from the pool. */
static float *model_output(struct model *m, const float *x)
{
    const struct model_config *c = &m->cfg;
    float *xn, *logits;

    nctop_span_begin(m->ids.output);
    xn = tensor_pool_carve(m->pool, (size_t)c->dim * sizeof(float));
    kernels_rmsnorm(xn, x, m->final_norm, c->dim, MODEL_NORM_EPS);
    logits = tensor_pool_carve(m->pool, (size_t)c->vocab * sizeof(float));
    {
        const struct kernels_matmul_part part = {
            .w = m->lm_head, .x = xn, .y = logits, .rows = c->vocab, .cols = c->dim};

        model_matmul(m, m->ids.matmul_lm_head, &part, 1);
    }
    nctop_span_end(m->ids.output);
    return logits;
}

static int model_sample(struct model *m, const float *logits)
{
    int k = m->cfg.top_k;
    float *cand_logit;
    int *cand_id;
    int next;

    nctop_span_begin(m->ids.sampling);
    cand_logit = tensor_pool_carve(m->pool, (size_t)k * sizeof(float));
    cand_id = tensor_pool_carve(m->pool, (size_t)k * sizeof(int));
    next = sampler_pick(&m->sampler, logits, m->cfg.vocab, cand_logit, cand_id);
    nctop_span_end(m->ids.sampling);
    return next;
}

int model_step(struct model *m, int token, bool sample)
{
    const struct model_config *c = &m->cfg;
    size_t mark = tensor_pool_mark(m->pool);
    int next = -1;
    float *x;

    assert(m->pos < c->ctx && token >= 0 && token < c->vocab);
    nctop_span_begin(m->ids.step);

    nctop_span_begin(m->ids.embedding);
    x = tensor_pool_carve(m->pool, (size_t)c->dim * sizeof(float));
    memcpy(x, m->embedding + (size_t)token * c->dim, (size_t)c->dim * sizeof(float));
    nctop_span_end(m->ids.embedding);

    nctop_span_begin(m->ids.forward);
    for (int l = 0; l < c->n_layers; l++)
        model_block(m, l, x);
    nctop_span_end(m->ids.forward);
    m->pos++;
    model_publish_kv(m);

    if (sample)
        next = model_sample(m, model_output(m, x));

    /* the step's activations die with it; the release is the step's own delta */
    tensor_pool_release(m->pool, mark);
    nctop_span_end(m->ids.step);
    return next;
}
