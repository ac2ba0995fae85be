/* Rendering of the core's log messages and progress on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fetch.h"

struct cli_view {
	int verbosity;
	bool terminal;
	bool bar_shown;
	struct timespec last_draw;
};

static struct cli_view view;

static void clear_bar(void)
{
	if (view.bar_shown) {
		fputs("\r\033[K", stderr);
		view.bar_shown = false;
	}
}

static void print_log(void *user, enum repack_level level, const char *message)
{
	static const int min_verbosity[] = { 0, 1, 1, 2 };
	static const char *const prefixes[] = { "error: ", "warning: ", "", "" };

	(void)user;
	if (view.verbosity < min_verbosity[level])
		return;
	clear_bar();
	fprintf(stderr, "repack: %s%s\n", prefixes[level], message);
}

static double seconds_since(const struct timespec *then)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - then->tv_sec) + (now.tv_nsec - then->tv_nsec) / 1e9;
}

/* A one-line bar, redrawn at most ten times a second, only on a terminal. */
static void print_progress(void *user, const char *label, uint64_t done, uint64_t total)
{
	(void)user;
	if (!view.terminal || view.verbosity == 0)
		return;
	if (done != total && seconds_since(&view.last_draw) < 0.1)
		return;
	clock_gettime(CLOCK_MONOTONIC, &view.last_draw);
	/* Show the end of a long label: the file name of a URL. */
	if (strlen(label) > 40)
		label += strlen(label) - 40;
	if (total)
		fprintf(stderr, "\r\033[K%.40s %6.1f / %.1f MiB %3d%%", label, done / 1048576.0,
			total / 1048576.0, (int)(done * 100 / total));
	else
		fprintf(stderr, "\r\033[K%.40s %6.1f MiB", label, done / 1048576.0);
	view.bar_shown = true;
	if (done == total)
		clear_bar();
}

void cli_setup_context(struct repack_ctx *ctx, const struct cli_options *opts)
{
	repack_ctx_init(ctx);
	view.verbosity = opts->verbosity;
	view.terminal = isatty(STDERR_FILENO);
	ctx->log = print_log;
	ctx->progress = print_progress;
	ctx->cache_dir = opts->cache ? xstrdup(opts->cache) : cache_default_dir();
	if (opts->jobs)
		ctx->jobs = opts->jobs;
}

int cli_report(struct repack_ctx *ctx, int code)
{
	if (code == 0)
		return 0;
	clear_bar();
	fprintf(stderr, "repack: error: %s\n", ctx->error[0] ? ctx->error : repack_strerror(code));
	return repack_exit_status(code);
}

int cli_prepare_cache(struct repack_ctx *ctx)
{
	int rc = mkdir_p(ctx, ctx->cache_dir);

	if (rc)
		return repack_wrap(ctx, rc,
				   "cannot use the cache directory (choose another with --cache DIR or XDG_CACHE_HOME)");
	return 0;
}
