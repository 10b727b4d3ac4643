/* seccomp_files.c - a covered program's pending files, made by the core. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/actor.h"
#include "core/commit.h"
#include "core/log.h"
#include "core/lookup.h"
#include "core/match.h"
#include "core/path.h"
#include "core/record.h"
#include "core/redirect.h"
#include "core/rules.h"
#include "core/sys.h"
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
	struct record rec;
};

static struct ruleset rs;
static struct actor actor;
static struct seccomp_file *files;
static struct seccomp_file *by_slot[SLOTS_SPAN];  /* a watched number's file */
static int failed;              /* a commit at a close failed */

int seccomp_files_setup(const char *text)
{
	char *copy = strdup(text);
	struct rule *rules = calloc(rules_count(text) + 1, sizeof(*rules));

	if (!copy || !rules || rules_decode(copy, &rs, rules) < 0) {
		free(copy);
		free(rules);
		return -1;
	}
	actor.pid = getpid();
	actor.lock_dir = rs.lock_dir;
	return 0;
}

int seccomp_files_may_match(const char *path, int flags)
{
	const char *name = strrchr(path, '/');

	name = name ? name + 1 : path;
	return redirect_flags(flags) && *name && rules_find(&rs, name, NULL) != NULL;
}

static struct seccomp_file *find(const struct target *t)
{
	for (struct seccomp_file *f = files; f; f = f->next)
		if (f->dev == t->dir_st.st_dev && f->ino == t->dir_st.st_ino &&
		    strcmp(f->name, t->name) == 0)
			return f;
	return NULL;
}

/* A new pending file for T, the target of PATH in BASE: the core's
 * redirect.  The descriptor for the program, or -1 with errno. */
static int make(struct target *t, const struct rule *rule, int base, const char *path,
		const char *display, int flags, mode_t mode, struct seccomp_file **made)
{
	struct seccomp_file *f = calloc(1, sizeof(*f));
	int fd;

	if (!f) {
		sys_close(t->dfd);
		errno = ENOMEM;
		return -1;
	}
	f->dev = t->dir_st.st_dev;
	f->ino = t->dir_st.st_ino;
	snprintf(f->name, sizeof(f->name), "%s", t->name);
	record_init(&f->rec);
	fd = redirect_open(&actor, &f->rec, t, rule, base, path, display, flags, mode, 0);
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

int seccomp_files_open(int base, const char *path, int flags, mode_t mode,
		       struct seccomp_file **file, int *fresh)
{
	char abs[PATH_MAX], display[PATH_MAX];
	const struct rule *rule;
	struct target t;

	*file = NULL;
	*fresh = 0;
	if (!redirect_flags(flags) || !(rule = rule_for(&rs, base, path, abs, sizeof(abs))) ||
	    !rule->enabled || path_absolute(base, path, display, sizeof(display)) < 0)
		return REDIRECT_PASS;
	if (redirect_target(base, path, flags, 0, &t) != 0)
		return REDIRECT_PASS;
	if ((*file = find(&t))) {
		/* The program opens its own pending file again: the temp,
		 * with the program's flags (O_TRUNC empties it). */
		sys_close(t.dfd);
		return record_open_temp(&(*file)->rec, (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);
	}
	*fresh = 1;
	return make(&t, rule, base, path, display, flags | O_CLOEXEC, mode, file);
}

/* F (off the table) ends: committed (COMMIT) or discarded, let go of. */
static int finish(struct seccomp_file *f, int commit_it)
{
	int r = 0;

	if (commit_it && commit(&actor, &f->rec) < 0)
		r = -1;  /* said by the core; the temp is gone */
	if (!commit_it) {
		log_info("%s: not committed: the program was killed", f->rec.path);
		record_discard(&f->rec);
	}
	record_release(&f->rec);
	free(f);
	return r;
}

static void unlink_file(struct seccomp_file *gone)
{
	for (struct seccomp_file **pp = &files; *pp; pp = &(*pp)->next)
		if (*pp == gone) {
			*pp = gone->next;
			return;
		}
}

int seccomp_files_at_close(const struct seccomp_file *file)
{
	return file->rec.rule->commit == COMMIT_CLOSE;
}

void seccomp_files_given(struct seccomp_file *file, int fresh, int n)
{
	int k = slots_index(n);

	if (fresh) {
		file->next = files;
		files = file;
	}
	if (k >= 0) {
		by_slot[k] = file;
		file->watched++;
	} else {
		file->unwatched++;
	}
}

void seccomp_files_not_given(struct seccomp_file *file, int fresh)
{
	if (!fresh)
		return;
	record_discard(&file->rec);
	record_release(&file->rec);
	free(file);
}

int seccomp_files_close(int n)
{
	int k = slots_index(n);
	struct seccomp_file *f = k >= 0 ? by_slot[k] : NULL;

	if (!f)
		return 0;
	by_slot[k] = NULL;
	if (--f->watched == 0 && !f->unwatched) {
		unlink_file(f);
		if (finish(f, 1) < 0)
			failed = 1;
	}
	return 1;
}

int seccomp_files_end(int commit_them)
{
	int r = failed ? -1 : 0;

	for (int k = 0; k < SLOTS_SPAN; k++)
		by_slot[k] = NULL;
	while (files) {
		struct seccomp_file *f = files;

		files = f->next;
		if (finish(f, commit_them) < 0)
			r = -1;
	}
	return r;
}
