/* A primary.xml the size of Fedora's Everything repository (60,000
 * packages, over 150 MB of XML) is parsed with the streaming reader, and
 * the process's peak resident memory stays far below the size of the
 * document. bench/primary-memory.sh records the number for the repack
 * binary; this test checks the bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "repomd.h"

#define PACKAGES 60000
/* Every KERNEL_EVERY-th package is a kernel-core, the next a
 * kernel-modules. */
#define KERNEL_EVERY 1000
/* Peak resident memory allowed for the whole test process. The document
 * alone is over 150 MB. */
#define MAX_RSS_KIB (64 * 1024)

static void write_package(FILE *f, int i)
{
	const char *name = "python3-example";
	char version[32];

	if (i % KERNEL_EVERY == 0)
		name = "kernel-core";
	else if (i % KERNEL_EVERY == 1)
		name = "kernel-modules";
	snprintf(version, sizeof(version), "6.%d.%d", i / KERNEL_EVERY, i % 7);
	fprintf(f, "<package type=\"rpm\">\n  <name>%s</name>\n  <arch>%s</arch>\n"
		"  <version epoch=\"0\" ver=\"%s\" rel=\"%d.fc42\"/>\n"
		"  <checksum type=\"sha256\" pkgid=\"YES\">%064x</checksum>\n"
		"  <summary>Package number %d of a generated repository</summary>\n",
		name, i % 5 == 4 ? "noarch" : "x86_64", version, 200 + i % 3, i, i);
	fputs("  <description>", f);
	for (int line = 0; line < 12; line++)
		fprintf(f, "Line %d of a long description &amp; text that a real package carries. ", line);
	fprintf(f, "</description>\n  <packager>Fedora Project</packager>\n"
		"  <url>https://example.org/%d</url>\n  <time file=\"1700000000\" build=\"1699999999\"/>\n"
		"  <size package=\"%d\" installed=\"%d\" archive=\"%d\"/>\n"
		"  <location href=\"Packages/p/%s-%s-%d.fc42.x86_64.rpm\"/>\n  <format>\n"
		"    <rpm:license>MIT</rpm:license>\n    <rpm:vendor>Fedora Project</rpm:vendor>\n"
		"    <rpm:group>Unspecified</rpm:group>\n    <rpm:buildhost>buildvm-x86-%d.fedoraproject.org</rpm:buildhost>\n"
		"    <rpm:sourcerpm>%s-%s-%d.fc42.src.rpm</rpm:sourcerpm>\n"
		"    <rpm:header-range start=\"4504\" end=\"%d\"/>\n    <rpm:provides>\n"
		"      <rpm:entry name=\"%s\" flags=\"EQ\" epoch=\"0\" ver=\"%s\" rel=\"%d.fc42\"/>\n"
		"      <rpm:entry name=\"kernel-uname-r\" flags=\"EQ\" epoch=\"0\" ver=\"%s\" rel=\"%d.fc42.x86_64\"/>\n"
		"    </rpm:provides>\n    <rpm:requires>\n",
		i, 10000 + i, 40000 + i, 41000 + i, name, version, 200 + i % 3, i % 40, name,
		version, 200 + i % 3, 9000 + i, name, version, 200 + i % 3, version, 200 + i % 3);
	for (int dep = 0; dep < 14; dep++)
		fprintf(f, "      <rpm:entry name=\"libdependency%d.so.%d()(64bit)\"/>\n", dep, i % 9);
	fputs("    </rpm:requires>\n", f);
	for (int file = 0; file < 8; file++)
		fprintf(f, "    <file>/usr/bin/generated-tool-%d-%d</file>\n", i, file);
	fputs("  </format>\n</package>\n", f);
}

/* Stream the generated document through zstd into path; return its size
 * before compression. */
static long long generate(const char *path)
{
	char *command = xasprintf("zstd -q -1 -f -o '%s'", path);
	FILE *f = popen(command, "w");
	long long size = 0;

	assert_non_null(f);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\""
		"http://linux.duke.edu/metadata/common\" xmlns:rpm=\""
		"http://linux.duke.edu/metadata/rpm\" packages=\"%d\">\n", PACKAGES);
	for (int i = 0; i < PACKAGES; i++)
		write_package(f, i);
	fputs("</metadata>\n", f);
	assert_int_equal(pclose(f), 0);
	free(command);
	command = xasprintf("zstd -q -l '%s' >/dev/null && zstd -q -dc '%s' | wc -c", path, path);
	f = popen(command, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lld", &size), 1);
	pclose(f);
	free(command);
	return size;
}

static long peak_rss_kib(void)
{
	struct rusage usage;

	assert_int_equal(getrusage(RUSAGE_SELF, &usage), 0);
	return usage.ru_maxrss;
}

static void primary_60000_packages(void **state)
{
	static const char *const names[] = { "kernel-core", "kernel-modules", NULL };
	const struct primary_filter filter = { names, "x86_64" };
	const struct primary_origin origin = { "http://mirror.test/os", "42", "releases" };
	struct repack_ctx ctx;
	struct rpm_index index = { 0 };
	char path[] = "/tmp/repack-test-primary60k.XXXXXX";
	long long size;
	long peak;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	repack_ctx_init(&ctx);
	size = generate(path);
	print_message("generated %d packages, %lld bytes of XML\n", PACKAGES, size);
	assert_true(size > 150LL * 1000 * 1000);

	assert_int_equal(primary_parse_file(&ctx, "primary.xml.zst", path, NULL, &filter,
					    &origin, &index), 0);
	peak = peak_rss_kib();
	print_message("peak resident memory %ld KiB\n", peak);

	/* Packages 0, 1000, ... are kernel-core and 1, 1001, ... kernel-modules,
	 * all x86_64. */
	assert_int_equal(index.count, 2 * PACKAGES / KERNEL_EVERY);
	assert_string_equal(index.items[0].name, "kernel-core");
	assert_string_equal(index.items[1].name, "kernel-modules");
	/* Package 59000 is version 6.(59000 / 1000).(59000 % 7), release
	 * (200 + 59000 % 3).fc42. */
	assert_string_equal(index.items[index.count - 2].version, "6.59.4");
	assert_string_equal(index.items[index.count - 2].uname_r, "6.59.4-202.fc42.x86_64");
#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer keeps freed memory in quarantine, so there the
	 * resident size does not measure the parser. */
	print_message("not checking the memory bound under AddressSanitizer\n");
#else
	assert_true(peak < MAX_RSS_KIB);
#endif
	rpm_index_release(&index);
	unlink(path);
	repack_ctx_release(&ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(primary_60000_packages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
