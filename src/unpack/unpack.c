/* Streaming package reader: detects .deb and .rpm, walks the payload and
 * rejects entries that could write outside a staging directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "repack.h"
#include "unpack.h"
#include "unpack_internal.h"

int unpack_normalise_path(struct repack_ctx *ctx, const char *label,
			  const char *path, struct strbuf *out)
{
	const char *p = path;

	out->len = 0;
	strbuf_add(out, "", 0);
	if (*p == '/')
		return repack_fail(ctx, REPACK_EUNPACK,
				   "%s: unsafe entry '%s': absolute path", label, path);
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return repack_fail(ctx, REPACK_EUNPACK,
					   "%s: unsafe entry '%s': '..' in path",
					   label, path);
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (out->len)
				strbuf_add(out, "/", 1);
			strbuf_add(out, p, n);
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return 0;
}

bool unpack_symlink_is_safe(const char *path, const char *target)
{
	int depth = 0;
	const char *p;

	if (*target == '\0')
		return false;
	if (*target == '/') {
		p = target;
	} else {
		/* A relative target starts from the directory of the link. */
		for (const char *s = path; *s; s++)
			if (*s == '/')
				depth++;
		p = target;
	}
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return false;
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return true;
}

static int entry_type(struct repack_ctx *ctx, const char *label,
		      const char *path, struct archive_entry *ae,
		      enum unpack_type *type)
{
	if (archive_entry_hardlink(ae)) {
		*type = UNPACK_HARDLINK;
		return 0;
	}
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG: *type = UNPACK_FILE; return 0;
	case AE_IFDIR: *type = UNPACK_DIR; return 0;
	case AE_IFLNK: *type = UNPACK_SYMLINK; return 0;
	case AE_IFCHR:
	case AE_IFBLK:
		return repack_fail(ctx, REPACK_EUNPACK,
				   "%s: unsafe entry '%s': device node", label, path);
	default:
		return repack_fail(ctx, REPACK_EUNPACK,
				   "%s: unsafe entry '%s': FIFO, socket or unknown type",
				   label, path);
	}
}

/* Turn one libarchive header into an unpack_entry and hand it on. */
static int deliver_entry(struct repack_ctx *ctx, const char *label,
			 struct archive *a, struct archive_entry *ae,
			 unpack_entry_fn fn, void *user)
{
	struct strbuf path = STRBUF_INIT, link = STRBUF_INIT;
	struct unpack_entry entry;
	const char *raw = archive_entry_pathname(ae);
	int rc;

	memset(&entry, 0, sizeof(entry));
	if (!raw) {
		rc = repack_fail(ctx, REPACK_EUNPACK, "%s: entry without a name", label);
		goto out;
	}
	rc = unpack_normalise_path(ctx, label, raw, &path);
	if (rc)
		goto out;
	rc = entry_type(ctx, label, raw, ae, &entry.type);
	if (rc)
		goto out;
	if (path.len == 0 && entry.type == UNPACK_DIR)
		goto out; /* the "./" root entry */
	if (path.len == 0) {
		rc = repack_fail(ctx, REPACK_EUNPACK, "%s: entry '%s' has an empty name",
				 label, raw);
		goto out;
	}

	if (entry.type == UNPACK_HARDLINK) {
		rc = unpack_normalise_path(ctx, label, archive_entry_hardlink(ae), &link);
		if (rc)
			goto out;
		entry.link = link.buf;
	} else if (entry.type == UNPACK_SYMLINK) {
		const char *target = archive_entry_symlink(ae);

		if (!target || !unpack_symlink_is_safe(path.buf, target)) {
			rc = repack_fail(ctx, REPACK_EUNPACK,
					 "%s: unsafe entry '%s': symlink to '%s' leaves the package root",
					 label, raw, target ? target : "");
			goto out;
		}
		entry.link = target;
	}

	entry.size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
	if (entry.size < 0 || (uint64_t)entry.size > UNPACK_MAX_ENTRY_SIZE) {
		rc = repack_fail(ctx, REPACK_EUNPACK,
				 "%s: entry '%s' is %lld bytes, over the limit of %llu",
				 label, raw, (long long)entry.size,
				 (unsigned long long)UNPACK_MAX_ENTRY_SIZE);
		goto out;
	}
	entry.path = path.buf;
	entry.mode = archive_entry_perm(ae);
	entry.mtime = archive_entry_mtime(ae);
	entry.archive = a;
	rc = fn(user, &entry);
out:
	strbuf_release(&path);
	strbuf_release(&link);
	return rc;
}

int unpack_walk_archive(struct repack_ctx *ctx, const char *label,
			struct archive *a, unpack_entry_fn fn, void *user)
{
	struct archive_entry *ae;
	bool any = false;
	int r, rc;

	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK ||
	       r == ARCHIVE_WARN) {
		any = true;
		rc = deliver_entry(ctx, label, a, ae, fn, user);
		if (rc)
			return rc;
	}
	if (r != ARCHIVE_EOF)
		return repack_fail(ctx, REPACK_EUNPACK,
				   "%s: corrupt or truncated payload: %s (download it again or check the mirror)",
				   label, archive_error_string(a));
	if (!any)
		return repack_fail(ctx, REPACK_EUNPACK,
				   "%s: the payload holds no files", label);
	return 0;
}

/* Identify a package by its first bytes. */
static int detect_format(struct repack_ctx *ctx, const char *path,
			 const char *label, enum package_format *format)
{
	unsigned char magic[8] = { 0 };
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return repack_fail(ctx, REPACK_EFAIL, "%s: cannot open '%s': %s",
				   label, path, strerror(errno));
	n = fread(magic, 1, sizeof(magic), f);
	fclose(f);
	if (n == 8 && memcmp(magic, "!<arch>\n", 8) == 0) {
		*format = PACKAGE_DEB;
		return 0;
	}
	if (n >= 4 && magic[0] == 0xed && magic[1] == 0xab && magic[2] == 0xee &&
	    magic[3] == 0xdb) {
		*format = PACKAGE_RPM;
		return 0;
	}
	return repack_fail(ctx, REPACK_EUNPACK,
			   "%s: '%s' is neither a .deb nor an .rpm package (is it an HTML error page?)",
			   label, path);
}

int unpack_package(struct repack_ctx *ctx, const char *path,
		   const char *label, unpack_entry_fn fn, void *user)
{
	enum package_format format;
	int rc = detect_format(ctx, path, label, &format);

	if (rc)
		return rc;
	if (format == PACKAGE_DEB)
		return unpack_deb(ctx, path, label, fn, user);
	return unpack_rpm(ctx, path, label, fn, user);
}

int unpack_build_time(struct repack_ctx *ctx, const char *path,
		      const char *label, time_t *build_time)
{
	enum package_format format;
	int rc = detect_format(ctx, path, label, &format);

	if (rc)
		return rc;
	if (format == PACKAGE_DEB)
		return deb_build_time(ctx, path, label, build_time);
	return rpm_build_time(ctx, path, label, build_time);
}
