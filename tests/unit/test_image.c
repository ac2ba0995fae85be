/* Image writing and reading: tag rules, -o parsing, reproducible layers,
 * the config and manifest, the OCI layout's index.json, dir: outputs,
 * and reading images back with digest checks. skopeo and umoci check the
 * layout from outside. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "image.h"
#include "image_read.h"

#define CREATED 1700000000 /* 2023-11-14T22:13:20Z */
#define CREATED_TEXT "2023-11-14T22:13:20Z"
#define KERNEL_SIZE 300000  /* several read chunks */

static const char *const slot_names[] = {
	"System.map", "kernel", "kernel-dev.tar", "kernel.tar", "kernel_config",
};
#define SLOT_COUNT 5

/* Per-test state: input files, metadata and a scratch directory. */
struct fixture {
	struct repack_ctx ctx;
	char *work;
	struct layout_files files;
	struct image_input inputs[2];
	struct image_meta meta;
};

/* ---- helpers ---- */

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_text(const char *path, const char *text)
{
	write_bytes(path, text, strlen(text));
}

static char *slurp(const char *path, size_t *len)
{
	struct repack_ctx ctx;
	char *data = NULL;

	repack_ctx_init(&ctx);
	assert_int_equal(read_file(&ctx, path, &data, len), 0);
	return data;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Number of entries in dir other than "." and "..". */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static char *run_output(const char *cmd)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	FILE *p = popen(cmd, "r");
	size_t n;

	assert_non_null(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		strbuf_add(&sb, buf, n);
	assert_int_equal(pclose(p), 0);
	if (!sb.buf)
		strbuf_addstr(&sb, "");
	return strbuf_detach(&sb, NULL);
}

/* Give path its own copy of its data, so changing it leaves other hard
 * links to the same file alone. */
static void break_link(const char *path)
{
	size_t len;
	char *data = slurp(path, &len);

	assert_int_equal(unlink(path), 0);
	write_bytes(path, data, len);
	free(data);
}

static bool have_command(const char *name)
{
	char *cmd = xasprintf("command -v %s >/dev/null 2>&1", name);
	int status = system(cmd);

	free(cmd);
	return status == 0;
}

static void make_files(struct fixture *f, const char *dir)
{
	unsigned char *kernel = xmalloc(KERNEL_SIZE);
	uint32_t x = 12345;

	/* Deterministic noise that gzip cannot shrink much. */
	for (size_t i = 0; i < KERNEL_SIZE; i++) {
		x = x * 1103515245u + 12345u;
		kernel[i] = (unsigned char)(x >> 16);
	}
	f->files.kernel = xasprintf("%s/vmlinuz", dir);
	write_bytes(f->files.kernel, kernel, KERNEL_SIZE);
	free(kernel);
	f->files.kernel_tar = xasprintf("%s/modules.tar", dir);
	write_text(f->files.kernel_tar, "pretend modules tar\n");
	f->files.kernel_dev_tar = xasprintf("%s/headers.tar", dir);
	write_text(f->files.kernel_dev_tar, "pretend headers tar\n");
	f->files.kernel_config = xasprintf("%s/config", dir);
	write_text(f->files.kernel_config, "CONFIG_MODULES=y\n");
	f->files.system_map = xasprintf("%s/System.map", dir);
	write_text(f->files.system_map, "ffffffff81000000 T _text\n");
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *inputs;

	repack_ctx_init(&f->ctx);
	assert_int_equal(make_temp_dir(&f->ctx, "test-image", &f->work), 0);
	inputs = xasprintf("%s/in", f->work);
	assert_int_equal(mkdir_p(&f->ctx, inputs), 0);
	make_files(f, inputs);
	free(inputs);

	/* Out of order on purpose: the label lists them sorted. */
	f->inputs[0].name = "linux-image-6.1.0-28-cloud-amd64_6.1.192-3_amd64.deb";
	memset(f->inputs[0].sha256, 'b', SHA256_HEX_LEN);
	f->inputs[1].name = "linux-headers-6.1.0-28-cloud-amd64_6.1.192-3_amd64.deb";
	memset(f->inputs[1].sha256, 'a', SHA256_HEX_LEN);
	f->meta = (struct image_meta){
		.distro = "debian", .release = "bookworm", .flavour = "cloud",
		.arch = "amd64", .kernel_release = "6.1.0-28-cloud-amd64",
		.version = "6.1.192-3", .tag = "6.1.192-3-cloud",
		.name = "linuxkit/kernel-debian",
		.source = "http://127.0.0.1:8080/debian",
		.created = CREATED, .inputs = f->inputs, .input_count = 2,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rm_rf(f->work);
	free(f->work);
	free(f->files.kernel);
	free(f->files.kernel_tar);
	free(f->files.kernel_dev_tar);
	free(f->files.kernel_config);
	free(f->files.system_map);
	repack_ctx_release(&f->ctx);
	free(f);
	return 0;
}

/* Build an image into WORK/name; the caller releases it. */
static void build(struct fixture *f, const char *name, struct image *image)
{
	char *dir = xasprintf("%s/%s", f->work, name);

	assert_int_equal(mkdir_p(&f->ctx, dir), 0);
	if (image_build(&f->ctx, &f->files, &f->meta, dir, image) != 0)
		fail_msg("image_build: %s", f->ctx.error);
	free(dir);
}

static int write_oci(struct fixture *f, const char *layout,
		     const struct image *image, const char *tag1,
		     const char *tag2)
{
	struct output out = { OUTPUT_OCI, (char *)layout };
	struct strlist tags = STRLIST_INIT;
	int rc;

	strlist_push(&tags, tag1);
	if (tag2)
		strlist_push(&tags, tag2);
	rc = image_write(&f->ctx, &out, image, &f->meta, &f->files, &tags);
	strlist_release(&tags);
	return rc;
}

static json_t *load_json(const char *path)
{
	json_error_t err;
	json_t *json = json_load_file(path, 0, &err);

	if (!json)
		fail_msg("%s: %s", path, err.text);
	return json;
}

/* The descriptor of index.json tagged tag, or NULL; borrowed. */
static json_t *index_entry(json_t *index, const char *tag, int *count)
{
	json_t *found = NULL, *desc;
	size_t i;

	*count = 0;
	json_array_foreach(json_object_get(index, "manifests"), i, desc) {
		const char *ref = json_string_value(json_object_get(
			json_object_get(desc, "annotations"),
			"org.opencontainers.image.ref.name"));

		if (ref && strcmp(ref, tag) == 0) {
			found = desc;
			(*count)++;
		}
	}
	return found;
}

static void assert_same_file(const char *a, const char *b)
{
	size_t la, lb;
	char *da = slurp(a, &la), *db = slurp(b, &lb);

	assert_int_equal(la, lb);
	assert_memory_equal(da, db, la);
	free(da);
	free(db);
}

/* ---- tags ---- */

static void test_tag_sanitise_table(void **state)
{
	static const struct { const char *version, *tag; } cases[] = {
		{ "6.1.192-3", "6.1.192-3" },
		{ "1:2.3+dfsg~rc1", "2.3_dfsg_rc1" },
		{ "5.3.7-301.fc31", "5.3.7-301.fc31" },
		{ "4.19.0-1+deb10u1", "4.19.0-1_deb10u1" },
		{ "5.15.0-91.101", "5.15.0-91.101" },
		{ "a:b", "a_b" },             /* not an epoch: no digits */
		{ "2:", "" },                 /* an epoch and nothing else */
		{ "", "" },
		{ ".hidden", "_hidden" },
		{ "-rc1", "_rc1" },
		{ "6.1 rc", "6.1_rc" },
		{ "v\xc3\xa9", "v__" },       /* each byte of UTF-8 é */
		{ "0:6.1/x", "6.1_x" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *tag = image_tag_sanitise(cases[i].version);

		if (strcmp(tag, cases[i].tag) != 0)
			fail_msg("'%s' gave '%s', expected '%s'", cases[i].version,
				 tag, cases[i].tag);
		assert_int_equal(image_tag_valid(tag), *cases[i].tag != '\0');
		free(tag);
	}
}

static void test_tag_sanitise_too_long(void **state)
{
	char version_a[301], version_b[301];
	char *a, *b;

	(void)state;
	memset(version_a, '7', 300);
	version_a[300] = '\0';
	memcpy(version_b, version_a, sizeof(version_b));
	version_b[299] = '8';

	a = image_tag_sanitise(version_a);
	b = image_tag_sanitise(version_b);
	assert_int_equal(strlen(a), 128);
	assert_true(image_tag_valid(a));
	assert_memory_equal(a, version_a, 115);
	assert_int_equal(a[115], '_');
	/* Different versions sharing 115 characters get different tags. */
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void test_tag_valid_table(void **state)
{
	char long_tag[130];

	(void)state;
	assert_true(image_tag_valid("6.1.192-3"));
	assert_true(image_tag_valid("_x"));
	assert_false(image_tag_valid(""));
	assert_false(image_tag_valid(NULL));
	assert_false(image_tag_valid(".x"));
	assert_false(image_tag_valid("-x"));
	assert_false(image_tag_valid("a+b"));
	assert_false(image_tag_valid("a:b"));
	memset(long_tag, 'a', 128);
	long_tag[128] = '\0';
	assert_true(image_tag_valid(long_tag));
	long_tag[128] = 'a';
	long_tag[129] = '\0';
	assert_false(image_tag_valid(long_tag));
}

/* ---- -o parsing ---- */

static void test_output_parse_table(void **state)
{
	static const struct {
		const char *spec;
		int rc;
		enum output_kind kind;
		const char *path;   /* expected path, or text in the error */
	} cases[] = {
		{ "oci:images", 0, OUTPUT_OCI, "images" },
		{ "oci:/var/tmp/layout", 0, OUTPUT_OCI, "/var/tmp/layout" },
		{ "dir:out", 0, OUTPUT_DIR, "out" },
		{ "dir:/a:b", 0, OUTPUT_DIR, "/a:b" },
		{ "oci:", REPACK_EUSAGE, 0, "directory is missing" },
		{ "dir:", REPACK_EUSAGE, 0, "directory is missing" },
		{ "oci:images:6.1", REPACK_EUSAGE, 0, "directory only" },
		{ "oci-archive:k.tar", 0, OUTPUT_OCI_ARCHIVE, "k.tar" },
		{ "docker-archive:k.tar", 0, OUTPUT_DOCKER_ARCHIVE, "k.tar" },
		{ "images", REPACK_EUSAGE, 0, "oci:DIR" },
		{ "docker://x", REPACK_EUSAGE, 0, "dir:DIR" },
		{ "", REPACK_EUSAGE, 0, "oci:DIR" },
	};
	struct repack_ctx ctx;

	(void)state;
	repack_ctx_init(&ctx);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct output out;
		int rc = output_parse(&ctx, cases[i].spec, &out);

		if (rc != cases[i].rc)
			fail_msg("'%s' gave %d (%s), expected %d", cases[i].spec, rc,
				 ctx.error, cases[i].rc);
		if (rc == 0) {
			assert_int_equal(out.kind, cases[i].kind);
			assert_string_equal(out.path, cases[i].path);
		} else if (!strstr(ctx.error, cases[i].path)) {
			fail_msg("'%s': message '%s' lacks '%s'", cases[i].spec,
				 ctx.error, cases[i].path);
		}
		output_release(&out);
	}
	assert_int_equal(output_parse(&ctx, NULL, &(struct output){0}),
			 REPACK_EUSAGE);
}

/* ---- building ---- */

static void test_build_reproducible(void **state)
{
	struct fixture *f = *state;
	struct image a, b, c;

	build(f, "a", &a);
	build(f, "b", &b);
	assert_string_equal(a.layer.digest, b.layer.digest);
	assert_string_equal(a.layer.diff_id, b.layer.diff_id);
	assert_string_equal(a.config.digest, b.config.digest);
	assert_string_equal(a.manifest.digest, b.manifest.digest);
	assert_same_file(a.layer.path, b.layer.path);
	assert_same_file(a.config.path, b.config.path);
	assert_same_file(a.manifest.path, b.manifest.path);

	/* The digest depends on the creation time, so the check above is
	 * not comparing constants. */
	f->meta.created = CREATED + 1;
	build(f, "c", &c);
	assert_string_not_equal(a.layer.digest, c.layer.digest);
	assert_string_not_equal(a.manifest.digest, c.manifest.digest);

	image_release(&a);
	image_release(&b);
	image_release(&c);
}

static void test_build_blob_digests(void **state)
{
	struct fixture *f = *state;
	struct repack_ctx ctx;
	struct image image;
	char hex[SHA256_HEX_LEN + 1];
	uint64_t size;

	repack_ctx_init(&ctx);
	build(f, "a", &image);
	assert_int_equal(sha256_file(&ctx, image.layer.path, hex, &size), 0);
	assert_string_equal(hex, image.layer.digest);
	assert_int_equal(size, image.layer.size);
	assert_int_equal(sha256_file(&ctx, image.config.path, hex, &size), 0);
	assert_string_equal(hex, image.config.digest);
	assert_int_equal(size, image.config.size);
	assert_int_equal(sha256_file(&ctx, image.manifest.path, hex, &size), 0);
	assert_string_equal(hex, image.manifest.digest);
	assert_int_equal(size, image.manifest.size);
	image_release(&image);
}

static void test_gzip_header_has_no_time_or_name(void **state)
{
	struct fixture *f = *state;
	struct image image;
	unsigned char *data;
	uint32_t isize;
	char *cmd, *out;
	size_t len;

	build(f, "a", &image);
	data = (unsigned char *)slurp(image.layer.path, &len);
	assert_true(len > 18);
	assert_int_equal(data[0], 0x1f);
	assert_int_equal(data[1], 0x8b);
	assert_int_equal(data[2], 8);     /* deflate */
	assert_int_equal(data[3], 0);     /* no FNAME, FCOMMENT, FEXTRA */
	assert_int_equal(data[4] | data[5] | data[6] | data[7], 0); /* MTIME */

	/* The file ends with the gzip trailer, not with block padding:
	 * ISIZE is the size of the tar. */
	isize = (uint32_t)data[len - 4] | (uint32_t)data[len - 3] << 8 |
		(uint32_t)data[len - 2] << 16 | (uint32_t)data[len - 1] << 24;
	cmd = xasprintf("gzip -dc '%s' | wc -c", image.layer.path);
	out = run_output(cmd);
	assert_int_equal(isize, strtoul(out, NULL, 10));
	free(out);
	free(cmd);
	free(data);
	image_release(&image);
}

/* Decompress the layer with gzip(1) into WORK/layer.tar; return its path. */
static char *gunzip_layer(struct fixture *f, const struct image *image)
{
	char *tar = xasprintf("%s/layer.tar", f->work);
	char *cmd = xasprintf("gzip -dc '%s' > '%s'", image->layer.path, tar);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	return tar;
}

static void check_tar_entries(struct fixture *f, const char *tar,
			      const char *const *names, size_t count)
{
	struct archive *a = archive_read_new();
	struct archive_entry *entry;
	size_t i = 0;

	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, tar, 10240), ARCHIVE_OK);
	while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
		assert_true(i < count);
		assert_string_equal(archive_entry_pathname(entry), names[i]);
		assert_int_equal(archive_entry_filetype(entry), AE_IFREG);
		assert_int_equal(archive_entry_perm(entry), 0644);
		assert_int_equal(archive_entry_uid(entry), 0);
		assert_int_equal(archive_entry_gid(entry), 0);
		assert_true(!archive_entry_uname(entry) || !*archive_entry_uname(entry));
		assert_true(!archive_entry_gname(entry) || !*archive_entry_gname(entry));
		assert_int_equal(archive_entry_mtime(entry), CREATED);
		assert_int_equal(archive_entry_mtime_nsec(entry), 0);
		assert_false(archive_entry_atime_is_set(entry));
		assert_false(archive_entry_ctime_is_set(entry));
		assert_int_equal(archive_entry_xattr_count(entry), 0);
		assert_int_equal(archive_format(a), ARCHIVE_FORMAT_TAR_USTAR);
		i++;
	}
	assert_int_equal(i, count);
	archive_read_free(a);
	(void)f;
}

/* The first header of a ustar file: POSIX magic, empty owner names. */
static void check_first_header(const char *tar)
{
	static const char zeros[64];
	size_t len;
	char *data = slurp(tar, &len);

	assert_true(len >= 512);
	assert_memory_equal(data + 257, "ustar\0" "00", 8);
	assert_memory_equal(data + 265, zeros, 32); /* uname */
	assert_memory_equal(data + 297, zeros, 32); /* gname */
	assert_int_equal(data[156], '0');           /* typeflag: regular file */
	free(data);
}

static void test_layer_sorted_fixed_owner_and_time(void **state)
{
	struct fixture *f = *state;
	struct image image;
	char *tar;

	build(f, "a", &image);
	tar = gunzip_layer(f, &image);
	check_tar_entries(f, tar, slot_names, SLOT_COUNT);
	check_first_header(tar);
	free(tar);
	image_release(&image);
}

static void test_layer_without_optional_files(void **state)
{
	static const char *const names[] = { "kernel", "kernel.tar", "kernel_config" };
	struct fixture *f = *state;
	char *map = f->files.system_map, *dev = f->files.kernel_dev_tar;
	struct image image;
	char *tar;

	f->files.system_map = NULL;
	f->files.kernel_dev_tar = NULL;
	build(f, "a", &image);
	f->files.system_map = map;
	f->files.kernel_dev_tar = dev;
	tar = gunzip_layer(f, &image);
	check_tar_entries(f, tar, names, 3);
	free(tar);
	image_release(&image);
}

static void test_layer_content_and_diff_id(void **state)
{
	struct fixture *f = *state;
	struct image image;
	char *tar, *cmd, *out;

	build(f, "a", &image);
	tar = gunzip_layer(f, &image);
	cmd = xasprintf("sha256sum '%s'", tar);
	out = run_output(cmd);
	assert_memory_equal(out, image.layer.diff_id, SHA256_HEX_LEN);
	free(out);
	free(cmd);

	/* GNU tar reads it back to the same bytes. */
	cmd = xasprintf("mkdir '%s/x' && tar -xf '%s' -C '%s/x'", f->work, tar, f->work);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	for (int i = 0; i < SLOT_COUNT; i++) {
		const char *sources[] = {
			f->files.system_map, f->files.kernel, f->files.kernel_dev_tar,
			f->files.kernel_tar, f->files.kernel_config,
		};
		char *path = xasprintf("%s/x/%s", f->work, slot_names[i]);

		assert_same_file(path, sources[i]);
		free(path);
	}
	free(tar);
	image_release(&image);
}

static void test_build_missing_inputs(void **state)
{
	struct fixture *f = *state;
	char *kernel = f->files.kernel;
	struct image image;
	char *dir = xasprintf("%s/a", f->work);

	assert_int_equal(mkdir_p(&f->ctx, dir), 0);
	f->files.kernel = NULL;
	assert_int_equal(image_build(&f->ctx, &f->files, &f->meta, dir, &image),
			 REPACK_EFAIL);
	assert_non_null(strstr(f->ctx.error, "no kernel file"));

	f->files.kernel = xasprintf("%s/missing", f->work);
	assert_int_equal(image_build(&f->ctx, &f->files, &f->meta, dir, &image),
			 REPACK_EFAIL);
	assert_non_null(strstr(f->ctx.error, f->files.kernel));
	free(f->files.kernel);

	/* A directory is not a kernel. */
	f->files.kernel = dir;
	assert_int_equal(image_build(&f->ctx, &f->files, &f->meta, dir, &image),
			 REPACK_EFAIL);
	assert_non_null(strstr(f->ctx.error, "not a regular file"));
	f->files.kernel = kernel;

	f->meta.created = -1;
	assert_int_equal(image_build(&f->ctx, &f->files, &f->meta, dir, &image),
			 REPACK_EFAIL);
	assert_non_null(strstr(f->ctx.error, "SOURCE_DATE_EPOCH"));

	/* Nothing was left behind in the work directory. */
	assert_int_equal(count_entries(dir), 0);
	free(dir);
}

static void test_config_labels_and_manifest(void **state)
{
	struct fixture *f = *state;
	struct image image;
	json_t *config, *labels, *packages, *manifest;
	json_error_t err;
	char *diff_id;

	build(f, "a", &image);
	config = load_json(image.config.path);
	assert_string_equal(json_string_value(json_object_get(config, "architecture")), "amd64");
	assert_string_equal(json_string_value(json_object_get(config, "os")), "linux");
	assert_string_equal(json_string_value(json_object_get(config, "created")), CREATED_TEXT);
	assert_null(json_object_get(json_object_get(config, "config"), "Entrypoint"));
	assert_null(json_object_get(json_object_get(config, "config"), "Cmd"));
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(config, "rootfs"), "type")), "layers");
	diff_id = xasprintf("sha256:%s", image.layer.diff_id);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
		json_object_get(config, "rootfs"), "diff_ids"), 0)), diff_id);
	free(diff_id);

	labels = json_object_get(json_object_get(config, "config"), "Labels");
#define LABEL(key) json_string_value(json_object_get(labels, key))
	assert_string_equal(LABEL("org.opencontainers.image.version"), "6.1.192-3-cloud");
	assert_string_equal(LABEL("org.opencontainers.image.source"), "http://127.0.0.1:8080/debian");
	assert_string_equal(LABEL("org.opencontainers.image.created"), CREATED_TEXT);
	assert_string_equal(LABEL("org.linuxkit.repack.distro"), "debian");
	assert_string_equal(LABEL("org.linuxkit.repack.release"), "bookworm");
	assert_string_equal(LABEL("org.linuxkit.repack.flavour"), "cloud");
	assert_string_equal(LABEL("org.linuxkit.repack.kernel-release"), "6.1.0-28-cloud-amd64");
	assert_string_equal(LABEL("org.linuxkit.repack.version"), "6.1.192-3");
	packages = json_loads(LABEL("org.linuxkit.repack.packages"), 0, &err);
#undef LABEL
	assert_non_null(packages);
	assert_int_equal(json_array_size(packages), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(packages, 0), "name")),
			    f->inputs[1].name);
	assert_string_equal(json_string_value(json_object_get(json_array_get(packages, 0), "sha256")),
			    f->inputs[1].sha256);
	assert_string_equal(json_string_value(json_object_get(json_array_get(packages, 1), "name")),
			    f->inputs[0].name);

	manifest = load_json(image.manifest.path);
	assert_int_equal(json_integer_value(json_object_get(manifest, "schemaVersion")), 2);
	assert_string_equal(json_string_value(json_object_get(manifest, "mediaType")),
			    "application/vnd.oci.image.manifest.v1+json");
	assert_string_equal(json_string_value(json_object_get(json_object_get(manifest, "config"), "mediaType")),
			    "application/vnd.oci.image.config.v1+json");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(manifest, "config"), "size")),
			 image.config.size);
	assert_int_equal(json_array_size(json_object_get(manifest, "layers")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(manifest, "layers"), 0), "mediaType")),
			    "application/vnd.oci.image.layer.v1.tar+gzip");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(manifest, "layers"), 0), "size")),
			 image.layer.size);

	json_decref(packages);
	json_decref(manifest);
	json_decref(config);
	image_release(&image);
}

static void test_config_rejects_invalid_utf8(void **state)
{
	struct fixture *f = *state;
	struct image image;
	char *dir = xasprintf("%s/a", f->work);

	assert_int_equal(mkdir_p(&f->ctx, dir), 0);
	f->meta.release = "bad\xff";
	assert_int_equal(image_build(&f->ctx, &f->files, &f->meta, dir, &image),
			 REPACK_EFAIL);
	assert_non_null(strstr(f->ctx.error, "org.linuxkit.repack.release"));
	free(dir);
}

/* ---- OCI layout ---- */

static void test_oci_index_keeps_and_replaces_tags(void **state)
{
	struct fixture *f = *state;
	char *layout = xasprintf("%s/layout", f->work);
	char *index_path = xasprintf("%s/index.json", layout);
	char *oci_layout = xasprintf("%s/oci-layout", layout);
	struct image a, b;
	json_t *index, *entry;
	char *digest, *text;
	int count;

	build(f, "a", &a);
	f->meta.created = CREATED + 60;
	build(f, "b", &b);
	assert_int_equal(write_oci(f, layout, &a, "t1", "t1-amd64"), 0);
	assert_int_equal(write_oci(f, layout, &b, "t2", NULL), 0);

	text = slurp(oci_layout, NULL);
	assert_string_equal(text, "{\"imageLayoutVersion\":\"1.0.0\"}");
	free(text);

	index = load_json(index_path);
	assert_int_equal(json_array_size(json_object_get(index, "manifests")), 3);
	entry = index_entry(index, "t1", &count);
	assert_int_equal(count, 1);
	digest = xasprintf("sha256:%s", a.manifest.digest);
	assert_string_equal(json_string_value(json_object_get(entry, "digest")), digest);
	free(digest);
	assert_string_equal(json_string_value(json_object_get(json_object_get(entry, "annotations"),
							      "io.containerd.image.name")),
			    "docker.io/linuxkit/kernel-debian:t1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(entry, "platform"),
							      "architecture")), "amd64");
	json_decref(index);

	/* Writing t1 again moves it to the new image and keeps the rest. */
	assert_int_equal(write_oci(f, layout, &b, "t1", NULL), 0);
	index = load_json(index_path);
	assert_int_equal(json_array_size(json_object_get(index, "manifests")), 3);
	entry = index_entry(index, "t1", &count);
	assert_int_equal(count, 1);
	digest = xasprintf("sha256:%s", b.manifest.digest);
	assert_string_equal(json_string_value(json_object_get(entry, "digest")), digest);
	free(digest);
	assert_non_null(index_entry(index, "t1-amd64", &count));
	assert_non_null(index_entry(index, "t2", &count));
	json_decref(index);

	/* A tag given twice in one write gets one entry. */
	assert_int_equal(write_oci(f, layout, &a, "t2", "t2"), 0);
	index = load_json(index_path);
	assert_int_equal(json_array_size(json_object_get(index, "manifests")), 3);
	assert_non_null(index_entry(index, "t2", &count));
	assert_int_equal(count, 1);
	json_decref(index);

	/* Every blob is stored under its digest; a's and b's layers differ. */
	for (int i = 0; i < 2; i++) {
		const struct image *img = i ? &b : &a;
		const struct image_blob *blobs[] = { &img->layer, &img->config, &img->manifest };

		for (int j = 0; j < 3; j++) {
			char *path = xasprintf("%s/blobs/sha256/%s", layout, blobs[j]->digest);

			assert_same_file(path, blobs[j]->path);
			free(path);
		}
	}
	text = xasprintf("%s/blobs/sha256", layout);
	assert_int_equal(count_entries(text), 6); /* a layer, config, manifest each */
	free(text);

	free(oci_layout);
	free(index_path);
	free(layout);
	image_release(&a);
	image_release(&b);
}

static void test_oci_broken_index_untouched(void **state)
{
	struct fixture *f = *state;
	char *layout = xasprintf("%s/layout", f->work);
	char *index_path = xasprintf("%s/index.json", layout);
	const char *broken = "{\"manifests\": [ {\"digest\": ";
	struct image image;
	char *text;

	build(f, "a", &image);
	assert_int_equal(mkdir_p(&f->ctx, layout), 0);
	write_text(index_path, broken);
	assert_int_equal(write_oci(f, layout, &image, "t1", NULL), REPACK_EFORMAT);
	assert_non_null(strstr(f->ctx.error, index_path));
	assert_non_null(strstr(f->ctx.error, "not valid JSON"));
	text = slurp(index_path, NULL);
	assert_string_equal(text, broken);
	free(text);

	/* Valid JSON that is not an index is rejected the same way. */
	write_text(index_path, "[]");
	assert_int_equal(write_oci(f, layout, &image, "t1", NULL), REPACK_EFORMAT);
	assert_non_null(strstr(f->ctx.error, "manifests"));
	text = slurp(index_path, NULL);
	assert_string_equal(text, "[]");
	free(text);

	free(index_path);
	free(layout);
	image_release(&image);
}

static void test_oci_rejects_bad_tags(void **state)
{
	struct fixture *f = *state;
	char *layout = xasprintf("%s/layout", f->work);
	struct output out = { OUTPUT_OCI, layout };
	struct strlist none = STRLIST_INIT;
	struct image image;

	build(f, "a", &image);
	assert_int_equal(write_oci(f, layout, &image, "6.1+x", NULL), REPACK_EFAIL);
	assert_non_null(strstr(f->ctx.error, "'6.1+x'"));
	assert_int_equal(image_write(&f->ctx, &out, &image, &f->meta, &f->files, &none),
			 REPACK_EFAIL);
	assert_false(exists(layout));
	free(layout);
	image_release(&image);
}

static void test_oci_not_a_layout(void **state)
{
	struct fixture *f = *state;
	char *layout = xasprintf("%s/layout", f->work);
	char *marker = xasprintf("%s/oci-layout", layout);
	char *index_path = xasprintf("%s/index.json", layout);
	struct image image;

	build(f, "a", &image);
	assert_int_equal(mkdir_p(&f->ctx, layout), 0);
	write_text(marker, "version 1");
	assert_int_equal(write_oci(f, layout, &image, "t1", NULL), REPACK_EFORMAT);
	assert_non_null(strstr(f->ctx.error, marker));
	assert_false(exists(index_path));
	free(index_path);
	free(marker);
	free(layout);
	image_release(&image);
}

/* Concurrent writers to one layout: each adds its own tags; none is lost
 * because index.json is rewritten under the lock. */
static void test_oci_concurrent_writers(void **state)
{
	enum { WRITERS = 6, TAGS_EACH = 10 };
	struct fixture *f = *state;
	char *layout = xasprintf("%s/layout", f->work);
	char *index_path = xasprintf("%s/index.json", layout);
	pid_t pids[WRITERS];
	struct image image;
	json_t *index;

	build(f, "a", &image);
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			int failed = 0;

			for (int t = 0; t < TAGS_EACH; t++) {
				char *tag = xasprintf("w%d-t%d", w, t);

				failed |= write_oci(f, layout, &image, tag, NULL) != 0;
				free(tag);
			}
			_exit(failed);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;

		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	index = load_json(index_path);
	assert_int_equal(json_array_size(json_object_get(index, "manifests")),
			 WRITERS * TAGS_EACH);
	for (int w = 0; w < WRITERS; w++) {
		for (int t = 0; t < TAGS_EACH; t++) {
			char *tag = xasprintf("w%d-t%d", w, t);
			int count;

			if (!index_entry(index, tag, &count))
				fail_msg("tag %s is missing from %s", tag, index_path);
			free(tag);
		}
	}
	json_decref(index);
	free(index_path);
	free(layout);
	image_release(&image);
}

/* ---- dir: output ---- */

static void test_dir_output(void **state)
{
	struct fixture *f = *state;
	char *dir = xasprintf("%s/out", f->work);
	struct output out = { OUTPUT_DIR, dir };
	const char *sources[] = {
		f->files.system_map, f->files.kernel, f->files.kernel_dev_tar,
		f->files.kernel_tar, f->files.kernel_config,
	};
	char *map = f->files.system_map;
	struct image image, small;
	char *path;

	build(f, "a", &image);
	assert_int_equal(image_write(&f->ctx, &out, &image, &f->meta, &f->files, NULL), 0);
	for (int i = 0; i < SLOT_COUNT; i++) {
		path = xasprintf("%s/%s", dir, slot_names[i]);
		assert_same_file(path, sources[i]);
		free(path);
	}
	path = xasprintf("%s/image-config.json", dir);
	assert_same_file(path, image.config.path);
	free(path);
	assert_int_equal(count_entries(dir), SLOT_COUNT + 1);

	/* An image without System.map removes the old one. */
	f->files.system_map = NULL;
	build(f, "b", &small);
	assert_int_equal(image_write(&f->ctx, &out, &small, &f->meta, &f->files, NULL), 0);
	f->files.system_map = map;
	path = xasprintf("%s/System.map", dir);
	assert_false(exists(path));
	free(path);
	assert_int_equal(count_entries(dir), SLOT_COUNT);

	free(dir);
	image_release(&image);
	image_release(&small);
}

static void test_dir_output_failure_keeps_old_files(void **state)
{
	struct fixture *f = *state;
	char *dir = xasprintf("%s/out", f->work);
	struct output out = { OUTPUT_DIR, dir };
	char *config = f->files.kernel_config;
	char *path = xasprintf("%s/kernel", dir);
	struct image image;

	build(f, "a", &image);
	assert_int_equal(image_write(&f->ctx, &out, &image, &f->meta, &f->files, NULL), 0);

	/* The second write fails on its last file, kernel_config: every
	 * file is staged before any is renamed, so the kernel stays the
	 * old one, and no temporary file remains. */
	write_text(f->files.kernel, "a different kernel");
	f->files.kernel_config = xasprintf("%s/gone", f->work);
	assert_int_equal(image_write(&f->ctx, &out, &image, &f->meta, &f->files, NULL),
			 REPACK_EFAIL);
	assert_non_null(strstr(f->ctx.error, f->files.kernel_config));
	free(f->files.kernel_config);
	f->files.kernel_config = config;
	assert_int_equal(count_entries(dir), SLOT_COUNT + 1);
	{
		size_t len;
		char *data = slurp(path, &len);

		assert_int_equal(len, KERNEL_SIZE);
		free(data);
	}
	free(path);
	free(dir);
	image_release(&image);
}

/* ---- reading back ---- */

static void check_extracted(struct fixture *f, const char *dest)
{
	const char *sources[] = {
		f->files.system_map, f->files.kernel, f->files.kernel_dev_tar,
		f->files.kernel_tar, f->files.kernel_config,
	};

	for (int i = 0; i < SLOT_COUNT; i++) {
		char *path = xasprintf("%s/%s", dest, slot_names[i]);

		assert_same_file(path, sources[i]);
		free(path);
	}
	assert_int_equal(count_entries(dest), SLOT_COUNT);
}

static void test_read_back_oci(void **state)
{
	struct fixture *f = *state;
	char *layout = xasprintf("%s/layout", f->work);
	char *dest = xasprintf("%s/dest", f->work);
	struct image_file_list files;
	struct image_source src;
	struct image image;
	char *spec;

	build(f, "a", &image);
	assert_int_equal(write_oci(f, layout, &image, "t1", NULL), 0);

	/* The only image of a layout needs no tag. */
	spec = xasprintf("oci:%s", layout);
	if (image_open(&f->ctx, spec, NULL, &src) != 0)
		fail_msg("%s: %s", spec, f->ctx.error);
	assert_string_equal(src.manifest_digest, image.manifest.digest);
	image_source_release(&src);
	free(spec);

	spec = xasprintf("oci:%s:t1", layout);
	assert_int_equal(image_open(&f->ctx, spec, NULL, &src), 0);
	assert_string_equal(src.manifest_digest, image.manifest.digest);
	assert_string_equal(src.layer_digest, image.layer.digest);
	assert_string_equal(src.layer_diff_id, image.layer.diff_id);
	assert_string_equal(image_source_label(&src, "org.linuxkit.repack.distro"), "debian");
	assert_int_equal(image_extract(&f->ctx, &src, dest, &files), 0);
	check_extracted(f, dest);
	assert_int_equal(files.count, SLOT_COUNT);
	for (size_t i = 0; i < files.count; i++)
		assert_string_equal(files.items[i].name, slot_names[i]);
	assert_int_equal(files.items[1].size, KERNEL_SIZE);
	image_file_list_release(&files);

	/* Listing only reads and verifies. */
	assert_int_equal(image_extract(&f->ctx, &src, NULL, &files), 0);
	assert_int_equal(files.count, SLOT_COUNT);
	image_file_list_release(&files);
	image_source_release(&src);
	free(spec);

	spec = xasprintf("oci:%s@sha256:%s", layout, image.manifest.digest);
	assert_int_equal(image_open(&f->ctx, spec, NULL, &src), 0);
	assert_non_null(src.config);
	image_source_release(&src);
	free(spec);

	free(dest);
	free(layout);
	image_release(&image);
}

static void test_read_back_errors(void **state)
{
	struct fixture *f = *state;
	char *layout = xasprintf("%s/layout", f->work);
	struct image_source src;
	struct image a, b;
	char *spec;

	build(f, "a", &a);
	f->meta.created = CREATED + 5;
	build(f, "b", &b);
	assert_int_equal(write_oci(f, layout, &a, "t1", NULL), 0);
	assert_int_equal(write_oci(f, layout, &b, "t2", NULL), 0);

	spec = xasprintf("oci:%s", layout);
	assert_int_equal(image_open(&f->ctx, spec, NULL, &src), REPACK_EUSAGE);
	assert_non_null(strstr(f->ctx.error, "t1, t2"));
	image_source_release(&src);
	free(spec);

	spec = xasprintf("oci:%s:nope", layout);
	assert_int_equal(image_open(&f->ctx, spec, NULL, &src), REPACK_ENOTFOUND);
	assert_non_null(strstr(f->ctx.error, "nope"));
	image_source_release(&src);
	free(spec);

	spec = xasprintf("oci:%s@sha256:1234", layout);
	assert_int_equal(image_open(&f->ctx, spec, NULL, &src), REPACK_EUSAGE);
	image_source_release(&src);
	free(spec);

	spec = xasprintf("oci:%s/missing:t1", f->work);
	assert_int_equal(image_open(&f->ctx, spec, NULL, &src), REPACK_ENOTFOUND);
	image_source_release(&src);
	free(spec);

	assert_int_equal(image_open(&f->ctx, "docker://x", NULL, &src), REPACK_EUSAGE);
	image_source_release(&src);

	free(layout);
	image_release(&a);
	image_release(&b);
}

/* Change one byte of path at offset. */
static void flip_byte(const char *path, long offset)
{
	int fd = open(path, O_RDWR);
	unsigned char c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, offset), 1);
	c ^= 0x55;
	assert_int_equal(pwrite(fd, &c, 1, offset), 1);
	close(fd);
}

static void test_read_back_tampered_layer(void **state)
{
	struct fixture *f = *state;
	char *layout = xasprintf("%s/layout", f->work);
	char *dest = xasprintf("%s/dest", f->work);
	char *spec = xasprintf("oci:%s:t1", layout);
	struct image_source src;
	struct image image;
	char *blob;

	build(f, "a", &image);
	assert_int_equal(write_oci(f, layout, &image, "t1", NULL), 0);
	blob = xasprintf("%s/blobs/sha256/%s", layout, image.layer.digest);
	/* The layout may hold a hard link to the work file. */
	break_link(blob);

	assert_int_equal(image_open(&f->ctx, spec, NULL, &src), 0);
	flip_byte(blob, (long)image.layer.size / 2);
	assert_int_equal(image_extract(&f->ctx, &src, dest, NULL), REPACK_EVERIFY);
	assert_non_null(strstr(f->ctx.error, image.layer.digest));
	assert_int_equal(count_entries(dest), 0);

	/* A truncated layer fails the same way. */
	flip_byte(blob, (long)image.layer.size / 2);
	assert_int_equal(truncate(blob, (off_t)image.layer.size - 100), 0);
	assert_int_equal(image_extract(&f->ctx, &src, dest, NULL), REPACK_EVERIFY);
	assert_int_equal(count_entries(dest), 0);
	image_source_release(&src);

	/* A changed config is caught when the image is opened. */
	free(blob);
	blob = xasprintf("%s/blobs/sha256/%s", layout, image.config.digest);
	break_link(blob);
	flip_byte(blob, 10);
	assert_int_equal(image_open(&f->ctx, spec, NULL, &src), REPACK_EVERIFY);
	assert_non_null(strstr(f->ctx.error, image.config.digest));
	image_source_release(&src);

	free(blob);
	free(spec);
	free(dest);
	free(layout);
	image_release(&image);
}

/* Write a one-layer OCI layout by hand whose layer contains the given
 * entries: "f:NAME" a file, "d:NAME" a directory, "l:NAME" a symlink,
 * "h:NAME" a hard link to the first file. */
static void write_custom_layout(struct fixture *f, const char *layout,
				const char *const *entries, size_t count)
{
	char *tar = xasprintf("%s/custom.tar", f->work);
	char *gz = xasprintf("%s/custom.tar.gz", f->work);
	struct archive *a = archive_write_new();
	char diff_id[SHA256_HEX_LEN + 1], digest[SHA256_HEX_LEN + 1];
	char config_hex[SHA256_HEX_LEN + 1], manifest_hex[SHA256_HEX_LEN + 1];
	char *cmd, *config, *manifest, *index, *path;
	uint64_t gz_size;

	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, tar), ARCHIVE_OK);
	for (size_t i = 0; i < count; i++) {
		struct archive_entry *e = archive_entry_new();
		const char *name = entries[i] + 2;

		archive_entry_set_pathname(e, name);
		archive_entry_set_perm(e, 0644);
		switch (entries[i][0]) {
		case 'f':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, 5);
			break;
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, "/etc/passwd");
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, entries[0] + 2);
			break;
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (entries[i][0] == 'f')
			assert_int_equal(archive_write_data(a, "hello", 5), 5);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);

	cmd = xasprintf("gzip -n -c '%s' > '%s'", tar, gz);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_int_equal(sha256_file(&f->ctx, tar, diff_id, NULL), 0);
	assert_int_equal(sha256_file(&f->ctx, gz, digest, &gz_size), 0);

	path = xasprintf("%s/blobs/sha256", layout);
	assert_int_equal(mkdir_p(&f->ctx, path), 0);
	free(path);
	path = xasprintf("%s/blobs/sha256/%s", layout, digest);
	assert_int_equal(rename(gz, path), 0);
	free(path);

	config = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\","
			   "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}",
			   diff_id);
	sha256_buffer(config, strlen(config), config_hex);
	path = xasprintf("%s/blobs/sha256/%s", layout, config_hex);
	write_text(path, config);
	free(path);
	manifest = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
			     "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:%s\",\"size\":%zu},"
			     "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:%s\",\"size\":%llu}]}",
			     config_hex, strlen(config), digest, (unsigned long long)gz_size);
	sha256_buffer(manifest, strlen(manifest), manifest_hex);
	path = xasprintf("%s/blobs/sha256/%s", layout, manifest_hex);
	write_text(path, manifest);
	free(path);
	index = xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
			  "\"digest\":\"sha256:%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":\"x\"}}]}",
			  manifest_hex, strlen(manifest));
	path = xasprintf("%s/index.json", layout);
	write_text(path, index);
	free(path);

	free(index);
	free(manifest);
	free(config);
	free(gz);
	free(tar);
}

static void test_read_rejects_hostile_layers(void **state)
{
	static const struct {
		const char *entries[3];
		size_t count;
		int rc;
		const char *message;
	} cases[] = {
		{ { "f:kernel", "f:../evil" }, 2, REPACK_EUNPACK, "'../evil'" },
		{ { "f:kernel", "f:/etc/evil" }, 2, REPACK_EUNPACK, "'/etc/evil'" },
		{ { "f:kernel", "f:lib/modules" }, 2, REPACK_EUNPACK, "'lib/modules'" },
		{ { "f:kernel", "l:kernel.tar" }, 2, REPACK_EUNPACK, "'kernel.tar'" },
		{ { "f:kernel", "h:kernel.tar" }, 2, REPACK_EUNPACK, "'kernel.tar'" },
		{ { "f:kernel", "d:boot" }, 2, REPACK_EUNPACK, "'boot/'" },
		{ { "f:kernel", "f:.wh.kernel" }, 2, REPACK_EUNPACK, "'.wh.kernel'" },
		{ { "f:kernel", "f:kernel" }, 2, REPACK_EUNPACK, "twice" },
		/* A "./" prefix and a "." directory entry are accepted. */
		{ { "d:.", "f:./kernel", "f:kernel.tar" }, 3, 0, NULL },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *layout = xasprintf("%s/custom%zu", f->work, i);
		char *dest = xasprintf("%s/dest%zu", f->work, i);
		char *spec = xasprintf("oci:%s:x", layout);
		struct image_source src;
		int rc;

		write_custom_layout(f, layout, cases[i].entries, cases[i].count);
		assert_int_equal(image_open(&f->ctx, spec, NULL, &src), 0);
		rc = image_extract(&f->ctx, &src, dest, NULL);
		if (rc != cases[i].rc)
			fail_msg("case %zu gave %d (%s)", i, rc, f->ctx.error);
		if (cases[i].message && !strstr(f->ctx.error, cases[i].message))
			fail_msg("case %zu: '%s' lacks %s", i, f->ctx.error,
				 cases[i].message);
		/* A rejected layer leaves nothing in dest. */
		assert_int_equal(count_entries(dest), rc ? 0 : (int)cases[i].count - 1);
		image_source_release(&src);
		free(spec);
		free(dest);
		free(layout);
	}
}

static void test_read_back_dir(void **state)
{
	struct fixture *f = *state;
	char *dir = xasprintf("%s/out", f->work);
	char *dest = xasprintf("%s/dest", f->work);
	char *spec = xasprintf("dir:%s", dir);
	struct output out = { OUTPUT_DIR, dir };
	struct image_file_list files;
	struct image_source src;
	struct image image;

	build(f, "a", &image);
	assert_int_equal(image_write(&f->ctx, &out, &image, &f->meta, &f->files, NULL), 0);
	assert_int_equal(image_open(&f->ctx, spec, NULL, &src), 0);
	assert_string_equal(image_source_label(&src, "org.linuxkit.repack.version"), "6.1.192-3");
	assert_int_equal(image_extract(&f->ctx, &src, dest, &files), 0);
	check_extracted(f, dest);
	assert_int_equal(files.count, SLOT_COUNT);
	image_file_list_release(&files);
	image_source_release(&src);

	free(spec);
	spec = xasprintf("dir:%s/in", f->work);
	assert_int_equal(image_open(&f->ctx, spec, NULL, &src), REPACK_ENOTFOUND);
	image_source_release(&src);

	free(spec);
	free(dest);
	free(dir);
	image_release(&image);
}

/* ---- other tools read the layout ---- */

static void test_skopeo_and_umoci_accept_layout(void **state)
{
	struct fixture *f = *state;
	char *layout = xasprintf("%s/layout", f->work);
	char *cmd, *out, *digest, *rootfs;
	struct image image;

	if (!have_command("skopeo") || !have_command("umoci"))
		skip();
	build(f, "a", &image);
	assert_int_equal(write_oci(f, layout, &image, "6.1.192-3-cloud",
				   "6.1.192-3-cloud-amd64"), 0);

	cmd = xasprintf("skopeo inspect oci:%s:6.1.192-3-cloud 2>&1", layout);
	out = run_output(cmd);
	digest = xasprintf("\"Digest\": \"sha256:%s\"", image.manifest.digest);
	if (!strstr(out, digest))
		fail_msg("skopeo inspect printed: %s", out);
	assert_non_null(strstr(out, "\"org.linuxkit.repack.distro\": \"debian\""));
	free(digest);
	free(out);
	free(cmd);

	/* umoci checks every digest while it unpacks. */
	cmd = xasprintf("umoci unpack %s--image %s:6.1.192-3-cloud-amd64 %s/bundle 2>&1",
			geteuid() == 0 ? "" : "--rootless ", layout, f->work);
	out = run_output(cmd);
	free(out);
	free(cmd);
	rootfs = xasprintf("%s/bundle/rootfs", f->work);
	check_extracted(f, rootfs);
	free(rootfs);

	free(layout);
	image_release(&image);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tag_sanitise_table),
		cmocka_unit_test(test_tag_sanitise_too_long),
		cmocka_unit_test(test_tag_valid_table),
		cmocka_unit_test(test_output_parse_table),
		cmocka_unit_test_setup_teardown(test_build_reproducible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_blob_digests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gzip_header_has_no_time_or_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layer_sorted_fixed_owner_and_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layer_without_optional_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layer_content_and_diff_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_missing_inputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_labels_and_manifest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_rejects_invalid_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oci_index_keeps_and_replaces_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oci_broken_index_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oci_rejects_bad_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oci_not_a_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oci_concurrent_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_output_failure_keeps_old_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_back_oci, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_back_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_back_tampered_layer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_rejects_hostile_layers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_back_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skopeo_and_umoci_accept_layout, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
