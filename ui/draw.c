/* SPDX-License-Identifier: MIT */
/* The drawing primitives of the display (UTF-8 aware puts, fills, bars, table cells), the
 * figures' short formats and the colour roles. Nothing here knows a view. */
#include "ui/ui_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/util.h"
#include "src/model/rows.h"

/* --- formatting ---------------------------------------------------------------------------- */

/* v / 10^dec with dec decimals (0, 1 or 2) and the unit, into buf (at least 32 bytes). */
static void draw_fmt_fixed(uint64_t v, unsigned dec, const char *unit, char *buf)
{
    char tmp[24];
    size_t n = 0, k = 0;

    do {
        tmp[n++] = (char)('0' + v % 10U);
        v /= 10U;
    } while (v != 0 || n <= dec);
    while (n > 0) {
        buf[k++] = tmp[--n];
        if (n == dec && dec > 0) {
            buf[k++] = '.';
        }
    }
    memcpy(buf + k, unit, strlen(unit) + 1U);
}

/* util_format_ns(ns, true) without printf: a cell of every row drawn. The rounding of
 * ns / 10^e to d decimals is exact in integers (rem against half of the unit) unless the
 * decimal value lies exactly halfway, where printf's rounding of the nearest double decides:
 * those (and the rare largest values) go to util_format_ns, so the text is the same. */
void draw_fmt_ns(uint64_t ns, char *buf, size_t len)
{
    static const struct {
        uint64_t below; /* ns below this */
        uint64_t step;  /* ns per last decimal shown */
        unsigned dec;
        const char *unit;
    } f[] = {
        {1000000ULL, 100ULL, 1, "us"},
        {1000000000ULL, 10000ULL, 2, "ms"},
        {1000000000000ULL, 10000000ULL, 2, "s"},
    };

    if (len < 32) {
        util_format_ns(ns, true, buf, len);
        return;
    }
    if (ns < 1000) {
        draw_fmt_fixed(ns, 0, "ns", buf);
        return;
    }
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        uint64_t q, rem;

        if (ns >= f[i].below) {
            continue;
        }
        q = ns / f[i].step;
        rem = ns % f[i].step;
        if (2U * rem == f[i].step) {
            break; /* halfway */
        }
        draw_fmt_fixed(q + (2U * rem > f[i].step), f[i].dec, f[i].unit, buf);
        return;
    }
    util_format_ns(ns, true, buf, len);
}

void draw_fmt_bytes(int64_t bytes, char *buf, size_t len)
{
    util_format_bytes(bytes, true, buf, len);
}

void draw_fmt_count(uint64_t n, char *buf, size_t len)
{
    if (n < 100000) {
        snprintf(buf, len, "%" PRIu64, n);
    } else if (n < 100000000) {
        snprintf(buf, len, "%.1fk", (double)n / 1e3);
    } else {
        snprintf(buf, len, "%.1fM", (double)n / 1e6);
    }
}

void draw_fmt_si(double v, const char *unit, char *buf, size_t len)
{
    static const struct {
        double scale;
        const char *prefix;
    } si[] = {
        {1e9, "G"},  {1e6, "M"},  {1e3, "k"},  {1.0, ""},
        {1e-3, "m"}, {1e-6, "u"}, {1e-9, "n"}, {1e-12, "p"},
    };
    size_t i = 0;

    /* the largest prefix that leaves at least 1 before the point (pico for anything less) */
    while (v != 0.0 && i + 1 < sizeof(si) / sizeof(si[0]) && fabs(v) < si[i].scale) {
        i++;
    }
    if (v == 0.0) {
        i = 3;
    }
    v /= si[i].scale;
    snprintf(buf, len,
             fabs(v) < 10.0    ? "%.2f%s%s"
             : fabs(v) < 100.0 ? "%.1f%s%s"
                               : "%.0f%s%s",
             v, si[i].prefix, unit);
}

const char *draw_state_name(const struct rows_summary *s)
{
    if (s->state == ROWS_STATE_LIVE) {
        return s->replayed ? "replay" : "live";
    }
    return s->state == ROWS_STATE_EXITED ? "exited" : "error";
}

/* --- drawing primitives -------------------------------------------------------------------- */

/* Columns of a UTF-8 string up to max bytes: one per character (the labels nctop shows are
 * names from programs, not wide scripts; wide characters may be counted short). */
int draw_cols(const char *s, size_t max)
{
    int n = 0;

    for (size_t i = 0; i < max && s[i] != '\0'; i++) {
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
    return n;
}

/* Bytes of s that fit in cols columns. */
static size_t draw_fit_bytes(const char *s, int cols)
{
    size_t i = 0;
    int n = 0;

    while (s[i] != '\0') {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (n == cols) {
                break;
            }
            n++;
        }
        i++;
    }
    return i;
}

/* The cursor where waddnstr leaves it, after what was written (the last cell at the
 * window's edge): a caller may measure a text by where it ends (ui_tabs_facts_width). */
static void draw_cursor_after(WINDOW *w, int y, int x)
{
    int ww = getmaxx(w);

    wmove(w, y, x < ww ? x : ww - 1);
}

/* Most of what a frame draws is figures: printable ASCII, one cell per byte, which go into
 * the window's line as they are, without the per-character path of waddnstr (control bytes,
 * multibyte sequences). Anything else (or a string longer than the buffer) is left to it:
 * false. maxw is within the window. */
static bool draw_put_ascii(WINDOW *w, int y, int x, int maxw, attr_t attr, const char *s, int *n)
{
    chtype cells[256];
    int k = 0;

    while (s[k] != '\0' && k < maxw) {
        unsigned char c = (unsigned char)s[k];

        if (c < 0x20 || c > 0x7E || k == (int)(sizeof(cells) / sizeof(cells[0]))) {
            return false;
        }
        cells[k++] = (chtype)c | (chtype)attr;
    }
    *n = k;
    if (k > 0) {
        mvwaddchnstr(w, y, x, cells, k);
    }
    draw_cursor_after(w, y, x + k);
    return true;
}

/* Write s at (y, x) of w in a role, never past column x + maxw nor the window's edge.
 * Returns the columns written. */
int draw_put(struct ui *u, WINDOW *w, int y, int x, int maxw, enum ui_role role, const char *s)
{
    int ww = getmaxx(w), n;
    size_t bytes;

    if (w == NULL || y < 0 || y >= getmaxy(w) || x < 0 || x >= ww || maxw <= 0) {
        return 0;
    }
    if (maxw > ww - x) {
        maxw = ww - x;
    }
    if (draw_put_ascii(w, y, x, maxw, u->role_attr[role], s, &n)) {
        return n;
    }
    bytes = draw_fit_bytes(s, maxw);
    n = draw_cols(s, bytes);
    wattrset(w, u->role_attr[role]);
    /* The bottom-right cell of a window makes waddnstr return ERR after writing: harmless. */
    mvwaddnstr(w, y, x, s, (int)bytes);
    wattrset(w, A_NORMAL);
    return n;
}

/* Right-aligned in a field of width wd at x. */
void draw_put_right(struct ui *u, WINDOW *w, int y, int x, int wd, enum ui_role role, const char *s)
{
    int n = draw_cols(s, strlen(s));

    if (n > wd) {
        draw_put(u, w, y, x, wd, role, s);
    } else {
        draw_put(u, w, y, x + wd - n, n, role, s);
    }
}

/* Fill a whole line of w with blanks in a role (selection and title bars). */
void draw_fill(struct ui *u, WINDOW *w, int y, enum ui_role role)
{
    int ww = getmaxx(w);

    if (y < 0 || y >= getmaxy(w)) {
        return;
    }
    wattrset(w, u->role_attr[role]);
    mvwhline(w, y, 0, ' ', ww);
    wattrset(w, A_NORMAL);
}

/* A bar of cells cells for frac in [0, 1] into buf: eighths in UTF-8, '|' in ASCII. */
static void draw_bar(struct ui *u, char *buf, size_t len, double frac, int cells)
{
    static const char *const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    size_t k = 0;
    int full, part;

    if (!(frac >= 0)) {
        frac = 0; /* and NaN */
    }
    if (frac > 1) {
        frac = 1;
    }
    full = (int)(frac * cells);
    part = (int)((frac * cells - full) * 8);
    buf[0] = '\0';
    for (int i = 0; i < cells && k + 4 < len; i++) {
        const char *g = " ";
        size_t gn;

        if (i < full) {
            g = u->utf8 ? "█" : "|";
        } else if (i == full && part > 0 && u->utf8) {
            g = eighths[part];
        }
        gn = strlen(g);
        memcpy(buf + k, g, gn + 1U);
        k += gn;
    }
}

/* draw_bar's bar for frac in role at (y, x), at most maxw columns and never past the window's
 * edge; returns the columns written. In UTF-8 the cells go into the line as wide characters
 * made once per bar (three kinds of cell), not one waddnstr per glyph. */
int draw_put_bar(struct ui *u, WINDOW *w, int y, int x, int maxw, enum ui_role role, double frac,
                 int cells)
{
    static const wchar_t *const eighths[] = {L" ", L"▏", L"▎", L"▍", L"▌", L"▋", L"▊", L"▉"};
    cchar_t line[256], full, part, blank;
    attr_t attr = u->role_attr[role];
    short pair = (short)PAIR_NUMBER(attr);
    int ww = w != NULL ? getmaxx(w) : 0, nfull, npart;

    if (!u->utf8 || cells > (int)(sizeof(line) / sizeof(line[0]))) {
        char buf[1100];

        draw_bar(u, buf, sizeof(buf), frac, cells);
        return draw_put(u, w, y, x, maxw, role, buf);
    }
    if (w == NULL || y < 0 || y >= getmaxy(w) || x < 0 || x >= ww || maxw <= 0 || cells <= 0) {
        return 0;
    }
    frac = !(frac >= 0) ? 0 : frac > 1 ? 1 : frac; /* NaN: empty */
    nfull = (int)(frac * cells);
    npart = (int)((frac * cells - nfull) * 8);
    attr &= ~(attr_t)A_COLOR;
    setcchar(&full, L"█", attr, pair, NULL);
    setcchar(&part, eighths[npart], attr, pair, NULL);
    setcchar(&blank, L" ", attr, pair, NULL);
    if (cells > maxw) {
        cells = maxw;
    }
    if (cells > ww - x) {
        cells = ww - x;
    }
    for (int i = 0; i < cells; i++) {
        line[i] = i < nfull ? full : i == nfull ? part : blank;
    }
    mvwadd_wchnstr(w, y, x, line, cells);
    draw_cursor_after(w, y, x + cells);
    return cells;
}

/* --- table cells ------------------------------------------------------------------------- */

/* "%5.1f%%" without printf: a cell of every row drawn. Rounded in integers, except where the
 * value lies so near a halfway point that printf's rounding of the double's exact value must
 * decide (and for what is out of range): those go to snprintf, so the text is the same. */
void draw_fmt_pct(double pct, char *buf, size_t len)
{
    double t = pct * 10.0, q = floor(t);
    uint64_t v;
    char num[32];
    size_t n;

    if (len < 16 || !(pct >= 0 && pct < 1e6) || fabs(t - q - 0.5) < 1e-6) {
        snprintf(buf, len, "%5.1f%%", pct);
        return;
    }
    v = (uint64_t)q + (t - q > 0.5);
    draw_fmt_fixed(v, 1, "%", num);
    n = strlen(num);
    memset(buf, ' ', n < 6 ? 6 - n : 0);
    memcpy(buf + (n < 6 ? 6 - n : 0), num, n + 1U);
}

void draw_cell_ns(struct ui *u, WINDOW *w, int y, const struct layout_place *p, bool valid,
                  uint64_t ns, enum ui_role base)
{
    char a[32];

    if (!valid) {
        draw_put_right(u, w, y, p->x, p->w, base == UI_ROLE_SELECT ? base : UI_ROLE_DIM, "-");
        return;
    }
    draw_fmt_ns(ns, a, sizeof(a));
    draw_put_right(u, w, y, p->x, p->w, base, a);
}

void draw_cell_share(struct ui *u, WINDOW *w, int y, const struct layout_place *p, bool valid,
                     double pct, enum ui_role base)
{
    char a[16];
    int cells = p->w - 7;

    if (!valid) {
        draw_put(u, w, y, p->x + 5, 1, base == UI_ROLE_SELECT ? base : UI_ROLE_DIM, "-");
        return;
    }
    draw_fmt_pct(pct > 999.9 ? 999.9 : pct, a, sizeof(a));
    draw_put(u, w, y, p->x, 6, base, a);
    if (cells > 0) {
        draw_put_bar(u, w, y, p->x + 7, cells, base == UI_ROLE_SELECT ? base : UI_ROLE_BAR,
                     pct / 100.0, cells);
    }
}

void draw_cell_bytes(struct ui *u, WINDOW *w, int y, const struct layout_place *p, bool valid,
                     int64_t bytes, enum ui_role base)
{
    char a[32];

    if (!valid) {
        draw_put_right(u, w, y, p->x, p->w, base == UI_ROLE_SELECT ? base : UI_ROLE_DIM, "-");
        return;
    }
    draw_fmt_bytes(bytes, a, sizeof(a));
    draw_put_right(u, w, y, p->x, p->w, base, a);
}

/* --- roles and colours --------------------------------------------------------------------- */

void draw_init_colors(struct ui *u, enum ui_color mode)
{
    const char *nc = getenv("NO_COLOR");
    bool rich;

    u->role_attr[UI_ROLE_TEXT] = A_NORMAL;
    u->role_attr[UI_ROLE_TITLE] = A_BOLD;
    u->role_attr[UI_ROLE_VALUE] = A_BOLD;
    u->role_attr[UI_ROLE_BAR] = A_NORMAL;
    u->role_attr[UI_ROLE_WARN] = A_BOLD;
    u->role_attr[UI_ROLE_COLHDR] = A_REVERSE;
    u->role_attr[UI_ROLE_SORTCOL] = A_REVERSE | A_BOLD | A_UNDERLINE;
    u->role_attr[UI_ROLE_SELECT] = A_REVERSE | A_BOLD;
    u->role_attr[UI_ROLE_FKEY] = A_BOLD;
    u->role_attr[UI_ROLE_FLABEL] = A_REVERSE;
    u->role_attr[UI_ROLE_TAB] = A_REVERSE | A_BOLD;
    u->role_attr[UI_ROLE_DIM] = A_DIM;
    u->role_attr[UI_ROLE_MATCH] = A_UNDERLINE | A_BOLD;

    u->color = false;
    if (mode == UI_COLOR_NEVER || (mode == UI_COLOR_AUTO && nc != NULL && nc[0] != '\0')) {
        return;
    }
    if (!has_colors() || start_color() == ERR) {
        return;
    }
    use_default_colors();
    u->color = true;
    /* 256-colour terminals get softer tones; 8-colour ones the basic set (htop's scheme). */
    rich = COLORS >= 256;
    init_pair(1, rich ? 81 : COLOR_CYAN, -1);
    init_pair(2, rich ? 114 : COLOR_GREEN, -1);
    init_pair(3, rich ? 203 : COLOR_RED, -1);
    init_pair(4, COLOR_BLACK, rich ? 114 : COLOR_GREEN);
    init_pair(5, COLOR_BLACK, rich ? 81 : COLOR_CYAN);
    init_pair(6, rich ? 244 : COLOR_BLUE, -1);
    init_pair(7, rich ? 221 : COLOR_YELLOW, -1);
    init_pair(8, COLOR_BLACK, rich ? 221 : COLOR_YELLOW);
    u->role_attr[UI_ROLE_TITLE] = COLOR_PAIR(1) | A_BOLD;
    u->role_attr[UI_ROLE_VALUE] = A_BOLD;
    u->role_attr[UI_ROLE_BAR] = COLOR_PAIR(2);
    u->role_attr[UI_ROLE_WARN] = COLOR_PAIR(3) | A_BOLD;
    u->role_attr[UI_ROLE_COLHDR] = COLOR_PAIR(4);
    u->role_attr[UI_ROLE_SORTCOL] = COLOR_PAIR(5) | A_BOLD;
    u->role_attr[UI_ROLE_SELECT] = COLOR_PAIR(5);
    u->role_attr[UI_ROLE_FKEY] = A_NORMAL;
    u->role_attr[UI_ROLE_FLABEL] = COLOR_PAIR(5);
    u->role_attr[UI_ROLE_TAB] = COLOR_PAIR(8);
    u->role_attr[UI_ROLE_DIM] = COLOR_PAIR(6);
    u->role_attr[UI_ROLE_MATCH] = COLOR_PAIR(7) | A_BOLD;
}
