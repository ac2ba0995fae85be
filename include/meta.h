/* Repository metadata: Debian control stanzas, Release files, apt sources
 * and version ordering. */
#ifndef REPACK_META_H
#define REPACK_META_H

#include "repack.h"

/* One field of a stanza as slices into the parsed text (not owned). */
struct deb822_field {
	const char *name;
	size_t name_len;
	const char *value; /* continuation lines included, trimmed */
	size_t value_len;
};

#define DEB822_MAX_FIELDS 96

struct deb822_stanza {
	struct deb822_field fields[DEB822_MAX_FIELDS];
	size_t count;
};

typedef int (*deb822_stanza_fn)(void *user, const struct deb822_stanza *stanza);

/* Call fn for every stanza of a control-format text (Packages, Release,
 * .sources). Lines must be "Name: value" or continuation lines. */
int deb822_parse(struct repack_ctx *ctx, const char *label, const char *text,
		 size_t len, deb822_stanza_fn fn, void *user);
/* Stream a possibly compressed (xz, gzip, bzip2, zstd, plain) control
 * file through fn without holding it whole in memory. */
int deb822_parse_file(struct repack_ctx *ctx, const char *label,
		      const char *path, deb822_stanza_fn fn, void *user);
/* Return a field's value slice, or NULL when absent; *len gets its size. */
const char *deb822_get(const struct deb822_stanza *stanza, const char *name,
		       size_t *len);
/* Return a copy of a field's value, or NULL when absent; caller frees. */
char *deb822_dup(const struct deb822_stanza *stanza, const char *name);

/* One file listed in a Release file's SHA256 section. */
struct release_file {
	char *path;
	char sha256[SHA256_HEX_LEN + 1];
	uint64_t size;
};

struct release {
	char *suite;
	char *codename;
	char *valid_until;
	struct release_file *files;
	size_t file_count;
};

int release_parse(struct repack_ctx *ctx, const char *label, const char *text,
		  size_t len, struct release *release);
const struct release_file *release_find(const struct release *release,
					const char *path);
void release_release(struct release *release);

/* Compare Debian versions with libdpkg: <0, 0, >0. Invalid versions sort
 * before valid ones. */
int debver_compare(const char *a, const char *b);
bool debver_valid(const char *version);
/* Evaluate "a OP b" for a Depends relation (=, >=, <=, <<, >>). */
bool debver_satisfies(const char *version, const char *op, const char *wanted);

/* One entry of the host's apt configuration. */
struct apt_source {
	char *uri;
	struct strlist suites;
	struct strlist components;
};

struct apt_sources {
	struct apt_source *items;
	size_t count;
};

/* Read the deb (not deb-src) entries of etc_dir/sources.list,
 * etc_dir/sources.list.d/\*.list and \*.sources. Missing files are fine. */
int apt_sources_read(struct repack_ctx *ctx, const char *etc_dir,
		     struct apt_sources *sources);
void apt_sources_release(struct apt_sources *sources);

#endif
