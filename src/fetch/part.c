/* The .part file of a download: opened and locked once per transfer, kept
 * across attempts so a retry resumes where the last one stopped, checked
 * and renamed into place only when complete. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transfer.h"

/* Open a file of this process's own next to dest, for a shared cache
 * entry that another process is downloading at the same time. */
static int part_open_private(struct repack_ctx *ctx, struct transfer *t)
{
	char *tmpl = xasprintf("%s.part.XXXXXX", t->dest);
	int fd = mkostemp(tmpl, O_CLOEXEC);

	if (fd < 0) {
		int rc = repack_fail(ctx, REPACK_EFAIL, "cannot create '%s': %s",
				     tmpl, strerror(errno));
		free(tmpl);
		return rc;
	}
	free(t->part);
	t->part = tmpl;
	t->fd = fd;
	t->part_private = true;
	return 0;
}

/* True when path still names the file open on fd: the lock holder may
 * have renamed the .part into place between our open and our lock. */
static bool part_still_linked(int fd, const char *path)
{
	struct stat by_fd, by_path;

	if (fstat(fd, &by_fd) < 0 || stat(path, &by_path) < 0)
		return false;
	return by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino;
}

int part_open(struct repack_ctx *ctx, struct transfer *t)
{
	free(t->part);
	t->part = xasprintf("%s.part", t->dest);
	t->part_private = false;

	for (int tries = 0; tries < 10; tries++) {
		int fd = open(t->part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

		if (fd < 0)
			return repack_fail(ctx, REPACK_EFAIL, "cannot open '%s': %s",
					   t->part, strerror(errno));

		/* The lock keeps two processes from appending to one .part. */
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int err = errno;

			close(fd);
			if (err == EWOULDBLOCK && t->private_part_on_conflict)
				return part_open_private(ctx, t);
			if (err == EWOULDBLOCK)
				return repack_fail(ctx, REPACK_EFAIL,
						   "another process is downloading '%s' (it holds the lock on '%s'); wait for it to finish",
						   t->dest, t->part);
			return repack_fail(ctx, REPACK_EFAIL, "cannot lock '%s': %s",
					   t->part, strerror(err));
		}
		if (part_still_linked(fd, t->part)) {
			t->fd = fd;
			return 0;
		}
		close(fd);
	}
	return repack_fail(ctx, REPACK_EFAIL,
			   "cannot lock '%s': other processes keep replacing it",
			   t->part);
}

int part_truncate(struct repack_ctx *ctx, struct transfer *t)
{
	if (ftruncate(t->fd, 0) < 0 || lseek(t->fd, 0, SEEK_SET) < 0)
		return repack_fail(ctx, REPACK_EFAIL, "cannot truncate '%s': %s",
				   t->part, strerror(errno));
	t->offset = 0;
	t->resumed = false;
	return 0;
}

/* Set t->offset to the bytes a new attempt can keep, and position the
 * file there. */
int part_prepare(struct repack_ctx *ctx, struct transfer *t)
{
	struct stat st;

	if (fstat(t->fd, &st) < 0)
		return repack_fail(ctx, REPACK_EFAIL, "cannot stat '%s': %s",
				   t->part, strerror(errno));

	/* A .part as long as the file or longer cannot be resumed: a Range
	 * request past the end only earns a 416. */
	if (t->size && (uint64_t)st.st_size >= t->size)
		return part_truncate(ctx, t);

	t->offset = (uint64_t)st.st_size;
	if (lseek(t->fd, (off_t)t->offset, SEEK_SET) < 0)
		return repack_fail(ctx, REPACK_EFAIL, "cannot seek in '%s': %s",
				   t->part, strerror(errno));
	return 0;
}

int part_write(struct transfer *t, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(t->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Close the .part, deleting it when it is empty. */
void part_close_keep_data(struct transfer *t)
{
	struct stat st;

	if (t->fd >= 0 && fstat(t->fd, &st) == 0 && st.st_size == 0)
		part_discard(t);
	part_close(t);
}

void part_close(struct transfer *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

/* Close and delete the .part, for data that must never be resumed. */
void part_discard(struct transfer *t)
{
	part_close(t);
	if (t->part)
		unlink(t->part);
}

static int part_check_size(struct repack_ctx *ctx, struct transfer *t,
			   uint64_t actual)
{
	if (!t->size || actual == t->size)
		return 0;
	return repack_fail(ctx, REPACK_EVERIFY,
			   "%ssize mismatch for %s: expected %llu bytes, got %llu (the mirror may be out of date or the file corrupt; the download was removed)",
			   t->prefix, t->url, (unsigned long long)t->size,
			   (unsigned long long)actual);
}

static int part_check_sha256(struct repack_ctx *ctx, struct transfer *t)
{
	char actual[SHA256_HEX_LEN + 1];
	uint64_t size = 0;
	int rc;

	rc = sha256_file(ctx, t->part, actual, &size);
	if (rc)
		return rc;
	rc = part_check_size(ctx, t, size);
	if (rc || !t->sha256 || strcasecmp(actual, t->sha256) == 0)
		return rc;
	return repack_fail(ctx, REPACK_EVERIFY,
			   "%ssha256 mismatch for %s: expected %s, got %s (the mirror may be out of date or the file corrupt; the download was removed)",
			   t->prefix, t->url, t->sha256, actual);
}

/* Check a complete .part against the expected size and sha256 and rename
 * it to dest. A file that fails the check is deleted and REPACK_EVERIFY
 * returned; the .part stays only on I/O errors. */
int part_finish(struct repack_ctx *ctx, struct transfer *t)
{
	int rc;

	if (fsync(t->fd) < 0)
		return repack_fail(ctx, REPACK_EFAIL, "cannot sync '%s': %s",
				   t->part, strerror(errno));

	rc = part_check_sha256(ctx, t);
	if (rc == REPACK_EVERIFY) {
		part_discard(t);
		return rc;
	}
	if (rc)
		return rc;

	/* Rename while the lock is held, so no other process appends to the
	 * file between the check and the rename. */
	if (rename(t->part, t->dest) < 0)
		return repack_fail(ctx, REPACK_EFAIL, "cannot rename '%s' to '%s': %s",
				   t->part, t->dest, strerror(errno));
	part_close(t);
	return 0;
}
