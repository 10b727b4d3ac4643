/* files.c - the session's pending files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/actor.h"
#include "core/commit.h"
#include "core/copy.h"
#include "core/journal.h"
#include "core/log.h"
#include "core/lookup.h"
#include "core/metadata.h"
#include "core/path.h"
#include "core/record.h"
#include "core/redirect.h"
#include "core/rename.h"
#include "core/rules.h"
#include "core/tempfile.h"
#include "core/lock.h"
#include "core/sys.h"
#include "files.h"

/* One target's pending file.  Made by the first open (MADE 0 while the
 * core makes it: others wait), shared by every later one. */
struct entry {
	struct entry *next;
	dev_t dev;                  /* the target's directory ... */
	ino_t ino;
	char name[NAME_MAX + 1];    /* ... and its name there: the key */
	int made;
	int deleted;                /* the program unlinked it: REC holds the lock alone */
	char dir[PATH_MAX];         /* the directory's path, for the journal */
	struct record rec;
};

static struct ruleset rs;
static uint64_t rules_id;
static struct actor actor;
static struct entry *entries;
static int making;              /* entries being made */
static int closed;              /* COMMAND has exited: no more */
static pthread_mutex_t table_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t table_changed = PTHREAD_COND_INITIALIZER;

int files_setup(const char *text)
{
	char *copy = strdup(text);
	struct rule *rules = calloc(rules_count(text) + 1, sizeof(*rules));

	if (!copy || !rules || rules_decode(copy, &rs, rules) < 0) {
		free(copy);
		free(rules);
		return -1;
	}
	rules_id = session_rules_id(text);
	actor.pid = getpid();
	actor.lock_dir = rs.lock_dir;
	return 0;
}

/* The enabled rule of the absolute path DISPLAY, for an asker whose
 * rules are RULES: NULL when they are not ours, or none matches. */
static const struct rule *rule_at(uint64_t rules, const char *display)
{
	char abs[PATH_MAX];
	const struct rule *rule;

	if (rules != rules_id || display[0] != '/')
		return NULL;
	rule = rule_for(&rs, AT_FDCWD, display, abs, sizeof(abs));
	return rule && rule->enabled ? rule : NULL;
}

/* The rule of DISPLAY if it is one this session keeps files for. */
static const struct rule *session_rule_at(uint64_t rules, const char *display)
{
	const struct rule *rule = rule_at(rules, display);

	return rule && rule->commit == COMMIT_SESSION ? rule : NULL;
}

/* The rule of REQ's path if it is one this session keeps files for:
 * the asker's rules are ours, and the path's rule says so. */
static const struct rule *session_rule(const struct session_request *req)
{
	return session_rule_at(req->rules, req->display);
}

/* With the table mutex held: the entry of NAME in DIR_ST, or NULL. */
static struct entry *find(const struct stat *dir_st, const char *name)
{
	for (struct entry *e = entries; e; e = e->next)
		if (e->dev == dir_st->st_dev && e->ino == dir_st->st_ino && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

/* With the table mutex held: the made entry of NAME in DIR_ST, waiting
 * while another thread makes it; NULL when there is none. */
static struct entry *find_made(const struct stat *dir_st, const char *name)
{
	struct entry *e;

	while ((e = find(dir_st, name)) && !e->made)
		pthread_cond_wait(&table_changed, &table_mutex);
	return e;
}

/* E is the entry of NAME in the directory DIR_ST. */
static void set_key(struct entry *e, const struct stat *dir_st, const char *name)
{
	e->dev = dir_st->st_dev;
	e->ino = dir_st->st_ino;
	snprintf(e->name, sizeof(e->name), "%s", name);
}

/* E (off the table) goes: its temp removed, its record let go of. */
static void drop(struct entry *e)
{
	record_discard(&e->rec);
	record_release(&e->rec);
	free(e);
}

static void unlink_entry(struct entry *gone)
{
	for (struct entry **pp = &entries; *pp; pp = &(*pp)->next)
		if (*pp == gone) {
			*pp = gone->next;
			return;
		}
}

/* With the table mutex held: FRESH takes the place of OLD (NULL: none),
 * as a rename or an unlink replaces a file (OLD's open descriptors keep
 * the old temp). */
static void replace(struct entry *old, struct entry *fresh)
{
	if (old) {
		unlink_entry(old);
		drop(old);
	}
	fresh->next = entries;
	entries = fresh;
}

/* E's pending file as the reply: its record's text, its directory and
 * temp. */
/* A copy of the record's descriptor FD (-1: none), close-on-exec. */
static int dup_kept(int fd)
{
	return fd < 0 ? -1 : sys_fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

void close_kept(int fds[2])
{
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0) {
			sys_close(fds[i]);
			fds[i] = -1;
		}
}

static void reply_with(const struct entry *e, struct session_file_reply *rep, int fds[2])
{
	int slots[RECORD_SLOTS];
	/* Without its lock: the lock is the session's, not the asker's. */
	struct record shown = e->rec;

	shown.lock = NULL;
	if (record_encode(&shown, &rs, rep->record, sizeof(rep->record), slots) >=
	    sizeof(rep->record)) {
		rep->status = -1;
		rep->error = ENAMETOOLONG;
		return;
	}
	/* Copies, made under the table mutex: once it is let go of, a
	 * rename or an unlink of the path may drop the record and close its
	 * descriptors, and their numbers may be another file's by the time
	 * the asker uses them. */
	fds[0] = dup_kept(slots[RECORD_SLOT_DIR]);
	fds[1] = dup_kept(slots[RECORD_SLOT_TEMP]);
	if ((slots[RECORD_SLOT_DIR] >= 0 && fds[0] < 0) || (slots[RECORD_SLOT_TEMP] >= 0 && fds[1] < 0)) {
		rep->status = -1;
		rep->error = errno;
		close_kept(fds);
		return;
	}
	rep->status = 0;
}

/* The directory of E's record, as an absolute path (recovery opens it by
 * name). */
static void name_dir(struct entry *e)
{
	char proc[32];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", e->rec.dfd);
	n = readlink(proc, e->dir, sizeof(e->dir) - 1);
	e->dir[n > 0 ? n : 0] = '\0';
}

/* Make E's pending file for REQ's open (the core's redirect, as the
 * library does it, with the supervisor as the actor: its pid names the
 * temps and the lock files).  0, 1 when the open is not to be taken (the
 * asker's own open decides), or -1 with errno. */
static int make(struct entry *e, const struct session_request *req, int dfd,
		const struct rule *rule, int replacing)
{
	struct target t;
	int fd;

	if (redirect_target(dfd, req->name, req->flags, replacing, &t) != 0)
		return 1;
	record_init(&e->rec);
	fd = redirect_open(&actor, &e->rec, &t, rule, dfd, req->name, req->display, req->flags,
			   (mode_t)req->mode, replacing);
	if (fd < 0)
		return -1;
	sys_close(fd);  /* each process opens the temp anew, with its own flags */
	if (e->rec.inplace) {
		record_release(&e->rec);
		return 1;
	}
	name_dir(e);
	return e->dir[0] == '/' ? 0 : (record_discard(&e->rec), record_release(&e->rec), 1);
}

/* With the table mutex held: E, a file the program deleted, opened
 * again: without O_CREAT there is none (ENOENT); with it, a new file
 * (the core's "replacing": the old one counts as gone), whose temp the
 * lock E held already covers. */
static void remake(struct entry *e, const struct session_request *req, int dfd,
		   const struct rule *rule, struct session_file_reply *rep, int fds[2])
{
	struct record deleted;
	int r;

	if (!(req->flags & O_CREAT)) {
		rep->status = -1;
		rep->error = ENOENT;
		return;
	}
	deleted = e->rec;
	e->made = 0;
	making++;
	pthread_mutex_unlock(&table_mutex);
	r = make(e, req, dfd, rule, 1);
	rep->error = errno;
	pthread_mutex_lock(&table_mutex);
	making--;
	if (r == 0) {
		e->deleted = 0;
		record_release(&deleted);  /* its lock: the new record holds one */
		reply_with(e, rep, fds);
	} else {
		e->rec = deleted;
		rep->status = r;
	}
	e->made = 1;
	pthread_cond_broadcast(&table_changed);
}

void files_open(const struct session_request *req, int dfd, struct session_file_reply *rep,
		int fds[2])
{
	const struct rule *rule = session_rule(req);
	struct stat dir_st;
	struct entry *e;
	int r;

	rep->status = 1;
	if (!rule || sys_fstat(dfd, &dir_st) < 0)
		return;
	pthread_mutex_lock(&table_mutex);
	if (closed) {
		pthread_mutex_unlock(&table_mutex);
		return;
	}
	if ((e = find_made(&dir_st, req->name)) && e->deleted) {
		remake(e, req, dfd, rule, rep, fds);
		pthread_mutex_unlock(&table_mutex);
		return;
	}
	if (e) {
		reply_with(e, rep, fds);
		pthread_mutex_unlock(&table_mutex);
		return;
	}
	if (!(e = calloc(1, sizeof(*e)))) {
		pthread_mutex_unlock(&table_mutex);
		rep->status = -1;
		rep->error = ENOMEM;
		return;
	}
	set_key(e, &dir_st, req->name);
	e->next = entries;
	entries = e;
	making++;
	pthread_mutex_unlock(&table_mutex);

	/* Outside the mutex: the lock may take up to lock_timeout. */
	r = make(e, req, dfd, rule, 0);
	rep->error = errno;

	pthread_mutex_lock(&table_mutex);
	making--;
	if (r == 0) {
		e->made = 1;
		reply_with(e, rep, fds);
	} else {
		unlink_entry(e);
		free(e);
		rep->status = r;
	}
	pthread_cond_broadcast(&table_changed);
	pthread_mutex_unlock(&table_mutex);
}

void files_lookup(const struct session_request *req, int dfd, struct session_file_reply *rep,
		  int fds[2])
{
	struct stat dir_st;
	struct entry *e;

	rep->status = 1;
	if (!session_rule(req) || sys_fstat(dfd, &dir_st) < 0)
		return;
	pthread_mutex_lock(&table_mutex);
	if ((e = find_made(&dir_st, req->name)) && e->deleted) {
		rep->status = -1;
		rep->error = ENOENT;
	} else if (e) {
		reply_with(e, rep, fds);
	}
	pthread_mutex_unlock(&table_mutex);
}

/* R, a record of NAME in DFD (DIR_ST) under RULE, with the lock of NAME
 * (TEMPS: counting from now a named temp R will have) and a descriptor
 * of DFD; no temp yet.  The lock first, as it may wait: whatever the
 * session does to NAME is pending under it until the commit.  0, or -1
 * with errno (R holds nothing). */
static int record_start(struct record *r, const struct rule *rule, int dfd,
			const struct stat *dir_st, const char *name, const char *display, int temps)
{
	int err;

	record_init(r);
	r->rule = rule;
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->path, sizeof(r->path), "%s", display);
	if (lock_take(&actor, rule, dfd, dir_st, name, display, temps, &r->lock) < 0)
		return -1;
	r->temp_counted = temps && r->lock != NULL;
	if (sys_fd_dup(dfd, &r->dfd) < 0) {
		err = errno;
		record_release(r);
		errno = err;
		return -1;
	}
	return 0;
}

/* A new entry saying that NAME in DFD (DIR_ST) is deleted (see
 * files_unlink), holding its lock; NULL with errno. */
static struct entry *deleted_entry(const struct rule *rule, int dfd, const struct stat *dir_st,
				   const char *name, const char *display)
{
	struct entry *e = calloc(1, sizeof(*e));
	int err;

	if (!e)
		return NULL;
	if (record_start(&e->rec, rule, dfd, dir_st, name, display, 0) < 0) {
		err = errno;
		free(e);
		errno = err;
		return NULL;
	}
	set_key(e, dir_st, name);
	e->made = e->deleted = 1;
	name_dir(e);
	return e;
}

/* An entry made, and not put in the table after all. */
static void forget_entry(struct entry *e)
{
	if (e) {
		record_release(&e->rec);
		free(e);
	}
}

void files_unlink(const struct session_request *req, int dfd, struct session_reply *rep)
{
	const struct rule *rule = session_rule(req);
	struct stat dir_st, st;
	struct entry *e, *fresh;

	rep->status = 1;
	if (!rule || sys_fstat(dfd, &dir_st) < 0)
		return;
	if (!(fresh = deleted_entry(rule, dfd, &dir_st, req->name, req->display))) {
		rep->status = -1;
		rep->error = errno;
		return;
	}
	pthread_mutex_lock(&table_mutex);
	e = find_made(&dir_st, req->name);
	/* Nothing to delete: neither a pending file nor the file itself
	 * (as the session sees it). */
	if ((e && e->deleted) ||
	    (!e && (sys_fstatat(dfd, req->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || closed))) {
		pthread_mutex_unlock(&table_mutex);
		rep->status = closed && !e ? 1 : -1;
		rep->error = ENOENT;
		forget_entry(fresh);
		return;
	}
	replace(e, fresh);
	pthread_mutex_unlock(&table_mutex);
	rep->status = 0;
}

/* R, started (record_start): its temp is TEMP, named beside its target,
 * open as TFD (taken; -1: opened here by its name).  It is its own file,
 * as after a real rename: nothing of an old file is given to it at the
 * commit (existed 0), and it is committed as it is (written).  0, or -1
 * with errno (R still holds what record_start gave it). */
static int record_temp(struct record *r, const char *temp, int tfd)
{
	struct stat st;

	snprintf(r->temp, sizeof(r->temp), "%s", temp);
	if (tfd < 0)
		tfd = sys_openat(r->dfd, temp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (sys_fd_keep(tfd, &r->tfd) < 0 || sys_fstat(r->tfd, &st) < 0)
		return -1;
	r->temp_mode = st.st_mode;
	r->temp_uid = st.st_uid;
	r->temp_gid = st.st_gid;
	atomic_store(&r->written, 1);
	return 0;
}

/* R, a record for the program's own file TEMP (just renamed beside the
 * target NAME in DFD), under the target's lock, kept until the commit.
 * 0, or -1 with errno. */
static int record_renamed(struct record *r, const struct rule *rule, int dfd,
			  const struct stat *dir_st, const char *name, const char *temp,
			  const char *display)
{
	int err;

	if (record_start(r, rule, dfd, dir_st, name, display, 1) < 0)
		return -1;
	if (record_temp(r, temp, -1) < 0) {
		err = errno;
		record_release(r);
		errno = err;
		return -1;
	}
	return 0;
}

/* With the table mutex held: does NAME in DFD (DIR_ST) exist as the
 * tree sees it (a pending file, or the file itself unless deleted)? */
static int seen(const struct stat *dir_st, int dfd, const char *name)
{
	struct entry *e = find_made(dir_st, name);
	struct stat st;

	return e ? !e->deleted : sys_fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The program's own file renamed onto a path the session keeps. */
static void rename_onto(const struct session_request *req, int dfd, int fromfd,
			const struct rule *rule, struct session_reply *rep)
{
	char temp[NAME_MAX + 1];
	struct stat dir_st, st;
	struct entry *fresh;
	int exists;

	rep->status = 1;
	if (!rule || fromfd < 0 || sys_fstat(dfd, &dir_st) < 0 ||
	    sys_fstatat(fromfd, req->from, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return;
	if (req->flags & RENAME_NOREPLACE) {
		pthread_mutex_lock(&table_mutex);
		exists = seen(&dir_st, dfd, req->name);
		pthread_mutex_unlock(&table_mutex);
		if (exists) {
			rep->status = -1;
			rep->error = EEXIST;
			return;
		}
	}
	if (!(fresh = calloc(1, sizeof(*fresh)))) {
		rep->status = -1;
		rep->error = ENOMEM;
		return;
	}
	if (temp_rename_in(actor.pid, fromfd, req->from, dfd, req->name, temp) < 0 ||
	    record_renamed(&fresh->rec, rule, dfd, &dir_st, req->name, temp, req->display) < 0) {
		rep->status = -1;
		rep->error = errno;
		free(fresh);
		return;
	}
	set_key(fresh, &dir_st, req->name);
	fresh->made = 1;
	name_dir(fresh);
	pthread_mutex_lock(&table_mutex);
	/* Over a pending file of the same target: that one is replaced, as a
	 * rename replaces a file (its open descriptors keep the old one). */
	replace(find_made(&dir_st, req->name), fresh);
	pthread_mutex_unlock(&table_mutex);
	rep->status = 0;
}

/* ---- a rename away ---- */

/* One rename of a file the session keeps (FROM) to NAME. */
struct move {
	const struct session_request *req;
	int fromfd, dfd;             /* FROM's directory, NAME's */
	struct stat from_dir, dir;
	struct entry *source;        /* FROM's entry, if the session has one */
	struct stat st;              /* FROM itself, when it has none */
	char temp[NAME_MAX + 1];     /* the content, named beside NAME */
	int tfd;
};

/* With the table mutex held: M's source, as the tree sees it.  0; -1
 * with errno (ENOENT: none); 1 when it is not a regular file (the
 * program's rename moves it now, as without a session). */
static int find_source(struct move *m)
{
	m->source = find_made(&m->from_dir, m->req->from);
	if (m->source)
		return m->source->deleted ? (errno = ENOENT, -1) : 0;
	if (sys_fstatat(m->fromfd, m->req->from, &m->st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	return S_ISREG(m->st.st_mode) ? 0 : 1;
}

/* The source's pending temp, given the old file's owner, attributes and
 * mode (a rename keeps a file's own; the commit of FROM would have given
 * them, and a file of its own is given nothing at its commit), moved
 * beside NAME under a temp's name of ours.  The same inode: the
 * descriptors the tree holds of FROM write what NAME will hold, as after
 * a real rename.  0, or -1 with errno (the temp stays FROM's). */
static int move_temp(struct move *m)
{
	struct record *r = &m->source->rec;
	struct stat now;
	int moved, err;

	if (r->existed && (sys_fstat(r->tfd, &now) < 0 || metadata_copy(r, r->tfd, &now, -1) < 0))
		return -1;
	if (sys_fd_dup(r->tfd, &m->tfd) < 0)
		return -1;
	moved = r->temp[0] ? temp_rename_in(actor.pid, r->dfd, r->temp, m->dfd, m->req->name, m->temp)
			   : temp_link(actor.pid, r->tfd, m->dfd, m->req->name, m->temp);
	if (moved < 0) {
		err = errno;
		sys_fd_close(&m->tfd);
		errno = err;
		return -1;
	}
	if (r->temp[0] && !r->temp_counted)
		lock_count_temps(r->lock, -1);
	r->temp[0] = '\0';
	return 0;
}

/* M's content as the tree sees it, copied beside NAME into a temp of
 * ours: the source's pending temp, or the file itself; with the owner,
 * attributes and mode the tree sees.  Never a hard link to the file:
 * the tree could then write NAME in place, under everyone's eyes.  0,
 * or -1 with errno (nothing left behind). */
static int copy_temp(struct move *m)
{
	struct record old;          /* whose metadata the copy gets */
	struct stat now, in_st;
	int in, out, ok = -1, err;

	in = m->source ? record_open_temp(&m->source->rec, O_RDONLY | O_CLOEXEC)
		       : sys_openat(m->fromfd, m->req->from,
				    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
	if (in < 0 || sys_fstat(in, &in_st) < 0) {
		if (in >= 0)
			sys_close(in);
		return -1;
	}
	if (m->source)
		old = m->source->rec;
	else {
		record_init(&old);
		old.dfd = m->fromfd;
		old.existed = 1;
		old.target_st = m->st;
		snprintf(old.name, sizeof(old.name), "%s", m->req->from);
		snprintf(old.path, sizeof(old.path), "%s", m->req->from_display);
	}
	/* A file the tree made anew: the mode it was made with. */
	out = temp_open(actor.pid, m->dfd, m->req->name, O_RDWR | O_CLOEXEC, in_st.st_mode & 07777,
			m->temp);
	if (out >= 0 && copy_contents(in, out) == 0 && sys_fstat(out, &now) == 0) {
		old.temp_mode = now.st_mode;
		old.temp_uid = now.st_uid;
		old.temp_gid = now.st_gid;
		if ((old.existed ? metadata_copy(&old, out, &now, -1)
				 : sys_fchmod(out, in_st.st_mode & 07777)) == 0 &&
		    (m->temp[0] || temp_link(actor.pid, out, m->dfd, m->req->name, m->temp) == 0))
			ok = 0;
	}
	err = errno;
	sys_close(in);
	if (ok == 0)
		return sys_fd_keep(out, &m->tfd) < 0 ? -1 : 0;
	if (out >= 0) {
		if (m->temp[0])
			sys_unlinkat(m->dfd, m->temp, 0);
		sys_close(out);
	}
	errno = err;
	return -1;
}

/* With the table mutex held: M's rename is made, as the tree sees it:
 * FROM goes (GONE takes its place, if the file is there to remove at
 * the commit), and the content has left it. */
static void source_gone(struct move *m, struct entry *gone)
{
	struct stat st;

	if (sys_fstatat(m->fromfd, m->req->from, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		replace(m->source, gone);
		return;
	}
	/* Made by the session, never on disk: nothing to remove. */
	if (m->source) {
		unlink_entry(m->source);
		drop(m->source);
	}
	forget_entry(gone);
}

/* A rename away to NAME, a path the session keeps too: NAME's pending
 * file becomes FROM's content (its temp moved, or the file copied), and
 * FROM is deleted, both pending until the session's commit.  FRESH holds
 * NAME's lock, GONE FROM's. */
static int move_within(struct move *m, struct entry *fresh, struct entry *gone)
{
	int err;

	if ((m->source ? move_temp(m) : copy_temp(m)) < 0)
		return -1;
	if (record_temp(&fresh->rec, m->temp, m->tfd) < 0) {
		/* Cannot be, with a descriptor in hand; but never a temp
		 * nobody knows of. */
		err = errno;
		sys_unlinkat(m->dfd, m->temp, 0);
		errno = err;
		return -1;
	}
	if (m->source)
		atomic_store(&fresh->rec.error, atomic_load(&m->source->rec.error));
	source_gone(m, gone);
	replace(find_made(&m->dir, m->req->name), fresh);
	return 0;
}

/* A rename away to NAME, a path the session does not keep: NAME is not
 * the session's to hold back (the tree would not see it there: a process
 * asks the session only about the paths its rules give it), so it is
 * written now, as any such file, with FROM's content as the tree sees
 * it; FROM's removal waits for the commit.  A session that fails leaves
 * FROM as it was, and NAME: a copy too many, never a file lost.  Called
 * with the table mutex held; lets go of it meanwhile (the rename may
 * wait for NAME's lock, under another rule). */
static int move_out(struct move *m, struct entry *gone)
{
	const struct rule *rule = rule_at(m->req->rules, m->req->display);
	unsigned flags = (unsigned)m->req->flags & RENAME_NOREPLACE;
	struct target t;
	int r, err;

	if (copy_temp(m) < 0)
		return -1;
	pthread_mutex_unlock(&table_mutex);
	if (rule && target_find(m->dfd, m->req->name, 1, &t) == 0) {
		r = guarded_rename(&actor, rule, &t, m->req->display, m->dfd, m->temp, m->dfd,
				   m->req->name, flags);
		err = errno;
		sys_close(t.dfd);
	} else {
		r = sys_renameat2(m->dfd, m->temp, m->dfd, m->req->name, flags);
		err = errno;
	}
	sys_fd_close(&m->tfd);
	if (r < 0)
		sys_unlinkat(m->dfd, m->temp, 0);
	pthread_mutex_lock(&table_mutex);
	if (r < 0) {
		errno = err;
		return -1;
	}
	/* The source as it is now: another process of the tree may have
	 * touched it meanwhile, which a rename races with anyway. */
	m->source = find_made(&m->from_dir, m->req->from);
	source_gone(m, gone);
	return 0;
}

/* A rename onto itself: nothing moves, as the kernel does it. */
static int same_name(const struct move *m)
{
	return m->dir.st_dev == m->from_dir.st_dev && m->dir.st_ino == m->from_dir.st_ino &&
	       strcmp(m->req->name, m->req->from) == 0;
}

/* The program renames FROM, a file the session keeps (FROM_RULE), to
 * NAME (RULE: NULL when the session does not keep NAME). */
static void rename_away(const struct session_request *req, int dfd, int fromfd,
			const struct rule *from_rule, const struct rule *rule,
			struct session_reply *rep)
{
	struct move m = { .req = req, .fromfd = fromfd, .dfd = dfd, .tfd = -1 };
	struct entry *fresh = NULL, *gone;
	int r;

	rep->status = 1;
	if (sys_fstat(dfd, &m.dir) < 0 || sys_fstat(fromfd, &m.from_dir) < 0)
		return;
	/* The locks first (each may wait): FROM's for its removal, NAME's
	 * for its new content. */
	if (!(gone = deleted_entry(from_rule, fromfd, &m.from_dir, req->from, req->from_display)) ||
	    (rule && (!(fresh = calloc(1, sizeof(*fresh))) ||
		      record_start(&fresh->rec, rule, dfd, &m.dir, req->name, req->display, 1) < 0))) {
		rep->status = -1;
		rep->error = errno;
		forget_entry(gone);
		free(fresh);
		return;
	}
	if (fresh) {
		set_key(fresh, &m.dir, req->name);
		fresh->made = 1;
		name_dir(fresh);
	}
	pthread_mutex_lock(&table_mutex);
	/* NAME looked at before FROM is found: a look may wait (for an entry
	 * being made), and FROM's entry must stay the one found. */
	if (closed)
		r = 1;
	else if ((req->flags & RENAME_NOREPLACE) && seen(&m.dir, dfd, req->name))
		r = (errno = EEXIST, -1);
	else
		r = find_source(&m);
	if (r == 0 && same_name(&m))
		fresh = (forget_entry(fresh), NULL);  /* nothing to do: done */
	else if (r == 0)
		r = rule ? move_within(&m, fresh, gone) : move_out(&m, gone);
	rep->error = errno;
	pthread_mutex_unlock(&table_mutex);
	rep->status = r;
	if (r != 0 || same_name(&m)) {
		forget_entry(gone);
		forget_entry(fresh);
	}
}

void files_rename(const struct session_request *req, int dfd, int fromfd,
		  struct session_reply *rep)
{
	const struct rule *from_rule = session_rule_at(req->rules, req->from_display);

	if (from_rule && fromfd >= 0)
		rename_away(req, dfd, fromfd, from_rule, session_rule(req), rep);
	else
		rename_onto(req, dfd, fromfd, session_rule(req), rep);
}

/* ---- listings ---- */

/* One name of a listing into REP (kind '+' with the inode INO, or '-'):
 * 0, or -1 when the reply has no room left for it. */
static int list_put(struct session_list_reply *rep, size_t *at, char kind,
		    unsigned long long ino, const char *name)
{
	size_t room = sizeof(rep->names) - *at;
	int n = kind == '+' ? snprintf(rep->names + *at, room, "+%llu %s", ino, name)
			    : snprintf(rep->names + *at, room, "-%s", name);

	if (n < 0 || (size_t)n >= room)
		return -1;
	*at += (size_t)n + 1;
	rep->count++;
	return 0;
}

/* With the table mutex held: E's names as a listing of its directory
 * shows them to the tree, those of index FROM on (*INDEX counts them)
 * into REP.  -1 when the reply is full. */
static int list_entry(const struct entry *e, uint32_t from, uint32_t *index,
		      struct session_list_reply *rep, size_t *at)
{
	struct stat st;

	if (e->deleted) {
		/* The program deleted it: not there, until the commit does it. */
		if ((*index)++ >= from && list_put(rep, at, '-', 0, e->name) < 0)
			return -1;
		return 0;
	}
	/* Made by the tree: there, as the temp that stands for it (the
	 * inode a stat by name shows of a new file; an old file is listed
	 * already, under its own). */
	if ((*index)++ >= from &&
	    list_put(rep, at, '+', sys_fstat(e->rec.tfd, &st) == 0 ? st.st_ino : 0, e->name) < 0)
		return -1;
	/* A temp of ours with a name (a rename onto the path, a file
	 * system without O_TMPFILE) is no file of the program's. */
	if (e->rec.temp[0] && (*index)++ >= from && list_put(rep, at, '-', 0, e->rec.temp) < 0)
		return -1;
	return 0;
}

void files_list(const struct session_request *req, int dfd, struct session_list_reply *rep)
{
	struct stat dir_st;
	uint32_t index = 0, from = (uint32_t)req->flags;
	size_t at = 0;

	rep->status = 0;
	rep->count = rep->more = 0;
	/* Another ruleset's process sees the disk, as its lookups do. */
	if (req->rules != rules_id)
		return;
	if (sys_fstat(dfd, &dir_st) < 0 || !S_ISDIR(dir_st.st_mode)) {
		rep->status = -1;
		rep->error = ENOTDIR;
		return;
	}
	pthread_mutex_lock(&table_mutex);
	for (struct entry *e = entries; e; e = e->next) {
		/* One being made is not there yet: its open has not returned. */
		if (!e->made || e->dev != dir_st.st_dev || e->ino != dir_st.st_ino)
			continue;
		if (list_entry(e, from, &index, rep, &at) < 0) {
			rep->more = 1;
			break;
		}
	}
	pthread_mutex_unlock(&table_mutex);
}

/* ---- the end ---- */

int files_linger(void)
{
	int most = 0;

	for (size_t i = 0; i < rs.nrules; i++) {
		const struct rule *r = &rs.rules[i];

		if (r->lock != SCOPE_SESSION && r->commit != COMMIT_SESSION)
			continue;
		if (r->lock_timeout < 0)
			return -1;
		if (r->lock_timeout > most)
			most = r->lock_timeout;
	}
	return most;
}

struct file_id *files_ids(size_t *n)
{
	struct file_id *ids = NULL;
	struct stat st;
	size_t k = 0;

	pthread_mutex_lock(&table_mutex);
	for (struct entry *e = entries; e; e = e->next)
		k++;
	if (k && (ids = calloc(k, sizeof(*ids)))) {
		k = 0;
		for (struct entry *e = entries; e; e = e->next)
			if (e->made && !e->deleted && e->rec.tfd >= 0 &&
			    sys_fstat(e->rec.tfd, &st) == 0)
				ids[k++] = (struct file_id){ st.st_dev, st.st_ino };
	}
	pthread_mutex_unlock(&table_mutex);
	*n = ids ? k : 0;
	return ids;
}

/* Every entry's temp removed and record let go of. */
static void discard_all(void)
{
	while (entries) {
		struct entry *e = entries;
		entries = e->next;
		drop(e);
	}
}

/* The targets' paths, for one line: "a, b and 3 more". */
static void list_names(char *out, size_t size)
{
	size_t at = 0, shown = 0, total = 0;

	out[0] = '\0';
	for (struct entry *e = entries; e; e = e->next, total++) {
		if (at + strlen(e->rec.path) + 3 >= size - 32)
			continue;
		at += (size_t)snprintf(out + at, size - at, "%s%s", shown ? ", " : "", e->rec.path);
		shown++;
	}
	if (shown < total)
		snprintf(out + at, size - at, " and %zu more", total - shown);
}

/* Prepare every file; commit the ready ones through the journal. */
static int commit_all(void)
{
	size_t n = 0, k = 0;
	int failed = 0, durable = 0, r;
	struct journal_file *files;

	for (struct entry *e = entries; e; e = e->next)
		n++;
	if (!(files = calloc(n + 1, sizeof(*files)))) {
		log_error("the session's files: not committed: %s", strerror(errno));
		return -1;
	}
	for (struct entry *e = entries; e; e = e->next) {
		r = e->deleted ? 0 : commit_prepare(&actor, &e->rec);
		if (r < 0)
			failed++;
		if (r != 0)
			continue;
		files[k].dfd = e->rec.dfd;
		files[k].dir = e->dir;
		files[k].temp = e->deleted ? NULL : e->rec.temp;
		files[k].name = e->rec.name;
		durable |= e->rec.rule->durability == DUR_FULL;
		k++;
	}
	if (failed) {
		log_error("the session's files: none committed, as %d of them could not be", failed);
		free(files);
		return -1;
	}
	r = journal_commit(actor.pid, files, k, durable);
	if (r < 0)
		log_error("the session's files: none committed: cannot write its journal: %s",
			  strerror(errno));
	for (struct entry *e = entries; e && r == 0; e = e->next)
		if (e->deleted)
			log_info("%s: removed (with its session)", e->rec.path);
		else if (e->rec.temp[0])
			commit_done(&e->rec);
	free(files);
	if (r > 0) {
		/* After the commit point: the journal completes them later;
		 * their temps must stay. */
		for (struct entry *e = entries; e; e = e->next)
			e->rec.temp[0] = '\0';
	}
	return r == 0 ? 0 : -1;
}

int files_end(int ok, const char *why)
{
	char names[1024];
	int r = 0;

	pthread_mutex_lock(&table_mutex);
	closed = 1;
	while (making)
		pthread_cond_wait(&table_changed, &table_mutex);
	if (entries && !ok) {
		list_names(names, sizeof(names));
		log_warn("%s: the session's files were not committed, and stay as they were: %s",
			 why, names);
	} else if (entries) {
		r = commit_all();
	}
	discard_all();
	pthread_mutex_unlock(&table_mutex);
	return r;
}
