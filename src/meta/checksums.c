/* CHECKSUMS files of the mainline kernel builds. Each block starts with a
 * "# Checksums-<Algorithm>:" line and lists "<hex>  <file name>" lines,
 * the format of sha1sum and sha256sum. Only the sha256 block is read. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checksums.h"

enum block { BLOCK_NONE, BLOCK_SHA256, BLOCK_OTHER };

void checksums_release(struct checksums *sums)
{
	for (size_t i = 0; i < sums->count; i++)
		free(sums->items[i].name);
	free(sums->items);
	memset(sums, 0, sizeof(*sums));
}

/* Return the block a "# Checksums-...:" header line opens, or BLOCK_NONE
 * when the line is no block header. */
static enum block block_header(const char *line, size_t len)
{
	static const char prefix[] = "# Checksums-";
	size_t n = sizeof(prefix) - 1;

	if (len <= n || strncmp(line, prefix, n) != 0 || line[len - 1] != ':')
		return BLOCK_NONE;
	if (len - n - 1 == 6 && strncasecmp(line + n, "sha256", 6) == 0)
		return BLOCK_SHA256;
	return BLOCK_OTHER;
}

static const char *checksums_lookup(const struct checksums *sums, const char *name)
{
	for (size_t i = 0; i < sums->count; i++)
		if (strcmp(sums->items[i].name, name) == 0)
			return sums->items[i].sha256;
	return NULL;
}

/* Parse "<64 hex> <spaces> [*]<name>" into sums. */
static int take_line(struct repack_ctx *ctx, const char *label, size_t line_no,
		     const char *line, size_t len, struct checksums *sums)
{
	char hex[SHA256_HEX_LEN + 1];
	size_t i = 0;
	const char *known;
	char *name;

	while (i < len && i < SHA256_HEX_LEN && isxdigit((unsigned char)line[i])) {
		hex[i] = (char)tolower((unsigned char)line[i]);
		i++;
	}
	hex[i] = '\0';
	if (i != SHA256_HEX_LEN || i == len || (line[i] != ' ' && line[i] != '\t'))
		goto malformed;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < len && line[i] == '*')
		i++;
	if (i == len)
		goto malformed;

	name = xstrndup(line + i, len - i);
	known = checksums_lookup(sums, name);
	if (known && strcmp(known, hex) != 0) {
		int rc = repack_fail(ctx, REPACK_EFORMAT,
				     "%s line %zu: %s is listed twice with different sha256 sums",
				     label, line_no, name);
		free(name);
		return rc;
	}
	if (known) {
		free(name);
		return 0;
	}
	sums->items = xrealloc(sums->items, (sums->count + 1) * sizeof(*sums->items));
	sums->items[sums->count].name = name;
	memcpy(sums->items[sums->count].sha256, hex, sizeof(hex));
	sums->count++;
	return 0;
malformed:
	return repack_fail(ctx, REPACK_EFORMAT,
			   "%s line %zu: expected '<sha256>  <file name>', got '%.*s'",
			   label, line_no, (int)(len > 120 ? 120 : len), line);
}

int checksums_parse(struct repack_ctx *ctx, const char *label, const char *text,
		    size_t len, struct checksums *sums)
{
	enum block block = BLOCK_NONE;
	bool seen_sha256 = false;
	size_t line_no = 0, at = 0;
	int rc = 0;

	while (at < len && rc == 0) {
		const char *line = text + at;
		const char *nl = memchr(line, '\n', len - at);
		size_t n = nl ? (size_t)(nl - line) : len - at;
		enum block header;

		at += n + (nl ? 1 : 0);
		line_no++;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		header = block_header(line, n);
		if (header != BLOCK_NONE) {
			block = header;
			seen_sha256 |= header == BLOCK_SHA256;
		} else if (n > 0 && block == BLOCK_SHA256 && line[0] != '#') {
			rc = take_line(ctx, label, line_no, line, n, sums);
		}
	}
	if (rc == 0 && !seen_sha256)
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "%s: no '# Checksums-Sha256:' block (is this a mainline CHECKSUMS file?)",
				 label);
	if (rc)
		checksums_release(sums);
	return rc;
}

const char *checksums_find(const struct checksums *sums, const char *name)
{
	const char *exact = checksums_lookup(sums, name);

	if (exact)
		return exact;
	for (size_t i = 0; i < sums->count; i++) {
		const char *slash = strrchr(sums->items[i].name, '/');

		if (slash && strcmp(slash + 1, name) == 0)
			return sums->items[i].sha256;
	}
	return NULL;
}
