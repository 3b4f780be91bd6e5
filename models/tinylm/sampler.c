/* SPDX-License-Identifier: MIT */
/* tinylm: sampler. Top-k keeps a small sorted list while scanning the logits once; with
 * k in the tens, that beats sorting the whole vocabulary by far. */
#include "sampler.h"

#include <math.h>

#define SAMPLER_STREAM 3 /* rng stream id of the sampler; weights and prompts use others */

void sampler_init(struct sampler *s, float temperature, int top_k, uint64_t seed)
{
    s->temperature = temperature;
    s->top_k = top_k;
    rng_init(&s->rng, seed, SAMPLER_STREAM);
}

/* Keep the k largest logits in descending order. On equal logits the lower id wins, so the
 * outcome never depends on anything but the logits. Returns the number kept. */
static int sampler_top_k(const float *logits, int vocab, int k, float *cand_logit, int *cand_id)
{
    int n = 0;

    for (int id = 0; id < vocab; id++) {
        float l = logits[id];
        int at;

        if (n == k && !(l > cand_logit[n - 1]))
            continue;
        /* shift smaller entries down by one, dropping the last when full */
        at = n < k ? n++ : n - 1;
        while (at > 0 && l > cand_logit[at - 1]) {
            cand_logit[at] = cand_logit[at - 1];
            cand_id[at] = cand_id[at - 1];
            at--;
        }
        cand_logit[at] = l;
        cand_id[at] = id;
    }
    return n;
}

int sampler_pick(struct sampler *s, const float *logits, int vocab, float *cand_logit, int *cand_id)
{
    int k = s->top_k < vocab ? s->top_k : vocab;
    float sum = 0.0f;
    float u;
    int n;

    if (s->temperature <= 0.0f)
        k = 1;
    n = sampler_top_k(logits, vocab, k, cand_logit, cand_id);
    if (n == 1)
        return cand_id[0];

    /* softmax over the candidates at this temperature; the largest comes first */
    for (int i = 0; i < n; i++) {
        cand_logit[i] = expf((cand_logit[i] - cand_logit[0]) / s->temperature);
        sum += cand_logit[i];
    }
    u = rng_next_unit(&s->rng) * sum;
    for (int i = 0; i < n; i++) {
        u -= cand_logit[i];
        if (u < 0.0f)
            return cand_id[i];
    }
    /* rounding left a sliver of mass: it belongs to the last candidate */
    return cand_id[n - 1];
}
