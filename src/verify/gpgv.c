/* OpenPGP signature checks through gpgv, run without a shell. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "verify.h"

extern char **environ;

/* Temporary files of one gpgv run, all in one private directory. */
struct gpgv_run {
	char *dir;
	char *data;
	char *signature;
	char *output;
	char *status;
	char *log;
	char *keyring;
};

static int gpgv_run_init(struct repack_ctx *ctx, struct gpgv_run *run)
{
	int rc;

	memset(run, 0, sizeof(*run));
	rc = make_temp_dir(ctx, "repack-gpgv", &run->dir);
	if (rc)
		return rc;
	run->data = xasprintf("%s/data", run->dir);
	run->signature = xasprintf("%s/data.sig", run->dir);
	run->output = xasprintf("%s/payload", run->dir);
	run->status = xasprintf("%s/status", run->dir);
	run->log = xasprintf("%s/log", run->dir);
	run->keyring = xasprintf("%s/keyring.gpg", run->dir);
	return 0;
}

static void gpgv_run_release(struct gpgv_run *run)
{
	if (run->dir)
		rm_rf(run->dir);
	free(run->dir);
	free(run->data);
	free(run->signature);
	free(run->output);
	free(run->status);
	free(run->log);
	free(run->keyring);
	memset(run, 0, sizeof(*run));
}

static int spawn_wait(struct repack_ctx *ctx, char *const argv[], const char *stdin_path,
		      const char *stdout_path, const char *stderr_path, int *status)
{
	posix_spawn_file_actions_t actions;
	pid_t pid;
	int err;

	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, 0, stdin_path ? stdin_path : "/dev/null",
					 O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&actions, 1, stdout_path ? stdout_path : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&actions, 2, stderr_path, O_WRONLY | O_CREAT | O_TRUNC,
					 0600);
	err = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	if (err)
		return repack_fail(ctx, REPACK_EVERIFY, "cannot run %s: %s (install the %s package)",
				   argv[0], strerror(err), argv[0][3] == 'v' ? "gpgv" : "gpg");
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* gpgv reads binary keyrings only; turn an armored export into one. */
static int prepare_keyring(struct repack_ctx *ctx, struct gpgv_run *run,
			   const char *keyring, const char **usable)
{
	char head[64] = { 0 };
	FILE *f = fopen(keyring, "rb");
	int status;

	if (!f)
		return repack_fail(ctx, REPACK_EVERIFY, "cannot open keyring '%s': %s",
				   keyring, strerror(errno));
	size_t n = fread(head, 1, sizeof(head) - 1, f);
	fclose(f);
	if (n == 0 || strstr(head, "-----BEGIN PGP") == NULL) {
		*usable = keyring;
		return 0;
	}
	char *argv[] = { "gpg", "--batch", "--quiet", "--yes", "--dearmor", "--output",
			 run->keyring, (char *)keyring, NULL };
	int rc = spawn_wait(ctx, argv, NULL, NULL, run->log, &status);
	if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		rc = repack_fail(ctx, REPACK_EVERIFY, "cannot dearmor keyring '%s' with gpg", keyring);
	*usable = run->keyring;
	return rc;
}

/* Run gpgv and require a good signature (VALIDSIG) in its status output. */
static int run_gpgv(struct repack_ctx *ctx, struct gpgv_run *run, const char *keyring,
		    bool detached)
{
	const char *usable = keyring;
	char *status_text = NULL, *log_text = NULL;
	size_t len;
	int status, rc = prepare_keyring(ctx, run, keyring, &usable);

	if (rc)
		return rc;
	char *argv[] = { "gpgv", "--status-fd", "1", "--keyring", (char *)usable,
			 "--output", run->output, detached ? run->signature : run->data,
			 detached ? run->data : NULL, NULL };
	if (detached) {
		argv[5] = argv[7];
		argv[6] = argv[8];
		argv[7] = NULL;
	}
	rc = spawn_wait(ctx, argv, NULL, run->status, run->log, &status);
	if (rc)
		return rc;
	read_file(ctx, run->status, &status_text, &len);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !status_text ||
	    !strstr(status_text, "[GNUPG:] VALIDSIG")) {
		read_file(ctx, run->log, &log_text, &len);
		rc = repack_fail(ctx, REPACK_EVERIFY,
				 "bad or unknown signature (keyring %s): %.300s", keyring,
				 log_text ? log_text : "gpgv gave no output");
	}
	free(status_text);
	free(log_text);
	return rc;
}

int verify_clearsigned(struct repack_ctx *ctx, const char *keyring,
		       const char *document, size_t len, char **payload,
		       size_t *payload_len)
{
	struct gpgv_run run;
	int rc = gpgv_run_init(ctx, &run);

	if (rc == 0)
		rc = write_file_atomic(ctx, run.data, document, len);
	if (rc == 0)
		rc = run_gpgv(ctx, &run, keyring, false);
	if (rc == 0)
		rc = read_file(ctx, run.output, payload, payload_len);
	gpgv_run_release(&run);
	return rc;
}

int verify_detached(struct repack_ctx *ctx, const char *keyring,
		    const char *data, size_t len, const char *signature,
		    size_t signature_len)
{
	struct gpgv_run run;
	int rc = gpgv_run_init(ctx, &run);

	if (rc == 0)
		rc = write_file_atomic(ctx, run.data, data, len);
	if (rc == 0)
		rc = write_file_atomic(ctx, run.signature, signature, signature_len);
	if (rc == 0)
		rc = run_gpgv(ctx, &run, keyring, true);
	gpgv_run_release(&run);
	return rc;
}
