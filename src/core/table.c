/* Data tables shipped in data/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "table.h"

const char *repack_data_dir(void)
{
	const char *dir = getenv("REPACK_DATA_DIR");

	return dir && *dir ? dir : REPACK_DATA_DIR;
}

int table_load(struct repack_ctx *ctx, const char *name, struct table *table)
{
	char *path = xasprintf("%s/%s", repack_data_dir(), name);
	char *text = NULL, *save = NULL;
	size_t len;
	int rc;

	memset(table, 0, sizeof(*table));
	rc = read_file(ctx, path, &text, &len);
	if (rc) {
		rc = repack_wrap(ctx, REPACK_EFAIL,
				 "cannot load the data table (set REPACK_DATA_DIR to repack's data directory)");
		goto out;
	}
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct table_row row = { STRLIST_INIT };
		char *word_save = NULL;

		*strchrnul(line, '#') = '\0';
		for (char *w = strtok_r(line, " \t", &word_save); w; w = strtok_r(NULL, " \t", &word_save))
			strlist_push(&row.cells, w);
		if (row.cells.count == 0)
			continue;
		table->rows = xrealloc(table->rows, (table->count + 1) * sizeof(row));
		table->rows[table->count++] = row;
	}
out:
	free(text);
	free(path);
	return rc;
}

const struct table_row *table_find(const struct table *table, const char *key)
{
	for (size_t i = 0; i < table->count; i++)
		if (strcmp(table->rows[i].cells.items[0], key) == 0)
			return &table->rows[i];
	return NULL;
}

const char *table_cell(const struct table_row *row, size_t i)
{
	return i < row->cells.count ? row->cells.items[i] : "";
}

void table_release(struct table *table)
{
	for (size_t i = 0; i < table->count; i++)
		strlist_release(&table->rows[i].cells);
	free(table->rows);
	memset(table, 0, sizeof(*table));
}
