/* session.c - the session's socket and the requests on it. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/actor.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/rules.h"
#include "core/session_wire.h"
#include "core/proc.h"
#include "files.h"
#include "keeper.h"
#include "peer.h"
#include "seccomp_tree.h"
#include "session.h"

static int listener = -1;
static pid_t supervisor;

/* The processes connected now (one connection each, for its life), and
 * the requests being answered; once ENDED is set, every request gets
 * SESSION_ENDED. */
struct user {
	pid_t pid;
	int sock;
	struct user *next;
};
static struct user *users;
static int answering;
static unsigned long begun;     /* requests answered so far */
static int ended;
static pthread_mutex_t users_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t answered = PTHREAD_COND_INITIALIZER;

int session_above(void)
{
	int slot;

	if (session_connect(getenv(SESSION_ENV), &slot) < 0)
		return 0;
	close(slot);
	return 1;
}

int session_open(const char *rules)
{
	struct sockaddr_un addr;
	char value[SESSION_VALUE_MAX];
	unsigned len;
	pid_t pid;

	supervisor = getpid();
	if (files_setup(rules) < 0 || seccomp_tree_setup(rules) < 0) {
		errno = EINVAL;
		return -1;
	}
	/* The random part keeps another process from taking the name first;
	 * one that did anyway (EADDRINUSE) only makes us draw again. */
	for (int tries = 0; tries < 16; tries++) {
		uint64_t random;

		if (getrandom(&random, sizeof(random), 0) != sizeof(random))
			return -1;
		session_value(value, supervisor, random);
		len = session_address(value, &addr, &pid);
		listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (listener < 0)
			return -1;
		if (bind(listener, (struct sockaddr *)&addr, len) == 0)
			break;
		close(listener);
		listener = -1;
		if (errno != EADDRINUSE)
			return -1;
	}
	if (listener < 0 || listen(listener, SOMAXCONN) < 0 || setenv(SESSION_ENV, value, 1) < 0)
		return -1;
	return 0;
}

/* lock = "session": take the lock of REQ's file in DFD and keep it until
 * the process (the session) ends.  The lock table is the core's, keyed
 * by directory and name, held by the process itself (owner NULL): a
 * second process of the tree asking for the same file, or a program the
 * seccomp supervisor covers taking it (its session-scope takes are the
 * process's too, lock.h), finds it held and does not wait. */
static void hold(const struct session_request *req, int dfd, struct session_reply *rep)
{
	struct actor a = { .pid = supervisor, .lock_dir = req->lock_dir };
	struct rule rule;
	struct stat dir_st;

	rule_set_defaults(&rule);
	rule.lock = SCOPE_PROCESS;
	rule.lock_timeout = req->lock_timeout;
	if (fstat(dfd, &dir_st) < 0 || !S_ISDIR(dir_st.st_mode)) {
		rep->status = -1;
		rep->error = ENOTDIR;
		return;
	}
	rep->status = lock_hold(&a, &rule, dfd, &dir_st, req->name, req->display);
	rep->error = rep->status < 0 ? errno : 0;
}

/* SESSION_LIST: its reply is a size of its own, kept out of answer's
 * frame. */
static int answer_list(int sock, const struct session_request *req, int dfd)
{
	struct session_list_reply rep;

	/* Whole: what the names leave of it would be this stack's. */
	memset(&rep, 0, sizeof(rep));
	files_list(req, dfd, &rep);
	return session_send(sock, &rep, sizeof(rep), NULL, 0);
}

/* SESSION_COVER from PID: the listener DFDS[0] served (seccomp_tree.h). */
static void cover(pid_t pid, const struct session_request *req, int listener,
		  struct session_reply *rep)
{
	rep->status = seccomp_tree_cover(pid, req->rules, listener, req->flags, req->name, 0);
	rep->error = rep->status < 0 ? errno : 0;
}

/* Answer REQ (with the directories DFDS) from PID on SOCK.  0, or -1
 * when the connection is done for. */
static int answer(int sock, pid_t pid, const struct session_request *req, const int dfds[2])
{
	struct session_file_reply file_rep;
	struct session_reply rep = { 0, 0 };
	int fds[2] = { -1, -1 }, r;

	switch (req->op) {
	case SESSION_COVER:
		cover(pid, req, dfds[0], &rep);
		return session_send(sock, &rep, sizeof(rep), NULL, 0);
	case SESSION_UNCOVER:
		seccomp_tree_uncover(pid);
		return session_send(sock, &rep, sizeof(rep), NULL, 0);
	case SESSION_HOLD:
		hold(req, dfds[0], &rep);
		return session_send(sock, &rep, sizeof(rep), NULL, 0);
	case SESSION_RENAME:
		files_rename(req, dfds[0], dfds[1], &rep);
		return session_send(sock, &rep, sizeof(rep), NULL, 0);
	case SESSION_UNLINK:
		files_unlink(req, dfds[0], &rep);
		return session_send(sock, &rep, sizeof(rep), NULL, 0);
	case SESSION_LIST:
		return answer_list(sock, req, dfds[0]);
	default:
		memset(&file_rep, 0, sizeof(file_rep));
		if (req->op == SESSION_OPEN)
			files_open(req, dfds[0], &file_rep, fds);
		else
			files_lookup(req, dfds[0], &file_rep, fds);
		r = session_send(sock, &file_rep, sizeof(file_rep), fds, 2);
		close_kept(fds);
		return r;
	}
}

/* The size of the reply to OP (each op has one, session_wire.h). */
static size_t reply_size(uint32_t op)
{
	switch (op) {
	case SESSION_OPEN:
	case SESSION_LOOKUP:
		return sizeof(struct session_file_reply);
	case SESSION_LIST:
		return sizeof(struct session_list_reply);
	default:
		return sizeof(struct session_reply);
	}
}

/* The session is over: REQ's asker goes on alone.  The reply has the
 * size REQ's would have had; every reply starts with its status. */
static int answer_ended(int sock, const struct session_request *req)
{
	size_t size = reply_size(req->op);
	int32_t *rep = calloc(1, size);
	int r;

	if (!rep)
		return -1;
	*rep = SESSION_ENDED;
	r = session_send(sock, rep, size, NULL, 0);
	free(rep);
	return r;
}

/* A request begins: 1, or 0 when the session is over. */
static int begin_answer(void)
{
	int go;

	pthread_mutex_lock(&users_mutex);
	go = !ended;
	answering += go;
	begun += go;
	pthread_mutex_unlock(&users_mutex);
	return go;
}

static void end_answer(void)
{
	pthread_mutex_lock(&users_mutex);
	if (--answering == 0)
		pthread_cond_broadcast(&answered);
	pthread_mutex_unlock(&users_mutex);
}

/* From now on every request is told the session is over; returns once
 * the requests being answered are. */
static void stop_answering(void)
{
	pthread_mutex_lock(&users_mutex);
	ended = 1;
	while (answering)
		pthread_cond_wait(&answered, &users_mutex);
	pthread_mutex_unlock(&users_mutex);
}

static void user_add(struct user *u)
{
	pthread_mutex_lock(&users_mutex);
	u->next = users;
	users = u;
	pthread_mutex_unlock(&users_mutex);
}

static void user_remove(struct user *u)
{
	pthread_mutex_lock(&users_mutex);
	for (struct user **pp = &users; *pp; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	pthread_mutex_unlock(&users_mutex);
}

/* Has the process at the other end of SOCK let go of it?  Its thread
 * learns so a moment later: a process that has just exited is not one
 * that still uses the session. */
static int hung_up(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLRDHUP };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* A process connected now, or 0. */
static pid_t some_user(void)
{
	pid_t pid = 0;

	pthread_mutex_lock(&users_mutex);
	for (struct user *u = users; u && !pid; u = u->next)
		if (!hung_up(u->sock))
			pid = u->pid;
	pthread_mutex_unlock(&users_mutex);
	return pid;
}

/* One request on SOCK: answered, or told the session is over.  0, or -1
 * when the connection is done for. */
static int serve_request(int sock, pid_t pid, const struct session_request *req,
			 const int dfds[2])
{
	int r;

	/* A failed exec is told even after the end: its filter must be
	 * let go of. */
	if (req->op == SESSION_UNCOVER)
		return answer(sock, pid, req, dfds);
	if (!begin_answer()) {
		/* A filter sent after the end is served all the same. */
		if (req->op == SESSION_COVER)
			seccomp_tree_cover(pid, req->rules, dfds[0], req->flags, req->name, 1);
		return answer_ended(sock, req);
	}
	r = answer(sock, pid, req, dfds);
	end_answer();
	return r;
}

struct connection {
	int sock;
	pid_t pid;
};

/* One process of the tree, on its connection, until it goes.  A request
 * that is not well formed ends the connection: the library never sends
 * one. */
static void *serve_connection(void *arg)
{
	struct connection c = *(struct connection *)arg;
	struct user self = { c.pid, c.sock, NULL };
	struct session_request req;
	int dfds[2], ok;

	free(arg);
	user_add(&self);
	while (session_recv(c.sock, &req, sizeof(req), dfds, 2) >= 0) {
		ok = session_request_valid(&req) && (dfds[0] >= 0 || req.op == SESSION_UNCOVER) &&
		     serve_request(c.sock, c.pid, &req, dfds) == 0;
		for (int i = 0; i < 2; i++)
			if (dfds[i] >= 0)
				close(dfds[i]);
		if (!ok)
			break;
	}
	user_remove(&self);
	close(c.sock);
	return NULL;
}

static void *accept_loop(void *unused)
{
	(void)unused;
	for (;;) {
		struct connection *c;
		pthread_attr_t attr;
		pthread_t thread;
		pid_t pid;
		int sock = accept4(listener, NULL, NULL, SOCK_CLOEXEC);

		if (sock < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
			    errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				continue;
			return NULL;
		}
		if (!peer_in_tree(sock, supervisor, &pid)) {
			log_info("session: refused a connection from pid %d (not of this "
				 "session's user and tree)", (int)pid);
			close(sock);
			continue;
		}
		if (!(c = malloc(sizeof(*c)))) {
			close(sock);
			continue;
		}
		*c = (struct connection){ sock, pid };
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		if (pthread_create(&thread, &attr, serve_connection, c) != 0) {
			close(sock);
			free(c);
		}
		pthread_attr_destroy(&attr);
	}
}

/* A pending file costs the supervisor three descriptors (its directory,
 * its temp, its lock file): a session of a few hundred files would pass
 * a soft limit of 1024.  Raised to the hard limit here, once COMMAND
 * has started (it keeps the limits it was given: a program that uses
 * select() must not meet descriptors above 1023). */
static void raise_descriptor_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int session_serve(void)
{
	pthread_attr_t attr;
	pthread_t thread;
	int err;

	raise_descriptor_limit();
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&thread, &attr, accept_loop, NULL);
	pthread_attr_destroy(&attr);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

static double monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A process of the tree that still uses the session: connected to it,
 * or writing one of its pending files.  0 when none does. */
static pid_t still_used(int connected_too)
{
	struct file_id *ids;
	size_t n;
	pid_t pid = connected_too ? some_user() : 0;

	if (pid || (pid = seccomp_tree_live()))
		return pid;
	ids = files_ids(&n);
	pid = writers_find(supervisor, ids, n);
	free(ids);
	return pid;
}

/* Wait while a process of the tree still uses the session (CONNECTED_TOO:
 * counting those connected), until DEADLINE (< 0: none).  The pid of
 * one that still does then, or 0. */
static unsigned long answers_begun(void)
{
	unsigned long n;

	pthread_mutex_lock(&users_mutex);
	n = begun;
	pthread_mutex_unlock(&users_mutex);
	return n;
}

/* *BEGUN: how many requests had begun before the last look. */
static pid_t wait_unused(int connected_too, double deadline, unsigned long *begun_before)
{
	const struct timespec tick = { 0, 20 * 1000 * 1000 };
	pid_t pid;

	for (;;) {
		*begun_before = answers_begun();
		pid = still_used(connected_too);
		if (!pid || (deadline >= 0 && monotonic() >= deadline))
			return pid;
		nanosleep(&tick, NULL);
	}
}

/* COMMAND has exited, and what it started may still be at work.  The
 * session lasts while a process of its tree uses it: one connected to it
 * (it asked for a lock or a file, and may still write under that lock),
 * or one that writes a pending file through a descriptor it inherited
 * (writers.h); for lock_timeout at most (files_linger).  Then requests
 * are told the session is over, and the writers given a last look (a
 * request answered meanwhile may have opened a file). */
static void linger(void)
{
	int limit = files_linger();
	double deadline = limit < 0 ? -1 : monotonic() + limit;
	char command[200];
	unsigned long seen;
	pid_t pid = wait_unused(1, deadline, &seen);

	stop_answering();
	/* A request answered since the last look may have opened a file;
	 * none was (the common end), and that look stands. */
	if (!pid && answers_begun() != seen)
		pid = wait_unused(0, deadline, &seen);
	if (pid) {
		proc_command(pid, command, sizeof(command));
		log_warn("the session ends %d s after its command, while pid %d%s%s%s still uses "
			 "it: what that process writes from now on is its own, outside the session",
			 limit, (int)pid, command[0] ? " (" : "", command, command[0] ? ")" : "");
	}
}

int session_end(int ok, const char *why)
{
	int r;

	linger();
	/* The tree's orphans leave it: a process that finds the session
	 * gone from now on knows it ended (keeper.h). */
	keeper_release(NULL);
	seccomp_tree_end();
	r = files_end(ok, why);
	lock_remove_held();
	return r;
}
