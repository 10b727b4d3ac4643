/* seccomp_forks.c - the processes a covered program forks, served too. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/elfcheck.h"
#include "core/log.h"
#include "core/proc.h"
#include "seccomp_files.h"
#include "seccomp_forks.h"
#include "seccomp_notify.h"
#include "seccomp_remote.h"

/* One forked process: a pid and when it started (a reused pid is
 * another process), the image it runs (under the forks' guard). */
struct fork_entry {
	struct seccomp_program prog;
	long long start;
	dev_t image_dev;
	ino_t image_ino;
	int preloaded;                 /* its image loads the library */
	struct fork_entry *next;
};

/* A program's forks, newest first.  Never freed while the program may
 * be served: a worker may hold a call of one. */
struct seccomp_forks {
	pthread_mutex_t guard;
	struct fork_entry *list;
};

/* Made at a program's first fork: under one mutex for all programs. */
static pthread_mutex_t making = PTHREAD_MUTEX_INITIALIZER;

static struct seccomp_forks *forks_get(struct seccomp_program *p)
{
	struct seccomp_forks *f;

	pthread_mutex_lock(&making);
	if (!(f = p->forks) && (f = calloc(1, sizeof(*f)))) {
		pthread_mutex_init(&f->guard, NULL);
		p->forks = f;
	}
	pthread_mutex_unlock(&making);
	return f;
}

int forks_any(const struct seccomp_program *p)
{
	return p->forks != NULL;
}

/* E's image now: when the process exec'd since it was last looked at,
 * whether the new image loads the library is told again.  Only a
 * static image is ours: a dynamic one has the library in it (a cgo
 * program forked by another is not named as covered: the library acts
 * there, as in any dynamic program). */
static void look_at_image(struct fork_entry *e)
{
	char exe[64];
	struct stat st;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)e->prog.pid);
	if (stat(exe, &st) < 0 || (st.st_dev == e->image_dev && st.st_ino == e->image_ino))
		return;
	e->image_dev = st.st_dev;
	e->image_ino = st.st_ino;
	e->preloaded = elf_dynamic(exe);
}

static struct fork_entry *find(struct seccomp_forks *f, pid_t pid, long long start)
{
	for (struct fork_entry *e = f->list; e; e = e->next)
		if (e->prog.pid == pid && e->start == start)
			return e;
	return NULL;
}

/* A record for the process PID (started at START) forked from P, made
 * only when its image cannot load the library.  NULL otherwise. */
static struct fork_entry *make(struct seccomp_program *p, struct seccomp_forks *f, pid_t pid,
			       long long start)
{
	struct fork_entry *e = calloc(1, sizeof(*e)), *there;
	int known;

	if (!e)
		return NULL;
	e->prog.pid = pid;
	look_at_image(e);
	if (e->preloaded || !e->image_ino) {
		free(e);
		return NULL;
	}
	e->start = start;
	e->prog.listener = p->listener;
	e->prog.from_tree = 1;  /* not our child: its exit_group ends it */
	slots_setup(&e->prog.slots, p->slots.base);
	seccomp_table_init(&e->prog.files, &e->prog.slots);
	pthread_mutex_lock(&f->guard);
	if ((there = find(f, pid, start))) {
		free(e);  /* another thread of it was first */
		e = there;
		known = !e->prog.exited && !e->preloaded;
		pthread_mutex_unlock(&f->guard);
		return known ? e : NULL;
	} else {
		e->next = f->list;
		f->list = e;
		log_debug("pid %d, forked from %d: served as its own process", (int)pid, (int)p->pid);
	}
	pthread_mutex_unlock(&f->guard);
	return e;
}

struct seccomp_program *forks_of(struct seccomp_program *p, pid_t tid, int make_it, int *preloaded)
{
	struct seccomp_forks *f = p->forks;
	struct fork_entry *e = NULL;
	pid_t pid = remote_tgid(tid);
	long long start;

	if (pid <= 0 || pid == p->pid || (start = proc_start_time(pid)) < 0)
		return NULL;
	if (f) {
		pthread_mutex_lock(&f->guard);
		if ((e = find(f, pid, start)) && !e->prog.exited) {
			look_at_image(e);
			*preloaded = e->preloaded;
		}
		pthread_mutex_unlock(&f->guard);
	}
	if (!e && make_it && (f = forks_get(p)) && (e = make(p, f, pid, start)))
		*preloaded = 0;
	return e && !e->prog.exited ? &e->prog : NULL;
}

/* E's files end: committed when it exited (done already at its
 * exit_group), discarded when not; its record no longer served. */
static int let_go(struct fork_entry *e)
{
	e->prog.exited = 1;
	return seccomp_files_end(&e->prog.files, 0);
}

void forks_sweep(struct seccomp_program *p)
{
	struct seccomp_forks *f = p->forks;

	if (!f)
		return;
	pthread_mutex_lock(&f->guard);
	for (struct fork_entry *e = f->list; e; e = e->next) {
		if (e->prog.exited || remote_alive(e->prog.pid, e->start))
			continue;
		if (seccomp_files_count(&e->prog.files) > 0)
			log_info("pid %d (forked from %d) ended without exiting (killed by a "
				 "signal): its files are not committed", (int)e->prog.pid, (int)p->pid);
		let_go(e);
	}
	pthread_mutex_unlock(&f->guard);
}

int forks_end(struct seccomp_program *p, const char *why)
{
	struct seccomp_forks *f = p->forks;
	int r = 0;

	if (!f)
		return 0;
	forks_sweep(p);
	pthread_mutex_lock(&f->guard);
	for (struct fork_entry *e = f->list; e; e = e->next) {
		if (e->prog.exited)
			continue;
		if (seccomp_files_count(&e->prog.files) > 0)
			log_warn("pid %d (forked from %d) %s: its pending files are not committed",
				 (int)e->prog.pid, (int)p->pid, why);
		if (let_go(e) < 0)
			r = -1;
	}
	pthread_mutex_unlock(&f->guard);
	return r;
}
