/* SPDX-License-Identifier: MIT */
/* A tiny workload for test_sdk: nested NCTOP_SCOPE blocks in C (the cleanup attribute) with a
 * memory delta inside each inner scope. Prints nothing; exits 0. */
#include <stdint.h>

#include "nctop.h"

static void scope_inner(int64_t bytes)
{
    NCTOP_SCOPE("inner");
    nctop_mem_delta(bytes);
}

int main(void)
{
    {
        NCTOP_SCOPE("outer");
        for (int64_t i = 1; i <= 3; i++) {
            scope_inner(64 * i);
        }
    }
    return 0;
}
