/* Opening a registry connection: choose HTTP or HTTPS, check that the API
 * responds at /v2/, and authenticate with the scheme it requires. Also
 * the cache's record of the repositories each blob was pushed to, which
 * mounts use. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define DOCKER_HUB_API "registry-1.docker.io"
#define DEFAULT_RETRY_DELAY_MS 500

/* localhost, 127.0.0.0/8 and ::1, with or without a port. */
static bool is_loopback(const char *host)
{
	size_t len = strcspn(host, ":");

	if (str_starts_with(host, "[::1]"))
		return true;
	if (len == strlen("localhost") && strncmp(host, "localhost", len) == 0)
		return true;
	return str_starts_with(host, "127.");
}

static uint64_t env_size(const char *name, uint64_t fallback)
{
	const char *value = getenv(name);
	char *end;
	unsigned long long n;

	if (!value || !*value)
		return fallback;
	n = strtoull(value, &end, 10);
	return *end || n == 0 ? fallback : (uint64_t)n;
}

/* GET /v2/: 200 when the client may use the API, 401 until it has
 * authenticated. */
static int ping(struct registry *reg, bool https)
{
	char *url = registry_url(reg, "/v2/");
	struct registry_request req;
	struct registry_response resp = { 0 };
	int rc;

	registry_request_init(&req, "GET", url);
	rc = registry_send(reg, &req, &resp, true);
	if (rc == REPACK_ENET)
		rc = repack_wrap(reg->ctx, rc, "cannot reach registry %s%s", reg->host,
				 https ? " over HTTPS (for a plain-HTTP registry, "
					 "add --insecure-registry)" : "");
	else if (rc == 0 && resp.status != 200)
		rc = resp.status == 401 || registry_status_retryable(resp.status) ?
			registry_fail_status(reg, "cannot use the registry", &req, &resp) :
			repack_fail(reg->ctx, REPACK_EFAIL,
				    "%s does not answer like an OCI registry: GET %s "
				    "gave HTTP %ld", reg->host, url, resp.status);
	registry_response_release(&resp);
	free(url);
	return rc;
}

int registry_open(struct repack_ctx *ctx, const struct registry_ref *ref,
		  const struct registry_options *opts, bool push,
		  struct registry **out)
{
	struct registry *reg = xcalloc(1, sizeof(*reg));
	bool https = !(opts && opts->insecure) && !is_loopback(ref->host);
	int rc;

	*out = NULL;
	reg->ctx = ctx;
	reg->host = xstrdup(ref->host);
	reg->api_host = xstrdup(strcmp(ref->host, "docker.io") == 0 ?
				DOCKER_HUB_API : ref->host);
	reg->base = xasprintf("%s://%s", https ? "https" : "http", reg->api_host);
	reg->repo = xstrdup(ref->repo);
	reg->push = push;
	reg->chunk_size = env_size("REPACK_PUSH_CHUNK_SIZE", REGISTRY_DEFAULT_CHUNK_SIZE);
	reg->retry_delay_ms = (long)env_size("REPACK_RETRY_DELAY_MS", DEFAULT_RETRY_DELAY_MS);
	reg->curl = curl_easy_init();
	if (!reg->curl) {
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot create a libcurl handle");
		goto out;
	}
	rc = ping(reg, https);
out:
	if (rc)
		registry_close(reg);
	else
		*out = reg;
	return rc;
}

void registry_close(struct registry *reg)
{
	if (!reg)
		return;
	if (reg->curl)
		curl_easy_cleanup(reg->curl);
	if (reg->authorization) {
		memset(reg->authorization, 0, strlen(reg->authorization));
		free(reg->authorization);
	}
	registry_credentials_release(&reg->creds);
	strlist_release(&reg->scopes);
	free(reg->last_challenge);
	free(reg->host);
	free(reg->api_host);
	free(reg->base);
	free(reg->repo);
	free(reg);
}

char *registry_cache_dir(const struct registry *reg)
{
	char *dir, *p;

	if (!reg->ctx->cache_dir || !*reg->ctx->cache_dir)
		return NULL;
	dir = xasprintf("%s/registry/%s", reg->ctx->cache_dir, reg->api_host);
	/* "host:port" and "[::1]" become one safe directory name. */
	for (p = dir + strlen(reg->ctx->cache_dir) + strlen("/registry/"); *p; p++)
		if (*p == ':' || *p == '/' || *p == '[' || *p == ']')
			*p = '_';
	return dir;
}

/* Path of the blob record file; caller frees. NULL without a cache. */
static char *blobs_record_path(const struct registry *reg)
{
	char *dir = registry_cache_dir(reg);
	char *path = dir ? xasprintf("%s/blobs", dir) : NULL;

	free(dir);
	return path;
}

/* Call visit for each "HEX REPO" line; stop when it returns true. */
static void scan_records(const char *path,
			 bool (*visit)(const char *hex, const char *repo, void *user),
			 void *user)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *space = strchr(line, ' ');

		line[strcspn(line, "\n")] = '\0';
		if (!space)
			continue;
		*space = '\0';
		if (visit(line, space + 1, user))
			break;
	}
	fclose(f);
}

struct source_search {
	const char *hex;
	const char *exclude;
	char *found;
	bool exact;
};

static bool find_other_repo(const char *hex, const char *repo, void *user)
{
	struct source_search *s = user;

	if (strcmp(hex, s->hex) == 0 && strcmp(repo, s->exclude) != 0) {
		free(s->found);
		s->found = xstrdup(repo);
	}
	return false;
}

static bool find_same_repo(const char *hex, const char *repo, void *user)
{
	struct source_search *s = user;

	s->exact = strcmp(hex, s->hex) == 0 && strcmp(repo, s->exclude) == 0;
	return s->exact;
}

char *registry_known_source(struct registry *reg, const char *digest_hex)
{
	char *path = blobs_record_path(reg);
	struct source_search search = { digest_hex, reg->repo, NULL, false };

	if (path)
		scan_records(path, find_other_repo, &search);
	free(path);
	return search.found;
}

void registry_remember_blob(struct registry *reg, const char *digest_hex)
{
	char *path = blobs_record_path(reg);
	char *dir = registry_cache_dir(reg);
	struct source_search search = { digest_hex, reg->repo, NULL, false };
	char *line;
	int fd;

	if (!path)
		goto out;
	scan_records(path, find_same_repo, &search);
	if (search.exact || mkdir_p(reg->ctx, dir) < 0)
		goto out;
	/* One short O_APPEND write per record, so concurrent pushes do not
	 * interleave inside a line. */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		repack_log(reg->ctx, REPACK_LOG_DEBUG, "cannot record blob in '%s': %s",
			   path, strerror(errno));
		goto out;
	}
	line = xasprintf("%s %s\n", digest_hex, reg->repo);
	if (registry_write_all(fd, line, strlen(line)) < 0)
		repack_log(reg->ctx, REPACK_LOG_DEBUG, "cannot record blob in '%s': %s",
			   path, strerror(errno));
	free(line);
	close(fd);
out:
	free(dir);
	free(path);
}
