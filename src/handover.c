/* handover.c - pending files across exec.
 *
 * The description of one pending file is
 *
 *   FD.FD...,DFD,TFD,LOCKFD,EXISTED,INPLACE,MODE,UID,GID,TMODE,TUID,TGID,
 *   RULE,NAME,TEMP,PATH
 *
 * (MODE, UID, GID: the target's; TMODE, TUID, TGID: the temp's as it was
 * made, which tell the commit whether the program changed them);
 * numbers in decimal, the three strings in hex (they may hold anything;
 * TEMP is empty while the temp is anonymous);
 * files are separated by ';', after the pid of the process that execs
 * ("PID:"): only that process, in its new image, adopts them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elfcheck.h"
#include "env.h"
#include "fdtable.h"
#include "handover.h"
#include "lock.h"
#include "log.h"
#include "ownfd.h"
#include "pending.h"
#include "real.h"
#include "state.h"

#define MAX_FILES 64
#define MAX_FDS 16

struct survivor {
	struct pending *p;
	int fds[MAX_FDS];
	int nfds;
	int watch;             /* shared, not owned: only watch for failures */
};

/* ---- before exec ---- */

static struct survivor *survivor_of(struct survivor *s, int *n, struct pending *p)
{
	for (int i = 0; i < *n; i++)
		if (s[i].p == p)
			return &s[i];
	if (*n == MAX_FILES)
		return NULL;
	s[*n].p = p;
	s[*n].nfds = 0;
	s[*n].watch = p->owner != getpid();
	return &s[(*n)++];
}

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
			if (access(path, X_OK) == 0)
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

static void put_hex(char **w, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s; s++) {
		*(*w)++ = hex[(unsigned char)*s >> 4];
		*(*w)++ = hex[(unsigned char)*s & 15];
	}
}

/* Append the description of S at *W (room enough is the caller's). */
static void describe(char **w, const struct survivor *s)
{
	const struct pending *p = s->p;
	int rule = (int)(p->rule - lib.rs.rules);

	for (int i = 0; i < s->nfds; i++)
		*w += sprintf(*w, "%s%d", i ? "." : "", s->fds[i]);
	*w += sprintf(*w, ",%d,%d,%d,%d,%d,%u,%u,%u,%u,%u,%u,%d,", p->dfd, p->tfd, lock_fd(p->lock),
		      p->existed, p->inplace, (unsigned)p->target_st.st_mode,
		      (unsigned)p->target_st.st_uid, (unsigned)p->target_st.st_gid,
		      (unsigned)p->temp_mode, (unsigned)p->temp_uid, (unsigned)p->temp_gid, rule);
	put_hex(w, p->name);
	*(*w)++ = ',';
	put_hex(w, p->temp);
	*(*w)++ = ',';
	put_hex(w, p->path);
}

static void set_cloexec(int fd, int on)
{
	int flags = real.fcntl(fd, F_GETFD);

	if (fd >= 0 && flags >= 0)
		real.fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
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
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
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

/* The descriptors of our own that a pending file hands over (or takes
 * back when the exec failed). */
static void carry_across_exec(const struct pending *p, int carry)
{
	set_cloexec(p->dfd, !carry);
	set_cloexec(p->tfd, !carry);
	set_cloexec(lock_fd(p->lock), !carry);
}

/* The directory and lock descriptors go back to close-on-exec. */
static void restore_cloexec(void)
{
	int max = fdtable_max();

	for (int fd = 0; fd <= max; fd++) {
		struct pending *p = fdtable_get(fd);
		if (p && p->owner == getpid())
			carry_across_exec(p, 0);
	}
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
		if (!fdtable_get(fd) || (flags = real.fcntl(fd, F_GETFD)) < 0 || (flags & FD_CLOEXEC))
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

char *const *handover_before_exec(const char *file, int search, char *const envp[],
				  char *scratch, size_t scratch_size)
{
	struct survivor s[MAX_FILES];
	int n = 0, max = fdtable_max(), carry;
	char *text, *w;
	char *const *env = envp;
	size_t size;

	if (max < 0 || !lib_should_act())
		return envp;
	if (getpid() != lib.pid)
		return vfork_child_watch(envp, scratch, scratch_size);
	lib_guard++;
	/* Which descriptors stay open across the exec; the others the exec
	 * closes, as the program's close would. */
	for (int fd = 0; fd <= max; fd++) {
		struct pending *p = fdtable_get(fd);
		int flags;
		struct survivor *sv;

		if (!p || (flags = real.fcntl(fd, F_GETFD)) < 0)
			continue;
		if (!(flags & FD_CLOEXEC) && (sv = survivor_of(s, &n, p)) && sv->nfds < MAX_FDS) {
			sv->fds[sv->nfds++] = fd;
			continue;
		}
		if (p->owner != getpid())
			continue;  /* a shared file closing at exec: nothing to do */
		if ((p = fdtable_take(fd)))
			pending_release(p, 0);
	}
	if (n == 0)
		goto out;
	carry = new_image_loads_us(file, search, envp);
	if (!carry) {
		/* Commit now; what the new image writes goes in place. */
		for (int i = 0; i < n; i++) {
			if (s[i].watch)
				continue;
			log_info("%s: committed before exec of %s, which will not load the library",
				 s[i].p->path, file);
			for (int k = 0; k < s[i].nfds; k++) {
				struct pending *p = fdtable_take(s[i].fds[k]);
				if (p)
					pending_release(p, 0);
			}
		}
		goto out;
	}
	size = sizeof(HANDOVER_ENV) + 1;
	for (int i = 0; i < n; i++)
		size += 2 * (strlen(s[i].p->name) + strlen(s[i].p->temp) + strlen(s[i].p->path)) +
			(size_t)s[i].nfds * 12 + 192;
	text = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (text == MAP_FAILED)
		goto out;
	w = text + sprintf(text, "%s=%d:", HANDOVER_ENV, (int)getpid());
	for (int i = 0; i < n; i++) {
		if (i)
			*w++ = ';';
		if (s[i].watch) {
			/* "W" and the descriptors: the new image only watches. */
			*w++ = 'W';
			for (int k = 0; k < s[i].nfds; k++)
				w += sprintf(w, "%s%d", k ? "." : "", s[i].fds[k]);
			continue;
		}
		describe(&w, &s[i]);
		carry_across_exec(s[i].p, 1);
	}
	*w = '\0';
	env = env_with(envp, text);
	munmap(text, size);
	if (!env) {
		restore_cloexec();
		env = envp;
	}
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
	munmap(mem, mem[0]);
}

/* ---- after exec ---- */

static int unhex(char *s)
{
	char *w = s;

	for (; s[0] && s[1]; s += 2) {
		int hi = s[0] <= '9' ? s[0] - '0' : s[0] - 'a' + 10;
		int lo = s[1] <= '9' ? s[1] - '0' : s[1] - 'a' + 10;
		if (hi < 0 || hi > 15 || lo < 0 || lo > 15)
			return -1;
		*w++ = (char)(hi << 4 | lo);
	}
	if (*s)
		return -1;
	*w = '\0';
	return 0;
}

/* Split S at ',' into at most N fields. */
static int split_fields(char *s, char **f, int n)
{
	int k = 0;

	while (k < n) {
		f[k++] = s;
		if (!(s = strchr(s, ',')))
			break;
		*s++ = '\0';
	}
	return k;
}

/* Watch the descriptors "FD.FD..." of a file shared, not owned. */
static int watch_one(char *d)
{
	int fds[MAX_FDS], n = 0;
	char *next;

	for (; d && *d && n < MAX_FDS; d = next) {
		if ((next = strchr(d, '.')))
			*next++ = '\0';
		fds[n++] = atoi(d);
	}
	return pending_watch(fds, n);
}

/* Adopt the pending file described by D: 0, or -1 when D is unusable
 * (then whatever it names is left alone). */
static int adopt_one(char *d)
{
	if (*d == 'W')
		return watch_one(d + 1);
	char *f[16], *fd, *next;
	struct pending *p;
	struct stat file_st, fd_st;
	int held = 0, rule, lfd, known;

	if (split_fields(d, f, 16) != 16 || unhex(f[13]) < 0 || unhex(f[14]) < 0 || unhex(f[15]) < 0)
		return -1;
	if (!(p = pending_new()))
		return -1;
	p->owner = getpid();
	p->dfd = atoi(f[1]);
	p->tfd = atoi(f[2]);
	lfd = atoi(f[3]);
	p->existed = (unsigned char)atoi(f[4]);
	p->inplace = (unsigned char)atoi(f[5]);
	p->target_st.st_mode = (mode_t)strtoul(f[6], NULL, 10);
	p->target_st.st_uid = (uid_t)strtoul(f[7], NULL, 10);
	p->target_st.st_gid = (gid_t)strtoul(f[8], NULL, 10);
	p->temp_mode = (mode_t)strtoul(f[9], NULL, 10);
	p->temp_uid = (uid_t)strtoul(f[10], NULL, 10);
	p->temp_gid = (gid_t)strtoul(f[11], NULL, 10);
	rule = atoi(f[12]);
	snprintf(p->name, sizeof(p->name), "%s", f[13]);
	snprintf(p->temp, sizeof(p->temp), "%s", f[14]);
	snprintf(p->path, sizeof(p->path), "%s", f[15]);
	/* The descriptors of our own stay ours either way: never again open
	 * across an exec. */
	set_cloexec(p->dfd, 1);
	set_cloexec(p->tfd, 1);
	set_cloexec(lfd, 1);
	ownfd_adopt(p->dfd, &p->dfd);
	ownfd_adopt(p->tfd, &p->tfd);
	known = p->inplace ? fstatat(p->dfd, p->name, &file_st, AT_SYMLINK_NOFOLLOW) :
			     ownfd_fstat(p->tfd, &file_st);
	if (rule < 0 || (size_t)rule >= lib.rs.nrules || known < 0 || !S_ISREG(file_st.st_mode)) {
		/* Not what was handed over: let go of what came with it. */
		if (lfd >= 0)
			real.close(lfd);
		pending_free(p);
		return -1;
	}
	p->rule = &lib.rs.rules[rule];
	if (lfd >= 0) {
		struct stat dir_st;
		if (ownfd_fstat(p->dfd, &dir_st) == 0)
			p->lock = lock_adopt(lfd, &dir_st, p->name);
		if (!p->lock)
			real.close(lfd);
		else if (p->temp[0])
			lock_count_temps(p->lock, 1);
	}
	/* Each descriptor must still be the temp: the program may have
	 * closed it and opened something else in the same number. */
	for (fd = f[0]; fd; fd = next) {
		int n;
		if ((next = strchr(fd, '.')))
			*next++ = '\0';
		n = atoi(fd);
		if (ownfd_fstat(n, &fd_st) == 0 && fd_st.st_dev == file_st.st_dev &&
		    fd_st.st_ino == file_st.st_ino && fdtable_set(n, p) == 0)
			held++;
	}
	atomic_store(&p->aliases, held);
	if (held == 0) {
		pending_abandon(p);
		return -1;
	}
	pending_own(p);
	log_debug("%s: adopted across exec (%d descriptors)", p->path, held);
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
	copy = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (copy != MAP_FAILED)
		memcpy(copy, env, size);
	env_unset(HANDOVER_ENV);  /* ours alone: no child may adopt it again */
	if (copy == MAP_FAILED)
		return;
	/* Only the process that handed them over adopts them: not a child of
	 * an image that could not load the library and kept the variable. */
	d = strchr(copy, ':');
	if (!d || atoi(copy) != (int)getpid()) {
		munmap(copy, size);
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
	munmap(copy, size);
}
