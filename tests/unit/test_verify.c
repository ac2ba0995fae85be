/* Signature checks with gpgv against keys generated at test time, and the
 * clear-signed message parser. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "verify.h"

extern char **environ;

/* Signed text with the cases OpenPGP's clear-signing treats specially:
 * lines that start with a dash, trailing white space, CRLF endings and
 * empty lines before the signature. */
static const char document_text[] =
	"Origin: Test\n"
	"Suite: stable\n"
	"- dash and space\n"
	"-----five dashes\n"
	"trailing blanks \t \n"
	"crlf line\r\n"
	"\n"
	"last\n"
	"\n";

/* What gpgv outputs for document_text: trailing blanks dropped. */
static const char document_payload[] =
	"Origin: Test\n"
	"Suite: stable\n"
	"- dash and space\n"
	"-----five dashes\n"
	"trailing blanks\n"
	"crlf line\r\n"
	"\n"
	"last\n"
	"\n";

static struct {
	char *dir;        /* everything the tests create */
	char *home;       /* GNUPGHOME of the signing side */
	char *keyring_a;  /* binary export of key A */
	char *armored_a;  /* armored export of key A */
	char *keyring_b;  /* binary export of key B */
	char *keyring_old; /* key that expired long ago */
	char *signed_a;   /* document_text clear-signed by A */
	char *signed_ab;  /* clear-signed by A and B */
	char *signed_old; /* clear-signed by the expired key */
	char *sig_a;      /* detached binary signature by A */
	char *sig_a_asc;  /* detached armored signature by A */
} fx;

/* Run argv with stdin and stdout on /dev/null; return its exit status. */
static int run(char *const argv[])
{
	posix_spawn_file_actions_t actions;
	pid_t pid;
	int status;

	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&actions);
		return -1;
	}
	posix_spawn_file_actions_destroy(&actions);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *fx_path(const char *name)
{
	return xasprintf("%s/%s", fx.dir, name);
}

/* Generate a key without a passphrase; faked_time makes it in the past. */
static int generate_key(const char *name, const char *email,
			const char *expire, const char *faked_time)
{
	struct repack_ctx ctx;
	char *params = fx_path("params");
	char *text = xasprintf("%%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\n"
			       "Key-Usage: sign\nName-Real: %s\nName-Email: %s\n"
			       "Expire-Date: %s\n%%commit\n", name, email, expire);
	char *argv[] = { "gpg", "--batch", "--quiet", "--gen-key", params, NULL, NULL, NULL };
	char *faked_argv[] = { "gpg", "--batch", "--quiet", "--faked-system-time",
			       (char *)faked_time, "--gen-key", params, NULL };
	int rc;

	repack_ctx_init(&ctx);
	rc = write_file_atomic(&ctx, params, text, strlen(text));
	if (rc == 0)
		rc = run(faked_time ? faked_argv : argv);
	repack_ctx_release(&ctx);
	free(text);
	free(params);
	return rc;
}

static int export_key(const char *email, const char *out, bool armor)
{
	char *argv[] = { "gpg", "--batch", "--yes", "--output", (char *)out,
			 armor ? "--armor" : "--no-armor", "--export", (char *)email, NULL };

	return run(argv);
}

/* Sign the file in with gpg into out; mode is "--clearsign" or
 * "--detach-sign". */
static int sign(const char *mode, const char *signer, const char *second,
		bool armor, const char *faked_time, const char *in, const char *out)
{
	char *argv[20];
	int n = 0;

	argv[n++] = "gpg";
	argv[n++] = "--batch";
	argv[n++] = "--yes";
	if (faked_time) {
		argv[n++] = "--faked-system-time";
		argv[n++] = (char *)faked_time;
	}
	argv[n++] = "--local-user";
	argv[n++] = (char *)signer;
	if (second) {
		argv[n++] = "--local-user";
		argv[n++] = (char *)second;
	}
	if (armor)
		argv[n++] = "--armor";
	argv[n++] = "--output";
	argv[n++] = (char *)out;
	argv[n++] = (char *)mode;
	argv[n++] = (char *)in;
	argv[n] = NULL;
	return run(argv);
}

static int group_setup(void **state)
{
	struct repack_ctx ctx;
	char *text_path;
	int rc = 0;

	repack_ctx_init(&ctx);
	if (make_temp_dir(&ctx, "repack-verify-test", &fx.dir) < 0)
		return -1;
	fx.home = fx_path("gnupg");
	mkdir(fx.home, 0700);
	setenv("GNUPGHOME", fx.home, 1);
	fx.keyring_a = fx_path("a.gpg");
	fx.armored_a = fx_path("a.asc");
	fx.keyring_b = fx_path("b.gpg");
	fx.keyring_old = fx_path("old.gpg");
	fx.signed_a = fx_path("signed-a");
	fx.signed_ab = fx_path("signed-ab");
	fx.signed_old = fx_path("signed-old");
	fx.sig_a = fx_path("data.sig");
	fx.sig_a_asc = fx_path("data.asc");
	text_path = fx_path("document.txt");

	rc |= write_file_atomic(&ctx, text_path, document_text, strlen(document_text));
	rc |= generate_key("Test A", "a@example.invalid", "0", NULL);
	rc |= generate_key("Test B", "b@example.invalid", "0", NULL);
	/* Made in 2020 with a lifetime of one day, so expired now. */
	rc |= generate_key("Old key", "old@example.invalid", "1d", "20200101T000000!");
	rc |= export_key("a@example.invalid", fx.keyring_a, false);
	rc |= export_key("a@example.invalid", fx.armored_a, true);
	rc |= export_key("b@example.invalid", fx.keyring_b, false);
	rc |= export_key("old@example.invalid", fx.keyring_old, false);
	rc |= sign("--clearsign", "a@example.invalid", NULL, false, NULL, text_path, fx.signed_a);
	rc |= sign("--clearsign", "a@example.invalid", "b@example.invalid", false, NULL,
		   text_path, fx.signed_ab);
	rc |= sign("--clearsign", "old@example.invalid", NULL, false, "20200101T000100!",
		   text_path, fx.signed_old);
	rc |= sign("--detach-sign", "a@example.invalid", NULL, false, NULL, text_path, fx.sig_a);
	rc |= sign("--detach-sign", "a@example.invalid", NULL, true, NULL, text_path, fx.sig_a_asc);

	char *kill_agent[] = { "gpgconf", "--kill", "gpg-agent", NULL };
	run(kill_agent);
	free(text_path);
	repack_ctx_release(&ctx);
	return rc ? -1 : 0;
}

static int group_teardown(void **state)
{
	rm_rf(fx.dir);
	free(fx.dir);
	free(fx.home);
	free(fx.keyring_a);
	free(fx.armored_a);
	free(fx.keyring_b);
	free(fx.keyring_old);
	free(fx.signed_a);
	free(fx.signed_ab);
	free(fx.signed_old);
	free(fx.sig_a);
	free(fx.sig_a_asc);
	return 0;
}

static int setup(void **state)
{
	struct repack_ctx *ctx = xmalloc(sizeof(*ctx));

	repack_ctx_init(ctx);
	*state = ctx;
	return 0;
}

static int teardown(void **state)
{
	repack_ctx_release(*state);
	free(*state);
	return 0;
}

/* Return a file's contents (caller frees). */
static char *slurp(const char *path, size_t *len)
{
	struct repack_ctx ctx;
	char *data = NULL;

	repack_ctx_init(&ctx);
	assert_int_equal(read_file(&ctx, path, &data, len), 0);
	repack_ctx_release(&ctx);
	return data;
}

/* Write data to a new file in the fixture directory; caller frees the
 * returned path. */
static char *spill(const char *name, const char *data, size_t len)
{
	struct repack_ctx ctx;
	char *path = fx_path(name);

	repack_ctx_init(&ctx);
	assert_int_equal(write_file_atomic(&ctx, path, data, len), 0);
	repack_ctx_release(&ctx);
	return path;
}

#define assert_rc(ctx, call, expected)                                     \
	do {                                                               \
		int rc_ = (call);                                          \
		if (rc_ != (expected))                                     \
			print_message("message: %s\n", (ctx)->error);       \
		assert_int_equal(rc_, (expected));                         \
	} while (0)

/* Verify the clear-signed file at path with keyring; return the code. */
static int check_clearsigned(struct repack_ctx *ctx, const char *keyring,
			     const char *path, char **payload, size_t *payload_len)
{
	size_t len;
	char *doc = slurp(path, &len);
	int rc = verify_clearsigned(ctx, keyring, doc, len, payload, payload_len);

	free(doc);
	return rc;
}

static int check_detached(struct repack_ctx *ctx, const char *keyring,
			  const char *data, size_t len, const char *sig_path)
{
	size_t sig_len;
	char *sig = slurp(sig_path, &sig_len);
	int rc = verify_detached(ctx, keyring, data, len, sig, sig_len);

	free(sig);
	return rc;
}

static void clearsigned_good(void **state)
{
	struct repack_ctx *ctx = *state;
	char *payload = NULL;
	size_t len = 0;

	assert_rc(ctx, check_clearsigned(ctx, fx.keyring_a, fx.signed_a, &payload, &len), 0);
	assert_int_equal(len, strlen(document_payload));
	assert_string_equal(payload, document_payload);
	free(payload);
}

static void clearsigned_armored_keyring(void **state)
{
	struct repack_ctx *ctx = *state;
	char *payload = NULL;
	size_t len = 0;

	assert_rc(ctx, check_clearsigned(ctx, fx.armored_a, fx.signed_a, &payload, &len), 0);
	assert_string_equal(payload, document_payload);
	free(payload);
}

static void clearsigned_tampered(void **state)
{
	struct repack_ctx *ctx = *state;
	char *payload = NULL;
	size_t len;
	char *doc = slurp(fx.signed_a, &len);
	char *at = strstr(doc, "Suite: stable");

	assert_non_null(at);
	memcpy(at, "Suite: stab1e", 13);
	assert_rc(ctx, verify_clearsigned(ctx, fx.keyring_a, doc, len, &payload, &len),
		  REPACK_EVERIFY);
	assert_null(payload);
	assert_non_null(strstr(ctx->error, "bad signature"));
	assert_non_null(strstr(ctx->error, fx.keyring_a));
	free(doc);
}

static void clearsigned_wrong_key(void **state)
{
	struct repack_ctx *ctx = *state;
	char *payload = NULL;
	size_t len;

	assert_rc(ctx, check_clearsigned(ctx, fx.keyring_b, fx.signed_a, &payload, &len),
		  REPACK_EVERIFY);
	assert_null(payload);
	assert_non_null(strstr(ctx->error, "does not contain"));
	assert_non_null(strstr(ctx->error, fx.keyring_b));
	assert_non_null(strstr(ctx->error, "--keyring"));
}

static void clearsigned_one_known_signer(void **state)
{
	struct repack_ctx *ctx = *state;
	char *payload = NULL;
	size_t len;

	/* Signed by A and B; either keyring alone accepts it. */
	assert_rc(ctx, check_clearsigned(ctx, fx.keyring_a, fx.signed_ab, &payload, &len), 0);
	assert_string_equal(payload, document_payload);
	free(payload);
	payload = NULL;
	assert_rc(ctx, check_clearsigned(ctx, fx.keyring_b, fx.signed_ab, &payload, &len), 0);
	free(payload);
}

static void clearsigned_expired_key(void **state)
{
	struct repack_ctx *ctx = *state;
	char *payload = NULL;
	size_t len;

	assert_rc(ctx, check_clearsigned(ctx, fx.keyring_old, fx.signed_old, &payload, &len),
		  REPACK_EVERIFY);
	assert_non_null(strstr(ctx->error, "expired"));
	assert_null(payload);
}

static void clearsigned_extra_text_rejected(void **state)
{
	struct repack_ctx *ctx = *state;
	size_t len_a, len_b;
	char *a = slurp(fx.signed_a, &len_a);
	char *b = slurp(fx.signed_ab, &len_b);
	struct strbuf doc = STRBUF_INIT;
	char *payload = NULL;
	size_t len;

	/* A second signed block could smuggle text into the payload. */
	strbuf_add(&doc, a, len_a);
	strbuf_add(&doc, b, len_b);
	assert_rc(ctx, verify_clearsigned(ctx, fx.keyring_a, doc.buf, doc.len, &payload, &len),
		  REPACK_EVERIFY);
	assert_non_null(strstr(ctx->error, "text after the signature"));

	strbuf_release(&doc);
	strbuf_addstr(&doc, "Unsigned: yes\n");
	strbuf_add(&doc, a, len_a);
	assert_rc(ctx, verify_clearsigned(ctx, fx.keyring_a, doc.buf, doc.len, &payload, &len),
		  REPACK_EVERIFY);
	assert_non_null(strstr(ctx->error, "not a clear-signed OpenPGP message"));
	assert_null(payload);
	strbuf_release(&doc);
	free(a);
	free(b);
}

static void unsigned_document_rejected(void **state)
{
	struct repack_ctx *ctx = *state;
	char *payload = NULL;
	size_t len;

	assert_rc(ctx, verify_clearsigned(ctx, fx.keyring_a, document_text,
					  strlen(document_text), &payload, &len),
		  REPACK_EVERIFY);
	assert_null(payload);
}

static void detached_good(void **state)
{
	struct repack_ctx *ctx = *state;
	size_t len = strlen(document_text);

	assert_rc(ctx, check_detached(ctx, fx.keyring_a, document_text, len, fx.sig_a), 0);
	assert_rc(ctx, check_detached(ctx, fx.keyring_a, document_text, len, fx.sig_a_asc), 0);
	assert_rc(ctx, check_detached(ctx, fx.armored_a, document_text, len, fx.sig_a), 0);
}

static void detached_tampered(void **state)
{
	struct repack_ctx *ctx = *state;
	char *data = xstrdup(document_text);

	data[0] = 'o';
	assert_rc(ctx, check_detached(ctx, fx.keyring_a, data, strlen(data), fx.sig_a),
		  REPACK_EVERIFY);
	assert_non_null(strstr(ctx->error, "bad signature"));
	free(data);
}

static void detached_wrong_key(void **state)
{
	struct repack_ctx *ctx = *state;

	assert_rc(ctx, check_detached(ctx, fx.keyring_b, document_text,
				      strlen(document_text), fx.sig_a),
		  REPACK_EVERIFY);
	assert_non_null(strstr(ctx->error, "does not contain"));
}

static void detached_garbage_signature(void **state)
{
	struct repack_ctx *ctx = *state;
	const char junk[] = "<html>not a signature</html>\n";

	assert_rc(ctx, verify_detached(ctx, fx.keyring_a, document_text,
				       strlen(document_text), junk, sizeof(junk) - 1),
		  REPACK_EVERIFY);
	assert_non_null(strstr(ctx->error, "no valid signature"));
}

static void keyring_missing(void **state)
{
	struct repack_ctx *ctx = *state;
	char *payload = NULL;
	size_t len;

	assert_rc(ctx, check_clearsigned(ctx, "/nonexistent/keyring.gpg", fx.signed_a,
					 &payload, &len),
		  REPACK_EVERIFY);
	assert_non_null(strstr(ctx->error, "/nonexistent/keyring.gpg"));
	assert_non_null(strstr(ctx->error, "--keyring"));
	assert_rc(ctx, check_clearsigned(ctx, fx.dir, fx.signed_a, &payload, &len),
		  REPACK_EVERIFY);
	assert_non_null(strstr(ctx->error, "not a regular file"));
	assert_rc(ctx, verify_detached(ctx, NULL, "x", 1, "y", 1), REPACK_EVERIFY);
	assert_non_null(strstr(ctx->error, "no keyring"));
}

static void keyring_invalid(void **state)
{
	static const char not_base64[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n"
					 "no*base64!\n-----END PGP PUBLIC KEY BLOCK-----\n";
	struct repack_ctx *ctx = *state;
	size_t len = strlen(document_text), armored_len;
	char *armored = slurp(fx.armored_a, &armored_len);
	char *bad_crc, *bad_base64, *binary_junk, *empty, *truncated;
	char *crc_line = strstr(armored, "\n=");

	/* Flip one checksum character. */
	assert_non_null(crc_line);
	crc_line[2] = crc_line[2] == 'A' ? 'B' : 'A';
	bad_crc = spill("bad-crc.asc", armored, armored_len);
	assert_rc(ctx, check_detached(ctx, bad_crc, document_text, len, fx.sig_a),
		  REPACK_EVERIFY);
	assert_non_null(strstr(ctx->error, "CRC-24"));

	bad_base64 = spill("bad-base64.asc", not_base64, sizeof(not_base64) - 1);
	assert_rc(ctx, check_detached(ctx, bad_base64, document_text, len, fx.sig_a),
		  REPACK_EVERIFY);
	assert_non_null(strstr(ctx->error, "not valid base64"));

	truncated = spill("truncated.asc", armored, armored_len / 2);
	assert_rc(ctx, check_detached(ctx, truncated, document_text, len, fx.sig_a),
		  REPACK_EVERIFY);
	assert_non_null(strstr(ctx->error, "truncated"));

	binary_junk = spill("junk.gpg", "\x99\x01\x02junk", 7);
	assert_rc(ctx, check_detached(ctx, binary_junk, document_text, len, fx.sig_a),
		  REPACK_EVERIFY);

	empty = spill("empty.gpg", "", 0);
	assert_rc(ctx, check_detached(ctx, empty, document_text, len, fx.sig_a),
		  REPACK_EVERIFY);
	assert_non_null(strstr(ctx->error, "is empty"));

	free(empty);
	free(binary_junk);
	free(truncated);
	free(bad_base64);
	free(bad_crc);
	free(armored);
}

static void gpgv_missing(void **state)
{
	struct repack_ctx *ctx = *state;
	char *old_path = xstrdup(getenv("PATH") ? getenv("PATH") : "");
	char *empty_dir = fx_path("empty-bin");
	int rc;

	mkdir(empty_dir, 0755);
	setenv("PATH", empty_dir, 1);
	rc = check_detached(ctx, fx.keyring_a, document_text, strlen(document_text),
			    fx.sig_a);
	setenv("PATH", old_path, 1);
	assert_rc(ctx, rc, REPACK_EVERIFY);
	assert_non_null(strstr(ctx->error, "gpgv not found"));
	assert_non_null(strstr(ctx->error, fx.keyring_a));
	free(empty_dir);
	free(old_path);
}

static void payload_matches_gpgv(void **state)
{
	struct repack_ctx *ctx = *state;
	char *checked = NULL, *unchecked = NULL;
	size_t checked_len = 0, unchecked_len = 0, len;
	char *doc = slurp(fx.signed_ab, &len);

	assert_rc(ctx, verify_clearsigned(ctx, fx.keyring_a, doc, len, &checked, &checked_len), 0);
	assert_rc(ctx, clearsigned_payload(ctx, doc, len, &unchecked, &unchecked_len), 0);
	assert_int_equal(checked_len, unchecked_len);
	assert_memory_equal(checked, unchecked, checked_len);
	free(doc);
	free(checked);
	free(unchecked);
}

struct payload_case {
	const char *name;
	const char *document;
	int rc;
	const char *payload; /* or the expected error text */
};

#define SIG "-----BEGIN PGP SIGNATURE-----\n\nAAAA\n=AAAA\n-----END PGP SIGNATURE-----\n"

static const struct payload_case payload_cases[] = {
	{ "plain", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\na\nb\n" SIG,
	  0, "a\nb\n" },
	{ "dash escaped", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n- -x\n- y\n-z\n" SIG,
	  0, "-x\ny\n-z\n" },
	{ "trailing blanks", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\na \t\n  \nb\n" SIG,
	  0, "a\n\nb\n" },
	{ "crlf", "-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\na \r\nb\r\n"
	  "-----BEGIN PGP SIGNATURE-----\r\n\r\nAAAA\r\n-----END PGP SIGNATURE-----\r\n",
	  0, "a\r\nb\r\n" },
	{ "two hash headers", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA1\nHash: SHA256\n\nx\n" SIG,
	  0, "x\n" },
	{ "no hash header", "-----BEGIN PGP SIGNED MESSAGE-----\n\nx\n" SIG, 0, "x\n" },
	{ "leading blank lines", "\n\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nx\n" SIG "\n",
	  0, "x\n" },
	{ "empty body", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" SIG, 0, "" },
	{ "not signed", "Origin: Debian\n", REPACK_EFORMAT, "not a clear-signed" },
	{ "empty", "", REPACK_EFORMAT, "not a clear-signed" },
	{ "text before", "junk\n-----BEGIN PGP SIGNED MESSAGE-----\n\nx\n" SIG,
	  REPACK_EFORMAT, "not a clear-signed" },
	{ "bad header", "-----BEGIN PGP SIGNED MESSAGE-----\nComment: hi\n\nx\n" SIG,
	  REPACK_EFORMAT, "invalid armor header 'Comment: hi'" },
	{ "headers never end", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n",
	  REPACK_EFORMAT, "ends inside its armor headers" },
	{ "no signature", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nx\n",
	  REPACK_EFORMAT, "no '-----BEGIN PGP SIGNATURE-----' line" },
	{ "no signature end", "-----BEGIN PGP SIGNED MESSAGE-----\n\nx\n-----BEGIN PGP SIGNATURE-----\n\nAAAA\n",
	  REPACK_EFORMAT, "truncated" },
	{ "nested message", "-----BEGIN PGP SIGNED MESSAGE-----\n\nx\n-----BEGIN PGP SIGNED MESSAGE-----\n" SIG,
	  REPACK_EFORMAT, "unexpected '-----BEGIN PGP SIGNED MESSAGE-----'" },
	{ "text after", "-----BEGIN PGP SIGNED MESSAGE-----\n\nx\n" SIG "Extra: 1\n",
	  REPACK_EFORMAT, "text after the signature" },
};

static void payload_table(void **state)
{
	struct repack_ctx *ctx = *state;

	for (size_t i = 0; i < sizeof(payload_cases) / sizeof(payload_cases[0]); i++) {
		const struct payload_case *c = &payload_cases[i];
		char *payload = NULL;
		size_t len = 0;
		int rc;

		print_message("case: %s\n", c->name);
		rc = clearsigned_payload(ctx, c->document, strlen(c->document), &payload, &len);
		assert_rc(ctx, rc, c->rc);
		if (rc == 0) {
			assert_int_equal(len, strlen(c->payload));
			assert_string_equal(payload, c->payload);
		} else {
			assert_null(payload);
			assert_non_null(strstr(ctx->error, c->payload));
		}
		free(payload);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(clearsigned_good, setup, teardown),
		cmocka_unit_test_setup_teardown(clearsigned_armored_keyring, setup, teardown),
		cmocka_unit_test_setup_teardown(clearsigned_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(clearsigned_wrong_key, setup, teardown),
		cmocka_unit_test_setup_teardown(clearsigned_one_known_signer, setup, teardown),
		cmocka_unit_test_setup_teardown(clearsigned_expired_key, setup, teardown),
		cmocka_unit_test_setup_teardown(clearsigned_extra_text_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(unsigned_document_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(detached_good, setup, teardown),
		cmocka_unit_test_setup_teardown(detached_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(detached_wrong_key, setup, teardown),
		cmocka_unit_test_setup_teardown(detached_garbage_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(keyring_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(keyring_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(gpgv_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(payload_matches_gpgv, setup, teardown),
		cmocka_unit_test_setup_teardown(payload_table, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
