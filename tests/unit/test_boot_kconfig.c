/* Unit tests for kernel .config parsing and diffing, and for module names
 * taken from paths in a modules tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot.h"

static void parse_text(const char *text, struct kconfig *cfg)
{
	struct repack_ctx ctx;

	repack_ctx_init(&ctx);
	assert_int_equal(kconfig_parse(&ctx, "test", text, strlen(text), cfg), 0);
	repack_ctx_release(&ctx);
}

struct value_case {
	const char *line;
	const char *name;   /* NULL when the line is not an option */
	const char *value;
};

static const struct value_case value_cases[] = {
	{ "CONFIG_VIRTIO_NET=m", "CONFIG_VIRTIO_NET", "m" },
	{ "CONFIG_64BIT=y", "CONFIG_64BIT", "y" },
	{ "CONFIG_NR_CPUS=8192", "CONFIG_NR_CPUS", "8192" },
	{ "CONFIG_PHYSICAL_START=0x1000000", "CONFIG_PHYSICAL_START", "0x1000000" },
	{ "CONFIG_LOCALVERSION=\"\"", "CONFIG_LOCALVERSION", "\"\"" },
	{ "CONFIG_CC_VERSION_TEXT=\"gcc-12 (Debian 12.2.0-14) 12.2.0\"", "CONFIG_CC_VERSION_TEXT",
	  "\"gcc-12 (Debian 12.2.0-14) 12.2.0\"" },
	{ "# CONFIG_DEBUG_INFO_BTF is not set", "CONFIG_DEBUG_INFO_BTF", "n" },
	{ "CONFIG_X86_X32_ABI=y\r", "CONFIG_X86_X32_ABI", "y" },
	{ "CONFIG_EMPTY=", "CONFIG_EMPTY", "" },
	{ "# CONFIG_X is not set, really", NULL, NULL },
	{ "#CONFIG_Y is not set", NULL, NULL },
	{ "# Automatically generated file; DO NOT EDIT.", NULL, NULL },
	{ "CONFIG_NOVALUE", NULL, NULL },
	{ "CONFIG_=y", NULL, NULL },
	{ "OTHER_OPTION=y", NULL, NULL },
	{ " CONFIG_INDENTED=y", NULL, NULL },
	{ "", NULL, NULL },
};

static void option_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
		const struct value_case *c = &value_cases[i];
		char *text = xasprintf("CONFIG_ANCHOR=y\n%s\n", c->line);
		struct kconfig cfg;

		print_message("line: %s\n", c->line);
		parse_text(text, &cfg);
		assert_int_equal(cfg.count, c->name ? 2 : 1);
		if (c->name)
			assert_string_equal(kconfig_get(&cfg, c->name), c->value);
		kconfig_release(&cfg);
		free(text);
	}
}

static void last_line_wins(void **state)
{
	struct kconfig cfg;

	(void)state;
	parse_text("CONFIG_A=y\nCONFIG_B=m\nCONFIG_A=m\n# CONFIG_B is not set\nCONFIG_C=y", &cfg);
	assert_int_equal(cfg.count, 3);
	assert_string_equal(kconfig_get(&cfg, "CONFIG_A"), "m");
	assert_string_equal(kconfig_get(&cfg, "CONFIG_B"), "n");
	assert_string_equal(kconfig_get(&cfg, "CONFIG_C"), "y");
	assert_null(kconfig_get(&cfg, "CONFIG_D"));
	/* Sorted by name. */
	assert_string_equal(cfg.items[0].name, "CONFIG_A");
	assert_string_equal(cfg.items[2].name, "CONFIG_C");
	kconfig_release(&cfg);
}

static void not_a_config(void **state)
{
	static const char binary[] = "\x7f" "ELF\x02\x01\x01\0\0\0garbage\n";
	struct repack_ctx ctx;
	struct kconfig cfg;

	(void)state;
	repack_ctx_init(&ctx);
	assert_int_equal(kconfig_parse(&ctx, "/x/kernel_config", binary, sizeof(binary) - 1, &cfg),
			 REPACK_EFORMAT);
	assert_non_null(strstr(ctx.error, "/x/kernel_config"));
	assert_int_equal(kconfig_parse(&ctx, "empty", "", 0, &cfg), REPACK_EFORMAT);
	assert_int_equal(kconfig_parse(&ctx, "comments", "#\n# CONFIG_X is set\n", 20, &cfg),
			 REPACK_EFORMAT);
	repack_ctx_release(&ctx);
}

/* The expected changes as "+NAME=V", "-NAME=V" or "~NAME=OLD>NEW". */
static char *describe(const struct kconfig_diff *d)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < d->count; i++) {
		const struct kconfig_change *c = &d->items[i];

		if (i)
			strbuf_addstr(&sb, " ");
		if (!c->old_value)
			strbuf_addf(&sb, "+%s=%s", c->name, c->new_value);
		else if (!c->new_value)
			strbuf_addf(&sb, "-%s=%s", c->name, c->old_value);
		else
			strbuf_addf(&sb, "~%s=%s>%s", c->name, c->old_value, c->new_value);
	}
	return strbuf_detach(&sb, NULL);
}

struct diff_case {
	const char *old_text;
	const char *new_text;
	const char *expected;
};

static const struct diff_case diff_cases[] = {
	{ "CONFIG_A=y\n", "CONFIG_A=y\n", "" },
	{ "CONFIG_A=y\n", "CONFIG_A=y\nCONFIG_B=m\n", "+CONFIG_B=m" },
	{ "CONFIG_A=y\nCONFIG_B=m\n", "CONFIG_A=y\n", "-CONFIG_B=m" },
	{ "CONFIG_A=m\n", "CONFIG_A=y\n", "~CONFIG_A=m>y" },
	{ "CONFIG_A=y\n", "# CONFIG_A is not set\n", "~CONFIG_A=y>n" },
	{ "CONFIG_S=\"a b\"\n", "CONFIG_S=\"a\"\n", "~CONFIG_S=\"a b\">\"a\"" },
	{ "CONFIG_B=y\nCONFIG_D=y\nCONFIG_F=1\n", "CONFIG_A=y\nCONFIG_D=m\nCONFIG_G=2\n",
	  "+CONFIG_A=y -CONFIG_B=y ~CONFIG_D=y>m -CONFIG_F=1 +CONFIG_G=2" },
	{ "# CONFIG_A is not set\n", "CONFIG_Z=y\n", "-CONFIG_A=n +CONFIG_Z=y" },
};

static void diff_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(diff_cases) / sizeof(diff_cases[0]); i++) {
		struct kconfig a, b;
		struct kconfig_diff d;
		char *text;

		parse_text(diff_cases[i].old_text, &a);
		parse_text(diff_cases[i].new_text, &b);
		kconfig_diff(&a, &b, &d);
		text = describe(&d);
		assert_string_equal(text, diff_cases[i].expected);
		free(text);
		kconfig_diff_release(&d);
		kconfig_release(&a);
		kconfig_release(&b);
	}
}

struct module_case {
	const char *path;
	const char *name; /* NULL when the path is not a module */
};

static const struct module_case module_cases[] = {
	{ "lib/modules/6.1.0-57-cloud-amd64/kernel/drivers/net/virtio_net.ko", "virtio_net" },
	{ "./lib/modules/6.12.43+deb13-amd64/kernel/fs/ext4/ext4.ko.xz", "ext4" },
	{ "lib/modules/6.5.6-300.fc39.x86_64/kernel/drivers/hid/hid-generic.ko.zst", "hid_generic" },
	{ "lib/modules/5.3.7/kernel/a/b-c_d.ko.gz", "b_c_d" },
	{ "virtio_blk.ko", "virtio_blk" },
	{ "lib/modules/6.1.0/modules.dep", NULL },
	{ "lib/modules/6.1.0/kernel/a/readme.ko.txt", NULL },
	{ "lib/modules/6.1.0/kernel/a/.ko", NULL },
	{ "lib/modules/6.1.0/kernel/a/x.ko.bz2", NULL },
};

static void module_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(module_cases) / sizeof(module_cases[0]); i++) {
		char *name = boot_module_name(module_cases[i].path);

		print_message("path: %s\n", module_cases[i].path);
		if (module_cases[i].name)
			assert_string_equal(name, module_cases[i].name);
		else
			assert_null(name);
		free(name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(option_lines),
		cmocka_unit_test(last_line_wins),
		cmocka_unit_test(not_a_config),
		cmocka_unit_test(diff_table),
		cmocka_unit_test(module_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
