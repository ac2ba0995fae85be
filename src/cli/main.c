/* repack: turn a distribution's kernel packages into a LinuxKit kernel
 * image. This file dispatches to one file per subcommand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fetch.h"

static const char main_usage[] =
	"usage: repack DISTRO VERSION [options]   build one image (short for 'repack build')\n"
	"       repack build DISTRO VERSION [options]\n"
	"       repack list DISTRO [--json]        kernels the repositories offer, newest first\n"
	"       repack boot IMAGE... [--compare]   boot images under QEMU and report what happened\n"
	"       repack diff IMAGE IMAGE            kernel_config options and modules that differ\n"
	"       repack inspect IMAGE [--json]      files, labels, tags and digests of an image\n"
	"\n"
	"Run 'repack build --help' for the build options.\n";

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "build", cmd_build },
	{ "list", cmd_list },
	{ "boot", cmd_boot },
	{ "diff", cmd_diff },
	{ "inspect", cmd_inspect },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	const char *name;
	int status;

	if (argc < 2) {
		fputs(main_usage, stderr);
		return 2;
	}
	name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		puts("repack " REPACK_VERSION);
		return 0;
	}
	if (fetch_global_init(NULL) != 0) {
		cli_error("cannot initialise libcurl");
		return 1;
	}
	status = -1;
	for (size_t i = 0; commands[i].name; i++)
		if (strcmp(name, commands[i].name) == 0)
			status = commands[i].run(argc - 1, argv + 1);
	/* "repack debian 6.1" is short for "repack build debian 6.1". */
	if (status == -1 && backend_find(name))
		status = cmd_build(argc, argv);
	if (status == -1) {
		cli_error("unknown command or distribution '%s'", name);
		fputs(main_usage, stderr);
		status = 2;
	}
	fetch_global_cleanup();
	return status;
}
