/* session.c - the session's socket and the requests on it. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/actor.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/rules.h"
#include "core/session_wire.h"
#include "files.h"
#include "peer.h"
#include "session.h"

static int listener = -1;
static pid_t supervisor;
static atomic_int ended;

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
	if (files_setup(rules) < 0) {
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
 * by directory and name: a second process of the tree asking for the
 * same file finds it held and does not wait. */
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

	memset(&rep, 0, offsetof(struct session_list_reply, names));
	files_list(req, dfd, &rep);
	return session_send(sock, &rep, sizeof(rep), NULL, 0);
}

/* Answer REQ (with the directories DFDS) on SOCK.  0, or -1 when the
 * connection is done for. */
static int answer(int sock, const struct session_request *req, const int dfds[2])
{
	struct session_file_reply file_rep;
	struct session_reply rep = { 0, 0 };
	int fds[2] = { -1, -1 };

	switch (req->op) {
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
		memset(&file_rep, 0, offsetof(struct session_file_reply, record) + 1);
		if (req->op == SESSION_OPEN)
			files_open(req, dfds[0], &file_rep, fds);
		else
			files_lookup(req, dfds[0], &file_rep, fds);
		return session_send(sock, &file_rep, sizeof(file_rep), fds, 2);
	}
}

/* One process of the tree, on its connection SOCK, until it goes.  A
 * request that is not well formed ends the connection: the library
 * never sends one. */
static void *serve_connection(void *arg)
{
	int sock = (int)(intptr_t)arg;
	struct session_request req;
	int dfds[2], ok;

	while (session_recv(sock, &req, sizeof(req), dfds, 2) >= 0) {
		ok = session_request_valid(&req) && dfds[0] >= 0 && !atomic_load(&ended) &&
		     answer(sock, &req, dfds) == 0;
		for (int i = 0; i < 2; i++)
			if (dfds[i] >= 0)
				close(dfds[i]);
		if (!ok)
			break;
	}
	close(sock);
	return NULL;
}

static void *accept_loop(void *unused)
{
	(void)unused;
	for (;;) {
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
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		if (pthread_create(&thread, &attr, serve_connection, (void *)(intptr_t)sock) != 0)
			close(sock);
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

int session_end(int ok, const char *why)
{
	int r;

	atomic_store(&ended, 1);
	r = files_end(ok, why);
	lock_remove_held();
	return r;
}
