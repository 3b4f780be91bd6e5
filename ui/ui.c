/* SPDX-License-Identifier: MIT */
/* The ncurses dashboard's life cycle and orchestration: the terminal and its windows, and each
 * frame as header + tabs + column titles + the shown view + status + footer. The views
 * (view.h), the header, the keys, the prompts and the drawing primitives have their own files
 * behind ui_internal.h; the loop does the rest. */
#include "ui/ui.h"

#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "src/base/diag.h"
#include "src/base/xalloc.h"
#include "src/model/alerts.h"
#include "src/model/rows.h"
#include "ui/curses.h"
#include "ui/layout.h"
#include "ui/ui_internal.h"
#include "ui/view.h"
#include "ui/view_tree.h"

static struct ui *ui_active; /* for the fatal() hook: end curses before printing */

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

/* Windows follow the layout of the current size; recreated on every resize. */
static void ui_make_windows(struct ui *u)
{
    ui_del_windows(u);
    u->header_lines = header_height(ui_current(u)->ops->header);
    layout_screen(u->width, u->height, u->header_lines, &u->lay);
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

/* --- what the other files of the display ask ----------------------------------------------- */

const struct rows_summary *ui_shown(const struct ui *u)
{
    const struct ui_frame *f = u->frame;

    return f != NULL && f->sel_proc < f->nprocs ? &f->procs[f->sel_proc] : NULL;
}

struct tree *ui_tree(struct ui *u)
{
    struct view *v = ui_current(u);

    return v->ops->tree != NULL ? v->ops->tree(v) : NULL;
}

bool ui_view_offered(const struct ui *u, int v)
{
    const struct rows_summary *s = ui_shown(u);

    /* The Neuro view is for a spiking workload, the Heatmap view for one that publishes a
     * matrix, the Compile view for one that compiles: the others' tabs stay as they were. */
    if (v == LAYOUT_VIEW_HEATMAP) {
        return s != NULL && s->nmatrices > 0;
    }
    if (v == LAYOUT_VIEW_COMPILE) {
        return s != NULL && s->compile.total > 0;
    }
    if (v == LAYOUT_VIEW_ALERTS) {
        return u->frame != NULL && alerts_count(u->frame->alerts) > 0;
    }
    return v != LAYOUT_VIEW_NEURO || (s != NULL && s->neuro.spiking);
}

unsigned ui_set_view(struct ui *u, int v)
{
    v = (v % LAYOUT_NVIEWS + LAYOUT_NVIEWS) % LAYOUT_NVIEWS;
    if (v == (int)u->view) {
        return 0;
    }
    u->view = (enum layout_view)v;
    /* A view with other header lines needs other windows. */
    if (header_height(ui_current(u)->ops->header) != u->header_lines) {
        ui_make_windows(u);
    }
    return UI_REBUILD;
}

/* --- tabs, column titles, status, footer ----------------------------------------------------- */

/* The columns the shown view's facts take on the tab line: drawn once off the screen. */
static int ui_tabs_facts_width(struct ui *u, struct view *v)
{
    WINDOW *pad;
    int x;

    if (v->ops->tabs == NULL || (pad = newpad(1, 512)) == NULL) {
        return 0;
    }
    wmove(pad, 0, 0);
    v->ops->tabs(u, v, pad, 2);
    x = getcurx(pad);
    delwin(pad);
    return x;
}

/* The views' titles, the shown one marked, then its own facts. When the line cannot hold
 * them all, the other views' tabs give up their titles (their digits stay): the facts of
 * the shown view (its sort, its energy basis) are what the line is for. */
static void ui_draw_tabs(struct ui *u)
{
    WINDOW *w = u->w_tabs;
    struct view *v = ui_current(u);
    int x = 0, ww, full = 0;
    bool brief;
    char a[64];

    if (w == NULL) {
        return;
    }
    ww = getmaxx(w);
    werase(w);
    for (int i = 0; i < LAYOUT_NVIEWS; i++) {
        if (i == (int)u->view || ui_view_offered(u, i)) {
            full += draw_cols(view_table[i]->title, 64) + 4;
        }
    }
    brief = full + ui_tabs_facts_width(u, v) > ww;
    for (int i = 0; i < LAYOUT_NVIEWS; i++) {
        if (i != (int)u->view && !ui_view_offered(u, i)) {
            continue;
        }
        if (brief && i != (int)u->view) {
            if (i == LAYOUT_VIEW_ALERTS) {
                snprintf(a, sizeof(a), " a ");
            } else {
                snprintf(a, sizeof(a), " %d ", i + 1);
            }
        } else if (i == LAYOUT_VIEW_ALERTS) {
            snprintf(a, sizeof(a), " a %s ", view_table[i]->title); /* its key is a letter */
        } else {
            snprintf(a, sizeof(a), " %d %s ", i + 1, view_table[i]->title);
        }
        x += draw_put(u, w, 0, x, ww - x, i == (int)u->view ? UI_ROLE_TAB : UI_ROLE_TEXT, a);
    }
    if (v->ops->tabs != NULL) {
        v->ops->tabs(u, v, w, x + 2);
    }
    wnoutrefresh(w);
}

/* Whether the rows shown are compared with a baseline (--baseline): its columns show. */
static bool ui_baseline_shown(const struct ui *u)
{
    const struct rows *r = u->frame != NULL ? u->frame->rows : NULL;

    return r != NULL && r->n > 0 && (r->v[0].flags & (ROW_F_BASE | ROW_F_BASE_NEW)) != 0;
}

/* The columns of the shown view that fit, and their titles. */
static void ui_draw_colhdr(struct ui *u)
{
    WINDOW *w = u->w_colhdr;
    struct view *v = ui_current(u);
    const struct layout_col *cols;
    uint64_t mask = v->columns != 0 ? v->columns : u->columns;
    const struct rows *rows = u->frame != NULL ? u->frame->rows : NULL;
    size_t n;

    if (!ui_baseline_shown(u)) {
        mask &= ~LAYOUT_COLS_BASELINE;
    }
    /* A fleet's spread columns where the rows have a spread (and only there): a look at
     * every row, once per rows (gen), view and choice of columns. */
    mask = layout_view_enabled(u->view, mask);
    if (rows == NULL || rows->gen == 0 || rows->gen != u->cols_gen || mask != u->cols_in ||
        u->view != u->cols_view) {
        u->cols_gen = rows != NULL ? rows->gen : 0;
        u->cols_in = mask;
        u->cols_view = u->view;
        u->cols_out = layout_rows_enabled(u->view, mask, rows);
    }
    mask = u->cols_out;
    u->ncols = layout_fit(u->view, u->width, mask, v->ops->name_want(u, v), u->cols);
    if (w == NULL) {
        return;
    }
    werase(w);
    draw_fill(u, w, 0, UI_ROLE_COLHDR);
    n = layout_view_columns(u->view, &cols);
    for (size_t i = 0; i < u->ncols; i++) {
        const struct layout_place *p = &u->cols[i];
        enum ui_role role = (int)p->id == v->sort_col ? UI_ROLE_SORTCOL : UI_ROLE_COLHDR;
        const char *title = "?";

        for (size_t j = 0; j < n; j++) {
            if (cols[j].id == p->id) {
                title = cols[j].title;
            }
        }
        /* The delta sign of the baseline columns, spelled with a letter without UTF-8. */
        if (!u->utf8 && (unsigned char)title[0] == 0xCE && (unsigned char)title[1] == 0x94) {
            title = p->id == LAYOUT_COL_DP99 ? "dP99" : "dMEAN";
        }
        if (p->id == LAYOUT_COL_NAME || p->id == LAYOUT_COL_BACKEND ||
            p->id == LAYOUT_COL_SLOWEST) {
            draw_put(u, w, 0, p->x, p->w, role, title);
        } else {
            draw_put_right(u, w, 0, p->x, p->w, role, title);
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
    if (prompt_draw(u, w)) {
        wnoutrefresh(w);
        return;
    }
    for (size_t i = 0; i < sizeof(ui_footer_keys) / sizeof(ui_footer_keys[0]) && x < ww; i++) {
        x += draw_put(u, w, 0, x, ww - x, UI_ROLE_FKEY, ui_footer_keys[i].key);
        x += draw_put(u, w, 0, x, ww - x, UI_ROLE_FLABEL, ui_footer_keys[i].label);
        x += draw_put(u, w, 0, x, ww - x, UI_ROLE_TEXT, " ");
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
        draw_put(u, w, 0, 0, getmaxx(w), UI_ROLE_WARN, u->message);
    } else if (f != NULL && f->status != NULL) {
        draw_put(u, w, 0, 0, getmaxx(w), f->status_error ? UI_ROLE_WARN : UI_ROLE_TEXT, f->status);
    }
    wnoutrefresh(w);
}

/* --- the frame ------------------------------------------------------------------------------ */

static void ui_draw_body(struct ui *u)
{
    WINDOW *w = u->w_body;
    struct view *v = ui_current(u);

    if (w == NULL) {
        return;
    }
    werase(w);
    v->ops->draw(u, v, w);
    wnoutrefresh(w);
}

void ui_draw(struct ui *u, const struct ui_frame *f)
{
    struct view *v = ui_current(u);

    uint64_t gen;
    bool again;

    if (f != NULL) {
        u->frame_copy = *f;
        u->frame = &u->frame_copy;
    }
    u->stale = false;
    if (u->frame == NULL || u->width <= 0 || u->height <= 0) {
        return;
    }
    /* A frame drawn before, drawn again after a key: when it lacks figures it can no longer
     * have (the store moved on: rows_resolve), nothing reaches the terminal and the loop
     * builds a new frame (ui_stale). A frame drawn the first time is drawn whatever. */
    gen = u->frame->rows != NULL ? u->frame->rows->gen : 0;
    again = gen != 0 && gen == u->drawn_gen;
    u->drawn_gen = gen;
    if (v->ops->prepare != NULL) {
        v->ops->prepare(u, v);
    }
    if (u->stale && again) {
        return;
    }
    if (u->help) {
        keys_help_draw(u);
        doupdate();
        return;
    }
    /* The column header sizes the columns the body then uses. */
    header_draw(u, v->ops->header);
    ui_draw_tabs(u);
    ui_draw_colhdr(u);
    ui_draw_body(u);
    if (u->stale && again) {
        return;
    }
    ui_draw_status(u);
    ui_draw_footer(u);
    doupdate();
}

/* --- input ---------------------------------------------------------------------------------- */

/* One key: the terminal's size, then the help, an open prompt, the mouse, the key table. */
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
        return keys_help_key(u, ch);
    }
    if (u->prompt != UI_PROMPT_NONE) {
        return prompt_key(u, ch);
    }
    if (ch == KEY_MOUSE) {
        return prompt_mouse(u);
    }
    return keys_dispatch(u, ch);
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
    draw_init_colors(u, opts->color);
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
    u->view = opts->view < LAYOUT_NVIEWS ? opts->view : (enum layout_view)0; /* the first tab */
    u->columns = opts->columns != 0 ? opts->columns : LAYOUT_COLS_ALL;
    u->columns |= 1ULL << LAYOUT_COL_NAME;
    u->delay_ns = opts->delay_ns;
    for (int i = 0; i < LAYOUT_NVIEWS; i++) {
        struct view *v = &u->views[i];

        v->ops = view_table[i];
        v->data = v->ops->init != NULL ? v->ops->init(opts) : NULL;
        v->sort_col =
            layout_view_has((enum layout_view)i, opts->sort_col) ? opts->sort_col : UI_SORT_NONE;
        v->sort_asc = opts->sort_ascending;
        v->columns =
            opts->view_columns[i] != 0 ? opts->view_columns[i] | 1ULL << LAYOUT_COL_NAME : 0;
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
    for (int i = 0; i < LAYOUT_NVIEWS; i++) {
        if (u->views[i].ops->free != NULL) {
            u->views[i].ops->free(u->views[i].data);
        }
    }
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

unsigned ui_omit(const struct ui *u)
{
    if (u->frozen) {
        return 0;
    }
    return ROWS_LAZY_WIN_PCT | (u->since_start ? 0 : ROWS_OMIT_ALL_PCT | ROWS_OMIT_ALL);
}

bool ui_stale(const struct ui *u)
{
    return u->stale;
}

void ui_rows_sort(struct ui *u, struct rows_sort *out)
{
    struct view *v = ui_current(u);

    if (v->ops->tree == NULL) {
        *out = (struct rows_sort){.key = ROWS_SORT_NONE};
        return;
    }
    view_tree_sort(u, v, out);
}

bool ui_frame_lacks(const struct ui *u)
{
    const struct rows *r = u->frame != NULL ? u->frame->rows : NULL;

    return r != NULL && (r->omitted & ~ui_omit(u)) != 0;
}

int ui_input_fd(const struct ui *u)
{
    return fileno(u->in);
}
