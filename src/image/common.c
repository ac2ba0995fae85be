/* Helpers shared by the image writers and the image reader: the file
 * slots of the contract, JSON serialisation, verified copies. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

void image_file_slots(const struct layout_files *files,
		      struct image_file_slot slots[IMAGE_FILE_SLOTS])
{
	/* Already in strcmp order: uppercase sorts before lowercase and
	 * '-' < '.' < '_'. */
	slots[0] = (struct image_file_slot){ "System.map", files->system_map, false };
	slots[1] = (struct image_file_slot){ "kernel", files->kernel, true };
	slots[2] = (struct image_file_slot){ "kernel-dev.tar", files->kernel_dev_tar, false };
	slots[3] = (struct image_file_slot){ "kernel.tar", files->kernel_tar, true };
	slots[4] = (struct image_file_slot){ "kernel_config", files->kernel_config, true };
}

bool image_file_name_known(const char *name)
{
	static const char *const names[] = {
		"System.map", "kernel", "kernel-dev.tar", "kernel.tar",
		"kernel_config",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

char *image_json_dump(const json_t *json, size_t *len)
{
	char *text = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS);

	/* json_dumps returns NULL when memory runs out or the value is not
	 * an object or array, and every caller passes an object or array. */
	if (!text)
		repack_die("out of memory serialising JSON");
	if (len)
		*len = strlen(text);
	return text;
}

int image_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *data = buf;

	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int copy_stream(struct repack_ctx *ctx, int in, int out,
		       const char *src, const char *dst,
		       char hex[SHA256_HEX_LEN + 1])
{
	struct sha256_stream *sha = sha256_stream_new();
	unsigned char *buf = xmalloc(1 << 16);
	int rc = 0;

	for (;;) {
		ssize_t n = read(in, buf, 1 << 16);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = repack_fail(ctx, REPACK_EFAIL, "cannot read '%s': %s",
					 src, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		sha256_stream_update(sha, buf, (size_t)n);
		if (image_write_all(out, buf, (size_t)n) < 0) {
			rc = repack_fail(ctx, REPACK_EFAIL, "cannot write '%s': %s",
					 dst, strerror(errno));
			break;
		}
	}
	sha256_stream_finish(sha, hex);
	free(buf);
	return rc;
}

int image_copy_file(struct repack_ctx *ctx, const char *src, const char *dst,
		    const char *expect_hex)
{
	char hex[SHA256_HEX_LEN + 1];
	int in = -1, out = -1, rc = 0;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return repack_fail(ctx, REPACK_EFAIL, "cannot open '%s': %s",
				   src, strerror(errno));
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot create '%s': %s",
				 dst, strerror(errno));
		goto out;
	}

	rc = copy_stream(ctx, in, out, src, dst, hex);
	if (rc == 0 && fsync(out) < 0)
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot sync '%s': %s",
				 dst, strerror(errno));
	if (rc == 0 && expect_hex && strcmp(hex, expect_hex) != 0)
		rc = repack_fail(ctx, REPACK_EVERIFY,
				 "'%s' has sha256 %s but sha256 %s was expected; "
				 "it changed after it was written, build the image again",
				 src, hex, expect_hex);
	if (close(out) < 0 && rc == 0)
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot write '%s': %s",
				 dst, strerror(errno));
	out = -1;
	if (rc)
		unlink(dst);
out:
	if (out >= 0)
		close(out);
	close(in);
	return rc;
}

int image_sync_dir(struct repack_ctx *ctx, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return repack_fail(ctx, REPACK_EFAIL, "cannot open directory '%s': %s",
				   dir, strerror(errno));
	if (fsync(fd) < 0)
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot sync directory '%s': %s",
				 dir, strerror(errno));
	close(fd);
	return rc;
}

bool image_digest_valid(const char *digest)
{
	if (!digest || !str_starts_with(digest, "sha256:"))
		return false;
	digest += strlen("sha256:");
	if (strlen(digest) != SHA256_HEX_LEN)
		return false;
	for (const char *p = digest; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}
