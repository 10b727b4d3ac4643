/* seccomp_notify.c - the notifications of a covered program, served. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/redirect.h"
#include "seccomp_answer.h"
#include "seccomp_files.h"
#include "seccomp_notify.h"
#include "seccomp_remote.h"
#include "seccomp_slots.h"

static int listener = -1;
static pid_t program;
static int stopped;
static int own_fs;              /* the thread's umask is its own */
/* Held while a call is served: the end waits for it. */
static pthread_mutex_t serving = PTHREAD_MUTEX_INITIALIZER;

/* An open, whichever of the three calls made it. */
struct open_call {
	int dirfd;
	uint64_t path;
	int flags;
	mode_t mode;
};

/* REQ's open; 0 when REQ is no open (the filter sends no other). */
static int decode(const struct seccomp_notif *req, struct open_call *c)
{
	const __u64 *a = req->data.args;

	switch (req->data.nr) {
	case __NR_openat:
		*c = (struct open_call){ (int)a[0], a[1], (int)a[2], (mode_t)a[3] };
		return 1;
#ifdef __NR_open
	case __NR_open:
		*c = (struct open_call){ AT_FDCWD, a[0], (int)a[1], (mode_t)a[2] };
		return 1;
	case __NR_creat:
		*c = (struct open_call){ AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, (mode_t)a[1] };
		return 1;
#endif
	}
	return 0;
}

/* Is the call ID still waiting?  (Its thread then still is the one the
 * notification named.) */
static int still_valid(uint64_t id)
{
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* Put FD into the program as the answer to REQ: at a watched number
 * where one is free and WATCH asks for it (its close will be sent), else
 * the lowest free one.  Returns the number, or -1 with errno. */
static int put_in(const struct seccomp_notif *req, int fd, int cloexec, int watch)
{
	int at = watch ? slots_take((pid_t)req->pid) : -1, got;

	got = answer_fd(listener, req->id, fd, cloexec, at);
	if (got < 0 && at >= 0 && (errno == EBADF || errno == EMFILE)) {
		/* The program lowered its descriptor limit below the range. */
		got = answer_fd(listener, req->id, fd, cloexec, -1);
	}
	if (got != at)
		slots_release(at);
	return got;
}

/* Put FD (of FILE, FRESH or not) into the program as the answer to
 * REQ. */
static void hand_over(const struct seccomp_notif *req, int fd, int cloexec,
		      struct seccomp_file *file, int fresh)
{
	int got = put_in(req, fd, cloexec, seccomp_files_at_close(file));
	int err = errno;

	close(fd);
	if (got >= 0) {
		seccomp_files_given(file, fresh, got);
		return;
	}
	seccomp_files_not_given(file, fresh);
	if (err == ENOENT)
		return;  /* the call is gone */
	log_warn("pid %d: cannot give the program its file: %s", (int)req->pid, strerror(err));
	answer_error(listener, req->id, err == EINVAL ? ENOSYS : err);
}

/* REQ, a close of descriptor N by a thread of the program: when N is the
 * last watched descriptor of a pending file, the file is committed
 * before the close goes on (the program waits in it, as in the library's
 * close).  A close whose call went away (the program killed meanwhile)
 * commits nothing: the end decides. */
static void serve_close(const struct seccomp_notif *req, int n)
{
	if (still_valid(req->id) && seccomp_files_close(n))
		slots_release(n);
	answer_continue(listener, req->id);
}

/* Serve REQ, an open C by a thread of the program that may be ours. */
static void serve_open(const struct seccomp_notif *req, const struct open_call *c,
		       const char *path)
{
	pid_t tid = (pid_t)req->pid;
	struct seccomp_file *file;
	mode_t mask;
	int base, fd, fresh;

	if (!remote_same_root(tid) || remote_umask(tid, &mask) < 0 ||
	    (base = remote_base(tid, path[0] == '/' ? AT_FDCWD : c->dirfd)) < 0) {
		/* Another root is not ours to resolve; a bad dirfd fails the
		 * kernel's call as it must (EBADF, ENOTDIR). */
		answer_continue(listener, req->id);
		return;
	}
	if (!still_valid(req->id)) {
		close(base);
		return;
	}
	if (own_fs)
		umask(mask);
	fd = seccomp_files_open(base, path, c->flags, c->mode, &file, &fresh);
	close(base);
	if (fd == REDIRECT_PASS)
		answer_continue(listener, req->id);
	else if (fd < 0)
		answer_error(listener, req->id, errno ? errno : EIO);  /* never 0: a result */
	else
		hand_over(req, fd, c->flags & O_CLOEXEC, file, fresh);
}

/* Cheap questions first: most opens for writing are of paths no rule
 * matches, and go on in the kernel after one stat and one read of the
 * program's memory.  Until ID_VALID (in serve_open) nothing read is
 * acted on: letting the call go on is what the kernel would do anyway. */
static void serve(const struct seccomp_notif *req)
{
	char path[PATH_MAX];
	struct open_call c;

	pthread_mutex_lock(&serving);
	if (!stopped && req->data.nr == __NR_close && remote_thread_of((pid_t)req->pid, program)) {
		serve_close(req, (int)req->data.args[0]);
		pthread_mutex_unlock(&serving);
		return;
	}
	if (stopped || !decode(req, &c) || !remote_thread_of((pid_t)req->pid, program) ||
	    remote_string((pid_t)req->pid, c.path, path, sizeof(path)) < 0 ||
	    !seccomp_files_may_match(path, c.flags))
		answer_continue(listener, req->id);
	else
		serve_open(req, &c, path);
	pthread_mutex_unlock(&serving);
}

/* Until no process is left under the filter (the listener hangs up). */
static void *notify_loop(void *unused)
{
	struct seccomp_notif_sizes sizes = { 0 };
	size_t size = sizeof(struct seccomp_notif);
	struct seccomp_notif *req;

	(void)unused;
	/* The kernel's notification may be larger than the headers'. */
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0 &&
	    sizes.seccomp_notif > size)
		size = sizes.seccomp_notif;
	if (!(req = malloc(size)))
		return NULL;
	own_fs = unshare(CLONE_FS) == 0;
	if (!own_fs)
		log_warn("the supervisor's files take its own umask: unshare: %s", strerror(errno));
	for (;;) {
		struct pollfd p = { listener, POLLIN, 0 };

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!(p.revents & POLLIN)) {
			if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
				break;
			continue;
		}
		memset(req, 0, size);  /* RECV wants it zeroed */
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;  /* the caller went away first */
			break;
		}
		serve(req);
	}
	free(req);
	return NULL;
}

int seccomp_notify_start(int fd, pid_t pid)
{
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;
	int err;

	listener = fd;
	program = pid;
	/* The thread takes no signal (the launcher's forwarding handlers run
	 * on the main thread), and has a umask of its own: the program's,
	 * set per call, must not reach the supervisor's other files. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&thread, &attr, notify_loop, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* Are there processes under the filter still? */
static int users_left(void)
{
	struct pollfd p = { listener, POLLIN, 0 };

	return poll(&p, 1, 0) >= 0 && (!(p.revents & POLLHUP) || (p.revents & POLLIN));
}

/* The lingering process: forked from a process with threads, so nothing
 * but system calls (no malloc, no stdio), the notification on the
 * stack, larger than any the kernel has defined. */
static void linger(void)
{
	union {
		struct seccomp_notif req;
		char room[1024];
	} n;

	for (;;) {
		struct pollfd p = { listener, POLLIN, 0 };

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (p.revents & POLLIN) {
			memset(&n, 0, sizeof(n));
			if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n.req) == 0)
				answer_continue(listener, n.req.id);
			else if (errno != EINTR && errno != ENOENT)
				_exit(1);
		} else if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) {
			_exit(0);
		}
	}
}

void seccomp_notify_linger(void)
{
	pid_t pid;

	if (listener < 0 || !users_left())
		return;
	if ((pid = fork()) != 0) {
		if (pid < 0)
			log_warn("the processes the program left running fail their opens for "
				 "writing once atomically exits (ENOSYS): fork: %s", strerror(errno));
		return;
	}
	/* Out of the job's session and group (a terminal's hangup is not
	 * for it), holding nothing of the launcher's but the listener (a
	 * reader of our stdout must not wait for it), with the signals as a
	 * new process has them (the launcher's handlers forward to COMMAND,
	 * which is gone). */
	setsid();
	if (chdir("/") < 0) {
		/* nothing depends on the cwd */
	}
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (listener > 0)
		syscall(SYS_close_range, 0, (unsigned)listener - 1, 0);
	syscall(SYS_close_range, (unsigned)listener + 1, ~0U, 0);
	linger();
}

void seccomp_notify_stop(void)
{
	pthread_mutex_lock(&serving);
	stopped = 1;
	pthread_mutex_unlock(&serving);
}
