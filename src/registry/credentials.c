/* Registry credentials: REPACK_REGISTRY_USER/REPACK_REGISTRY_PASSWORD, or
 * what `docker login` stored in config.json, either inline under "auths"
 * or in a credential helper (docker-credential-NAME get, which reads the
 * server address on stdin and prints {"Username":..,"Secret":..}). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "internal.h"

extern char **environ;

#define DOCKER_HUB_KEY "https://index.docker.io/v1/"
#define HELPER_OUTPUT_MAX 65536
/* docker-credential-* helpers report a missing entry with this text. */
#define HELPER_NOT_FOUND "credentials not found"
/* A helper returns this user name when Secret is an identity token. */
#define IDENTITY_TOKEN_USER "<token>"

static bool is_docker_hub(const char *host)
{
	return strcmp(host, "docker.io") == 0 || strcmp(host, "index.docker.io") == 0 ||
	       strcmp(host, "registry-1.docker.io") == 0;
}

/* The server address docker login stores for host. */
static const char *server_key(const char *host)
{
	return is_docker_hub(host) ? DOCKER_HUB_KEY : host;
}

/* True when the key of an "auths" entry ("https://HOST/v1/", "HOST")
 * names host. */
static bool auth_key_matches(const char *key, const char *host)
{
	const char *start = key;
	size_t len;

	if (str_starts_with(start, "https://"))
		start += strlen("https://");
	else if (str_starts_with(start, "http://"))
		start += strlen("http://");
	len = strcspn(start, "/");
	if (is_docker_hub(host))
		return (len == strlen("index.docker.io") && strncmp(start, "index.docker.io", len) == 0) ||
		       (len == strlen("docker.io") && strncmp(start, "docker.io", len) == 0) ||
		       (len == strlen("registry-1.docker.io") &&
			strncmp(start, "registry-1.docker.io", len) == 0);
	return strlen(host) == len && strncmp(start, host, len) == 0;
}

static void set_creds(struct registry_credentials *creds, const char *user,
		      const char *secret, const char *source)
{
	creds->username = xstrdup(user);
	creds->secret = xstrdup(secret);
	creds->source = xstrdup(source);
}

void registry_credentials_release(struct registry_credentials *creds)
{
	if (creds->secret)
		memset(creds->secret, 0, strlen(creds->secret));
	free(creds->username);
	free(creds->secret);
	free(creds->source);
	memset(creds, 0, sizeof(*creds));
}

static int from_environment(struct repack_ctx *ctx,
			    struct registry_credentials *creds, bool *found)
{
	const char *user = getenv("REPACK_REGISTRY_USER");
	const char *password = getenv("REPACK_REGISTRY_PASSWORD");
	bool has_user = user && *user, has_password = password && *password;

	*found = false;
	if (!has_user && !has_password)
		return 0;
	if (!has_user || !has_password)
		return repack_fail(ctx, REPACK_EUSAGE,
				   "REPACK_REGISTRY_%s is set but REPACK_REGISTRY_%s "
				   "is not; set both or neither",
				   has_user ? "USER" : "PASSWORD",
				   has_user ? "PASSWORD" : "USER");
	set_creds(creds, user, password, "REPACK_REGISTRY_USER and REPACK_REGISTRY_PASSWORD");
	*found = true;
	return 0;
}

/* The path of the Docker client's config.json; caller frees. NULL when
 * neither $DOCKER_CONFIG nor $HOME is set. */
static char *config_path(void)
{
	const char *dir = getenv("DOCKER_CONFIG");
	const char *home = getenv("HOME");

	if (dir && *dir)
		return xasprintf("%s/config.json", dir);
	if (home && *home)
		return xasprintf("%s/.docker/config.json", home);
	return NULL;
}

/* Decode the base64 "user:password" of an "auth" entry. */
static int decode_auth(struct repack_ctx *ctx, const char *encoded,
		       const char *path, const char *key,
		       struct registry_credentials *creds)
{
	size_t len = strlen(encoded);
	unsigned char *plain = xmalloc(len + 4);
	int n = EVP_DecodeBlock(plain, (const unsigned char *)encoded, (int)len);
	char *colon;
	int rc = 0;

	/* EVP_DecodeBlock counts the '=' padding as zero bytes. */
	if (n >= 0) {
		for (size_t i = len; i > 0 && encoded[i - 1] == '=' && n > 0; i--)
			n--;
		plain[n] = '\0';
	}
	colon = n >= 0 ? strchr((char *)plain, ':') : NULL;
	if (!colon) {
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "the \"auth\" of '%s' in '%s' is not base64 of "
				 "user:password; log in again", key, path);
	} else {
		char *source = xasprintf("'%s'", path);

		*colon = '\0';
		set_creds(creds, (char *)plain, colon + 1, source);
		free(source);
	}
	memset(plain, 0, len + 4);
	free(plain);
	return rc;
}

static int from_auths(struct repack_ctx *ctx, json_t *config, const char *path,
		      const char *host, struct registry_credentials *creds)
{
	json_t *auths = json_object_get(config, "auths"), *entry;
	const char *key;

	json_object_foreach(auths, key, entry) {
		const char *auth = json_string_value(json_object_get(entry, "auth"));
		const char *user = json_string_value(json_object_get(entry, "username"));
		const char *password = json_string_value(json_object_get(entry, "password"));
		const char *identity = json_string_value(json_object_get(entry, "identitytoken"));
		char *source;

		if (!auth_key_matches(key, host))
			continue;
		if (auth && *auth)
			return decode_auth(ctx, auth, path, key, creds);
		source = xasprintf("'%s'", path);
		if (user && password)
			set_creds(creds, user, password, source);
		else if (identity && *identity) {
			set_creds(creds, user ? user : IDENTITY_TOKEN_USER, identity, source);
			creds->identity_token = true;
		}
		free(source);
		if (creds->username)
			return 0;
	}
	return 0;
}

/* Write input to the helper's stdin. A helper that exits without
 * reading it closes the pipe; SIGPIPE is blocked for the write, and a
 * pending one is taken, so that ends in EPIPE instead of killing the
 * process. */
static void write_input(struct repack_ctx *ctx, const char *program, int fd,
			const char *input)
{
	struct timespec no_wait = { 0, 0 };
	sigset_t pipe_set, old_set;
	int failed;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
	failed = registry_write_all(fd, input, strlen(input)) < 0;
	if (failed && errno == EPIPE)
		sigtimedwait(&pipe_set, NULL, &no_wait);
	pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	if (failed)
		repack_log(ctx, REPACK_LOG_DEBUG, "%s exited before reading its input",
			   program);
}

/* Run argv with input on stdin and collect up to HELPER_OUTPUT_MAX bytes
 * of stdout into out; *status receives the wait status. */
static int run_helper(struct repack_ctx *ctx, char *const argv[],
		      const char *input, struct strbuf *out, int *status)
{
	posix_spawn_file_actions_t actions;
	int in_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 };
	char buf[4096];
	pid_t pid;
	int err;

	if (pipe(in_pipe) < 0 || pipe(out_pipe) < 0) {
		err = errno;
		goto fail;
	}
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&actions, in_pipe[1]);
	posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
	err = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(in_pipe[0]);
	close(out_pipe[1]);
	in_pipe[0] = out_pipe[1] = -1;
	if (err)
		goto fail;

	write_input(ctx, argv[0], in_pipe[1], input);
	close(in_pipe[1]);
	in_pipe[1] = -1;
	for (;;) {
		ssize_t n = read(out_pipe[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out->len + (size_t)n <= HELPER_OUTPUT_MAX)
			strbuf_add(out, buf, (size_t)n);
	}
	close(out_pipe[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in_pipe[i] >= 0)
			close(in_pipe[i]);
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
	}
	return repack_fail(ctx, REPACK_EFAIL, "cannot run %s: %s", argv[0],
			   strerror(err));
}

static bool helper_name_valid(const char *name)
{
	if (!*name)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

/* Read the helper's JSON output into creds. */
static int parse_helper_output(struct repack_ctx *ctx, const char *program,
			       const struct strbuf *out,
			       struct registry_credentials *creds)
{
	json_t *doc = json_loadb(out->buf ? out->buf : "", out->len, 0, NULL);
	const char *user = json_string_value(json_object_get(doc, "Username"));
	const char *secret = json_string_value(json_object_get(doc, "Secret"));
	int rc = 0;

	if (!user || !secret)
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "%s get printed no Username and Secret", program);
	else {
		set_creds(creds, user, secret, program);
		creds->identity_token = strcmp(user, IDENTITY_TOKEN_USER) == 0;
	}
	json_decref(doc);
	return rc;
}

static int from_helper(struct repack_ctx *ctx, const char *name, const char *host,
		       struct registry_credentials *creds)
{
	char *program = xasprintf("docker-credential-%s", name);
	char *input = xasprintf("%s\n", server_key(host));
	char *argv[] = { program, "get", NULL };
	struct strbuf out = STRBUF_INIT;
	int status = 0, rc;

	if (!helper_name_valid(name)) {
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "invalid credential helper name '%s' in the Docker "
				 "config", name);
		goto out;
	}
	rc = run_helper(ctx, argv, input, &out, &status);
	if (rc)
		goto out;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rc = parse_helper_output(ctx, program, &out, creds);
	else if (out.buf && strstr(out.buf, HELPER_NOT_FOUND))
		repack_log(ctx, REPACK_LOG_DEBUG, "%s has no credentials for %s",
			   program, host);
	else
		rc = repack_fail(ctx, REPACK_EFAIL,
				 "%s get failed for %s (exit status %d): %.200s",
				 program, server_key(host),
				 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
				 out.buf ? out.buf : "");
out:
	if (out.buf)
		memset(out.buf, 0, out.len);
	strbuf_release(&out);
	free(input);
	free(program);
	return rc;
}

/* credHelpers for the host, then credsStore, then auths. */
static int from_config(struct repack_ctx *ctx, json_t *config, const char *path,
		       const char *host, struct registry_credentials *creds)
{
	json_t *helpers = json_object_get(config, "credHelpers");
	const char *helper = json_string_value(json_object_get(helpers, server_key(host)));
	const char *store = json_string_value(json_object_get(config, "credsStore"));
	int rc = 0;

	if (!helper)
		helper = json_string_value(json_object_get(helpers, host));
	if (helper && *helper)
		rc = from_helper(ctx, helper, host, creds);
	if (rc == 0 && !creds->username && store && *store)
		rc = from_helper(ctx, store, host, creds);
	if (rc == 0 && !creds->username)
		rc = from_auths(ctx, config, path, host, creds);
	return rc;
}

int registry_credentials_find(struct repack_ctx *ctx, const char *host,
			      struct registry_credentials *creds)
{
	json_error_t err;
	json_t *config = NULL;
	char *path;
	bool found;
	int rc;

	memset(creds, 0, sizeof(*creds));
	rc = from_environment(ctx, creds, &found);
	if (rc || found)
		return rc;
	path = config_path();
	if (!path || access(path, F_OK) < 0)
		goto out;
	config = json_load_file(path, 0, &err);
	if (!config) {
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "the Docker config '%s' is not valid JSON (line %d: %s); "
				 "repair it or point DOCKER_CONFIG elsewhere",
				 path, err.line, err.text);
		goto out;
	}
	rc = from_config(ctx, config, path, host, creds);
	if (rc == 0 && creds->username)
		repack_log(ctx, REPACK_LOG_DEBUG, "credentials for %s: user '%s' from %s",
			   host, creds->username, creds->source);
out:
	json_decref(config);
	free(path);
	if (rc)
		registry_credentials_release(creds);
	return rc;
}
