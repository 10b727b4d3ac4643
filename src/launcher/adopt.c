/* adopt.c - the pending files a wrapped program handed over to the
 * launcher across its exec, held and committed with the core. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adopt.h"
#include "core/actor.h"
#include "core/commit.h"
#include "core/handover_text.h"
#include "core/log.h"
#include "core/record.h"
#include "core/rules.h"

/* One file handed over: its record, and the program's descriptors that
 * stand for it (inherited by COMMAND, which watches them). */
struct adopted {
	struct record rec;
	int fds[64];
	int nfds;
};

static struct {
	struct ruleset rs;         /* the rules of the image that handed over */
	struct actor actor;        /* this process */
	struct adopted *files;
	int nfiles;
	char *watch;               /* its own "W" entries, passed on as they are */
} handed;

/* The rules the handing image ran under (ATOMICALLY_RULES, which it
 * left for the new image): the records name their rules by index. */
static int load_handing_rules(void)
{
	const char *env = getenv(RULES_ENV);
	struct rule *rules;
	char *text;

	if (!env || !strcmp(env, RULES_INERT) || !(text = strdup(env)))
		return -1;
	rules = calloc(rules_count(text) + 1, sizeof(*rules));
	if (!rules || rules_decode(text, &handed.rs, rules) < 0) {
		free(rules);
		free(text);
		return -1;
	}
	return 0;  /* kept for the life of the process: the records point in */
}

static void set_cloexec(int fd)
{
	int flags = fd >= 0 ? fcntl(fd, F_GETFD) : -1;

	if (flags >= 0)
		fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

/* Is FD still the file FILE_ST describes? */
static int still_the_file(int fd, const struct stat *file_st)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_dev == file_st->st_dev && st.st_ino == file_st->st_ino;
}

/* Adopt the held file of entry E into A: 0, or -1 (then its slots are
 * let go of when they were the handing image's, now ours; left alone
 * when the entry is not one of ours: handover_slots_plausible). */
static int adopt_one(const struct handover_entry *e, struct adopted *a)
{
	const char *fds = e->fds;
	struct stat file_st;
	int lfd, fd;

	if (!handover_slots_plausible(e) ||
	    record_decode(e->record, &handed.rs, e->slots, RECORD_SLOTS, &a->rec, &lfd) < 0)
		return -1;
	for (int k = 0; k < RECORD_SLOTS; k++)
		set_cloexec(e->slots[k]);  /* COMMAND gets none of them */
	record_adopt(&a->rec, lfd);
	if ((a->rec.inplace ? fstatat(a->rec.dfd, a->rec.name, &file_st, AT_SYMLINK_NOFOLLOW)
			    : fstat(a->rec.tfd, &file_st)) < 0 || !S_ISREG(file_st.st_mode)) {
		record_release(&a->rec);
		return -1;
	}
	a->nfds = 0;
	while ((fd = handover_next_fd(&fds)) >= 0 && a->nfds < 64)
		if (still_the_file(fd, &file_st))
			a->fds[a->nfds++] = fd;
	if (a->nfds == 0) {
		/* Nothing of the program's stands for it any more. */
		record_discard(&a->rec);
		record_release(&a->rec);
		return -1;
	}
	log_debug("%s: adopted across exec by the launcher (%d descriptors)", a->rec.path, a->nfds);
	return 0;
}

/* Keep the watch entry E: passed on to COMMAND as it came. */
static void keep_watch(const char *entry)
{
	size_t had = handed.watch ? strlen(handed.watch) : 0;
	char *more = realloc(handed.watch, had + strlen(entry) + 2);

	if (!more)
		return;
	snprintf(more + had, strlen(entry) + 2, "%s%s", had ? ";" : "", entry);
	handed.watch = more;
}

static void commit_at_exit(void)
{
	adopt_commit_all(0);
}

void adopt_handover(void)
{
	const char *env = getenv(HANDOVER_ENV), *entries;
	struct handover_entry e;
	char *copy, *list, *entry;
	int n = 0;

	if (!env)
		return;
	copy = strdup(env);
	unsetenv(HANDOVER_ENV);  /* ours alone: COMMAND gets its own */
	if (!copy || handover_pid(copy, &entries) != getpid() || load_handing_rules() < 0) {
		free(copy);
		return;
	}
	handed.actor.pid = getpid();
	handed.actor.lock_dir = handed.rs.lock_dir;
	log_setup(handed.rs.log_level, handed.rs.log_file);
	for (const char *p = entries; *p; p++)
		n += *p == ';';
	handed.files = calloc((size_t)n + 1, sizeof(*handed.files));
	list = copy + (entries - copy);
	while (handed.files && (entry = handover_next_entry(&list))) {
		if (handover_parse(entry, &e) < 0)
			log_warn("a pending file handed over across exec could not be adopted");
		else if (e.watch)
			keep_watch(entry);
		else if (adopt_one(&e, &handed.files[handed.nfiles]) == 0)
			handed.nfiles++;
		else
			log_warn("a pending file handed over across exec could not be adopted");
	}
	free(copy);
	if (handed.nfiles)
		atexit(commit_at_exit);
}

void adopt_pass_watch(void)
{
	struct handover_writer w;
	char *text = NULL;
	size_t size = 0;

	if (!handed.nfiles && !handed.watch)
		return;
	for (int pass = 0; pass < 2; pass++) {
		handover_begin(&w, pass ? text : NULL, pass ? size : 0, getpid());
		for (int i = 0; i < handed.nfiles; i++) {
			handover_entry(&w, 1);
			for (int k = 0; k < handed.files[i].nfds; k++)
				handover_fd(&w, handed.files[i].fds[k]);
		}
		size = handover_end(&w) + 1;
		if (!pass && !(text = malloc(size + (handed.watch ? strlen(handed.watch) + 1 : 0))))
			return;
	}
	if (handed.watch)
		snprintf(text + size - 1, strlen(handed.watch) + 2, "%s%s", handed.nfiles ? ";" : "",
			 handed.watch);
	setenv(HANDOVER_ENV, text, 1);
	free(text);
}

int adopt_commit_all(int status)
{
	int failed = 0;

	if (!handed.nfiles)
		return status;
	fflush(NULL);
	for (int i = 0; i < handed.nfiles; i++) {
		struct record *r = &handed.files[i].rec;
		/* COMMAND's descendants may still write it (a background job
		 * of a shell): the temp itself goes into place, where their
		 * writes land, never an append in place beside it. */
		if (commit_whole(&handed.actor, r) < 0 && !r->inplace)
			failed = 1;
		record_release(r);
	}
	handed.nfiles = 0;
	if (failed && status == 0 && handed.rs.failure_exit_code)
		return handed.rs.failure_exit_code;
	return status;
}
