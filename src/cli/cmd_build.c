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
	"VERSION is 'latest', an upstream version (6.1, 6.1.140), a package version\n"
	"(6.1.140-1) or, for Debian, an ABI (6.1.0-37).\n"
	"\n"
	"options:\n"
	"  --release R            suite or release (bookworm, bookworm-security)\n"
	"  --flavour F            kernel flavour (Debian: amd64, cloud, rt)\n"
	"  --arch A               amd64 or arm64 (x86_64 and aarch64 accepted)\n"
	"  --mirror URL           repository base URL\n"
	"  --security-mirror URL  Debian security archive base URL\n"
	"  -o, --output DEST      oci:DIR (default oci:images) or dir:DIR\n"
	"  --repo NAME            image name (default linuxkit/kernel-DISTRO)\n"
	"  --no-headers           leave out kernel-dev.tar\n"
	"  --keyring FILE         OpenPGP keyring that signs the repository\n"
	"  --require-signatures   fail when metadata cannot be verified\n"
	"  --cache DIR            package cache (default $XDG_CACHE_HOME/repack)\n"
	"  -j, --jobs N           parallel downloads (default 4)\n"
	"  --json                 print the result as JSON\n"
	"  -q, --quiet            print only warnings and errors\n"
	"  -v, --verbose          print debugging messages\n";

static void print_result(const struct build_result *result, bool json)
{
	const struct kernel_entry *k = &result->kernel.kernel;

	if (!json) {
		printf("%s sha256:%s\n", result->reference, result->manifest_digest);
		return;
	}
	json_t *tags = json_array();
	for (size_t i = 0; i < result->tags.count; i++)
		json_array_append_new(tags, json_string(result->tags.items[i]));
	json_t *root = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:s}",
				 "reference", result->reference,
				 "digest", "", "tags", tags,
				 "version", k->version, "kernel_release", k->kernel_release,
				 "release", k->release, "arch", k->arch);
	char *digest = xasprintf("sha256:%s", result->manifest_digest);
	json_object_set_new(root, "digest", json_string(digest));
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	puts(text);
	free(text);
	free(digest);
	json_decref(root);
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
	rc = output_parse(&ctx, opts.output ? opts.output : "oci:images", &output);
	if (rc)
		goto out;
	request.opts = opts.backend;
	request.version = opts.args.items[1];
	request.output = &output;
	request.repo_name = opts.repo;
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
