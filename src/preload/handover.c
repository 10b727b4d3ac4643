/* handover.c - pending files across exec.
 *
 * Before an exec, the files whose descriptors survive it are described
 * in ATOMICALLY_PENDING (core/handover_text.h: each with its record,
 * every field, and its descriptors as slots); the new image's library
 * adopts them.  No limit on the number of files or descriptors: the text
 * is sized to what there is.  When its memory cannot be had, the files
 * are committed before the exec, with a warning, as when the new image
 * will not load the library: what the new image writes then goes into
 * the committed file in place, and nothing is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/elfcheck.h"
#include "core/handover_text.h"
#include "core/log.h"
#include "core/record.h"
#include "core/sys.h"
#include "env.h"
#include "fdtable.h"
#include "handover.h"
#include "pending.h"
#include "state.h"

/* Why a file is committed before the exec, when the handover cannot be
 * made: what the new image writes goes into the committed file. */
#define NO_MEMORY ": no memory to hand it over; what it writes next goes in place"

/* One of this process's descriptors that stands for a pending file and
 * stays open across the exec. */
struct survivor {
	struct pending *p;
	int fd;
};

/* ---- before exec ---- */

int handover_exec_path(const char *file, int search, char *out, size_t size)
{
	if (search && !strchr(file, '/')) {
		const char *dirs = env_get("PATH");
		if (!dirs)
			dirs = "/usr/local/bin:/usr/bin:/bin";
		while (*dirs) {
			size_t n = strcspn(dirs, ":");
			snprintf(out, size, "%.*s/%s", (int)n, n ? dirs : ".", file);
			if (sys_faccessat(AT_FDCWD, out, X_OK, 0) == 0)
				return 0;
			dirs += n + (dirs[n] == ':');
		}
		return -1;
	}
	snprintf(out, size, "%s", file);
	return 0;
}

/* Will the image FILE, run with ENVP, load this library? */
static int new_image_loads_us(const char *file, int search, char *const envp[])
{
	const char *preload = NULL, *rules = NULL, *why;
	char path[PATH_MAX];

	for (char *const *e = envp; e && *e; e++) {
		if (strncmp(*e, "LD_PRELOAD=", 11) == 0)
			preload = *e + 11;
		else if (strncmp(*e, RULES_ENV "=", sizeof(RULES_ENV)) == 0)
			rules = *e + sizeof(RULES_ENV);
	}
	if (!preload || !strstr(preload, "libatomically.so") || !rules ||
	    strcmp(rules, RULES_INERT) == 0)
		return 0;
	if (handover_exec_path(file, search, path, sizeof(path)) < 0)
		return 1;  /* the exec will fail: nothing to judge */
	/* An image of the other C library, only through "$LIB" (elfcheck.h). */
	return elf_reaches(elf_preload_kind(path, &why), preload);
}

static void set_cloexec(int fd, int on)
{
	int flags = fd >= 0 ? sys_fcntl(fd, F_GETFD, 0) : -1;

	if (flags >= 0)
		sys_fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
}

/* The descriptors of our own that a pending file hands over (or takes
 * back when the exec failed). */
static void carry_across_exec(const struct pending *p, int carry)
{
	int slots[RECORD_SLOTS];

	record_slots(&p->rec, slots);
	for (int i = 0; i < RECORD_SLOTS; i++)
		set_cloexec(slots[i], !carry);
}

/* The descriptors of our own go back to close-on-exec. */
static void restore_cloexec(void)
{
	int max = fdtable_max();

	for (int fd = 0; fd <= max; fd++) {
		struct pending *p = fdtable_get(fd);
		if (p && p->owner == getpid())
			carry_across_exec(p, 0);
	}
}

/* Is S[I] the first of the N survivors that stands for its file? */
static int first_of_its_file(const struct survivor *s, int i)
{
	for (int j = 0; j < i; j++)
		if (s[j].p == s[i].p)
			return 0;
	return 1;
}

/* Commit the owned files of the N survivors S now, before the exec of
 * FILE: WHY says why they cannot go along (a warning when WARN, else for
 * the curious only). */
static void commit_before_exec(struct survivor *s, int n, const char *file, const char *why,
			       int warn)
{
	for (int i = 0; i < n; i++) {
		struct pending *p;

		/* The first entry of each file only (pointers compared: the
		 * file of a later entry may have been committed, and freed). */
		if (!first_of_its_file(s, i) || s[i].p->owner != getpid())
			continue;
		if (warn)
			log_warn("%s: committed before exec of %s%s", s[i].p->rec.path, file, why);
		else
			log_info("%s: committed before exec of %s%s", s[i].p->rec.path, file, why);
		/* Every descriptor of the file, so that the last one commits. */
		for (int k = i; k < n; k++)
			if (s[k].p == s[i].p && (p = fdtable_take(s[k].fd)))
				pending_release_at_end(p, s[k].fd);
	}
}

/* The entry of the file of S[I] among the N survivors. */
static void describe(struct handover_writer *w, const struct survivor *s, int n, int i)
{
	const struct pending *p = s[i].p;
	int owned = p->owner == getpid();

	handover_entry(w, !owned);
	if (owned && atomic_load(&p->shared) != SHARED_NO)
		handover_marked(w);
	for (int k = i; k < n; k++)
		if (s[k].p == p)
			handover_fd(w, s[k].fd);
	if (owned)
		handover_record(w, &p->rec, &lib.rs);
}

/* The handover of the N survivors S: "ATOMICALLY_PENDING=..." written
 * with W (into the buffer of W; measured only when it has none). */
static size_t write_handover(struct handover_writer *w, char *buf, size_t size,
			     const struct survivor *s, int n)
{
	const size_t prefix = sizeof(HANDOVER_ENV);  /* "NAME=" */

	if (size > prefix)
		memcpy(buf, HANDOVER_ENV "=", prefix);
	handover_begin(w, size > prefix ? buf + prefix : NULL, size > prefix ? size - prefix : 0,
		       getpid());
	for (int i = 0; i < n; i++)
		if (first_of_its_file(s, i))
			describe(w, s, n, i);
	return prefix + handover_end(w);
}

/* The variable ATOMICALLY_PENDING for the N survivors S, in memory of
 * our own (*SIZE bytes), or NULL.  Measured, then written with room to
 * spare: a write that fails meanwhile (another thread) lengthens a
 * record's error field by a few digits. */
static char *handover_text(const struct survivor *s, int n, size_t *size)
{
	struct handover_writer w;
	char *text;

	*size = write_handover(&w, NULL, 0, s, n) + 1 + 16 * (size_t)n;
	if (!(text = sys_map(*size)))
		return NULL;
	if (write_handover(&w, text, *size, s, n) >= *size) {
		sys_unmap(text, *size);  /* cut short: it would not decode */
		return NULL;
	}
	return text;
}

/* ENVP without any old ATOMICALLY_PENDING, plus VAR: in memory of our own,
 * freed by handover_exec_failed (after a successful exec, by the exec).
 * The size of the mapping is kept just before the array. */
static char *const *env_with(char *const envp[], const char *var)
{
	size_t n = 0, len = strlen(var) + 1, size;
	char **env, *copy;
	size_t *mem;

	while (envp && envp[n])
		n++;
	size = sizeof(size_t) + (n + 2) * sizeof(char *) + len;
	if (!(mem = sys_map(size)))
		return NULL;
	mem[0] = size;
	env = (char **)(mem + 1);
	copy = (char *)(env + n + 2);
	memcpy(copy, var, len);
	n = 0;
	for (char *const *e = envp; e && *e; e++)
		if (strncmp(*e, HANDOVER_ENV "=", sizeof(HANDOVER_ENV)) != 0)
			env[n++] = *e;
	env[n++] = copy;
	env[n] = NULL;
	return env;
}

/* A vfork child shares its parent's memory and may change nothing in it,
 * not even by allocating.  The pending files whose descriptors it execs
 * with are its parent's: it hands them over as watch-only ("W" entries),
 * so that the new image marks them failed if its writes fail (see
 * pending_fail), building the environment in SCRATCH. */
static char *const *vfork_child_watch(char *const envp[], char *scratch, size_t size)
{
	const size_t prefix = sizeof(HANDOVER_ENV), room = size / 2;
	int max = fdtable_max(), any = 0;
	struct handover_writer w;
	size_t n = 0, k = 0, used;
	char **env;

	memcpy(scratch, HANDOVER_ENV "=", prefix);
	handover_begin(&w, scratch + prefix, room - prefix, getpid());
	for (int fd = 0; fd <= max; fd++) {
		int flags;
		if (!fdtable_get(fd) || (flags = sys_fcntl(fd, F_GETFD, 0)) < 0 || (flags & FD_CLOEXEC))
			continue;
		handover_entry(&w, 1);
		handover_fd(&w, fd);
		any = 1;
	}
	used = prefix + handover_end(&w) + 1;
	if (!any || used > room)
		return envp;
	used = (used + sizeof(char *) - 1) / sizeof(char *) * sizeof(char *);
	env = (char **)(scratch + used);
	while (envp && envp[n])
		n++;
	if (used + (n + 2) * sizeof(char *) > size)
		return envp;
	for (size_t i = 0; i < n; i++)
		if (strncmp(envp[i], HANDOVER_ENV "=", sizeof(HANDOVER_ENV)) != 0)
			env[k++] = envp[i];
	env[k++] = scratch;
	env[k] = NULL;
	return env;
}

/* Into S (room for MAX + 1), the descriptors that stay open across the
 * exec; the files of those the exec closes are released now, as the
 * program's close would release them.  Returns how many survive. */
static int survivors(struct survivor *s, int max)
{
	int n = 0;

	for (int fd = 0; fd <= max; fd++) {
		struct pending *p = fdtable_get(fd);
		int flags;

		if (!p || (flags = sys_fcntl(fd, F_GETFD, 0)) < 0)
			continue;
		if (!(flags & FD_CLOEXEC)) {
			s[n].p = p;
			s[n++].fd = fd;
		} else if (p->owner == getpid() && (p = fdtable_take(fd))) {
			pending_release_at_end(p, fd);
		}
	}
	return n;
}

/* Without memory for the list of survivors: commit every file this
 * process owns whose descriptors survive the exec. */
static void commit_all_before_exec(const char *file)
{
	int max = fdtable_max();

	for (int fd = 0; fd <= max; fd++) {
		struct pending *p = fdtable_get(fd);
		int flags;

		if (!p || p->owner != getpid() || (flags = sys_fcntl(fd, F_GETFD, 0)) < 0)
			continue;
		/* Said once, by the descriptor whose release commits. */
		if (!(flags & FD_CLOEXEC) && atomic_load(&p->aliases) == 1)
			log_warn("%s: committed before exec of %s%s", p->rec.path, file, NO_MEMORY);
		if ((p = fdtable_take(fd)))
			pending_release_at_end(p, fd);
	}
}

char *const *handover_before_exec(const char *file, int search, char *const envp[],
				  char *scratch, size_t scratch_size)
{
	int max = fdtable_max(), n;
	size_t list_size, text_size;
	struct survivor *s;
	char *const *env = envp;
	char *text;

	if (max < 0 || !lib_should_act())
		return envp;
	if (getpid() != lib.pid)
		return vfork_child_watch(envp, scratch, scratch_size);
	lib_guard++;
	list_size = (size_t)(max + 1) * sizeof(*s);
	if (!(s = sys_map(list_size))) {
		commit_all_before_exec(file);
		goto out;
	}
	if ((n = survivors(s, max)) == 0)
		goto done;
	if (!new_image_loads_us(file, search, envp)) {
		commit_before_exec(s, n, file, ", which will not load the library", 0);
		goto done;
	}
	text = handover_text(s, n, &text_size);
	if (text) {
		env = env_with(envp, text);
		sys_unmap(text, text_size);
	}
	if (!text || !env) {
		env = envp;
		commit_before_exec(s, n, file, NO_MEMORY, 1);
		goto done;
	}
	for (int i = 0; i < n; i++)
		if (s[i].p->owner == getpid() && first_of_its_file(s, i))
			carry_across_exec(s[i].p, 1);
done:
	sys_unmap(s, list_size);
out:
	lib_guard--;
	return env;
}

void handover_exec_failed(char *const *env, char *const envp[])
{
	size_t *mem;

	if (env == envp || !env || getpid() != lib.pid)
		return;  /* nothing given out, or a vfork child's, on its stack */
	restore_cloexec();
	mem = (size_t *)env - 1;
	sys_unmap(mem, mem[0]);
}

/* ---- after exec ---- */

/* Watch the descriptors of a file shared, not owned (the list FDS), a
 * few at a time. */
static int watch_one(const char *fds)
{
	int batch[64], n = 0, fd, held = 0;

	while ((fd = handover_next_fd(&fds)) >= 0) {
		batch[n++] = fd;
		if (n == 64) {
			held += pending_watch(batch, n) == 0;
			n = 0;
		}
	}
	if (n)
		held += pending_watch(batch, n) == 0;
	return held ? 0 : -1;
}

/* Is FD, in the new image, still the file STAT describes? */
static int still_the_file(int fd, const struct stat *file_st)
{
	struct stat st;

	return sys_fstat(fd, &st) == 0 && st.st_dev == file_st->st_dev &&
	       st.st_ino == file_st->st_ino;
}

/* Adopt the pending file of the entry E: 0, or -1 when it cannot be
 * (then what its slots hold is let go of, if it looked like ours). */
static int adopt_one(const struct handover_entry *e)
{
	const char *fds = e->fds;
	int lfd, held = 0, fd;
	struct stat file_st;
	struct pending *p;

	if (!handover_slots_plausible(e) || !(p = pending_new()))
		return -1;
	if (record_decode(e->record, &lib.rs, e->slots, RECORD_SLOTS, &p->rec, &lfd) < 0) {
		/* Not a record this library wrote (it decodes all of its
		 * own): a stale or forged entry, whose slots may be the
		 * program's descriptors, left as they are. */
		pending_free(p);
		return -1;
	}
	for (int k = 0; k < RECORD_SLOTS; k++)
		set_cloexec(e->slots[k], 1);  /* ours: never again open across an exec */
	p->owner = getpid();
	record_adopt(&p->rec, lfd);
	if ((p->rec.inplace ? sys_fstatat(p->rec.dfd, p->rec.name, &file_st, AT_SYMLINK_NOFOLLOW)
			    : sys_fstat(p->rec.tfd, &file_st)) < 0 || !S_ISREG(file_st.st_mode)) {
		pending_free(p);  /* not what was handed over */
		return -1;
	}
	/* Each descriptor must still be the temp: the program may have
	 * closed it and opened something else in the same number. */
	while ((fd = handover_next_fd(&fds)) >= 0)
		if (still_the_file(fd, &file_st) && fdtable_set(fd, p) == 0)
			held++;
	atomic_store(&p->aliases, held);
	if (held == 0) {
		pending_discard(p);
		return -1;
	}
	/* A child of the image before may hold it too: its last close here
	 * asks the kernel first (held.h). */
	if (e->marked)
		atomic_store(&p->shared, SHARED_MARKED);
	pending_own(p);
	log_debug("%s: adopted across exec (%d descriptors)", p->rec.path, held);
	return 0;
}

void handover_adopt(void)
{
	const char *env = env_get(HANDOVER_ENV), *entries;
	struct handover_entry e;
	char *copy, *list, *entry;
	size_t size;

	if (!env)
		return;
	size = strlen(env) + 1;
	copy = sys_map(size);
	if (copy)
		memcpy(copy, env, size);
	env_unset(HANDOVER_ENV);  /* ours alone: no child may adopt it again */
	if (!copy)
		return;
	/* Only the process that handed them over adopts them: not a child of
	 * an image that could not load the library and kept the variable. */
	if (handover_pid(copy, &entries) == getpid()) {
		list = copy + (entries - copy);
		while ((entry = handover_next_entry(&list))) {
			if (handover_parse(entry, &e) < 0 ||
			    (e.watch ? watch_one(e.fds) : adopt_one(&e)) < 0)
				log_warn("a pending file handed over across exec could not be adopted");
		}
	}
	sys_unmap(copy, size);
}
