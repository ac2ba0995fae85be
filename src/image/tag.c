/* Image tags and references: turning package versions into tags, and
 * naming an image the way container runtimes store it. */
#include <ctype.h>
#include <string.h>

#include "internal.h"

/* The OCI distribution spec limits a tag to
 * [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}. */
#define TAG_MAX 128
/* A shortened tag keeps this many hex digits of the version's sha256. */
#define TAG_HASH_DIGITS 12

static bool tag_char_valid(char c)
{
	return isascii((unsigned char)c) &&
	       (isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-');
}

bool image_tag_valid(const char *tag)
{
	size_t len = tag ? strlen(tag) : 0;

	if (len == 0 || len > TAG_MAX || tag[0] == '.' || tag[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!tag_char_valid(tag[i]))
			return false;
	return true;
}

/* Skip a Debian or RPM epoch ("1:"): digits followed by a colon. */
static const char *skip_epoch(const char *version)
{
	const char *p = version;

	while (*p >= '0' && *p <= '9')
		p++;
	if (p > version && *p == ':')
		return p + 1;
	return version;
}

char *image_tag_sanitise(const char *version)
{
	const char *start = skip_epoch(version ? version : "");
	char *tag = xstrdup(start);
	size_t len = strlen(tag);

	for (size_t i = 0; i < len; i++)
		if (!tag_char_valid(tag[i]))
			tag[i] = '_';

	/* A tag cannot start with '.' or '-': such a first character
	 * becomes '_' like any other character a tag cannot hold. */
	if (tag[0] == '.' || tag[0] == '-')
		tag[0] = '_';

	/* A tag longer than the limit keeps its first characters and ends
	 * in '_' and a short hash of the whole version, so two long
	 * versions that share a prefix still get different tags. */
	if (len > TAG_MAX) {
		char hex[SHA256_HEX_LEN + 1];
		size_t keep = TAG_MAX - 1 - TAG_HASH_DIGITS;

		sha256_buffer(version, strlen(version), hex);
		tag[keep] = '_';
		memcpy(tag + keep + 1, hex, TAG_HASH_DIGITS);
		tag[TAG_MAX] = '\0';
	}
	return tag;
}

/* True when the first path component of a reference is a registry host,
 * by the rule Docker and containerd apply: it contains '.' or ':', is
 * "localhost", or has an uppercase letter. */
static bool component_is_domain(const char *name, size_t len)
{
	if (len == strlen("localhost") && strncmp(name, "localhost", len) == 0)
		return true;
	for (size_t i = 0; i < len; i++)
		if (name[i] == '.' || name[i] == ':' || isupper((unsigned char)name[i]))
			return true;
	return false;
}

char *image_normalised_reference(const char *name, const char *tag)
{
	const char *slash = strchr(name, '/');
	const char *domain = "docker.io";
	size_t domain_len = strlen("docker.io");
	const char *path = name;

	if (slash && component_is_domain(name, (size_t)(slash - name))) {
		domain = name;
		domain_len = (size_t)(slash - name);
		path = slash + 1;
	}
	if (domain_len == strlen("index.docker.io") &&
	    strncmp(domain, "index.docker.io", domain_len) == 0) {
		domain = "docker.io";
		domain_len = strlen("docker.io");
	}

	/* Docker Hub keeps single-component names under "library/". */
	if (domain_len == strlen("docker.io") &&
	    strncmp(domain, "docker.io", domain_len) == 0 && !strchr(path, '/'))
		return xasprintf("docker.io/library/%s:%s", path, tag);
	return xasprintf("%.*s/%s:%s", (int)domain_len, domain, path, tag);
}
