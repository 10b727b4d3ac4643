/* session.c - requests to the session's supervisor. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/lock.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/rules.h"
#include "core/session_wire.h"
#include "session.h"
#include "state.h"
#include "core/sys.h"

static int sock = -1;
static pid_t sock_pid;            /* whose connection SOCK is */
static int session_gone;          /* said once: do it ourselves */
static int session_lost;          /* it was named, and is not there */
static int session_used;          /* it answered us once */
static pthread_mutex_t sock_mutex = PTHREAD_MUTEX_INITIALIZER;
/* Set while this thread waits for the supervisor: a signal handler of
 * the same thread that comes back here must not wait for itself. */
static __thread int in_request;

/* Why the session named VALUE does not answer us, as its keeper
 * (keeper.h) tells: still our ancestor, the session was killed (and the
 * keeper is about to take this process too); gone, the session ended
 * (it lets its keeper go first); there, but not above us, we are not of
 * its tree (it turned us away).  A name without a keeper's pid cannot
 * say: killed, to be safe. */
enum gone { KILLED, ENDED, STRANGER };

static enum gone why_gone(const char *value)
{
	pid_t keeper = session_keeper(value);

	if (!keeper || proc_descends(sys_getpid(), keeper))
		return KILLED;
	return proc_parent(keeper) < 0 ? ENDED : STRANGER;
}

/* The session is over (COMMAND has exited, and the session ended, or
 * is committing): this process outlived it, and goes on alone, as one
 * outside, with locks of its own.  Said once.  Returns 1. */
static int over(void)
{
	if (session_gone)
		return 1;
	session_gone = 1;
	lock_session_over();
	/* A process that used the session is told (warn); one that comes
	 * after its end (a daemon's next child) was never in it (info). */
	log_msg(session_used ? LEVEL_WARN : LEVEL_INFO,
		"the session of this process is over (its command has exited): from now on "
		"its locks and files are its own, outside the session");
	return 1;
}

/* No session to ask (VALUE, or the one named is not there, ERR): say so
 * once per process, unless "none" says it is known.  Returns 1. */
static int no_session(const char *value, int err)
{
	enum gone why;

	if (session_gone)
		return 1;
	why = value && strcmp(value, SESSION_NONE) != 0 ? why_gone(value) : KILLED;
	if (why == ENDED)
		return over();
	session_gone = 1;
	if (value && strcmp(value, SESSION_NONE) == 0)
		return 1;
	if (why == STRANGER) {
		log_warn("the session %s does not serve this process, which is not of its tree: "
			 "locks are held, and files committed, per process", value);
		return 1;
	}
	if (!value) {
		log_warn("a rule asks for a session (lock or commit = \"session\"), and no "
			 "atomically launcher above this process is one: its locks are held, and its "
			 "files committed, per process");
		return 1;
	}
	/* Killed (its keeper is about to take this process too): the files
	 * it kept are not ours to commit.  What the session would have
	 * committed all together must not be committed piecemeal. */
	session_lost = 1;
	log_warn("the session %s is not there (%s): locks are held per process, and files it "
		 "would commit are not written", value, strerror(err));
	return 1;
}

int session_present(void)
{
	const char *value = sys_getenv(SESSION_ENV);

	if (session_lost)
		return -1;
	if (session_gone || !value || strcmp(value, SESSION_NONE) == 0) {
		no_session(value, 0);
		return 0;
	}
	return 1;
}

/* With sock_mutex held: our connection, made when there is none (or
 * the one there is a parent's). */
static int connection(const char *value)
{
	if (sock >= 0 && sock_pid == lib.pid)
		return sock;
	sys_fd_close(&sock);
	if (session_connect(value, &sock) < 0)
		return -1;
	sock_pid = lib.pid;
	return sock;
}

/* One request REQ with the descriptors FDS (NFDS), and its reply of LEN
 * bytes into REP with up to NRFDS descriptors into RFDS.  Returns 0, or
 * 1 when there is no session to ask (said once), or -1 with EDEADLK
 * when this thread is already in a request (a signal handler). */
static int ask(struct session_request *req, const int *fds, int nfds, void *rep, size_t len,
	       int *rfds, int nrfds)
{
	const char *value = sys_getenv(SESSION_ENV);
	int s, r;

	if (session_present() <= 0)
		return 1;
	if (in_request) {
		errno = EDEADLK;
		return -1;
	}
	req->rules = session_rules_id(sys_getenv(RULES_ENV));
	in_request = 1;
	pthread_mutex_lock(&sock_mutex);
	s = connection(value);
	r = s < 0 ? -1 : session_send(s, req, sizeof(*req), fds, nfds);
	if (r == 0)
		r = session_recv(s, rep, len, rfds, nrfds) < 0 ? -1 : 0;
	if (r < 0)
		sys_fd_close(&sock);
	pthread_mutex_unlock(&sock_mutex);
	in_request = 0;
	if (r < 0)
		return no_session(value, errno);
	/* Every reply starts with its status. */
	if (*(const int32_t *)rep == SESSION_ENDED)
		return over();
	session_used = 1;
	return 0;
}

static void fill(struct session_request *req, int op, const char *name, const char *display)
{
	memset(req, 0, sizeof(*req));
	req->op = (uint32_t)op;
	snprintf(req->name, sizeof(req->name), "%s", name);
	snprintf(req->display, sizeof(req->display), "%s", display);
}

int session_hold(int dfd, const char *name, const char *display, const struct rule *rule,
		 const char *lock_dir)
{
	struct session_request req;
	struct session_reply rep;
	int r;

	fill(&req, SESSION_HOLD, name, display);
	req.lock_timeout = rule->lock_timeout;
	snprintf(req.lock_dir, sizeof(req.lock_dir), "%s", lock_dir);
	if ((r = ask(&req, &dfd, 1, &rep, sizeof(rep), NULL, 0)) != 0)
		return r;
	if (rep.status < 0) {
		errno = rep.error;
		return -1;
	}
	return rep.status;
}

/* The session was there and is gone: a file it keeps cannot be written
 * (session_present said why, once). */
static int lost(void)
{
	if (!session_lost)
		return 1;
	errno = EIO;
	return -1;
}

/* A file request: the reply and its two descriptors. */
static int ask_file(struct session_request *req, int dfd, struct session_file_reply *rep,
		    int fds[2])
{
	int r;

	fds[0] = fds[1] = -1;
	if ((r = ask(req, &dfd, 1, rep, sizeof(*rep), fds, 2)) != 0)
		return r < 0 ? r : lost();
	if (rep->status != 0) {
		sys_fd_close(&fds[0]);
		sys_fd_close(&fds[1]);
	}
	if (rep->status < 0)
		errno = rep->error;
	return rep->status;
}

int session_file_open(int dfd, const char *name, const char *display, int flags, mode_t mode,
		      struct session_file_reply *rep, int fds[2])
{
	struct session_request req;

	fill(&req, SESSION_OPEN, name, display);
	req.flags = flags;
	req.mode = mode;
	return ask_file(&req, dfd, rep, fds);
}

int session_file_lookup(int dfd, const char *name, const char *display,
			struct session_file_reply *rep, int fds[2])
{
	struct session_request req;

	fill(&req, SESSION_LOOKUP, name, display);
	return ask_file(&req, dfd, rep, fds);
}

int session_file_rename(int fromfd, const char *from, const char *from_display, int dfd,
			const char *name, const char *display, unsigned flags)
{
	struct session_request req;
	struct session_reply rep;
	int fds[2] = { dfd, fromfd }, r;

	fill(&req, SESSION_RENAME, name, display);
	snprintf(req.from, sizeof(req.from), "%s", from);
	snprintf(req.from_display, sizeof(req.from_display), "%s", from_display);
	req.flags = (int32_t)flags;
	if ((r = ask(&req, fds, 2, &rep, sizeof(rep), NULL, 0)) != 0)
		return r < 0 ? r : lost();
	if (rep.status < 0)
		errno = rep.error;
	return rep.status;
}

int session_file_unlink(int dfd, const char *name, const char *display)
{
	struct session_request req;
	struct session_reply rep;
	int r;

	fill(&req, SESSION_UNLINK, name, display);
	if ((r = ask(&req, &dfd, 1, &rep, sizeof(rep), NULL, 0)) != 0)
		return r < 0 ? r : lost();
	if (rep.status < 0)
		errno = rep.error;
	return rep.status;
}

int session_alive(void)
{
	const char *value = sys_getenv(SESSION_ENV);
	struct pollfd p = { .events = POLLIN | POLLRDHUP };
	const struct timespec now = { 0, 0 };
	int alive;

	if (session_present() <= 0)
		return 0;
	if (in_request)
		return 1;  /* a signal handler's: its thread is asking it */
	pthread_mutex_lock(&sock_mutex);
	/* The connection is closed by the supervisor's exit only: nothing
	 * comes on it unasked. */
	p.fd = connection(value);
	alive = p.fd >= 0 && sys_raw(SYS_ppoll, (long)&p, 1, (long)&now, 0) == 0;
	if (!alive)
		sys_fd_close(&sock);
	pthread_mutex_unlock(&sock_mutex);
	if (!alive)
		no_session(value, p.fd < 0 ? errno : ECONNRESET);
	return alive;
}

int session_socket(void)
{
	return sock_pid == lib.pid ? sock : -1;
}

int session_list(int dfd, unsigned from, struct session_list_reply *rep)
{
	struct session_request req;
	int r;

	fill(&req, SESSION_LIST, "", "");
	req.flags = (int32_t)from;
	if ((r = ask(&req, &dfd, 1, rep, sizeof(*rep), NULL, 0)) != 0)
		return r < 0 ? r : 1;
	if (rep->status < 0)
		errno = rep->error;
	return rep->status;
}

int session_cover_connect(void)
{
	const char *value = sys_getenv(SESSION_ENV);

	if (!value || strcmp(value, SESSION_NONE) == 0 || session_gone || session_lost)
		return -1;
	return session_connect_once(value);
}

/* REQ on S, its reply into REP: 0, or -1 with errno.  Nothing here may
 * log nor open a file: between the filter's install and the
 * supervisor's reply, a call the filter sends would wait for an answer
 * that nobody gives. */
static int cover_ask(int s, struct session_request *req, int fd, struct session_reply *rep)
{
	req->rules = session_rules_id(sys_getenv(RULES_ENV));
	if (session_send(s, req, sizeof(*req), &fd, 1) < 0)
		return -1;
	return session_recv(s, rep, sizeof(*rep), NULL, 0) < 0 ? -1 : 0;
}

int session_cover(int s, int listener, int watched, int reads, const char *name)
{
	struct session_request req;
	struct session_reply rep;

	fill(&req, SESSION_COVER, name, "");
	req.flags = watched;
	req.mode = reads ? SESSION_COVER_READS : 0;
	if (cover_ask(s, &req, listener, &rep) < 0)
		return -1;
	/* 1: served without acting (its calls go on in the kernel); -1:
	 * not served at all, and the filter is in: as good as no reply. */
	if (rep.status < 0)
		errno = rep.error ? rep.error : EPROTO;
	return rep.status < 0 ? -1 : rep.status == 0 ? 0 : 1;
}

void session_uncover(int s)
{
	struct session_request req;
	struct session_reply rep;

	fill(&req, SESSION_UNCOVER, "", "");
	if (cover_ask(s, &req, -1, &rep) < 0)
		log_warn("cannot tell the session's supervisor that the exec failed: %s",
			 strerror(errno));
}

void session_after_fork(void)
{
	/* Only the calling thread exists in the child. */
	pthread_mutex_init(&sock_mutex, NULL);
	sys_fd_close(&sock);
}
