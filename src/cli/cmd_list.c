/* repack list DISTRO: the kernels a distribution's repositories offer. */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli.h"

static const char list_usage[] =
	"usage: repack list DISTRO [--release R] [--flavour F] [--arch A] [--mirror URL] [--json]\n"
	"\n"
	"Lists the kernels the repositories offer, newest first: version, tag,\n"
	"kernel release and the suite or release that carries it.\n";

static void print_json(const struct kernel_list *list)
{
	json_t *array = json_array();

	for (size_t i = 0; i < list->count; i++) {
		const struct kernel_entry *k = &list->items[i];

		json_array_append_new(array, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
						       "version", k->version, "tag", k->tag,
						       "kernel_release", k->kernel_release,
						       "release", k->release, "flavour", k->flavour,
						       "arch", k->arch));
	}
	char *text = json_dumps(array, JSON_INDENT(2));
	puts(text);
	free(text);
	json_decref(array);
}

static void print_table(const struct kernel_list *list)
{
	printf("%-24s %-28s %-32s %s\n", "VERSION", "TAG", "KERNEL RELEASE", "RELEASE");
	for (size_t i = 0; i < list->count; i++) {
		const struct kernel_entry *k = &list->items[i];

		printf("%-24s %-28s %-32s %s\n", k->version, k->tag, k->kernel_release, k->release);
	}
}

int cmd_list(int argc, char **argv)
{
	struct cli_options opts;
	struct repack_ctx ctx;
	struct kernel_list list = { 0 };
	const struct backend *backend;
	int rc = cli_parse_options(argc, argv, list_usage, &opts);

	if (rc) {
		cli_options_release(&opts);
		return rc == 1 ? 0 : 2;
	}
	if (opts.args.count != 1) {
		cli_error("list takes one distribution, e.g. 'repack list debian'");
		cli_options_release(&opts);
		return 2;
	}
	backend = cli_backend(opts.args.items[0]);
	if (!backend) {
		cli_options_release(&opts);
		return 2;
	}
	cli_setup_context(&ctx, &opts);
	rc = cli_prepare_cache(&ctx);
	if (rc == 0)
		rc = backend->list(&ctx, &opts.backend, &list);
	if (rc == 0 && opts.json)
		print_json(&list);
	else if (rc == 0)
		print_table(&list);
	rc = cli_report(&ctx, rc);
	kernel_list_release(&list);
	repack_ctx_release(&ctx);
	cli_options_release(&opts);
	return rc;
}
