/* handover.c - pending files across exec.
 *
 * The environment of the exec gets
 *
 *   ATOMICALLY_PENDING=PID:ENTRY;ENTRY;...
 *
 * PID is the process that execs: only it, in its new image, adopts the
 * entries.  Each ENTRY is a file the new image inherits:
 *
 *   FD.FD.../SLOT.SLOT.SLOT/RECORD   a file this process owns: the
 *                                    program's descriptors that stand
 *                                    for it, the descriptors of the
 *                                    record's slots (directory, temp,
 *                                    lock; "-" for none), and the record
 *                                    itself (core/record.h), every field
 *   WFD.FD...                        a file this process shares without
 *                                    owning it: the new image only
 *                                    watches the descriptors for failed
 *                                    writes
 *
 * No limit on the number of files or descriptors: the text is sized to
 * what there is.  When its memory cannot be had, the files are committed
 * before the exec, with a warning, as when the new image will not load
 * the library: what the new image writes then goes into the committed
 * file in place, and nothing is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/elfcheck.h"
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

/* Will the image FILE, run with ENVP, load this library? */
static int new_image_loads_us(const char *file, int search, char *const envp[])
{
	const char *preload = NULL, *rules = NULL;
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
	if (search && !strchr(file, '/')) {
		const char *dirs = env_get("PATH");
		if (!dirs)
			dirs = "/usr/local/bin:/usr/bin:/bin";
		while (*dirs) {
			size_t n = strcspn(dirs, ":");
			snprintf(path, sizeof(path), "%.*s/%s", (int)n, n ? dirs : ".", file);
			if (sys_faccessat(AT_FDCWD, path, X_OK, 0) == 0)
				break;
			path[0] = '\0';
			dirs += n + (dirs[n] == ':');
		}
		if (!path[0])
			return 1;  /* the exec will fail: nothing to judge */
		file = path;
	}
	return elf_preload_problem(file) == NULL;
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

		if (s[i].p->owner != getpid() || !first_of_its_file(s, i))
			continue;
		if (warn)
			log_warn("%s: committed before exec of %s%s", s[i].p->rec.path, file, why);
		else
			log_info("%s: committed before exec of %s%s", s[i].p->rec.path, file, why);
		/* Every descriptor of the file, so that the last one commits. */
		for (int k = i; k < n; k++)
			if (s[k].p == s[i].p && (p = fdtable_take(s[k].fd)))
				pending_release(p, 0);
	}
}

/* The entry of the file of S[I] among the N survivors, written at *W
 * (NULL: only measured); returns its length. */
static size_t describe(const struct survivor *s, int n, int i, char *w)
{
	const struct pending *p = s[i].p;
	char buf[32];
	int slots[RECORD_SLOTS];
	size_t len = 0, rec;

#define PUT(str) do { size_t l_ = strlen(str); if (w) memcpy(w + len, str, l_); len += l_; } while (0)
	if (p->owner != getpid())
		PUT("W");
	for (int k = i, any = 0; k < n; k++) {
		if (s[k].p != p)
			continue;
		snprintf(buf, sizeof(buf), "%s%d", any++ ? "." : "", s[k].fd);
		PUT(buf);
	}
	if (p->owner != getpid())
		return len;
	rec = record_encode(&p->rec, &lib.rs, NULL, 0, slots);
	for (int k = 0; k < RECORD_SLOTS; k++) {
		if (slots[k] >= 0)
			snprintf(buf, sizeof(buf), "%c%d", k ? '.' : '/', slots[k]);
		else
			snprintf(buf, sizeof(buf), "%c-", k ? '.' : '/');
		PUT(buf);
	}
	PUT("/");
#undef PUT
	if (w)
		record_encode(&p->rec, &lib.rs, w + len, rec + 1, slots);
	return len + rec;
}

/* The variable ATOMICALLY_PENDING for the N survivors S, in memory of
 * our own (*SIZE bytes), or NULL. */
static char *handover_text(const struct survivor *s, int n, size_t *size)
{
	char head[64];
	size_t len = (size_t)snprintf(head, sizeof(head), "%s=%d:", HANDOVER_ENV, (int)getpid());
	char *text, *w;
	int any = 0;

	for (int i = 0; i < n; i++)
		if (first_of_its_file(s, i))
			len += describe(s, n, i, NULL) + 1;
	*size = len + 1;
	if (!(text = sys_map(*size)))
		return NULL;
	w = text + snprintf(text, *size, "%s", head);
	for (int i = 0; i < n; i++) {
		if (!first_of_its_file(s, i))
			continue;
		if (any++)
			*w++ = ';';
		w += describe(s, n, i, w);
	}
	*w = '\0';
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
	int max = fdtable_max(), any = 0;
	size_t n = 0, k = 0, used;
	char *w = scratch, *end = scratch + size / 2;
	char **env;

	w += snprintf(w, (size_t)(end - w), "%s=%d:", HANDOVER_ENV, (int)getpid());
	for (int fd = 0; fd <= max && w < end - 16; fd++) {
		int flags;
		if (!fdtable_get(fd) || (flags = sys_fcntl(fd, F_GETFD, 0)) < 0 || (flags & FD_CLOEXEC))
			continue;
		w += sprintf(w, "%sW%d", any ? ";" : "", fd);
		any = 1;
	}
	if (!any)
		return envp;
	*w++ = '\0';
	used = (size_t)(w - scratch);
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
			pending_release(p, 0);
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
		if (!(flags & FD_CLOEXEC))
			log_warn("%s: committed before exec of %s%s", p->rec.path, file, NO_MEMORY);
		if ((p = fdtable_take(fd)))
			pending_release(p, 0);
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

/* The next number of the list at *S ("3.4.5"), moving past it and its
 * '.'; -1 at the end or on anything else. */
static int next_fd(const char **s)
{
	char *end;
	long v;

	if (**s < '0' || **s > '9')
		return -1;
	v = strtol(*s, &end, 10);
	if (v > INT_MAX)
		return -1;
	*s = *end == '.' ? end + 1 : end;
	return (int)v;
}

/* Watch the descriptors of the list D ("3.4") of a file shared, not
 * owned, a few at a time. */
static int watch_one(const char *d)
{
	int fds[64], n = 0, fd, held = 0;

	while ((fd = next_fd(&d)) >= 0) {
		fds[n++] = fd;
		if (n == 64) {
			held += pending_watch(fds, n) == 0;
			n = 0;
		}
	}
	if (n)
		held += pending_watch(fds, n) == 0;
	return held ? 0 : -1;
}

/* The slots "DFD.TFD.LFD" at *S into FDS, moving past them. */
static int read_slots(const char **s, int fds[RECORD_SLOTS])
{
	for (int k = 0; k < RECORD_SLOTS; k++) {
		if (**s == '-') {
			fds[k] = -1;
			*s += 1 + ((*s)[1] == '.');
		} else if ((fds[k] = next_fd(s)) < 0) {
			return -1;
		}
	}
	return **s == '/' ? 0 : -1;
}

/* Is FD, in the new image, still the file STAT describes? */
static int still_the_file(int fd, const struct stat *file_st)
{
	struct stat st;

	return sys_fstat(fd, &st) == 0 && st.st_dev == file_st->st_dev &&
	       st.st_ino == file_st->st_ino;
}

/* Adopt the pending file described by D: 0, or -1 when D is unusable
 * (then whatever it names is left alone). */
static int adopt_one(const char *d)
{
	const char *fds = d, *rec;
	int slots[RECORD_SLOTS], lfd, held = 0, fd;
	struct stat file_st;
	struct pending *p;

	if (*d == 'W')
		return watch_one(d + 1);
	if (!(d = strchr(d, '/')) || (d++, read_slots(&d, slots) < 0))
		return -1;
	rec = d + 1;
	if (!(p = pending_new()))
		return -1;
	if (record_decode(rec, &lib.rs, slots, RECORD_SLOTS, &p->rec, &lfd) < 0) {
		pending_free(p);
		return -1;
	}
	p->owner = getpid();
	/* Our descriptors are ours again either way: never again open
	 * across an exec. */
	for (int k = 0; k < RECORD_SLOTS; k++)
		set_cloexec(slots[k], 1);
	record_adopt(&p->rec, lfd);
	if ((p->rec.inplace ? sys_fstatat(p->rec.dfd, p->rec.name, &file_st, AT_SYMLINK_NOFOLLOW)
			    : sys_fstat(p->rec.tfd, &file_st)) < 0 || !S_ISREG(file_st.st_mode)) {
		pending_free(p);  /* not what was handed over */
		return -1;
	}
	/* Each descriptor must still be the temp: the program may have
	 * closed it and opened something else in the same number. */
	while ((fd = next_fd(&fds)) >= 0)
		if (still_the_file(fd, &file_st) && fdtable_set(fd, p) == 0)
			held++;
	atomic_store(&p->aliases, held);
	if (held == 0) {
		pending_abandon(p);
		return -1;
	}
	pending_own(p);
	log_debug("%s: adopted across exec (%d descriptors)", p->rec.path, held);
	return 0;
}

void handover_adopt(void)
{
	const char *env = env_get(HANDOVER_ENV);
	size_t size;
	char *copy, *d, *next;

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
	d = strchr(copy, ':');
	if (!d || atoi(copy) != (int)getpid()) {
		sys_unmap(copy, size);
		return;
	}
	for (d++; *d; d = next) {
		if ((next = strchr(d, ';')))
			*next++ = '\0';
		else
			next = d + strlen(d);
		if (adopt_one(d) < 0)
			log_warn("a pending file handed over across exec could not be adopted");
	}
	sys_unmap(copy, size);
}
