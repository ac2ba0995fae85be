/* Parser for the Debian control format (deb822): stanzas separated by
 * blank lines, "Name: value" fields, continuation lines starting with
 * white space. Values are slices into the caller's text. */
#include <stdlib.h>
#include <string.h>

#include <archive.h>

#include "meta.h"

static bool is_blank_line(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return false;
	return true;
}

static void trim(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' ||
			(*s)[*len - 1] == '\r' || (*s)[*len - 1] == '\n'))
		(*len)--;
}

/* Parse one line into the stanza; line excludes the newline. */
static int parse_line(struct repack_ctx *ctx, const char *label, size_t lineno,
		      const char *line, size_t len, struct deb822_stanza *st)
{
	const char *colon;

	if (line[0] == '#')
		return 0;
	if (line[0] == ' ' || line[0] == '\t') {
		struct deb822_field *f;

		if (st->count == 0)
			return repack_fail(ctx, REPACK_EFORMAT,
					   "%s:%zu: continuation line before any field", label, lineno);
		/* Extend the last value to the end of this line. */
		f = &st->fields[st->count - 1];
		if (f->value_len == 0)
			f->value = line;
		f->value_len = (size_t)(line + len - f->value);
		trim(&f->value, &f->value_len);
		return 0;
	}
	colon = memchr(line, ':', len);
	if (!colon || colon == line)
		return repack_fail(ctx, REPACK_EFORMAT,
				   "%s:%zu: expected 'Name: value', found '%.60s'",
				   label, lineno, line);
	if (st->count == DEB822_MAX_FIELDS)
		return repack_fail(ctx, REPACK_EFORMAT, "%s:%zu: more than %d fields in one stanza",
				   label, lineno, DEB822_MAX_FIELDS);
	struct deb822_field *f = &st->fields[st->count++];
	f->name = line;
	f->name_len = (size_t)(colon - line);
	f->value = colon + 1;
	f->value_len = (size_t)(line + len - f->value);
	trim(&f->value, &f->value_len);
	return 0;
}

/* Parse text; *consumed gets the offset after the last complete stanza.
 * When final is false an unterminated last stanza is left for later. */
static int parse_text(struct repack_ctx *ctx, const char *label, const char *text,
		      size_t len, bool final, size_t *lineno, size_t *consumed,
		      deb822_stanza_fn fn, void *user)
{
	struct deb822_stanza *st = xcalloc(1, sizeof(*st));
	size_t pos = 0, start = 0, start_line = *lineno;
	int rc = 0;

	*consumed = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (!nl && !final)
			break;
		(*lineno)++;
		if (is_blank_line(text + pos, end - pos)) {
			if (st->count)
				rc = fn(user, st);
			st->count = 0;
			start = end + 1 > len ? len : end + 1;
			start_line = *lineno;
			if (rc)
				goto out;
		} else {
			rc = parse_line(ctx, label, *lineno, text + pos, end - pos, st);
			if (rc)
				goto out;
		}
		pos = nl ? end + 1 : len;
	}
	if (final && st->count) {
		rc = fn(user, st);
		start = len;
	}
	if (!final)
		*lineno = start_line;
	*consumed = start;
out:
	free(st);
	return rc;
}

int deb822_parse(struct repack_ctx *ctx, const char *label, const char *text,
		 size_t len, deb822_stanza_fn fn, void *user)
{
	size_t lineno = 0, consumed;

	return parse_text(ctx, label, text, len, true, &lineno, &consumed, fn, user);
}

/* True when path decompresses to zero bytes: an index of a suite without
 * packages. libarchive's raw format cannot open such a stream, and only
 * the empty format, tried alone, distinguishes it from a corrupt one. */
static bool decompresses_to_nothing(const char *path)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	bool empty;

	archive_read_support_filter_all(a);
	archive_read_support_format_empty(a);
	empty = archive_read_open_filename(a, path, 16384) == ARCHIVE_OK &&
		archive_read_next_header(a, &ae) == ARCHIVE_EOF;
	archive_read_free(a);
	return empty;
}

int deb822_parse_file(struct repack_ctx *ctx, const char *label,
		      const char *path, deb822_stanza_fn fn, void *user)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	struct strbuf pending = STRBUF_INIT;
	char chunk[1 << 16];
	size_t lineno = 0, consumed;
	la_ssize_t n;
	int rc = 0;

	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, sizeof(chunk)) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ae) != ARCHIVE_OK) {
		if (!decompresses_to_nothing(path))
			rc = repack_fail(ctx, REPACK_EFORMAT, "%s: cannot read '%s': %s",
					 label, path, archive_error_string(a));
		goto out;
	}
	while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		strbuf_add(&pending, chunk, (size_t)n);
		rc = parse_text(ctx, label, pending.buf, pending.len, false, &lineno,
				&consumed, fn, user);
		if (rc)
			goto out;
		/* Keep only the unfinished stanza. */
		memmove(pending.buf, pending.buf + consumed, pending.len - consumed);
		pending.len -= consumed;
	}
	if (n < 0) {
		rc = repack_fail(ctx, REPACK_EFORMAT, "%s: corrupt or truncated '%s': %s",
				 label, path, archive_error_string(a));
		goto out;
	}
	rc = parse_text(ctx, label, pending.buf ? pending.buf : "", pending.len, true,
			&lineno, &consumed, fn, user);
out:
	strbuf_release(&pending);
	archive_read_free(a);
	return rc;
}

const char *deb822_get(const struct deb822_stanza *stanza, const char *name,
		       size_t *len)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < stanza->count; i++) {
		const struct deb822_field *f = &stanza->fields[i];

		if (f->name_len == n && strncasecmp(f->name, name, n) == 0) {
			if (len)
				*len = f->value_len;
			return f->value;
		}
	}
	return NULL;
}

char *deb822_dup(const struct deb822_stanza *stanza, const char *name)
{
	size_t len;
	const char *value = deb822_get(stanza, name, &len);

	return value ? xstrndup(value, len) : NULL;
}
