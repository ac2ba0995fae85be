/* The registry client's parsers and lookups (image references,
 * WWW-Authenticate challenges, and credentials from the environment, the
 * Docker config and credential helpers), and the tags an image set is
 * pushed under. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include "image.h"
#include "registry.h"

/* ---- helpers ---- */

static char *scratch_dir(void)
{
	struct repack_ctx ctx;
	char *dir = NULL;

	repack_ctx_init(&ctx);
	assert_int_equal(make_temp_dir(&ctx, "test-registry", &dir), 0);
	return dir;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Clear every variable the credential lookup reads. */
static void clear_credential_env(void)
{
	unsetenv("REPACK_REGISTRY_USER");
	unsetenv("REPACK_REGISTRY_PASSWORD");
	unsetenv("DOCKER_CONFIG");
}

/* ---- references ---- */

static void test_ref_parse_table(void **state)
{
	static const struct {
		const char *text;
		int rc;
		const char *host, *repo, *tag, *digest;
	} cases[] = {
		{ "127.0.0.1:5000/kernel-debian", 0, "127.0.0.1:5000", "kernel-debian", NULL, NULL },
		{ "docker://127.0.0.1:5000/a/b:6.1.192-3", 0, "127.0.0.1:5000", "a/b", "6.1.192-3", NULL },
		{ "localhost/kernel", 0, "localhost", "kernel", NULL, NULL },
		{ "ghcr.io/example/kernel-fedora:5.3.7-301.fc31", 0, "ghcr.io",
		  "example/kernel-fedora", "5.3.7-301.fc31", NULL },
		{ "linuxkit/kernel-debian:6.1", 0, "docker.io", "linuxkit/kernel-debian", "6.1", NULL },
		{ "alpine", 0, "docker.io", "library/alpine", NULL, NULL },
		{ "index.docker.io/linuxkit/kernel", 0, "docker.io", "linuxkit/kernel", NULL, NULL },
		{ "reg.example/a__b/c.d-e", 0, "reg.example", "a__b/c.d-e", NULL, NULL },
		{ "reg.example/k@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  0, "reg.example", "k", NULL,
		  "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
		{ "", REPACK_EUSAGE, NULL, NULL, NULL, NULL },
		{ "docker://", REPACK_EUSAGE, NULL, NULL, NULL, NULL },
		{ "reg.example/Kernel", REPACK_EUSAGE, NULL, NULL, NULL, NULL },
		{ "reg.example/a//b", REPACK_EUSAGE, NULL, NULL, NULL, NULL },
		{ "reg.example/-a", REPACK_EUSAGE, NULL, NULL, NULL, NULL },
		{ "reg.example/a___b", REPACK_EUSAGE, NULL, NULL, NULL, NULL },
		{ "reg.example/k:", REPACK_EUSAGE, NULL, NULL, NULL, NULL },
		{ "reg.example/k:.hidden", REPACK_EUSAGE, NULL, NULL, NULL, NULL },
		{ "reg.example/k@sha256:1234", REPACK_EUSAGE, NULL, NULL, NULL, NULL },
		{ "reg example/k", REPACK_EUSAGE, NULL, NULL, NULL, NULL },
	};
	struct repack_ctx ctx;

	(void)state;
	repack_ctx_init(&ctx);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct registry_ref ref;
		int rc = registry_ref_parse(&ctx, cases[i].text, &ref);

		if (rc != cases[i].rc)
			fail_msg("'%s' gave %d (%s), expected %d", cases[i].text, rc,
				 ctx.error, cases[i].rc);
		if (rc == 0) {
			assert_string_equal(ref.host, cases[i].host);
			assert_string_equal(ref.repo, cases[i].repo);
			if (cases[i].tag)
				assert_string_equal(ref.tag, cases[i].tag);
			else
				assert_null(ref.tag);
			if (cases[i].digest)
				assert_string_equal(ref.digest, cases[i].digest);
			else
				assert_null(ref.digest);
		} else {
			assert_non_null(strstr(ctx.error, "invalid image reference"));
		}
		registry_ref_release(&ref);
	}
}

/* ---- challenges ---- */

static void test_challenge_parse_table(void **state)
{
	static const struct {
		const char *header;
		int rc;
		const char *scheme, *realm, *service, *scope, *error;
	} cases[] = {
		{ "Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
		  "scope=\"repository:a/b:pull,push\"", 0, "Bearer",
		  "https://auth.example/token", "registry.example", "repository:a/b:pull,push", NULL },
		{ "Bearer realm=\"http://127.0.0.1:1/token\", service=\"svc\", "
		  "error=\"insufficient_scope\"", 0, "Bearer", "http://127.0.0.1:1/token", "svc",
		  NULL, "insufficient_scope" },
		{ "Basic realm=\"repack test\"", 0, "Basic", "repack test", NULL, NULL, NULL },
		{ "basic realm=plain", 0, "basic", "plain", NULL, NULL, NULL },
		{ "Bearer realm=\"a\\\"b\"", 0, "Bearer", "a\"b", NULL, NULL, NULL },
		{ "Bearer REALM=\"x\",Service=\"y\"", 0, "Bearer", "x", "y", NULL, NULL },
		{ "Bearer", 0, "Bearer", NULL, NULL, NULL, NULL },
		/* Only the first challenge is read. */
		{ "Basic realm=\"a\", Bearer realm=\"b\"", 0, "Basic", "a", NULL, NULL, NULL },
		{ "", REPACK_EFORMAT, NULL, NULL, NULL, NULL, NULL },
		{ "Bearer realm=\"unterminated", REPACK_EFORMAT, NULL, NULL, NULL, NULL, NULL },
		{ "Bearer =x", REPACK_EFORMAT, NULL, NULL, NULL, NULL, NULL },
		{ "Bearer realm", REPACK_EFORMAT, NULL, NULL, NULL, NULL, NULL },
	};
	struct repack_ctx ctx;

	(void)state;
	repack_ctx_init(&ctx);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct registry_challenge ch;
		int rc = registry_challenge_parse(&ctx, cases[i].header, &ch);

		if (rc != cases[i].rc)
			fail_msg("'%s' gave %d (%s), expected %d", cases[i].header, rc,
				 ctx.error, cases[i].rc);
		if (rc == 0) {
			const char *got[] = { ch.realm, ch.service, ch.scope, ch.error };
			const char *want[] = { cases[i].realm, cases[i].service,
					       cases[i].scope, cases[i].error };

			assert_string_equal(ch.scheme, cases[i].scheme);
			for (int j = 0; j < 4; j++) {
				if (want[j])
					assert_string_equal(got[j], want[j]);
				else
					assert_null(got[j]);
			}
		}
		registry_challenge_release(&ch);
	}
}

/* ---- credentials ---- */

struct creds_fixture {
	struct repack_ctx ctx;
	char *dir;
	char *config;
	char *old_path;
};

static int creds_setup(void **state)
{
	struct creds_fixture *f = xcalloc(1, sizeof(*f));
	const char *path = getenv("PATH");

	repack_ctx_init(&f->ctx);
	f->dir = scratch_dir();
	f->config = xasprintf("%s/config.json", f->dir);
	f->old_path = xstrdup(path ? path : "/usr/bin:/bin");
	clear_credential_env();
	setenv("DOCKER_CONFIG", f->dir, 1);
	*state = f;
	return 0;
}

static int creds_teardown(void **state)
{
	struct creds_fixture *f = *state;

	setenv("PATH", f->old_path, 1);
	clear_credential_env();
	rm_rf(f->dir);
	free(f->old_path);
	free(f->config);
	free(f->dir);
	repack_ctx_release(&f->ctx);
	free(f);
	return 0;
}

/* Look up host and check the user, the secret and where they came from. */
static void expect_creds(struct creds_fixture *f, const char *host, const char *user,
			 const char *secret, const char *source_part)
{
	struct registry_credentials creds;
	int rc = registry_credentials_find(&f->ctx, host, &creds);

	if (rc)
		fail_msg("lookup for %s failed: %s", host, f->ctx.error);
	if (!user) {
		assert_null(creds.username);
	} else {
		assert_non_null(creds.username);
		assert_string_equal(creds.username, user);
		assert_string_equal(creds.secret, secret);
		assert_non_null(strstr(creds.source, source_part));
		/* The source names where, never the secret. */
		assert_null(strstr(creds.source, secret));
	}
	registry_credentials_release(&creds);
}

static void test_creds_none(void **state)
{
	struct creds_fixture *f = *state;

	expect_creds(f, "127.0.0.1:5000", NULL, NULL, NULL);
}

static void test_creds_environment(void **state)
{
	struct creds_fixture *f = *state;
	struct registry_credentials creds;

	write_text(f->config, "{\"auths\": {\"127.0.0.1:5000\": {\"auth\": \"dXNlcjpwYXNz\"}}}", 0600);
	setenv("REPACK_REGISTRY_USER", "env-user", 1);
	setenv("REPACK_REGISTRY_PASSWORD", "env-secret", 1);
	expect_creds(f, "127.0.0.1:5000", "env-user", "env-secret", "REPACK_REGISTRY_USER");

	unsetenv("REPACK_REGISTRY_PASSWORD");
	assert_int_equal(registry_credentials_find(&f->ctx, "127.0.0.1:5000", &creds),
			 REPACK_EUSAGE);
	assert_non_null(strstr(f->ctx.error, "REPACK_REGISTRY_PASSWORD is not"));
	registry_credentials_release(&creds);
}

static void test_creds_auths(void **state)
{
	struct creds_fixture *f = *state;

	/* "user:pa:ss" in base64: the password may hold a colon. */
	write_text(f->config,
		   "{\"auths\": {"
		   "\"https://reg.example/v1/\": {\"auth\": \"dXNlcjpwYTpzcw==\"},"
		   "\"other.example\": {\"username\": \"u2\", \"password\": \"p2\"},"
		   "\"https://index.docker.io/v1/\": {\"auth\": \"aHViOmh1YnNlY3JldA==\"}}}", 0600);
	expect_creds(f, "reg.example", "user", "pa:ss", f->config);
	expect_creds(f, "other.example", "u2", "p2", f->config);
	expect_creds(f, "docker.io", "hub", "hubsecret", f->config);
	expect_creds(f, "reg.example:5000", NULL, NULL, NULL);
	expect_creds(f, "example", NULL, NULL, NULL);
}

static void test_creds_bad_config(void **state)
{
	struct creds_fixture *f = *state;
	struct registry_credentials creds;

	write_text(f->config, "{\"auths\": ", 0600);
	assert_int_equal(registry_credentials_find(&f->ctx, "reg.example", &creds),
			 REPACK_EFORMAT);
	assert_non_null(strstr(f->ctx.error, f->config));
	registry_credentials_release(&creds);

	write_text(f->config, "{\"auths\": {\"reg.example\": {\"auth\": \"bm9jb2xvbg==\"}}}", 0600);
	assert_int_equal(registry_credentials_find(&f->ctx, "reg.example", &creds),
			 REPACK_EFORMAT);
	assert_non_null(strstr(f->ctx.error, "user:password"));
	registry_credentials_release(&creds);
}

/* Install docker-credential-NAME in the scratch directory, on PATH. */
static void install_helper(struct creds_fixture *f, const char *name, const char *body)
{
	char *path = xasprintf("%s/docker-credential-%s", f->dir, name);
	char *script = xasprintf("#!/bin/sh\n%s\n", body);
	char *search = xasprintf("%s:%s", f->dir, f->old_path);

	write_text(path, script, 0755);
	setenv("PATH", search, 1);
	free(search);
	free(script);
	free(path);
}

static void test_creds_helpers(void **state)
{
	struct creds_fixture *f = *state;
	char *input = xasprintf("%s/helper.in", f->dir);
	char *body = xasprintf("[ \"$1\" = get ] || exit 2\ncat >%s\n"
			       "echo '{\"ServerURL\":\"x\",\"Username\":\"helper-user\","
			       "\"Secret\":\"helper-secret\"}'", input);
	struct repack_ctx ctx;
	char *data = NULL;
	size_t len;

	install_helper(f, "unit", body);
	install_helper(f, "none", "echo 'credentials not found in native keychain'; exit 1");
	install_helper(f, "broken", "echo 'keychain locked'; exit 3");

	write_text(f->config, "{\"credsStore\": \"unit\"}", 0600);
	expect_creds(f, "reg.example:5000", "helper-user", "helper-secret", "docker-credential-unit");
	repack_ctx_init(&ctx);
	assert_int_equal(read_file(&ctx, input, &data, &len), 0);
	assert_string_equal(data, "reg.example:5000\n");
	free(data);

	/* credHelpers wins for its host; a helper without an entry falls
	 * back to auths. */
	write_text(f->config, "{\"credsStore\": \"none\", \"credHelpers\": {\"a.example\": \"unit\"},"
		   "\"auths\": {\"b.example\": {\"auth\": \"dXNlcjpwYXNz\"}}}", 0600);
	expect_creds(f, "a.example", "helper-user", "helper-secret", "docker-credential-unit");
	expect_creds(f, "b.example", "user", "pass", f->config);
	expect_creds(f, "c.example", NULL, NULL, NULL);

	write_text(f->config, "{\"credsStore\": \"broken\"}", 0600);
	{
		struct registry_credentials creds;

		assert_int_equal(registry_credentials_find(&f->ctx, "a.example", &creds),
				 REPACK_EFAIL);
		assert_non_null(strstr(f->ctx.error, "keychain locked"));
		registry_credentials_release(&creds);
	}
	write_text(f->config, "{\"credsStore\": \"../../bin/sh\"}", 0600);
	{
		struct registry_credentials creds;

		assert_int_equal(registry_credentials_find(&f->ctx, "a.example", &creds),
				 REPACK_EFORMAT);
		registry_credentials_release(&creds);
	}
	free(body);
	free(input);
}

/* ---- the tags of an image set ---- */

static void test_inputs_hash(void **state)
{
	struct image_input a[2], b[3];
	struct image_meta ma = { 0 }, mb = { 0 };
	const struct image_meta *one[] = { &ma }, *other[] = { &mb };
	char hash_a[IMAGE_INPUTS_HASH_LEN + 1], hash_b[IMAGE_INPUTS_HASH_LEN + 1];
	char want[SHA256_HEX_LEN + 1];
	const char *text;

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(a[0].sha256, 'b', SHA256_HEX_LEN);
	memset(a[1].sha256, 'a', SHA256_HEX_LEN);
	/* The same packages in another order, one of them twice. */
	memcpy(b[0].sha256, a[1].sha256, sizeof(b[0].sha256));
	memcpy(b[1].sha256, a[0].sha256, sizeof(b[1].sha256));
	memcpy(b[2].sha256, a[1].sha256, sizeof(b[2].sha256));
	ma.inputs = a;
	ma.input_count = 2;
	mb.inputs = b;
	mb.input_count = 3;

	image_inputs_hash(one, 1, hash_a);
	image_inputs_hash(other, 1, hash_b);
	assert_int_equal(strlen(hash_a), IMAGE_INPUTS_HASH_LEN);
	assert_string_equal(hash_a, hash_b);

	text = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
	       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n";
	sha256_buffer(text, strlen(text), want);
	assert_memory_equal(hash_a, want, IMAGE_INPUTS_HASH_LEN);

	ma.input_count = 1;
	image_inputs_hash(one, 1, hash_b);
	assert_string_not_equal(hash_a, hash_b);
}

static void fake_image(struct image *image, char fill)
{
	memset(image, 0, sizeof(*image));
	memset(image->manifest.digest, fill, SHA256_HEX_LEN);
	image->manifest.size = 400;
	image->manifest.media_type = "application/vnd.oci.image.manifest.v1+json";
}

static void test_set_tags(void **state)
{
	struct image amd, arm;
	struct image_input input = { "k.deb", { 0 } };
	struct image_meta meta_amd = { .tag = "6.1-cloud", .arch = "amd64",
				       .inputs = &input, .input_count = 1 };
	struct image_meta meta_arm = meta_amd;
	struct image_set set;
	struct repack_ctx ctx;
	char *dir = scratch_dir();
	json_t *index;
	const char *expect[] = { "6.1-cloud", "6.1-cloud-arm64", "6.1-cloud-amd64" };

	(void)state;
	repack_ctx_init(&ctx);
	memset(input.sha256, 'c', SHA256_HEX_LEN);
	meta_arm.arch = "arm64";
	fake_image(&amd, '1');
	fake_image(&arm, '2');

	/* One image: every tag names its manifest. */
	image_set_init(&set);
	image_set_add(&set, &amd, &meta_amd, NULL);
	assert_int_equal(image_set_finish(&ctx, &set, dir), 0);
	assert_int_equal(set.tag_count, 3);
	for (size_t i = 0; i < set.tag_count; i++)
		assert_int_equal(set.tags[i].target, 0);
	assert_string_equal(set.tags[1].name, "6.1-cloud-amd64");
	assert_true(str_starts_with(set.tags[2].name, "6.1-cloud-"));
	assert_int_equal(strlen(set.tags[2].name), strlen("6.1-cloud-") + IMAGE_INPUTS_HASH_LEN);
	assert_ptr_equal(image_set_top(&set), &amd.manifest);
	image_set_release(&set);

	/* Two: the plain and hash tags name the index, sorted by arch. */
	image_set_init(&set);
	image_set_add(&set, &arm, &meta_arm, NULL);
	image_set_add(&set, &amd, &meta_amd, NULL);
	assert_int_equal(image_set_finish(&ctx, &set, dir), 0);
	assert_int_equal(set.tag_count, 4);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(set.tags[i].name, expect[i]);
	assert_int_equal(set.tags[0].target, IMAGE_TAG_INDEX);
	assert_int_equal(set.tags[1].target, 0);
	assert_int_equal(set.tags[2].target, 1);
	assert_int_equal(set.tags[3].target, IMAGE_TAG_INDEX);
	assert_ptr_equal(image_set_top(&set), &set.index);
	index = json_load_file(set.index.path, 0, NULL);
	assert_non_null(index);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(
		json_object_get(index, "manifests"), 0), "platform"), "architecture")), "amd64");
	json_decref(index);
	image_set_release(&set);

	/* Two images of the same architecture, or of two versions, fail. */
	image_set_init(&set);
	image_set_add(&set, &amd, &meta_amd, NULL);
	image_set_add(&set, &amd, &meta_amd, NULL);
	assert_int_equal(image_set_finish(&ctx, &set, dir), REPACK_EFAIL);
	assert_non_null(strstr(ctx.error, "appears twice"));
	image_set_release(&set);
	meta_arm.tag = "6.2-cloud";
	image_set_init(&set);
	image_set_add(&set, &amd, &meta_amd, NULL);
	image_set_add(&set, &arm, &meta_arm, NULL);
	assert_int_equal(image_set_finish(&ctx, &set, dir), REPACK_EFAIL);
	assert_non_null(strstr(ctx.error, "one version"));
	image_set_release(&set);

	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_parse_table),
		cmocka_unit_test(test_challenge_parse_table),
		cmocka_unit_test_setup_teardown(test_creds_none, creds_setup, creds_teardown),
		cmocka_unit_test_setup_teardown(test_creds_environment, creds_setup, creds_teardown),
		cmocka_unit_test_setup_teardown(test_creds_auths, creds_setup, creds_teardown),
		cmocka_unit_test_setup_teardown(test_creds_bad_config, creds_setup, creds_teardown),
		cmocka_unit_test_setup_teardown(test_creds_helpers, creds_setup, creds_teardown),
		cmocka_unit_test(test_inputs_hash),
		cmocka_unit_test(test_set_tags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
