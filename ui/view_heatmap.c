/* SPDX-License-Identifier: MIT */
/* The Heatmap view: a matrix the workload publishes (nctop_matrix_publish: attention weights,
 * a spike raster, core occupancy) as shades and a colour ramp, plain characters without
 * UTF-8 or colours (NO_COLOR), with zoom, a cursor that pans the view and reads out the value under
 * it with its row and column labels, and the scale's minimum and maximum. */
#include "ui/ui_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"
#include "src/model/rows.h"

#define HEATMAP_ZOOM_MIN (-3) /* one character shows 8 x 8 cells (their mean) */
#define HEATMAP_ZOOM_MAX 3    /* one cell is 8 characters by 4 lines */
#define HEATMAP_LEVELS 5      /* shades, the lowest a blank */
#define HEATMAP_PAIR0 24      /* colour pairs of the ramp (draw.c uses the ones below) */
#define HEATMAP_LABEL_W 10    /* row labels at most this wide */

struct view_heatmap {
    size_t sel;   /* the matrix shown */
    uint32_t row; /* the cursor's cell */
    uint32_t col;
    uint32_t top; /* the first row and column shown */
    uint32_t left;
    int zoom;   /* > 0: a cell takes more characters; < 0: a character takes more cells */
    bool fit;   /* the zoom follows the matrix and the window */
    bool pairs; /* the ramp's colour pairs are made */
    int grid_y; /* where the last frame drew the grid (body line and column) */
    int grid_x;
    int cw, ch, k; /* and its geometry (struct heatmap_geo), for clicks */
};

/* The geometry of one frame: how the grid of w x h characters maps onto cells. */
struct heatmap_geo {
    int cw, ch;      /* characters per cell across and down (zoom >= 0) */
    int k;           /* cells per character both ways (zoom < 0), else 1 */
    uint32_t vr, vc; /* cells shown down and across */
};

static const char *const heatmap_utf8[HEATMAP_LEVELS] = {" ", "░", "▒", "▓", "█"};
static const char heatmap_ascii[HEATMAP_LEVELS] = {' ', '.', ':', '*', '#'};

/* Shades need UTF-8, and with NO_COLOR (or --color never) the map is drawn in plain
 * characters too: a terminal without colours is often one that copies text elsewhere. */
static bool heatmap_shades(const struct ui *u)
{
    return u->utf8 && u->color;
}

static void heatmap_geometry(int zoom, int gw, int gh, struct heatmap_geo *g)
{
    g->k = zoom < 0 ? 1 << -zoom : 1;
    g->cw = zoom > 0 ? 1 << zoom : 1;
    g->ch = zoom > 1 ? 1 << (zoom - 1) : 1; /* a character is about twice as tall as wide */
    g->vr = gh > 0 ? (uint32_t)(gh / g->ch) * (uint32_t)g->k : 0;
    g->vc = gw > 0 ? (uint32_t)(gw / g->cw) * (uint32_t)g->k : 0;
}

/* The largest zoom at which the whole matrix fits gw x gh, else the smallest. */
static int heatmap_fit(const struct rows_matrix *m, int gw, int gh)
{
    for (int z = HEATMAP_ZOOM_MAX; z > HEATMAP_ZOOM_MIN; z--) {
        struct heatmap_geo g;

        heatmap_geometry(z, gw, gh, &g);
        if (g.vr >= m->rows && g.vc >= m->cols) {
            return z;
        }
    }
    return HEATMAP_ZOOM_MIN;
}

static const struct rows_matrix *heatmap_matrix(struct ui *u, struct view_heatmap *hm)
{
    const struct rows_summary *s = ui_shown(u);

    if (s == NULL || s->nmatrices == 0) {
        return NULL;
    }
    if (hm->sel >= s->nmatrices) {
        hm->sel = s->nmatrices - 1;
    }
    return &s->matrices[hm->sel];
}

static const char *heatmap_label(const char *labels, uint32_t i)
{
    return labels + (size_t)i * ROWS_MATRIX_LABEL;
}

/* The value of a character's block: the cell itself, or the mean of the finite cells of a
 * k x k block. False when none is finite. */
static bool heatmap_value(const struct rows_matrix *m, uint32_t r, uint32_t c, int k, float *out)
{
    double sum = 0.0;
    uint32_t n = 0;

    for (uint32_t i = r; i < r + (uint32_t)k && i < m->rows; i++) {
        for (uint32_t j = c; j < c + (uint32_t)k && j < m->cols; j++) {
            float v = m->values[(size_t)i * m->cols + j];

            if (isfinite(v)) {
                sum += v;
                n++;
            }
        }
    }
    if (n == 0) {
        return false;
    }
    *out = (float)(sum / n);
    return true;
}

/* The shade of v on the matrix's scale: 0 (the minimum) to HEATMAP_LEVELS - 1. */
static int heatmap_level(const struct rows_matrix *m, float v)
{
    double span = (double)m->hi - (double)m->lo, f;
    int lv;

    if (!m->range_valid || !(span > 0.0)) {
        return v > 0.0f ? HEATMAP_LEVELS - 1 : 0;
    }
    f = ((double)v - m->lo) / span;
    lv = (int)(f * (HEATMAP_LEVELS - 1) + 0.5);
    return lv < 0 ? 0 : lv >= HEATMAP_LEVELS ? HEATMAP_LEVELS - 1 : lv;
}

/* The ramp's colour pairs: dark blue to red (256 colours), blue to red (8). */
static void heatmap_pairs(struct ui *u, struct view_heatmap *hm)
{
    static const short rich[HEATMAP_LEVELS] = {17, 25, 37, 178, 196};
    static const short basic[HEATMAP_LEVELS] = {COLOR_BLUE, COLOR_BLUE, COLOR_CYAN, COLOR_YELLOW,
                                                COLOR_RED};

    if (hm->pairs || !u->color || COLOR_PAIRS <= HEATMAP_PAIR0 + HEATMAP_LEVELS) {
        return;
    }
    for (int i = 0; i < HEATMAP_LEVELS; i++) {
        init_pair((short)(HEATMAP_PAIR0 + i), COLORS >= 256 ? rich[i] : basic[i], -1);
    }
    hm->pairs = true;
}

/* One character of the grid at (y, x): its block's shade, coloured; the cursor reversed. */
static void heatmap_cell(struct ui *u, struct view_heatmap *hm, WINDOW *w, int y, int x,
                         const struct rows_matrix *m, uint32_t r, uint32_t c, int k, bool cursor)
{
    attr_t a = cursor ? A_REVERSE : A_NORMAL;
    float v;
    int lv;

    if (!heatmap_value(m, r, c, k, &v)) {
        wattrset(w, u->role_attr[UI_ROLE_DIM] | a);
        mvwaddstr(w, y, x, heatmap_shades(u) ? "·" : "?");
        wattrset(w, A_NORMAL);
        return;
    }
    lv = heatmap_level(m, v);
    if (hm->pairs) {
        a |= COLOR_PAIR(HEATMAP_PAIR0 + lv) | (lv == HEATMAP_LEVELS - 1 ? A_BOLD : 0);
    }
    wattrset(w, a);
    if (heatmap_shades(u)) {
        /* The lowest shade is a blank; under the cursor it must still show. */
        mvwaddstr(w, y, x, cursor && lv == 0 ? "·" : heatmap_utf8[lv]);
    } else {
        mvwaddch(w, y, x, (chtype)(cursor && lv == 0 ? '_' : heatmap_ascii[lv]));
    }
    wattrset(w, A_NORMAL);
}

/* Keep the cursor inside the matrix and the view around it (the view pans to follow). */
static void heatmap_clamp(struct view_heatmap *hm, const struct rows_matrix *m,
                          const struct heatmap_geo *g)
{
    uint32_t k = (uint32_t)g->k;

    hm->row = hm->row < m->rows ? hm->row : m->rows - 1;
    hm->col = hm->col < m->cols ? hm->col : m->cols - 1;
    if (g->vr == 0 || g->vc == 0) {
        return;
    }
    if (hm->row < hm->top) {
        hm->top = hm->row / k * k;
    } else if (hm->row >= hm->top + g->vr) {
        hm->top = (hm->row - g->vr + k) / k * k;
    }
    if (hm->col < hm->left) {
        hm->left = hm->col / k * k;
    } else if (hm->col >= hm->left + g->vc) {
        hm->left = (hm->col - g->vc + k) / k * k;
    }
    if (hm->top >= m->rows) {
        hm->top = 0;
    }
    if (hm->left >= m->cols) {
        hm->left = 0;
    }
}

static void heatmap_fmt(char *buf, size_t len, float v)
{
    snprintf(buf, len, "%.6g", (double)v);
}

/* Line 0: which matrix, its size, the scale's ends around the ramp, the zoom. */
static void heatmap_legend(struct ui *u, WINDOW *w, int y, const struct rows_summary *s,
                           struct view_heatmap *hm, const struct rows_matrix *m)
{
    char lo[24] = "-", hi[24] = "-", zoom[16], a[256];
    int x = 0, ww = getmaxx(w);

    if (m->range_valid) {
        heatmap_fmt(lo, sizeof(lo), m->lo);
        heatmap_fmt(hi, sizeof(hi), m->hi);
    }
    if (hm->zoom >= 0) {
        snprintf(zoom, sizeof(zoom), "%dx", 1 << hm->zoom);
    } else {
        snprintf(zoom, sizeof(zoom), "1/%d", 1 << -hm->zoom);
    }
    snprintf(a, sizeof(a), "[%zu/%zu] %s%s%s%s %ux%u ", hm->sel + 1, s->nmatrices, m->name,
             m->unit[0] != '\0' ? " (" : "", m->unit, m->unit[0] != '\0' ? ")" : "", m->rows,
             m->cols);
    x += draw_put(u, w, y, x, ww - x, UI_ROLE_TITLE, a);
    snprintf(a, sizeof(a), "min %s ", lo);
    x += draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, a);
    for (int i = 0; i < HEATMAP_LEVELS && x < ww; i++) {
        attr_t at = hm->pairs ? COLOR_PAIR(HEATMAP_PAIR0 + i) : A_NORMAL;

        wattrset(w, at);
        if (heatmap_shades(u)) {
            mvwaddstr(w, y, x, i == 0 ? "·" : heatmap_utf8[i]);
        } else {
            mvwaddch(w, y, x, (chtype)(i == 0 ? '_' : heatmap_ascii[i]));
        }
        wattrset(w, A_NORMAL);
        x++;
    }
    snprintf(a, sizeof(a), " max %s  zoom %s%s", hi, zoom, hm->fit ? " (fit)" : "");
    draw_put(u, w, y, x, ww - x, UI_ROLE_TEXT, a);
}

/* Line 1: the cursor's cell, its labels and its value. */
static void heatmap_readout(struct ui *u, WINDOW *w, int y, const struct view_heatmap *hm,
                            const struct rows_matrix *m)
{
    const char *rl = heatmap_label(m->row_labels, hm->row);
    const char *cl = heatmap_label(m->col_labels, hm->col);
    float v = m->values[(size_t)hm->row * m->cols + hm->col];
    char val[24] = "-", a[160];

    if (isfinite(v)) {
        heatmap_fmt(val, sizeof(val), v);
    }
    snprintf(a, sizeof(a), "(%u,%u) %s / %s = %s%s%s", hm->row, hm->col, rl[0] ? rl : "-",
             cl[0] ? cl : "-", val, m->unit[0] && isfinite(v) ? " " : "",
             isfinite(v) ? m->unit : "");
    draw_put(u, w, y, 0, getmaxx(w), UI_ROLE_VALUE, a);
}

static void view_heatmap_draw(struct ui *u, struct view *v, WINDOW *w)
{
    struct view_heatmap *hm = v->data;
    const struct rows_summary *s = ui_shown(u);
    const struct rows_matrix *m = heatmap_matrix(u, hm);
    int h = getmaxy(w), ww = getmaxx(w), y0, lw = 0, gw, gh;
    struct heatmap_geo g;

    if (m == NULL) {
        draw_put(u, w, 0, 0, ww, UI_ROLE_DIM,
                 "no matrix: a workload publishes one with nctop_matrix_publish (tinylm, snn)");
        return;
    }
    heatmap_pairs(u, hm);
    /* What a short body keeps: the readout, then the grid, then the legend. */
    y0 = h >= 3 ? 2 : 1;
    for (uint32_t r = 0; ww >= 30 && r < m->rows; r++) {
        int n = draw_cols(heatmap_label(m->row_labels, r), ROWS_MATRIX_LABEL);

        lw = n > lw ? n : lw;
    }
    lw = lw > HEATMAP_LABEL_W ? HEATMAP_LABEL_W : lw;
    lw = lw > 0 ? lw + 1 : 0;
    gw = ww - lw;
    gh = h - y0;
    if (hm->fit) {
        hm->zoom = heatmap_fit(m, gw, gh);
    }
    heatmap_geometry(hm->zoom, gw, gh, &g);
    heatmap_clamp(hm, m, &g);
    if (h >= 3) {
        heatmap_legend(u, w, 0, s, hm, m);
    }
    heatmap_readout(u, w, h >= 3 ? 1 : 0, hm, m);
    hm->grid_y = y0;
    hm->grid_x = lw;
    hm->cw = g.cw;
    hm->ch = g.ch;
    hm->k = g.k;
    if (gh <= 0 || gw <= 0) {
        return;
    }
    for (int y = 0; y + g.ch <= gh; y += g.ch) {
        uint32_t r = hm->top + (uint32_t)(y / g.ch) * (uint32_t)g.k;

        if (r >= m->rows) {
            break;
        }
        if (lw > 0) {
            draw_put(u, w, y0 + y, 0, lw - 1,
                     r <= hm->row && hm->row < r + (uint32_t)g.k ? UI_ROLE_TITLE : UI_ROLE_DIM,
                     heatmap_label(m->row_labels, r));
        }
        for (int x = 0; x + g.cw <= gw; x += g.cw) {
            uint32_t c = hm->left + (uint32_t)(x / g.cw) * (uint32_t)g.k;
            bool cur = r <= hm->row && hm->row < r + (uint32_t)g.k && c <= hm->col &&
                       hm->col < c + (uint32_t)g.k;

            if (c >= m->cols) {
                break;
            }
            for (int dy = 0; dy < g.ch; dy++) {
                for (int dx = 0; dx < g.cw; dx++) {
                    heatmap_cell(u, hm, w, y0 + y + dy, lw + x + dx, m, r, c, g.k, cur);
                }
            }
        }
    }
}

/* The view's own keys; 0 leaves a key to the key table. */
static unsigned view_heatmap_key(struct ui *u, struct view *v, int ch)
{
    struct view_heatmap *hm = v->data;
    const struct rows_summary *s = ui_shown(u);
    const struct rows_matrix *m = heatmap_matrix(u, hm);
    uint32_t step = hm->zoom < 0 ? 1U << -hm->zoom : 1U;

    if (m == NULL) {
        return 0;
    }
    switch (ch) {
    case KEY_UP:
    case 'k':
        hm->row = hm->row >= step ? hm->row - step : 0;
        break;
    case KEY_DOWN:
    case 'j':
        hm->row = hm->row + step < m->rows ? hm->row + step : m->rows - 1;
        break;
    case KEY_LEFT:
    case 'h':
        hm->col = hm->col >= step ? hm->col - step : 0;
        break;
    case KEY_RIGHT:
    case 'l':
        hm->col = hm->col + step < m->cols ? hm->col + step : m->cols - 1;
        break;
    case '+':
        hm->fit = false;
        hm->zoom = hm->zoom < HEATMAP_ZOOM_MAX ? hm->zoom + 1 : HEATMAP_ZOOM_MAX;
        break;
    case '-':
        hm->fit = false;
        hm->zoom = hm->zoom > HEATMAP_ZOOM_MIN ? hm->zoom - 1 : HEATMAP_ZOOM_MIN;
        break;
    case '=':
        hm->fit = true;
        break;
    case ']':
    case '[':
        hm->sel = (hm->sel + (ch == ']' ? 1 : s->nmatrices - 1)) % s->nmatrices;
        hm->row = hm->col = hm->top = hm->left = 0;
        hm->fit = true;
        break;
    default:
        return 0;
    }
    return UI_REDRAW;
}

static void *view_heatmap_init(const struct ui_opts *opts)
{
    struct view_heatmap *hm = xcalloc(1, sizeof(*hm));

    (void)opts;
    hm->fit = true;
    return hm;
}

static void view_heatmap_free(void *data)
{
    free(data);
}

static size_t view_heatmap_length(struct ui *u, struct view *v)
{
    const struct rows_matrix *m = heatmap_matrix(u, v->data);

    return m != NULL ? m->rows : 0;
}

/* Page and Home/End keys move the cursor by rows. */
static unsigned view_heatmap_move_by(struct ui *u, struct view *v, long delta)
{
    struct view_heatmap *hm = v->data;
    const struct rows_matrix *m = heatmap_matrix(u, hm);
    long target;

    if (m == NULL) {
        return 0;
    }
    target = (long)hm->row + delta;
    target = target < 0 ? 0 : target >= (long)m->rows ? (long)m->rows - 1 : target;
    if ((uint32_t)target == hm->row) {
        return 0;
    }
    hm->row = (uint32_t)target;
    return UI_REDRAW;
}

static int view_heatmap_name_want(struct ui *u, struct view *v)
{
    (void)u;
    (void)v;
    return 0;
}

/* A click puts the cursor on the cell under it (the grid of the last frame). */
static unsigned view_heatmap_click(struct ui *u, struct view *v, int row, int x)
{
    struct view_heatmap *hm = v->data;
    const struct rows_matrix *m = heatmap_matrix(u, hm);
    uint32_t r, c;

    if (m == NULL || hm->cw <= 0 || hm->ch <= 0 || row < hm->grid_y || x < hm->grid_x) {
        return 0;
    }
    r = hm->top + (uint32_t)((row - hm->grid_y) / hm->ch) * (uint32_t)hm->k;
    c = hm->left + (uint32_t)((x - hm->grid_x) / hm->cw) * (uint32_t)hm->k;
    if (r >= m->rows || c >= m->cols) {
        return 0;
    }
    hm->row = r;
    hm->col = c;
    return UI_REDRAW;
}

static const char *const view_heatmap_help[] = {
    "Arrows, h j k l",
    "Heatmap: move the cursor (the view pans)",
    "+, -, =",
    "Heatmap: zoom in, out, to fit",
    "[, ]",
    "Heatmap: previous, next matrix",
    NULL,
};

const struct view_ops view_heatmap_ops = {
    .title = "Heatmap",
    .header = 1U << HEADER_TITLE,
    .init = view_heatmap_init,
    .free = view_heatmap_free,
    .name_want = view_heatmap_name_want,
    .draw = view_heatmap_draw,
    .length = view_heatmap_length,
    .move_by = view_heatmap_move_by,
    .click = view_heatmap_click,
    .key = view_heatmap_key,
    .help = view_heatmap_help,
};
