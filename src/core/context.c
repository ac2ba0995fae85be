/* The repack context: error messages, logging and progress reporting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repack.h"

void repack_ctx_init(struct repack_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->jobs = 4;
}

void repack_ctx_release(struct repack_ctx *ctx)
{
	free(ctx->cache_dir);
	ctx->cache_dir = NULL;
}

int repack_fail(struct repack_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
	return code;
}

int repack_wrap(struct repack_ctx *ctx, int code, const char *fmt, ...)
{
	char old[sizeof(ctx->error)];
	size_t n;
	va_list ap;

	memcpy(old, ctx->error, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
	n = strlen(ctx->error);
	if (n + 2 < sizeof(ctx->error)) {
		memcpy(ctx->error + n, ": ", 2);
		n += 2;
		memcpy(ctx->error + n, old, sizeof(ctx->error) - n - 1);
		ctx->error[sizeof(ctx->error) - 1] = '\0';
	}
	return code;
}

void repack_log(struct repack_ctx *ctx, enum repack_level level,
		const char *fmt, ...)
{
	char message[4096];
	va_list ap;

	if (!ctx->log)
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	ctx->log(ctx->user, level, message);
}

void repack_progress(struct repack_ctx *ctx, const char *label,
		     uint64_t done, uint64_t total)
{
	if (ctx->progress)
		ctx->progress(ctx->user, label, done, total);
}

const char *repack_strerror(int code)
{
	switch (code) {
	case REPACK_OK: return "success";
	case REPACK_EFAIL: return "operation failed";
	case REPACK_EUSAGE: return "usage error";
	case REPACK_ENOTFOUND: return "not found";
	case REPACK_ENET: return "download failed";
	case REPACK_EMISSING: return "not on the server";
	case REPACK_EVERIFY: return "verification failed";
	case REPACK_EUNPACK: return "corrupt or unsafe package";
	case REPACK_EFORMAT: return "malformed metadata";
	default: return "unknown error";
	}
}

int repack_exit_status(int code)
{
	switch (code) {
	case REPACK_OK: return 0;
	case REPACK_EUSAGE: return 2;
	case REPACK_ENOTFOUND: return 3;
	default: return 1;
	}
}
