/* The transfer engine behind fetch.h: one or more downloads driven by a
 * curl multi handle, with retries, Range resumes and checks before the
 * rename. Private to src/fetch/. */
#ifndef REPACK_FETCH_TRANSFER_H
#define REPACK_FETCH_TRANSFER_H

#include <curl/curl.h>

#include "repack.h"

/* First attempt plus three retries after 0.5 s, 1 s and 2 s. */
#define FETCH_MAX_ATTEMPTS 4
#define FETCH_MAX_REDIRECTS 5

struct transfer {
	/* Request: set by the caller, none of it owned. */
	const char *url;
	const char *label;  /* shown in progress and errors */
	const char *dest;   /* final path; NULL downloads into memory */
	const char *sha256; /* expected digest or NULL */
	uint64_t size;      /* expected size, 0 when unknown */
	size_t max_bytes;   /* memory downloads only: limit of the body */
	/* Use a private .part file when another process locks dest.part
	 * (shared cache) instead of failing. */
	bool private_part_on_conflict;

	/* Result: the body of a memory download. */
	struct strbuf body;

	/* State owned by the engine. */
	struct repack_ctx *ctx; /* for the callbacks; not owned */
	char *prefix;           /* "LABEL: " for messages, "" without a label */
	CURL *easy;
	char *part;          /* dest.part or a private variant */
	int fd;              /* open and locked .part, -1 when closed */
	uint64_t offset;     /* bytes kept from earlier attempts (Range start) */
	uint64_t received;   /* body bytes of this attempt */
	int attempt;         /* attempts started */
	bool resumed;        /* the data came partly from an older .part */
	bool part_private;   /* part is this process's own file */
	bool body_started;   /* the first body byte of this attempt arrived */
	bool discard;        /* the body is an error page, not the file */
	int64_t range_start; /* start in Content-Range, -1 when absent */
	uint64_t not_before; /* monotonic ms before which no retry starts */
	uint64_t last_progress;
	int callback_rc;     /* failure found inside a curl callback */
	char callback_error[512];
	char curl_error[CURL_ERROR_SIZE];
	bool finished;
};

void transfer_init(struct transfer *t);
/* Close and free the engine state; the .part file stays on disk. */
void transfer_release(struct transfer *t);

/* Run the transfers, at most jobs at once. Returns 0 when every one
 * succeeded, else the code of the first failure with its message on ctx.
 * A failure stops the other transfers, which keep their .part files for a
 * later resume. */
int transfer_run(struct repack_ctx *ctx, struct transfer *list, size_t count,
		 int jobs);

/* The .part file (part.c). part_open opens and locks dest.part;
 * part_prepare sets offset to the bytes a new attempt keeps; part_finish
 * checks size and sha256 and renames to dest, deleting a file that fails. */
int part_open(struct repack_ctx *ctx, struct transfer *t);
int part_prepare(struct repack_ctx *ctx, struct transfer *t);
int part_truncate(struct repack_ctx *ctx, struct transfer *t);
/* Write all of data; returns 0 or -errno. */
int part_write(struct transfer *t, const void *data, size_t len);
int part_finish(struct repack_ctx *ctx, struct transfer *t);
void part_close(struct transfer *t);
void part_close_keep_data(struct transfer *t);
void part_discard(struct transfer *t);

/* True when s is 64 hexadecimal digits. */
bool sha256_hex_valid(const char *s);

/* The libcurl share handle that keeps connections and DNS answers between
 * transfers; NULL before fetch_global_init. */
CURLSH *fetch_share_handle(void);

#endif
