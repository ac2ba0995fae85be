/* Reproducible tar output through libarchive (pax restricted format). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "tar_writer.h"

#define COPY_BLOCK 65536

int tar_writer_open(struct tar_writer *tw, struct repack_ctx *ctx,
		    const char *path, time_t mtime)
{
	memset(tw, 0, sizeof(*tw));
	tw->ctx = ctx;
	tw->mtime = mtime;
	tw->path = xstrdup(path);
	tw->archive = archive_write_new();
	archive_write_set_format_pax_restricted(tw->archive);
	archive_write_set_bytes_in_last_block(tw->archive, 1);
	if (archive_write_open_filename(tw->archive, path) != ARCHIVE_OK) {
		int rc = repack_fail(ctx, REPACK_EFAIL, "cannot create '%s': %s",
				     path, archive_error_string(tw->archive));
		archive_write_free(tw->archive);
		tw->archive = NULL;
		free(tw->path);
		tw->path = NULL;
		return rc;
	}
	return 0;
}

static struct archive_entry *new_entry(struct tar_writer *tw, const char *name,
				       mode_t type, mode_t mode)
{
	struct archive_entry *ae = archive_entry_new();

	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, type);
	archive_entry_set_perm(ae, mode & 07777);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	archive_entry_set_mtime(ae, tw->mtime, 0);
	return ae;
}

static int write_header(struct tar_writer *tw, struct archive_entry *ae)
{
	int r = archive_write_header(tw->archive, ae);

	if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
		int rc = repack_fail(tw->ctx, REPACK_EFAIL, "cannot add '%s' to '%s': %s",
				     archive_entry_pathname(ae), tw->path,
				     archive_error_string(tw->archive));
		archive_entry_free(ae);
		return rc;
	}
	archive_entry_free(ae);
	tw->entries++;
	return 0;
}

int tar_writer_add_dir(struct tar_writer *tw, const char *name, mode_t mode)
{
	return write_header(tw, new_entry(tw, name, AE_IFDIR, mode));
}

int tar_writer_add_symlink(struct tar_writer *tw, const char *name,
			   const char *target)
{
	struct archive_entry *ae = new_entry(tw, name, AE_IFLNK, 0777);

	archive_entry_set_symlink(ae, target);
	return write_header(tw, ae);
}

int tar_writer_add_hardlink(struct tar_writer *tw, const char *name,
			    const char *target)
{
	struct archive_entry *ae = new_entry(tw, name, AE_IFREG, 0644);

	archive_entry_set_hardlink(ae, target);
	archive_entry_set_size(ae, 0);
	return write_header(tw, ae);
}

static int copy_data(struct tar_writer *tw, const char *name, int64_t size,
		     struct archive *src, int fd)
{
	char *buffer = xmalloc(COPY_BLOCK);
	int64_t left = size;
	int rc = 0;

	while (left > 0) {
		ssize_t n = src ? archive_read_data(src, buffer, COPY_BLOCK)
				: read(fd, buffer, COPY_BLOCK);
		if (n < 0 && !src && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = repack_fail(tw->ctx, REPACK_EUNPACK,
					 "'%s' ended %lld bytes early: %s", name,
					 (long long)left,
					 src ? archive_error_string(src) : strerror(errno));
			break;
		}
		if (n > left)
			n = (ssize_t)left;
		if (archive_write_data(tw->archive, buffer, (size_t)n) != n) {
			rc = repack_fail(tw->ctx, REPACK_EFAIL, "cannot write '%s' to '%s': %s",
					 name, tw->path, archive_error_string(tw->archive));
			break;
		}
		left -= n;
	}
	free(buffer);
	return rc;
}

int tar_writer_add_file(struct tar_writer *tw, const char *name, mode_t mode,
			int64_t size, struct archive *src, const char *disk_path)
{
	struct archive_entry *ae = new_entry(tw, name, AE_IFREG, mode);
	int fd = -1, rc;

	if (!src) {
		fd = open(disk_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			archive_entry_free(ae);
			return repack_fail(tw->ctx, REPACK_EFAIL, "cannot open '%s': %s",
					   disk_path, strerror(errno));
		}
	}
	archive_entry_set_size(ae, size);
	rc = write_header(tw, ae);
	if (rc == 0)
		rc = copy_data(tw, name, size, src, fd);
	if (fd >= 0)
		close(fd);
	return rc;
}

int tar_writer_close(struct tar_writer *tw)
{
	int rc = 0;

	if (!tw->archive)
		return 0;
	if (archive_write_close(tw->archive) != ARCHIVE_OK) {
		rc = repack_fail(tw->ctx, REPACK_EFAIL, "cannot finish '%s': %s",
				 tw->path, archive_error_string(tw->archive));
		unlink(tw->path);
	}
	archive_write_free(tw->archive);
	tw->archive = NULL;
	free(tw->path);
	tw->path = NULL;
	return rc;
}

void tar_writer_abort(struct tar_writer *tw)
{
	if (!tw->archive)
		return;
	archive_write_free(tw->archive);
	tw->archive = NULL;
	unlink(tw->path);
	free(tw->path);
	tw->path = NULL;
}
