/* SPDX-License-Identifier: MIT */
/* Two requests served at once, one per thread: each a request with a time to first token of
 * TTFT_MS, then NTOK tokens ITL_MS apart. The workload measures itself with CLOCK_MONOTONIC
 * (nctop's clock) and writes its own figures as JSON to argv[1], for the test to compare
 * with nctop's. Waits (bounded) for nctop to attach first. Usage: serve_two OUT.json */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nctop.h"

#define TTFT_MS 100
#define ITL_MS 20
#define NTOK 10
#define NTHREADS 2
#define PROMPT_TOKENS 32

struct req {
    uint64_t id;
    uint64_t begin_ns;
    uint64_t tok_ns[NTOK + 1];
    uint64_t end_ns;
};

static void sleep_until(uint64_t t_ns)
{
    struct timespec ts = {.tv_sec = (time_t)(t_ns / 1000000000ULL),
                          .tv_nsec = (long)(t_ns % 1000000000ULL)};

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
        continue;
    }
}

static void *serve(void *arg)
{
    struct req *r = arg;
    uint64_t t0;

    r->begin_ns = t0 = nctop_now_ns();
    nctop_request_begin(r->id);
    nctop_request_prompt_tokens(r->id, PROMPT_TOKENS);
    for (int k = 0; k <= NTOK; k++) {
        sleep_until(t0 + (uint64_t)(TTFT_MS + k * ITL_MS) * 1000000ULL);
        r->tok_ns[k] = nctop_now_ns();
        nctop_request_token(r->id, 1);
    }
    r->end_ns = nctop_now_ns();
    nctop_request_end(r->id, NCTOP_REQUEST_OK);
    return NULL;
}

int main(int argc, char **argv)
{
    struct req reqs[NTHREADS];
    pthread_t th[NTHREADS];
    uint64_t deadline;
    FILE *out;

    if (argc < 2) {
        fprintf(stderr, "usage: serve_two OUT.json\n");
        return 2;
    }
    nctop_init(NULL);
    deadline = nctop_now_ns() + 10000000000ULL;
    while (!nctop_attached() && nctop_now_ns() < deadline) {
        sleep_until(nctop_now_ns() + 5000000ULL);
    }
    for (int i = 0; i < NTHREADS; i++) {
        memset(&reqs[i], 0, sizeof(reqs[i]));
        reqs[i].id = 1000 + (uint64_t)i;
        pthread_create(&th[i], NULL, serve, &reqs[i]);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
    }
    out = fopen(argv[1], "w");
    if (out == NULL) {
        perror(argv[1]);
        return 1;
    }
    fprintf(out, "{\"attached\":%s,\"ttft_ms\":[", nctop_attached() ? "true" : "false");
    for (int i = 0; i < NTHREADS; i++) {
        fprintf(out, "%s%.6f", i ? "," : "", (double)(reqs[i].tok_ns[0] - reqs[i].begin_ns) / 1e6);
    }
    fprintf(out, "],\"itl_ms\":[");
    for (int i = 0; i < NTHREADS; i++) {
        for (int k = 1; k <= NTOK; k++) {
            fprintf(out, "%s%.6f", i || k > 1 ? "," : "",
                    (double)(reqs[i].tok_ns[k] - reqs[i].tok_ns[k - 1]) / 1e6);
        }
    }
    fprintf(out, "],\"e2e_ms\":[");
    for (int i = 0; i < NTHREADS; i++) {
        fprintf(out, "%s%.6f", i ? "," : "", (double)(reqs[i].end_ns - reqs[i].begin_ns) / 1e6);
    }
    fprintf(out, "],\"prompt_tokens\":%d,\"generation_tokens\":%d}\n", NTHREADS * PROMPT_TOKENS,
            NTHREADS * (NTOK + 1));
    return fclose(out) == 0 ? 0 : 1;
}
