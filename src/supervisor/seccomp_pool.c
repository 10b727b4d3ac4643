/* seccomp_pool.c - workers for the notifications, made as needed. */
#include <errno.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "seccomp_pool.h"

/* A notification waiting for a worker. */
struct job {
	struct job *next;
	void *ctx;
	struct seccomp_notif req;   /* SIZE bytes, as the kernel's */
};

static void (*serve_one)(void *ctx, const struct seccomp_notif *req);
static size_t notif_size;
static pthread_mutex_t guard = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct job *head, **tail = &head;
/* Under GUARD: the workers, and the calls they serve or that wait.  A
 * worker is made when the calls outnumber them. */
static int workers, calls;
static __thread int own_umask;

void pool_setup(void (*serve)(void *ctx, const struct seccomp_notif *req), size_t size)
{
	serve_one = serve;
	notif_size = size;
}

int pool_own_umask(void)
{
	return own_umask;
}

static struct job *next_job(void)
{
	struct job *j;

	pthread_mutex_lock(&guard);
	while (!head)
		pthread_cond_wait(&wake, &guard);
	j = head;
	if (!(head = j->next))
		tail = &head;
	pthread_mutex_unlock(&guard);
	return j;
}

#define WORKER_STACK (512 * 1024)

static void *work(void *unused)
{
	(void)unused;
	own_umask = unshare(CLONE_FS) == 0;
	if (!own_umask)
		log_warn("the supervisor's files take its own umask: unshare: %s", strerror(errno));
	for (;;) {
		struct job *j = next_job();

		serve_one(j->ctx, &j->req);
		free(j);
		pthread_mutex_lock(&guard);
		calls--;
		pthread_mutex_unlock(&guard);
	}
	return NULL;
}

/* Under GUARD: one more worker.  It inherits the caller's signal mask:
 * the receiving thread blocks them all. */
static int add_worker(void)
{
	pthread_attr_t attr;
	pthread_t thread;
	int err;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Up to POOL_MAX of them: 512 KiB each rather than 8 MiB of
	 * address space (a call's deepest path, a commit, holds a few
	 * PATH_MAX buffers). */
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	err = pthread_create(&thread, &attr, work, NULL);
	pthread_attr_destroy(&attr);
	if (err)
		return err;
	workers++;
	return 0;
}

int pool_hand(void *ctx, const struct seccomp_notif *req)
{
	struct job *j = malloc(offsetof(struct job, req) + notif_size);
	int err = 0;

	if (!j)
		return -1;
	memcpy(&j->req, req, notif_size);
	j->next = NULL;
	j->ctx = ctx;
	pthread_mutex_lock(&guard);
	if (calls >= workers && workers < POOL_MAX)
		err = add_worker();
	if (err && workers == 0) {
		pthread_mutex_unlock(&guard);
		free(j);
		errno = err;
		return -1;
	}
	calls++;
	*tail = j;
	tail = &j->next;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&guard);
	return 0;
}
