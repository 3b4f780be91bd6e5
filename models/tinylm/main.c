/* SPDX-License-Identifier: MIT */
/* tinylm: nctop's reference workload. Serves requests (a random prompt, then generated
 * tokens) on a small random-weight transformer decoder until interrupted or a limit. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nctop.h>

#include "model.h"
#include "rng.h"
#include "selftest.h"
#include "workers.h"

#define TINYLM_PROMPT_STREAM 2 /* rng stream of the prompts; see rng_init() */

struct tinylm_opts {
    struct model_config model;
    int prompt;
    int gen;
    long long requests; /* 0 = until interrupted */
    long long tokens;   /* 0 = no limit */
    int threads;
    const char *label;
    bool quiet;
    bool print_tokens;
    bool selftest;
};

enum tinylm_opt {
    TINYLM_OPT_LAYERS = 256,
    TINYLM_OPT_DIM,
    TINYLM_OPT_HEADS,
    TINYLM_OPT_KV_HEADS,
    TINYLM_OPT_FFN,
    TINYLM_OPT_VOCAB,
    TINYLM_OPT_CTX,
    TINYLM_OPT_PROMPT,
    TINYLM_OPT_GEN,
    TINYLM_OPT_REQUESTS,
    TINYLM_OPT_TOKENS,
    TINYLM_OPT_THREADS,
    TINYLM_OPT_SEED,
    TINYLM_OPT_TEMPERATURE,
    TINYLM_OPT_TOP_K,
    TINYLM_OPT_LABEL,
    TINYLM_OPT_QUIET,
    TINYLM_OPT_PRINT_TOKENS,
    TINYLM_OPT_SELFTEST,
};

static const struct option tinylm_long_opts[] = {
    {"layers", required_argument, NULL, TINYLM_OPT_LAYERS},
    {"dim", required_argument, NULL, TINYLM_OPT_DIM},
    {"heads", required_argument, NULL, TINYLM_OPT_HEADS},
    {"kv-heads", required_argument, NULL, TINYLM_OPT_KV_HEADS},
    {"ffn", required_argument, NULL, TINYLM_OPT_FFN},
    {"vocab", required_argument, NULL, TINYLM_OPT_VOCAB},
    {"ctx", required_argument, NULL, TINYLM_OPT_CTX},
    {"prompt", required_argument, NULL, TINYLM_OPT_PROMPT},
    {"gen", required_argument, NULL, TINYLM_OPT_GEN},
    {"requests", required_argument, NULL, TINYLM_OPT_REQUESTS},
    {"tokens", required_argument, NULL, TINYLM_OPT_TOKENS},
    {"threads", required_argument, NULL, TINYLM_OPT_THREADS},
    {"seed", required_argument, NULL, TINYLM_OPT_SEED},
    {"temperature", required_argument, NULL, TINYLM_OPT_TEMPERATURE},
    {"top-k", required_argument, NULL, TINYLM_OPT_TOP_K},
    {"label", required_argument, NULL, TINYLM_OPT_LABEL},
    {"quiet", no_argument, NULL, TINYLM_OPT_QUIET},
    {"print-tokens", no_argument, NULL, TINYLM_OPT_PRINT_TOKENS},
    {"selftest", no_argument, NULL, TINYLM_OPT_SELFTEST},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Set from the signal handler, read between tokens: the current token always completes. */
static volatile sig_atomic_t tinylm_stop;

static void tinylm_usage(FILE *f)
{
    fprintf(f, "usage: tinylm [options]\n"
               "A small transformer decoder (random fp32 weights) instrumented with libnctop.\n"
               "Serves requests until SIGINT/SIGTERM or a limit below.\n"
               "  --layers N        transformer blocks (8)\n"
               "  --dim N           model width (512)\n"
               "  --heads N         query heads (8)\n"
               "  --kv-heads N      key/value heads, must divide --heads (2)\n"
               "  --ffn N           MLP hidden width (1408)\n"
               "  --vocab N         vocabulary size (32000)\n"
               "  --ctx N           KV cache capacity in tokens (512)\n"
               "  --prompt N        prompt tokens per request (16)\n"
               "  --gen N           generated tokens per request (64)\n"
               "  --requests N      requests to serve, 0 = until interrupted (0)\n"
               "  --tokens N        stop after N generated tokens in total, 0 = no limit (0)\n"
               "  --threads N       threads sharing each matmul (1)\n"
               "  --seed N          seed of weights, prompts and sampling (1)\n"
               "  --temperature X   sampling temperature, 0 = greedy (0.8)\n"
               "  --top-k N         sample among the N most likely tokens (40)\n"
               "  --label NAME      the name nctop shows for this process\n"
               "  --quiet           no per-request lines on stderr\n"
               "  --print-tokens    print each request's generated token ids on stdout\n"
               "  --selftest        check the kernels and determinism, then exit 0 or 1\n"
               "  -h, --help        show this help\n");
}

static void tinylm_on_signal(int sig)
{
    (void)sig;
    tinylm_stop = 1;
}

/* Parse a whole decimal integer in [min, max]; print one line and return false if not. */
static bool tinylm_parse_ll(const char *opt, const char *arg, long long min, long long max,
                            long long *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "tinylm: --%s: expected an integer in %lld..%lld, got '%s'\n", opt, min,
                max, arg);
        return false;
    }
    *out = v;
    return true;
}

static bool tinylm_parse_int(const char *opt, const char *arg, int min, int max, int *out)
{
    long long v;

    if (!tinylm_parse_ll(opt, arg, min, max, &v))
        return false;
    *out = (int)v;
    return true;
}

static bool tinylm_parse_seed(const char *arg, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(arg, &end, 10);
    /* strtoull accepts "-1" and wraps it: refuse any sign */
    if (errno != 0 || end == arg || *end != '\0' || strchr(arg, '-') || strchr(arg, '+')) {
        fprintf(stderr, "tinylm: --seed: expected an integer in 0..%" PRIu64 ", got '%s'\n",
                UINT64_MAX, arg);
        return false;
    }
    *out = v;
    return true;
}

static bool tinylm_parse_temperature(const char *arg, float *out)
{
    char *end;
    float v;

    errno = 0;
    v = strtof(arg, &end);
    if (errno != 0 || end == arg || *end != '\0' || !(v >= 0.0f && v <= 100.0f)) {
        fprintf(stderr, "tinylm: --temperature: expected a number in 0..100, got '%s'\n", arg);
        return false;
    }
    *out = v;
    return true;
}

/* Option values that only make sense together. */
static bool tinylm_check_opts(const struct tinylm_opts *o)
{
    const struct model_config *c = &o->model;
    const char *why = NULL;

    if (c->dim % c->n_heads != 0 || (c->dim / c->n_heads) % 2 != 0)
        why = "--dim must be a multiple of 2 * --heads (RoPE rotates pairs)";
    else if (c->n_heads % c->n_kv_heads != 0)
        why = "--kv-heads must divide --heads";
    else if (o->prompt + o->gen > c->ctx)
        why = "--prompt + --gen must not exceed --ctx";
    else if (c->top_k > c->vocab)
        why = "--top-k must not exceed --vocab";
    if (why) {
        fprintf(stderr, "tinylm: %s\n", why);
        return false;
    }
    return true;
}

/* Returns 0 to run, 1 when --help was shown, -1 on a usage error (already reported). */
static int tinylm_parse_opts(int argc, char **argv, struct tinylm_opts *o)
{
    struct model_config *c = &o->model;
    bool ok = true;
    int ch;

    opterr = 0; /* our own one-line messages instead of getopt's */
    while (ok && (ch = getopt_long(argc, argv, "h", tinylm_long_opts, NULL)) != -1) {
        switch (ch) {
        case TINYLM_OPT_LAYERS:
            ok = tinylm_parse_int("layers", optarg, 1, 256, &c->n_layers);
            break;
        case TINYLM_OPT_DIM:
            ok = tinylm_parse_int("dim", optarg, 2, 16384, &c->dim);
            break;
        case TINYLM_OPT_HEADS:
            ok = tinylm_parse_int("heads", optarg, 1, 1024, &c->n_heads);
            break;
        case TINYLM_OPT_KV_HEADS:
            ok = tinylm_parse_int("kv-heads", optarg, 1, 1024, &c->n_kv_heads);
            break;
        case TINYLM_OPT_FFN:
            ok = tinylm_parse_int("ffn", optarg, 1, 65536, &c->ffn_dim);
            break;
        case TINYLM_OPT_VOCAB:
            ok = tinylm_parse_int("vocab", optarg, 2, 1048576, &c->vocab);
            break;
        case TINYLM_OPT_CTX:
            ok = tinylm_parse_int("ctx", optarg, 2, 1048576, &c->ctx);
            break;
        case TINYLM_OPT_PROMPT:
            ok = tinylm_parse_int("prompt", optarg, 1, 1048576, &o->prompt);
            break;
        case TINYLM_OPT_GEN:
            ok = tinylm_parse_int("gen", optarg, 1, 1048576, &o->gen);
            break;
        case TINYLM_OPT_REQUESTS:
            ok = tinylm_parse_ll("requests", optarg, 0, LLONG_MAX, &o->requests);
            break;
        case TINYLM_OPT_TOKENS:
            ok = tinylm_parse_ll("tokens", optarg, 0, LLONG_MAX, &o->tokens);
            break;
        case TINYLM_OPT_THREADS:
            ok = tinylm_parse_int("threads", optarg, 1, 256, &o->threads);
            break;
        case TINYLM_OPT_SEED:
            ok = tinylm_parse_seed(optarg, &c->seed);
            break;
        case TINYLM_OPT_TEMPERATURE:
            ok = tinylm_parse_temperature(optarg, &c->temperature);
            break;
        case TINYLM_OPT_TOP_K:
            ok = tinylm_parse_int("top-k", optarg, 1, 1048576, &c->top_k);
            break;
        case TINYLM_OPT_LABEL:
            o->label = optarg;
            break;
        case TINYLM_OPT_QUIET:
            o->quiet = true;
            break;
        case TINYLM_OPT_PRINT_TOKENS:
            o->print_tokens = true;
            break;
        case TINYLM_OPT_SELFTEST:
            o->selftest = true;
            break;
        case 'h':
            tinylm_usage(stdout);
            return 1;
        default:
            if (optopt >= TINYLM_OPT_LAYERS)
                fprintf(stderr, "tinylm: %s needs a value (see --help)\n", argv[optind - 1]);
            else
                fprintf(stderr, "tinylm: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return -1;
        }
    }
    if (!ok)
        return -1;
    if (optind < argc) {
        fprintf(stderr, "tinylm: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    return tinylm_check_opts(o) ? 0 : -1;
}

static void tinylm_on_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = tinylm_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static double tinylm_ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

/* Serve one request: prefill the prompt token by token, then generate up to gen tokens
 * (fewer when the token budget runs out or a signal arrives). Returns tokens generated. */
static long long tinylm_request(const struct tinylm_opts *o, struct model *m, struct rng *r,
                                long long req, long long budget)
{
    uint64_t t_begin = nctop_now_ns();
    uint64_t t_first = 0, t_last = 0;
    long long n_gen = 0;
    int token = 0;

    model_reset(m);
    nctop_step(NCTOP_STEP_REQUEST_BEGIN, 0);

    /* only the last prompt token needs logits: it predicts the first generated token */
    for (int i = 0; i < o->prompt && !tinylm_stop; i++) {
        int prompt_token = (int)rng_next_below(r, (uint32_t)o->model.vocab);

        token = model_step(m, prompt_token, i == o->prompt - 1);
    }
    while (token >= 0 && !tinylm_stop) {
        nctop_step(NCTOP_STEP_TOKEN, 1);
        n_gen++;
        t_last = nctop_now_ns();
        if (n_gen == 1)
            t_first = t_last;
        if (o->print_tokens)
            printf("%s%d", n_gen == 1 ? "" : " ", token);
        if (n_gen == o->gen || n_gen == budget)
            break;
        token = model_step(m, token, true);
    }
    nctop_step(NCTOP_STEP_REQUEST_END, 0);

    if (o->print_tokens && n_gen > 0) {
        putchar('\n');
        fflush(stdout);
    }
    if (!o->quiet && n_gen > 0) {
        char decode[32] = "-";

        /* decode speed needs two tokens: the first one's time is the prefill's */
        if (n_gen > 1)
            snprintf(decode, sizeof(decode), "%.1f",
                     tinylm_ms(t_last - t_first) / (double)(n_gen - 1));
        fprintf(stderr,
                "tinylm: request %lld: %d prompt + %lld generated tokens, prefill %.1f "
                "ms/token, decode %s ms/token\n",
                req, o->prompt, n_gen, tinylm_ms(t_first - t_begin) / o->prompt, decode);
    }
    return n_gen;
}

int main(int argc, char **argv)
{
    struct tinylm_opts o = {
        .model = {.n_layers = 8,
                  .dim = 512,
                  .n_heads = 8,
                  .n_kv_heads = 2,
                  .ffn_dim = 1408,
                  .vocab = 32000,
                  .ctx = 512,
                  .temperature = 0.8f,
                  .top_k = 40,
                  .seed = 1},
        .prompt = 16,
        .gen = 64,
        .threads = 1,
    };
    struct workers *workers = NULL;
    struct model *m = NULL;
    struct rng prompts;
    long long generated = 0;
    int rc;

    rc = tinylm_parse_opts(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (o.selftest)
        return selftest_run() == 0 ? 0 : 1;

    if (o.label)
        nctop_set_label(o.label);
    tinylm_on_signals();
    workers = workers_new(o.threads);
    if (!workers) {
        fprintf(stderr, "tinylm: cannot start %d threads: %s\n", o.threads, strerror(errno));
        return 1;
    }
    m = model_new(&o.model, workers);
    if (!m) {
        fprintf(stderr, "tinylm: cannot allocate the model: %s (try smaller --dim/--vocab)\n",
                strerror(errno));
        workers_free(workers);
        return 1;
    }
    if (!o.quiet) {
        fprintf(stderr, "tinylm: pid %d, %d layers, dim %d, %.1f MiB of weights, %d thread%s\n",
                (int)getpid(), o.model.n_layers, o.model.dim,
                (double)model_weight_bytes(m) / 1048576.0, o.threads, o.threads > 1 ? "s" : "");
    }

    rng_init(&prompts, o.model.seed, TINYLM_PROMPT_STREAM);
    for (long long req = 1; !tinylm_stop && (o.requests == 0 || req <= o.requests); req++) {
        long long budget = o.tokens == 0 ? LLONG_MAX : o.tokens - generated;

        generated += tinylm_request(&o, m, &prompts, req, budget);
        if (o.tokens != 0 && generated >= o.tokens)
            break;
    }

    /* nothing is lost silently: say so when nctop could not keep up with us */
    if (!o.quiet && nctop_dropped() > 0)
        fprintf(stderr, "tinylm: %" PRIu64 " nctop events dropped\n", nctop_dropped());

    /* returning from main lets libnctop's exit handler remove the segment */
    model_free(m);
    workers_free(workers);
    return 0;
}
