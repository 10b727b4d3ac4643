/* session.c - requests to the session's supervisor. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/rules.h"
#include "core/session_wire.h"
#include "session.h"
#include "state.h"
#include "core/sys.h"

static int sock = -1;
static pid_t sock_pid;            /* whose connection SOCK is */
static int session_gone;          /* said once: hold locks ourselves */
static pthread_mutex_t sock_mutex = PTHREAD_MUTEX_INITIALIZER;
/* Set while this thread waits for the supervisor: a signal handler of
 * the same thread that comes back here must not wait for itself. */
static __thread int in_request;

/* No session to ask (VALUE, or the one named is not there): say so once
 * per process, unless "none" says it is known. */
static int no_session(const char *value, int err)
{
	if (session_gone)
		return 1;
	session_gone = 1;
	if (value && strcmp(value, SESSION_NONE) == 0)
		return 1;
	if (!value)
		log_warn("lock = \"session\" needs the atomically launcher above this "
			 "process (none here): its locks are held per process");
	else
		log_warn("the session %s is not there (%s): locks are held per process",
			 value, strerror(err));
	return 1;
}

/* One request and its reply over SOCK. */
static int ask(int s, const struct session_request *req, int dfd, struct session_reply *rep)
{
	if (session_send(s, req, sizeof(*req), dfd) < 0)
		return -1;
	return session_recv(s, rep, sizeof(*rep), NULL);
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

int session_hold(int dfd, const char *name, const char *display, const struct rule *rule,
		 const char *lock_dir)
{
	const char *value = sys_getenv(SESSION_ENV);
	struct session_request req = { .op = SESSION_HOLD, .lock_timeout = rule->lock_timeout };
	struct session_reply rep;
	int s, r;

	if (session_gone || !value || strcmp(value, SESSION_NONE) == 0)
		return no_session(value, 0);
	if (in_request) {
		errno = EDEADLK;
		return -1;
	}
	snprintf(req.lock_dir, sizeof(req.lock_dir), "%s", lock_dir);
	snprintf(req.name, sizeof(req.name), "%s", name);
	snprintf(req.display, sizeof(req.display), "%s", display);

	in_request = 1;
	pthread_mutex_lock(&sock_mutex);
	s = connection(value);
	r = s < 0 ? -1 : ask(s, &req, dfd, &rep);
	if (r < 0)
		sys_fd_close(&sock);
	pthread_mutex_unlock(&sock_mutex);
	in_request = 0;
	if (r < 0)
		return no_session(value, errno);
	if (rep.status < 0) {
		errno = rep.error;
		return -1;
	}
	return 0;
}

void session_after_fork(void)
{
	/* Only the calling thread exists in the child. */
	pthread_mutex_init(&sock_mutex, NULL);
	sys_fd_close(&sock);
}
