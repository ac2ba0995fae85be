/* Option parsing and message output for every subcommand. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"
#include "fetch.h"

enum {
	OPT_RELEASE = 256, OPT_FLAVOUR, OPT_ARCH, OPT_MIRROR, OPT_SECURITY_MIRROR,
	OPT_REPO, OPT_NO_HEADERS, OPT_NO_EXTRA_MODULES, OPT_CACHE, OPT_JSON,
	OPT_KEYRING, OPT_REQUIRE_SIGNATURES, OPT_KOJI, OPT_PUSH, OPT_COMPRESSION,
	OPT_INSECURE_REGISTRY,
};

static const struct option long_options[] = {
	{ "release", required_argument, NULL, OPT_RELEASE },
	{ "flavour", required_argument, NULL, OPT_FLAVOUR },
	{ "flavor", required_argument, NULL, OPT_FLAVOUR },
	{ "arch", required_argument, NULL, OPT_ARCH },
	{ "mirror", required_argument, NULL, OPT_MIRROR },
	{ "security-mirror", required_argument, NULL, OPT_SECURITY_MIRROR },
	{ "output", required_argument, NULL, 'o' },
	{ "repo", required_argument, NULL, OPT_REPO },
	{ "no-headers", no_argument, NULL, OPT_NO_HEADERS },
	{ "no-extra-modules", no_argument, NULL, OPT_NO_EXTRA_MODULES },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "jobs", required_argument, NULL, 'j' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "keyring", required_argument, NULL, OPT_KEYRING },
	{ "require-signatures", no_argument, NULL, OPT_REQUIRE_SIGNATURES },
	{ "koji", no_argument, NULL, OPT_KOJI },
	{ "push", required_argument, NULL, OPT_PUSH },
	{ "compression", required_argument, NULL, OPT_COMPRESSION },
	{ "insecure-registry", no_argument, NULL, OPT_INSECURE_REGISTRY },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("repack: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Accept the kernel's names for architectures as well as the OCI ones. */
static const char *normalise_arch(const char *arch)
{
	if (strcmp(arch, "amd64") == 0 || strcmp(arch, "x86_64") == 0)
		return "amd64";
	if (strcmp(arch, "arm64") == 0 || strcmp(arch, "aarch64") == 0)
		return "arm64";
	return NULL;
}

/* Parse "amd64,arm64" into opts->arches; the first also goes to
 * backend.arch. */
static int parse_arches(const char *text, struct cli_options *opts)
{
	char *copy = xstrdup(text), *save = NULL;
	int rc = 0;

	strlist_release(&opts->arches);
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		const char *arch = normalise_arch(name);

		if (!arch) {
			cli_error("unknown architecture '%s' in --arch '%s' (use amd64, "
				  "arm64 or both as amd64,arm64)", name, text);
			rc = REPACK_EUSAGE;
			break;
		}
		if (strlist_contains(&opts->arches, arch)) {
			cli_error("--arch '%s' names %s twice", text, arch);
			rc = REPACK_EUSAGE;
			break;
		}
		strlist_push(&opts->arches, arch);
	}
	if (rc == 0 && opts->arches.count == 0) {
		cli_error("--arch '%s' names no architecture (use amd64 or arm64)", text);
		rc = REPACK_EUSAGE;
	}
	opts->backend.arch = rc == 0 ? normalise_arch(opts->arches.items[0]) : NULL;
	free(copy);
	return rc;
}

static int parse_compression(const char *text, struct cli_options *opts)
{
	if (image_compression_parse(text, &opts->compression))
		return 0;
	cli_error("unknown --compression '%s' (use gzip or zstd)", text);
	return REPACK_EUSAGE;
}

static int parse_jobs(const char *text, int *jobs)
{
	char *end;
	long n = strtol(text, &end, 10);

	if (*end || n < 1 || n > 64) {
		cli_error("-j takes a number of parallel downloads from 1 to 64, not '%s'", text);
		return REPACK_EUSAGE;
	}
	*jobs = (int)n;
	return 0;
}

/* A repository URL must parse and use http, https or file. */
static int check_url(const char *option, const char *url)
{
	CURLU *handle = curl_url();
	char *scheme = NULL;
	bool ok = curl_url_set(handle, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  curl_url_get(handle, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		  (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0 ||
		   strcmp(scheme, "file") == 0);

	curl_free(scheme);
	curl_url_cleanup(handle);
	if (ok)
		return 0;
	cli_error("%s '%s' is not a valid http://, https:// or file:// URL", option, url);
	return REPACK_EUSAGE;
}

static int check_keyring(const char *path)
{
	if (access(path, R_OK) == 0)
		return 0;
	cli_error("--keyring '%s' cannot be read: %s", path, strerror(errno));
	return REPACK_EUSAGE;
}

/* One path component of an image name: lowercase letters and digits,
 * joined by '.', '_', '__' or runs of '-' (OCI distribution spec). */
static bool valid_name_component(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t run = 0;

		while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))) {
			i++;
			run++;
		}
		if (run == 0)
			return false;
		if (i == n)
			return true;
		if (s[i] == '.' || (s[i] == '_' && !(i + 1 < n && s[i + 1] == '_')))
			i++;
		else if (s[i] == '_')
			i += 2;
		else if (s[i] == '-')
			while (i < n && s[i] == '-')
				i++;
		else
			return false;
		if (i == n)
			return false;
	}
	return n > 0;
}

/* An image name as --repo takes it: [REGISTRY/]PATH, where REGISTRY has
 * a '.' or ':' or is localhost. */
static int check_repo(const char *name)
{
	const char *p = name, *slash = strchr(name, '/');
	bool ok = *name != '\0';

	if (slash && (memchr(name, '.', (size_t)(slash - name)) ||
		      memchr(name, ':', (size_t)(slash - name)) ||
		      ((size_t)(slash - name) == 9 && strncmp(name, "localhost", 9) == 0)))
		p = slash + 1;
	while (ok && *p) {
		const char *end = strchrnul(p, '/');

		ok = valid_name_component(p, (size_t)(end - p));
		p = *end ? end + 1 : end;
		if (*end && !*p)
			ok = false;
	}
	if (ok)
		return 0;
	cli_error("--repo '%s' is not a valid image name (lowercase letters, digits and "
		  "'.', '_', '-' between them, path parts joined by '/', no tag)", name);
	return REPACK_EUSAGE;
}

/* Apply one parsed option; returns 0, REPACK_EUSAGE, or 1 for --help. */
static int apply_option(int c, const char *arg, const char *usage,
			struct cli_options *opts)
{
	struct backend_options *b = &opts->backend;

	switch (c) {
	case OPT_RELEASE: b->release = arg; return 0;
	case OPT_FLAVOUR: b->flavour = arg; return 0;
	case OPT_ARCH: return parse_arches(arg, opts);
	case OPT_MIRROR: b->mirror = arg; return check_url("--mirror", arg);
	case OPT_SECURITY_MIRROR:
		b->security_mirror = arg;
		return check_url("--security-mirror", arg);
	case 'o': opts->output = arg; return 0;
	case OPT_REPO: opts->repo = arg; return check_repo(arg);
	case OPT_NO_HEADERS: b->no_headers = true; return 0;
	case OPT_NO_EXTRA_MODULES: b->no_extra_modules = true; return 0;
	case OPT_CACHE: opts->cache = arg; return 0;
	case 'j': return parse_jobs(arg, &opts->jobs);
	case OPT_JSON: opts->json = true; return 0;
	case OPT_KEYRING: b->keyring = arg; return check_keyring(arg);
	case OPT_REQUIRE_SIGNATURES: b->require_signatures = true; return 0;
	case OPT_KOJI: b->koji = true; return 0;
	case OPT_PUSH: opts->push = arg; return 0;
	case OPT_COMPRESSION: return parse_compression(arg, opts);
	case OPT_INSECURE_REGISTRY: opts->insecure_registry = true; return 0;
	case 'q': opts->verbosity = 0; return 0;
	case 'v': opts->verbosity = 2; return 0;
	case 'h': fputs(usage, stdout); return 1;
	default:
		return REPACK_EUSAGE;
	}
}

/* Report what getopt rejected: an unknown option or a missing value. */
static void report_bad_option(int c, char **argv, const char *usage)
{
	const char *word = argv[optind - 1];
	size_t n = strcspn(usage, "\n");
	char option[3] = { '-', (char)optopt, '\0' };

	if (optopt)
		word = option;
	if (c == ':')
		cli_error("option '%s' needs a value", word);
	else
		cli_error("unknown option '%s'", word);
	fprintf(stderr, "%.*s\n", (int)(n > INT_MAX ? INT_MAX : n), usage);
}

int cli_parse_options(int argc, char **argv, const char *usage,
		      struct cli_options *opts)
{
	int c, rc;

	memset(opts, 0, sizeof(*opts));
	opts->verbosity = 1;
	optind = 1;
	opterr = 0;
	/* "+" stops getopt at each operand; options may follow operands, so
	 * collect the operand and go on. */
	while (optind < argc) {
		int before = optind;

		optopt = 0;
		c = getopt_long(argc, argv, "+:o:j:qvh", long_options, NULL);
		if (c == -1) {
			if (optind > before && strcmp(argv[optind - 1], "--") == 0)
				break;
			strlist_push(&opts->args, argv[optind++]);
			continue;
		}
		if (c == '?' || c == ':') {
			report_bad_option(c, argv, usage);
			return REPACK_EUSAGE;
		}
		rc = apply_option(c, optarg, usage, opts);
		if (rc)
			return rc;
	}
	while (optind < argc)
		strlist_push(&opts->args, argv[optind++]);
	return 0;
}

void cli_options_release(struct cli_options *opts)
{
	strlist_release(&opts->args);
	strlist_release(&opts->arches);
}

const struct backend *cli_backend(const char *name)
{
	const struct backend *backend = backend_find(name);

	if (!backend) {
		fprintf(stderr, "repack: error: unknown distribution '%s'; known:", name);
		for (size_t i = 0; backends[i]; i++)
			fprintf(stderr, " %s", backends[i]->name);
		fputc('\n', stderr);
	}
	return backend;
}
