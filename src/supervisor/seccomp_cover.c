/* seccomp_cover.c - the covered COMMAND's listener, from its process to
 * the supervisor, and its end. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/covered.h"
#include "core/session_wire.h"
#include "seccomp_cover.h"
#include "seccomp_files.h"
#include "seccomp_forks.h"
#include "core/seccomp_filter.h"
#include "seccomp_notify.h"

#define EXIT_OWN_ERROR 125

/* What COMMAND's process sends up, with the listener. */
struct installed {
	int err;                /* 0, or why the filter is not there */
	int watched;            /* the watched range's first number; 0: none */
};

/* [0] the supervisor's end, [1] COMMAND's; -1 when not covering. */
static int pair[2] = { -1, -1 };
static struct seccomp_program *covered;

/* COVERED_ENV in the environment, put there before the fork and filled
 * in by COMMAND's process with its own name (covered.h): after a fork,
 * in a process that may have threads, nothing may allocate. */
static char covered_var[sizeof(COVERED_ENV) + 64] = COVERED_ENV "=";

int seccomp_cover_prepare(const char *rules)
{
	if (seccomp_files_setup(rules) < 0) {
		errno = EINVAL;
		return -1;
	}
	if (putenv(covered_var) != 0)
		return -1;
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair);
}

void seccomp_cover_child(void)
{
	struct installed msg = { 0, 0 };
	int fd;

	if (pair[1] < 0)
		return;
	/* The library in COMMAND (a cgo program) stands aside. */
	covered_name_self(covered_var + sizeof(COVERED_ENV),
			  sizeof(covered_var) - sizeof(COVERED_ENV));
	/* The range below the limits the program starts with. */
	msg.watched = seccomp_filter_range(seccomp_filter_soft_limit());
	fd = seccomp_filter_install(msg.watched, seccomp_files_watch_reads(), 1);
	msg.err = fd < 0 ? errno : 0;
	if (session_send(pair[1], &msg, sizeof(msg), &fd, 1) < 0 && fd >= 0) {
		/* The filter is there and nobody will ever answer it. */
		fprintf(stderr, "atomically: cannot hand the seccomp listener to the "
			"supervisor: %s\n", strerror(errno));
		_exit(EXIT_OWN_ERROR);
	}
	if (fd >= 0)
		close(fd);
	close(pair[1]);
}

/* Each pending file costs the supervisor three descriptors (directory,
 * temp, lock file) until its commit: a program that keeps a few hundred
 * files open for writing at once would pass a soft limit of 1024
 * (measured, when the commit came at the exit only: the 339th of 600
 * goroutines' files failed with EMFILE).  The soft limit is raised
 * to the hard one, once COMMAND has started with the limits it was
 * given. */
static void raise_descriptor_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int seccomp_cover_start(pid_t command, const char *name, const char *why, int quiet)
{
	struct installed msg = { 0, 0 };
	int fd = -1;

	if (pair[0] < 0) {
		if (!quiet)
			fprintf(stderr, "atomically: warning: %s: %s; its writes are not made "
				"atomic\n", name, why);
		return 0;
	}
	close(pair[1]);
	/* The child sends before its exec, or dies: EPIPE then. */
	if (session_recv(pair[0], &msg, sizeof(msg), &fd, 1) < 0)
		msg.err = errno;
	close(pair[0]);
	if (fd >= 0 && (covered = seccomp_notify_start(fd, command, msg.watched, 0))) {
		raise_descriptor_limit();
		if (!quiet)
			fprintf(stderr, "atomically: warning: %s: %s; the supervisor covers its "
				"opens for writing and renames of matched files (seccomp), "
				"committed at their close%s\n", name, why,
				seccomp_files_watch_reads()
					? "; its reads and stats of them take their locks" : "");
		return 1;
	}
	if (fd >= 0) {
		/* Its opens for writing would fail: it must not run on. */
		fprintf(stderr, "atomically: cannot serve %s's calls: %s\n", name, strerror(errno));
		kill(command, SIGKILL);
		return 0;
	}
	if (!quiet)
		fprintf(stderr, "atomically: warning: %s: %s; and the supervisor cannot cover it "
			"(seccomp: %s); its writes are not made atomic\n", name, why,
			strerror(msg.err ? msg.err : EPROTO));
	return 0;
}

int seccomp_cover_end(int status)
{
	int r;

	if (!covered)
		return 0;
	/* Its forks may still be finishing what it started (a shell's
	 * background job), served meanwhile. */
	forks_wait(covered, seccomp_files_linger());
	seccomp_notify_stop(covered);
	r = seccomp_files_end(&covered->files, status != -1 && WIFEXITED(status));
	if (forks_end(covered) < 0)
		r = -1;
	seccomp_notify_linger(covered);
	return r;
}
