/* seccomp_notify.c - the notifications of a covered program, served. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
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
#include "seccomp_pool.h"
#include "seccomp_remote.h"
#include "seccomp_slots.h"

static int listener = -1;
static pid_t program;
static int stopped;
/* Read-held while a call is served (by several workers at once): the
 * end write-holds it, so waits for them. */
static pthread_rwlock_t serving;

/* What the filter sends, by kind. */
enum call_kind { CALL_OTHER, CALL_OPEN, CALL_LOOK, CALL_RENAME, CALL_CLOSE };

/* A call, whichever of the system calls of its kind made it: the name
 * it is about (PATH in DIRFD; for a rename, the name it renames onto)
 * and what else the kind needs. */
struct call {
	enum call_kind kind;
	int dirfd;
	uint64_t path;
	int flags;              /* an open's; a rename's renameat2 flags */
	mode_t mode;
	int fromfd;             /* a rename's source */
	uint64_t from;
	int fd;                 /* a close's descriptor */
};

#define AT(d, p) .dirfd = (int)(d), .path = (p)

/* REQ's call.  A read-only open is a look (sent only when looks are). */
static struct call decode(const struct seccomp_notif *req)
{
	const __u64 *a = req->data.args;

	switch (req->data.nr) {
	case __NR_openat:
		return (struct call){ CALL_OPEN, AT(a[0], a[1]), (int)a[2], (mode_t)a[3], 0, 0 };
	case __NR_close:
		return (struct call){ .kind = CALL_CLOSE, .fd = (int)a[0] };
	case __NR_renameat2:
		return (struct call){ CALL_RENAME, AT(a[2], a[3]), (int)a[4], 0, (int)a[0], a[1] };
	case __NR_newfstatat:
	case __NR_statx:
	case __NR_faccessat:
	case __NR_faccessat2:
	case __NR_unlinkat:
		return (struct call){ CALL_LOOK, AT(a[0], a[1]), 0, 0, 0, 0 };
#ifdef __NR_renameat
	case __NR_renameat:
		return (struct call){ CALL_RENAME, AT(a[2], a[3]), 0, 0, (int)a[0], a[1] };
#endif
#ifdef __NR_open
	case __NR_open:
		return (struct call){ CALL_OPEN, AT(AT_FDCWD, a[0]), (int)a[1], (mode_t)a[2], 0, 0 };
	case __NR_creat:
		return (struct call){ CALL_OPEN, AT(AT_FDCWD, a[0]), O_CREAT | O_WRONLY | O_TRUNC,
				      (mode_t)a[1], 0, 0 };
	case __NR_rename:
		return (struct call){ CALL_RENAME, AT(AT_FDCWD, a[1]), 0, 0, AT_FDCWD, a[0] };
	case __NR_stat:
	case __NR_lstat:
	case __NR_access:
	case __NR_unlink:
		return (struct call){ CALL_LOOK, AT(AT_FDCWD, a[0]), 0, 0, 0, 0 };
#endif
	}
	return (struct call){ .kind = CALL_OTHER };
}

/* Is the call ID still waiting?  (Its thread then still is the one the
 * notification named.) */
static int still_valid(uint64_t id)
{
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* Put FD (of FILE, FRESH or not) into the program as the answer to REQ:
 * at a watched number where one is free and FILE is committed at its
 * close (its close will be sent), else at the lowest free one.  FILE
 * counts the descriptor before the answer: the program may close it the
 * moment it has it, and that close must find it. */
static void hand_over(const struct seccomp_notif *req, int fd, int cloexec,
		      struct seccomp_file *file, int fresh)
{
	int at = seccomp_files_at_close(file) ? slots_take((pid_t)req->pid) : -1, got, err;

	seccomp_files_place(file, fresh, at);
	got = answer_fd(listener, req->id, fd, cloexec, at);
	if (got < 0 && at >= 0 && (errno == EBADF || errno == EMFILE)) {
		/* The program lowered its descriptor limit below the range. */
		seccomp_files_unwatch(file, at);
		slots_release(at);
		at = -1;
		got = answer_fd(listener, req->id, fd, cloexec, -1);
	}
	err = errno;
	close(fd);
	if (got >= 0) {
		seccomp_files_given(file);
		return;
	}
	seccomp_files_not_given(file, at);
	slots_release(at);
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

/* May the supervisor act for the thread of REQ on PATH in DIRFD?  Its
 * root is ours, its rights are ours, the directory is there: *BASE is
 * the supervisor's descriptor of it, and the thread's umask is this
 * thread's.  Otherwise the call is answered (it goes on in the kernel:
 * another root is not ours to resolve, other rights are not ours to
 * use, and a bad dirfd fails the kernel's call as it must, EBADF or
 * ENOTDIR) and 0 returned.  Nothing read is acted on before the call is
 * known to be still there. */
static int may_act(const struct seccomp_notif *req, int dirfd, const char *path, int *base)
{
	pid_t tid = (pid_t)req->pid;
	static atomic_int told;
	mode_t mask;
	int same = 1;

	if (!remote_same_root(tid) || remote_status(tid, &mask, &same) < 0 || !same ||
	    (*base = remote_base(tid, path[0] == '/' ? AT_FDCWD : dirfd)) < 0) {
		if (!same && !told++)
			log_warn("pid %d: its user, groups or capabilities are not the "
				 "supervisor's: its files are left to the kernel (not atomic)",
				 (int)tid);
		answer_continue(listener, req->id);
		return 0;
	}
	if (!still_valid(req->id)) {
		close(*base);
		return 0;
	}
	if (pool_own_umask())
		umask(mask);
	return 1;
}

/* Serve REQ, an open C of PATH for writing. */
static void serve_open(const struct seccomp_notif *req, const struct call *c, const char *path)
{
	struct seccomp_file *file;
	int base, fd, fresh;

	if (!may_act(req, c->dirfd, path, &base))
		return;
	fd = seccomp_files_open(base, path, c->flags, c->mode, &file, &fresh);
	close(base);
	if (fd == REDIRECT_PASS)
		answer_continue(listener, req->id);
	else if (fd < 0)
		answer_error(listener, req->id, errno ? errno : EIO);  /* never 0: a result */
	else
		hand_over(req, fd, c->flags & O_CLOEXEC, file, fresh);
}

/* Serve REQ, a look C at PATH: its lock taken (lock = "process"), then
 * the call made by the kernel. */
static void serve_look(const struct seccomp_notif *req, const struct call *c, const char *path)
{
	int base, r;

	if (!may_act(req, c->dirfd, path, &base))
		return;
	r = seccomp_files_touch(base, path);
	close(base);
	if (r < 0)
		answer_error(listener, req->id, errno ? errno : EIO);
	else
		answer_continue(listener, req->id);
}

/* Serve REQ, a rename C onto PATH: made by the supervisor when PATH is
 * matched (locked and synced), by the kernel when not. */
static void serve_rename(const struct seccomp_notif *req, const struct call *c, const char *path)
{
	char from[PATH_MAX];
	int base, frombase, r;

	if (remote_string((pid_t)req->pid, c->from, from, sizeof(from)) < 0) {
		answer_continue(listener, req->id);  /* the kernel says what is wrong */
		return;
	}
	if ((frombase = remote_base((pid_t)req->pid, from[0] == '/' ? AT_FDCWD : c->fromfd)) < 0) {
		answer_continue(listener, req->id);
		return;
	}
	if (!may_act(req, c->dirfd, path, &base)) {
		close(frombase);
		return;
	}
	r = seccomp_files_rename(frombase, from, base, path, (unsigned)c->flags);
	close(base);
	close(frombase);
	if (r == REDIRECT_PASS)
		answer_continue(listener, req->id);
	else if (r < 0)
		answer_error(listener, req->id, errno ? errno : EIO);
	else
		answer_value(listener, req->id, 0);
}

/* Is C, about PATH, worth a closer look?  Most calls the filter sends
 * are of names no rule matches: they go on in the kernel after one read
 * of the program's memory and no system call of ours. */
static int may_be_ours(const struct call *c, const char *path)
{
	if (c->kind == CALL_OPEN && !(c->flags & O_ACCMODE))
		return seccomp_files_may_name(path);  /* a read-only open: a look */
	if (c->kind == CALL_OPEN)
		return seccomp_files_may_match(path, c->flags);
	return seccomp_files_may_name(path);
}

static void serve(const struct seccomp_notif *req)
{
	char path[PATH_MAX];
	struct call c = decode(req);
	pid_t tid = (pid_t)req->pid;

	pthread_rwlock_rdlock(&serving);
	if (stopped || c.kind == CALL_OTHER)
		answer_continue(listener, req->id);
	else if (c.kind == CALL_CLOSE && remote_thread_of(tid, program))
		serve_close(req, c.fd);
	else if (c.kind == CALL_CLOSE || remote_string(tid, c.path, path, sizeof(path)) < 0 ||
		 !may_be_ours(&c, path) || !remote_thread_of(tid, program))
		answer_continue(listener, req->id);
	else if (c.kind == CALL_RENAME)
		serve_rename(req, &c, path);
	else if (c.kind == CALL_LOOK || !(c.flags & O_ACCMODE))
		serve_look(req, &c, path);
	else
		serve_open(req, &c, path);
	pthread_rwlock_unlock(&serving);
}

/* On the receiving thread: can REQ be answered at once?  A call about a
 * name no rule matches goes on in the kernel from here, without the
 * hand-over to a worker (two more switches between threads); so does a
 * call the filter sends that is none of ours.  1 when answered. */
static int answered_at_once(const struct seccomp_notif *req)
{
	char path[PATH_MAX];
	struct call c = decode(req);

	if (c.kind == CALL_CLOSE)
		return 0;
	if (c.kind != CALL_OTHER && remote_string((pid_t)req->pid, c.path, path, sizeof(path)) == 0 &&
	    may_be_ours(&c, path))
		return 0;
	answer_continue(listener, req->id);
	return 1;
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
	pool_setup(serve, size);
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
		if (!answered_at_once(req) && pool_hand(req) < 0)
			serve(req);  /* with the supervisor's umask */
	}
	free(req);
	return NULL;
}

int seccomp_notify_start(int fd, pid_t pid)
{
	pthread_rwlockattr_t rw;
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;
	int err;

	listener = fd;
	program = pid;
	/* The end must not wait behind a stream of calls. */
	pthread_rwlockattr_init(&rw);
	pthread_rwlockattr_setkind_np(&rw, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&serving, &rw);
	pthread_rwlockattr_destroy(&rw);
	/* The thread takes no signal (the launcher's forwarding handlers run
	 * on the main thread), nor do the workers it makes (seccomp_pool.h):
	 * they inherit its mask. */
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
	pthread_rwlock_wrlock(&serving);
	stopped = 1;
	pthread_rwlock_unlock(&serving);
}
