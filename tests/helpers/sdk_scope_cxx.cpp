/* SPDX-License-Identifier: MIT */
/* The C++ side of nctop.h for test_sdk: nctop::Span through NCTOP_SCOPE, nested, including a
 * scope left by an exception, which must still close its span. Prints nothing; exits 0. */
#include <cstdint>
#include <stdexcept>

#include "nctop.h"

static void scope_inner(int64_t bytes)
{
    NCTOP_SCOPE("inner");
    nctop_mem_delta(bytes);
    if (bytes == 128) {
        throw std::runtime_error("leave the scope by unwinding");
    }
}

int main()
{
    {
        NCTOP_SCOPE("outer");
        for (int64_t i = 1; i <= 3; i++) {
            try {
                scope_inner(64 * i);
            } catch (const std::runtime_error &) {
            }
        }
    }
    return 0;
}
