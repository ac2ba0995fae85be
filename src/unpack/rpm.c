/* .rpm reader. librpm reads the lead, the signature header and the main
 * header, and checks the header digests. libarchive then streams the cpio
 * payload that follows the main header, finding the compressor (gzip,
 * bzip2, xz, lzma or zstd) from the payload's magic bytes. When the header
 * records a sha256 payload digest, it is checked over the compressed bytes
 * as they stream past. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <rpm/header.h>
#include <rpm/rpmio.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmpgp.h>
#include <rpm/rpmtag.h>
#include <rpm/rpmtd.h>
#include <rpm/rpmts.h>

#include "repack.h"
#include "unpack_internal.h"

#define READ_BLOCK 65536

/* Facts about the payload, read from the package headers. */
struct rpm_info {
	off_t payload_offset;
	time_t build_time;
	char *format;         /* "cpio" */
	char *compressor;     /* "zstd", "xz", "gzip", ... */
	char *payload_sha256; /* NULL when the header records no sha256 */
};

static void rpm_info_release(struct rpm_info *info)
{
	free(info->format);
	free(info->compressor);
	free(info->payload_sha256);
	memset(info, 0, sizeof(*info));
}

/* librpm reports problems through rpmlog, which prints to stderr unless a
 * callback takes the message; keep the first error for our own message. */
struct rpmlog_capture {
	char message[512];
};

static int capture_rpmlog(rpmlogRec rec, rpmlogCallbackData data)
{
	struct rpmlog_capture *capture = data;
	const char *text = rpmlogRecMessage(rec);
	size_t n;

	if (capture->message[0] || rpmlogRecPriority(rec) > RPMLOG_WARNING || !text)
		return 0;
	snprintf(capture->message, sizeof(capture->message), "%s", text);
	n = strlen(capture->message);
	while (n > 0 && capture->message[n - 1] == '\n')
		capture->message[--n] = '\0';
	return 0;
}

/* Copy a string tag, or def when the header lacks it; caller frees. */
static char *header_string(Header h, rpmTagVal tag, const char *def)
{
	const char *value = headerGetString(h, tag);

	return xstrdup(value ? value : def);
}

/* The sha256 of the compressed payload, when the header records one. */
static char *payload_sha256(Header h)
{
	struct rpmtd_s td;
	const char *digest;
	char *copy = NULL;

	if (headerGetNumber(h, RPMTAG_PAYLOADDIGESTALGO) != PGPHASHALGO_SHA256)
		return NULL;
	if (!headerGet(h, RPMTAG_PAYLOADDIGEST, &td, HEADERGET_MINMEM))
		return NULL;
	digest = rpmtdNextString(&td);
	if (digest && strlen(digest) == SHA256_HEX_LEN)
		copy = xstrdup(digest);
	rpmtdFreeData(&td);
	return copy;
}

static int check_read_result(struct repack_ctx *ctx, const char *label, rpmRC result,
			     const struct rpmlog_capture *capture)
{
	const char *detail = capture->message[0] ? capture->message : "no detail from librpm";
	size_t n = strlen(label);

	/* librpm starts its messages with the label it was given. */
	if (strncmp(detail, label, n) == 0 && strncmp(detail + n, ": ", 2) == 0)
		detail += n + 2;

	switch (result) {
	case RPMRC_OK:
	case RPMRC_NOTTRUSTED:
	case RPMRC_NOKEY:
		/* Signatures are not checked here, and the digests passed. */
		return 0;
	case RPMRC_NOTFOUND:
		return repack_fail(ctx, REPACK_EUNPACK, "%s: not an RPM package: %s", label, detail);
	default:
		return repack_fail(ctx, REPACK_EUNPACK,
				   "%s: corrupt RPM header: %s (download the package again)",
				   label, detail);
	}
}

/* Read the lead and headers of the package at path with librpm. */
static int read_headers(struct repack_ctx *ctx, const char *path, const char *label,
			struct rpm_info *info)
{
	struct rpmlog_capture capture = { { 0 } };
	rpmlogCallback previous;
	rpmts ts = NULL;
	Header h = NULL;
	FD_t fd = Fopen(path, "r.ufdio");
	rpmRC result;
	int rc;

	memset(info, 0, sizeof(*info));
	if (!fd || Ferror(fd)) {
		rc = repack_fail(ctx, REPACK_EFAIL, "%s: cannot open '%s': %s", label, path,
				 fd ? Fstrerror(fd) : strerror(errno));
		goto out;
	}
	ts = rpmtsCreate();
	/* NOTE: only the digests are checked, not the OpenPGP signatures,
	 * which would need the distribution's rpm keys in an rpm keyring. A
	 * repository package is trusted through the sha256 its metadata
	 * lists; a Koji package has only these digests. */
	rpmtsSetVSFlags(ts, RPMVSF_MASK_NOSIGNATURES);
	previous = rpmlogSetCallback(capture_rpmlog, &capture);
	result = rpmReadPackageFile(ts, fd, label, &h);
	rpmlogSetCallback(previous, NULL);
	rc = check_read_result(ctx, label, result, &capture);
	if (rc)
		goto out;

	info->payload_offset = Ftell(fd);
	info->build_time = (time_t)headerGetNumber(h, RPMTAG_BUILDTIME);
	info->format = header_string(h, RPMTAG_PAYLOADFORMAT, "cpio");
	/* rpm writes no compressor tag for its original gzip payloads. */
	info->compressor = header_string(h, RPMTAG_PAYLOADCOMPRESSOR, "gzip");
	info->payload_sha256 = payload_sha256(h);
	if (info->payload_offset <= 0)
		rc = repack_fail(ctx, REPACK_EUNPACK, "%s: cannot find where the payload starts", label);
out:
	headerFree(h);
	rpmtsFree(ts);
	if (fd)
		Fclose(fd);
	return rc;
}

static int check_payload_kind(struct repack_ctx *ctx, const char *label,
			      const struct rpm_info *info)
{
	static const char *const compressors[] = {
		"gzip", "bzip2", "xz", "lzma", "zstd", "identity", NULL,
	};

	if (strcmp(info->format, "cpio") != 0)
		return repack_fail(ctx, REPACK_EUNPACK,
				   "%s: payload format '%s' is not supported (only cpio)",
				   label, info->format);
	for (size_t i = 0; compressors[i]; i++)
		if (strcmp(info->compressor, compressors[i]) == 0)
			return 0;
	return repack_fail(ctx, REPACK_EUNPACK,
			   "%s: payload compressor '%s' is not supported (gzip, bzip2, xz, lzma and zstd are)",
			   label, info->compressor);
}

/* libarchive reads the payload through this stream, which hashes it. */
struct payload_stream {
	int fd;
	struct sha256_stream *hash;
	char buffer[READ_BLOCK];
};

static la_ssize_t read_payload(struct archive *a, void *user, const void **buffer)
{
	struct payload_stream *stream = user;
	ssize_t n;

	do
		n = read(stream->fd, stream->buffer, sizeof(stream->buffer));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "read failed: %s", strerror(errno));
		return -1;
	}
	sha256_stream_update(stream->hash, stream->buffer, (size_t)n);
	*buffer = stream->buffer;
	return n;
}

/* Hash what libarchive left unread and compare with the header's digest. */
static int check_payload_digest(struct repack_ctx *ctx, const char *label,
				struct payload_stream *stream, const char *expected)
{
	char actual[SHA256_HEX_LEN + 1];
	ssize_t n;

	while ((n = read(stream->fd, stream->buffer, sizeof(stream->buffer))) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			sha256_stream_update(stream->hash, stream->buffer, (size_t)n);
	sha256_stream_finish(stream->hash, actual);
	stream->hash = NULL;
	if (n < 0)
		return repack_fail(ctx, REPACK_EUNPACK, "%s: cannot read its payload: %s",
				   label, strerror(errno));
	if (expected && strcasecmp(actual, expected) != 0)
		return repack_fail(ctx, REPACK_EUNPACK,
				   "%s: payload sha256 %s does not match the digest %s in its header (the package is corrupt; download it again)",
				   label, actual, expected);
	return 0;
}

static int open_payload(struct repack_ctx *ctx, const char *path, const char *label,
			const struct rpm_info *info, struct payload_stream *stream,
			struct archive **out)
{
	struct archive *a;

	stream->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (stream->fd < 0 || lseek(stream->fd, info->payload_offset, SEEK_SET) < 0)
		return repack_fail(ctx, REPACK_EFAIL, "%s: cannot read '%s': %s", label, path,
				   strerror(errno));
	stream->hash = sha256_stream_new();
	a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_cpio(a);
	*out = a;
	if (archive_read_open(a, stream, NULL, read_payload, NULL) != ARCHIVE_OK)
		return repack_fail(ctx, REPACK_EUNPACK,
				   "%s: corrupt or truncated payload: cannot open its %s stream: %s (download the package again)",
				   label, info->compressor, archive_error_string(a));
	return 0;
}

int unpack_rpm(struct repack_ctx *ctx, const char *path, const char *label,
	       unpack_entry_fn fn, void *user)
{
	struct rpm_info info;
	struct payload_stream *stream = xcalloc(1, sizeof(*stream));
	struct archive *a = NULL;
	char discard[SHA256_HEX_LEN + 1];
	int rc;

	stream->fd = -1;
	rc = read_headers(ctx, path, label, &info);
	if (rc == 0)
		rc = check_payload_kind(ctx, label, &info);
	if (rc == 0)
		rc = open_payload(ctx, path, label, &info, stream, &a);
	if (rc == 0)
		rc = unpack_walk_archive(ctx, label, a, fn, user);
	if (rc == 0)
		rc = check_payload_digest(ctx, label, stream, info.payload_sha256);
	if (a)
		archive_read_free(a);
	if (stream->hash)
		sha256_stream_finish(stream->hash, discard);
	if (stream->fd >= 0)
		close(stream->fd);
	free(stream);
	rpm_info_release(&info);
	return rc;
}

int rpm_build_time(struct repack_ctx *ctx, const char *path,
		   const char *label, time_t *build_time)
{
	struct rpm_info info;
	int rc = read_headers(ctx, path, label, &info);

	if (rc == 0)
		*build_time = info.build_time;
	rpm_info_release(&info);
	return rc;
}
