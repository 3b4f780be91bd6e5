/* SPDX-License-Identifier: MIT */
/* The LTTng-UST tracepoint bench/lttng_cost.c compares libnctop with: one event of the same
 * shape as a span event with its payload (two integers and a short string). Read twice by the
 * tracepoint machinery, as its providers must be. */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER nctop_bench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "bench/lttng_tp.h"

#if !defined(NCTOP_BENCH_LTTNG_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define NCTOP_BENCH_LTTNG_TP_H

#include <stdint.h>

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(nctop_bench, span,
                           LTTNG_UST_TP_ARGS(uint32_t, id, uint64_t, n, const char *, name),
                           LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint32_t, id, id)
                                                   lttng_ust_field_integer(uint64_t, n, n)
                                                       lttng_ust_field_string(name, name)))

#endif /* NCTOP_BENCH_LTTNG_TP_H */

#include <lttng/tracepoint-event.h>
