/* repack boot IMAGE...: boot images under QEMU and report what happened,
 * one column per kernel. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "boot.h"
#include "cli.h"

static const char boot_usage[] =
	"usage: repack boot IMAGE... [options]\n"
	"\n"
	"Boots each image's kernel under QEMU with an initramfs made of a static\n"
	"busybox, a small init and the image's kernel.tar, and reports whether it\n"
	"booted, the kernel release, the guest's uptime at /init and at the last\n"
	"marker, each module load, the kernel warnings and the console log.\n"
	"IMAGE is oci:DIR[:TAG], oci:DIR@sha256:HEX or dir:DIR.\n"
	"\n"
	"  --compare             compare two or more images in one table; rows that\n"
	"                        differ are marked with '*'\n"
	"  --accel kvm|tcg|auto  accelerator (default auto: KVM when /dev/kvm opens\n"
	"                        and a probe boot finishes within 10 s, else TCG)\n"
	"  --timeout SEC         kill a guest that prints nothing for SEC seconds\n"
	"                        (default 120); a boot also ends after 5 x SEC\n"
	"  --modprobe LIST       modules to load, comma-separated (default\n"
	"                        " BOOT_DEFAULT_MODULES "); an empty LIST loads none\n"
	"  --busybox PATH        static busybox for the initramfs (default\n"
	"                        /bin/busybox from the busybox-static package)\n"
	"  --gzip                gzip the initramfs\n"
	"  --log-dir DIR         write the console logs to DIR (default\n"
	"                        CACHE/boot/logs/TIME-PID)\n"
	"  --arch ARCH           manifest to boot from a multi-architecture image\n"
	"  --cache DIR           cache directory\n"
	"  --json                print the reports as JSON\n"
	"  -q, --quiet           print only errors\n"
	"  -v, --verbose         print debugging messages\n"
	"\n"
	"Exit status: 0 when every image booted and every module loaded or is\n"
	"built in, 1 otherwise, 2 on a usage error, 3 when an image is not found.\n"
	"REPACK_QEMU, when set, names the QEMU binary to run.\n";

enum {
	OPT_COMPARE = 256, OPT_ACCEL, OPT_TIMEOUT, OPT_MODPROBE, OPT_BUSYBOX,
	OPT_GZIP, OPT_LOG_DIR, OPT_ARCH, OPT_CACHE, OPT_JSON,
};

static const struct option boot_options_table[] = {
	{ "compare", no_argument, NULL, OPT_COMPARE },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "modprobe", required_argument, NULL, OPT_MODPROBE },
	{ "busybox", required_argument, NULL, OPT_BUSYBOX },
	{ "gzip", no_argument, NULL, OPT_GZIP },
	{ "log-dir", required_argument, NULL, OPT_LOG_DIR },
	{ "arch", required_argument, NULL, OPT_ARCH },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct boot_cli {
	struct cli_options common; /* cache, json, verbosity, images */
	struct boot_options boot;
	bool compare;
};

static int parse_timeout(const char *text, unsigned *timeout)
{
	char *end;
	long n = strtol(text, &end, 10);

	if (*end || end == text || n < 1 || n > 86400) {
		cli_error("--timeout takes a number of seconds from 1 to 86400, not '%s'", text);
		return REPACK_EUSAGE;
	}
	*timeout = (unsigned)n;
	return 0;
}

static int apply_arch(const char *arg, struct boot_options *boot)
{
	if (strcmp(arg, "amd64") == 0 || strcmp(arg, "x86_64") == 0)
		boot->arch = "amd64";
	else if (strcmp(arg, "arm64") == 0 || strcmp(arg, "aarch64") == 0)
		boot->arch = "arm64";
	else {
		cli_error("unknown architecture '%s' (use amd64 or arm64)", arg);
		return REPACK_EUSAGE;
	}
	return 0;
}

static int apply_modprobe(const char *arg, struct boot_options *boot)
{
	struct repack_ctx ctx;
	int rc;

	repack_ctx_init(&ctx);
	rc = boot_options_set_modules(&ctx, boot, arg);
	if (rc)
		cli_error("--modprobe: %s", ctx.error);
	repack_ctx_release(&ctx);
	return rc;
}

/* Apply one option; returns 0, REPACK_EUSAGE, or 1 for --help. */
static int apply_option(int c, const char *arg, struct boot_cli *cli)
{
	switch (c) {
	case OPT_COMPARE: cli->compare = true; return 0;
	case OPT_ACCEL:
		if (boot_accel_parse(arg, &cli->boot.accel) == 0)
			return 0;
		cli_error("--accel takes kvm, tcg or auto, not '%s'", arg);
		return REPACK_EUSAGE;
	case OPT_TIMEOUT: return parse_timeout(arg, &cli->boot.timeout);
	case OPT_MODPROBE: return apply_modprobe(arg, &cli->boot);
	case OPT_BUSYBOX: cli->boot.busybox = arg; return 0;
	case OPT_GZIP: cli->boot.gzip = true; return 0;
	case OPT_LOG_DIR: cli->boot.log_dir = arg; return 0;
	case OPT_ARCH: return apply_arch(arg, &cli->boot);
	case OPT_CACHE: cli->common.cache = arg; return 0;
	case OPT_JSON: cli->common.json = true; return 0;
	case 'q': cli->common.verbosity = 0; return 0;
	case 'v': cli->common.verbosity = 2; return 0;
	case 'h': fputs(boot_usage, stdout); return 1;
	default:
		fputs(boot_usage, stderr);
		return REPACK_EUSAGE;
	}
}

/* Options may come before or after the images, as in the other commands. */
static int parse_boot_options(int argc, char **argv, struct boot_cli *cli)
{
	int c, rc;

	optind = 1;
	opterr = 1;
	while (optind < argc) {
		int before = optind;

		c = getopt_long(argc, argv, "+qvh", boot_options_table, NULL);
		if (c == -1) {
			if (optind > before && strcmp(argv[optind - 1], "--") == 0)
				break;
			strlist_push(&cli->common.args, argv[optind++]);
			continue;
		}
		rc = apply_option(c, optarg, cli);
		if (rc)
			return rc;
	}
	while (optind < argc)
		strlist_push(&cli->common.args, argv[optind++]);
	if (cli->common.args.count == 0) {
		cli_error("boot takes at least one image, e.g. 'repack boot oci:images:6.1.192-3'");
		return REPACK_EUSAGE;
	}
	if (cli->compare && cli->common.args.count < 2) {
		cli_error("--compare needs two or more images");
		return REPACK_EUSAGE;
	}
	return 0;
}

static json_t *nullable_string(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *seconds_json(double seconds)
{
	return seconds < 0 ? json_null() : json_real(seconds);
}

static json_t *release_matches_json(const struct boot_report *r)
{
	if (!r->label_release || !r->console.kernel_release)
		return json_null();
	return json_boolean(strcmp(r->label_release, r->console.kernel_release) == 0);
}

static json_t *report_json(const struct boot_report *r)
{
	json_t *o = json_object(), *modules = json_array(), *warnings = json_array();

	for (size_t i = 0; i < r->console.module_count; i++) {
		const struct boot_module *m = &r->console.modules[i];

		json_array_append_new(modules, json_pack("{s:s, s:s, s:o}", "name", m->name,
			"result", boot_module_status_name(m->status),
			"message", nullable_string(m->message)));
	}
	for (size_t i = 0; i < r->console.warnings.count; i++)
		json_array_append_new(warnings, json_string(r->console.warnings.items[i]));
	json_object_set_new(o, "image", json_string(r->image));
	json_object_set_new(o, "tag", nullable_string(r->tag));
	json_object_set_new(o, "arch", nullable_string(r->arch));
	json_object_set_new(o, "accel", nullable_string(r->accel));
	json_object_set_new(o, "ok", json_boolean(boot_report_ok(r)));
	json_object_set_new(o, "booted", json_boolean(r->booted));
	json_object_set_new(o, "failure", r->failure == BOOT_FAIL_NONE ? json_null()
			    : json_string(boot_failure_name(r->failure)));
	json_object_set_new(o, "detail", nullable_string(r->detail));
	json_object_set_new(o, "kernel_release", nullable_string(r->console.kernel_release));
	json_object_set_new(o, "label_kernel_release", nullable_string(r->label_release));
	json_object_set_new(o, "release_matches_label", release_matches_json(r));
	json_object_set_new(o, "seconds_to_init", seconds_json(r->console.init_seconds));
	json_object_set_new(o, "seconds_to_last_marker",
			    seconds_json(r->console.last_marker_seconds));
	json_object_set_new(o, "wall_seconds", json_real(r->run.wall_seconds));
	json_object_set_new(o, "modules", modules);
	json_object_set_new(o, "warnings", warnings);
	json_object_set_new(o, "console_log", nullable_string(r->log_path));
	return o;
}

static void print_json(const struct boot_report *reports, size_t count)
{
	json_t *array = json_array();
	char *text;

	for (size_t i = 0; i < count; i++)
		json_array_append_new(array, report_json(&reports[i]));
	text = json_dumps(array, JSON_INDENT(2));
	puts(text);
	free(text);
	json_decref(array);
}

/* Cells of the table: each returns a new string the caller frees. */
static char *text_or_dash(const char *s)
{
	return xstrdup(s ? s : "-");
}

static char *seconds_text(double seconds)
{
	return seconds < 0 ? xstrdup("-") : xasprintf("%.2f", seconds);
}

static char *cell_image(const struct boot_report *r) { return xstrdup(r->image); }
static char *cell_arch(const struct boot_report *r) { return text_or_dash(r->arch); }
static char *cell_accel(const struct boot_report *r) { return text_or_dash(r->accel); }
static char *cell_booted(const struct boot_report *r) { return xstrdup(r->booted ? "yes" : "no"); }
static char *cell_release(const struct boot_report *r) { return text_or_dash(r->console.kernel_release); }
static char *cell_label(const struct boot_report *r) { return text_or_dash(r->label_release); }
static char *cell_init(const struct boot_report *r) { return seconds_text(r->console.init_seconds); }
static char *cell_last(const struct boot_report *r) { return seconds_text(r->console.last_marker_seconds); }
static char *cell_wall(const struct boot_report *r) { return xasprintf("%.1f", r->run.wall_seconds); }
static char *cell_log(const struct boot_report *r) { return text_or_dash(r->log_path); }

static char *cell_failure(const struct boot_report *r)
{
	return xstrdup(r->failure == BOOT_FAIL_NONE ? "-" : boot_failure_name(r->failure));
}

static char *cell_warnings(const struct boot_report *r)
{
	return xasprintf("%zu", r->console.warnings.count);
}

struct row_def {
	const char *label;
	bool compared; /* marked when the kernels differ */
	char *(*cell)(const struct boot_report *r);
};

static const struct row_def row_defs[] = {
	{ "image", false, cell_image },
	{ "arch", true, cell_arch },
	{ "accel", true, cell_accel },
	{ "booted", true, cell_booted },
	{ "failure", true, cell_failure },
	{ "kernel release", true, cell_release },
	{ "label release", false, cell_label },
	{ "seconds to init", false, cell_init },
	{ "seconds to last marker", false, cell_last },
	{ "wall seconds", false, cell_wall },
	{ "warnings", true, cell_warnings },
	{ "console log", false, cell_log },
};
