/* Option parsing and message output for every subcommand. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Apply one parsed option; returns 0, REPACK_EUSAGE, or 1 for --help. */
static int apply_option(int c, const char *arg, const char *usage,
			struct cli_options *opts)
{
	struct backend_options *b = &opts->backend;

	switch (c) {
	case OPT_RELEASE: b->release = arg; return 0;
	case OPT_FLAVOUR: b->flavour = arg; return 0;
	case OPT_ARCH: return parse_arches(arg, opts);
	case OPT_MIRROR: b->mirror = arg; return 0;
	case OPT_SECURITY_MIRROR: b->security_mirror = arg; return 0;
	case 'o': opts->output = arg; return 0;
	case OPT_REPO: opts->repo = arg; return 0;
	case OPT_NO_HEADERS: b->no_headers = true; return 0;
	case OPT_NO_EXTRA_MODULES: b->no_extra_modules = true; return 0;
	case OPT_CACHE: opts->cache = arg; return 0;
	case 'j': return parse_jobs(arg, &opts->jobs);
	case OPT_JSON: opts->json = true; return 0;
	case OPT_KEYRING: b->keyring = arg; return 0;
	case OPT_REQUIRE_SIGNATURES: b->require_signatures = true; return 0;
	case OPT_KOJI: b->koji = true; return 0;
	case OPT_PUSH: opts->push = arg; return 0;
	case OPT_COMPRESSION: return parse_compression(arg, opts);
	case OPT_INSECURE_REGISTRY: opts->insecure_registry = true; return 0;
	case 'q': opts->verbosity = 0; return 0;
	case 'v': opts->verbosity = 2; return 0;
	case 'h': fputs(usage, stdout); return 1;
	default:
		fprintf(stderr, "%s", usage);
		return REPACK_EUSAGE;
	}
}

int cli_parse_options(int argc, char **argv, const char *usage,
		      struct cli_options *opts)
{
	int c, rc;

	memset(opts, 0, sizeof(*opts));
	opts->verbosity = 1;
	optind = 1;
	opterr = 1;
	/* "+" stops getopt at each operand; options may follow operands, so
	 * collect the operand and go on. */
	while (optind < argc) {
		int before = optind;

		c = getopt_long(argc, argv, "+o:j:qvh", long_options, NULL);
		if (c == -1) {
			if (optind > before && strcmp(argv[optind - 1], "--") == 0)
				break;
			strlist_push(&opts->args, argv[optind++]);
			continue;
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
