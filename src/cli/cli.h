/* Shared pieces of the command-line front end. */
#ifndef REPACK_CLI_H
#define REPACK_CLI_H

#include "backend.h"
#include "image.h"
#include "repack.h"

/* Options every subcommand may take. */
struct cli_options {
	struct backend_options backend;
	const char *output;   /* -o DEST */
	const char *repo;     /* --repo NAME */
	const char *cache;    /* --cache DIR */
	int jobs;             /* -j N, 0 for the default */
	bool json;
	int verbosity;        /* 0 quiet, 1 normal, 2 verbose */
	struct strlist args;  /* positional arguments */
	/* --arch A[,B...], normalised, in the order given; backend.arch is
	 * the first. */
	struct strlist arches;
	const char *push;     /* --push REGISTRY/REPO */
	enum image_compression compression; /* --compression, gzip by default */
	bool insecure_registry;
};

/* Parse argv into opts; prints usage errors itself and returns
 * REPACK_EUSAGE, or 1 when --help was printed. */
int cli_parse_options(int argc, char **argv, const char *usage,
		      struct cli_options *opts);
void cli_options_release(struct cli_options *opts);

/* Set up ctx from opts: cache directory, jobs, log and progress output. */
void cli_setup_context(struct repack_ctx *ctx, const struct cli_options *opts);
/* Create the cache directory, with a message naming the ways to choose
 * another when that fails. */
int cli_prepare_cache(struct repack_ctx *ctx);
/* Print "repack: error: <ctx->error>" and return the exit status. */
int cli_report(struct repack_ctx *ctx, int code);
void cli_error(const char *fmt, ...) REPACK_PRINTF(1, 2);

/* Return the backend for name, or print the known ones and return NULL. */
const struct backend *cli_backend(const char *name);

int cmd_build(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

#endif
