/* Image references and registry URLs. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define REF_FORMS "HOST/REPOSITORY, e.g. 127.0.0.1:5000/kernel-debian or " \
	"ghcr.io/example/kernel-debian"
#define DOCKER_HUB "docker.io"
#define TAG_MAX 128

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+ runs joined by '.', '_', "__" or '-'s. */
static bool component_valid(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return false;
	while (i < len) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		if (s[i] == '.' || (s[i] == '_' && s[i + 1] != '_'))
			i++;
		else if (s[i] == '_')
			i += 2;
		else if (s[i] == '-')
			while (i < len && s[i] == '-')
				i++;
		else
			return false;
		if (i >= len || !is_lower_alnum(s[i]))
			return false;
	}
	return true;
}

static bool repo_valid(const char *repo)
{
	const char *p = repo;

	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (!component_valid(p, len))
			return false;
		if (!slash)
			return true;
		p = slash + 1;
	}
}

static bool tag_valid(const char *tag)
{
	size_t len = strlen(tag);

	if (len == 0 || len > TAG_MAX || !(isalnum((unsigned char)tag[0]) || tag[0] == '_'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isascii((unsigned char)tag[i]) ||
		    !(isalnum((unsigned char)tag[i]) || strchr("_.-", tag[i])))
			return false;
	return true;
}

static bool host_valid(const char *host)
{
	if (!*host)
		return false;
	for (const char *p = host; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr(".-:[]", *p)))
			return false;
	return true;
}

/* Docker's rule for the first component: a registry host when it has a
 * '.' or ':', is "localhost", or has an uppercase letter. */
static bool is_domain(const char *s, size_t len)
{
	if (len == strlen("localhost") && strncmp(s, "localhost", len) == 0)
		return true;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '.' || s[i] == ':' || isupper((unsigned char)s[i]))
			return true;
	return false;
}

/* Split "NAME[:TAG]" at a ':' after the last '/'. */
static int split_tag(struct repack_ctx *ctx, const char *text, char *name,
		     struct registry_ref *ref)
{
	char *slash = strrchr(name, '/');
	char *colon = strrchr(slash ? slash : name, ':');

	if (!colon)
		return 0;
	*colon = '\0';
	if (!tag_valid(colon + 1))
		return repack_fail(ctx, REPACK_EUSAGE,
				   "invalid image reference '%s': the tag '%s' is not "
				   "1 to 128 characters of [A-Za-z0-9_.-] starting with "
				   "a letter, digit or '_'", text, colon + 1);
	ref->tag = xstrdup(colon + 1);
	return 0;
}

static int split_domain(struct repack_ctx *ctx, const char *text,
			const char *name, struct registry_ref *ref)
{
	const char *slash = strchr(name, '/');

	if (slash && is_domain(name, (size_t)(slash - name))) {
		ref->host = xstrndup(name, (size_t)(slash - name));
		ref->repo = xstrdup(slash + 1);
	} else {
		ref->host = xstrdup(DOCKER_HUB);
		ref->repo = slash ? xstrdup(name) : xasprintf("library/%s", name);
	}
	if (strcmp(ref->host, "index.docker.io") == 0) {
		free(ref->host);
		ref->host = xstrdup(DOCKER_HUB);
	}
	if (!host_valid(ref->host))
		return repack_fail(ctx, REPACK_EUSAGE,
				   "invalid image reference '%s': '%s' is not a registry "
				   "host; use %s", text, ref->host, REF_FORMS);
	if (!repo_valid(ref->repo))
		return repack_fail(ctx, REPACK_EUSAGE,
				   "invalid image reference '%s': the repository '%s' must "
				   "be lowercase letters and digits joined by '.', '_', "
				   "'__', '-' or '/'", text, ref->repo);
	return 0;
}

int registry_ref_parse(struct repack_ctx *ctx, const char *text,
		       struct registry_ref *ref)
{
	const char *start = text ? text : "";
	char *name, *at;
	int rc;

	memset(ref, 0, sizeof(*ref));
	if (str_starts_with(start, "docker://"))
		start += strlen("docker://");
	if (!*start)
		return repack_fail(ctx, REPACK_EUSAGE,
				   "invalid image reference '%s': it is empty; use %s",
				   text ? text : "", REF_FORMS);

	name = xstrdup(start);
	at = strchr(name, '@');
	if (at) {
		*at = '\0';
		if (!image_digest_valid(at + 1)) {
			rc = repack_fail(ctx, REPACK_EUSAGE,
					 "invalid image reference '%s': a digest is "
					 "sha256: and 64 lowercase hex digits", text);
			goto out;
		}
		ref->digest = xstrdup(at + 1);
	}
	rc = split_tag(ctx, text, name, ref);
	if (rc == 0)
		rc = split_domain(ctx, text, name, ref);
out:
	free(name);
	return rc;
}

void registry_ref_release(struct registry_ref *ref)
{
	free(ref->host);
	free(ref->repo);
	free(ref->tag);
	free(ref->digest);
	memset(ref, 0, sizeof(*ref));
}

char *registry_url(const struct registry *reg, const char *path)
{
	return xasprintf("%s%s", reg->base, path);
}

char *registry_resolve_location(const struct registry *reg, const char *location)
{
	if (strstr(location, "://"))
		return xstrdup(location);
	if (location[0] == '/')
		return registry_url(reg, location);
	return xasprintf("%s/v2/%s/blobs/uploads/%s", reg->base, reg->repo, location);
}

bool registry_same_origin(const struct registry *reg, const char *url)
{
	size_t len = strlen(reg->base);

	return strncmp(url, reg->base, len) == 0 &&
	       (url[len] == '/' || url[len] == '\0' || url[len] == '?');
}

bool registry_parse_range_end(const char *range, uint64_t *end)
{
	const char *dash;
	char *stop;
	unsigned long long value;

	if (!range)
		return false;
	if (str_starts_with(range, "bytes="))
		range += strlen("bytes=");
	dash = strchr(range, '-');
	if (!dash || dash == range || !isdigit((unsigned char)dash[1]))
		return false;
	for (const char *p = range; p < dash; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	value = strtoull(dash + 1, &stop, 10);
	while (*stop == ' ' || *stop == '\r' || *stop == '\n')
		stop++;
	if (*stop)
		return false;
	*end = value;
	return true;
}
