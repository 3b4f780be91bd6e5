/* SPDX-License-Identifier: MIT */
/* The frame the display draws, built from the store and what the loop knows (the display's
 * choices, the status messages of the sources): pure, so the choice of what the status line
 * says is one table with unit tests. The loop owns one struct frame and rebuilds it. */
#ifndef NCTOP_SRC_FRAME_H
#define NCTOP_SRC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/model/rows.h"
#include "ui/layout.h"
#include "ui/ui.h"

struct alerts;
struct store;

/* What the status line may say, besides the store's own complaints. */
struct frame_status_in {
    const char *message;      /* the latest status message while it is fresh, or NULL */
    bool message_error;       /* ... shown as an error */
    bool replay;              /* the data are a replay */
    uint64_t replay_problems; /* what the replay could not read: how many, and the first */
    const char *replay_problem;
    bool replay_done;         /* the replay reached the end of its input */
    const char *note;         /* a source's lasting complaint (could not start), or NULL */
    const char *gpu_error;    /* the GPU probe failing, or NULL */
    const char *proc_invalid; /* the shown process's invalid-data reason, or NULL */
    size_t alerts_firing;     /* alerts firing now (filled in by the build) */
    const char *alert_first;  /* the first of them in words, or NULL */
};

/* The status line: the first rule of the table that has something to say, in buf (len
 * bytes) or a static string; NULL when none has. *error: whether it is shown as one. The
 * table, in order: a fresh message, firing alerts, the replay's problems, the end of a
 * replay, a source's lasting complaint, the GPU probe's failure, the shown process's invalid
 * data. */
const char *frame_status(const struct frame_status_in *in, bool *error, char *buf, size_t len);

/* What the loop gives for a frame. */
struct frame_input {
    enum layout_view view;
    int32_t want_pid; /* the process to show (the display's choice, else the started
                       * command's), 0: the first */
    uint64_t now_ns;
    const char *log_name; /* the log being written, or NULL */
    /* Seconds since process pid started; false when unknown (NULL: never known). */
    bool (*uptime)(int32_t pid, uint64_t *out_ns);
    struct frame_status_in status; /* proc_invalid and gpu_error are filled in by the build */
    const struct store *baseline;  /* --baseline: latency rows compared with it, or NULL */
    const struct alerts *alerts;   /* the evaluated rules (borrowed), or NULL */
    unsigned omit;                 /* ROWS_OMIT_* figures the display does not show (ui_omit) */
    struct rows_sort sort;         /* the display's sort of the rows (ui_rows_sort): their keys
                                    * are made with them */
};

/* A frame and the rows it points into (owned). */
struct frame {
    struct ui_frame ui;
    struct rows view_rows;
    struct rows mem_rows;
    struct rows_gpus gpus;
    struct rows_summary *sums;
    size_t nsums;
    size_t sums_cap;
    char status[256];
    char alert_text[256];
};

void frame_init(struct frame *f);
void frame_done(struct frame *f);

/* Build f->ui from st at in->now_ns: every process's summary, the active view's rows and the
 * memory rows of the shown process, the GPUs and the status line. */
void frame_build(struct frame *f, const struct store *st, const struct frame_input *in);

#endif /* NCTOP_SRC_FRAME_H */
