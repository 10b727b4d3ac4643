/* seccomp_forks.c - the processes a covered program forks, served too. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/elfcheck.h"
#include "core/log.h"
#include "core/proc.h"
#include "seccomp_files.h"
#include "seccomp_forks.h"
#include "seccomp_notify.h"
#include "seccomp_remote.h"

/* One forked process (its pid, and its start time in PROG), the image
 * it runs.  Under the forks' guard. */
struct fork_entry {
	struct seccomp_program prog;   /* first: a record is its entry */
	dev_t image_dev;
	ino_t image_ino;
	int preloaded;                 /* its image loads the library */
	int refs;                      /* calls of it being served */
	struct fork_entry *next;
};

/* A program's forks, newest first. */
struct seccomp_forks {
	pthread_mutex_t guard;
	struct fork_entry *list;
	int failed;                    /* a commit of a fork's failed */
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
		/* Its receiving thread sweeps them from now on: woken
		 * through its eventfd (seccomp_notify.h, wake), it waits with
		 * the sweep's timeout.  (An eventfd's write fails only at its
		 * maximum, when it is awake anyway.) */
		if (write(p->wake, &(uint64_t){ 1 }, sizeof(uint64_t)) < 0) {
		}
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
 * static image is ours (and a musl one with no musl build of the
 * library): a dynamic one has the library in it (a cgo
 * program forked by another is not named as covered: the library acts
 * there, as in any dynamic program). */
static void look_at_image(struct fork_entry *e)
{
	char exe[64];
	const char *why;
	struct stat st;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)e->prog.pid);
	if (stat(exe, &st) < 0 || (st.st_dev == e->image_dev && st.st_ino == e->image_ino))
		return;
	e->image_dev = st.st_dev;
	e->image_ino = st.st_ino;
	/* A musl image loads the library only through its musl build. */
	e->preloaded = elf_dynamic(exe) && (elf_preload_kind(exe, &why) != ELF_MUSL ||
					    elf_reaches(ELF_MUSL, getenv("LD_PRELOAD")));
}

static struct fork_entry *find(struct seccomp_forks *f, pid_t pid, long long start)
{
	for (struct fork_entry *e = f->list; e; e = e->next)
		if (e->prog.pid == pid && e->prog.start == start)
			return e;
	return NULL;
}

/* Under the guard: E is of no more use (its process ended, no call
 * holds it): off the list, what it still has discarded (a descriptor
 * that was on its way when it died), freed. */
static void drop(struct seccomp_forks *f, struct fork_entry *e)
{
	for (struct fork_entry **pp = &f->list; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	if (seccomp_files_end(&e->prog.files, 0) < 0)
		f->failed = 1;
	free(e);
}

/* A record for the process PID (started at START) forked from P, made
 * only when its image cannot load the library, and held.  NULL
 * otherwise. */
static struct fork_entry *record_fork(struct seccomp_program *p, struct seccomp_forks *f, pid_t pid,
			       long long start)
{
	struct fork_entry *e = calloc(1, sizeof(*e)), *there;

	if (!e)
		return NULL;
	e->prog.pid = pid;
	look_at_image(e);
	if (e->preloaded || !e->image_ino) {
		free(e);
		return NULL;
	}
	e->prog.start = start;
	e->prog.listener = p->listener;
	e->prog.from_tree = 1;  /* not our child: its exit_group ends it */
	slots_setup(&e->prog.slots, p->slots.base);
	seccomp_table_init(&e->prog.files, &e->prog.slots);
	pthread_mutex_lock(&f->guard);
	if ((there = find(f, pid, start))) {
		free(e);  /* another thread of it was first */
		e = there->prog.exited || there->preloaded ? NULL : there;
	} else {
		e->next = f->list;
		f->list = e;
		log_debug("pid %d, forked from %d: served as its own process", (int)pid, (int)p->pid);
	}
	if (e)
		e->refs++;
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
			e->refs++;
		} else {
			e = NULL;
		}
		pthread_mutex_unlock(&f->guard);
		if (e)
			return &e->prog;
	}
	if (make_it && (f = forks_get(p)) && (e = record_fork(p, f, pid, start))) {
		*preloaded = 0;
		return &e->prog;
	}
	return NULL;
}

void forks_put(struct seccomp_program *p, struct seccomp_program *q)
{
	struct fork_entry *e = (struct fork_entry *)q;
	struct seccomp_forks *f = p->forks;

	if (!q || q == p)
		return;
	pthread_mutex_lock(&f->guard);
	if (--e->refs == 0 && e->prog.exited)
		drop(f, e);
	pthread_mutex_unlock(&f->guard);
}

/* Under the guard: E is served no more: what it has pending committed
 * (COMMIT) or discarded, its locks let go of; freed unless a call holds
 * it. */
static void end_fork(struct seccomp_forks *f, struct fork_entry *e, int commit)
{
	e->prog.exited = 1;
	if (seccomp_files_end(&e->prog.files, commit) < 0)
		f->failed = 1;
	if (e->refs == 0)
		drop(f, e);
}

/* Under the guard: E's process died without exiting. */
static void died(struct seccomp_program *p, struct seccomp_forks *f, struct fork_entry *e)
{
	if (seccomp_files_count(&e->prog.files) > 0)
		log_info("pid %d (forked from %d) ended without exiting (killed by a signal): "
			 "its files are not committed", (int)e->prog.pid, (int)p->pid);
	end_fork(f, e, 0);
}

void forks_sweep(struct seccomp_program *p)
{
	struct seccomp_forks *f = p->forks;
	struct fork_entry *e, *next;

	if (!f)
		return;
	pthread_mutex_lock(&f->guard);
	for (e = f->list; e; e = next) {
		next = e->next;
		if (e->prog.exited) {
			if (e->refs == 0)
				drop(f, e);  /* exited while served */
		} else if (!remote_alive(e->prog.pid, e->prog.start)) {
			died(p, f, e);
		}
	}
	pthread_mutex_unlock(&f->guard);
}

pid_t forks_live(struct seccomp_program *p)
{
	struct seccomp_forks *f = p->forks;
	pid_t pid = 0;

	if (!f)
		return 0;
	forks_sweep(p);
	pthread_mutex_lock(&f->guard);
	for (struct fork_entry *e = f->list; e && !pid; e = e->next)
		if (!e->prog.exited && seccomp_files_count(&e->prog.files) > 0)
			pid = e->prog.pid;
	pthread_mutex_unlock(&f->guard);
	return pid;
}

static double monotonic(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

void forks_wait(struct seccomp_program *p, int limit)
{
	const struct timespec tick = { 0, 20 * 1000 * 1000 };
	double deadline = monotonic() + limit;

	while (forks_live(p) && (limit < 0 || monotonic() < deadline))
		nanosleep(&tick, NULL);
}

int forks_end(struct seccomp_program *p)
{
	struct seccomp_forks *f = p->forks;
	struct fork_entry *e, *next;
	int r;

	if (!f)
		return 0;
	forks_sweep(p);
	pthread_mutex_lock(&f->guard);
	for (e = f->list; e; e = next) {
		next = e->next;
		if (e->prog.exited)
			continue;
		if (seccomp_files_count(&e->prog.files) > 0)
			log_warn("pid %d (forked from %d) still writes at the end: its pending files "
				 "are committed as they stand, and what it writes from now on goes "
				 "into them in place", (int)e->prog.pid, (int)p->pid);
		end_fork(f, e, 1);
	}
	r = f->failed ? -1 : 0;
	pthread_mutex_unlock(&f->guard);
	return r;
}
