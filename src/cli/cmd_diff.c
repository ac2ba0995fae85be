/* repack diff IMAGE IMAGE: the kernel_config options and modules that
 * differ between two images. */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "boot.h"
#include "cli.h"

static const char diff_usage[] =
	"usage: repack diff IMAGE IMAGE [--arch A] [--json] [--cache DIR]\n"
	"\n"
	"Compares the kernels of two images: the kernel_config options added,\n"
	"removed and changed from the first image to the second, and the modules\n"
	"(by name, whatever their compression) only one kernel.tar holds.\n"
	"IMAGE is oci:DIR[:TAG], oci:DIR@sha256:HEX, oci-archive:FILE[:TAG],\n"
	"docker-archive:FILE, docker://HOST/REPO:TAG or dir:DIR.\n"
	"\n"
	"Lines start with '+' (only in the second image), '-' (only in the first)\n"
	"or '~' (changed). The value n stands for '# CONFIG_X is not set'.\n";

static void print_text(const char *old_spec, const char *new_spec,
		       const struct kernel_diff *d)
{
	size_t added = 0, removed = 0, changed = 0;

	printf("--- %s\n+++ %s\n", old_spec, new_spec);
	for (size_t i = 0; i < d->config.count; i++) {
		const struct kconfig_change *ch = &d->config.items[i];

		if (!ch->old_value) {
			printf("+ %s=%s\n", ch->name, ch->new_value);
			added++;
		} else if (!ch->new_value) {
			printf("- %s=%s\n", ch->name, ch->old_value);
			removed++;
		} else {
			printf("~ %s=%s -> %s\n", ch->name, ch->old_value, ch->new_value);
			changed++;
		}
	}
	for (size_t i = 0; i < d->only_old.count; i++)
		printf("- module %s\n", d->only_old.items[i]);
	for (size_t i = 0; i < d->only_new.count; i++)
		printf("+ module %s\n", d->only_new.items[i]);
	printf("options: %zu added, %zu removed, %zu changed; modules: %zu only in the "
	       "first (of %zu), %zu only in the second (of %zu)\n", added, removed, changed,
	       d->only_old.count, d->old_modules, d->only_new.count, d->new_modules);
}

static json_t *string_array(const struct strlist *list)
{
	json_t *array = json_array();

	for (size_t i = 0; i < list->count; i++)
		json_array_append_new(array, json_string(list->items[i]));
	return array;
}

static void print_json(const char *old_spec, const char *new_spec,
		       const struct kernel_diff *d)
{
	json_t *added = json_object(), *removed = json_object(), *changed = json_object();
	json_t *root;
	char *text;

	for (size_t i = 0; i < d->config.count; i++) {
		const struct kconfig_change *ch = &d->config.items[i];

		if (!ch->old_value)
			json_object_set_new(added, ch->name, json_string(ch->new_value));
		else if (!ch->new_value)
			json_object_set_new(removed, ch->name, json_string(ch->old_value));
		else
			json_object_set_new(changed, ch->name, json_pack("{s:s, s:s}",
				"old", ch->old_value, "new", ch->new_value));
	}
	root = json_pack("{s:s, s:s, s:{s:o, s:o, s:o}, s:{s:o, s:o, s:I, s:I}}",
			 "old", old_spec, "new", new_spec,
			 "config", "added", added, "removed", removed, "changed", changed,
			 "modules", "only_old", string_array(&d->only_old),
			 "only_new", string_array(&d->only_new),
			 "old_count", (json_int_t)d->old_modules,
			 "new_count", (json_int_t)d->new_modules);
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	puts(text);
	free(text);
	json_decref(root);
}

int cmd_diff(int argc, char **argv)
{
	struct cli_options opts;
	struct repack_ctx ctx;
	struct kernel_diff diff;
	int rc = cli_parse_options(argc, argv, diff_usage, &opts);

	if (rc) {
		cli_options_release(&opts);
		return rc == 1 ? 0 : 2;
	}
	if (opts.args.count != 2) {
		cli_error("diff takes two images, e.g. 'repack diff oci:images:6.1.192-3 "
			  "oci:images:6.1.199-1'");
		cli_options_release(&opts);
		return 2;
	}
	cli_setup_context(&ctx, &opts);
	rc = kernel_diff_images(&ctx, opts.args.items[0], opts.args.items[1],
				opts.backend.arch, &diff);
	if (rc == 0 && opts.json)
		print_json(opts.args.items[0], opts.args.items[1], &diff);
	else if (rc == 0)
		print_text(opts.args.items[0], opts.args.items[1], &diff);
	rc = cli_report(&ctx, rc);
	kernel_diff_release(&diff);
	repack_ctx_release(&ctx);
	cli_options_release(&opts);
	return rc;
}
