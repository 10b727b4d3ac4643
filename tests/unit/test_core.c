/* test_core.c - the core in a plain process: no preload, no hooks, the
 * system reached through core/sys_libc.c, as the launcher and the
 * supervisor reach it.  Files are redirected, written and committed
 * through the core's own API (redirect.h, record.h, commit.h), and each
 * outcome is looked at on the real file system: content, inode, mode,
 * temps left.  The failure paths too: a failed write, a failure mark
 * left by another process, an unlink while pending, a lock that cannot
 * be had, a target that is not a regular file.
 *
 * Runs in a directory of its own under $TMPDIR (default /tmp).  Prints
 * each failure and a last line "N passed, M failed"; exits 1 when
 * anything failed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/actor.h"
#include "core/commit.h"
#include "core/holders.h"
#include "core/kernelrules.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/lookup.h"
#include "core/path.h"
#include "core/record.h"
#include "core/redirect.h"
#include "core/rename.h"
#include "core/rules.h"
#include "core/tempfile.h"

static int passed, failed;

#define CHECK(cond, ...) do { \
	if (cond) { passed++; } else { failed++; \
		printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } \
} while (0)

static char dir[PATH_MAX];       /* the test's directory */
static char locks[PATH_MAX + 8];  /* its lock directory */
static struct actor me;
static struct rule rule;         /* the rule every file here is under */

/* ---- helpers ---- */

static void put(const char *name, const char *text, mode_t mode)
{
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0) {
		perror(name);
		exit(1);
	}
	chmod(name, mode);
}

/* NAME's content ("<none>" when it cannot be read), in a static buffer. */
static const char *content(const char *name)
{
	static char buf[4096];
	int fd = open(name, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return "<none>";
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static ino_t inode(const char *name)
{
	struct stat st;

	return stat(name, &st) == 0 ? st.st_ino : 0;
}

/* How many temps of ours (named) the directory holds. */
static int temps_left(void)
{
	DIR *d = opendir(".");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strstr(e->d_name, ".atomically.") != NULL;
	if (d)
		closedir(d);
	return n;
}

/* The open of NAME with FLAGS as the core redirects it: R made, the
 * program's descriptor returned (or -1, or REDIRECT_PASS). */
static int open_redirected(struct record *r, const char *name, int flags)
{
	struct target t;
	int fd;

	record_init(r);
	memset(&t, 0xa5, sizeof(t));  /* what a stack may hold before */
	if (redirect_target(AT_FDCWD, name, flags, 0, &t) != 0)
		return REDIRECT_PASS;
	fd = redirect_open(&me, r, &t, &rule, AT_FDCWD, name, name, flags, 0644, 0);
	return fd;
}

/* Write TEXT to FD and close it: what the program does. */
static void program_writes(int fd, const char *text)
{
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write: %s", strerror(errno));
	CHECK(close(fd) == 0, "close");
}

/* Commit R and let go of it; returns commit's result, errno in *ERR. */
static int commit_and_release(struct record *r, int *err)
{
	int rc = commit(&me, r);

	*err = rc < 0 ? errno : 0;
	record_release(r);
	return rc;
}

/* ---- the tests ---- */

static void test_new_file(void)
{
	struct record r;
	int fd, err;

	unlink("new.yaml");
	umask(022);
	fd = open_redirected(&r, "new.yaml", O_WRONLY | O_CREAT | O_TRUNC);
	CHECK(fd >= 0, "a new file is redirected: %s", strerror(errno));
	CHECK(access("new.yaml", F_OK) < 0, "nothing at the name before the commit");
	CHECK(!r.existed && !r.inplace && r.lock, "a new file's record, under a lock");
	CHECK(r.target_st.st_dev == 0 && r.target_st.st_ino == 0 && r.target_st.st_size == 0 &&
	      r.target_st.st_mtim.tv_sec == 0, "no stat of a file that did not exist (the handover "
	      "would carry it into the environment)");
	program_writes(fd, "fresh\n");
	CHECK(commit_and_release(&r, &err) == 0, "commit: %s", strerror(err));
	CHECK(strcmp(content("new.yaml"), "fresh\n") == 0, "content %s", content("new.yaml"));
	{
		struct stat st;
		CHECK(stat("new.yaml", &st) == 0 && (st.st_mode & 07777) == 0644,
		      "the mode asked for, less the umask: %o", (unsigned)(st.st_mode & 07777));
	}
	CHECK(temps_left() == 0, "no temp left");
	CHECK(r.dfd == -1 && r.tfd == -1 && r.lock == NULL, "released");
}

static void test_replace(void)
{
	struct record r;
	ino_t before;
	int fd, err;
	struct stat st;

	put("old.yaml", "old\n", 0640);
	before = inode("old.yaml");
	fd = open_redirected(&r, "old.yaml", O_WRONLY | O_TRUNC);
	CHECK(fd >= 0, "redirected");
	program_writes(fd, "new\n");
	CHECK(strcmp(content("old.yaml"), "old\n") == 0, "readers see the old content until the commit");
	CHECK(commit_and_release(&r, &err) == 0, "commit: %s", strerror(err));
	CHECK(strcmp(content("old.yaml"), "new\n") == 0, "content %s", content("old.yaml"));
	CHECK(inode("old.yaml") != before, "a new inode: renamed over");
	CHECK(stat("old.yaml", &st) == 0 && (st.st_mode & 07777) == 0640,
	      "the old file's mode kept: %o", (unsigned)(st.st_mode & 07777));
	CHECK(temps_left() == 0, "no temp left");
}

static void test_untouched(void)
{
	struct record r;
	ino_t before;
	int fd, err;

	put("same.yaml", "same\n", 0644);
	before = inode("same.yaml");
	fd = open_redirected(&r, "same.yaml", O_RDWR);
	CHECK(fd >= 0 && r.copied, "redirected into a copy");
	close(fd);
	CHECK(commit_and_release(&r, &err) == 0, "commit: %s", strerror(err));
	CHECK(inode("same.yaml") == before, "never written: the same inode");
	CHECK(temps_left() == 0, "no temp left");
}

static void test_append(void)
{
	struct record r;
	int fd, err;

	put("log.yaml", "one\n", 0644);
	fd = open_redirected(&r, "log.yaml", O_WRONLY | O_APPEND);
	CHECK(fd >= 0, "redirected");
	program_writes(fd, "two\n");
	record_written(&r);
	CHECK(commit_and_release(&r, &err) == 0, "commit: %s", strerror(err));
	CHECK(strcmp(content("log.yaml"), "one\ntwo\n") == 0, "appended: %s", content("log.yaml"));
}

/* A write failed (ENOSPC): the old content stays, commit says why. */
static void test_write_failed(void)
{
	struct record r;
	ino_t before;
	int fd, err;

	put("full.yaml", "kept\n", 0644);
	before = inode("full.yaml");
	fd = open_redirected(&r, "full.yaml", O_WRONLY | O_TRUNC);
	program_writes(fd, "half");
	record_fail(&r, ENOSPC);
	record_fail(&r, EIO);  /* the first error is the one told */
	CHECK(commit_and_release(&r, &err) < 0 && err == ENOSPC, "commit fails with ENOSPC: %s",
	      strerror(err));
	CHECK(strcmp(content("full.yaml"), "kept\n") == 0 && inode("full.yaml") == before,
	      "the old file kept: %s", content("full.yaml"));
	CHECK(temps_left() == 0, "no temp left");
}

/* Another process that shares the temp saw its write fail: its mark on
 * the temp stops the commit. */
static void test_failure_mark(void)
{
	struct record r;
	int fd, err;
	pid_t child;

	put("shared.yaml", "kept\n", 0644);
	fd = open_redirected(&r, "shared.yaml", O_WRONLY | O_TRUNC);
	program_writes(fd, "x");
	fd = record_open_temp(&r, O_WRONLY);
	CHECK(fd >= 0, "record_open_temp: %s", strerror(errno));
	child = fork();
	if (child == 0) {
		record_mark_failed(fd, EDQUOT);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	close(fd);
	CHECK(commit_and_release(&r, &err) < 0 && err == EDQUOT, "commit fails with the mark's error: %s",
	      strerror(err));
	CHECK(strcmp(content("shared.yaml"), "kept\n") == 0, "the old file kept");
}

/* Deleted while pending: what was written goes with it. */
static void test_unlinked(void)
{
	struct record r;
	int fd, err;

	put("gone.yaml", "old\n", 0644);
	fd = open_redirected(&r, "gone.yaml", O_WRONLY | O_TRUNC);
	program_writes(fd, "new\n");
	unlink("gone.yaml");
	atomic_store(&r.unlinked, 1);
	CHECK(commit_and_release(&r, &err) == 0, "nothing to commit is no failure");
	CHECK(access("gone.yaml", F_OK) < 0, "the name stays deleted");
	CHECK(temps_left() == 0, "no temp left");
}

/* backup = "~": the old file is kept as NAME~, the new one in place. */
static void test_backup(void)
{
	struct record r;
	ino_t before;
	int fd, err;

	put("b.yaml", "first\n", 0644);
	before = inode("b.yaml");
	rule.backup = "~";
	fd = open_redirected(&r, "b.yaml", O_WRONLY | O_TRUNC);
	program_writes(fd, "second\n");
	CHECK(commit_and_release(&r, &err) == 0, "commit: %s", strerror(err));
	rule.backup = "";
	CHECK(strcmp(content("b.yaml"), "second\n") == 0, "the new content");
	CHECK(strcmp(content("b.yaml~"), "first\n") == 0 && inode("b.yaml~") == before,
	      "the backup is the old inode: %s", content("b.yaml~"));
	CHECK(temps_left() == 0, "no temp left");
}

/* Not regular, not there without O_CREAT: the real open decides. */
static void test_passes(void)
{
	struct record r;

	mkdir("dir.yaml", 0755);
	mkfifo("fifo.yaml", 0644);
	CHECK(open_redirected(&r, "dir.yaml", O_WRONLY | O_TRUNC) == REDIRECT_PASS, "a directory");
	CHECK(open_redirected(&r, "fifo.yaml", O_WRONLY | O_NONBLOCK) == REDIRECT_PASS, "a fifo");
	CHECK(open_redirected(&r, "absent.yaml", O_WRONLY) == REDIRECT_PASS, "absent, no O_CREAT");
	CHECK(!redirect_flags(O_RDONLY) && !redirect_flags(O_WRONLY | O_CREAT | O_EXCL) &&
	      !redirect_flags(O_PATH) && !redirect_flags(O_WRONLY | O_DIRECTORY) &&
	      redirect_flags(O_WRONLY) && redirect_flags(O_RDWR | O_CREAT | O_TRUNC),
	      "redirect_flags");
}

/* Another process holds the lock: lock_timeout = 0 gives up at once,
 * with EWOULDBLOCK, and nothing is left behind. */
static void test_lock_busy(void)
{
	struct record r;
	int ready[2], done[2], fd;
	char c;
	pid_t child;

	put("busy.yaml", "old\n", 0644);
	if (pipe(ready) < 0 || pipe(done) < 0)
		return;
	child = fork();
	if (child == 0) {
		struct record held;
		me.pid = getpid();
		fd = open_redirected(&held, "busy.yaml", O_WRONLY | O_TRUNC);
		c = fd >= 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	CHECK(read(ready[0], &c, 1) == 1 && c == 'y', "the child holds the lock");
	rule.lock_timeout = 0;
	fd = open_redirected(&r, "busy.yaml", O_WRONLY | O_TRUNC);
	CHECK(fd < 0 && errno == EWOULDBLOCK, "busy: %s", fd < 0 ? strerror(errno) : "opened");
	CHECK(r.dfd == -1 && r.tfd == -1 && r.lock == NULL, "a failed open holds nothing");
	rule.lock_timeout = 30;
	CHECK(write(done[1], "x", 1) == 1, "release the child");
	waitpid(child, NULL, 0);
	CHECK(strcmp(content("busy.yaml"), "old\n") == 0, "untouched");
	/* The child died before its commit: it is free again. */
	fd = open_redirected(&r, "busy.yaml", O_WRONLY | O_TRUNC);
	CHECK(fd >= 0, "the lock is free once its holder is gone");
	if (fd >= 0) {
		int err;
		program_writes(fd, "mine\n");
		CHECK(commit_and_release(&r, &err) == 0, "commit");
	}
	close(ready[0]), close(ready[1]), close(done[0]), close(done[1]);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* How many lock files of NAME the lock directory holds. */
static int lock_files(const char *name)
{
	char suffix[NAME_MAX + 8];
	DIR *d = opendir(locks);
	struct dirent *e;
	int n = 0;

	snprintf(suffix, sizeof(suffix), "-%s.lock", name);
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name), slen = strlen(suffix);
		n += len > slen && strcmp(e->d_name + len - slen, suffix) == 0;
	}
	if (d)
		closedir(d);
	return n;
}

/* The lock of NAME taken by A under SCOPE, waiting at most TIMEOUT
 * seconds: 0, or the errno of the failure.  With OUT, by lock_take (*OUT
 * is the lock, the caller's to drop); without, by lock_hold (kept). */
static int take_as(const struct actor *a, int scope, int timeout, const char *name,
		   struct lock **out)
{
	struct rule r = rule;
	struct stat dir_st;
	int dfd = open(".", O_RDONLY | O_DIRECTORY), rc;

	r.lock = scope;
	r.lock_timeout = timeout;
	if (dfd < 0 || fstat(dfd, &dir_st) < 0)
		return errno;
	if (scope >= SCOPE_PROCESS && !out)
		rc = lock_hold(a, &r, dfd, &dir_st, name, name);
	else
		rc = lock_take(a, &r, dfd, &dir_st, name, name, 0, out);
	rc = rc < 0 ? errno : 0;
	close(dfd);
	return rc;
}

/* Two owners inside one process (the programs one seccomp supervisor
 * serves): each waits for the other's lock as for another process's,
 * one owner re-enters its own, and lock_let_go gives back what an owner
 * kept (lock = "process", a refused one too), and nothing else. */
static void test_lock_owners(void)
{
	static const char first_tok = 1, second_tok = 2, third_tok = 3;
	struct actor first = me, second = me, third = me;
	struct lock *l1 = NULL, *l2 = NULL, *again = NULL;
	double t0;

	first.owner = &first_tok;
	second.owner = &second_tok;
	third.owner = &third_tok;

	CHECK(take_as(&first, SCOPE_WRITE, 30, "own.yaml", &l1) == 0 && l1, "the first owner takes it");
	t0 = now();
	CHECK(take_as(&second, SCOPE_WRITE, 1, "own.yaml", &l2) == EWOULDBLOCK && !l2,
	      "the second owner waits lock_timeout for the first, then gives up");
	CHECK(now() - t0 >= 0.9, "the second owner waited its lock_timeout (1 s) before giving up");
	CHECK(take_as(&first, SCOPE_WRITE, 0, "own.yaml", &again) == 0 && again == l1,
	      "the first owner re-enters its own lock");
	lock_drop(again);
	lock_drop(l1);
	CHECK(take_as(&second, SCOPE_WRITE, 0, "own.yaml", &l2) == 0, "free once the first let go");
	lock_drop(l2);

	/* lock = "process": kept until the owner is let go of. */
	CHECK(take_as(&first, SCOPE_PROCESS, 0, "kept.yaml", NULL) == 0, "the first owner holds it");
	CHECK(take_as(&first, SCOPE_PROCESS, 0, "kept.yaml", NULL) == 0, "and touches it again");
	CHECK(lock_files("kept.yaml") == 1, "its lock file is there");
	CHECK(take_as(&second, SCOPE_PROCESS, 0, "kept.yaml", NULL) == EWOULDBLOCK,
	      "the second owner cannot have it (refused from now on)");
	CHECK(take_as(&third, SCOPE_WRITE, 0, "kept.yaml", &l2) == EWOULDBLOCK, "nor a third");
	lock_let_go(&third_tok);  /* holds nothing: changes nothing */
	CHECK(take_as(&third, SCOPE_WRITE, 0, "kept.yaml", &l2) == EWOULDBLOCK,
	      "another owner's end leaves it held");
	lock_let_go(&first_tok);
	CHECK(lock_files("kept.yaml") == 0, "let go of: its lock file removed");
	CHECK(take_as(&third, SCOPE_WRITE, 0, "kept.yaml", &l2) == 0, "let go of: free");
	lock_drop(l2);
	CHECK(take_as(&second, SCOPE_WRITE, 0, "kept.yaml", &l2) == EWOULDBLOCK,
	      "the second owner gave up on it: refused, without waiting");
	lock_let_go(&second_tok);
	CHECK(take_as(&second, SCOPE_PROCESS, 0, "kept.yaml", NULL) == 0,
	      "its refusal let go of: the second owner holds it now");
	lock_let_go(&second_tok);

	/* A file still pending keeps its count past the owner's end (the
	 * supervisor's file on its way into a program that exits). */
	CHECK(take_as(&first, SCOPE_PROCESS, 0, "open.yaml", NULL) == 0 &&
	      take_as(&first, SCOPE_PROCESS, 0, "open.yaml", &l1) == 0, "held, and a file pending");
	lock_let_go(&first_tok);
	CHECK(take_as(&third, SCOPE_WRITE, 0, "open.yaml", &l2) == EWOULDBLOCK,
	      "the pending file still holds it after the end");
	lock_drop(l1);
	CHECK(take_as(&third, SCOPE_WRITE, 0, "open.yaml", &l2) == 0, "free once the file let go");
	lock_drop(l2);

	/* lock = "session": the process's own (the session's), whatever the
	 * owner that asks, and no owner's end lets go of it. */
	CHECK(take_as(&me, SCOPE_PROCESS, 0, "sess.yaml", NULL) == 0, "the session holds it");
	CHECK(take_as(&first, SCOPE_SESSION, 0, "sess.yaml", NULL) == 0,
	      "an owner's session-scope touch meets the session's hold");
	lock_let_go(&first_tok);
	CHECK(take_as(&third, SCOPE_WRITE, 0, "sess.yaml", &l2) == EWOULDBLOCK,
	      "still held once that owner ended");
	lock_let_go(NULL);  /* not the process's own: its exit lets go */
	CHECK(take_as(&third, SCOPE_WRITE, 0, "sess.yaml", &l2) == EWOULDBLOCK,
	      "still held after lock_let_go(NULL)");
}

/* A dead writer's named temp is swept; a live one's (ours) is kept. */
static void test_sweep(void)
{
	char dead[NAME_MAX + 1], mine[NAME_MAX + 1];
	pid_t child = fork();
	int dfd = open(".", O_RDONLY | O_DIRECTORY);

	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	snprintf(dead, sizeof(dead), ".s.yaml.atomically.%d.abcdef", (int)child);
	snprintf(mine, sizeof(mine), ".s.yaml.atomically.%d.fedcba", (int)me.pid);
	put(dead, "left\n", 0600);
	put(mine, "live\n", 0600);
	CHECK(temp_sweep(me.pid, dfd, "s.yaml", "s.yaml") == 1, "one temp remains");
	CHECK(access(dead, F_OK) < 0, "the dead writer's temp is gone");
	CHECK(access(mine, F_OK) == 0, "ours is kept");
	unlink(mine);
	close(dfd);
}

/* The last close across processes: a child holds the program's
 * description (marked) after the program closed its own; holders_wait
 * returns when the child lets go (here, killed by SIGKILL after its
 * write), and the commit then holds the child's write too. */
static void test_holders_wait(void)
{
	struct record r;
	struct timespec a, b;
	int fd = open_redirected(&r, "h.yaml", O_WRONLY | O_CREAT | O_TRUNC), err, status;
	double took;
	pid_t child;

	CHECK(fd >= 0, "open_redirected: %s", strerror(errno));
	if (fd < 0)
		return;
	CHECK(write(fd, "parent\n", 7) == 7, "write");
	CHECK(holders_mark(fd) == 0, "holders_mark: %s", strerror(errno));
	child = fork();
	if (child == 0) {
		usleep(300 * 1000);
		if (write(fd, "child\n", 6) != 6)
			_exit(1);
		pause();  /* killed below */
		_exit(0);
	}
	close(fd);
	CHECK(holders_detach(&r) == 0, "holders_detach: %s", strerror(errno));
	CHECK(holders_remain(&r) == 1, "the child holds it");
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (fork() == 0) {
		usleep(500 * 1000);
		kill(child, SIGKILL);
		_exit(0);
	}
	CHECK(holders_wait(&r) == 0, "holders_wait: %s", strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &b);
	took = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	CHECK(took > 0.4, "holders_wait returned after %.2f s, before the child's death", took);
	CHECK(holders_remain(&r) == 0, "nobody holds it any more");
	CHECK(commit_and_release(&r, &err) == 0, "commit: %s", strerror(err));
	CHECK(strcmp(content("h.yaml"), "parent\nchild\n") == 0, "the child's write is in: %s",
	      content("h.yaml"));
	while (waitpid(-1, &status, 0) > 0)
		;
}

/* A named temp changes hands: it carries its new owner's pid, and a
 * sweep no longer takes it for its dead writer's. */
static void test_temp_rename_owner(void)
{
	char temp[NAME_MAX + 1], mine[64];
	pid_t gone = fork();
	int dfd = open(".", O_RDONLY | O_DIRECTORY);

	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	snprintf(temp, sizeof(temp), ".o.yaml.atomically.%d.abcdef", (int)gone);
	put(temp, "pending\n", 0600);
	CHECK(temp_rename_owner(me.pid, dfd, "o.yaml", temp) == 0, "temp_rename_owner: %s",
	      strerror(errno));
	snprintf(mine, sizeof(mine), ".o.yaml.atomically.%d.", (int)me.pid);
	CHECK(strncmp(temp, mine, strlen(mine)) == 0, "the new name carries our pid: %s", temp);
	CHECK(strcmp(content(temp), "pending\n") == 0, "the same file");
	CHECK(temp_sweep(me.pid + 1, dfd, "o.yaml", "o.yaml") == 1, "a sweep keeps it");
	CHECK(temps_left() == 1, "one name, not two");
	unlink(temp);
	close(dfd);
}

/* The program's own rename onto a matched path. */
static void test_rename(void)
{
	struct target t;

	put("r.yaml", "old\n", 0644);
	put("r.tmp", "renamed\n", 0644);
	CHECK(target_find(AT_FDCWD, "r.yaml", 1, &t) == 0, "target_find");
	CHECK(guarded_rename(&me, &rule, &t, "r.yaml", AT_FDCWD, "r.tmp", AT_FDCWD, "r.yaml", 0) == 0,
	      "guarded_rename: %s", strerror(errno));
	close(t.dfd);
	CHECK(strcmp(content("r.yaml"), "renamed\n") == 0, "renamed");
}

/* The one rule lookup, from the cwd and from a directory descriptor (a
 * supervisor's view of another process's cwd). */
static void test_rule_for(void)
{
	struct rule rules[2];
	struct ruleset rs = { .rules = rules, .nrules = 2 };
	char abs[PATH_MAX], pattern[PATH_MAX + 8];
	int dfd = open(".", O_RDONLY | O_DIRECTORY);

	rule_set_defaults(&rules[0]);
	rule_set_defaults(&rules[1]);
	rules[0].pattern = "*.yaml";
	rules[0].basename = 1;
	snprintf(pattern, sizeof(pattern), "%s/sub/**", dir);
	rules[1].pattern = pattern;
	rules[1].enabled = 0;
	CHECK(rule_for(&rs, AT_FDCWD, "a.yaml", abs, sizeof(abs)) == &rules[0], "a basename rule");
	CHECK(rule_for(&rs, AT_FDCWD, "sub/a.yaml", abs, sizeof(abs)) == &rules[1] &&
	      strncmp(abs, dir, strlen(dir)) == 0, "a path rule, decided on the absolute path %s", abs);
	CHECK(rule_for(&rs, dfd, "sub/a.yaml", abs, sizeof(abs)) == &rules[1],
	      "relative to a directory descriptor");
	CHECK(rule_for(&rs, AT_FDCWD, "a.yaml/.", abs, sizeof(abs)) == NULL, "a directory's name");
	CHECK(rule_for(&rs, AT_FDCWD, "a.txt", abs, sizeof(abs)) == NULL, "no rule");
	close(dfd);
}

/* The kernel's guards in sticky directories (kernelrules.h), on made-up
 * stats: a directory like /tmp, one that is not sticky, one sticky but
 * writable by its group only; links and files of this process's user, of
 * the directory's owner, of a third user. */
static void test_kernel_rules(void)
{
	uid_t mine = geteuid(), owner = mine + 1, other = mine + 2;
	struct stat tmp = { .st_mode = S_IFDIR | 01777, .st_uid = owner };
	struct stat open_dir = { .st_mode = S_IFDIR | 0777, .st_uid = owner };
	struct stat group_dir = { .st_mode = S_IFDIR | 01770, .st_uid = owner };
	struct stat my = { .st_mode = S_IFLNK | 0777, .st_uid = mine };
	struct stat owners = { .st_mode = S_IFLNK | 0777, .st_uid = owner };
	struct stat others = { .st_mode = S_IFLNK | 0777, .st_uid = other };
	pid_t pid;
	int status;

	CHECK(kernel_may_refuse_follow(&others, &tmp), "another user's link in /tmp");
	CHECK(!kernel_may_refuse_follow(&my, &tmp), "one's own link in /tmp");
	CHECK(!kernel_may_refuse_follow(&owners, &tmp), "the directory owner's link");
	CHECK(!kernel_may_refuse_follow(&others, &open_dir), "a directory that is not sticky");
	CHECK(!kernel_may_refuse_follow(&others, &group_dir), "a sticky one, not open to everyone");
	my.st_mode = owners.st_mode = others.st_mode = S_IFREG | 0666;
	CHECK(kernel_guards_for_owner(&others, &tmp), "another user's file in /tmp");
	CHECK(kernel_guards_for_owner(&others, &group_dir), "... in a sticky directory of a group");
	CHECK(kernel_guards_for_owner(&owners, &tmp), "the directory owner's file");
	CHECK(!kernel_guards_for_owner(&my, &tmp), "one's own file");
	CHECK(!kernel_guards_for_owner(&others, &open_dir), "a directory that is not sticky");

	/* The filesystem user ID judges, not the effective one: a thread
	 * that took on another's (as a server acting for it) is that user. */
	if (geteuid() != 0)
		return;
	pid = fork();
	if (pid == 0) {
		setfsuid(other);
		_exit(kernel_may_refuse_follow(&others, &tmp) ? 1 :
		      !kernel_may_refuse_follow(&my, &tmp) ? 2 : 0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0, "setfsuid: judged as the filesystem user ID (%d)",
	      WEXITSTATUS(status));
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test_core.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || chdir(dir) < 0) {
		perror(dir);
		return 1;
	}
	snprintf(locks, sizeof(locks), "%s/locks", dir);
	mkdir(locks, 0700);
	me.pid = getpid();
	me.lock_dir = locks;
	rule_set_defaults(&rule);
	log_setup(LEVEL_ERROR, "");  /* the expected failures say nothing */

	test_new_file();
	test_replace();
	test_untouched();
	test_append();
	test_write_failed();
	test_failure_mark();
	test_unlinked();
	test_backup();
	test_passes();
	test_lock_busy();
	test_lock_owners();
	test_sweep();
	test_rename();
	test_holders_wait();
	test_temp_rename_owner();
	test_rule_for();
	test_kernel_rules();

	{
		char cmd[PATH_MAX + 16];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("could not remove %s\n", dir);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
