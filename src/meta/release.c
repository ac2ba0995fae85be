/* Debian Release files: suite names and the SHA256 list of indexes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta.h"

struct release_state {
	struct repack_ctx *ctx;
	const char *label;
	struct release *release;
	bool seen;
};

/* Parse the SHA256 field: one " <hex> <size> <path>" line each. */
static int parse_sha256_lines(struct release_state *state, const char *value,
			      size_t len)
{
	struct release *r = state->release;
	const char *p = value, *end = value + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		char hex[65], path[1024];
		unsigned long long size;
		char *line = xstrndup(p, (size_t)(line_end - p));
		int fields = sscanf(line, " %64[0-9a-fA-F] %llu %1023s", hex, &size, path);

		free(line);
		if (fields == 3 && strlen(hex) == SHA256_HEX_LEN) {
			r->files = xrealloc(r->files, (r->file_count + 1) * sizeof(*r->files));
			struct release_file *f = &r->files[r->file_count++];
			f->path = xstrdup(path);
			for (int i = 0; i < SHA256_HEX_LEN; i++)
				f->sha256[i] = (char)(hex[i] | 0x20);
			f->sha256[SHA256_HEX_LEN] = '\0';
			f->size = size;
		} else if (line_end > p) {
			return repack_fail(state->ctx, REPACK_EFORMAT,
					   "%s: malformed SHA256 line '%.80s'", state->label, p);
		}
		p = line_end + 1;
	}
	return 0;
}

static int take_stanza(void *user, const struct deb822_stanza *stanza)
{
	struct release_state *state = user;
	const char *value;
	size_t len;

	if (state->seen)
		return 0;
	state->seen = true;
	state->release->suite = deb822_dup(stanza, "Suite");
	state->release->codename = deb822_dup(stanza, "Codename");
	state->release->valid_until = deb822_dup(stanza, "Valid-Until");
	value = deb822_get(stanza, "SHA256", &len);
	if (!value)
		return repack_fail(state->ctx, REPACK_EFORMAT,
				   "%s: no SHA256 field, so no index can be verified", state->label);
	return parse_sha256_lines(state, value, len);
}

int release_parse(struct repack_ctx *ctx, const char *label, const char *text,
		  size_t len, struct release *release)
{
	struct release_state state = { ctx, label, release, false };
	int rc;

	memset(release, 0, sizeof(*release));
	rc = deb822_parse(ctx, label, text, len, take_stanza, &state);
	if (rc == 0 && !state.seen)
		rc = repack_fail(ctx, REPACK_EFORMAT, "%s: empty Release file", label);
	if (rc)
		release_release(release);
	return rc;
}

const struct release_file *release_find(const struct release *release,
					const char *path)
{
	for (size_t i = 0; i < release->file_count; i++)
		if (strcmp(release->files[i].path, path) == 0)
			return &release->files[i];
	return NULL;
}

void release_release(struct release *release)
{
	for (size_t i = 0; i < release->file_count; i++)
		free(release->files[i].path);
	free(release->files);
	free(release->suite);
	free(release->codename);
	free(release->valid_until);
	memset(release, 0, sizeof(*release));
}
