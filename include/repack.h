/* Core definitions shared by every part of repack: error codes, the context
 * that carries the log callback and the last error message, and the
 * allocation and string helpers. */
#ifndef REPACK_H
#define REPACK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define REPACK_VERSION "0.1.0"

#if defined(__GNUC__)
#define REPACK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define REPACK_NORETURN __attribute__((noreturn))
#else
#define REPACK_PRINTF(f, a)
#define REPACK_NORETURN
#endif

/* Every fallible function returns 0 or one of these negative codes and
 * leaves a message on the context. */
enum repack_err {
	REPACK_OK = 0,
	REPACK_EFAIL = -1,     /* the work failed (I/O, unpack, write) */
	REPACK_EUSAGE = -2,    /* bad command line or option value */
	REPACK_ENOTFOUND = -3, /* the requested kernel does not exist */
	REPACK_ENET = -4,      /* a download failed */
	REPACK_EMISSING = -5,  /* the server returned 404 or 410 */
	REPACK_EVERIFY = -6,   /* a checksum or signature did not match */
	REPACK_EUNPACK = -7,   /* a package is corrupt or unsafe */
	REPACK_EFORMAT = -8,   /* metadata could not be parsed */
};

enum repack_level {
	REPACK_LOG_ERROR,
	REPACK_LOG_WARN,
	REPACK_LOG_INFO,
	REPACK_LOG_DEBUG,
};

/* Called by the core for every message; the CLI decides what to print. */
typedef void (*repack_log_fn)(void *user, enum repack_level level,
			      const char *message);
/* Called while a transfer or a long step runs. total is 0 when unknown;
 * done == total marks the end of the step. */
typedef void (*repack_progress_fn)(void *user, const char *label,
				   uint64_t done, uint64_t total);

struct repack_ctx {
	repack_log_fn log;
	repack_progress_fn progress;
	void *user;
	char error[2048]; /* message of the last failure */
	char *cache_dir;  /* owned */
	int jobs;         /* parallel downloads */
	bool offline;     /* never touch the network (tests of the cache) */
};

void repack_ctx_init(struct repack_ctx *ctx);
void repack_ctx_release(struct repack_ctx *ctx);

/* Store a message for the failure and return code, so a caller can write
 * `return repack_fail(ctx, REPACK_EFAIL, "...")`. */
int repack_fail(struct repack_ctx *ctx, int code, const char *fmt, ...)
	REPACK_PRINTF(3, 4);
/* Prefix the stored message with more context ("while ..."), keep code. */
int repack_wrap(struct repack_ctx *ctx, int code, const char *fmt, ...)
	REPACK_PRINTF(3, 4);
void repack_log(struct repack_ctx *ctx, enum repack_level level,
		const char *fmt, ...) REPACK_PRINTF(3, 4);
void repack_progress(struct repack_ctx *ctx, const char *label,
		     uint64_t done, uint64_t total);
const char *repack_strerror(int code);
/* Map an error code to the process exit status of the command line. */
int repack_exit_status(int code);

/* Allocation: these abort with a message when memory runs out. */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Return a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) REPACK_PRINTF(1, 2);
REPACK_NORETURN void repack_die(const char *fmt, ...) REPACK_PRINTF(1, 2);

/* A growable byte buffer that is always NUL-terminated. */
struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};
#define STRBUF_INIT { NULL, 0, 0 }
void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) REPACK_PRINTF(2, 3);
/* Hand the buffer to the caller, who frees it; sb is empty afterwards. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

/* A growable array of owned strings. */
struct strlist {
	char **items;
	size_t count;
	size_t alloc;
};
#define STRLIST_INIT { NULL, 0, 0 }
void strlist_push(struct strlist *list, const char *s);
void strlist_push_owned(struct strlist *list, char *s);
bool strlist_contains(const struct strlist *list, const char *s);
void strlist_sort(struct strlist *list);
void strlist_release(struct strlist *list);

bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);

/* Files and directories. */
int mkdir_p(struct repack_ctx *ctx, const char *path);
/* Remove a tree; missing paths are not an error. */
int rm_rf(const char *path);
/* Read a whole file into a new NUL-terminated buffer the caller frees. */
int read_file(struct repack_ctx *ctx, const char *path, char **data,
	      size_t *len);
/* Write data to path through path.tmp and a rename, so readers never see
 * a partial file. */
int write_file_atomic(struct repack_ctx *ctx, const char *path,
		      const void *data, size_t len);
/* Create a private temporary directory under $TMPDIR; caller frees. */
int make_temp_dir(struct repack_ctx *ctx, const char *prefix, char **path);

/* SHA-256 as 64 lowercase hex digits plus NUL. */
#define SHA256_HEX_LEN 64
int sha256_file(struct repack_ctx *ctx, const char *path,
		char hex[SHA256_HEX_LEN + 1], uint64_t *size);
void sha256_buffer(const void *data, size_t len,
		   char hex[SHA256_HEX_LEN + 1]);

/* Incremental SHA-256 (wraps OpenSSL's EVP interface). */
struct sha256_stream;
struct sha256_stream *sha256_stream_new(void);
void sha256_stream_update(struct sha256_stream *s, const void *data,
			  size_t len);
/* Write the digest and free the stream. */
void sha256_stream_finish(struct sha256_stream *s,
			  char hex[SHA256_HEX_LEN + 1]);

#endif
