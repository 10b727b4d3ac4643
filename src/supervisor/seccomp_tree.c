/* seccomp_tree.c - the covered programs of the session's tree. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "core/log.h"
#include "core/session_wire.h"
#include "seccomp_files.h"
#include "seccomp_forks.h"
#include "seccomp_notify.h"
#include "seccomp_tree.h"

static uint64_t rules_id;
/* Every program covered so far, newest first.  Never freed: a worker
 * may still hold a call of one whose listener hung up (it then answers
 * nothing); one program per exec, for the session's life. */
static struct seccomp_program *programs;
static pthread_mutex_t guard = PTHREAD_MUTEX_INITIALIZER;

int seccomp_tree_setup(const char *rules)
{
	rules_id = session_rules_id(rules);
	return seccomp_files_setup(rules);
}

int seccomp_tree_cover(pid_t pid, uint64_t rules, int listener, int watched, const char *name,
		       int ended)
{
	struct seccomp_program *p;
	/* The records and rules of another ruleset are not ours to act on;
	 * nor is anything once the session is over.  The listener is served
	 * all the same (every call going on in the kernel): the filter is in
	 * the program already, and unanswered its calls would fail. */
	int act = rules == rules_id && seccomp_files_ready() && !ended;
	int fd;

	if ((fd = fcntl(listener, F_DUPFD_CLOEXEC, 3)) < 0)
		return -1;
	if (!(p = seccomp_notify_start(fd, pid, watched, 1))) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	if (!act)
		seccomp_notify_stop(p);
	if (ended) {
		seccomp_notify_linger(p);  /* we are about to exit */
		return 1;
	}
	pthread_mutex_lock(&guard);
	p->next = programs;
	programs = p;
	pthread_mutex_unlock(&guard);
	if (act)
		log_debug("pid %d (%s): covered by the supervisor (seccomp)", (int)pid, name);
	return !act;
}

void seccomp_tree_uncover(pid_t pid)
{
	struct seccomp_program *found = NULL;

	pthread_mutex_lock(&guard);
	for (struct seccomp_program *p = programs; p && !found; p = p->next)
		if (p->pid == pid && !p->stopped)
			found = p;
	pthread_mutex_unlock(&guard);
	if (!found)
		return;
	seccomp_notify_stop(found);
	log_debug("pid %d: its exec failed: the supervisor no longer acts for it", (int)pid);
}

/* Does P's own process still run (not only a child under its filter)? */
static int running(const struct seccomp_program *p)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", (int)p->pid);
	return !p->stopped && !p->exited && !p->hung_up && access(path, F_OK) == 0;
}

pid_t seccomp_tree_live(void)
{
	pid_t pid = 0;

	pthread_mutex_lock(&guard);
	for (struct seccomp_program *p = programs; p && !pid; p = p->next)
		if (running(p))
			pid = p->pid;
		else if (!p->stopped && !p->hung_up)
			pid = forks_live(p);  /* a fork still writing */
	pthread_mutex_unlock(&guard);
	return pid;
}

void seccomp_tree_end(void)
{
	struct seccomp_program *list;

	pthread_mutex_lock(&guard);
	list = programs;
	pthread_mutex_unlock(&guard);
	for (struct seccomp_program *p = list; p; p = p->next) {
		if (p->hung_up)
			continue;
		seccomp_notify_stop(p);
		/* Still running when the session is over: what it wrote is
		 * not known to be whole (the session waited lock_timeout). */
		if (!p->exited && seccomp_files_count(&p->files) > 0)
			log_warn("pid %d outlives the session: its pending files are not "
				 "committed", (int)p->pid);
		seccomp_files_end(&p->files, p->exited);
		forks_end(p);
		seccomp_notify_linger(p);
	}
}
