/* SPDX-License-Identifier: MIT */
/* nctop export --chrome-trace: a recording as Chrome trace event JSON, which Perfetto UI and
 * chrome://tracing open (spans as B/E slices per thread, kernels as X slices on a kernel
 * track per backend, counters and memory gauges as counter tracks). */
#ifndef NCTOP_SRC_EXPORT_CHROME_H
#define NCTOP_SRC_EXPORT_CHROME_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Convert the recording data (len bytes, borrowed) into a trace written to out. Returns the
 * number of trace events written, or -errno (-EINVAL: not a recording, -EIO: write error);
 * *err (owned by the caller, may be set even on success) says what was wrong: a damaged
 * recording is converted up to the damage. */
long export_chrome_trace(const void *data, size_t len, FILE *out, char **err);

#endif /* NCTOP_SRC_EXPORT_CHROME_H */
