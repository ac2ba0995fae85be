/* .deb reader: an ar archive whose data.tar member (compressed with xz,
 * zstd, gzip, bzip2 or not at all) is streamed through libarchive. */
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "repack.h"
#include "unpack_internal.h"

#define READ_BLOCK 65536

/* The inner tar reads its bytes straight from the outer ar member. */
struct member_stream {
	struct archive *outer;
	char buffer[READ_BLOCK];
};

static la_ssize_t read_member(struct archive *inner, void *user,
			      const void **buffer)
{
	struct member_stream *stream = user;
	la_ssize_t n;

	(void)inner;
	n = archive_read_data(stream->outer, stream->buffer, sizeof(stream->buffer));
	*buffer = stream->buffer;
	return n;
}

static int open_outer(struct repack_ctx *ctx, const char *path,
		      const char *label, struct archive **out)
{
	struct archive *a = archive_read_new();

	archive_read_support_format_ar(a);
	if (archive_read_open_filename(a, path, READ_BLOCK) != ARCHIVE_OK) {
		int rc = repack_fail(ctx, REPACK_EUNPACK, "%s: cannot read '%s': %s",
				     label, path, archive_error_string(a));
		archive_read_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

static int check_debian_binary(struct repack_ctx *ctx, const char *label,
			       struct archive *a)
{
	char version[16] = { 0 };
	la_ssize_t n = archive_read_data(a, version, sizeof(version) - 1);

	if (n < 4 || strncmp(version, "2.", 2) != 0)
		return repack_fail(ctx, REPACK_EUNPACK,
				   "%s: unsupported .deb format version '%.*s'",
				   label, n > 0 ? (int)n : 0, version);
	return 0;
}

/* Move the outer reader to the data.tar member; its header is left in
 * *member. The first member must be debian-binary. */
static int find_data_member(struct repack_ctx *ctx, const char *label,
			    struct archive *a, struct archive_entry **member)
{
	struct archive_entry *ae;
	bool first = true;
	int r, rc;

	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ae);

		if (first) {
			first = false;
			if (!name || strcmp(name, "debian-binary") != 0)
				return repack_fail(ctx, REPACK_EUNPACK,
						   "%s: not a .deb: first member is '%s', not 'debian-binary'",
						   label, name ? name : "");
			rc = check_debian_binary(ctx, label, a);
			if (rc)
				return rc;
			continue;
		}
		if (name && strncmp(name, "data.tar", 8) == 0) {
			*member = ae;
			return 0;
		}
	}
	if (r != ARCHIVE_EOF)
		return repack_fail(ctx, REPACK_EUNPACK,
				   "%s: corrupt or truncated .deb: %s (download it again)",
				   label, archive_error_string(a));
	return repack_fail(ctx, REPACK_EUNPACK, "%s: .deb has no data.tar member",
			   label);
}

int unpack_deb(struct repack_ctx *ctx, const char *path, const char *label,
	       unpack_entry_fn fn, void *user)
{
	struct member_stream *stream = NULL;
	struct archive *outer = NULL, *inner = NULL;
	struct archive_entry *member;
	int rc;

	rc = open_outer(ctx, path, label, &outer);
	if (rc)
		goto out;
	rc = find_data_member(ctx, label, outer, &member);
	if (rc)
		goto out;

	/* The compressor is found from the member's magic bytes, whatever
	 * its name claims. */
	stream = xmalloc(sizeof(*stream));
	stream->outer = outer;
	inner = archive_read_new();
	archive_read_support_filter_all(inner);
	archive_read_support_format_tar(inner);
	if (archive_read_open(inner, stream, NULL, read_member, NULL) != ARCHIVE_OK) {
		rc = repack_fail(ctx, REPACK_EUNPACK,
				 "%s: cannot open its %s: %s", label,
				 archive_entry_pathname(member),
				 archive_error_string(inner));
		goto out;
	}
	rc = unpack_walk_archive(ctx, label, inner, fn, user);
out:
	if (inner)
		archive_read_free(inner);
	if (outer)
		archive_read_free(outer);
	free(stream);
	return rc;
}

int deb_build_time(struct repack_ctx *ctx, const char *path,
		   const char *label, time_t *build_time)
{
	struct archive *outer = NULL;
	struct archive_entry *member;
	int rc = open_outer(ctx, path, label, &outer);

	if (rc)
		return rc;
	rc = find_data_member(ctx, label, outer, &member);
	if (rc == 0)
		*build_time = archive_entry_mtime(member);
	archive_read_free(outer);
	return rc;
}
