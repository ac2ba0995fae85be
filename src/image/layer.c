/* The image layer: a ustar archive of the contract's files, compressed
 * with gzip or zstd, hashed before and after compression in one pass.
 *
 * Two libarchive writers are chained. The first writes ustar with no
 * filter, and its output callback hashes the tar stream (the diff_id) and
 * feeds it to the second. The second is a "raw" format writer with the
 * gzip or zstd filter. Its output callback hashes the compressed stream
 * (the digest) and writes it to the blob file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "internal.h"

#define TAR_BLOCK_SIZE 10240
#define GZIP_BLOCK_SIZE 65536
/* zstd's own default level: compresses a kernel layer about as well as
 * gzip -6 and several times faster. */
#define ZSTD_LEVEL "3"
#define READ_CHUNK 65536

struct layer_writer {
	struct repack_ctx *ctx;
	struct archive *tar;
	struct archive *gz;        /* the compressing stage, gzip or zstd */
	enum image_compression compression;
	struct sha256_stream *tar_sha;
	struct sha256_stream *gz_sha;
	uint64_t gz_size;
	int fd;
	const char *path;   /* temporary blob file */
	uint64_t done;      /* input bytes stored so far, for progress */
	uint64_t total;
};

static la_ssize_t gz_output(struct archive *a, void *user, const void *buf,
			    size_t len)
{
	struct layer_writer *lw = user;

	if (image_write_all(lw->fd, buf, len) < 0) {
		archive_set_error(a, errno, "cannot write '%s': %s", lw->path,
				  strerror(errno));
		return -1;
	}
	sha256_stream_update(lw->gz_sha, buf, len);
	lw->gz_size += len;
	return (la_ssize_t)len;
}

static la_ssize_t tar_output(struct archive *a, void *user, const void *buf,
			     size_t len)
{
	struct layer_writer *lw = user;
	la_ssize_t n;

	sha256_stream_update(lw->tar_sha, buf, len);
	n = archive_write_data(lw->gz, buf, len);
	if (n < 0 || (size_t)n != len) {
		archive_set_error(a, EIO, "%s",
				  archive_error_string(lw->gz) ?
				  archive_error_string(lw->gz) : "compression failed");
		return -1;
	}
	return n;
}

static bool set_gzip_filter(struct archive *gz)
{
	/* "!timestamp" leaves the gzip MTIME field zero, and libarchive
	 * writes no file name unless asked.
	 * NOTE: the compressed bytes come from the zlib libarchive links.
	 * zlib-ng (the zlib of Fedora 40 and later) may deflate differently,
	 * so the layer digest can differ between such machines while the
	 * diff_id stays the same. */
	return archive_write_add_filter_gzip(gz) == ARCHIVE_OK &&
	       archive_write_set_filter_option(gz, "gzip", "timestamp", NULL) == ARCHIVE_OK &&
	       archive_write_set_filter_option(gz, "gzip", "compression-level", "6") == ARCHIVE_OK;
}

static bool set_zstd_filter(struct archive *gz)
{
	/* One thread and a fixed level: libzstd then gives the same frames
	 * for the same input. The frame header records no time or name, and
	 * a streamed frame records no content size.
	 * NOTE: another libzstd release may compress differently, like
	 * another zlib for gzip. */
	return archive_write_add_filter_zstd(gz) == ARCHIVE_OK &&
	       archive_write_set_filter_option(gz, "zstd", "compression-level", ZSTD_LEVEL) == ARCHIVE_OK;
}

/* Open the compressing stage: one raw entry whose data is the tar stream. */
static int open_compressor(struct layer_writer *lw)
{
	struct archive_entry *entry = archive_entry_new();
	struct archive *gz = archive_write_new();
	bool zstd = lw->compression == IMAGE_COMPRESSION_ZSTD;
	int ok;

	lw->gz = gz;
	/* bytes_in_last_block 1 stops the client from padding the
	 * compressed stream with zeros. */
	ok = archive_write_set_format_raw(gz) == ARCHIVE_OK &&
	     (zstd ? set_zstd_filter(gz) : set_gzip_filter(gz)) &&
	     archive_write_set_bytes_per_block(gz, GZIP_BLOCK_SIZE) == ARCHIVE_OK &&
	     archive_write_set_bytes_in_last_block(gz, 1) == ARCHIVE_OK &&
	     archive_write_open(gz, lw, NULL, gz_output, NULL) == ARCHIVE_OK;
	if (ok) {
		archive_entry_set_pathname(entry, "layer.tar");
		archive_entry_set_filetype(entry, AE_IFREG);
		ok = archive_write_header(gz, entry) == ARCHIVE_OK;
	}
	archive_entry_free(entry);
	if (!ok)
		return repack_fail(lw->ctx, REPACK_EFAIL,
				   "cannot start the %s stream of '%s': %s",
				   zstd ? "zstd" : "gzip", lw->path,
				   archive_error_string(gz));
	return 0;
}

static int open_tar(struct layer_writer *lw)
{
	struct archive *tar = archive_write_new();
	int ok;

	lw->tar = tar;
	/* ustar: no pax extended headers, so no atime, ctime or xattrs can
	 * slip in, and the same entries always give the same bytes. Its
	 * limits (8 GiB per file, 100-character names, mtime before 2242)
	 * are far above what a kernel image holds. */
	ok = archive_write_set_format_ustar(tar) == ARCHIVE_OK &&
	     archive_write_add_filter_none(tar) == ARCHIVE_OK &&
	     archive_write_set_bytes_per_block(tar, TAR_BLOCK_SIZE) == ARCHIVE_OK &&
	     archive_write_open(tar, lw, NULL, tar_output, NULL) == ARCHIVE_OK;
	if (!ok)
		return repack_fail(lw->ctx, REPACK_EFAIL,
				   "cannot start the layer tar '%s': %s",
				   lw->path, archive_error_string(tar));
	return 0;
}

static int write_entry_header(struct layer_writer *lw, const char *name,
			      uint64_t size, time_t mtime)
{
	struct archive_entry *entry = archive_entry_new();
	int rc = 0;

	archive_entry_set_pathname(entry, name);
	archive_entry_set_filetype(entry, AE_IFREG);
	archive_entry_set_perm(entry, 0644);
	archive_entry_set_size(entry, (la_int64_t)size);
	archive_entry_set_mtime(entry, mtime, 0);
	archive_entry_set_uid(entry, 0);
	archive_entry_set_gid(entry, 0);
	if (archive_write_header(lw->tar, entry) != ARCHIVE_OK)
		rc = repack_fail(lw->ctx, REPACK_EFAIL,
				 "cannot add '%s' to the layer '%s': %s", name,
				 lw->path, archive_error_string(lw->tar));
	archive_entry_free(entry);
	return rc;
}

/* Stream the file at src into the layer as name. */
static int add_file(struct layer_writer *lw, const char *src,
		    const char *name, uint64_t size, time_t mtime)
{
	unsigned char *buf = NULL;
	uint64_t copied = 0;
	int fd, rc;

	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return repack_fail(lw->ctx, REPACK_EFAIL, "cannot open '%s': %s",
				   src, strerror(errno));
	rc = write_entry_header(lw, name, size, mtime);
	if (rc)
		goto out;

	buf = xmalloc(READ_CHUNK);
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = repack_fail(lw->ctx, REPACK_EFAIL, "cannot read '%s': %s",
					 src, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		copied += (uint64_t)n;
		if (copied > size)
			break;
		if (archive_write_data(lw->tar, buf, (size_t)n) != n) {
			rc = repack_fail(lw->ctx, REPACK_EFAIL,
					 "cannot write '%s' into the layer '%s': %s",
					 name, lw->path, archive_error_string(lw->tar));
			goto out;
		}
		lw->done += (uint64_t)n;
		repack_progress(lw->ctx, "layer", lw->done, lw->total);
	}
	if (copied != size)
		rc = repack_fail(lw->ctx, REPACK_EFAIL,
				 "'%s' changed size while it was being stored "
				 "(%llu bytes expected); build the image again", src,
				 (unsigned long long)size);
out:
	free(buf);
	close(fd);
	return rc;
}

/* Check every present file is a regular file and sum their sizes. */
static int stat_slots(struct repack_ctx *ctx,
		      const struct image_file_slot slots[IMAGE_FILE_SLOTS],
		      uint64_t sizes[IMAGE_FILE_SLOTS], uint64_t *total)
{
	*total = 0;
	for (int i = 0; i < IMAGE_FILE_SLOTS; i++) {
		struct stat st;

		sizes[i] = 0;
		if (!slots[i].source) {
			if (slots[i].required)
				return repack_fail(ctx, REPACK_EFAIL,
						   "the layout has no %s file; "
						   "an image needs kernel, kernel.tar and kernel_config",
						   slots[i].name);
			continue;
		}
		if (stat(slots[i].source, &st) < 0)
			return repack_fail(ctx, REPACK_EFAIL, "cannot read '%s': %s",
					   slots[i].source, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return repack_fail(ctx, REPACK_EFAIL,
					   "'%s' is not a regular file; cannot store it as %s",
					   slots[i].source, slots[i].name);
		sizes[i] = (uint64_t)st.st_size;
		*total += sizes[i];
	}
	return 0;
}

/* Close both stages, flushing the tar trailer and the compressed
 * stream's end. */
static int finish_layer(struct layer_writer *lw)
{
	if (archive_write_close(lw->tar) != ARCHIVE_OK)
		return repack_fail(lw->ctx, REPACK_EFAIL,
				   "cannot finish the layer tar '%s': %s", lw->path,
				   archive_error_string(lw->tar));
	if (archive_write_close(lw->gz) != ARCHIVE_OK)
		return repack_fail(lw->ctx, REPACK_EFAIL,
				   "cannot finish the compressed stream of '%s': %s",
				   lw->path, archive_error_string(lw->gz));
	if (fsync(lw->fd) < 0)
		return repack_fail(lw->ctx, REPACK_EFAIL, "cannot sync '%s': %s",
				   lw->path, strerror(errno));
	return 0;
}

static int write_layer(struct layer_writer *lw,
		       const struct image_file_slot slots[IMAGE_FILE_SLOTS],
		       const uint64_t sizes[IMAGE_FILE_SLOTS], time_t mtime)
{
	int rc = open_compressor(lw);

	if (rc == 0)
		rc = open_tar(lw);
	for (int i = 0; rc == 0 && i < IMAGE_FILE_SLOTS; i++)
		if (slots[i].source)
			rc = add_file(lw, slots[i].source, slots[i].name,
				      sizes[i], mtime);
	if (rc == 0)
		rc = finish_layer(lw);
	return rc;
}

int image_build_layer(struct repack_ctx *ctx, const struct layout_files *files,
		      time_t mtime, enum image_compression compression,
		      const char *workdir, struct image_blob *blob)
{
	struct image_file_slot slots[IMAGE_FILE_SLOTS];
	uint64_t sizes[IMAGE_FILE_SLOTS];
	struct layer_writer lw = { .ctx = ctx, .fd = -1, .compression = compression };
	char *final = xasprintf("%s/oci-layer.tar.%s", workdir,
				compression == IMAGE_COMPRESSION_ZSTD ? "zst" : "gz");
	char *tmp = xasprintf("%s.tmp.%ld", final, (long)getpid());
	int rc;

	image_file_slots(files, slots);
	rc = stat_slots(ctx, slots, sizes, &lw.total);
	if (rc)
		goto out;

	lw.path = tmp;
	lw.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (lw.fd < 0) {
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot create '%s': %s", tmp,
				 strerror(errno));
		goto out;
	}
	lw.tar_sha = sha256_stream_new();
	lw.gz_sha = sha256_stream_new();
	rc = write_layer(&lw, slots, sizes, mtime);
	if (rc == 0 && rename(tmp, final) < 0)
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot rename '%s' to '%s': %s",
				 tmp, final, strerror(errno));
	if (rc == 0) {
		blob->size = lw.gz_size;
		blob->path = final;
		blob->media_type = compression == IMAGE_COMPRESSION_ZSTD ?
			MEDIA_TYPE_LAYER_ZSTD : MEDIA_TYPE_LAYER_GZIP;
		final = NULL;
	}
out:
	if (lw.tar)
		archive_write_free(lw.tar);
	if (lw.gz)
		archive_write_free(lw.gz);
	if (lw.tar_sha)
		sha256_stream_finish(lw.tar_sha, blob->diff_id);
	if (lw.gz_sha)
		sha256_stream_finish(lw.gz_sha, blob->digest);
	if (lw.fd >= 0)
		close(lw.fd);
	if (rc)
		unlink(tmp);
	free(tmp);
	free(final);
	return rc;
}
