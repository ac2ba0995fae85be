/* Downloads against tests/lib/httpd.py on 127.0.0.1: retries, redirects,
 * resumes, checksum failures, stalls and the content-addressed cache. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fetch.h"

extern char **environ;

#define SMALL_SIZE 1000
#define BIG_SIZE 300000

/* The server and the files it serves, shared by every test. */
static struct {
	pid_t pid;
	int stdin_fd;  /* closing it stops the server */
	int stdout_fd; /* where the server printed its port */
	char *root;    /* served directory */
	char *log;     /* request log */
	char *base;    /* http://127.0.0.1:PORT */
	char small_sha[SHA256_HEX_LEN + 1];
	char big_sha[SHA256_HEX_LEN + 1];
} server;

/* Per-test state: a context whose log and progress land in buffers. */
struct fixture {
	struct repack_ctx ctx;
	char *work;
	struct strbuf messages; /* every log message, one per line */
	struct strbuf finals;   /* "LABEL TOTAL" for each done == total report */
};

/* Compare a return code and show the context's message when it differs. */
#define assert_rc(f, call, expected)                                        \
	do {                                                                \
		int rc_ = (call);                                           \
		if (rc_ != (expected))                                      \
			print_message("message: %s\n", (f)->ctx.error);     \
		assert_int_equal(rc_, (expected));                          \
	} while (0)

static void capture_log(void *user, enum repack_level level, const char *message)
{
	struct fixture *f = user;

	strbuf_addf(&f->messages, "%d %s\n", (int)level, message);
}

static void capture_progress(void *user, const char *label, uint64_t done,
			     uint64_t total)
{
	struct fixture *f = user;

	if (done == total)
		strbuf_addf(&f->finals, "%s %llu\n", label, (unsigned long long)total);
}

/* Return the repository's top directory from this binary's path,
 * build/<flavour>/tests/test_fetch (caller frees). */
static char *top_dir(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 4; up++) {
			char *slash = strrchr(exe, '/');

			if (slash)
				*slash = '\0';
		}
		char *script = xasprintf("%s/tests/lib/httpd.py", exe);
		bool found = access(script, R_OK) == 0;

		free(script);
		if (found)
			return xstrdup(exe);
	}
	return xstrdup(".");
}

/* Write size bytes of a fixed pseudo-random sequence to root/name. */
static void make_fixture(const char *name, size_t size, uint32_t seed,
			 char sha[SHA256_HEX_LEN + 1])
{
	struct repack_ctx ctx;
	char *data = xmalloc(size);
	char *path = xasprintf("%s/%s", server.root, name);

	for (size_t i = 0; i < size; i++) {
		seed = seed * 1103515245u + 12345u;
		data[i] = (char)(seed >> 16);
	}
	repack_ctx_init(&ctx);
	assert_int_equal(write_file_atomic(&ctx, path, data, size), 0);
	if (sha)
		sha256_buffer(data, size, sha);
	repack_ctx_release(&ctx);
	free(path);
	free(data);
}

static int start_server(void)
{
	char *top = top_dir();
	char *script = xasprintf("%s/tests/lib/httpd.py", top);
	char *argv[] = { "python3", script, "--root", server.root, "--log",
			 server.log, NULL };
	posix_spawn_file_actions_t actions;
	int in[2], out[2], rc;
	char port[16] = "";
	ssize_t n;

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, in[0], 0);
	posix_spawn_file_actions_adddup2(&actions, out[1], 1);
	rc = posix_spawnp(&server.pid, "python3", &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(in[0]);
	close(out[1]);
	free(script);
	free(top);
	if (rc != 0)
		return -1;

	/* Read up to the newline, and keep the pipe open until teardown so
	 * the server never writes into a closed pipe. */
	server.stdin_fd = in[1];
	server.stdout_fd = out[0];
	for (size_t len = 0; !memchr(port, '\n', len); len += (size_t)n) {
		n = len < sizeof(port) - 1 ? read(out[0], port + len, sizeof(port) - 1 - len) : 0;
		if (n <= 0)
			return -1;
		port[len + (size_t)n] = '\0';
	}
	port[strcspn(port, "\n")] = '\0';
	server.base = xasprintf("http://127.0.0.1:%s", port);
	return 0;
}

static int group_teardown(void **state);

static int group_setup(void **state)
{
	struct repack_ctx ctx;

	repack_ctx_init(&ctx);
	if (make_temp_dir(&ctx, "repack-fetch-test", &server.root) < 0)
		return -1;
	server.log = xasprintf("%s.log", server.root);
	make_fixture("small.bin", SMALL_SIZE, 1, server.small_sha);
	make_fixture("big.bin", BIG_SIZE, 2, server.big_sha);
	for (char c = 'a'; c <= 'e'; c++) {
		char name[] = { c, '.', 'b', 'i', 'n', '\0' };

		make_fixture(name, BIG_SIZE / 3, (uint32_t)c, NULL);
	}
	repack_ctx_release(&ctx);

	/* A proxy from the environment must not see requests to 127.0.0.1. */
	setenv("no_proxy", "127.0.0.1", 1);
	/* Short delays and stall timeouts keep the retry cases quick. */
	setenv("REPACK_RETRY_DELAY_MS", "10", 1);
	setenv("REPACK_STALL_TIMEOUT", "1", 1);
	if (fetch_global_init(&ctx) < 0 || start_server() < 0) {
		group_teardown(state);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	int status;

	if (server.pid > 0) {
		close(server.stdin_fd);
		close(server.stdout_fd);
		kill(server.pid, SIGTERM);
		waitpid(server.pid, &status, 0);
	}
	fetch_global_cleanup();
	rm_rf(server.root);
	unlink(server.log);
	free(server.root);
	free(server.log);
	free(server.base);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	repack_ctx_init(&f->ctx);
	f->ctx.log = capture_log;
	f->ctx.progress = capture_progress;
	f->ctx.user = f;
	if (make_temp_dir(&f->ctx, "repack-fetch-work", &f->work) < 0)
		return -1;
	f->ctx.cache_dir = xasprintf("%s/cache", f->work);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rm_rf(f->work);
	free(f->work);
	strbuf_release(&f->messages);
	strbuf_release(&f->finals);
	repack_ctx_release(&f->ctx);
	free(f);
	return 0;
}

/* Return a URL on the test server (caller frees). */
static char *url_for(const char *path)
{
	return xasprintf("%s/%s", server.base, path);
}

/* Return a path inside the test's work directory (caller frees). */
static char *work_path(struct fixture *f, const char *name)
{
	return xasprintf("%s/%s", f->work, name);
}

/* Count the logged requests whose line contains needle. */
static int count_requests(const char *needle)
{
	struct repack_ctx ctx;
	char *log = NULL;
	size_t len;
	int count = 0;

	repack_ctx_init(&ctx);
	if (read_file(&ctx, server.log, &log, &len) == 0) {
		for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
			if (strstr(line, needle))
				count++;
	}
	free(log);
	repack_ctx_release(&ctx);
	return count;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Assert that path contains the same bytes as the served file name. */
static void assert_same_file(const char *path, const char *name)
{
	struct repack_ctx ctx;
	char *served = xasprintf("%s/%s", server.root, name);
	char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;

	repack_ctx_init(&ctx);
	assert_int_equal(read_file(&ctx, path, &a, &alen), 0);
	assert_int_equal(read_file(&ctx, served, &b, &blen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	free(served);
	repack_ctx_release(&ctx);
}

/* Write the first len bytes of a served file, or garbage, to path. */
static void write_prefix(const char *path, const char *name, size_t len)
{
	struct repack_ctx ctx;
	char *served = name ? xasprintf("%s/%s", server.root, name) : NULL;
	char *data = NULL;
	size_t n = 0;

	repack_ctx_init(&ctx);
	if (served) {
		assert_int_equal(read_file(&ctx, served, &data, &n), 0);
		assert_true(len <= n);
	} else {
		data = xmalloc(len);
		memset(data, 'x', len);
	}
	assert_int_equal(write_file_atomic(&ctx, path, data, len), 0);
	free(data);
	free(served);
	repack_ctx_release(&ctx);
}

/* Count the entries of dir and its subdirectories that are files. */
static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int count = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char *path;
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			count += count_files(path);
		else
			count++;
		free(path);
	}
	closedir(d);
	return count;
}

static void file_download_plain(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("small.bin");
	char *dest = work_path(f, "small.bin");
	char *part = work_path(f, "small.bin.part");

	assert_rc(f, fetch_to_file(&f->ctx, url, dest, server.small_sha,
				       SMALL_SIZE), 0);
	assert_same_file(dest, "small.bin");
	assert_false(exists(part));
	assert_non_null(strstr(f->finals.buf, " 1000\n"));
	free(part);
	free(dest);
	free(url);
}

static void memory_download_plain(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("small.bin");
	char *data = NULL;
	size_t len = 0;

	assert_rc(f, fetch_to_memory(&f->ctx, url, 1 << 20, &data, &len), 0);
	assert_int_equal(len, SMALL_SIZE);
	assert_int_equal(data[len], '\0');
	free(data);
	free(url);
}

static void memory_limit_rejected(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("small.bin");
	char *data = NULL;
	size_t len = 0;

	assert_rc(f, fetch_to_memory(&f->ctx, url, 100, &data, &len),
			 REPACK_ENET);
	assert_null(data);
	assert_non_null(strstr(f->ctx.error, "larger than the limit of 100 bytes"));
	free(url);
}

static void not_found_is_missing(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("no-such-file");
	char *dest = work_path(f, "out");
	char *data = NULL;
	size_t len;

	assert_rc(f, fetch_to_memory(&f->ctx, url, 0, &data, &len),
			 REPACK_EMISSING);
	assert_non_null(strstr(f->ctx.error, "not found on the server"));
	assert_non_null(strstr(f->ctx.error, url));
	assert_rc(f, fetch_to_file(&f->ctx, url, dest, NULL, 0), REPACK_EMISSING);
	assert_false(exists(dest));
	assert_int_equal(count_files(f->work), 0);
	/* 404 is final: one request per call. */
	assert_int_equal(count_requests("GET /no-such-file "), 2);
	free(dest);
	free(url);
}

static void gone_is_missing(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("status/410/small.bin");
	char *data = NULL;
	size_t len;

	assert_rc(f, fetch_to_memory(&f->ctx, url, 0, &data, &len),
			 REPACK_EMISSING);
	free(url);
}

static void retry_after_503(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("fail/503/2/small.bin");
	char *dest = work_path(f, "small.bin");

	assert_rc(f, fetch_to_file(&f->ctx, url, dest, server.small_sha, 0), 0);
	assert_same_file(dest, "small.bin");
	assert_int_equal(count_requests("GET /fail/503/2/small.bin "), 3);
	assert_non_null(strstr(f->messages.buf, "HTTP 503 (attempt 1 of 4)"));
	assert_non_null(strstr(f->messages.buf, "HTTP 503 (attempt 2 of 4)"));
	assert_null(strstr(f->messages.buf, "attempt 3"));
	free(dest);
	free(url);
}

static void persistent_500_fails(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("status/500/small.bin");
	char *dest = work_path(f, "small.bin");

	assert_rc(f, fetch_to_file(&f->ctx, url, dest, server.small_sha, 0),
			 REPACK_ENET);
	assert_non_null(strstr(f->ctx.error, "after 4 attempts: HTTP 500"));
	assert_non_null(strstr(f->ctx.error, url));
	assert_int_equal(count_requests("GET /status/500/small.bin "), 4);
	assert_false(exists(dest));
	free(dest);
	free(url);
}

static void client_error_not_retried(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("status/403/small.bin");
	char *data = NULL;
	size_t len;

	assert_rc(f, fetch_to_memory(&f->ctx, url, 0, &data, &len), REPACK_ENET);
	assert_non_null(strstr(f->ctx.error, "HTTP 403"));
	assert_int_equal(count_requests("GET /status/403/small.bin "), 1);
	free(url);
}

static void connection_refused_retried(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t addr_len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char *url, *data = NULL;
	size_t len;

	/* A port that was free a moment ago and has no listener now. */
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &addr_len), 0);
	close(fd);
	url = xasprintf("http://127.0.0.1:%d/small.bin", ntohs(addr.sin_port));

	assert_rc(f, fetch_to_memory(&f->ctx, url, 0, &data, &len), REPACK_ENET);
	assert_non_null(strstr(f->ctx.error, "after 4 attempts"));
	assert_non_null(strstr(f->messages.buf, "(attempt 3 of 4)"));
	free(url);
}

static void redirect_chain_followed(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("redirect/5/small.bin");
	char *dest = work_path(f, "small.bin");

	assert_rc(f, fetch_to_file(&f->ctx, url, dest, server.small_sha,
				       SMALL_SIZE), 0);
	assert_same_file(dest, "small.bin");
	assert_int_equal(count_requests("GET /redirect/"), 5);
	free(dest);
	free(url);
}

static void too_many_redirects(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("redirect/6/small.bin");
	char *dest = work_path(f, "small.bin");

	assert_rc(f, fetch_to_file(&f->ctx, url, dest, NULL, 0), REPACK_ENET);
	assert_non_null(strstr(f->ctx.error, "more than 5 redirects"));
	assert_false(exists(dest));
	free(dest);
	free(url);
}

static void part_resumed_with_range(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("big.bin?resume");
	char *dest = work_path(f, "big.bin");
	char *part = work_path(f, "big.bin.part");

	write_prefix(part, "big.bin", 100000);
	assert_rc(f, fetch_to_file(&f->ctx, url, dest, server.big_sha,
				       BIG_SIZE), 0);
	assert_same_file(dest, "big.bin");
	assert_false(exists(part));
	assert_int_equal(count_requests("GET /big.bin?resume bytes=100000-"), 1);
	assert_int_equal(count_requests("GET /big.bin?resume "), 1);
	free(part);
	free(dest);
	free(url);
}

static void ignored_range_restarts(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("norange/big.bin");
	char *dest = work_path(f, "big.bin");
	char *part = work_path(f, "big.bin.part");

	write_prefix(part, NULL, 5000);
	assert_rc(f, fetch_to_file(&f->ctx, url, dest, server.big_sha,
				       BIG_SIZE), 0);
	assert_same_file(dest, "big.bin");
	assert_int_equal(count_requests("GET /norange/big.bin bytes=5000-"), 1);
	free(part);
	free(dest);
	free(url);
}

static void range_past_end_restarts(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("small.bin?past-end");
	char *dest = work_path(f, "small.bin");
	char *part = work_path(f, "small.bin.part");

	/* Without an expected size only the server's 416 shows the .part is
	 * too long. */
	write_prefix(part, NULL, SMALL_SIZE + 10);
	assert_rc(f, fetch_to_file(&f->ctx, url, dest, server.small_sha, 0), 0);
	assert_same_file(dest, "small.bin");
	assert_int_equal(count_requests("GET /small.bin?past-end bytes=1010-"), 1);
	assert_int_equal(count_requests("GET /small.bin?past-end -"), 1);
	free(part);
	free(dest);
	free(url);
}

static void stale_part_restarts(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("big.bin?stale");
	char *dest = work_path(f, "big.bin");
	char *part = work_path(f, "big.bin.part");

	/* An older run left data of another file: the resumed result fails
	 * the sha256 check and the download starts once more from byte 0. */
	write_prefix(part, NULL, 2000);
	assert_rc(f, fetch_to_file(&f->ctx, url, dest, server.big_sha,
				       BIG_SIZE), 0);
	assert_same_file(dest, "big.bin");
	assert_int_equal(count_requests("GET /big.bin?stale bytes=2000-"), 1);
	assert_int_equal(count_requests("GET /big.bin?stale -"), 1);
	assert_non_null(strstr(f->messages.buf, "downloading it again from the start"));
	free(part);
	free(dest);
	free(url);
}

static void sha256_mismatch_removes_part(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("html/small.bin");
	char *dest = work_path(f, "small.bin");
	char *part = work_path(f, "small.bin.part");

	assert_rc(f, fetch_to_file(&f->ctx, url, dest, server.small_sha, 0),
			 REPACK_EVERIFY);
	assert_non_null(strstr(f->ctx.error, "sha256 mismatch"));
	assert_non_null(strstr(f->ctx.error, url));
	assert_non_null(strstr(f->ctx.error, server.small_sha));
	assert_false(exists(dest));
	assert_false(exists(part));
	free(part);
	free(dest);
	free(url);
}

static void size_mismatch_removes_part(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("html/small.bin");
	char *big_url = url_for("big.bin");
	char *dest = work_path(f, "small.bin");
	char *part = work_path(f, "small.bin.part");

	assert_rc(f, fetch_to_file(&f->ctx, url, dest, server.small_sha,
				       SMALL_SIZE), REPACK_EVERIFY);
	assert_non_null(strstr(f->ctx.error, "size mismatch"));
	assert_false(exists(dest));
	assert_false(exists(part));

	/* A body longer than expected stops as soon as it passes the size. */
	assert_rc(f, fetch_to_file(&f->ctx, big_url, dest, server.small_sha,
				       SMALL_SIZE), REPACK_EVERIFY);
	assert_non_null(strstr(f->ctx.error, "more than the expected 1000 bytes"));
	assert_false(exists(dest));
	assert_false(exists(part));
	free(part);
	free(dest);
	free(big_url);
	free(url);
}

static void truncated_body_fails(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("truncate/big.bin");
	char *dest = work_path(f, "big.bin");
	char *part = work_path(f, "big.bin.part");
	struct stat st;

	assert_rc(f, fetch_to_file(&f->ctx, url, dest, server.big_sha,
				       BIG_SIZE), REPACK_ENET);
	assert_non_null(strstr(f->ctx.error, "after 4 attempts"));
	assert_false(exists(dest));
	/* What arrived stays in the .part for the next run to resume. */
	assert_int_equal(stat(part, &st), 0);
	assert_true(st.st_size > 0 && st.st_size < BIG_SIZE);
	free(part);
	free(dest);
	free(url);
}

static void truncated_once_resumes(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("truncate-once/big.bin");
	char *dest = work_path(f, "big.bin");

	assert_rc(f, fetch_to_file(&f->ctx, url, dest, server.big_sha,
				       BIG_SIZE), 0);
	assert_same_file(dest, "big.bin");
	assert_int_equal(count_requests("GET /truncate-once/big.bin bytes=150000-"), 1);
	free(dest);
	free(url);
}

static void stalled_transfer_times_out(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("slow/small.bin");
	char *dest = work_path(f, "small.bin");

	assert_rc(f, fetch_to_file(&f->ctx, url, dest, server.small_sha,
				       SMALL_SIZE), REPACK_ENET);
	assert_non_null(strstr(f->ctx.error, "too slow"));
	assert_false(exists(dest));
	free(dest);
	free(url);
}

static void file_url_download(void **state)
{
	struct fixture *f = *state;
	char *url = xasprintf("file://%s/small.bin", server.root);
	char *missing = xasprintf("file://%s/none.bin", server.root);
	char *dest = work_path(f, "small.bin");

	assert_rc(f, fetch_to_file(&f->ctx, url, dest, server.small_sha,
				       SMALL_SIZE), 0);
	assert_same_file(dest, "small.bin");
	assert_rc(f, fetch_to_file(&f->ctx, missing, dest, NULL, 0),
			 REPACK_EMISSING);
	free(dest);
	free(missing);
	free(url);
}

static void part_locked_by_other(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("small.bin");
	char *dest = work_path(f, "small.bin");
	char *part = work_path(f, "small.bin.part");
	int fd = open(part, O_RDWR | O_CREAT, 0644);

	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_rc(f, fetch_to_file(&f->ctx, url, dest, NULL, 0), REPACK_EFAIL);
	assert_non_null(strstr(f->ctx.error, "another process is downloading"));
	assert_false(exists(dest));
	close(fd);
	free(part);
	free(dest);
	free(url);
}

static void bad_sha256_rejected(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("small.bin");
	char *dest = work_path(f, "small.bin");
	struct fetch_item item = { .url = url, .sha256 = "abc", .label = "small" };

	assert_rc(f, fetch_to_file(&f->ctx, url, dest, "xyz", 0), REPACK_EFORMAT);
	assert_rc(f, fetch_into_cache(&f->ctx, &item, 1), REPACK_EFORMAT);
	assert_non_null(strstr(f->ctx.error, "invalid sha256 'abc'"));
	fetch_item_release(&item);
	free(dest);
	free(url);
}

static void cache_hit_second_call(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("small.bin?cache-hit");
	struct fetch_item item = { .url = url, .sha256 = server.small_sha,
				   .size = SMALL_SIZE, .label = "small" };
	char *expected = cache_path(&f->ctx, server.small_sha);

	assert_rc(f, fetch_into_cache(&f->ctx, &item, 1), 0);
	assert_false(item.cached);
	assert_string_equal(item.path, expected);
	assert_same_file(item.path, "small.bin");

	assert_rc(f, fetch_into_cache(&f->ctx, &item, 1), 0);
	assert_true(item.cached);
	assert_int_equal(count_requests("GET /small.bin?cache-hit "), 1);
	assert_non_null(strstr(f->finals.buf, "small 1000\n"));
	fetch_item_release(&item);
	free(expected);
	free(url);
}

static void corrupt_cache_redownloaded(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("small.bin?corrupt");
	struct fetch_item item = { .url = url, .sha256 = server.small_sha,
				   .size = SMALL_SIZE, .label = "small" };

	assert_rc(f, fetch_into_cache(&f->ctx, &item, 1), 0);
	write_prefix(item.path, NULL, SMALL_SIZE);

	assert_rc(f, fetch_into_cache(&f->ctx, &item, 1), 0);
	assert_false(item.cached);
	assert_same_file(item.path, "small.bin");
	assert_int_equal(count_requests("GET /small.bin?corrupt "), 2);
	assert_non_null(strstr(f->messages.buf, "has sha256 "));

	/* A truncated entry is caught by its size before any hashing. */
	assert_int_equal(truncate(item.path, 10), 0);
	assert_rc(f, fetch_into_cache(&f->ctx, &item, 1), 0);
	assert_false(item.cached);
	assert_same_file(item.path, "small.bin");
	assert_int_equal(count_requests("GET /small.bin?corrupt "), 3);
	assert_non_null(strstr(f->messages.buf, "has 10 bytes, expected 1000"));
	fetch_item_release(&item);
	free(url);
}

static void cache_mismatch_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("html/small.bin");
	struct fetch_item item = { .url = url, .sha256 = server.small_sha,
				   .label = "small" };

	assert_rc(f, fetch_into_cache(&f->ctx, &item, 1), REPACK_EVERIFY);
	assert_non_null(strstr(f->ctx.error, "small: sha256 mismatch"));
	assert_false(exists(item.path));
	assert_int_equal(count_files(f->ctx.cache_dir), 0);
	fetch_item_release(&item);
	free(url);
}

static void cache_missing_file(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("no-such-package.deb");
	struct fetch_item item = { .url = url, .sha256 = server.small_sha,
				   .label = "linux-image" };

	assert_rc(f, fetch_into_cache(&f->ctx, &item, 1), REPACK_EMISSING);
	assert_non_null(strstr(f->ctx.error, "linux-image: not found on the server"));
	assert_non_null(strstr(f->ctx.error, url));
	assert_int_equal(count_files(f->ctx.cache_dir), 0);
	fetch_item_release(&item);
	free(url);
}

static void cache_parallel_jobs(void **state)
{
	struct fixture *f = *state;
	struct fetch_item items[5];
	char digests[5][SHA256_HEX_LEN + 1];
	char labels[5][8];
	char *urls[5];

	f->ctx.jobs = 2;
	memset(items, 0, sizeof(items));
	for (int i = 0; i < 5; i++) {
		char name[] = { (char)('a' + i), '.', 'b', 'i', 'n', '\0' };
		char *path = xasprintf("%s/%s", server.root, name);

		assert_int_equal(sha256_file(&f->ctx, path, digests[i], NULL), 0);
		snprintf(labels[i], sizeof(labels[i]), "item-%c", 'a' + i);
		urls[i] = url_for(name);
		items[i].url = urls[i];
		items[i].sha256 = digests[i];
		items[i].size = BIG_SIZE / 3;
		items[i].label = labels[i];
		free(path);
	}

	assert_rc(f, fetch_into_cache(&f->ctx, items, 5), 0);
	for (int i = 0; i < 5; i++) {
		char name[] = { (char)('a' + i), '.', 'b', 'i', 'n', '\0' };
		char *final = xasprintf("%s 100000\n", labels[i]);

		assert_false(items[i].cached);
		assert_same_file(items[i].path, name);
		assert_non_null(strstr(f->finals.buf, final));
		free(final);
		fetch_item_release(&items[i]);
		free(urls[i]);
	}
}

static void cache_duplicate_items(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("small.bin?duplicate");
	struct fetch_item items[2] = {
		{ .url = url, .sha256 = server.small_sha, .label = "first" },
		{ .url = url, .sha256 = server.small_sha, .label = "second" },
	};

	assert_rc(f, fetch_into_cache(&f->ctx, items, 2), 0);
	assert_string_equal(items[0].path, items[1].path);
	assert_same_file(items[1].path, "small.bin");
	assert_int_equal(count_requests("GET /small.bin?duplicate "), 1);
	fetch_item_release(&items[0]);
	fetch_item_release(&items[1]);
	free(url);
}

static void cache_locked_part_uses_private(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("small.bin?locked");
	struct fetch_item item = { .url = url, .sha256 = server.small_sha,
				   .label = "small" };
	char *path = cache_path(&f->ctx, server.small_sha);
	char *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	char *part = xasprintf("%s.part", path);
	int fd;

	assert_int_equal(mkdir_p(&f->ctx, dir), 0);
	fd = open(part, O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);

	assert_rc(f, fetch_into_cache(&f->ctx, &item, 1), 0);
	assert_same_file(item.path, "small.bin");
	/* Only the final file and the other holder's .part remain. */
	assert_int_equal(count_files(dir), 2);
	close(fd);
	fetch_item_release(&item);
	free(part);
	free(dir);
	free(path);
	free(url);
}

static void offline_cache(void **state)
{
	struct fixture *f = *state;
	char *url = url_for("small.bin?offline");
	struct fetch_item item = { .url = url, .sha256 = server.small_sha,
				   .label = "small" };

	f->ctx.offline = true;
	assert_rc(f, fetch_into_cache(&f->ctx, &item, 1), REPACK_ENET);
	assert_non_null(strstr(f->ctx.error, "offline"));
	assert_non_null(strstr(f->ctx.error, url));

	f->ctx.offline = false;
	assert_rc(f, fetch_into_cache(&f->ctx, &item, 1), 0);
	f->ctx.offline = true;
	assert_rc(f, fetch_into_cache(&f->ctx, &item, 1), 0);
	assert_true(item.cached);
	assert_int_equal(count_requests("GET /small.bin?offline "), 1);
	fetch_item_release(&item);
	free(url);
}

static void cache_dir_defaults(void **state)
{
	struct fixture *f = *state;
	const char *digest =
		"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
	char *old_xdg = getenv("XDG_CACHE_HOME") ? xstrdup(getenv("XDG_CACHE_HOME")) : NULL;
	char *old_home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
	char *path = cache_path(&f->ctx, digest);
	char *expected = xasprintf("%s/sha256/ab/abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
				   f->ctx.cache_dir);
	char *dir;

	assert_string_equal(path, expected);

	setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
	dir = cache_default_dir();
	assert_string_equal(dir, "/xdg/cache/repack");
	free(dir);

	/* The XDG Base Directory Specification requires ignoring relative
	 * values. */
	setenv("XDG_CACHE_HOME", "relative", 1);
	setenv("HOME", "/home/tester", 1);
	dir = cache_default_dir();
	assert_string_equal(dir, "/home/tester/.cache/repack");
	free(dir);

	if (old_xdg)
		setenv("XDG_CACHE_HOME", old_xdg, 1);
	else
		unsetenv("XDG_CACHE_HOME");
	if (old_home)
		setenv("HOME", old_home, 1);
	free(old_xdg);
	free(old_home);
	free(expected);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(file_download_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(memory_download_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(memory_limit_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(not_found_is_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(gone_is_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(retry_after_503, setup, teardown),
		cmocka_unit_test_setup_teardown(persistent_500_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(client_error_not_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(connection_refused_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(redirect_chain_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(too_many_redirects, setup, teardown),
		cmocka_unit_test_setup_teardown(part_resumed_with_range, setup, teardown),
		cmocka_unit_test_setup_teardown(ignored_range_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(range_past_end_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(stale_part_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(sha256_mismatch_removes_part, setup, teardown),
		cmocka_unit_test_setup_teardown(size_mismatch_removes_part, setup, teardown),
		cmocka_unit_test_setup_teardown(truncated_body_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(truncated_once_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(stalled_transfer_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(file_url_download, setup, teardown),
		cmocka_unit_test_setup_teardown(part_locked_by_other, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_sha256_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(cache_hit_second_call, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_cache_redownloaded, setup, teardown),
		cmocka_unit_test_setup_teardown(cache_mismatch_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(cache_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(cache_parallel_jobs, setup, teardown),
		cmocka_unit_test_setup_teardown(cache_duplicate_items, setup, teardown),
		cmocka_unit_test_setup_teardown(cache_locked_part_uses_private, setup, teardown),
		cmocka_unit_test_setup_teardown(offline_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(cache_dir_defaults, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
