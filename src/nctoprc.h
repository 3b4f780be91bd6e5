/* SPDX-License-Identifier: MIT */
/* The config file ~/.config/nctop/nctoprc: "key = value" lines, '#' comments. A pure parser
 * (libc only): main applies each entry through the same code as the matching flag. */
#ifndef NCTOP_SRC_NCTOPRC_H
#define NCTOP_SRC_NCTOPRC_H

#include <stddef.h>

struct nctoprc;

/* Parse text (NUL-terminated). Returns an owned struct (nctoprc_free), or NULL with *err set
 * to an owned message ("line N: ...") on a syntax error. Keys are [a-z0-9_-]+; values are
 * trimmed and may be double-quoted. */
struct nctoprc *nctoprc_parse(const char *text, char **err);

/* Read and parse path. A missing file is an empty config, not an error. Returns NULL with
 * *err owned on a read or syntax error. */
struct nctoprc *nctoprc_load(const char *path, char **err);

void nctoprc_free(struct nctoprc *rc);

size_t nctoprc_count(const struct nctoprc *rc);
/* Entry i in file order; strings borrowed until nctoprc_free. */
const char *nctoprc_key(const struct nctoprc *rc, size_t i);
const char *nctoprc_value(const struct nctoprc *rc, size_t i);
unsigned nctoprc_line(const struct nctoprc *rc, size_t i);

/* The file's path: $XDG_CONFIG_HOME/nctop/nctoprc, else $HOME/.config/nctop/nctoprc, or NULL
 * when neither variable is set. Owned by the caller (free). */
char *nctoprc_default_path(void);

#endif /* NCTOP_SRC_NCTOPRC_H */
