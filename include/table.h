/* Whitespace-separated tables from data/: one row a line, '#' comments. */
#ifndef REPACK_TABLE_H
#define REPACK_TABLE_H

#include "repack.h"

struct table_row {
	struct strlist cells;
};

struct table {
	struct table_row *rows;
	size_t count;
};

/* Load data/<name>; a missing or unreadable file is an error naming it. */
int table_load(struct repack_ctx *ctx, const char *name, struct table *table);
/* Return the first row whose first cell equals key, or NULL. */
const struct table_row *table_find(const struct table *table, const char *key);
/* Return cell i of row, or "" past the end. */
const char *table_cell(const struct table_row *row, size_t i);
void table_release(struct table *table);

#endif
