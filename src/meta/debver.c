/* Debian version ordering through libdpkg. */
#include <string.h>

#include <dpkg/dpkg-db.h>
#include <dpkg/version.h>

#include "meta.h"

/* parseversion allocates from libdpkg's own pool, which lives until
 * the process exits. */
static bool parse(const char *text, struct dpkg_version *version)
{
	struct dpkg_error err = DPKG_ERROR_INIT;
	bool ok = parseversion(version, text, &err) == 0;

	dpkg_error_destroy(&err);
	return ok;
}

bool debver_valid(const char *version)
{
	struct dpkg_version v;

	return *version && parse(version, &v);
}

int debver_compare(const char *a, const char *b)
{
	struct dpkg_version va, vb;
	bool ok_a = parse(a, &va), ok_b = parse(b, &vb);

	if (!ok_a || !ok_b)
		return (int)ok_a - (int)ok_b;
	return dpkg_version_compare(&va, &vb);
}

bool debver_satisfies(const char *version, const char *op, const char *wanted)
{
	int c = debver_compare(version, wanted);

	if (strcmp(op, "=") == 0)
		return c == 0;
	if (strcmp(op, ">=") == 0)
		return c >= 0;
	if (strcmp(op, "<=") == 0)
		return c <= 0;
	if (strcmp(op, ">>") == 0 || strcmp(op, ">") == 0)
		return c > 0;
	if (strcmp(op, "<<") == 0 || strcmp(op, "<") == 0)
		return c < 0;
	return false;
}
