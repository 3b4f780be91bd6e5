/* SPDX-License-Identifier: MIT */
/* Fuzz the Chrome trace replay parser (collectors/replay_chrome.c: trace event JSON from
 * profilers). The input is a trace; its conversion must be a well-formed recording (every record
 * decodes, a clean end), which is then played into a store (a quarter of them snapshotted:
 * fuzz_snapshot_due). */
#include <stddef.h>
#include <stdint.h>

#include "collectors/replay/replay_internal.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_memfile fuzz_file;

static long fuzz_convert(const char *text, size_t len, struct record_writer *w,
                         struct replay_problems *pr)
{
    return replay_chrome_convert("fuzz.json", text, len, w, pr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_file.path[0] == '\0') {
        fuzz_memfile_open(&fuzz_file, "fuzz-replay-chrome");
    }
    fuzz_convert_and_play(&fuzz_file, data, size, fuzz_convert);
    return 0;
}
