/* The public download calls: libcurl set-up, downloads into memory and to
 * a file. */
#include <stdlib.h>

#include "fetch.h"
#include "transfer.h"

/* Connections, DNS answers and TLS sessions kept between transfers. Only
 * one thread uses it, so it has no lock callbacks. */
static CURLSH *share;

int fetch_global_init(struct repack_ctx *ctx)
{
	CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (result != CURLE_OK && !ctx)
		return REPACK_EFAIL;
	if (result != CURLE_OK)
		return repack_fail(ctx, REPACK_EFAIL, "cannot initialise libcurl: %s",
				   curl_easy_strerror(result));
	share = curl_share_init();
	if (share) {
		curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
		curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
		curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	}
	return 0;
}

void fetch_global_cleanup(void)
{
	if (share)
		curl_share_cleanup(share);
	share = NULL;
	curl_global_cleanup();
}

CURLSH *fetch_share_handle(void)
{
	return share;
}

int fetch_to_memory(struct repack_ctx *ctx, const char *url,
		    size_t max_bytes, char **data, size_t *len)
{
	struct transfer t;
	int rc;

	transfer_init(&t);
	t.url = url;
	t.max_bytes = max_bytes;
	rc = transfer_run(ctx, &t, 1, 1);
	if (rc == 0) {
		/* Adding nothing still allocates and terminates an empty body. */
		strbuf_add(&t.body, "", 0);
		*data = strbuf_detach(&t.body, len);
	}
	transfer_release(&t);
	return rc;
}

int fetch_to_file(struct repack_ctx *ctx, const char *url, const char *dest,
		  const char *sha256, uint64_t size)
{
	struct transfer t;
	int rc;

	if (sha256 && !sha256_hex_valid(sha256))
		return repack_fail(ctx, REPACK_EFORMAT,
				   "invalid sha256 '%s' for %s (expected 64 hexadecimal digits)",
				   sha256, url);
	transfer_init(&t);
	t.url = url;
	t.dest = dest;
	t.sha256 = sha256;
	t.size = size;
	rc = transfer_run(ctx, &t, 1, 1);
	transfer_release(&t);
	return rc;
}
