/* seccomp_files.c - a covered program's pending files, made by the core. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/actor.h"
#include "core/commit.h"
#include "core/log.h"
#include "core/lock.h"
#include "core/lookup.h"
#include "core/match.h"
#include "core/path.h"
#include "core/record.h"
#include "core/redirect.h"
#include "core/rename.h"
#include "core/rules.h"
#include "core/sys.h"
#include "core/session_wire.h"
#include "files.h"
#include "seccomp_files.h"
#include "seccomp_slots.h"

/* One target's pending file: its directory and name are the key. */
struct seccomp_file {
	struct seccomp_file *next;
	dev_t dev;
	ino_t ino;
	char name[NAME_MAX + 1];
	int watched;                /* its descriptors in the program at watched numbers */
	int unwatched;              /* and elsewhere: its last close cannot be seen */
	int giving;                 /* descriptors of it on their way into the program */
	int delivered;              /* the program has had one */
	struct seccomp_file *ending_next;  /* TAB->ending: its commit under way */
	struct record rec;
};

static struct ruleset rs;
static struct actor actor;      /* the supervisor: what every program's actor starts from */
static int reads;               /* a rule's lock outlives the write */
static uint64_t rules_id;       /* the rules' session_rules_id */
static int ready;

void seccomp_table_init(struct seccomp_table *t, const struct slots *slots)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->mutex, NULL);
	pthread_cond_init(&t->given, NULL);
	pthread_cond_init(&t->ended, NULL);
	t->slots = slots;
}

/* The supervisor acting for TAB's program: the table is the owner of its
 * locks (actor.h), so that the programs the supervisor serves wait for
 * each other's locks as processes do, and a program's lock = "process"
 * ends with it (seccomp_files_end), not with the supervisor. */
static struct actor acting_for(const struct seccomp_table *tab)
{
	struct actor a = actor;

	a.owner = tab;
	return a;
}

int seccomp_files_ready(void)
{
	return ready;
}

int seccomp_files_setup(const char *text)
{
	if (ready)
		return 0;  /* once: the session's and COMMAND's are the same */

	char *copy = strdup(text);
	struct rule *rules = calloc(rules_count(text) + 1, sizeof(*rules));

	if (!copy || !rules || rules_decode(copy, &rs, rules) < 0) {
		free(copy);
		free(rules);
		return -1;
	}
	actor.pid = getpid();
	actor.lock_dir = rs.lock_dir;
	rules_id = session_rules_id(text);
	for (size_t i = 0; i < rs.nrules; i++)
		if (rs.rules[i].lock >= SCOPE_PROCESS || rs.rules[i].commit == COMMIT_SESSION)
			reads = 1;
	ready = 1;
	return 0;
}

int seccomp_files_linger(void)
{
	int most = 0;

	for (size_t i = 0; i < rs.nrules; i++) {
		if (rs.rules[i].lock_timeout < 0)
			return -1;
		if (rs.rules[i].lock_timeout > most)
			most = rs.rules[i].lock_timeout;
	}
	return most;
}

int seccomp_files_watch_reads(void)
{
	return reads;
}

int seccomp_files_may_name(const char *path)
{
	const char *name = strrchr(path, '/');

	name = name ? name + 1 : path;
	return *name && rules_find(&rs, name, NULL) != NULL;
}

int seccomp_files_may_match(const char *path, int flags)
{
	return redirect_flags(flags) && seccomp_files_may_name(path);
}

/* The rule of PATH in BASE, enabled, and its name for messages in
 * DISPLAY; NULL when no rule is. */
static const struct rule *matched(int base, const char *path, char *display, size_t size)
{
	char abs[PATH_MAX];
	const struct rule *rule = rule_for(&rs, base, path, abs, sizeof(abs));

	if (!rule || !rule->enabled)
		return NULL;
	if (abs[0])
		snprintf(display, size, "%s", abs);
	else if (path_absolute(base, path, display, size) < 0)
		snprintf(display, size, "%s", path);
	return rule;
}


int seccomp_files_touch(const struct seccomp_table *tab, int base, const char *path)
{
	char display[PATH_MAX];
	const struct rule *rule = matched(base, path, display, sizeof(display));
	struct actor a = acting_for(tab);
	struct target t;
	int r = 0;

	if (!rule || rule->lock < SCOPE_PROCESS || target_find(base, path, 0, &t) < 0)
		return 0;
	/* The file need not exist: stat-then-create is a pattern the lock
	 * must cover too.  A non-regular file is none of ours. */
	if (!t.exists || S_ISREG(t.st.st_mode))
		r = lock_hold(&a, rule, t.dfd, &t.dir_st, t.name, display);
	sys_close(t.dfd);
	return r;
}


static int is_target(const struct seccomp_file *f, const struct target *t)
{
	return f->dev == t->dir_st.st_dev && f->ino == t->dir_st.st_ino &&
	       strcmp(f->name, t->name) == 0;
}

static struct seccomp_file *find(struct seccomp_table *tab, const struct target *t)
{
	for (struct seccomp_file *f = tab->files; f; f = f->next)
		if (is_target(f, t))
			return f;
	return NULL;
}

/* Under TAB's mutex: the file of T whose commit is under way, or NULL. */
static struct seccomp_file *find_ending(struct seccomp_table *tab, const struct target *t)
{
	for (struct seccomp_file *f = tab->ending; f; f = f->ending_next)
		if (is_target(f, t))
			return f;
	return NULL;
}

/* A new pending file of TAB's program for T, the target of PATH in
 * BASE: the core's redirect.  The descriptor for the program, or -1 with
 * errno. */
static int make(const struct seccomp_table *tab, struct target *t, const struct rule *rule,
		int base, const char *path, const char *display, int flags, mode_t mode,
		struct seccomp_file **made)
{
	struct seccomp_file *f = calloc(1, sizeof(*f));
	struct actor a = acting_for(tab);
	int fd;

	if (!f) {
		sys_close(t->dfd);
		errno = ENOMEM;
		return -1;
	}
	f->dev = t->dir_st.st_dev;
	f->ino = t->dir_st.st_ino;
	f->giving = 1;              /* the descriptor made here */
	snprintf(f->name, sizeof(f->name), "%s", t->name);
	record_init(&f->rec);
	fd = redirect_open(&a, &f->rec, t, rule, base, path, display, flags, mode, 0);
	if (fd < 0 || f->rec.inplace) {
		/* In place (fallback = "inplace"): the program writes the
		 * target itself; nothing is pending. */
		int err = errno;
		if (fd >= 0)
			record_release(&f->rec);
		free(f);
		errno = err;
		return fd;
	}
	*made = f;
	return fd;
}

/* REQ, about T named DISPLAY, as the library fills it: the rules' id
 * and lock directory, the target's name in its directory. */
static void fill_request(struct session_request *req, const struct target *t, const char *display)
{
	req->rules = rules_id;
	snprintf(req->lock_dir, sizeof(req->lock_dir), "%s", rs.lock_dir);
	snprintf(req->name, sizeof(req->name), "%s", t->name);
	snprintf(req->display, sizeof(req->display), "%s", display);
}

/* REQ (SESSION_OPEN or SESSION_LOOKUP, its other fields filled) about T,
 * named DISPLAY, asked of the session's table (files.h) as the library
 * asks it over the session's socket: a descriptor of the session's
 * pending file, a description of the program's with FLAGS; or -1 with
 * errno; *KEPT 0 when the session keeps no file for T. */
static int ask_session_table(struct session_request *req, const struct target *t, const char *display,
		       int flags, int *kept)
{
	struct session_file_reply *rep = malloc(sizeof(*rep));
	char proc[32];
	int fds[2] = { -1, -1 }, err, fd;

	*kept = 1;
	if (!rep)  /* 16 KiB: not on a worker's stack */
		return -1;
	fill_request(req, t, display);
	if (req->op == SESSION_OPEN)
		files_open(req, t->dfd, rep, fds);
	else
		files_lookup(req, t->dfd, rep, fds);
	if (rep->status != 0) {
		err = rep->error;
		*kept = rep->status < 0;
		free(rep);
		errno = err;
		return -1;
	}
	free(rep);
	/* A description of the program's own, with its flags, of the
	 * session's temp (FDS are copies, ours to close).  O_NOFOLLOW would
	 * refuse the /proc link itself. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fds[1]);
	fd = sys_openat(AT_FDCWD, proc, (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC | O_NOCTTY, 0);
	err = errno;
	close_kept(fds);
	errno = err;
	return fd;
}

/* commit = "session": T (the target, matched by RULE, named DISPLAY)
 * is the session's to keep, as the library's opens of it are (files.h):
 * its pending file, made at the first open by any process of the tree,
 * is opened anew with the program's FLAGS (O_TRUNC empties it).  A
 * descriptor, or -1 with errno; *KEPT 0 when the session does not keep
 * it (over already: the program's own pending file then). */
static int kept_open(const struct target *t, const struct rule *rule, const char *display,
			int flags, mode_t mode, int *kept)
{
	struct session_request req = { .op = SESSION_OPEN, .lock_timeout = rule->lock_timeout,
				       .flags = flags, .mode = mode };

	return ask_session_table(&req, t, display, flags, kept);
}

/* A read-only open with FLAGS of T (named DISPLAY): the session's
 * pending file when it keeps one for T, *KEPT 0 when it does not (the
 * kernel's open of the target then; ENOENT when the tree deleted it). */
static int kept_read(const struct target *t, const char *display, int flags, int *kept)
{
	struct session_request req = { .op = SESSION_LOOKUP };

	return ask_session_table(&req, t, display, flags, kept);
}


/* The session's answer REP to REQ (a rename or an unlink it keeps):
 * 0, -1 with errno, or 1 when it does not keep it. */
static int session_said(const struct session_reply *rep)
{
	if (rep->status < 0)
		errno = rep->error;
	return rep->status < 0 ? -1 : rep->status > 0 ? 1 : 0;
}

/* commit = "session": the program's rename of FROM (in FROMBASE) onto
 * T (named DISPLAY) makes FROM the session's pending file of T, as the
 * library's does (files.h): the old file stays until the session
 * commits.  0, -1 with errno, or 1 when the session does not take it
 * (the rename is made now, guarded). */
static int kept_rename(int frombase, const char *from, const struct target *t, const char *display,
		       unsigned flags)
{
	struct session_request req = { .op = SESSION_RENAME, .flags = (int32_t)flags };
	struct session_reply rep = { 1, 0 };
	struct target source;

	/* A rename moves the name FROM itself, never what a link leads to. */
	if (target_find(frombase, from, 1, &source) < 0)
		return 1;
	fill_request(&req, t, display);
	snprintf(req.from, sizeof(req.from), "%s", source.name);
	files_rename(&req, t->dfd, source.dfd, &rep);
	sys_close(source.dfd);
	if (rep.status == 0)
		log_debug("%s: renamed onto by the covered program: the session's pending file",
			  display);
	return session_said(&rep);
}

int seccomp_files_unlink(int base, const char *path)
{
	char display[PATH_MAX];
	const struct rule *rule = matched(base, path, display, sizeof(display));
	struct session_request req = { .op = SESSION_UNLINK };
	struct session_reply rep = { 1, 0 };
	struct target t;
	int r;

	/* The name itself goes, not what a link leads to. */
	if (!rule || rule->commit != COMMIT_SESSION || target_find(base, path, 1, &t) < 0)
		return REDIRECT_PASS;
	fill_request(&req, &t, display);
	files_unlink(&req, t.dfd, &rep);
	sys_close(t.dfd);
	r = session_said(&rep);
	if (r == 0)
		log_debug("%s: unlinked by the covered program: pending with the session", display);
	return r == 1 ? REDIRECT_PASS : r;
}

int seccomp_files_unlinked(struct seccomp_table *tab, int base, const char *path)
{
	char display[PATH_MAX];
	struct seccomp_file *f;
	struct target t;
	int done = 0;

	/* The name itself goes, not what a link leads to. */
	if (!matched(base, path, display, sizeof(display)) || target_find(base, path, 1, &t) < 0)
		return 0;
	pthread_mutex_lock(&tab->mutex);
	if ((f = find(tab, &t)) && atomic_exchange(&f->rec.unlinked, 1) == 0) {
		done = !t.exists;
	} else if (!f && (f = find_ending(tab, &t))) {
		/* Its last close is committing it (another worker): the mark
		 * may come too late for that commit, whose rename would then
		 * put back what this unlink deleted.  So the unlink waits for
		 * the commit, then deletes what it left, or is done if it left
		 * nothing (the mark came in time). */
		struct stat st;

		atomic_store(&f->rec.unlinked, 1);
		while (find_ending(tab, &t))
			pthread_cond_wait(&tab->ended, &tab->mutex);
		done = sys_fstatat(t.dfd, t.name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
	}
	pthread_mutex_unlock(&tab->mutex);
	sys_close(t.dfd);
	return done;
}

int seccomp_files_rename(const struct seccomp_table *tab, int frombase, const char *from,
			 int tobase, const char *to, unsigned flags)
{
	char display[PATH_MAX];
	const struct rule *rule = matched(tobase, to, display, sizeof(display));
	struct actor a = acting_for(tab);
	struct target t;
	int r, err;

	/* A final symlink is replaced, not followed. */
	if (!rule || target_find(tobase, to, 1, &t) < 0)
		return REDIRECT_PASS;
	if (rule->commit == COMMIT_SESSION && (r = kept_rename(frombase, from, &t, display, flags)) != 1) {
		err = errno;
		sys_close(t.dfd);
		errno = err;
		return r;
	}
	r = guarded_rename(&a, rule, &t, display, frombase, from, tobase, to, flags);
	err = errno;
	if (r == 0)
		log_debug("%s: renamed onto by the covered program, synced and locked", display);
	sys_close(t.dfd);
	errno = err;
	return r;
}

int seccomp_files_read(int base, const char *path, int flags)
{
	char display[PATH_MAX];
	const struct rule *rule = matched(base, path, display, sizeof(display));
	struct target t;
	int kept, fd;

	/* A directory or a path-only descriptor is not a read of the file. */
	if (!rule || rule->commit != COMMIT_SESSION || (flags & (O_DIRECTORY | O_PATH)) ||
	    target_find(base, path, 0, &t) < 0)
		return REDIRECT_PASS;
	fd = kept_read(&t, display, flags, &kept);
	sys_close(t.dfd);
	return kept ? fd : REDIRECT_PASS;
}

int seccomp_files_open(struct seccomp_table *tab, int base, const char *path, int flags, mode_t mode,
		       struct seccomp_file **file, int *fresh)
{
	char display[PATH_MAX];
	const struct rule *rule;
	struct target t;

	*file = NULL;
	*fresh = 0;
	if (!redirect_flags(flags) || !(rule = matched(base, path, display, sizeof(display))))
		return REDIRECT_PASS;
	if (redirect_target(base, path, flags, 0, &t) != 0)
		return REDIRECT_PASS;
	if (rule->commit == COMMIT_SESSION) {
		int kept, fd = kept_open(&t, rule, display, flags, mode, &kept);

		if (kept) {
			sys_close(t.dfd);
			return fd;
		}
	}
	pthread_mutex_lock(&tab->mutex);
	if ((*file = find(tab, &t))) {
		/* The program opens its own pending file again: the temp,
		 * with the program's flags (O_TRUNC empties it).  Not
		 * committed by a close meanwhile: this descriptor counts
		 * from now on. */
		int fd = record_open_temp(&(*file)->rec, (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);

		if (fd >= 0)
			(*file)->giving++;
		pthread_mutex_unlock(&tab->mutex);
		sys_close(t.dfd);
		return fd;
	}
	pthread_mutex_unlock(&tab->mutex);
	*fresh = 1;
	return make(tab, &t, rule, base, path, display, flags | O_CLOEXEC, mode, file);
}

/* F is no longer being committed: off TAB->ending (if it is there), and
 * the unlinks that wait for it told. */
static void ending_off(struct seccomp_table *tab, struct seccomp_file *f)
{
	pthread_mutex_lock(&tab->mutex);
	for (struct seccomp_file **pp = &tab->ending; *pp; pp = &(*pp)->ending_next)
		if (*pp == f) {
			*pp = f->ending_next;
			pthread_cond_broadcast(&tab->ended);
			break;
		}
	pthread_mutex_unlock(&tab->mutex);
}

/* F (off TAB's files; on TAB->ending or not) ends: committed (COMMIT)
 * or discarded, let go of, and off TAB->ending. */
static int finish(struct seccomp_table *tab, struct seccomp_file *f, int commit_it)
{
	struct actor a = acting_for(tab);
	int r = 0;

	if (commit_it && commit(&a, &f->rec) < 0)
		r = -1;  /* said by the core; the temp is gone */
	ending_off(tab, f);
	if (!commit_it) {
		log_info("%s: not committed: the program was killed", f->rec.path);
		record_discard(&f->rec);
	}
	record_release(&f->rec);
	free(f);
	return r;
}

/* Under TABLE: is F's last descriptor closed, and none on its way? */
static int done_with(const struct seccomp_file *f)
{
	return f->watched == 0 && !f->unwatched && !f->giving;
}

/* Under TAB's mutex: GONE's last descriptor is closed: off the files,
 * onto TAB->ending until last_close is done with it. */
static void unlink_file(struct seccomp_table *tab, struct seccomp_file *gone)
{
	for (struct seccomp_file **pp = &tab->files; *pp; pp = &(*pp)->next)
		if (*pp == gone) {
			*pp = gone->next;
			gone->ending_next = tab->ending;
			tab->ending = gone;
			return;
		}
}

int seccomp_files_at_close(const struct seccomp_file *file)
{
	return file->rec.rule->commit == COMMIT_CLOSE;
}

/* Where the number N is followed in TAB->by_slot: a watched number's
 * place, a standard stream's after them, or -1 (not followed).  The
 * streams only when closes are watched at all (the filter sends theirs
 * then). */
static int place_of(const struct seccomp_table *tab, int n)
{
	int k = slots_index(tab->slots, n);

	if (k >= 0 || n < 0 || n > 2 || !tab->slots->base)
		return k;
	return SLOTS_SPAN + n;
}

/* Under TABLE: count a descriptor of F at N (a followed number, or not:
 * -1), or (DELTA -1) no longer. */
static void count(struct seccomp_table *tab, struct seccomp_file *f, int n, int delta)
{
	int k = place_of(tab, n);

	if (k < 0) {
		f->unwatched += delta;
		return;
	}
	tab->by_slot[k] = delta > 0 ? f : NULL;
	f->watched += delta;
}

void seccomp_files_place(struct seccomp_table *tab, struct seccomp_file *file, int fresh, int n)
{
	pthread_mutex_lock(&tab->mutex);
	if (fresh) {
		file->next = tab->files;
		tab->files = file;
	}
	count(tab, file, n, +1);
	pthread_mutex_unlock(&tab->mutex);
}

void seccomp_files_unwatch(struct seccomp_table *tab, struct seccomp_file *file, int n)
{
	pthread_mutex_lock(&tab->mutex);
	count(tab, file, n, -1);
	count(tab, file, -1, +1);
	pthread_mutex_unlock(&tab->mutex);
}

/* F, off the table: its last descriptor is closed.  Committed when the
 * program ever had one, discarded when not (its one open went away). */
static void last_close(struct seccomp_table *tab, struct seccomp_file *f, int delivered)
{
	if (!delivered) {
		ending_off(tab, f);
		record_discard(&f->rec);
		record_release(&f->rec);
		free(f);
	} else if (finish(tab, f, 1) < 0) {
		tab->failed = 1;
	}
}

/* The descriptor on its way has arrived (GOT) or not: F's count of them
 * goes down, and F ends when it was the last thing keeping it (its other
 * descriptors were all closed meanwhile). */
static void arrived(struct seccomp_table *tab, struct seccomp_file *f, int got, int n)
{
	int last, delivered;

	pthread_mutex_lock(&tab->mutex);
	f->giving--;
	if (got)
		f->delivered = 1;
	else
		count(tab, f, n, -1);
	if ((last = done_with(f)))
		unlink_file(tab, f);
	delivered = f->delivered;
	pthread_cond_broadcast(&tab->given);
	pthread_mutex_unlock(&tab->mutex);
	if (last)
		last_close(tab, f, delivered);
}

/* Under TAB's mutex: the file at place K (NULL: none), once none of its
 * descriptors is on its way into the program.  A close or a dup that
 * ends the file must commit it before it is answered; while a
 * descriptor is on its way, the worker that gives it would commit
 * instead, after the close was answered: a Go program's close that
 * followed its open at once returned before the commit, and its read
 * back saw the old file (bats/seccomp.bats, about 1 run in 7).  The wait
 * is short: a descriptor is on its way only from its temp's open to its
 * ADDFD's return, no lock waited for between. */
static struct seccomp_file *settled(struct seccomp_table *tab, int k)
{
	struct seccomp_file *f;

	while ((f = tab->by_slot[k]) && f->giving)
		pthread_cond_wait(&tab->given, &tab->mutex);
	return f;
}

void seccomp_files_given(struct seccomp_table *tab, struct seccomp_file *file)
{
	arrived(tab, file, 1, -1);
}

void seccomp_files_not_given(struct seccomp_table *tab, struct seccomp_file *file, int n)
{
	arrived(tab, file, 0, n);
}

int seccomp_files_close(struct seccomp_table *tab, int n)
{
	int k = place_of(tab, n);
	struct seccomp_file *f;
	int last = 0, delivered = 0;

	if (k < 0)
		return 0;
	pthread_mutex_lock(&tab->mutex);
	if ((f = settled(tab, k))) {
		count(tab, f, n, -1);
		if ((last = done_with(f)))
			unlink_file(tab, f);
		delivered = f->delivered;
	}
	pthread_mutex_unlock(&tab->mutex);
	if (last)
		last_close(tab, f, delivered);
	return f != NULL;
}

void seccomp_files_dup(struct seccomp_table *tab, int old, int new)
{
	int ko = place_of(tab, old), kn = new >= 0 ? place_of(tab, new) : -1;
	struct seccomp_file *f, *gone = NULL;
	int last = 0, delivered = 0;

	if (new == old)
		return;  /* dup2 onto itself changes nothing; dup3 fails */
	pthread_mutex_lock(&tab->mutex);
	if (kn >= 0)
		settled(tab, kn);
	f = ko >= 0 ? tab->by_slot[ko] : NULL;
	if (kn >= 0 && (gone = tab->by_slot[kn]))
		count(tab, gone, new, -1);
	if (f)
		count(tab, f, kn >= 0 ? new : -1, +1);
	if (gone && (last = done_with(gone)))
		unlink_file(tab, gone);
	delivered = gone && gone->delivered;
	pthread_mutex_unlock(&tab->mutex);
	if (last)
		last_close(tab, gone, delivered);
}

int seccomp_files_count(struct seccomp_table *tab)
{
	int n = 0;

	pthread_mutex_lock(&tab->mutex);
	for (struct seccomp_file *f = tab->files; f; f = f->next)
		n++;
	pthread_mutex_unlock(&tab->mutex);
	return n;
}

int seccomp_files_end(struct seccomp_table *tab, int commit_them)
{
	struct seccomp_file *left = NULL, **pp;
	int r = tab->failed ? -1 : 0;

	/* A file whose descriptor is on its way into the program stays: the
	 * worker that gives it finishes it (an exit_group served while
	 * another thread's open is answered; at the very end no worker
	 * serves the program any more, and none is on its way). */
	pthread_mutex_lock(&tab->mutex);
	for (pp = &tab->files; *pp;) {
		struct seccomp_file *f = *pp;

		if (f->giving) {
			pp = &f->next;
			continue;
		}
		*pp = f->next;
		for (int k = 0; k < SLOTS_SPAN + 3; k++)
			if (tab->by_slot[k] == f)
				tab->by_slot[k] = NULL;
		f->next = left;
		left = f;
	}
	pthread_mutex_unlock(&tab->mutex);
	while (left) {
		struct seccomp_file *f = left;

		left = f->next;
		if (finish(tab, f, commit_them) < 0) {
			r = -1;
			tab->failed = 1;  /* a later end says so too */
		}
	}
	/* The program is gone: so are the locks it kept.  Again at a second
	 * end (its exit_group, then its listener's hang-up): a touch served
	 * meanwhile may have taken one. */
	lock_let_go(tab);
	return r;
}
