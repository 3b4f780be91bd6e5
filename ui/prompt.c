/* SPDX-License-Identifier: MIT */
/* The prompts of the display (search and filter, which follow the typing as htop's do) and the
 * mouse: the wheel scrolls, a click picks a tab, a sort column or a line of the view. */
#include "ui/ui_internal.h"

#include <stdio.h>
#include <string.h>

#include "src/model/rows.h"
#include "ui/tree.h"

#define PROMPT_WHEEL_LINES 3

unsigned prompt_open(struct ui *u, enum ui_prompt p)
{
    struct tree *t = ui_tree(u);

    if (t == NULL) {
        return 0;
    }
    u->prompt = p;
    snprintf(u->prompt_text, sizeof(u->prompt_text), "%s",
             p == UI_PROMPT_SEARCH ? u->search : tree_filter(t));
    return UI_REDRAW;
}

unsigned prompt_find(struct ui *u, bool forward)
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

bool prompt_draw(struct ui *u, WINDOW *w)
{
    int x = 0, ww = getmaxx(w);

    if (u->prompt == UI_PROMPT_NONE) {
        return false;
    }
    x += draw_put(u, w, 0, 0, ww, UI_ROLE_FLABEL,
                  u->prompt == UI_PROMPT_SEARCH ? "Search: " : "Filter: ");
    x += draw_put(u, w, 0, x, ww - x, UI_ROLE_TEXT, u->prompt_text);
    draw_put(u, w, 0, x, ww - x, UI_ROLE_DIM,
             u->prompt == UI_PROMPT_SEARCH ? "_   Enter: find  Esc: cancel"
                                           : "_   Enter: keep  Esc: clear");
    return true;
}

unsigned prompt_key(struct ui *u, int ch)
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

        /* The lines may be of the rows of a frame before this one (a view just changed). */
        if (ln == NULL || u->frame == NULL || u->frame->rows == NULL ||
            ln->row >= u->frame->rows->n ||
            strcasestr(u->frame->rows->v[ln->row].label, u->prompt_text) == NULL) {
            snprintf(u->search, sizeof(u->search), "%s", u->prompt_text);
            prompt_find(u, true);
        }
    }
    return UI_REDRAW;
}

/* Mouse: wheel scrolls; a click selects a line, a tab or a sort column; a click on a marker
 * expands or collapses. */
unsigned prompt_mouse(struct ui *u)
{
    MEVENT ev;
    struct view *v = ui_current(u);

    if (getmouse(&ev) != OK) {
        return 0;
    }
    if (ev.bstate & BUTTON4_PRESSED) {
        return v->ops->move_by(u, v, -PROMPT_WHEEL_LINES);
    }
#ifdef BUTTON5_PRESSED
    if (ev.bstate & BUTTON5_PRESSED) {
        return v->ops->move_by(u, v, PROMPT_WHEEL_LINES);
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

        for (int i = 0; i < LAYOUT_NVIEWS; i++) {
            int w = (int)strlen(view_table[i]->title) + 4;

            if (ev.x >= x && ev.x < x + w) {
                return ui_set_view(u, i);
            }
            x += w;
        }
        return 0;
    }
    if (u->lay.colhdr.h > 0 && ev.y == u->lay.colhdr.y && ui_tree(u) != NULL) {
        for (size_t i = 0; i < u->ncols; i++) {
            if (ev.x >= u->cols[i].x && ev.x < u->cols[i].x + u->cols[i].w) {
                if (v->sort_col == (int)u->cols[i].id) {
                    v->sort_asc = !v->sort_asc;
                } else {
                    v->sort_col = (int)u->cols[i].id;
                }
                return UI_REDRAW;
            }
        }
        return 0;
    }
    if (u->lay.body.h > 0 && ev.y >= u->lay.body.y && ev.y < u->lay.body.y + u->lay.body.h) {
        return v->ops->click(u, v, ev.y - u->lay.body.y, ev.x);
    }
    return 0;
}
