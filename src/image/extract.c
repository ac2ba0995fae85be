/* Extracting an image's files: stream the layer out of an OCI layout, or
 * copy the files of a dir: output.
 *
 * The layer is read through two chained libarchive readers. The outer one
 * ("raw" format, any compression filter) reads the blob file and hashes
 * it for the digest. Its decompressed output feeds the inner tar reader
 * and is hashed for the diff_id. Files go to a temporary directory inside
 * dest and move into dest only after both hashes match. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "image_read.h"
#include "internal.h"

#define CHUNK 65536
#define NAME_MAX_LEN 255

struct layer_reader {
	struct repack_ctx *ctx;
	const char *path;          /* the layer blob */
	int fd;
	struct archive *outer;
	struct archive *inner;
	struct sha256_stream *blob_sha;
	struct sha256_stream *tar_sha;
	uint64_t blob_bytes;
	unsigned char *blob_buf;
	unsigned char *tar_buf;
	unsigned char *data_buf;   /* file contents taken from the tar */
	const char *tmpdir;        /* NULL when only listing */
	struct image_file_list *files;
};

static void file_list_add(struct image_file_list *files, const char *name,
			  uint64_t size)
{
	files->items = xrealloc(files->items,
				(files->count + 1) * sizeof(*files->items));
	files->items[files->count].name = xstrdup(name);
	files->items[files->count].size = size;
	files->count++;
}

void image_file_list_release(struct image_file_list *files)
{
	for (size_t i = 0; i < files->count; i++)
		free(files->items[i].name);
	free(files->items);
	files->items = NULL;
	files->count = 0;
}

static la_ssize_t blob_read(struct archive *a, void *user, const void **buf)
{
	struct layer_reader *lr = user;
	ssize_t n;

	do
		n = read(lr->fd, lr->blob_buf, CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "cannot read '%s': %s", lr->path,
				  strerror(errno));
		return -1;
	}
	sha256_stream_update(lr->blob_sha, lr->blob_buf, (size_t)n);
	lr->blob_bytes += (uint64_t)n;
	*buf = lr->blob_buf;
	return n;
}

static la_ssize_t tar_read(struct archive *a, void *user, const void **buf)
{
	struct layer_reader *lr = user;
	la_ssize_t n = archive_read_data(lr->outer, lr->tar_buf, CHUNK);

	if (n < 0) {
		archive_set_error(a, EIO, "%s", archive_error_string(lr->outer));
		return -1;
	}
	sha256_stream_update(lr->tar_sha, lr->tar_buf, (size_t)n);
	*buf = lr->tar_buf;
	return n;
}

static int open_readers(struct layer_reader *lr)
{
	struct archive_entry *entry;

	lr->outer = archive_read_new();
	archive_read_support_filter_all(lr->outer);
	archive_read_support_format_raw(lr->outer);
	if (archive_read_open(lr->outer, lr, NULL, blob_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(lr->outer, &entry) != ARCHIVE_OK)
		return repack_fail(lr->ctx, REPACK_EUNPACK,
				   "cannot read the layer '%s': %s", lr->path,
				   archive_error_string(lr->outer));

	lr->inner = archive_read_new();
	archive_read_support_format_tar(lr->inner);
	if (archive_read_open(lr->inner, lr, NULL, tar_read, NULL) != ARCHIVE_OK)
		return repack_fail(lr->ctx, REPACK_EUNPACK,
				   "the layer '%s' is not a tar archive: %s", lr->path,
				   archive_error_string(lr->inner));
	return 0;
}

/* Return the entry's name without a leading "./", or NULL when the entry
 * is not a regular file at the root of the layer. A "." directory entry
 * returns "" so the caller can skip it. */
static const char *root_file_name(struct archive_entry *entry)
{
	const char *name = archive_entry_pathname(entry);

	if (!name)
		return NULL;
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	if ((name[0] == '\0' || strcmp(name, ".") == 0) &&
	    archive_entry_filetype(entry) == AE_IFDIR)
		return "";
	if (archive_entry_filetype(entry) != AE_IFREG ||
	    archive_entry_hardlink(entry) || archive_entry_symlink(entry))
		return NULL;
	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || str_starts_with(name, ".wh.") ||
	    strlen(name) > NAME_MAX_LEN)
		return NULL;
	return name;
}

/* Copy the current entry's data into fd, or skip it when fd is -1. */
static int copy_entry_data(struct layer_reader *lr, const char *name,
			   const char *path, int fd)
{
	for (;;) {
		la_ssize_t n = archive_read_data(lr->inner, lr->data_buf, CHUNK);

		if (n == 0)
			return 0;
		if (n < 0)
			return repack_fail(lr->ctx, REPACK_EUNPACK,
					   "cannot read '%s' from the layer '%s': %s",
					   name, lr->path, archive_error_string(lr->inner));
		if (fd >= 0 && image_write_all(fd, lr->data_buf, (size_t)n) < 0)
			return repack_fail(lr->ctx, REPACK_EFAIL,
					   "cannot write '%s': %s", path, strerror(errno));
	}
}

static int extract_entry(struct layer_reader *lr, struct archive_entry *entry)
{
	const char *name = root_file_name(entry);
	char *path = NULL;
	int fd = -1, rc;

	if (!name)
		return repack_fail(lr->ctx, REPACK_EUNPACK,
				   "the layer '%s' holds '%s', which is not a regular "
				   "file at its root; a kernel image holds only plain "
				   "files such as kernel and kernel.tar", lr->path,
				   archive_entry_pathname(entry) ?
				   archive_entry_pathname(entry) : "(no name)");
	if (!*name)
		return 0;

	if (lr->tmpdir) {
		path = xasprintf("%s/%s", lr->tmpdir, name);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			  0644);
		if (fd < 0) {
			rc = errno == EEXIST ?
				repack_fail(lr->ctx, REPACK_EUNPACK,
					    "the layer '%s' holds '%s' twice",
					    lr->path, name) :
				repack_fail(lr->ctx, REPACK_EFAIL,
					    "cannot create '%s': %s", path,
					    strerror(errno));
			goto out;
		}
	}
	rc = copy_entry_data(lr, name, path, fd);
	if (rc == 0 && fd >= 0 && close(fd) < 0)
		rc = repack_fail(lr->ctx, REPACK_EFAIL, "cannot write '%s': %s",
				 path, strerror(errno));
	fd = -1;
	if (rc == 0 && lr->files)
		file_list_add(lr->files, name,
			      (uint64_t)archive_entry_size(entry));
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

static int read_entries(struct layer_reader *lr)
{
	struct archive_entry *entry;

	for (;;) {
		int r = archive_read_next_header(lr->inner, &entry);
		int rc;

		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK)
			return repack_fail(lr->ctx, REPACK_EUNPACK,
					   "cannot read the layer '%s': %s", lr->path,
					   archive_error_string(lr->inner));
		rc = extract_entry(lr, entry);
		if (rc)
			return rc;
	}
}

/* Hash what the tar reader left unread: the padding after the
 * end-of-archive blocks. */
static int drain_tar(struct layer_reader *lr)
{
	la_ssize_t n;

	while ((n = archive_read_data(lr->outer, lr->tar_buf, CHUNK)) > 0)
		sha256_stream_update(lr->tar_sha, lr->tar_buf, (size_t)n);
	if (n < 0)
		return repack_fail(lr->ctx, REPACK_EUNPACK,
				   "cannot read the layer '%s': %s", lr->path,
				   archive_error_string(lr->outer));
	return 0;
}

/* Hash the bytes of the blob file the readers did not consume, so the
 * digest covers the whole file even after a read error. */
static int drain_file(struct layer_reader *lr)
{
	for (;;) {
		ssize_t n = read(lr->fd, lr->blob_buf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return repack_fail(lr->ctx, REPACK_EFAIL, "cannot read '%s': %s",
					   lr->path, strerror(errno));
		if (n == 0)
			return 0;
		sha256_stream_update(lr->blob_sha, lr->blob_buf, (size_t)n);
		lr->blob_bytes += (uint64_t)n;
	}
}

/* Compare the hashes with the manifest and config. A digest mismatch
 * takes precedence over rc, the result of reading: a corrupt blob often
 * also fails to decompress, and the mismatch is the better message. */
static int verify_layer(struct layer_reader *lr, const struct image_source *src,
			int rc)
{
	char blob_hex[SHA256_HEX_LEN + 1], tar_hex[SHA256_HEX_LEN + 1];

	sha256_stream_finish(lr->blob_sha, blob_hex);
	sha256_stream_finish(lr->tar_sha, tar_hex);
	lr->blob_sha = lr->tar_sha = NULL;

	if (strcmp(blob_hex, src->layer_digest) != 0 ||
	    lr->blob_bytes != src->layer_size)
		return repack_fail(lr->ctx, REPACK_EVERIFY,
				   "the layer '%s' has sha256 %s and %llu bytes, but the "
				   "manifest says sha256 %s and %llu bytes: the layout "
				   "is corrupt, build the image again", lr->path,
				   blob_hex, (unsigned long long)lr->blob_bytes,
				   src->layer_digest, (unsigned long long)src->layer_size);
	if (rc)
		return rc;
	if (strcmp(tar_hex, src->layer_diff_id) != 0)
		return repack_fail(lr->ctx, REPACK_EVERIFY,
				   "the uncompressed layer '%s' has sha256 %s, but the "
				   "config's diff_id is sha256 %s: the image is corrupt",
				   lr->path, tar_hex, src->layer_diff_id);
	return 0;
}

static void close_reader(struct layer_reader *lr)
{
	if (lr->inner)
		archive_read_free(lr->inner);
	if (lr->outer)
		archive_read_free(lr->outer);
	if (lr->blob_sha) {
		char hex[SHA256_HEX_LEN + 1];

		sha256_stream_finish(lr->blob_sha, hex);
	}
	if (lr->tar_sha) {
		char hex[SHA256_HEX_LEN + 1];

		sha256_stream_finish(lr->tar_sha, hex);
	}
	if (lr->fd >= 0)
		close(lr->fd);
	free(lr->blob_buf);
	free(lr->tar_buf);
	free(lr->data_buf);
}

/* Stream the layer blob of src into tmpdir (NULL to list only). */
static int read_layer(struct repack_ctx *ctx, const struct image_source *src,
		      const char *tmpdir, struct image_file_list *files)
{
	char *path = xasprintf("%s/blobs/sha256/%s", src->dir, src->layer_digest);
	struct layer_reader lr = {
		.ctx = ctx, .path = path, .tmpdir = tmpdir, .files = files,
	};
	int rc;

	lr.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (lr.fd < 0) {
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "cannot open the layer '%s': %s", path, strerror(errno));
		goto out;
	}
	lr.blob_sha = sha256_stream_new();
	lr.tar_sha = sha256_stream_new();
	lr.blob_buf = xmalloc(CHUNK);
	lr.tar_buf = xmalloc(CHUNK);
	lr.data_buf = xmalloc(CHUNK);

	rc = open_readers(&lr);
	if (rc == 0)
		rc = read_entries(&lr);
	if (rc == 0)
		rc = drain_tar(&lr);
	if (drain_file(&lr) < 0)
		rc = REPACK_EFAIL;
	else
		rc = verify_layer(&lr, src, rc);
out:
	close_reader(&lr);
	free(path);
	return rc;
}

/* Copy the files of a dir: output into tmpdir (NULL to list only). */
static int read_dir(struct repack_ctx *ctx, const struct image_source *src,
		    const char *tmpdir, struct image_file_list *files)
{
	/* Every slot marked present, to get each name and whether it is
	 * required. */
	static const struct layout_files names = {
		.kernel = "", .kernel_tar = "", .kernel_dev_tar = "",
		.kernel_config = "", .system_map = "",
	};
	struct image_file_slot slots[IMAGE_FILE_SLOTS];
	int rc = 0;

	image_file_slots(&names, slots);
	for (int i = 0; rc == 0 && i < IMAGE_FILE_SLOTS; i++) {
		char *path = xasprintf("%s/%s", src->dir, slots[i].name);
		struct stat st;

		if (lstat(path, &st) < 0) {
			if (errno != ENOENT || slots[i].required)
				rc = repack_fail(ctx, REPACK_EFORMAT,
						 "cannot read '%s': %s; an image needs "
						 "kernel, kernel.tar and kernel_config",
						 path, strerror(errno));
		} else if (!S_ISREG(st.st_mode)) {
			rc = repack_fail(ctx, REPACK_EUNPACK,
					 "'%s' is not a regular file", path);
		} else {
			if (tmpdir) {
				char *dst = xasprintf("%s/%s", tmpdir, slots[i].name);

				rc = image_copy_file(ctx, path, dst, NULL);
				free(dst);
			}
			if (rc == 0)
				file_list_add(files, slots[i].name, (uint64_t)st.st_size);
		}
		free(path);
	}
	return rc;
}

/* Move the verified files from tmpdir into dest. */
static int commit_files(struct repack_ctx *ctx, const char *tmpdir,
			const char *dest, const struct image_file_list *files)
{
	for (size_t i = 0; i < files->count; i++) {
		char *from = xasprintf("%s/%s", tmpdir, files->items[i].name);
		char *to = xasprintf("%s/%s", dest, files->items[i].name);
		int failed = rename(from, to) < 0;
		int rc = 0;

		if (failed)
			rc = repack_fail(ctx, REPACK_EFAIL,
					 "cannot rename '%s' to '%s': %s", from, to,
					 strerror(errno));
		free(from);
		free(to);
		if (rc)
			return rc;
	}
	return image_sync_dir(ctx, dest);
}

static int make_extract_dir(struct repack_ctx *ctx, const char *dest,
			    char **tmpdir)
{
	int rc = mkdir_p(ctx, dest);

	if (rc)
		return rc;
	*tmpdir = xasprintf("%s/.repack-extract.XXXXXX", dest);
	if (!mkdtemp(*tmpdir)) {
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot create '%s': %s",
				 *tmpdir, strerror(errno));
		free(*tmpdir);
		*tmpdir = NULL;
	}
	return rc;
}

int image_extract(struct repack_ctx *ctx, const struct image_source *src,
		  const char *dest, struct image_file_list *files)
{
	struct image_file_list list = { NULL, 0 };
	char *tmpdir = NULL;
	int rc = 0;

	if (files)
		memset(files, 0, sizeof(*files));
	if (dest)
		rc = make_extract_dir(ctx, dest, &tmpdir);
	if (rc == 0 && src->kind == OUTPUT_OCI)
		rc = read_layer(ctx, src, tmpdir, &list);
	else if (rc == 0)
		rc = read_dir(ctx, src, tmpdir, &list);
	if (rc == 0 && dest)
		rc = commit_files(ctx, tmpdir, dest, &list);

	if (tmpdir)
		rm_rf(tmpdir);
	free(tmpdir);
	if (rc == 0 && files)
		*files = list;
	else
		image_file_list_release(&list);
	return rc;
}
