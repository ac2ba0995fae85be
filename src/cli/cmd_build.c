/* repack build DISTRO VERSION: build one kernel image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "build.h"
#include "cli.h"

static const char build_usage[] =
	"usage: repack [build] DISTRO VERSION [options]\n"
	"\n"
	"DISTRO is debian, ubuntu, mainline, fedora or centos. VERSION is 'latest',\n"
	"an upstream version (6.1, 6.1.140) or a full package version (6.1.140-1,\n"
	"5.15.0-91.101, 5.3.7-301.fc31); Debian and Ubuntu also take an ABI\n"
	"(6.1.0-37, 5.15.0-91).\n"
	"\n"
	"options:\n"
	"  --release R            suite or release (bookworm, bookworm-security)\n"
	"  --flavour F            kernel flavour (Debian: amd64, cloud, rt; Ubuntu and\n"
	"                         mainline: generic, lowlatency, ...; Fedora: default)\n"
	"  --arch A[,B]           amd64, arm64 (x86_64 and aarch64 accepted), or\n"
	"                         amd64,arm64 for one image index of both\n"
	"  --mirror URL           repository base URL\n"
	"  --security-mirror URL  Debian security archive base URL\n"
	"  -o, --output DEST      oci:DIR (default oci:images, none with --push),\n"
	"                         oci-archive:FILE, docker-archive:FILE or dir:DIR\n"
	"  --push REGISTRY/REPO   push the image and its tags to a registry\n"
	"  --insecure-registry    allow plain HTTP to the --push registry\n"
	"  --compression C        layer compression: gzip (default) or zstd\n"
	"  --repo NAME            image name (default linuxkit/kernel-DISTRO)\n"
	"  --no-headers           leave out kernel-dev.tar\n"
	"  --no-extra-modules     Ubuntu, Fedora, CentOS: leave out the extra modules\n"
	"  --koji                 Fedora: look builds up in Koji too\n"
	"  --keyring FILE         OpenPGP keyring that signs the repository\n"
	"  --require-signatures   fail when metadata cannot be verified\n"
	"  --cache DIR            package cache (default $XDG_CACHE_HOME/repack)\n"
	"  -j, --jobs N           parallel downloads (default 4)\n"
	"  --json                 print the result as JSON\n"
	"  -q, --quiet            print only warnings and errors\n"
	"  -v, --verbose          print debugging messages\n";

static json_t *string_array(const struct strlist *list)
{
	json_t *array = json_array();

	for (size_t i = 0; i < list->count; i++)
		json_array_append_new(array, json_string(list->items[i]));
	return array;
}

static void print_json(const struct build_result *result)
{
	const struct kernel_entry *k = &result->kernel.kernel;
	const struct registry_push_stats *stats = &result->push_stats;
	char *digest = xasprintf("sha256:%s", result->manifest_digest);
	json_t *root = json_pack("{s:s?, s:s, s:o, s:s, s:s, s:s, s:s, s:o}",
				 "reference", result->reference, "digest", digest,
				 "tags", string_array(&result->tags),
				 "version", k->version, "kernel_release", k->kernel_release,
				 "release", k->release, "arch", k->arch,
				 "arches", string_array(&result->arches));
	char *text;

	if (result->pushed)
		json_object_set_new(root, "pushed",
				    json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:b}",
					      "reference", result->pushed,
					      "blobs_uploaded", (json_int_t)stats->blobs_uploaded,
					      "blobs_mounted", (json_int_t)stats->blobs_mounted,
					      "blobs_present", (json_int_t)stats->blobs_present,
					      "bytes_uploaded", (json_int_t)stats->bytes_uploaded,
					      "tags_updated", (json_int_t)stats->tags_updated,
					      "changed", stats->blobs_uploaded || stats->blobs_mounted ||
							 stats->tags_updated));
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	puts(text);
	free(text);
	free(digest);
	json_decref(root);
}

/* One line per destination: "NAME:TAG sha256:DIGEST". */
static void print_result(const struct build_result *result, bool json)
{
	if (json) {
		print_json(result);
		return;
	}
	if (result->reference)
		printf("%s sha256:%s\n", result->reference, result->manifest_digest);
	if (result->pushed)
		printf("%s sha256:%s\n", result->pushed, result->manifest_digest);
}

int cmd_build(int argc, char **argv)
{
	struct cli_options opts;
	struct repack_ctx ctx;
	struct output output = { 0 };
	struct build_result result = { 0 };
	struct build_request request;
	int rc = cli_parse_options(argc, argv, build_usage, &opts);

	if (rc) {
		cli_options_release(&opts);
		return rc == 1 ? 0 : 2;
	}
	if (opts.args.count != 2) {
		cli_error("build takes a distribution and a version, e.g. 'repack debian latest'");
		cli_options_release(&opts);
		return 2;
	}
	cli_setup_context(&ctx, &opts);
	memset(&request, 0, sizeof(request));
	request.backend = cli_backend(opts.args.items[0]);
	if (!request.backend) {
		rc = REPACK_EUSAGE;
		goto out;
	}
	if (!*opts.args.items[1]) {
		rc = repack_fail(&ctx, REPACK_EUSAGE,
				 "the version is empty: give 'latest', an upstream version or a package version");
		goto out;
	}
	/* Bad settings fail here, before anything is downloaded. */
	bool epoch_set;
	time_t epoch;
	rc = repack_source_date_epoch(&ctx, &epoch_set, &epoch);
	if (rc == 0)
		rc = cli_prepare_cache(&ctx);
	if (rc)
		goto out;
	/* With --push and no -o, nothing is written locally. */
	if (opts.output || !opts.push) {
		rc = output_parse(&ctx, opts.output ? opts.output : "oci:images", &output);
		if (rc)
			goto out;
		request.output = &output;
	}
	request.opts = opts.backend;
	request.version = opts.args.items[1];
	request.repo_name = opts.repo;
	request.arches = (const char *const *)opts.arches.items;
	request.arch_count = opts.arches.count;
	request.compression = opts.compression;
	request.push = opts.push;
	request.insecure_registry = opts.insecure_registry;
	rc = repack_build(&ctx, &request, &result);
	if (rc == 0)
		print_result(&result, opts.json);
out:
	rc = request.backend || rc != REPACK_EUSAGE ? cli_report(&ctx, rc) : 2;
	build_result_release(&result);
	output_release(&output);
	repack_ctx_release(&ctx);
	cli_options_release(&opts);
	return rc;
}
