/* SPDX-License-Identifier: MIT */
/* The ncurses dashboard: a header of process facts and meters, tabs, one view of rows (latency
 * tree, memory tree, kernels, workloads, threads), a status line and an htop-style footer.
 * Keys go through one table of actions that return reactions; the loop does the rest. */
#include "ui/ui.h"

#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "diag.h"
#include "rows.h"
#include "ui/curses.h"
#include "ui/layout.h"
#include "ui/tree.h"
#include "util.h"
#include "xalloc.h"

#define UI_HEADER_LINES 4
#define UI_PROMPT_MAX 64
#define UI_WHEEL_LINES 3
#define UI_STATE_LIVE 0 /* enum store_proc_state, as rows_summary.state carries it */
#define UI_STATE_EXITED 1

/* Colour pairs; without colours each role falls back to attributes alone. */
enum ui_role {
    UI_ROLE_TEXT = 0,
    UI_ROLE_TITLE,   /* the workload label, key names in the header */
    UI_ROLE_VALUE,   /* header figures */
    UI_ROLE_BAR,     /* meters and share bars */
    UI_ROLE_WARN,    /* drops, errors, exited */
    UI_ROLE_COLHDR,  /* column titles */
    UI_ROLE_SORTCOL, /* the sort column's title */
    UI_ROLE_SELECT,  /* the selected line */
    UI_ROLE_FKEY,    /* footer key */
    UI_ROLE_FLABEL,  /* footer label */
    UI_ROLE_TAB,     /* the active tab */
    UI_ROLE_DIM,     /* absent values, tree guides */
    UI_ROLE_MATCH,   /* filter and search matches */
    UI_NROLES,
};

enum ui_prompt {
    UI_PROMPT_NONE = 0,
    UI_PROMPT_SEARCH,
    UI_PROMPT_FILTER,
};

struct ui {
    SCREEN *scr;
    FILE *in;
    FILE *out;
    bool utf8;
    bool color;
    attr_t role_attr[UI_NROLES];
    int width, height;
    struct layout lay;
    WINDOW *kbd; /* input only: never drawn, so wgetch never repaints anything */
    WINDOW *w_header, *w_tabs, *w_colhdr, *w_body, *w_status, *w_footer, *w_help;

    enum layout_view view;
    struct tree *trees[LAYOUT_NVIEWS]; /* the tree views: latency, memory, kernels */
    int sort_col[LAYOUT_NVIEWS];
    bool sort_asc[LAYOUT_NVIEWS];
    uint32_t columns;
    uint32_t view_columns[LAYOUT_NVIEWS];
    bool since_start; /* statistics since start instead of the rolling window */
    bool frozen;
    bool help;
    size_t help_top;
    uint64_t delay_ns;
    int32_t sel_pid;
    size_t list_sel[LAYOUT_NVIEWS]; /* workloads and threads: the selected line */
    size_t list_top[LAYOUT_NVIEWS];

    enum ui_prompt prompt;
    char prompt_text[UI_PROMPT_MAX];
    char search[UI_PROMPT_MAX];
    char message[128]; /* the UI's own status (search not found...), until the next key */

    const struct ui_frame *frame; /* borrowed: the last frame drawn */
    struct ui_frame frame_copy;
    double *mshare; /* memory: share of the parent, or -1 (rows_memory_shares) */
    size_t mshare_cap;
    struct layout_place cols[LAYOUT_NCOLS];
    size_t ncols;
};

/* The reactions of one key. */
typedef unsigned (*ui_action_fn)(struct ui *u);

struct ui_binding {
    int keys[5];       /* curses key codes, 0 ends the list */
    const char *names; /* as the help screen and man page show them */
    const char *what;
    ui_action_fn action;
};

static struct ui *ui_active; /* for the fatal() hook: end curses before printing */

static void ui_draw_help(struct ui *u);

/* --- formatting ---------------------------------------------------------------------------- */

static void ui_fmt_ns(uint64_t ns, char *buf, size_t len)
{
    util_format_ns(ns, true, buf, len);
}

static void ui_fmt_bytes(int64_t bytes, char *buf, size_t len)
{
    util_format_bytes(bytes, true, buf, len);
}

static void ui_fmt_count(uint64_t n, char *buf, size_t len)
{
    if (n < 100000) {
        snprintf(buf, len, "%" PRIu64, n);
    } else if (n < 100000000) {
        snprintf(buf, len, "%.1fk", (double)n / 1e3);
    } else {
        snprintf(buf, len, "%.1fM", (double)n / 1e6);
    }
}

/* --- drawing primitives -------------------------------------------------------------------- */

/* Columns of a UTF-8 string up to max bytes: one per character (the labels nctop shows are
 * names from programs, not wide scripts; wide characters may be counted short). */
static int ui_cols(const char *s, size_t max)
{
    int n = 0;

    for (size_t i = 0; i < max && s[i] != '\0'; i++) {
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
    return n;
}

/* Bytes of s that fit in cols columns. */
static size_t ui_fit_bytes(const char *s, int cols)
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

/* Write s at (y, x) of w in a role, never past column x + maxw nor the window's edge.
 * Returns the columns written. */
static int ui_put(struct ui *u, WINDOW *w, int y, int x, int maxw, enum ui_role role, const char *s)
{
    int ww = getmaxx(w), n;
    size_t bytes;

    if (w == NULL || y < 0 || y >= getmaxy(w) || x < 0 || x >= ww || maxw <= 0) {
        return 0;
    }
    if (maxw > ww - x) {
        maxw = ww - x;
    }
    bytes = ui_fit_bytes(s, maxw);
    n = ui_cols(s, bytes);
    wattrset(w, u->role_attr[role]);
    /* The bottom-right cell of a window makes waddnstr return ERR after writing: harmless. */
    mvwaddnstr(w, y, x, s, (int)bytes);
    wattrset(w, A_NORMAL);
    return n;
}

/* Right-aligned in a field of width wd at x. */
static void ui_put_right(struct ui *u, WINDOW *w, int y, int x, int wd, enum ui_role role,
                         const char *s)
{
    int n = ui_cols(s, strlen(s));

    if (n > wd) {
        ui_put(u, w, y, x, wd, role, s);
    } else {
        ui_put(u, w, y, x + wd - n, n, role, s);
    }
}

/* Fill a whole line of w with blanks in a role (selection and title bars). */
static void ui_fill(struct ui *u, WINDOW *w, int y, enum ui_role role)
{
    int ww = getmaxx(w);

    if (y < 0 || y >= getmaxy(w)) {
        return;
    }
    wattrset(w, u->role_attr[role]);
    mvwhline(w, y, 0, ' ', ww);
    wattrset(w, A_NORMAL);
}

/* A bar of width cells for frac in [0, 1]: eighths in UTF-8, '|' in ASCII (htop). */
static void ui_bar(struct ui *u, char *buf, size_t len, double frac, int cells)
{
    static const char *const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    size_t k = 0;
    int full, part;

    if (frac < 0) {
        frac = 0;
    }
    if (frac > 1) {
        frac = 1;
    }
    full = (int)(frac * cells);
    part = (int)((frac * cells - full) * 8);
    buf[0] = '\0';
    for (int i = 0; i < cells && k + 4 < len; i++) {
        const char *g = " ";

        if (i < full) {
            g = u->utf8 ? "█" : "|";
        } else if (i == full && part > 0 && u->utf8) {
            g = eighths[part];
        }
        k += (size_t)snprintf(buf + k, len - k, "%s", g);
    }
}

/* --- roles and colours --------------------------------------------------------------------- */

static void ui_init_colors(struct ui *u, enum ui_color mode)
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

/* --- windows ------------------------------------------------------------------------------- */

static void ui_del_windows(struct ui *u)
{
    WINDOW **ws[] = {&u->w_header, &u->w_tabs,   &u->w_colhdr, &u->w_body,
                     &u->w_status, &u->w_footer, &u->w_help};

    for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
        if (*ws[i] != NULL) {
            delwin(*ws[i]);
            *ws[i] = NULL;
        }
    }
}

static WINDOW *ui_win(const struct layout_rect *r)
{
    return r->h > 0 && r->w > 0 ? newwin(r->h, r->w, r->y, r->x) : NULL;
}

static int ui_header_want(const struct ui *u)
{
    (void)u;
    return UI_HEADER_LINES;
}

/* Windows follow the layout of the current size; recreated on every resize. */
static void ui_make_windows(struct ui *u)
{
    ui_del_windows(u);
    layout_screen(u->width, u->height, ui_header_want(u), &u->lay);
    u->w_header = ui_win(&u->lay.header);
    u->w_tabs = ui_win(&u->lay.tabs);
    u->w_colhdr = ui_win(&u->lay.colhdr);
    u->w_body = ui_win(&u->lay.body);
    u->w_status = ui_win(&u->lay.status);
    u->w_footer = ui_win(&u->lay.footer);
    if (u->width > 0 && u->height > 0) {
        u->w_help = newwin(u->height, u->width, 0, 0);
    }
}

/* --- the frame's derived data -------------------------------------------------------------- */

static const struct rows_summary *ui_shown(const struct ui *u)
{
    const struct ui_frame *f = u->frame;

    return f != NULL && f->sel_proc < f->nprocs ? &f->procs[f->sel_proc] : NULL;
}

static bool ui_is_tree_view(enum layout_view v)
{
    return v == LAYOUT_VIEW_LATENCY || v == LAYOUT_VIEW_MEMORY || v == LAYOUT_VIEW_KERNELS;
}

static const struct row_stats *ui_stats(const struct ui *u, const struct row *r, bool *valid)
{
    if (u->since_start) {
        *valid = (r->flags & ROW_F_ALL) != 0;
        return &r->all;
    }
    *valid = (r->flags & ROW_F_WIN) != 0;
    return &r->win;
}

/* Flatten the active tree view over the frame's rows with its sort: the one rows_sort does
 * for the text report too, so the display and --once cannot disagree. */
static void ui_flatten(struct ui *u)
{
    const struct rows *rows = u->frame != NULL ? u->frame->rows : NULL;
    struct tree *t = u->trees[u->view];
    int col = u->sort_col[u->view];
    struct rows_sort sort = {
        .key = col != UI_SORT_NONE ? layout_col_sort_key((enum layout_col_id)col) : ROWS_SORT_NONE,
        /* Names read A to Z; figures largest first (htop); 'I' inverts either. */
        .reverse = u->sort_asc[u->view],
        .since_start = u->since_start,
    };

    if (t == NULL) {
        return;
    }
    if (rows != NULL && rows->n > u->mshare_cap) {
        u->mshare_cap = rows->n * 2;
        u->mshare = xreallocarray(u->mshare, u->mshare_cap, sizeof(*u->mshare));
    }
    if (rows != NULL && u->view == LAYOUT_VIEW_MEMORY && rows->n > 0) {
        rows_memory_shares(rows, u->mshare);
    }
    tree_flatten(t, rows, &sort);
}

/* --- header -------------------------------------------------------------------------------- */

static const char *ui_state_name(const struct rows_summary *s)
{
    if (s->state == UI_STATE_LIVE) {
        return s->replayed ? "replay" : "live";
    }
    return s->state == UI_STATE_EXITED ? "exited" : "error";
}

/* A label and value pair in the header; returns the new x. */
static int ui_pair(struct ui *u, WINDOW *w, int y, int x, const char *label, const char *value,
                   enum ui_role vrole)
{
    int ww = getmaxx(w);

    if (x >= ww) {
        return x;
    }
    x += ui_put(u, w, y, x, ww - x, UI_ROLE_TITLE, label);
    x += ui_put(u, w, y, x, ww - x, UI_ROLE_TEXT, " ");
    x += ui_put(u, w, y, x, ww - x, vrole, value);
    x += ui_put(u, w, y, x, ww - x, UI_ROLE_TEXT, "  ");
    return x;
}

static void ui_sparkline(struct ui *u, const struct rows_summary *s, char *buf, size_t len)
{
    static const char *const ticks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static const char ascii[] = "_.-=+*#@";
    uint64_t lo = UINT64_MAX, hi = 0;
    size_t k = 0;

    buf[0] = '\0';
    for (uint32_t i = 0; i < s->nrecent; i++) {
        uint64_t v = s->step_recent_ns[i];

        if (v > 0) {
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    }
    if (hi == 0) {
        return;
    }
    for (uint32_t i = 0; i < s->nrecent && k + 4 < len; i++) {
        uint64_t v = s->step_recent_ns[i];
        int level = hi > lo ? (int)((v - lo) * 7 / (hi - lo)) : 3;

        if (v == 0) {
            k += (size_t)snprintf(buf + k, len - k, " ");
        } else if (u->utf8) {
            k += (size_t)snprintf(buf + k, len - k, "%s", ticks[level]);
        } else {
            k += (size_t)snprintf(buf + k, len - k, "%c", ascii[level]);
        }
    }
}

/* Memory rows with a capacity under KV cache and pools make the meters. */
static int ui_meters(struct ui *u, WINDOW *w, int y)
{
    const struct rows *m = u->frame->memory;
    int ww = getmaxx(w), x = 0, shown = 0;

    for (size_t i = 0; m != NULL && i < m->n && x < ww; i++) {
        const struct row *r = &m->v[i];
        char used[16], cap[16], bar[64], text[48];
        int cells;

        if (!(r->flags & ROW_F_CAPACITY) || r->capacity_bytes == 0 || r->level == 0) {
            continue;
        }
        ui_fmt_bytes(r->bytes, used, sizeof(used));
        ui_fmt_bytes((int64_t)r->capacity_bytes, cap, sizeof(cap));
        snprintf(text, sizeof(text), "%s/%s", used, cap);
        /* label[bar used/cap]: the bar gets what is left of a third of the width */
        cells = ww / 3 - ui_cols(r->label, strlen(r->label)) - (int)strlen(text) - 4;
        if (cells > 20) {
            cells = 20;
        }
        if (cells < 4) {
            cells = 4;
        }
        x += ui_put(u, w, y, x, ww - x, UI_ROLE_TITLE, r->label);
        x += ui_put(u, w, y, x, ww - x, UI_ROLE_TEXT, "[");
        ui_bar(u, bar, sizeof(bar), (double)r->bytes / (double)r->capacity_bytes, cells);
        x += ui_put(u, w, y, x, ww - x, UI_ROLE_BAR, bar);
        x += ui_put(u, w, y, x, ww - x, UI_ROLE_TEXT, " ");
        x += ui_put(u, w, y, x, ww - x, UI_ROLE_VALUE, text);
        x += ui_put(u, w, y, x, ww - x, UI_ROLE_TEXT, "]  ");
        shown++;
    }
    return shown;
}

/* The GPU part of the header: one device in full ("GPU0 name 87% 30.1G/80.0G"), several
 * summarised (count, the name when they share one, mean utilization, memory summed). */
static int ui_gpu_part(struct ui *u, WINDOW *w, int y, int x, const struct rows_gpus *g)
{
    char key[32], val[192], used[32], total[32];
    const char *name = g->v[0].name;
    double util = 0;
    uint64_t mused = 0, mtotal = 0;
    size_t nutil = 0, nmem = 0;
    int len;

    for (size_t i = 0; i < g->n; i++) {
        if (strcmp(g->v[i].name, name) != 0) {
            name = "";
        }
        if (g->v[i].util_valid) {
            util += g->v[i].util_pct;
            nutil++;
        }
        if (g->v[i].mem_valid) {
            mused += g->v[i].mem_used_bytes;
            mtotal += g->v[i].mem_total_bytes;
            nmem++;
        }
    }
    if (g->n == 1) {
        snprintf(key, sizeof(key), "GPU%u", (unsigned)g->v[0].index);
        len = snprintf(val, sizeof(val), "%s", name);
    } else {
        snprintf(key, sizeof(key), "GPUs");
        len = snprintf(val, sizeof(val), "%zux%s%s%s", g->n, name[0] ? " " : "", name,
                       nutil > 0 ? " avg" : "");
    }
    if (nutil > 0 && len >= 0 && (size_t)len < sizeof(val)) {
        len += snprintf(val + len, sizeof(val) - (size_t)len, " %.0f%%", util / (double)nutil);
    }
    if (nmem > 0 && len >= 0 && (size_t)len < sizeof(val)) {
        ui_fmt_bytes((int64_t)mused, used, sizeof(used));
        ui_fmt_bytes((int64_t)mtotal, total, sizeof(total));
        snprintf(val + len, sizeof(val) - (size_t)len, " %s/%s", used, total);
    }
    return ui_pair(u, w, y, x, key, val[0] == ' ' ? val + 1 : val, UI_ROLE_VALUE);
}

/* TTFT and inter-token latency: the window's p50 (else since start, as the step figure), each
 * with its p95 beside while the line keeps room for both p50s; the text report and the JSON
 * give the same figures. Returns the next x. */
static int ui_markers(struct ui *u, WINDOW *w, int y, int x, const struct rows_summary *s)
{
    static const char *const keys[2] = {"TTFT p50", "ITL p50"};
    const struct rows_marker *m[2] = {&s->ttft, &s->itl};
    char p50[2][32], p95[2][32], val[80];
    bool on[2], wide[2] = {false, false};
    int need = 0;

    for (int k = 0; k < 2; k++) {
        const struct row_stats *st = m[k]->win.count > 0 ? &m[k]->win : &m[k]->all;

        on[k] = m[k]->valid && st->count > 0;
        if (on[k]) {
            ui_fmt_ns(st->p50_ns, p50[k], sizeof(p50[k]));
            ui_fmt_ns(st->p95_ns, p95[k], sizeof(p95[k]));
            need += (int)(strlen(keys[k]) + 1 + strlen(p50[k]) + 2);
        }
    }
    for (int k = 0; k < 2; k++) {
        int more = (int)(strlen(" p95 ") + strlen(p95[k]));

        if (on[k] && x + need + more <= getmaxx(w)) {
            wide[k] = true;
            need += more;
        }
    }
    for (int k = 0; k < 2; k++) {
        if (!on[k]) {
            continue;
        }
        if (wide[k]) {
            snprintf(val, sizeof(val), "%s p95 %s", p50[k], p95[k]);
        } else {
            snprintf(val, sizeof(val), "%s", p50[k]);
        }
        x = ui_pair(u, w, y, x, keys[k], val, UI_ROLE_VALUE);
    }
    return x;
}

static void ui_draw_header(struct ui *u)
{
    WINDOW *w = u->w_header;
    const struct ui_frame *f = u->frame;
    const struct rows_summary *s = ui_shown(u);
    char a[64], b[64], c[160];
    int x = 0, y = 0, ww;

    if (w == NULL) {
        return;
    }
    ww = getmaxx(w);
    werase(w);
    x += ui_put(u, w, y, x, ww - x, UI_ROLE_VALUE, "nctop ");
    if (s == NULL) {
        ui_put(u, w, y, x, ww - x, UI_ROLE_DIM,
               "waiting for workloads (programs linked with libnctop)...");
    } else {
        x += ui_put(u, w, y, x, ww - x, UI_ROLE_TITLE, s->label && *s->label ? s->label : "?");
        snprintf(a, sizeof(a), " pid %d ", (int)s->pid);
        x += ui_put(u, w, y, x, ww - x, UI_ROLE_TEXT, a);
        x += ui_put(u, w, y, x, ww - x, s->state == UI_STATE_LIVE ? UI_ROLE_BAR : UI_ROLE_WARN,
                    ui_state_name(s));
        if (s->reason != NULL && s->state != UI_STATE_LIVE) {
            snprintf(c, sizeof(c), " (%s)", s->reason);
            x += ui_put(u, w, y, x, ww - x, UI_ROLE_WARN, c);
        }
        x += ui_put(u, w, y, x, ww - x, UI_ROLE_TEXT, "  ");
        if (f->uptime_valid) {
            uint64_t sec = f->uptime_ns / 1000000000ULL;

            snprintf(a, sizeof(a), "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, sec / 3600,
                     sec / 60 % 60, sec % 60);
            x = ui_pair(u, w, y, x, "up", a, UI_ROLE_VALUE);
        }
        if (f->nprocs > 1) {
            snprintf(a, sizeof(a), "%zu/%zu", f->sel_proc + 1, f->nprocs);
            x = ui_pair(u, w, y, x, "workload", a, UI_ROLE_VALUE);
        }
    }
    if (f->log_name != NULL) {
        x += ui_put(u, w, y, x, ww - x, UI_ROLE_TAB, "LOG");
        x += ui_put(u, w, y, x, ww - x, UI_ROLE_TEXT, " ");
        x += ui_put(u, w, y, x, ww - x, UI_ROLE_TEXT, f->log_name);
        x += ui_put(u, w, y, x, ww - x, UI_ROLE_TEXT, "  ");
    }
    if (u->frozen) {
        ui_put(u, w, y, x, ww - x, UI_ROLE_WARN, "PAUSED");
    }
    if (s == NULL) {
        wnoutrefresh(w);
        return;
    }

    /* Line 2: throughput and latency. */
    y = 1;
    x = 0;
    for (size_t i = 0; i < s->ncounters; i++) {
        if (s->counters[i].rate_valid) {
            snprintf(a, sizeof(a), "%s/s", s->counters[i].name);
            snprintf(b, sizeof(b), "%.1f", s->counters[i].per_sec);
            x = ui_pair(u, w, y, x, a, b, UI_ROLE_VALUE);
        }
    }
    if (s->step.valid) {
        const struct row_stats *st = s->step.win.count > 0 ? &s->step.win : &s->step.all;

        ui_fmt_ns(st->p50_ns, a, sizeof(a));
        x = ui_pair(u, w, y, x, "step p50", a, UI_ROLE_VALUE);
        ui_sparkline(u, s, b, sizeof(b));
        if (b[0] != '\0') {
            x += ui_put(u, w, y, x, ww - x, UI_ROLE_BAR, b);
            x += ui_put(u, w, y, x, ww - x, UI_ROLE_TEXT, "  ");
        }
    }
    x = ui_markers(u, w, y, x, s);

    /* Line 3: meters of capacities (KV cache, pools). */
    if (getmaxy(w) > 2 && ui_meters(u, w, 2) == 0) {
        ui_put(u, w, 2, 0, ww, UI_ROLE_DIM, "no KV cache or pool capacity reported");
    }

    /* Line 4: host and nctop's own health. */
    y = 3;
    x = 0;
    if (s->host_valid) {
        ui_fmt_bytes((int64_t)s->rss_bytes, a, sizeof(a));
        x = ui_pair(u, w, y, x, "RSS", a, UI_ROLE_VALUE);
    }
    if (s->cpu_valid) {
        snprintf(a, sizeof(a), "%.0f%%", s->cpu_pct);
        x = ui_pair(u, w, y, x, "CPU", a, UI_ROLE_VALUE);
    }
    if (f->gpus != NULL && f->gpus->n > 0) {
        x = ui_gpu_part(u, w, y, x, f->gpus);
    }
    snprintf(a, sizeof(a), "%.0f/s", s->events_per_sec);
    x = ui_pair(u, w, y, x, "events", a, UI_ROLE_VALUE);
    snprintf(a, sizeof(a), "%" PRIu64, s->dropped);
    x = ui_pair(u, w, y, x, "dropped", a, s->dropped > 0 ? UI_ROLE_WARN : UI_ROLE_VALUE);
    if (s->invalid > 0) {
        snprintf(a, sizeof(a), "%" PRIu64, s->invalid);
        ui_pair(u, w, y, x, "invalid", a, UI_ROLE_WARN);
    }
    wnoutrefresh(w);
}

/* --- tabs, column titles, footer ----------------------------------------------------------- */

static const char *const ui_view_titles[LAYOUT_NVIEWS] = {
    "Latency", "Memory", "Kernels", "Workloads", "Threads",
};

static void ui_draw_tabs(struct ui *u)
{
    WINDOW *w = u->w_tabs;
    int x = 0, ww;
    char a[64];

    if (w == NULL) {
        return;
    }
    ww = getmaxx(w);
    werase(w);
    for (int v = 0; v < LAYOUT_NVIEWS; v++) {
        snprintf(a, sizeof(a), " %d %s ", v + 1, ui_view_titles[v]);
        x += ui_put(u, w, 0, x, ww - x, v == (int)u->view ? UI_ROLE_TAB : UI_ROLE_TEXT, a);
    }
    x += 2;
    if (ui_is_tree_view(u->view)) {
        const char *filter = tree_filter(u->trees[u->view]);
        int col = u->sort_col[u->view];

        if (u->view != LAYOUT_VIEW_MEMORY) {
            if (u->since_start) {
                snprintf(a, sizeof(a), "since start  ");
            } else {
                snprintf(a, sizeof(a), "window %.0fs  ",
                         u->frame ? (double)u->frame->window_ns / 1e9 : 0.0);
            }
            x += ui_put(u, w, 0, x, ww - x, UI_ROLE_DIM, a);
        }
        if (col != UI_SORT_NONE) {
            snprintf(a, sizeof(a), "sort %s%s  ", layout_col_name((enum layout_col_id)col),
                     u->sort_asc[u->view] ? "+" : "");
            x += ui_put(u, w, 0, x, ww - x, UI_ROLE_DIM, a);
        }
        if (filter[0] != '\0') {
            snprintf(a, sizeof(a), "filter: %s", filter);
            ui_put(u, w, 0, x, ww - x, UI_ROLE_MATCH, a);
        }
    }
    wnoutrefresh(w);
}

/* The longest indented name of the visible lines, for the name column. */
static int ui_name_want(const struct ui *u)
{
    const struct rows *rows = u->frame ? u->frame->rows : NULL;
    struct tree *t = u->trees[u->view];
    int want = 0;

    if (u->view == LAYOUT_VIEW_WORKLOADS) {
        for (size_t i = 0; u->frame != NULL && i < u->frame->nprocs; i++) {
            const char *l = u->frame->procs[i].label ? u->frame->procs[i].label : "";
            int n = ui_cols(l, strlen(l));

            want = n > want ? n : want;
        }
        return want + 1;
    }
    if (u->view == LAYOUT_VIEW_THREADS) {
        return 32;
    }
    if (t == NULL || rows == NULL) {
        return 0;
    }
    for (size_t i = 0; i < tree_nlines(t); i++) {
        const struct tree_line *ln = tree_line_at(t, i);
        const char *l = rows->v[ln->row].label;
        int n = 2 * ln->level + 2 + ui_cols(l, strlen(l));

        want = n > want ? n : want;
    }
    return want + 1;
}

static void ui_draw_colhdr(struct ui *u)
{
    WINDOW *w = u->w_colhdr;
    const struct layout_col *cols;
    size_t n;

    u->ncols = layout_fit(u->view, u->width,
                          u->view_columns[u->view] != 0 ? u->view_columns[u->view] : u->columns,
                          ui_name_want(u), u->cols);
    if (w == NULL) {
        return;
    }
    werase(w);
    ui_fill(u, w, 0, UI_ROLE_COLHDR);
    n = layout_view_columns(u->view, &cols);
    for (size_t i = 0; i < u->ncols; i++) {
        const struct layout_place *p = &u->cols[i];
        enum ui_role role = (int)p->id == u->sort_col[u->view] ? UI_ROLE_SORTCOL : UI_ROLE_COLHDR;
        const char *title = "?";

        for (size_t j = 0; j < n; j++) {
            if (cols[j].id == p->id) {
                title = cols[j].title;
            }
        }
        if (p->id == LAYOUT_COL_NAME || p->id == LAYOUT_COL_BACKEND) {
            ui_put(u, w, 0, p->x, p->w, role, title);
        } else {
            ui_put_right(u, w, 0, p->x, p->w, role, title);
        }
    }
    wnoutrefresh(w);
}

static const struct {
    const char *key;
    const char *label;
} ui_footer_keys[] = {
    {"F1", "Help"},  {"F3", "Search"}, {"F4", "Filter"}, {"F6", "Sort"},  {"Tab", "View"},
    {"p", "Freeze"}, {"l", "Log"},     {"e", "Snap"},    {"F10", "Quit"},
};

static void ui_draw_footer(struct ui *u)
{
    WINDOW *w = u->w_footer;
    int x = 0, ww;

    if (w == NULL) {
        return;
    }
    ww = getmaxx(w);
    werase(w);
    if (u->prompt != UI_PROMPT_NONE) {
        x += ui_put(u, w, 0, 0, ww, UI_ROLE_FLABEL,
                    u->prompt == UI_PROMPT_SEARCH ? "Search: " : "Filter: ");
        x += ui_put(u, w, 0, x, ww - x, UI_ROLE_TEXT, u->prompt_text);
        ui_put(u, w, 0, x, ww - x, UI_ROLE_DIM,
               u->prompt == UI_PROMPT_SEARCH ? "_   Enter: find  Esc: cancel"
                                             : "_   Enter: keep  Esc: clear");
        wnoutrefresh(w);
        return;
    }
    for (size_t i = 0; i < sizeof(ui_footer_keys) / sizeof(ui_footer_keys[0]) && x < ww; i++) {
        x += ui_put(u, w, 0, x, ww - x, UI_ROLE_FKEY, ui_footer_keys[i].key);
        x += ui_put(u, w, 0, x, ww - x, UI_ROLE_FLABEL, ui_footer_keys[i].label);
        x += ui_put(u, w, 0, x, ww - x, UI_ROLE_TEXT, " ");
    }
    wnoutrefresh(w);
}

static void ui_draw_status(struct ui *u)
{
    WINDOW *w = u->w_status;
    const struct ui_frame *f = u->frame;

    if (w == NULL) {
        return;
    }
    werase(w);
    if (u->message[0] != '\0') {
        ui_put(u, w, 0, 0, getmaxx(w), UI_ROLE_WARN, u->message);
    } else if (f != NULL && f->status != NULL) {
        ui_put(u, w, 0, 0, getmaxx(w), f->status_error ? UI_ROLE_WARN : UI_ROLE_TEXT, f->status);
    }
    wnoutrefresh(w);
}

/* --- body ---------------------------------------------------------------------------------- */

static void ui_cell_ns(struct ui *u, WINDOW *w, int y, const struct layout_place *p, bool valid,
                       uint64_t ns, enum ui_role base)
{
    char a[32];

    if (!valid) {
        ui_put_right(u, w, y, p->x, p->w, base == UI_ROLE_SELECT ? base : UI_ROLE_DIM, "-");
        return;
    }
    ui_fmt_ns(ns, a, sizeof(a));
    ui_put_right(u, w, y, p->x, p->w, base, a);
}

static void ui_cell_share(struct ui *u, WINDOW *w, int y, const struct layout_place *p, bool valid,
                          double pct, enum ui_role base)
{
    char a[16], bar[64];
    int cells = p->w - 7;

    if (!valid) {
        ui_put(u, w, y, p->x + 5, 1, base == UI_ROLE_SELECT ? base : UI_ROLE_DIM, "-");
        return;
    }
    snprintf(a, sizeof(a), "%5.1f%%", pct > 999.9 ? 999.9 : pct);
    ui_put(u, w, y, p->x, 6, base, a);
    if (cells > 0) {
        ui_bar(u, bar, sizeof(bar), pct / 100.0, cells);
        ui_put(u, w, y, p->x + 7, cells, base == UI_ROLE_SELECT ? base : UI_ROLE_BAR, bar);
    }
}

static void ui_cell_bytes(struct ui *u, WINDOW *w, int y, const struct layout_place *p, bool valid,
                          int64_t bytes, enum ui_role base)
{
    char a[32];

    if (!valid) {
        ui_put_right(u, w, y, p->x, p->w, base == UI_ROLE_SELECT ? base : UI_ROLE_DIM, "-");
        return;
    }
    ui_fmt_bytes(bytes, a, sizeof(a));
    ui_put_right(u, w, y, p->x, p->w, base, a);
}

static void ui_draw_tree_line(struct ui *u, WINDOW *w, int y, const struct tree_line *ln,
                              bool selected)
{
    const struct row *r = &u->frame->rows->v[ln->row];
    enum ui_role base = selected ? UI_ROLE_SELECT : UI_ROLE_TEXT;
    bool valid;
    const struct row_stats *s = ui_stats(u, r, &valid);
    char a[32];

    if (selected) {
        ui_fill(u, w, y, UI_ROLE_SELECT);
    }
    for (size_t i = 0; i < u->ncols; i++) {
        const struct layout_place *p = &u->cols[i];

        switch (p->id) {
        case LAYOUT_COL_NAME: {
            int x = p->x, indent = 2 * ln->level;
            const char *mark = " ";

            if (indent > p->w - 3) {
                indent = p->w - 3 > 0 ? p->w - 3 : 0;
            }
            x += indent;
            if (ln->has_children) {
                mark = ln->expanded ? (u->utf8 ? "▾" : "-") : (u->utf8 ? "▸" : "+");
            }
            x += ui_put(u, w, y, x, p->x + p->w - x, selected ? base : UI_ROLE_DIM, mark);
            x += ui_put(u, w, y, x, p->x + p->w - x, base, " ");
            ui_put(u, w, y, x, p->x + p->w - x, ln->match && !selected ? UI_ROLE_MATCH : base,
                   r->label);
            break;
        }
        case LAYOUT_COL_LAST:
            ui_cell_ns(u, w, y, p,
                       rows_stat_known(s, (r->flags & (ROW_F_WIN | ROW_F_ALL)) != 0, ROW_S_LAST),
                       s->last_ns, base);
            break;
        case LAYOUT_COL_MEAN:
            ui_cell_ns(u, w, y, p, rows_stat_known(s, valid, ROW_S_MEAN), s->mean_ns, base);
            break;
        case LAYOUT_COL_P50:
            ui_cell_ns(u, w, y, p, rows_stat_known(s, valid, ROW_S_P50), s->p50_ns, base);
            break;
        case LAYOUT_COL_P95:
            ui_cell_ns(u, w, y, p, rows_stat_known(s, valid, ROW_S_P95), s->p95_ns, base);
            break;
        case LAYOUT_COL_P99:
            ui_cell_ns(u, w, y, p, rows_stat_known(s, valid, ROW_S_P99), s->p99_ns, base);
            break;
        case LAYOUT_COL_MAX:
            ui_cell_ns(u, w, y, p, rows_stat_known(s, valid, ROW_S_MAX), s->max_ns, base);
            break;
        case LAYOUT_COL_TOTAL:
            ui_cell_ns(u, w, y, p, rows_stat_known(s, valid, ROW_S_TOTAL), s->total_ns, base);
            break;
        case LAYOUT_COL_COUNT:
            if ((s->absent & ROW_S_COUNT) != 0) {
                snprintf(a, sizeof(a), "-");
            } else {
                ui_fmt_count(valid ? s->count : 0, a, sizeof(a));
            }
            ui_put_right(u, w, y, p->x, p->w, base, a);
            break;
        case LAYOUT_COL_SHARE:
            if (r->kind == ROW_MEMORY) {
                ui_cell_share(u, w, y, p, u->mshare[ln->row] >= 0, u->mshare[ln->row], base);
            } else {
                ui_cell_share(u, w, y, p, (r->flags & ROW_F_SHARE) != 0, r->share_pct, base);
            }
            break;
        case LAYOUT_COL_CURRENT:
            ui_cell_bytes(u, w, y, p, true, r->bytes, base);
            break;
        case LAYOUT_COL_PEAK:
            ui_cell_bytes(u, w, y, p, (r->flags & ROW_F_PEAK) != 0, r->peak_bytes, base);
            break;
        case LAYOUT_COL_CAPACITY:
            ui_cell_bytes(u, w, y, p, (r->flags & ROW_F_CAPACITY) != 0, (int64_t)r->capacity_bytes,
                          base);
            break;
        case LAYOUT_COL_BACKEND:
            ui_put(u, w, y, p->x, p->w, base, r->backend != NULL ? r->backend : "-");
            break;
        default:
            break;
        }
    }
}

static void ui_draw_tree(struct ui *u, WINDOW *w)
{
    struct tree *t = u->trees[u->view];
    int h = getmaxy(w);
    size_t top;

    if (u->frame == NULL || u->frame->rows == NULL || tree_nlines(t) == 0) {
        const char *why = "no rows yet";

        if (tree_filter(t)[0] != '\0') {
            why = "no row matches the filter (\\ to change it)";
        } else if (ui_shown(u) == NULL) {
            why = "no workload: start a program linked with libnctop, or run nctop --demo";
        } else if (u->view == LAYOUT_VIEW_KERNELS) {
            why = "no kernel records (nctop_kernel) yet";
        } else if (u->view == LAYOUT_VIEW_LATENCY) {
            why = "no spans yet";
        }
        ui_put(u, w, 0, 1, getmaxx(w) - 1, UI_ROLE_DIM, why);
        return;
    }
    tree_scroll(t, (size_t)h);
    top = tree_top(t);
    for (int y = 0; y < h && top + (size_t)y < tree_nlines(t); y++) {
        size_t i = top + (size_t)y;

        ui_draw_tree_line(u, w, y, tree_line_at(t, i), i == tree_selected(t));
    }
}

/* A list view's selection clamped and scrolled into a body of h lines. */
static void ui_list_scroll(struct ui *u, size_t n, int h)
{
    size_t *sel = &u->list_sel[u->view], *top = &u->list_top[u->view];

    if (*sel >= n) {
        *sel = n > 0 ? n - 1 : 0;
    }
    if (h <= 0) {
        return;
    }
    if (*sel < *top) {
        *top = *sel;
    } else if (*sel >= *top + (size_t)h) {
        *top = *sel - (size_t)h + 1;
    }
    if (*top + (size_t)h > n) {
        *top = n > (size_t)h ? n - (size_t)h : 0;
    }
}

static void ui_draw_workloads(struct ui *u, WINDOW *w)
{
    const struct ui_frame *f = u->frame;
    int h = getmaxy(w);
    size_t n = f != NULL ? f->nprocs : 0, top;

    if (n == 0) {
        ui_put(u, w, 0, 1, getmaxx(w) - 1, UI_ROLE_DIM,
               "no workload: start a program linked with libnctop, or run nctop --demo");
        return;
    }
    ui_list_scroll(u, n, h);
    top = u->list_top[u->view];
    for (int y = 0; y < h && top + (size_t)y < n; y++) {
        size_t i = top + (size_t)y;
        const struct rows_summary *s = &f->procs[i];
        bool selected = i == u->list_sel[u->view];
        enum ui_role base = selected ? UI_ROLE_SELECT : UI_ROLE_TEXT;
        char a[48];

        if (selected) {
            ui_fill(u, w, y, UI_ROLE_SELECT);
        }
        for (size_t c = 0; c < u->ncols; c++) {
            const struct layout_place *p = &u->cols[c];

            switch (p->id) {
            case LAYOUT_COL_PID:
                snprintf(a, sizeof(a), "%s%d", i == f->sel_proc ? "*" : "", (int)s->pid);
                ui_put_right(u, w, y, p->x, p->w, base, a);
                break;
            case LAYOUT_COL_NAME:
                ui_put(u, w, y, p->x, p->w, base, s->label && *s->label ? s->label : "?");
                break;
            case LAYOUT_COL_STATE:
                ui_put(u, w, y, p->x, p->w,
                       selected                    ? base
                       : s->state == UI_STATE_LIVE ? UI_ROLE_BAR
                                                   : UI_ROLE_WARN,
                       ui_state_name(s));
                break;
            case LAYOUT_COL_EVENTS:
                snprintf(a, sizeof(a), "%.0f", s->events_per_sec);
                ui_put_right(u, w, y, p->x, p->w, base, a);
                break;
            case LAYOUT_COL_DROPS:
                ui_fmt_count(s->dropped, a, sizeof(a));
                ui_put_right(u, w, y, p->x, p->w, s->dropped > 0 && !selected ? UI_ROLE_WARN : base,
                             a);
                break;
            case LAYOUT_COL_RSS:
                ui_cell_bytes(u, w, y, p, s->host_valid, (int64_t)s->rss_bytes, base);
                break;
            case LAYOUT_COL_CPU:
                if (s->cpu_valid) {
                    snprintf(a, sizeof(a), "%.1f", s->cpu_pct);
                } else {
                    snprintf(a, sizeof(a), "-");
                }
                ui_put_right(u, w, y, p->x, p->w, base, a);
                break;
            default:
                break;
            }
        }
    }
}

static void ui_draw_threads(struct ui *u, WINDOW *w)
{
    const struct rows_summary *s = ui_shown(u);
    int h = getmaxy(w), y0 = 0;
    size_t n = s != NULL ? s->nthread_list : 0, top;

    /* Per-thread time is what users come here for, and it needs eBPF: say so when absent. */
    bool sched = false;

    for (size_t i = 0; i < n; i++) {
        sched = sched || s->threads[i].sched_valid;
    }
    if (!sched) {
        ui_put(u, w, 0, 1, getmaxx(w) - 1, UI_ROLE_DIM,
               "threads reported by the workload; on/off-CPU time per thread needs --bpf");
        y0 = 1;
    }
    if (n == 0) {
        ui_put(u, w, 1, 1, getmaxx(w) - 1, UI_ROLE_DIM, "no threads reported");
        return;
    }
    ui_list_scroll(u, n, h - y0);
    top = u->list_top[u->view];
    for (int y = y0; y < h && top + (size_t)(y - y0) < n; y++) {
        size_t i = top + (size_t)(y - y0);
        bool selected = i == u->list_sel[u->view];
        enum ui_role base = selected ? UI_ROLE_SELECT : UI_ROLE_TEXT;
        char a[32];

        if (selected) {
            ui_fill(u, w, y, UI_ROLE_SELECT);
        }
        for (size_t c = 0; c < u->ncols; c++) {
            const struct layout_place *p = &u->cols[c];

            const struct rows_thread *t = &s->threads[i];

            if (p->id == LAYOUT_COL_TID) {
                snprintf(a, sizeof(a), "%d", (int)t->tid);
                ui_put_right(u, w, y, p->x, p->w, base, a);
                continue;
            }
            if (p->id == LAYOUT_COL_NAME) {
                ui_put(u, w, y, p->x, p->w, t->exited ? UI_ROLE_DIM : base,
                       t->name[0] != '\0' ? t->name : "-");
                continue;
            }
            /* eBPF figures: absent is "-", never 0. */
            if (!t->sched_valid) {
                snprintf(a, sizeof(a), "-");
            } else if (p->id == LAYOUT_COL_ONCPU) {
                ui_fmt_ns(t->oncpu_ns, a, sizeof(a));
            } else if (p->id == LAYOUT_COL_RUNQ) {
                ui_fmt_ns(t->runq_ns, a, sizeof(a));
            } else if (p->id == LAYOUT_COL_BLOCKED) {
                ui_fmt_ns(t->blocked_ns, a, sizeof(a));
            } else if (p->id == LAYOUT_COL_SWITCHES) {
                snprintf(a, sizeof(a), "%llu/%llu", (unsigned long long)t->vol_switches,
                         (unsigned long long)t->invol_switches);
            } else if (p->id == LAYOUT_COL_FAULTS) {
                snprintf(a, sizeof(a), "%llu/%llu", (unsigned long long)t->minor_faults,
                         (unsigned long long)t->major_faults);
            } else {
                continue;
            }
            ui_put_right(u, w, y, p->x, p->w, base, a);
        }
    }
}

static void ui_draw_body(struct ui *u)
{
    WINDOW *w = u->w_body;

    if (w == NULL) {
        return;
    }
    werase(w);
    if (ui_is_tree_view(u->view)) {
        ui_draw_tree(u, w);
    } else if (u->view == LAYOUT_VIEW_WORKLOADS) {
        ui_draw_workloads(u, w);
    } else {
        ui_draw_threads(u, w);
    }
    wnoutrefresh(w);
}

/* --- public drawing ------------------------------------------------------------------------ */

void ui_draw(struct ui *u, const struct ui_frame *f)
{
    if (f != NULL) {
        u->frame_copy = *f;
        u->frame = &u->frame_copy;
    }
    if (u->frame == NULL || u->width <= 0 || u->height <= 0) {
        return;
    }
    ui_flatten(u);
    if (u->help) {
        ui_draw_help(u);
        doupdate();
        return;
    }
    /* The column header sizes the columns the body then uses. */
    ui_draw_header(u);
    ui_draw_tabs(u);
    ui_draw_colhdr(u);
    ui_draw_body(u);
    ui_draw_status(u);
    ui_draw_footer(u);
    doupdate();
}

/* --- actions -------------------------------------------------------------------------------- */

static struct tree *ui_tree(struct ui *u)
{
    return ui_is_tree_view(u->view) ? u->trees[u->view] : NULL;
}

static size_t ui_list_len(const struct ui *u)
{
    const struct rows_summary *s = ui_shown(u);

    if (u->view == LAYOUT_VIEW_WORKLOADS) {
        return u->frame != NULL ? u->frame->nprocs : 0;
    }
    return s != NULL ? s->nthread_list : 0;
}

static int ui_body_height(const struct ui *u)
{
    return u->lay.body.h - (u->view == LAYOUT_VIEW_THREADS ? 1 : 0);
}

static unsigned ui_move_by(struct ui *u, long delta)
{
    struct tree *t = ui_tree(u);
    size_t n, *sel;
    long target;

    if (t != NULL) {
        return tree_move(t, delta) ? UI_REDRAW : 0;
    }
    n = ui_list_len(u);
    sel = &u->list_sel[u->view];
    target = (long)*sel + delta;
    if (target >= (long)n) {
        target = (long)n - 1;
    }
    if (target < 0) {
        target = 0;
    }
    if ((size_t)target == *sel) {
        return 0;
    }
    *sel = (size_t)target;
    return UI_REDRAW;
}

static unsigned ui_act_up(struct ui *u)
{
    return ui_move_by(u, -1);
}

static unsigned ui_act_down(struct ui *u)
{
    return ui_move_by(u, 1);
}

static unsigned ui_act_pgup(struct ui *u)
{
    int h = ui_body_height(u);

    return ui_move_by(u, -(long)(h > 1 ? h - 1 : 1));
}

static unsigned ui_act_pgdn(struct ui *u)
{
    int h = ui_body_height(u);

    return ui_move_by(u, h > 1 ? h - 1 : 1);
}

static unsigned ui_act_home(struct ui *u)
{
    return ui_move_by(u, -(1L << 30));
}

static unsigned ui_act_end(struct ui *u)
{
    return ui_move_by(u, 1L << 30);
}

/* Enter: in the workloads view, show that process; elsewhere, expand or collapse. */
static unsigned ui_act_enter(struct ui *u)
{
    struct tree *t = ui_tree(u);

    if (u->view == LAYOUT_VIEW_WORKLOADS) {
        const struct ui_frame *f = u->frame;
        size_t i = u->list_sel[u->view];

        if (f == NULL || i >= f->nprocs) {
            return 0;
        }
        u->sel_pid = f->procs[i].pid;
        snprintf(u->message, sizeof(u->message), "showing %s (pid %d)",
                 f->procs[i].label ? f->procs[i].label : "?", (int)u->sel_pid);
        u->view = LAYOUT_VIEW_LATENCY;
        return UI_REBUILD;
    }
    return t != NULL && tree_toggle(t) ? UI_REDRAW : 0;
}

static unsigned ui_act_toggle(struct ui *u)
{
    struct tree *t = ui_tree(u);

    return t != NULL && tree_toggle(t) ? UI_REDRAW : 0;
}

static unsigned ui_act_expand(struct ui *u)
{
    struct tree *t = ui_tree(u);

    return t != NULL && tree_expand(t) ? UI_REDRAW : 0;
}

static unsigned ui_act_collapse(struct ui *u)
{
    struct tree *t = ui_tree(u);

    return t != NULL && tree_collapse(t) ? UI_REDRAW : 0;
}

static unsigned ui_act_expand_all(struct ui *u)
{
    struct tree *t = ui_tree(u);

    return t != NULL && tree_expand_all(t) ? UI_REDRAW : 0;
}

static unsigned ui_act_collapse_all(struct ui *u)
{
    struct tree *t = ui_tree(u);

    return t != NULL && tree_collapse_all(t) ? UI_REDRAW : 0;
}

static unsigned ui_set_view(struct ui *u, int v)
{
    v = (v % LAYOUT_NVIEWS + LAYOUT_NVIEWS) % LAYOUT_NVIEWS;
    if (v == (int)u->view) {
        return 0;
    }
    u->view = (enum layout_view)v;
    return UI_REBUILD;
}

static unsigned ui_act_next_view(struct ui *u)
{
    return ui_set_view(u, (int)u->view + 1);
}

static unsigned ui_act_prev_view(struct ui *u)
{
    return ui_set_view(u, (int)u->view - 1);
}

static unsigned ui_act_view_1(struct ui *u)
{
    return ui_set_view(u, 0);
}

static unsigned ui_act_view_2(struct ui *u)
{
    return ui_set_view(u, 1);
}

static unsigned ui_act_view_3(struct ui *u)
{
    return ui_set_view(u, 2);
}

static unsigned ui_act_view_4(struct ui *u)
{
    return ui_set_view(u, 3);
}

static unsigned ui_act_view_5(struct ui *u)
{
    return ui_set_view(u, 4);
}

/* Step the sort column through "execution order" and each column of the view. */
static unsigned ui_sort_step(struct ui *u, int dir)
{
    const struct layout_col *cols;
    size_t n;
    int cur = -1, next;

    if (!ui_is_tree_view(u->view)) {
        return 0;
    }
    n = layout_view_columns(u->view, &cols);
    for (size_t i = 0; i < n; i++) {
        if ((int)cols[i].id == u->sort_col[u->view]) {
            cur = (int)i;
        }
    }
    /* Positions -1 (none) .. n - 1, wrapping. */
    next = (cur + 1 + dir + (int)n + 1) % ((int)n + 1) - 1;
    u->sort_col[u->view] = next < 0 ? UI_SORT_NONE : (int)cols[next].id;
    snprintf(u->message, sizeof(u->message), "sort: %s",
             next < 0 ? "execution order" : layout_col_name(cols[next].id));
    return UI_REDRAW;
}

static unsigned ui_act_sort_next(struct ui *u)
{
    return ui_sort_step(u, 1);
}

static unsigned ui_act_sort_prev(struct ui *u)
{
    return ui_sort_step(u, -1);
}

static unsigned ui_act_sort_invert(struct ui *u)
{
    u->sort_asc[u->view] = !u->sort_asc[u->view];
    return UI_REDRAW;
}

static unsigned ui_act_window(struct ui *u)
{
    u->since_start = !u->since_start;
    snprintf(u->message, sizeof(u->message), "statistics: %s",
             u->since_start ? "since start" : "rolling window");
    return UI_REDRAW;
}

static unsigned ui_act_search(struct ui *u)
{
    if (!ui_is_tree_view(u->view)) {
        return 0;
    }
    u->prompt = UI_PROMPT_SEARCH;
    snprintf(u->prompt_text, sizeof(u->prompt_text), "%s", u->search);
    return UI_REDRAW;
}

static unsigned ui_find(struct ui *u, bool forward)
{
    struct tree *t = ui_tree(u);

    if (t == NULL || u->search[0] == '\0') {
        return 0;
    }
    if (!tree_search(t, u->search, forward)) {
        snprintf(u->message, sizeof(u->message), "not found: %s", u->search);
    }
    return UI_REDRAW;
}

static unsigned ui_act_find_next(struct ui *u)
{
    return ui_find(u, true);
}

static unsigned ui_act_find_prev(struct ui *u)
{
    return ui_find(u, false);
}

static unsigned ui_act_filter(struct ui *u)
{
    struct tree *t = ui_tree(u);

    if (t == NULL) {
        return 0;
    }
    u->prompt = UI_PROMPT_FILTER;
    snprintf(u->prompt_text, sizeof(u->prompt_text), "%s", tree_filter(t));
    return UI_REDRAW;
}

static unsigned ui_act_freeze(struct ui *u)
{
    u->frozen = !u->frozen;
    /* Unfreezing shows the present at once rather than at the next tick. */
    return u->frozen ? UI_REDRAW : UI_REBUILD;
}

static unsigned ui_act_log(struct ui *u)
{
    (void)u;
    return UI_TOGGLE_LOG;
}

static unsigned ui_act_snapshot(struct ui *u)
{
    (void)u;
    return UI_SNAPSHOT;
}

static unsigned ui_act_help(struct ui *u)
{
    u->help = true;
    u->help_top = 0;
    return UI_REDRAW;
}

static unsigned ui_act_redraw(struct ui *u)
{
    (void)u;
    clearok(curscr, TRUE);
    return UI_REDRAW;
}

static unsigned ui_act_quit(struct ui *u)
{
    (void)u;
    return UI_QUIT;
}

#define UI_CTRL(c) ((c)&0x1f)

/* Every key of nctop. The help screen and man/nctop.1 list these names (tests/check-docs). */
static const struct ui_binding ui_bindings[] = {
    /* keys: begin */
    {{KEY_UP, 'k', 0}, "Up, k", "move up", ui_act_up},
    {{KEY_DOWN, 'j', 0}, "Down, j", "move down", ui_act_down},
    {{KEY_PPAGE, UI_CTRL('b'), 0}, "PgUp", "move up a page", ui_act_pgup},
    {{KEY_NPAGE, UI_CTRL('f'), 0}, "PgDn", "move down a page", ui_act_pgdn},
    {{KEY_HOME, 'g', 0}, "Home, g", "go to the first line", ui_act_home},
    {{KEY_END, 'G', 0}, "End, G", "go to the last line", ui_act_end},
    {{'\n', '\r', KEY_ENTER, 0},
     "Enter",
     "expand or collapse; Workloads: show that process",
     ui_act_enter},
    {{' ', 0}, "Space", "expand or collapse", ui_act_toggle},
    {{KEY_RIGHT, '+', 'L', 0}, "Right, +", "expand (again: go to the first child)", ui_act_expand},
    {{KEY_LEFT, '-', 'H', 0},
     "Left, -",
     "collapse (on a child: go to its parent)",
     ui_act_collapse},
    {{'*', 0}, "*", "expand everything", ui_act_expand_all},
    {{'c', 0}, "c", "collapse everything", ui_act_collapse_all},
    {{'\t', 0}, "Tab", "next view", ui_act_next_view},
    {{KEY_BTAB, 0}, "Shift-Tab", "previous view", ui_act_prev_view},
    {{'1', 0}, "1", "Latency view", ui_act_view_1},
    {{'2', 0}, "2", "Memory view", ui_act_view_2},
    {{'3', 0}, "3", "Kernels view", ui_act_view_3},
    {{'4', 0}, "4", "Workloads view", ui_act_view_4},
    {{'5', 0}, "5", "Threads view", ui_act_view_5},
    {{'/', KEY_F(3), 0}, "/, F3", "search a name (moves as you type)", ui_act_search},
    {{'n', 0}, "n", "next match", ui_act_find_next},
    {{'N', 0}, "N", "previous match", ui_act_find_prev},
    {{'\\', KEY_F(4), 0}, "\\, F4", "filter: matching rows and their ancestors", ui_act_filter},
    {{'s', KEY_F(6), '>', '.', 0}, "s, F6, >", "sort by the next column", ui_act_sort_next},
    {{'<', ',', 0}, "<", "sort by the previous column", ui_act_sort_prev},
    {{'I', 0}, "I", "invert the sort order", ui_act_sort_invert},
    {{'w', 0}, "w", "rolling window or since start", ui_act_window},
    {{'p', 0}, "p", "freeze or resume the display", ui_act_freeze},
    {{'l', 0}, "l", "start or stop the JSONL logger", ui_act_log},
    {{'e', 0}, "e", "write a snapshot JSON now", ui_act_snapshot},
    {{'?', 'h', KEY_F(1), 0}, "?, h, F1", "this help", ui_act_help},
    {{UI_CTRL('l'), 0}, "Ctrl-L", "redraw the screen", ui_act_redraw},
    {{'q', KEY_F(10), 0}, "q, F10", "quit", ui_act_quit},
    /* keys: end */
};

static const size_t ui_nbindings = sizeof(ui_bindings) / sizeof(ui_bindings[0]);

/* --- help ---------------------------------------------------------------------------------- */

static void ui_draw_help(struct ui *u)
{
    WINDOW *w = u->w_help;
    int h, ww, y = 0;
    size_t line = 0;
    char a[128];

    if (w == NULL) {
        return;
    }
    h = getmaxy(w);
    ww = getmaxx(w);
    werase(w);
    snprintf(a, sizeof(a), "nctop %s: keys (any key closes this screen)", NCTOP_VERSION);
    ui_put(u, w, y++, 0, ww, UI_ROLE_TITLE, a);
    if (u->help_top + (size_t)(h - 1) > ui_nbindings + 2) {
        u->help_top = ui_nbindings + 2 > (size_t)(h - 1) ? ui_nbindings + 2 - (size_t)(h - 1) : 0;
    }
    for (size_t i = 0; i < ui_nbindings && y < h; i++, line++) {
        if (line < u->help_top) {
            continue;
        }
        ui_put(u, w, y, 1, 16, UI_ROLE_FKEY, ui_bindings[i].names);
        ui_put(u, w, y, 18, ww - 18, UI_ROLE_TEXT, ui_bindings[i].what);
        y++;
    }
    if (y < h) {
        snprintf(a, sizeof(a),
                 "Mouse: click selects, click on %s expands, wheel scrolls; "
                 "refresh every %.2gs",
                 u->utf8 ? "▸" : "+", (double)u->delay_ns / 1e9);
        ui_put(u, w, ++y < h ? y : h - 1, 1, ww - 1, UI_ROLE_DIM, a);
    }
    wnoutrefresh(w);
}

/* --- input --------------------------------------------------------------------------------- */

static unsigned ui_prompt_key(struct ui *u, int ch)
{
    size_t len = strlen(u->prompt_text);
    struct tree *t = ui_tree(u);
    bool filter = u->prompt == UI_PROMPT_FILTER;

    if (ch == 27) {
        /* Esc: a search is abandoned; a filter is cleared. */
        u->prompt = UI_PROMPT_NONE;
        if (filter && t != NULL) {
            tree_set_filter(t, NULL);
        }
        return UI_REDRAW;
    }
    if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        /* The search already moved while typing: Enter keeps the text for n/N. */
        u->prompt = UI_PROMPT_NONE;
        if (!filter) {
            snprintf(u->search, sizeof(u->search), "%s", u->prompt_text);
        }
        return UI_REDRAW;
    }
    if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (len > 0) {
            /* Drop a whole UTF-8 character. */
            do {
                len--;
            } while (len > 0 && ((unsigned char)u->prompt_text[len] & 0xC0) == 0x80);
            u->prompt_text[len] = '\0';
        }
    } else if (ch >= 32 && ch < 256 && ch != 127 && len + 1 < sizeof(u->prompt_text)) {
        u->prompt_text[len] = (char)ch;
        u->prompt_text[len + 1] = '\0';
    } else {
        return 0;
    }
    /* The filter and the search follow the typing, as htop's do: the search stays on the
     * selected line while it still matches, else goes to the next match. */
    if (filter && t != NULL) {
        tree_set_filter(t, u->prompt_text);
    } else if (t != NULL && u->prompt_text[0] != '\0') {
        const struct tree_line *ln = tree_line_at(t, tree_selected(t));

        if (ln == NULL || u->frame == NULL || u->frame->rows == NULL ||
            strcasestr(u->frame->rows->v[ln->row].label, u->prompt_text) == NULL) {
            snprintf(u->search, sizeof(u->search), "%s", u->prompt_text);
            ui_find(u, true);
        }
    }
    return UI_REDRAW;
}

/* Mouse: wheel scrolls; a click selects a line, a tab or a sort column; a click on a marker
 * expands or collapses. */
static unsigned ui_mouse(struct ui *u)
{
    MEVENT ev;
    struct tree *t = ui_tree(u);

    if (getmouse(&ev) != OK) {
        return 0;
    }
    if (ev.bstate & BUTTON4_PRESSED) {
        return ui_move_by(u, -UI_WHEEL_LINES);
    }
#ifdef BUTTON5_PRESSED
    if (ev.bstate & BUTTON5_PRESSED) {
        return ui_move_by(u, UI_WHEEL_LINES);
    }
#endif
    if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_RELEASED))) {
        return 0;
    }
    if (ev.bstate & BUTTON1_RELEASED) {
        return 0;
    }
    if (u->lay.tabs.h > 0 && ev.y == u->lay.tabs.y) {
        int x = 0;

        for (int v = 0; v < LAYOUT_NVIEWS; v++) {
            int w = (int)strlen(ui_view_titles[v]) + 4;

            if (ev.x >= x && ev.x < x + w) {
                return ui_set_view(u, v);
            }
            x += w;
        }
        return 0;
    }
    if (u->lay.colhdr.h > 0 && ev.y == u->lay.colhdr.y && t != NULL) {
        for (size_t i = 0; i < u->ncols; i++) {
            if (ev.x >= u->cols[i].x && ev.x < u->cols[i].x + u->cols[i].w) {
                if (u->sort_col[u->view] == (int)u->cols[i].id) {
                    u->sort_asc[u->view] = !u->sort_asc[u->view];
                } else {
                    u->sort_col[u->view] = (int)u->cols[i].id;
                }
                return UI_REDRAW;
            }
        }
        return 0;
    }
    if (u->lay.body.h > 0 && ev.y >= u->lay.body.y && ev.y < u->lay.body.y + u->lay.body.h) {
        int row = ev.y - u->lay.body.y;

        if (t != NULL) {
            size_t line = tree_top(t) + (size_t)row;
            const struct tree_line *ln = tree_line_at(t, line);
            unsigned r;
            int mx;

            if (ln == NULL) {
                return 0;
            }
            r = tree_select(t, line) ? UI_REDRAW : 0;
            mx = u->ncols > 0 ? u->cols[0].x + 2 * ln->level : 2 * ln->level;
            if (ln->has_children && ev.x >= mx - 1 && ev.x <= mx + 1 && tree_toggle(t)) {
                r |= UI_REDRAW;
            }
            return r;
        }
        if (u->view == LAYOUT_VIEW_THREADS) {
            row--;
        }
        if (row >= 0 && u->list_top[u->view] + (size_t)row < ui_list_len(u)) {
            u->list_sel[u->view] = u->list_top[u->view] + (size_t)row;
            return UI_REDRAW;
        }
    }
    return 0;
}

static unsigned ui_key(struct ui *u, int ch)
{
    if (ch == KEY_RESIZE) {
        /* curses already resized (its own SIGWINCH handler, or our resizeterm queued this):
         * only follow it; resizing again would queue another KEY_RESIZE. */
        if (COLS != u->width || LINES != u->height) {
            u->width = COLS;
            u->height = LINES;
            ui_make_windows(u);
        }
        return UI_REDRAW;
    }
    if (u->help) {
        /* Any key closes the help; arrows scroll it. */
        if (ch == KEY_DOWN || ch == 'j') {
            u->help_top++;
        } else if ((ch == KEY_UP || ch == 'k') && u->help_top > 0) {
            u->help_top--;
        } else if (ch != KEY_MOUSE) {
            u->help = false;
        }
        return UI_REDRAW;
    }
    if (u->prompt != UI_PROMPT_NONE) {
        return ui_prompt_key(u, ch);
    }
    if (ch == KEY_MOUSE) {
        return ui_mouse(u);
    }
    for (size_t i = 0; i < ui_nbindings; i++) {
        for (size_t k = 0; k < 5 && ui_bindings[i].keys[k] != 0; k++) {
            if (ui_bindings[i].keys[k] == ch) {
                return ui_bindings[i].action(u);
            }
        }
    }
    return 0;
}

unsigned ui_input(struct ui *u)
{
    unsigned r = 0;
    int ch, n = 0;

    /* Bounded: a flood of input (a paste) is handled over several callbacks. */
    while (n++ < 256 && (ch = wgetch(u->kbd)) != ERR) {
        if (u->message[0] != '\0' && ch != KEY_MOUSE) {
            u->message[0] = '\0';
            r |= UI_REDRAW;
        }
        r |= ui_key(u, ch);
        if (r & UI_QUIT) {
            break;
        }
    }
    return r;
}

/* --- life cycle ---------------------------------------------------------------------------- */

void ui_set_size(struct ui *u, int width, int height)
{
    if (width < 0) {
        width = 0;
    }
    if (height < 0) {
        height = 0;
    }
    if (width != COLS || height != LINES) {
        resizeterm(height, width);
    }
    u->width = width;
    u->height = height;
    ui_make_windows(u);
}

unsigned ui_resize(struct ui *u)
{
    struct winsize ws;

    if (ioctl(fileno(u->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
        ui_set_size(u, ws.ws_col, ws.ws_row);
    } else {
        ui_set_size(u, COLS, LINES);
    }
    /* Everything moved: repaint from scratch, not as a diff. */
    clearok(curscr, TRUE);
    return UI_RESIZED | UI_REDRAW;
}

static void ui_exit_hook(void)
{
    if (ui_active != NULL && !isendwin()) {
        endwin();
    }
}

struct ui *ui_new(const struct ui_opts *opts, char **err)
{
    struct ui *u;
    const char *term = getenv("TERM"), *cs;
    FILE *in = opts->in != NULL ? opts->in : stdin;
    FILE *out = opts->out != NULL ? opts->out : stdout;
    SCREEN *scr;

    *err = NULL;
    if (!opts->allow_not_tty && (!isatty(fileno(in)) || !isatty(fileno(out)))) {
        *err = xasprintf("the display needs a terminal (standard input and output are not "
                         "one); use --once or --headless");
        return NULL;
    }
    if (term == NULL || term[0] == '\0' || strcmp(term, "dumb") == 0) {
        *err = xasprintf("the display needs a terminal type (TERM is %s); use --once or "
                         "--headless",
                         term == NULL || term[0] == '\0' ? "not set" : "'dumb'");
        return NULL;
    }
    /* Wide characters need the user's locale; only LC_CTYPE, so numbers keep their dot. */
    setlocale(LC_CTYPE, "");
    cs = nl_langinfo(CODESET);
    scr = newterm(NULL, out, in);
    if (scr == NULL) {
        *err = xasprintf("the display does not know TERM '%s'; use --once or --headless", term);
        return NULL;
    }
    if (tigetstr("cup") == NULL || tigetstr("cup") == (char *)-1) {
        endwin();
        delscreen(scr);
        *err = xasprintf("the terminal type '%s' cannot move the cursor; use --once or "
                         "--headless",
                         term);
        return NULL;
    }
    u = xcalloc(1, sizeof(*u));
    u->scr = scr;
    u->in = in;
    u->out = out;
    u->utf8 = cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
    cbreak();
    noecho();
    nonl();
    curs_set(0);
    set_escdelay(25);
    ui_init_colors(u, opts->color);
    u->kbd = newwin(1, 1, 0, 0);
    keypad(u->kbd, TRUE);
    nodelay(u->kbd, TRUE);
    /* Clicks arrive at once (no double-click wait); wheel events too. */
    mouseinterval(0);
    mousemask(BUTTON1_PRESSED | BUTTON1_RELEASED | BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
                  | BUTTON5_PRESSED
#endif
              ,
              NULL);
    /* Paint the input window once now, so that later wgetch calls never repaint it over the
     * header. */
    wnoutrefresh(u->kbd);
    u->view = opts->view < LAYOUT_NVIEWS ? opts->view : LAYOUT_VIEW_LATENCY;
    u->columns = opts->columns != 0 ? opts->columns : LAYOUT_COLS_ALL;
    u->columns |= 1U << LAYOUT_COL_NAME;
    for (int v = 0; v < LAYOUT_NVIEWS; v++) {
        u->view_columns[v] =
            opts->view_columns[v] != 0 ? opts->view_columns[v] | 1U << LAYOUT_COL_NAME : 0;
    }
    u->delay_ns = opts->delay_ns;
    for (int v = 0; v < LAYOUT_NVIEWS; v++) {
        u->sort_col[v] =
            layout_view_has((enum layout_view)v, opts->sort_col) ? opts->sort_col : UI_SORT_NONE;
        u->sort_asc[v] = opts->sort_ascending;
        if (ui_is_tree_view((enum layout_view)v)) {
            u->trees[v] = tree_new(opts->collapse_depth);
        }
    }
    if (opts->allow_not_tty) {
        ui_set_size(u, COLS, LINES);
    } else {
        ui_resize(u);
    }
    ui_active = u;
    diag_set_exit_hook(ui_exit_hook);
    return u;
}

void ui_free(struct ui *u)
{
    if (u == NULL) {
        return;
    }
    ui_del_windows(u);
    if (u->kbd != NULL) {
        delwin(u->kbd);
    }
    endwin();
    delscreen(u->scr);
    for (int v = 0; v < LAYOUT_NVIEWS; v++) {
        tree_free(u->trees[v]);
    }
    free(u->mshare);
    if (ui_active == u) {
        ui_active = NULL;
        diag_set_exit_hook(NULL);
    }
    free(u);
}

enum layout_view ui_view(const struct ui *u)
{
    return u->view;
}

int32_t ui_selected_pid(const struct ui *u)
{
    return u->sel_pid;
}

bool ui_frozen(const struct ui *u)
{
    return u->frozen;
}

int ui_input_fd(const struct ui *u)
{
    return fileno(u->in);
}
