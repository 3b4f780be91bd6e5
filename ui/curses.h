/* SPDX-License-Identifier: MIT */
/* The one include of curses in nctop (docs/HACKING.md, Layers): ncursesw, for UTF-8 drawing. */
#ifndef NCTOP_UI_CURSES_H
#define NCTOP_UI_CURSES_H

#include <ncursesw/curses.h>

#endif /* NCTOP_UI_CURSES_H */
