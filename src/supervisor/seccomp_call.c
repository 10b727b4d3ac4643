/* seccomp_call.c - one call of a covered program, served (seccomp_call.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/redirect.h"
#include "seccomp_answer.h"
#include "seccomp_call.h"
#include "seccomp_files.h"
#include "seccomp_forks.h"
#include "seccomp_notify.h"
#include "seccomp_pool.h"
#include "seccomp_remote.h"
#include "seccomp_slots.h"

/* What the filter sends, by kind. */
enum call_kind { CALL_OTHER, CALL_OPEN, CALL_LOOK, CALL_UNLINK, CALL_RENAME, CALL_CLOSE, CALL_DUP,
		 CALL_EXIT };

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
	int fd;                 /* a close's descriptor; a dup's old one */
	int newfd;              /* a dup's new one; -1: the kernel picks it */
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
	case __NR_dup:
		return (struct call){ .kind = CALL_DUP, .fd = (int)a[0], .newfd = -1 };
	case __NR_dup3:
		return (struct call){ .kind = CALL_DUP, .fd = (int)a[0], .newfd = (int)a[1],
				      .flags = (int)a[2] };
	case __NR_fcntl:
		if ((int)a[1] == F_DUPFD || (int)a[1] == F_DUPFD_CLOEXEC)
			return (struct call){ .kind = CALL_DUP, .fd = (int)a[0], .newfd = -1 };
		break;
	case __NR_exit_group:
		return (struct call){ .kind = CALL_EXIT, .flags = 1 };
	case __NR_exit:
		return (struct call){ .kind = CALL_EXIT, .flags = 0 };
	case __NR_renameat2:
		return (struct call){ CALL_RENAME, AT(a[2], a[3]), (int)a[4], 0, (int)a[0], a[1] };
	case __NR_newfstatat:
	case __NR_statx:
	case __NR_faccessat:
	case __NR_faccessat2:
		return (struct call){ CALL_LOOK, AT(a[0], a[1]), 0, 0, 0, 0 };
	case __NR_unlinkat:  /* a directory's: only a look */
		return (struct call){ (a[2] & AT_REMOVEDIR) ? CALL_LOOK : CALL_UNLINK, AT(a[0], a[1]),
				      0, 0, 0, 0 };
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
	case __NR_dup2:
		return (struct call){ .kind = CALL_DUP, .fd = (int)a[0], .newfd = (int)a[1] };
	case __NR_stat:
	case __NR_lstat:
	case __NR_access:
		return (struct call){ CALL_LOOK, AT(AT_FDCWD, a[0]), 0, 0, 0, 0 };
	case __NR_unlink:
		return (struct call){ CALL_UNLINK, AT(AT_FDCWD, a[0]), 0, 0, 0, 0 };
#endif
	}
	return (struct call){ .kind = CALL_OTHER };
}

/* Is the call ID still waiting?  (Its thread then still is the one the
 * notification named.) */
static int still_valid(const struct seccomp_program *p, uint64_t id)
{
	return ioctl(p->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* Put FD (of FILE, FRESH or not) into the program as the answer to REQ:
 * at a watched number where one is free and FILE is committed at its
 * close (its close will be sent), else at the lowest free one.  FILE
 * counts the descriptor before the answer: the program may close it the
 * moment it has it, and that close must find it. */
/* FD, a descriptor of a file the session keeps (commit = "session"),
 * into the program as the answer to REQ: nothing to count, the session
 * commits it with the others at its end. */
static void hand_over_session(struct seccomp_program *p, const struct seccomp_notif *req, int fd,
			      int cloexec)
{
	int got = answer_fd(p->listener, req->id, fd, cloexec, -1), err = errno;

	close(fd);
	if (got >= 0 || err == ENOENT)
		return;
	log_warn("pid %d: cannot give the program its file: %s", (int)req->pid, strerror(err));
	answer_error(p->listener, req->id, err == EINVAL ? ENOSYS : err);
}

static void hand_over(struct seccomp_program *p, const struct seccomp_notif *req, int fd, int cloexec,
		      struct seccomp_file *file, int fresh)
{
	int at, got, err;

	if (!file) {
		hand_over_session(p, req, fd, cloexec);
		return;
	}
	at = seccomp_files_at_close(file) ? slots_take(&p->slots, (pid_t)req->pid) : -1;

	seccomp_files_place(&p->files, file, fresh, at);
	got = answer_fd(p->listener, req->id, fd, cloexec, at);
	if (got < 0 && at >= 0 && (errno == EBADF || errno == EMFILE)) {
		/* The program lowered its descriptor limit below the range. */
		seccomp_files_unwatch(&p->files, file, at);
		slots_release(&p->slots, at);
		at = -1;
		got = answer_fd(p->listener, req->id, fd, cloexec, -1);
	}
	err = errno;
	close(fd);
	if (got >= 0) {
		seccomp_files_given(&p->files, file);
		return;
	}
	seccomp_files_not_given(&p->files, file, at);
	slots_release(&p->slots, at);
	if (err == ENOENT)
		return;  /* the call is gone */
	log_warn("pid %d: cannot give the program its file: %s", (int)req->pid, strerror(err));
	answer_error(p->listener, req->id, err == EINVAL ? ENOSYS : err);
}

/* REQ, a close of descriptor N by a thread of the program: when N is the
 * last watched descriptor of a pending file, the file is committed
 * before the close goes on (the program waits in it, as in the library's
 * close).  A close whose call went away (the program killed meanwhile)
 * commits nothing: the end decides. */
static void serve_close(struct seccomp_program *p, const struct seccomp_notif *req, int n)
{
	if (still_valid(p, req->id) && seccomp_files_close(&p->files, n))
		slots_release(&p->slots, n);
	answer_continue(p->listener, req->id);
}

/* Will the kernel fail the dup C of the thread TID (an old descriptor
 * that is not open, dup3's flags)?  Then nothing moves, and nothing is
 * counted. */
static int dup_fails(pid_t tid, const struct call *c)
{
	char path[64];
	struct stat st;

	if (c->flags & ~O_CLOEXEC)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid, c->fd);
	return fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) < 0;
}

/* REQ, a dup C of its descriptor to another (newfd -1: the kernel
 * picks) by a thread of the program: counted before the kernel makes it
 * (a file of ours that the new number held may be committed: the dup
 * closes it), unless the kernel will refuse it. */
static void serve_dup(struct seccomp_program *p, const struct seccomp_notif *req, const struct call *c)
{
	int new = c->newfd;

	if (!dup_fails((pid_t)req->pid, c) && still_valid(p, req->id)) {
		seccomp_files_dup(&p->files, c->fd, new);
		/* NEW is the program's own from now on, or ours again: the
		 * program's table, looked at before a number is handed out,
		 * says which. */
		slots_release(&p->slots, new);
	}
	answer_continue(p->listener, req->id);
}

/* May the supervisor act for the thread of REQ on PATH in DIRFD?  Its
 * root is ours, its rights are ours, the directory is there: *BASE is
 * the supervisor's descriptor of it, and the thread's umask is this
 * thread's.  Otherwise the call is answered (it goes on in the kernel:
 * another root is not ours to resolve, other rights are not ours to
 * use, and a bad dirfd fails the kernel's call as it must, EBADF or
 * ENOTDIR) and 0 returned.  Nothing read is acted on before the call is
 * known to be still there. */
static int may_act(struct seccomp_program *p, const struct seccomp_notif *req, int dirfd, const char *path, int *base)
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
		answer_continue(p->listener, req->id);
		return 0;
	}
	if (!still_valid(p, req->id)) {
		close(*base);
		return 0;
	}
	if (pool_own_umask())
		umask(mask);
	return 1;
}

/* Serve REQ, an open C of PATH for writing. */
static void serve_open(struct seccomp_program *p, const struct seccomp_notif *req, const struct call *c, const char *path)
{
	struct seccomp_file *file;
	int base, fd, fresh;

	if (!may_act(p, req, c->dirfd, path, &base))
		return;
	fd = seccomp_files_open(&p->files, base, path, c->flags, c->mode, &file, &fresh);
	close(base);
	if (fd == REDIRECT_PASS)
		answer_continue(p->listener, req->id);
	else if (fd < 0)
		answer_error(p->listener, req->id, errno ? errno : EIO);  /* never 0: a result */
	else
		hand_over(p, req, fd, c->flags & O_CLOEXEC, file, fresh);
}

/* Serve REQ, a look C at PATH: its lock taken (lock = "process"), then
 * the call made by the kernel. */
static void serve_look(struct seccomp_program *p, const struct seccomp_notif *req, const struct call *c, const char *path)
{
	int base, r;

	if (!may_act(p, req, c->dirfd, path, &base))
		return;
	if (c->kind == CALL_UNLINK && (r = seccomp_files_unlink(base, path)) != REDIRECT_PASS) {
		close(base);
		if (r < 0)
			answer_error(p->listener, req->id, errno ? errno : EIO);
		else
			answer_value(p->listener, req->id, 0);
		return;
	}
	if (c->kind == CALL_UNLINK && seccomp_files_unlinked(&p->files, base, path)) {
		close(base);
		answer_value(p->listener, req->id, 0);
		return;
	}
	if (c->kind == CALL_OPEN && (r = seccomp_files_read(base, path, c->flags)) != REDIRECT_PASS) {
		close(base);
		if (r < 0)
			answer_error(p->listener, req->id, errno ? errno : EIO);
		else
			hand_over_session(p, req, r, c->flags & O_CLOEXEC);
		return;
	}
	r = seccomp_files_touch(&p->files, base, path);
	close(base);
	if (r < 0)
		answer_error(p->listener, req->id, errno ? errno : EIO);
	else
		answer_continue(p->listener, req->id);
}

/* Serve REQ, a rename C onto PATH: made by the supervisor when PATH is
 * matched (locked and synced), by the kernel when not. */
static void serve_rename(struct seccomp_program *p, const struct seccomp_notif *req, const struct call *c, const char *path)
{
	char from[PATH_MAX];
	int base, frombase, r;

	if (remote_string((pid_t)req->pid, c->from, from, sizeof(from)) < 0) {
		answer_continue(p->listener, req->id);  /* the kernel says what is wrong */
		return;
	}
	if ((frombase = remote_base((pid_t)req->pid, from[0] == '/' ? AT_FDCWD : c->fromfd)) < 0) {
		answer_continue(p->listener, req->id);
		return;
	}
	if (!may_act(p, req, c->dirfd, path, &base)) {
		close(frombase);
		return;
	}
	r = seccomp_files_rename(&p->files, frombase, from, base, path, (unsigned)c->flags);
	close(base);
	close(frombase);
	if (r == REDIRECT_PASS)
		answer_continue(p->listener, req->id);
	else if (r < 0)
		answer_error(p->listener, req->id, errno ? errno : EIO);
	else
		answer_value(p->listener, req->id, 0);
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

/* REQ, an exit by a thread of P's process: the end of the program when
 * it is exit_group, or exit of its last thread (ALL).  Its pending files
 * are committed before it goes on: it exits normally, which commits,
 * whatever its status (as the library commits at a close).  Only for a
 * program of the tree: COMMAND's end is its wait status. */
static void serve_exit(struct seccomp_program *p, const struct seccomp_notif *req, int all)
{
	if (p->from_tree && (all || remote_threads(p->pid) == 1) && still_valid(p, req->id)) {
		p->exited = 1;
		/* A failure stays in the table: the program's end (a fork's
		 * in its forks_end) says it in the exit status. */
		if (seccomp_files_end(&p->files, 1) < 0)
			log_warn("pid %d: a file it wrote could not be committed", (int)p->pid);
	}
	answer_continue(p->listener, req->id);
}

/* The process REQ's thread belongs to, served by P's listener: P's own,
 * or one forked from it (made a record of when MAKE: a call about a
 * matched name).  NULL when none is acted for: the call goes on in the
 * kernel. */
static struct seccomp_program *process_of(struct seccomp_program *p, const struct seccomp_notif *req,
					   int make, int *preloaded)
{
	pid_t tid = (pid_t)req->pid;

	*preloaded = 0;
	if (remote_thread_of(tid, p->pid))
		return p;
	return forks_of(p, tid, make, preloaded);
}

/* Serve C about PATH, a name a rule may match: for the process of its
 * thread, P's own or a fork of it that runs an image the library cannot
 * reach (the forks killed meanwhile swept first: one may hold the lock
 * this call waits for). */
static void serve_named(struct seccomp_program *p, const struct seccomp_notif *req, const struct call *c,
			const char *path)
{
	struct seccomp_program *q;
	int preloaded;

	forks_sweep(p);
	if (!(q = process_of(p, req, 1, &preloaded)) || preloaded)
		answer_continue(p->listener, req->id);
	else if (c->kind == CALL_RENAME)
		serve_rename(q, req, c, path);
	else if (c->kind == CALL_LOOK || c->kind == CALL_UNLINK || !(c->flags & O_ACCMODE))
		serve_look(q, req, c, path);
	else
		serve_open(q, req, c, path);
	forks_put(p, q);
}

/* Serve C, a close, a dup or an exit: for the process of its thread
 * when it has files of ours (P, or a fork of it whatever it runs now). */
static void serve_unnamed(struct seccomp_program *p, const struct seccomp_notif *req, const struct call *c)
{
	int preloaded;
	struct seccomp_program *q = process_of(p, req, 0, &preloaded);

	if (!q)
		answer_continue(p->listener, req->id);
	else if (c->kind == CALL_EXIT)
		serve_exit(q, req, c->flags);
	else if (c->kind == CALL_CLOSE)
		serve_close(q, req, c->fd);
	else
		serve_dup(q, req, c);
	forks_put(p, q);
}

void seccomp_call_serve(void *ctx, const struct seccomp_notif *req)
{
	struct seccomp_program *p = ctx;
	char path[PATH_MAX];
	struct call c = decode(req);

	pthread_rwlock_rdlock(&p->serving);
	if (p->listener < 0)
		;  /* let go of: nothing to answer on */
	else if (p->stopped || c.kind == CALL_OTHER)
		answer_continue(p->listener, req->id);
	else if (c.kind == CALL_CLOSE || c.kind == CALL_DUP || c.kind == CALL_EXIT)
		serve_unnamed(p, req, &c);
	else if (remote_string((pid_t)req->pid, c.path, path, sizeof(path)) < 0 || !may_be_ours(&c, path))
		answer_continue(p->listener, req->id);
	else
		serve_named(p, req, &c, path);
	pthread_rwlock_unlock(&p->serving);
}

int seccomp_call_at_once(struct seccomp_program *p, const struct seccomp_notif *req)
{
	char path[PATH_MAX];
	struct call c = decode(req);

	if (c.kind == CALL_CLOSE || c.kind == CALL_DUP)
		return 0;
	/* An exit ends files: of a program of the tree, or of a fork. */
	if (c.kind == CALL_EXIT &&
	    (forks_any(p) || (p->from_tree && remote_thread_of((pid_t)req->pid, p->pid))))
		return 0;
	if (c.kind != CALL_OTHER && c.kind != CALL_EXIT &&
	    remote_string((pid_t)req->pid, c.path, path, sizeof(path)) == 0 && may_be_ours(&c, path))
		return 0;
	answer_continue(p->listener, req->id);
	return 1;
}
