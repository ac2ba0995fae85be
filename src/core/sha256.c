/* SHA-256 through OpenSSL's EVP interface. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "repack.h"

struct sha256_stream {
	EVP_MD_CTX *md;
};

struct sha256_stream *sha256_stream_new(void)
{
	struct sha256_stream *s = xmalloc(sizeof(*s));

	s->md = EVP_MD_CTX_new();
	if (!s->md || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
		repack_die("OpenSSL cannot initialise SHA-256");
	return s;
}

void sha256_stream_update(struct sha256_stream *s, const void *data,
			  size_t len)
{
	if (len && EVP_DigestUpdate(s->md, data, len) != 1)
		repack_die("OpenSSL SHA-256 update failed");
}

void sha256_stream_finish(struct sha256_stream *s,
			  char hex[SHA256_HEX_LEN + 1])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(s->md, digest, &n) != 1 || n != 32)
		repack_die("OpenSSL SHA-256 final failed");
	for (unsigned int i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	EVP_MD_CTX_free(s->md);
	free(s);
}

void sha256_buffer(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1])
{
	struct sha256_stream *s = sha256_stream_new();

	sha256_stream_update(s, data, len);
	sha256_stream_finish(s, hex);
}

int sha256_file(struct repack_ctx *ctx, const char *path,
		char hex[SHA256_HEX_LEN + 1], uint64_t *size)
{
	struct sha256_stream *s;
	unsigned char chunk[1 << 16];
	uint64_t total = 0;
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return repack_fail(ctx, REPACK_EFAIL, "cannot open '%s': %s",
				   path, strerror(errno));
	s = sha256_stream_new();
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		sha256_stream_update(s, chunk, n);
		total += n;
	}
	int failed = ferror(f);
	fclose(f);
	sha256_stream_finish(s, hex);
	if (failed)
		return repack_fail(ctx, REPACK_EFAIL, "cannot read '%s'", path);
	if (size)
		*size = total;
	return 0;
}
