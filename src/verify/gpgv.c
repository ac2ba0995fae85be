/* Signature checks through gpgv, run as a subprocess without a shell.
 * Each check gets a private temporary directory that contains its inputs,
 * gpgv's status and stderr output, and serves as gpgv's --homedir so the
 * user's ~/.gnupg is never read. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "verify.h"
#include "armor.h"

extern char **environ;

#define STATUS_FD "3"
#define STDERR_SUMMARY_MAX 240

/* One gpgv invocation and what it reported. */
struct gpgv_run {
	const char *keyring_name; /* as the caller gave it; not owned */
	char *dir;                /* private temporary directory */
	char *keyring;            /* binary keyring path handed to gpgv */
	char *status;             /* --status-fd output */
	char *errors;             /* stderr */
	int exit_status;          /* -1 when gpgv died from a signal */
};

/* The signatures gpgv reported, by outcome, with the key id of the first
 * signature of each failing kind. */
struct sig_summary {
	int good, valid, bad, no_key, expired_key, revoked_key, expired_sig;
	char signer[128];
	char bad_key[24], missing_key[24], expired_key_id[24], revoked_key_id[24];
};

static void gpgv_run_release(struct gpgv_run *run)
{
	if (run->dir)
		rm_rf(run->dir);
	free(run->dir);
	free(run->keyring);
	free(run->status);
	free(run->errors);
	memset(run, 0, sizeof(*run));
}

static char *run_path(const struct gpgv_run *run, const char *name)
{
	return xasprintf("%s/%s", run->dir, name);
}

/* Give gpgv a binary keyring: an absolute path to the file as it is, or
 * an armored file decoded into the run's directory, since gpgv 2.2 reads
 * only binary keyrings. */
static int prepare_keyring(struct repack_ctx *ctx, struct gpgv_run *run)
{
	const char *name = run->keyring_name;
	struct strbuf packets = STRBUF_INIT;
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (stat(name, &st) < 0)
		return repack_fail(ctx, REPACK_EVERIFY,
				   "keyring '%s' cannot be used: %s (install the distribution's archive keyring package or pass --keyring FILE)",
				   name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return repack_fail(ctx, REPACK_EVERIFY,
				   "keyring '%s' is not a regular file (pass a keyring file with --keyring FILE)",
				   name);
	rc = read_file(ctx, name, &data, &len);
	if (rc)
		return repack_wrap(ctx, REPACK_EVERIFY, "keyring '%s'", name);
	if (len == 0) {
		rc = repack_fail(ctx, REPACK_EVERIFY,
				 "keyring '%s' is empty (pass a keyring that holds the distribution's signing keys)",
				 name);
		goto out;
	}

	if (!armor_is_armored(data, len)) {
		run->keyring = realpath(name, NULL);
		if (!run->keyring)
			rc = repack_fail(ctx, REPACK_EVERIFY, "cannot resolve keyring path '%s': %s",
					 name, strerror(errno));
		goto out;
	}
	rc = armor_decode_keys(ctx, name, data, len, &packets);
	if (rc)
		goto out;
	run->keyring = run_path(run, "keyring.gpg");
	rc = write_file_atomic(ctx, run->keyring, packets.buf, packets.len);
out:
	strbuf_release(&packets);
	free(data);
	return rc;
}

static int gpgv_run_init(struct repack_ctx *ctx, struct gpgv_run *run,
			 const char *keyring)
{
	int rc;

	memset(run, 0, sizeof(*run));
	run->keyring_name = keyring ? keyring : "";
	if (!keyring || !*keyring)
		return repack_fail(ctx, REPACK_EVERIFY,
				   "no keyring given to check the signature (pass --keyring FILE)");
	rc = make_temp_dir(ctx, "repack-gpgv", &run->dir);
	if (rc)
		return rc;
	return prepare_keyring(ctx, run);
}

static int write_input(struct repack_ctx *ctx, struct gpgv_run *run,
		       const char *name, const char *data, size_t len)
{
	char *path = run_path(run, name);
	int rc = write_file_atomic(ctx, path, data, len);

	free(path);
	return rc;
}

/* Return the file's text, or an empty string when it cannot be read
 * (caller frees). */
static char *read_output(const struct gpgv_run *run, const char *name)
{
	struct repack_ctx scratch;
	char *path = run_path(run, name);
	char *data = NULL;
	size_t len;

	repack_ctx_init(&scratch);
	if (read_file(&scratch, path, &data, &len) < 0)
		data = xstrdup("");
	repack_ctx_release(&scratch);
	free(path);
	return data;
}

static int wait_for(struct repack_ctx *ctx, pid_t pid, int *exit_status)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return repack_fail(ctx, REPACK_EVERIFY, "cannot wait for gpgv: %s",
					   strerror(errno));
	}
	*exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return 0;
}

/* Start gpgv with status lines on fd 3 and stderr captured in the run's
 * directory, stdin and stdout on /dev/null, and wait for it. */
static int spawn_gpgv(struct repack_ctx *ctx, struct gpgv_run *run,
		      const char *const *argv)
{
	char *status_path = run_path(run, "status");
	char *stderr_path = run_path(run, "stderr");
	posix_spawn_file_actions_t actions;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&actions, 2, stderr_path,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&actions, 3, status_path,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	rc = posix_spawnp(&pid, "gpgv", &actions, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&actions);

	if (rc == ENOENT)
		rc = repack_fail(ctx, REPACK_EVERIFY,
				 "gpgv not found in PATH, so signatures made for keyring '%s' cannot be checked (install the 'gpgv' package on Debian and Ubuntu or 'gnupg2' on Fedora)",
				 run->keyring_name);
	else if (rc)
		rc = repack_fail(ctx, REPACK_EVERIFY, "cannot run gpgv: %s", strerror(rc));
	else
		rc = wait_for(ctx, pid, &run->exit_status);
	if (rc == 0) {
		run->status = read_output(run, "status");
		run->errors = read_output(run, "stderr");
	}
	free(stderr_path);
	free(status_path);
	return rc;
}

/* Run gpgv on args, file names inside the run's directory (at most 4);
 * output names the file for --output, or is NULL. */
static int gpgv_exec(struct repack_ctx *ctx, struct gpgv_run *run,
		     const char *output, const char *const *args, size_t nargs)
{
	char *output_path = output ? run_path(run, output) : NULL;
	char *paths[4] = { NULL };
	const char *argv[16];
	size_t n = 0;
	int rc;

	argv[n++] = "gpgv";
	argv[n++] = "--homedir";
	argv[n++] = run->dir;
	argv[n++] = "--keyring";
	argv[n++] = run->keyring;
	argv[n++] = "--status-fd";
	argv[n++] = STATUS_FD;
	if (output_path) {
		argv[n++] = "--output";
		argv[n++] = output_path;
	}
	argv[n++] = "--";
	for (size_t i = 0; i < nargs && i < 4; i++)
		argv[n++] = paths[i] = run_path(run, args[i]);
	argv[n] = NULL;

	rc = spawn_gpgv(ctx, run, argv);
	for (size_t i = 0; i < 4; i++)
		free(paths[i]);
	free(output_path);
	return rc;
}

/* Copy the first word of args (a key id) into key, unless key is set. */
static void note_key(char *key, size_t size, const char *args)
{
	if (!key[0])
		snprintf(key, size, "%.*s", (int)strcspn(args, " \n"), args);
}

static void parse_status_line(struct sig_summary *s, const char *keyword,
			      size_t keyword_len, const char *args)
{
#define IS(word) (keyword_len == strlen(word) && memcmp(keyword, word, keyword_len) == 0)
	if (IS("GOODSIG")) {
		s->good++;
		if (!s->signer[0])
			snprintf(s->signer, sizeof(s->signer), "%.*s",
				 (int)strcspn(args, "\n"), args);
	} else if (IS("VALIDSIG")) {
		s->valid++;
	} else if (IS("BADSIG")) {
		s->bad++;
		note_key(s->bad_key, sizeof(s->bad_key), args);
	} else if (IS("NO_PUBKEY")) {
		s->no_key++;
		note_key(s->missing_key, sizeof(s->missing_key), args);
	} else if (IS("EXPKEYSIG")) {
		s->expired_key++;
		note_key(s->expired_key_id, sizeof(s->expired_key_id), args);
	} else if (IS("REVKEYSIG")) {
		s->revoked_key++;
		note_key(s->revoked_key_id, sizeof(s->revoked_key_id), args);
	} else if (IS("EXPSIG")) {
		s->expired_sig++;
	}
#undef IS
}

static void parse_status(const char *text, struct sig_summary *s)
{
	static const char prefix[] = "[GNUPG:] ";

	memset(s, 0, sizeof(*s));
	for (const char *line = text; line && *line;) {
		const char *next = strchr(line, '\n');

		if (strncmp(line, prefix, sizeof(prefix) - 1) == 0) {
			const char *keyword = line + sizeof(prefix) - 1;
			size_t len = strcspn(keyword, " \n");
			const char *args = keyword + len + (keyword[len] == ' ');

			parse_status_line(s, keyword, len, args);
		}
		line = next ? next + 1 : NULL;
	}
}

/* True for gpgv's informational lines about a signature, which repeat
 * what the status lines already reported. */
static bool stderr_line_is_noise(const char *line, size_t len)
{
	static const char *const prefixes[] = { "Signature made ", "using ", "issuer " };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (len >= strlen(prefixes[i]) &&
		    strncmp(line, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* Return gpgv's stderr as one short line: " (gpgv: a; b)" or "" (caller
 * frees). */
static char *stderr_summary(const char *errors)
{
	struct strbuf sb = STRBUF_INIT;

	for (const char *p = errors; p && *p && sb.len < STDERR_SUMMARY_MAX;) {
		size_t len = strcspn(p, "\n");
		const char *next = p + len + (p[len] == '\n');

		if (strncmp(p, "gpgv: ", 6) == 0) {
			p += 6;
			len -= 6;
		}
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len > 0 && !stderr_line_is_noise(p, len)) {
			strbuf_addstr(&sb, sb.len ? "; " : " (gpgv: ");
			strbuf_add(&sb, p, len);
		}
		p = next;
	}
	if (sb.len > STDERR_SUMMARY_MAX) {
		sb.len = STDERR_SUMMARY_MAX;
		strbuf_addstr(&sb, "...");
	}
	if (sb.len)
		strbuf_addstr(&sb, ")");
	else
		strbuf_add(&sb, "", 0);
	return strbuf_detach(&sb, NULL);
}

/* Accept the check when one signature is good and none is bad: Debian
 * signs with several keys, and a keyring may hold only some of them. */
static int judge(struct repack_ctx *ctx, const struct gpgv_run *run,
		 const char *what)
{
	const char *keyring = run->keyring_name;
	struct sig_summary s;
	char *gpgv_output = stderr_summary(run->errors);
	int rc = REPACK_EVERIFY;

	parse_status(run->status, &s);
	if (s.bad)
		repack_fail(ctx, rc, "%s: bad signature from key %s checked with keyring '%s': the data was modified or corrupted; download it again or try another mirror%s",
			    what, s.bad_key, keyring, gpgv_output);
	else if (s.good && s.valid)
		rc = 0;
	else if (s.no_key)
		repack_fail(ctx, rc, "%s: signed by key %s, which keyring '%s' does not contain; pass the distribution's current keyring with --keyring%s",
			    what, s.missing_key, keyring, gpgv_output);
	else if (s.expired_key)
		repack_fail(ctx, rc, "%s: signed by key %s, which has expired in keyring '%s'; update the keyring%s",
			    what, s.expired_key_id, keyring, gpgv_output);
	else if (s.revoked_key)
		repack_fail(ctx, rc, "%s: signed by key %s, which keyring '%s' marks as revoked; update the keyring%s",
			    what, s.revoked_key_id, keyring, gpgv_output);
	else if (s.expired_sig)
		repack_fail(ctx, rc, "%s: the signature has expired (keyring '%s'); the mirror may be stale%s",
			    what, keyring, gpgv_output);
	else
		repack_fail(ctx, rc, "%s: no valid signature found with keyring '%s' (gpgv exit status %d)%s",
			    what, keyring, run->exit_status, gpgv_output);

	if (rc == 0)
		repack_log(ctx, REPACK_LOG_DEBUG, "%s: good signature from %s%s", what,
			   s.signer, s.no_key ? " (signatures by keys not in the keyring ignored)" : "");
	free(gpgv_output);
	return rc;
}

int verify_clearsigned(struct repack_ctx *ctx, const char *keyring,
		       const char *document, size_t len, char **payload,
		       size_t *payload_len)
{
	static const char *const args[] = { "document" };
	struct gpgv_run run;
	char *unchecked = NULL;
	size_t unchecked_len;
	int rc;

	/* gpgv writes the text of every signed block it finds; one block and
	 * nothing around it means that text is exactly what was checked. */
	rc = clearsigned_payload(ctx, document, len, &unchecked, &unchecked_len);
	free(unchecked);
	if (rc)
		return repack_wrap(ctx, REPACK_EVERIFY, "cannot check the signature");

	rc = gpgv_run_init(ctx, &run, keyring);
	if (rc == 0)
		rc = write_input(ctx, &run, "document", document, len);
	if (rc == 0)
		rc = gpgv_exec(ctx, &run, "payload", args, 1);
	if (rc == 0)
		rc = judge(ctx, &run, "clear-signed document");
	if (rc == 0) {
		char *path = run_path(&run, "payload");

		rc = read_file(ctx, path, payload, payload_len);
		free(path);
	}
	gpgv_run_release(&run);
	return rc;
}

int verify_detached(struct repack_ctx *ctx, const char *keyring,
		    const char *data, size_t len, const char *signature,
		    size_t signature_len)
{
	static const char *const args[] = { "data.sig", "data" };
	struct gpgv_run run;
	int rc;

	rc = gpgv_run_init(ctx, &run, keyring);
	if (rc == 0)
		rc = write_input(ctx, &run, "data", data, len);
	if (rc == 0)
		rc = write_input(ctx, &run, "data.sig", signature, signature_len);
	if (rc == 0)
		rc = gpgv_exec(ctx, &run, NULL, args, 2);
	if (rc == 0)
		rc = judge(ctx, &run, "detached signature");
	gpgv_run_release(&run);
	return rc;
}
