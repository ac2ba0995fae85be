/* Running QEMU: spawn it without a shell in its own process group, copy
 * its serial console (stdout) to a log, and kill it when the guest stays
 * silent, runs too long, or repack receives SIGINT, SIGTERM or SIGHUP.
 * The child also sets PR_SET_PDEATHSIG, so the kernel kills QEMU with
 * SIGKILL when repack dies without cleaning up. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define POLL_MS 200
#define TERM_GRACE_MS 3000
#define STDERR_MAX 8192
#define READ_CHUNK 16384

volatile sig_atomic_t boot_caught_signal;

static const int caught_signals[] = { SIGINT, SIGTERM, SIGHUP };
static struct sigaction saved_actions[3];
static bool signals_installed;

static void record_signal(int sig)
{
	boot_caught_signal = sig;
}

void boot_signals_install(void)
{
	struct sigaction sa;

	if (signals_installed)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = record_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	boot_caught_signal = 0;
	for (size_t i = 0; i < 3; i++)
		sigaction(caught_signals[i], &sa, &saved_actions[i]);
	signals_installed = true;
}

void boot_signals_restore(void)
{
	if (!signals_installed)
		return;
	for (size_t i = 0; i < 3; i++)
		sigaction(caught_signals[i], &saved_actions[i], NULL);
	signals_installed = false;
}

int boot_interrupted(void)
{
	return boot_caught_signal;
}

int boot_check_interrupt(struct repack_ctx *ctx)
{
	int sig = boot_caught_signal;

	if (!sig)
		return 0;
	return repack_fail(ctx, REPACK_EFAIL, "interrupted by signal %d (%s)", sig, strsignal(sig));
}

struct runner {
	struct repack_ctx *ctx;
	const struct qemu_run *p;
	pid_t pid;
	int out_fd;           /* QEMU's stdout: the serial console */
	int err_fd;           /* QEMU's stderr */
	int log_fd;
	bool log_failed;
	struct strbuf console;
	struct strbuf err;
	struct timespec start;
	struct timespec last_output;
	struct timespec done_at;
	bool done_seen;
	bool console_full;    /* CONSOLE_MAX reached */
	int status;           /* from waitpid */
	bool exited;
};

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* In the child between fork and exec: only async-signal-safe calls. */
static void exec_child(const struct qemu_run *p, pid_t parent, int out_w, int err_w,
		       int report_w)
{
	sigset_t none;
	int devnull, e;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	for (size_t i = 0; i < 3; i++)
		signal(caught_signals[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0) {
		e = errno;
		(void)!write(report_w, &e, sizeof(e));
		_exit(127);
	}
	execv(p->argv[0], (char *const *)p->argv);
	e = errno;
	(void)!write(report_w, &e, sizeof(e));
	_exit(127);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Fork and exec QEMU; the report pipe carries errno back when exec fails
 * and closes on a successful exec (O_CLOEXEC). */
static int spawn(struct runner *r)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, report[2] = { -1, -1 };
	pid_t parent = getpid();
	int e = 0, rc = 0;
	ssize_t n;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    pipe2(report, O_CLOEXEC) < 0) {
		rc = repack_fail(r->ctx, REPACK_EFAIL, "cannot create a pipe for QEMU: %s",
				 strerror(errno));
		goto out;
	}
	r->pid = fork();
	if (r->pid < 0) {
		rc = repack_fail(r->ctx, REPACK_EFAIL, "cannot fork to run QEMU: %s",
				 strerror(errno));
		goto out;
	}
	if (r->pid == 0)
		exec_child(r->p, parent, out[1], err[1], report[1]);
	/* Also set the group here, so a kill right after fork reaches it. */
	setpgid(r->pid, r->pid);
	close_fd(&report[1]);
	do
		n = read(report[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(e)) {
		waitpid(r->pid, NULL, 0);
		r->pid = -1;
		rc = repack_fail(r->ctx, REPACK_EFAIL, "cannot run '%s': %s",
				 r->p->argv[0], strerror(e));
		goto out;
	}
	r->out_fd = out[0];
	r->err_fd = err[0];
	out[0] = err[0] = -1;
	fcntl(r->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(r->err_fd, F_SETFL, O_NONBLOCK);
out:
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	close_fd(&report[0]);
	close_fd(&report[1]);
	return rc;
}

static void write_log(struct runner *r, const char *data, size_t len)
{
	while (len && !r->log_failed) {
		ssize_t n = write(r->log_fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			repack_log(r->ctx, REPACK_LOG_WARN, "cannot write the console log '%s': %s",
				   r->p->console_path, strerror(errno));
			r->log_failed = true;
			return;
		}
		data += n;
		len -= (size_t)n;
	}
}

static void look_for_done(struct runner *r, const char *data, size_t len)
{
	const char *marker = r->p->done_marker;

	if (r->done_seen || !marker || !memmem(data, len, marker, strlen(marker)))
		return;
	r->done_seen = true;
	clock_gettime(CLOCK_MONOTONIC, &r->done_at);
}

/* Keep console output up to CONSOLE_MAX; past that, only look for the
 * done marker in each chunk, so a flooding guest cannot fill the disk. */
static void take_console(struct runner *r, const char *data, size_t len)
{
	static const char note[] = "\n[repack: console output past 16 MiB dropped]\n";
	size_t marker_len = r->p->done_marker ? strlen(r->p->done_marker) : 0;
	size_t room = CONSOLE_MAX - r->console.len;
	size_t keep = len < room ? len : room;
	/* The marker may straddle two reads. */
	size_t from = r->console.len > marker_len ? r->console.len - marker_len : 0;

	if (r->console_full) {
		look_for_done(r, data, len);
		return;
	}
	strbuf_add(&r->console, data, keep);
	write_log(r, data, keep);
	look_for_done(r, r->console.buf + from, r->console.len - from);
	if (keep < len) {
		write_log(r, note, sizeof(note) - 1);
		r->console_full = true;
		look_for_done(r, data + keep, len - keep);
	}
}

/* Read the data waiting in a pipe; close it at end of file. */
static void drain(struct runner *r, int *fd, bool is_console)
{
	char buf[READ_CHUNK];

	while (*fd >= 0) {
		ssize_t n = read(*fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_fd(fd);
			return;
		}
		if (is_console) {
			clock_gettime(CLOCK_MONOTONIC, &r->last_output);
			take_console(r, buf, (size_t)n);
		} else if (r->err.len < STDERR_MAX) {
			size_t room = STDERR_MAX - r->err.len;

			strbuf_add(&r->err, buf, (size_t)n < room ? (size_t)n : room);
		}
	}
}

static bool reap(struct runner *r, int flags)
{
	pid_t got;

	if (r->exited)
		return true;
	do
		got = waitpid(r->pid, &r->status, flags);
	while (got < 0 && errno == EINTR);
	if (got == r->pid || (got < 0 && errno == ECHILD))
		r->exited = true;
	return r->exited;
}

/* SIGTERM to QEMU's process group, SIGKILL after TERM_GRACE_MS. */
static void stop_qemu(struct runner *r)
{
	if (reap(r, WNOHANG))
		return;
	kill(-r->pid, SIGTERM);
	for (int waited = 0; waited < TERM_GRACE_MS; waited += 50) {
		struct timespec pause = { 0, 50 * 1000 * 1000 };

		if (reap(r, WNOHANG))
			return;
		nanosleep(&pause, NULL);
	}
	repack_log(r->ctx, REPACK_LOG_DEBUG, "QEMU (pid %d) ignored SIGTERM; sending SIGKILL",
		   (int)r->pid);
	kill(-r->pid, SIGKILL);
	reap(r, 0);
}

/* Decide whether the run must end now: a caught signal, the idle or
 * total limit, or the grace after the done marker. */
static bool must_stop(struct runner *r, struct boot_run_outcome *out)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (boot_caught_signal)
		return true;
	if (r->done_seen)
		return seconds_between(&r->done_at, &now) >= DONE_GRACE_SECONDS;
	if (seconds_between(&r->last_output, &now) >= r->p->idle_timeout) {
		out->hung = true;
		return true;
	}
	if (seconds_between(&r->start, &now) >= r->p->total_timeout) {
		out->total_limit = true;
		return true;
	}
	return false;
}

static void wait_for_qemu(struct runner *r, struct boot_run_outcome *out)
{
	while (!reap(r, WNOHANG)) {
		struct pollfd fds[2];
		nfds_t n = 0;

		if (must_stop(r, out)) {
			if (r->done_seen)
				repack_log(r->ctx, REPACK_LOG_WARN, "QEMU did not exit %d s after "
					   "the guest powered off; stopping it", DONE_GRACE_SECONDS);
			stop_qemu(r);
			break;
		}
		if (r->out_fd >= 0)
			fds[n++] = (struct pollfd){ .fd = r->out_fd, .events = POLLIN };
		if (r->err_fd >= 0)
			fds[n++] = (struct pollfd){ .fd = r->err_fd, .events = POLLIN };
		if (poll(fds, n, POLL_MS) < 0 && errno != EINTR)
			break;
		drain(r, &r->out_fd, true);
		drain(r, &r->err_fd, false);
	}
	if (!r->exited)
		stop_qemu(r);
	/* What QEMU wrote just before it ended is still in the pipes. */
	drain(r, &r->out_fd, true);
	drain(r, &r->err_fd, false);
}

int qemu_run(struct repack_ctx *ctx, const struct qemu_run *params,
	     char **console, size_t *console_len, struct boot_run_outcome *out)
{
	struct runner r = { .ctx = ctx, .p = params, .pid = -1, .out_fd = -1, .err_fd = -1 };
	struct timespec end;
	int rc;

	memset(out, 0, sizeof(*out));
	out->idle_timeout = params->idle_timeout;
	out->total_timeout = params->total_timeout;
	r.log_fd = open(params->console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (r.log_fd < 0)
		return repack_fail(ctx, REPACK_EFAIL, "cannot create the console log '%s': %s",
				   params->console_path, strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &r.start);
	r.last_output = r.start;
	rc = spawn(&r);
	if (rc == 0) {
		out->started = true;
		wait_for_qemu(&r, out);
		if (WIFEXITED(r.status))
			out->exit_status = WEXITSTATUS(r.status);
		else if (WIFSIGNALED(r.status)) {
			out->exit_status = -1;
			out->signal = WTERMSIG(r.status);
		}
	}
	close_fd(&r.out_fd);
	close_fd(&r.err_fd);
	close(r.log_fd);
	clock_gettime(CLOCK_MONOTONIC, &end);
	out->wall_seconds = seconds_between(&r.start, &end);
	out->qemu_stderr = strbuf_detach(&r.err, NULL);
	*console = strbuf_detach(&r.console, console_len);
	if (rc == 0 && boot_caught_signal)
		rc = repack_fail(ctx, REPACK_EFAIL, "interrupted by signal %d (%s); QEMU (pid %d) "
				 "was stopped", (int)boot_caught_signal,
				 strsignal(boot_caught_signal), (int)r.pid);
	return rc;
}
