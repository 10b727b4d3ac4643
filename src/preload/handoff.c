/* handoff.c - a pending file still held by other processes when its
 * owner ends: committed by a waiter when the last of them lets go
 * (handoff.h). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/actor.h"
#include "core/commit.h"
#include "core/holders.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/record.h"
#include "core/sys.h"
#include "core/tempfile.h"
#include "fdtable.h"
#include "session.h"
#include "handoff.h"
#include "pending.h"
#include "state.h"

/* A new process, a copy of this one, by the system call itself, with
 * EXIT_SIGNAL sent to this one at its end (0: none).  Not fork(): the
 * program's fork handlers (pthread_atfork) and the library's own fork
 * hook are none of this, and a child that sends no SIGCHLD is invisible
 * to the program's wait(-1) and to its SIGCHLD handler.  Like a vfork
 * child, such a copy calls nothing that takes a lock another thread may
 * have held: system calls, and the core's commit without the lock table
 * (see waiter()). */
static pid_t clone_process(int exit_signal)
{
	return (pid_t)sys_raw(SYS_clone, exit_signal, 0, 0, 0);
}

static _Noreturn void exit_now(int status)
{
	for (;;)
		sys_raw(SYS_exit_group, status, 0, 0, 0);
}

/* Close every descriptor of this process but the N in KEEP (ascending;
 * -1 for none): the program's pipes and files are not the waiter's to
 * hold open. */
static void close_all_but(const int *keep, int n)
{
	struct rlimit rl;
	unsigned from = 0;

	for (int i = 0; i <= n; i++) {
		unsigned to = i < n ? (unsigned)keep[i] : ~0u;

		if (i < n && keep[i] < 0)
			continue;
		if (to > from && sys_raw(SYS_close_range, from, to - 1, 0, 0) < 0) {
			/* A kernel before 5.9: one by one, up to the limit. */
			unsigned end = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < to ?
				       (unsigned)rl.rlim_cur : to;
			for (unsigned fd = from; fd < end; fd++)
				sys_close((int)fd);
		}
		if (to == ~0u)
			break;
		from = to + 1;
	}
}

static void sort_ints(int *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			int t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* Is standard error a place for the waiter's messages?  Only when they go
 * there, and not when it is a pending file (`exec 2> f.json`, or a
 * descriptor of it the library did not see made): kept open, R's own
 * would make the waiter wait for itself, another's would keep that
 * file's waiter waiting for this one. */
static int keeps_stderr(const struct record *r)
{
	struct stat err, temp;

	if (!log_to_stderr() || sys_fstat(STDERR_FILENO, &err) < 0)
		return 0;
	if (!S_ISREG(err.st_mode))
		return 1;
	return !fdtable_get(STDERR_FILENO) && sys_fstat(r->tfd, &temp) == 0 &&
	       (err.st_dev != temp.st_dev || err.st_ino != temp.st_ino);
}

/* The waiter holds the file's descriptors and nothing else, and is not
 * stopped by what stops the program's job: a Ctrl-C or a hang-up that
 * kills the children too makes their last close, and the file is then
 * committed with what they wrote, as the kernel would have left it.
 * SIGKILL still ends the waiter (and then nothing is committed, as for
 * any writer killed so). */
static void become_waiter(struct record *r)
{
	/* The session's connection too, unused: while it is open the
	 * session lasts (its end waits for the processes connected to it),
	 * and so do the locks it holds for this file. */
	int keep[5] = { r->dfd, r->tfd, lock_fd(r->lock), keeps_stderr(r) ? STDERR_FILENO : -1,
			session_socket() };
	sigset_t quiet;

	sort_ints(keep, 5);
	close_all_but(keep, 5);
	/* What ps and top show: not a second copy of the program. */
	prctl(PR_SET_NAME, "atomically", 0, 0, 0);
	sigemptyset(&quiet);
	sigaddset(&quiet, SIGINT);
	sigaddset(&quiet, SIGQUIT);
	sigaddset(&quiet, SIGHUP);
	sigaddset(&quiet, SIGTERM);
	sigaddset(&quiet, SIGPIPE);
	sigaddset(&quiet, SIGTSTP);
	sigaddset(&quiet, SIGTTIN);
	sigaddset(&quiet, SIGTTOU);
	sigprocmask(SIG_BLOCK, &quiet, NULL);
}

/* In the waiter: wait for the last holder of R, commit, and end. */
static _Noreturn void waiter(struct record *r)
{
	/* No session door: the commit takes no lock (the lock file kept, or
	 * the session's connection kept, holds it). */
	struct actor self = { .pid = (pid_t)sys_raw(SYS_getpid, 0, 0, 0, 0),
			      .lock_dir = lib.actor.lock_dir };
	int r_wait;

	become_waiter(r);
	/* The lock table is the owner's memory, perhaps caught with its
	 * mutex held by another thread: not touched here.  The lock file's
	 * descriptor, kept, holds the lock until this process ends. */
	r->lock = NULL;
	/* A named temp carries the pid of the process that commits it, or a
	 * sweep (`atomically --clean`) would take it for a dead writer's. */
	if (r->temp[0] && temp_rename_owner(self.pid, r->dfd, r->name, r->temp) < 0)
		log_debug("%s: its temp %s keeps its writer's pid: %s", r->path, r->temp,
			  strerror(errno));
	log_info("%s: still open in another process: pid %d commits it when the last one lets go",
		 r->path, (int)self.pid);
	r_wait = holders_wait(r);
	if (r_wait < 0)
		log_info("%s: cannot tell when the other processes let go (%s): committed as it "
			 "stands, later writes go to the file itself", r->path, strerror(errno));
	/* Once waited for, nobody writes it any more: an unchanged file is
	 * left as it was.  Not waited for, it is committed whatever it holds. */
	if ((r_wait == 0 ? commit(&self, r) : commit_forced(&self, r)) < 0)
		exit_now(1);
	exit_now(0);
}

int handoff_start(struct pending *p)
{
	pid_t mid;
	int status = 0;
	long got;

	/* Two generations: the waiter is orphaned at once, so that no
	 * program ever waits for it (a shell's `wait`, make's, the new image
	 * after an exec); the middle one, which sends no SIGCHLD, is reaped
	 * here. */
	mid = clone_process(0);
	if (mid < 0)
		return -1;
	if (mid == 0) {
		pid_t w = clone_process(SIGCHLD);
		if (w == 0)
			waiter(&p->rec);
		exit_now(w > 0 ? 0 : 1);
	}
	do
		got = sys_raw(SYS_wait4, mid, (long)&status, __WCLONE, 0);
	while (got < 0 && errno == EINTR);
	/* Reaped by another thread's wait (__WALL): whether the waiter
	 * started cannot be told, and it nearly always does.  Committing
	 * here too would make two commits of one file. */
	if (got < 0 && errno == ECHILD)
		return 0;
	if (got != mid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errno = EAGAIN;
		return -1;
	}
	return 0;
}
