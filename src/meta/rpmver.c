/* rpm version ordering and matching through librpm's rpmvercmp. */
#include <stdlib.h>
#include <string.h>

#include <rpm/rpmver.h>

#include "repomd.h"

static unsigned long long epoch_value(const char *epoch)
{
	return epoch && *epoch ? strtoull(epoch, NULL, 10) : 0;
}

int rpmver_compare_evr(const char *epoch_a, const char *version_a,
		       const char *release_a, const char *epoch_b,
		       const char *version_b, const char *release_b)
{
	unsigned long long ea = epoch_value(epoch_a), eb = epoch_value(epoch_b);
	int c;

	if (ea != eb)
		return ea < eb ? -1 : 1;
	c = rpmvercmp(version_a, version_b);
	if (c || !release_a || !release_b)
		return c;
	return rpmvercmp(release_a, release_b);
}

/* Split "[E:]V[-R]" into new strings; *epoch and *release may be NULL. */
static void split_evr(const char *evr, char **epoch, char **version, char **release)
{
	const char *colon = strchr(evr, ':');
	const char *start = colon ? colon + 1 : evr;
	const char *dash = strrchr(start, '-');

	*epoch = colon ? xstrndup(evr, (size_t)(colon - evr)) : NULL;
	*version = dash ? xstrndup(start, (size_t)(dash - start)) : xstrdup(start);
	*release = dash ? xstrdup(dash + 1) : NULL;
}

int rpmver_compare(const char *a, const char *b)
{
	char *ea, *va, *ra, *eb, *vb, *rb;
	int c;

	split_evr(a, &ea, &va, &ra);
	split_evr(b, &eb, &vb, &rb);
	c = rpmver_compare_evr(ea, va, ra, eb, vb, rb);
	free(ea);
	free(va);
	free(ra);
	free(eb);
	free(vb);
	free(rb);
	return c;
}

char *rpmver_format(const char *epoch, const char *version, const char *release)
{
	if (epoch_value(epoch) != 0)
		return xasprintf("%s:%s-%s", epoch, version, release);
	return xasprintf("%s-%s", version, release);
}

/* True when text equals prefix or continues it with one of boundaries. */
static bool prefix_at_boundary(const char *text, const char *prefix, size_t len,
			       const char *boundaries)
{
	if (strncmp(text, prefix, len) != 0)
		return false;
	return text[len] == '\0' || strchr(boundaries, text[len]) != NULL;
}

/* True when request is "rc" and digits: the upstream name of a release
 * candidate. */
static bool is_rc(const char *request)
{
	if (strncmp(request, "rc", 2) != 0 || request[2] == '\0')
		return false;
	return strspn(request + 2, "0123456789") == strlen(request + 2);
}

/* Match the part of a request after its epoch. */
static bool matches_version_release(const char *version, const char *release,
				    const char *request)
{
	const char *dash = strchr(request, '-');
	size_t version_len = dash ? (size_t)(dash - request) : strlen(request);
	bool rc_match;
	char *rc_release;

	if (!dash)
		return prefix_at_boundary(version, request, version_len, ".~^+");
	if (!is_rc(dash + 1)) {
		/* A request with a release part names that upstream version exactly. */
		return strlen(version) == version_len &&
		       strncmp(version, request, version_len) == 0 &&
		       prefix_at_boundary(release, dash + 1, strlen(dash + 1), ".");
	}
	/* "6.0-rc4": Fedora builds it as 6.0.0 with release 0.rc4.<...>. */
	rc_release = xasprintf("0.%s", dash + 1);
	rc_match = prefix_at_boundary(version, request, version_len, ".~^+") &&
		   prefix_at_boundary(release, rc_release, strlen(rc_release), ".");
	free(rc_release);
	return rc_match;
}

bool rpmver_matches(const char *epoch, const char *version, const char *release,
		    const char *request)
{
	const char *colon = strchr(request, ':');

	if (colon) {
		char *requested_epoch = xstrndup(request, (size_t)(colon - request));
		bool same = epoch_value(requested_epoch) == epoch_value(epoch);

		free(requested_epoch);
		if (!same)
			return false;
		request = colon + 1;
	}
	if (*request == '\0')
		return false;
	return matches_version_release(version, release, request);
}

bool rpmver_matches_string(const char *evr, const char *request)
{
	char *epoch, *version, *release;
	bool match;

	split_evr(evr, &epoch, &version, &release);
	match = rpmver_matches(epoch, version, release ? release : "", request);
	free(epoch);
	free(version);
	free(release);
	return match;
}
