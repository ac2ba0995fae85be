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
	"IMAGE is oci:DIR[:TAG], oci:DIR@sha256:HEX, oci-archive:FILE[:TAG],\n"
	"docker-archive:FILE, docker://HOST/REPO:TAG or dir:DIR.\n"
	"\n"
	"  --compare             compare two or more images in one table; result rows\n"
	"                        that differ are marked with '*' (timings, names,\n"
	"                        label release and log paths are not marked)\n"
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
	text = json_dumps(array, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
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
	{ NULL, true, NULL }, /* one row for each module */
	{ "warnings", true, cell_warnings },
	{ "console log", false, cell_log },
};

struct table_row {
	char *label;
	bool compared;
	char **cells;
};

struct table {
	struct table_row *rows;
	size_t count;
	size_t columns;
};

static struct table_row *table_add(struct table *t, char *label, bool compared)
{
	struct table_row *row;

	t->rows = xrealloc(t->rows, (t->count + 1) * sizeof(*t->rows));
	row = &t->rows[t->count++];
	row->label = label;
	row->compared = compared;
	row->cells = xcalloc(t->columns, sizeof(*row->cells));
	return row;
}

static const struct boot_module *find_result(const struct boot_report *r, const char *name)
{
	for (size_t i = 0; i < r->console.module_count; i++)
		if (strcmp(r->console.modules[i].name, name) == 0)
			return &r->console.modules[i];
	return NULL;
}

/* Add a row per module any report names, in the order they were loaded. */
static void add_module_rows(struct table *t, const struct boot_report *reports)
{
	struct strlist names = STRLIST_INIT;

	for (size_t c = 0; c < t->columns; c++)
		for (size_t i = 0; i < reports[c].console.module_count; i++)
			if (!strlist_contains(&names, reports[c].console.modules[i].name))
				strlist_push(&names, reports[c].console.modules[i].name);
	for (size_t i = 0; i < names.count; i++) {
		struct table_row *row = table_add(t, xasprintf("module %s", names.items[i]), true);

		for (size_t c = 0; c < t->columns; c++) {
			const struct boot_module *m = find_result(&reports[c], names.items[i]);

			row->cells[c] = xstrdup(m ? boot_module_status_name(m->status) : "-");
		}
	}
	strlist_release(&names);
}

static void build_table(struct table *t, const struct boot_report *reports, size_t count)
{
	memset(t, 0, sizeof(*t));
	t->columns = count;
	for (size_t d = 0; d < sizeof(row_defs) / sizeof(row_defs[0]); d++) {
		struct table_row *row;

		if (!row_defs[d].cell) {
			add_module_rows(t, reports);
			continue;
		}
		row = table_add(t, xstrdup(row_defs[d].label), row_defs[d].compared);
		for (size_t c = 0; c < count; c++)
			row->cells[c] = row_defs[d].cell(&reports[c]);
	}
}

static void table_release(struct table *t)
{
	for (size_t i = 0; i < t->count; i++) {
		for (size_t c = 0; c < t->columns; c++)
			free(t->rows[i].cells[c]);
		free(t->rows[i].cells);
		free(t->rows[i].label);
	}
	free(t->rows);
}

static bool row_differs(const struct table_row *row, size_t columns)
{
	for (size_t c = 1; c < columns; c++)
		if (strcmp(row->cells[c], row->cells[0]) != 0)
			return true;
	return false;
}

/* With two or more columns, a row the kernels disagree on starts with '*'. */
static void print_table(const struct table *t)
{
	size_t label_width = 0, *widths = xcalloc(t->columns, sizeof(*widths));

	for (size_t i = 0; i < t->count; i++) {
		if (strlen(t->rows[i].label) > label_width)
			label_width = strlen(t->rows[i].label);
		for (size_t c = 0; c < t->columns; c++)
			if (strlen(t->rows[i].cells[c]) > widths[c])
				widths[c] = strlen(t->rows[i].cells[c]);
	}
	for (size_t i = 0; i < t->count; i++) {
		const struct table_row *row = &t->rows[i];

		if (t->columns > 1)
			fputs(row->compared && row_differs(row, t->columns) ? "* " : "  ", stdout);
		printf("%-*s", (int)label_width, row->label);
		for (size_t c = 0; c < t->columns; c++) {
			if (c + 1 < t->columns)
				printf("  %-*s", (int)widths[c], row->cells[c]);
			else
				printf("  %s", row->cells[c]);
		}
		putchar('\n');
	}
	free(widths);
}

/* The failure detail, module messages and warnings of each report, which
 * are too long for the table. */
static void print_details(const struct boot_report *reports, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct boot_report *r = &reports[i];
		bool header = false;

		for (size_t m = 0; m < r->console.module_count + 1; m++) {
			const struct boot_module *mod = m ? &r->console.modules[m - 1] : NULL;
			const char *text = mod ? mod->message : r->detail;

			if (!text)
				continue;
			if (!header)
				printf("\n%s:\n", r->image);
			header = true;
			if (mod)
				printf("  module %s: %s\n", mod->name, text);
			else
				printf("  %s: %s\n", boot_failure_name(r->failure), text);
		}
		for (size_t w = 0; w < r->console.warnings.count; w++) {
			if (!header)
				printf("\n%s:\n", r->image);
			header = true;
			printf("  warning: %s\n", r->console.warnings.items[w]);
		}
	}
}

static void print_reports(const struct boot_report *reports, size_t count, bool json)
{
	struct table t;

	if (json) {
		print_json(reports, count);
		return;
	}
	build_table(&t, reports, count);
	print_table(&t);
	table_release(&t);
	print_details(reports, count);
}

/* Boot every image; stops at the first error (a missing tool, an
 * unreadable image, a signal), but not at an image that fails to boot. */
static int boot_all(struct repack_ctx *ctx, const struct boot_cli *cli,
		    struct boot_report *reports, size_t *done)
{
	struct boot_session session;
	int rc;

	*done = 0;
	rc = boot_session_begin(ctx, &cli->boot, &session);
	for (size_t i = 0; rc == 0 && i < cli->common.args.count; i++) {
		rc = boot_image(&session, cli->common.args.items[i], &reports[i]);
		if (rc == 0)
			*done = i + 1;
		else
			boot_report_release(&reports[i]);
	}
	boot_session_end(&session);
	return rc;
}

int cmd_boot(int argc, char **argv)
{
	struct boot_cli cli;
	struct repack_ctx ctx;
	struct boot_report *reports;
	size_t done = 0;
	int rc, status, sig;

	memset(&cli, 0, sizeof(cli));
	cli.common.verbosity = 1;
	boot_options_init(&cli.boot);
	rc = parse_boot_options(argc, argv, &cli);
	if (rc) {
		boot_options_release(&cli.boot);
		cli_options_release(&cli.common);
		return rc == 1 ? 0 : 2;
	}
	cli_setup_context(&ctx, &cli.common);
	reports = xcalloc(cli.common.args.count, sizeof(*reports));
	rc = boot_all(&ctx, &cli, reports, &done);
	if (rc == 0)
		print_reports(reports, done, cli.common.json);
	status = cli_report(&ctx, rc);
	for (size_t i = 0; rc == 0 && status == 0 && i < done; i++)
		if (!boot_report_ok(&reports[i]))
			status = 1;
	for (size_t i = 0; i < done; i++)
		boot_report_release(&reports[i]);
	free(reports);
	repack_ctx_release(&ctx);
	boot_options_release(&cli.boot);
	cli_options_release(&cli.common);
	/* Stop the way the signal would have stopped repack, now that QEMU
	 * and the temporary files are gone. */
	sig = boot_interrupted();
	if (sig) {
		fflush(stdout);
		signal(sig, SIG_DFL);
		raise(sig);
		return 128 + sig;
	}
	return status;
}
