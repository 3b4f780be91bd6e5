// SPDX-License-Identifier: MIT
// The C++ form of hello_nctop: NCTOP_SCOPE is an RAII object that caches the name's id.
// Build: c++ hello_nctop.cpp $(pkg-config --cflags --libs nctop) -o hello_nctop_cpp
#include <cstdio>
#include <cstdlib>
#include <nctop.h>

static void work(int depth)
{
    NCTOP_SCOPE("work");
    if (depth > 0) {
        work(depth - 1);
    }
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? std::atoi(argv[1]) : 100;

    for (int i = 0; i < steps; i++) {
        NCTOP_SCOPE("step");
        work(2);
    }
    std::printf("hello_nctop_cpp: %d steps\n", steps);
    return 0;
}
