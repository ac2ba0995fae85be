/* File system helpers: directories, whole-file reads, atomic writes. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repack.h"

int mkdir_p(struct repack_ctx *ctx, const char *path)
{
	char *copy = xstrdup(path);
	int rc = 0;

	for (char *p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
			rc = repack_fail(ctx, REPACK_EFAIL,
					 "cannot create directory '%s': %s",
					 copy, strerror(errno));
			break;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(copy);
	return rc;
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	/* Directories without write permission cannot be emptied. */
	if (type == FTW_D || type == FTW_DNR)
		chmod(path, 0700);
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
}

int read_file(struct repack_ctx *ctx, const char *path, char **data,
	      size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	char chunk[65536];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return repack_fail(ctx, REPACK_EFAIL, "cannot open '%s': %s",
				   path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		strbuf_add(&sb, chunk, n);
	if (ferror(f)) {
		fclose(f);
		strbuf_release(&sb);
		return repack_fail(ctx, REPACK_EFAIL, "cannot read '%s': %s",
				   path, strerror(errno));
	}
	fclose(f);
	*data = strbuf_detach(&sb, len);
	return 0;
}

int write_file_atomic(struct repack_ctx *ctx, const char *path,
		      const void *data, size_t len)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, rc = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot create '%s': %s",
				 tmp, strerror(errno));
		goto out;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = repack_fail(ctx, REPACK_EFAIL, "cannot write '%s': %s",
					 tmp, strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot sync '%s': %s",
				 tmp, strerror(errno));
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot rename '%s' to '%s': %s",
				 tmp, path, strerror(errno));
	if (rc)
		unlink(tmp);
out:
	free(tmp);
	return rc;
}

int make_temp_dir(struct repack_ctx *ctx, const char *prefix, char **path)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/%s.XXXXXX", base && *base ? base : "/tmp",
			       prefix);

	if (!mkdtemp(tmpl)) {
		int rc = repack_fail(ctx, REPACK_EFAIL,
				     "cannot create a temporary directory '%s': %s",
				     tmpl, strerror(errno));
		free(tmpl);
		return rc;
	}
	*path = tmpl;
	return 0;
}
