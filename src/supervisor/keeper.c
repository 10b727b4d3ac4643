/* keeper.c - the keeper: a subreaper between the supervisor and COMMAND. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keeper.h"
#include "core/proc.h"
#include "core/session_wire.h"

static pid_t keeper = -1;
static int report = -1;   /* the supervisor's end: COMMAND's pid, then its status */

/* The signal the kernel sends the keeper when the supervisor dies: one
 * nobody forwards or sends by habit. */
#define SUPERVISOR_GONE (SIGRTMIN + 1)
/* The signal the supervisor sends the keeper once the session is over. */
#define KEEPER_RELEASE (SIGRTMIN + 2)

/* Kill (SIGKILL) every child of ours: read /proc by getdents64 on the
 * stack, as the keeper was forked from a process with threads and must
 * not need their malloc. */
static void kill_children(pid_t self)
{
	char buf[4096];
	int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n;

	if (fd < 0)
		return;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct {
				unsigned long long ino;
				long long off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (void *)(buf + off);
			pid_t pid = (pid_t)atoi(d->name);

			if (pid > 0 && proc_parent(pid) == self)
				kill(pid, SIGKILL);
			off += d->reclen;
		}
	}
	close(fd);
}

/* The supervisor is gone: every process below us dies.  A child killed
 * leaves its own children to us (we are their subreaper), and they are
 * killed in turn, until none is left. */
static void kill_tree(void)
{
	pid_t self = getpid();

	for (;;) {
		kill_children(self);
		if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
			return;
	}
}

/* In the keeper, COMMAND (PID) started: wait for it, and for the
 * supervisor's death, with the signals blocked since before the fork
 * (none can be missed).  Once COMMAND has exited the keeper stays, still
 * the tree's subreaper, until the supervisor lets it go: the session
 * may wait for processes of the tree that still use it, and they must
 * stay in its tree meanwhile (peer.h), and die if it is killed. */
static void keep(pid_t command, pid_t supervisor, int out, const sigset_t *waited)
{
	int status;
	pid_t p;

	if (write(out, &command, sizeof(command)) != sizeof(command))
		kill_tree();
	for (;;) {
		int sig = sigwaitinfo(waited, NULL);

		if (sig == SUPERVISOR_GONE && getppid() != supervisor) {
			kill_tree();
			_exit(1);
		}
		if (sig == KEEPER_RELEASE && command < 0)
			_exit(0);
		while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
			if (p != command)
				continue;  /* an orphan of the tree, adopted */
			if (write(out, &status, sizeof(status)) != sizeof(status)) {
				/* the supervisor is gone: it will not read it */
			}
			command = -1;
		}
	}
}

/* ATOMICALLY_SESSION with our pid in it (session_wire.h). */
static int name_keeper(void)
{
	char value[SESSION_VALUE_MAX];
	const char *named = getenv(SESSION_ENV);

	if (!named || session_with_keeper(value, named, getpid()) < 0)
		return -1;
	return setenv(SESSION_ENV, value, 1);
}

/* The keeper's process, just forked; OUT is its end of the report pipe. */
static void keeper_main(pid_t supervisor, int out, void (*start)(void *), void *arg)
{
	static const int ignored[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
				       SIGALRM, SIGWINCH, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU };
	sigset_t waited, old;
	pid_t command;

	sigemptyset(&waited);
	sigaddset(&waited, SIGCHLD);
	sigaddset(&waited, SUPERVISOR_GONE);
	sigaddset(&waited, KEEPER_RELEASE);
	sigprocmask(SIG_BLOCK, &waited, &old);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 ||
	    prctl(PR_SET_PDEATHSIG, SUPERVISOR_GONE) < 0 || getppid() != supervisor)
		_exit(1);
	/* The tree learns our pid with the session's name: a process that
	 * finds the session gone was killed with it while we are its
	 * ancestor, and outlived its end otherwise.  (No thread runs in the
	 * supervisor yet: the environment is ours to change.) */
	if (name_keeper() < 0)
		_exit(1);
	command = fork();
	if (command < 0)
		_exit(1);
	if (command == 0) {
		pid_t keeper_pid = getppid();
		sigprocmask(SIG_SETMASK, &old, NULL);
		/* As the launcher without a session: COMMAND dies with the
		 * process above it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != keeper_pid)
			_exit(1);
		close(out);
		start(arg);
		_exit(127);
	}
	/* The signals are COMMAND's to act on (the supervisor forwards
	 * them); the keeper must outlive them to report. */
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	/* Nothing of the supervisor's stays open here: its socket would
	 * outlive it, and a program reading our stdout would wait for us. */
	if (dup2(out, 3) < 0)
		kill_tree();
	syscall(SYS_close_range, 0, 2, 0);
	syscall(SYS_close_range, 4, ~0U, 0);
	keep(command, supervisor, 3, &waited);
}

pid_t keeper_start(void (*start)(void *), void *arg)
{
	pid_t supervisor = getpid(), command;
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	keeper = fork();
	if (keeper < 0) {
		int saved = errno;
		close(p[0]);
		close(p[1]);
		errno = saved;
		return -1;
	}
	if (keeper == 0) {
		close(p[0]);
		keeper_main(supervisor, p[1], start, arg);
	}
	close(p[1]);
	report = p[0];
	if (read(report, &command, sizeof(command)) != sizeof(command)) {
		errno = ECHILD;
		return -1;
	}
	return command;
}

int keeper_wait(int *keeper_status)
{
	int status;
	ssize_t n;

	do
		n = read(report, &status, sizeof(status));
	while (n < 0 && errno == EINTR);
	close(report);
	if (n != sizeof(status)) {
		/* The keeper died without saying: its status says why. */
		keeper_release(keeper_status);
		return -1;
	}
	return status;
}

void keeper_release(int *keeper_status)
{
	int ignored;

	if (keeper < 0)
		return;
	kill(keeper, KEEPER_RELEASE);
	while (waitpid(keeper, keeper_status ? keeper_status : &ignored, 0) < 0 && errno == EINTR) {
	}
	keeper = -1;
}
