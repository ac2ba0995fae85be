/* HTTP(S) downloads with retries, resume and a content-addressed cache. */
#ifndef REPACK_FETCH_H
#define REPACK_FETCH_H

#include "repack.h"

/* Global libcurl set-up; call once from main before any transfer. ctx
 * may be NULL, and then a failure leaves no message. */
int fetch_global_init(struct repack_ctx *ctx);
void fetch_global_cleanup(void);

/* Download url into memory, at most max_bytes (0 for no limit). Returns
 * REPACK_EMISSING for 404/410, REPACK_ENET for other failures after
 * retries. On success *data is a NUL-terminated buffer the caller frees.
 * Server errors (5xx), timeouts and connection failures are retried 3
 * times; 4xx responses are not. With ctx->offline set, every download but
 * a file:// URL fails with REPACK_ENET. */
int fetch_to_memory(struct repack_ctx *ctx, const char *url,
		    size_t max_bytes, char **data, size_t *len);

/* Download url to dest through dest.part (resumed with Range when a
 * previous attempt left one). When sha256 is not NULL the file is checked
 * before the rename and a mismatch removes it with REPACK_EVERIFY; size,
 * when not 0, is checked the same way. A failed download keeps the data
 * that arrived in dest.part for the next call to resume; dest itself
 * appears only complete and checked. */
int fetch_to_file(struct repack_ctx *ctx, const char *url, const char *dest,
		  const char *sha256, uint64_t size);

/* One item of a parallel download into the cache. */
struct fetch_item {
	const char *url;    /* not owned */
	const char *sha256; /* expected digest, required; not owned */
	uint64_t size;      /* expected size, 0 when unknown */
	const char *label;  /* name shown in progress and errors; not owned */
	char *path;         /* out: cache path, owned by the item */
	bool cached;        /* out: true when no download was needed */
};

/* Return the cache path for a sha256 (caller frees). */
char *cache_path(struct repack_ctx *ctx, const char *sha256);

/* Make every item present in the cache, verified against its sha256,
 * downloading up to ctx->jobs in parallel. An entry already present is
 * hashed again and replaced when it no longer matches. Sets each item's
 * path and cached flag; on failure the first error is returned and the
 * other downloads stop. */
int fetch_into_cache(struct repack_ctx *ctx, struct fetch_item *items,
		     size_t count);
void fetch_item_release(struct fetch_item *item);

/* Return the default cache directory: $XDG_CACHE_HOME/repack or
 * ~/.cache/repack (caller frees). */
char *cache_default_dir(void);

#endif
