/* Version directory names of the mainline kernel builds and their order.
 * A .0 release is named without its patch level (v6.1/, never v6.1.0/),
 * release candidates add -rcN (v6.2-rc3/), and some old directories carry
 * a suffix (v4.4.10-xenial/, v4.4-rc2+cod1/, v5.12-rc1-dontuse/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "mainline.h"

/* Larger numbers are no kernel version and could overflow. */
#define MAX_NUMBER 99999u

void mainline_version_release(struct mainline_version *v)
{
	free(v->text);
	memset(v, 0, sizeof(*v));
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Read a decimal number at *p into *value and advance *p. */
static bool read_number(const char **p, unsigned int *value)
{
	unsigned long n = 0;

	if (!is_digit(**p))
		return false;
	while (is_digit(**p)) {
		n = n * 10 + (unsigned long)(**p - '0');
		if (n > MAX_NUMBER)
			return false;
		(*p)++;
	}
	*value = (unsigned int)n;
	return true;
}

/* A legacy suffix: letters, digits, '.', '-' and '+', starting with a
 * letter or digit. */
static bool valid_extra(const char *extra)
{
	if (!is_alnum(*extra))
		return false;
	for (const char *p = extra; *p; p++)
		if (!is_alnum(*p) && !strchr(".-+", *p))
			return false;
	return true;
}

static bool parse_text(const char *text, struct mainline_version *v)
{
	const char *p = text;

	while (v->count < 4) {
		if (!read_number(&p, &v->numbers[v->count]))
			return false;
		v->count++;
		if (*p != '.')
			break;
		p++;
	}
	if (v->count < 2 || (*p != '\0' && *p != '-' && *p != '+'))
		return false;
	if (str_starts_with(p, "-rc") && is_digit(p[3])) {
		p += 3;
		if (!read_number(&p, &v->rc) || v->rc == 0)
			return false;
	}
	if (*p == '\0')
		return true;
	if ((*p != '-' && *p != '+') || !valid_extra(p + 1))
		return false;
	v->extra = p + 1;
	return true;
}

int mainline_version_parse(const char *name, struct mainline_version *v)
{
	size_t len;

	memset(v, 0, sizeof(*v));
	if (*name == 'v')
		name++;
	len = strlen(name);
	if (len > 0 && name[len - 1] == '/')
		len--;
	v->text = xstrndup(name, len);
	if (!parse_text(v->text, v)) {
		mainline_version_release(v);
		return -1;
	}
	return 0;
}

static int compare_unsigned(unsigned int a, unsigned int b)
{
	return a < b ? -1 : a > b;
}

int mainline_version_compare(const struct mainline_version *a,
			     const struct mainline_version *b)
{
	int c;

	for (size_t i = 0; i < 4; i++) {
		c = compare_unsigned(a->numbers[i], b->numbers[i]);
		if (c)
			return c;
	}
	/* A release (rc 0) comes after every rc of its version. */
	if (a->rc != b->rc) {
		if (a->rc == 0 || b->rc == 0)
			return a->rc == 0 ? 1 : -1;
		return compare_unsigned(a->rc, b->rc);
	}
	if (!a->extra || !b->extra)
		return a->extra ? -1 : (b->extra ? 1 : 0);
	return strcmp(a->extra, b->extra);
}

bool mainline_version_is_release(const struct mainline_version *v)
{
	return v->rc == 0 && !v->extra;
}

char *mainline_abi(const struct mainline_version *v)
{
	struct strbuf sb = STRBUF_INIT;

	/* %02u gives three digits from a patch level of 100 on: 0419285. */
	strbuf_addf(&sb, "%02u%02u%02u", v->numbers[0], v->numbers[1], v->numbers[2]);
	if (v->count == 4)
		strbuf_addf(&sb, "%02u", v->numbers[3]);
	if (v->rc)
		strbuf_addf(&sb, "rc%u", v->rc);
	return strbuf_detach(&sb, NULL);
}

char *mainline_kernel_release(const struct mainline_version *v, const char *flavour)
{
	char *abi = mainline_abi(v);
	char *release = xasprintf("%u.%u.%u-%s-%s", v->numbers[0], v->numbers[1],
				  v->numbers[2], abi, flavour);

	free(abi);
	return release;
}

/* Split "X.Y.Z-ABI[.TIMESTAMP]" into the upstream name and timestamp. */
static bool split_package_version(const char *text, char **upstream, char **timestamp)
{
	unsigned int n[3], rc = 0;
	const char *p = text;

	for (size_t i = 0; i < 3; i++)
		if (!read_number(&p, &n[i]) || *p++ != (i < 2 ? '.' : '-'))
			return false;
	while (is_digit(*p))
		p++;
	if (str_starts_with(p, "rc")) {
		p += 2;
		if (!read_number(&p, &rc))
			return false;
	}
	if (*p == '.') {
		const char *stamp = ++p;

		while (is_digit(*p))
			p++;
		if (p == stamp || *p != '\0')
			return false;
		*timestamp = xstrdup(stamp);
	} else if (*p != '\0') {
		return false;
	}

	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%u.%u", n[0], n[1]);
	if (n[2])
		strbuf_addf(&sb, ".%u", n[2]);
	if (rc)
		strbuf_addf(&sb, "-rc%u", rc);
	*upstream = strbuf_detach(&sb, NULL);
	return true;
}

int mainline_version_from_package(const char *text, struct mainline_version *v,
				  char **timestamp)
{
	char *upstream = NULL, *stamp = NULL, *abi = NULL;
	const char *dash = strchr(text, '-');
	int rc = -1;

	memset(v, 0, sizeof(*v));
	*timestamp = NULL;
	if (!dash || !split_package_version(text, &upstream, &stamp))
		goto out;
	if (mainline_version_parse(upstream, v))
		goto out;
	/* The ABI field must be the one this version's packages carry. */
	abi = mainline_abi(v);
	if (strncmp(dash + 1, abi, strlen(abi)) != 0 ||
	    (dash[1 + strlen(abi)] != '\0' && dash[1 + strlen(abi)] != '.')) {
		mainline_version_release(v);
		goto out;
	}
	*timestamp = stamp;
	stamp = NULL;
	rc = 0;
out:
	free(abi);
	free(stamp);
	free(upstream);
	return rc;
}

/* Index of the newest release (or, with rc, release or rc) whose name
 * continues prefix, or -1. */
static long find_prefix(const struct mainline_version *versions, size_t count,
			const char *prefix, bool rc)
{
	for (size_t i = 0; i < count; i++) {
		const struct mainline_version *v = &versions[i];

		if (v->extra || (v->rc && !rc))
			continue;
		if (version_matches_prefix(v->text, prefix))
			return (long)i;
	}
	return -1;
}

static long find_equal(const struct mainline_version *versions, size_t count,
		       const struct mainline_version *wanted)
{
	for (size_t i = 0; i < count; i++)
		if (mainline_version_compare(&versions[i], wanted) == 0)
			return (long)i;
	return -1;
}

long mainline_version_find(const struct mainline_version *versions, size_t count,
			   const char *request, char **timestamp)
{
	struct mainline_version wanted;
	const char *name = request[0] == 'v' ? request + 1 : request;
	long found = -1;

	*timestamp = NULL;
	if (strcmp(request, "latest") == 0) {
		for (size_t i = 0; i < count; i++)
			if (mainline_version_is_release(&versions[i]))
				return (long)i;
		return -1;
	}
	/* A package version first: "6.1.5-060105" also parses as a legacy
	 * directory name with the suffix "060105". */
	if (mainline_version_from_package(name, &wanted, timestamp) == 0) {
		found = find_equal(versions, count, &wanted);
		mainline_version_release(&wanted);
		if (found < 0) {
			free(*timestamp);
			*timestamp = NULL;
		}
		return found;
	}
	if (mainline_version_parse(name, &wanted) == 0) {
		found = find_equal(versions, count, &wanted);
		mainline_version_release(&wanted);
		if (found >= 0)
			return found;
	}
	if (str_ends_with(name, ".x")) {
		char *series = xstrndup(name, strlen(name) - 2);

		found = find_prefix(versions, count, series, false);
		free(series);
		return found;
	}
	return find_prefix(versions, count, name, strstr(name, "-rc") != NULL);
}
