/* crash_kill.c - kill a writer with SIGKILL at random moments, over and
 * over, and check what each kill left (issue 3; bats/crash.bats).
 *
 *   crash_kill [-n KILLS] [--preload LIB] [--format text|json] [--seed N]
 *              [--expect-no-temps] [--kill-child] TARGET WRITER [ARG...]
 *
 * Runs writers one after the other until KILLS of them (default 20) died
 * of the SIGKILL: start "WRITER ARG... TARGET VERSION" (VERSION = the
 * run's number, from 1), wait a random delay, SIGKILL the writer if it is
 * still alive, reap it, then look at TARGET.  The writer is a real
 * program that saves TARGET with a plain open(O_TRUNC), write()s and
 * close(): tests/helpers/crash_writer.c (--format text) or tests/helpers/crash_writer.py
 * (--format json), whose content (tests/helpers/crash_content.h) says which
 * version it is and can be checked byte for byte.
 *
 * --kill-child: WRITER is a wrapper (atomically) that runs the writer as
 * its child: the SIGKILL goes to that child alone, while the wrapper
 * lives on to see it die (the seccomp supervisor: bats/seccomp.bats);
 * the wrapper must then exit 128+9.  Until the child exists, the whole
 * group is killed, as without the option.  --kill-leaf: the same with
 * the last process down the wrapper's first children (atomically, its
 * keeper, a shell that runs the writer: the writer), as a program a
 * session's tree exec'd; the group while nothing is below the keeper.
 *
 * --preload LIB puts LD_PRELOAD=LIB in the writer's environment; without
 * it LD_PRELOAD is removed (the control).  Everything else in the
 * environment (ATOMICALLY_CONF or ATOMICALLY_RULES, XDG_RUNTIME_DIR,
 * ATOMICALLY_LOG) is the caller's.  The writer gets a pipe as descriptor
 * 3, named in CRASH_STATUS_FD, on which it writes 'o' just before its
 * open, 'w' after its last write and 'c' after its close: that is how a
 * kill is known to have landed before the open, in the writes, in the
 * close (the commit, under the library), or after it.
 *
 * The delays: a fifth of the runs are killed at a random moment before
 * the open (counted from the start), about two thirds between the open
 * and the return of the close (counted from the 'o' marker: a
 * program's start takes long and varies, Python's most), the rest from
 * there to somewhat past the writer's exit, so that some writers finish
 * unkilled.  The lengths of these windows are learnt as the runs go, from
 * when the markers and the exits arrived (see "the windows" below).  --seed makes the choices
 * repeatable (the timings are the machine's).
 *
 * After each run, TARGET must be:
 *   - absent only while no version was ever seen (before the first
 *     commit); absent after that counts as "vanished";
 *   - otherwise one whole version, byte for byte: an empty file counts as
 *     "empty", anything else as "torn" (cut short, half written, mixed);
 *     a target that a run left exactly as the run before left it is not
 *     counted again (a writer killed before its open changes nothing);
 *   - a version never older than the last one seen ("backwards"), never
 *     newer than the run's ("future"), and exactly the run's when the
 *     writer's close returned ("lost").
 * After the loop one more writer runs to completion (its version must be
 * the target's after it), then the temp files (names matching
 * ".*.atomically.*") in TARGET's directory are counted: "temps" (and
 * "temps_before_final", counted just before that writer).
 *
 * Prints one line of NAME=COUNT figures:
 *   runs kills before_open mid_write in_writes in_close after_close
 *   not_killed finished absent empty torn vanished backwards future lost
 *   errors versions temps_before_final temps
 * (mid_write = in_writes + in_close: kills that landed after the writer
 * began its open and before its close returned; finished = writers of the
 * loop whose close returned, killed after it or not; the final writer is
 * not counted in runs nor finished), then a line of timings.
 * Problems are described on standard error (the first 20).
 *
 * Exit status: 0; 1 when anything was empty, torn, vanished, backwards,
 * future, lost, a writer failed (errors), or, with --expect-no-temps,
 * temps > 0; 64 on bad usage; 70 when the test itself cannot run.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crash_content.h"

#define STATUS_FD 3
#define BUF_MAX (16L << 20)
#define FINAL_TIMEOUT 60.0

enum format { TEXT, JSON };
enum state { ABSENT, EMPTY, TORN, WHOLE, UNREADABLE };

static const char *target, *preload;
static int kill_child;
static char **writer_argv;	/* WRITER ARG... TARGET VERSION NULL */
static int writer_argc;
static enum format format = TEXT;
static char *file_buf, *want_buf, *prev_buf;
static size_t prev_len;

static struct {
	long runs, kills, before_open, in_writes, in_close, after_close;
	long not_killed, finished, absent, empty, torn, vanished, backwards;
	long future, lost, errors, versions, temps_before_final, temps;
} n;

/* ---- small things ---- */

static int reported;
static void problem(const char *fmt, ...)
{
	va_list ap;

	if (reported++ >= 20)
		return;
	va_start(ap, fmt);
	fputs("crash_kill: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void die(const char *what)
{
	fprintf(stderr, "crash_kill: %s: %s\n", what, strerror(errno));
	exit(70);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng;
static double uniform(double lo, double hi)	/* splitmix64 */
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return lo + (hi - lo) * (double)(z >> 11) / 9007199254740992.0;
}

/* ---- one writer ---- */

/* Times are seconds from the start of the writer. */
struct run {
	int from_open;		/* the delay runs from the 'o' marker, not the start */
	double delay;		/* < 0: not killed, waited for */
	double kill_at;		/* when the SIGKILL was sent; < 0: not sent */
	double at[3];		/* when 'o', 'w', 'c' arrived; < 0: not seen in time */
	int seen[3];		/* 'o', 'w', 'c' written at all */
	double exit_at;		/* when it exited on its own; < 0: killed first */
	int status;
};

static void markers(int fd, struct run *r, double t0, int *open_pipe)
{
	char buf[64];
	ssize_t got = read(fd, buf, sizeof(buf));

	if (got <= 0) {
		if (got == 0 || errno != EINTR)
			*open_pipe = 0;	/* closed, or nothing more for now (EAGAIN) */
		return;
	}
	for (ssize_t i = 0; i < got; i++) {
		const char *m = strchr("owc", buf[i]);
		if (!m || !buf[i])
			continue;
		r->seen[m - "owc"] = 1;
		if (r->at[m - "owc"] < 0)
			r->at[m - "owc"] = now() - t0;
	}
}

/* The first child of PID (/proc/PID/task/PID/children), or -1. */
static pid_t child_of(pid_t pid)
{
	char path[64], buf[64];
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got <= 0)
		return -1;
	buf[got] = '\0';
	return (pid_t)atoi(buf) > 0 ? (pid_t)atoi(buf) : -1;
}

/* Kill the writer PID: its group, or (--kill-child) its child, or
 * (--kill-leaf) the last of its first children, down the tree. */
static void kill_writer(pid_t pid)
{
	pid_t c = kill_child ? child_of(pid) : -1, below;
	int depth = 1;

	if (kill_child == 2) {
		for (below = c; below > 0; below = child_of(c), depth++)
			c = below;
		if (depth < 3)
			c = -1;  /* the keeper, alone yet: the group */
	}

	if (c > 0)
		kill(c, SIGKILL);
	else
		kill(-pid, SIGKILL);	/* not reaped yet: still ours */
}

/* The writer's environment: the caller's, with LD_PRELOAD set to the
 * library or removed, and CRASH_STATUS_FD. */
extern char **environ;
static char **writer_env;

static void make_env(void)
{
	size_t k = 0, count = 0;
	static char lib[4096];

	while (environ[count])
		count++;
	if (!(writer_env = calloc(count + 3, sizeof(char *))))
		die("malloc");
	for (size_t i = 0; i < count; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) &&
		    strncmp(environ[i], "CRASH_STATUS_FD=", 16))
			writer_env[k++] = environ[i];
	writer_env[k++] = "CRASH_STATUS_FD=3";
	if (preload) {
		snprintf(lib, sizeof(lib), "LD_PRELOAD=%s", preload);
		writer_env[k++] = lib;
	}
}

/* run_writer(version, from_open, delay, r): one writer, killed DELAY
 * seconds after it was started (from_open: after it said it opens the
 * file) if it is still alive then; delay < 0: waited for, up to
 * FINAL_TIMEOUT.  Aiming from the open makes the kills land where meant
 * even when the program's start takes long and varies (Python).
 * posix_spawn, not fork: a process start is the cost of every run, and a
 * vfork-like start is the cheaper one. */
static void run_writer(long version, int from_open, double delay, struct run *r)
{
	char vbuf[32];
	int p[2], pidfd, open_pipe = 1, err;
	double t0, limit;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	pid_t pid;

	*r = (struct run){ .from_open = from_open, .delay = delay, .kill_at = -1,
			   .at = { -1, -1, -1 }, .exit_at = -1 };
	snprintf(vbuf, sizeof(vbuf), "%ld", version);
	writer_argv[writer_argc - 1] = vbuf;
	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe");
	if (p[1] == STATUS_FD) {	/* dup2 onto itself would keep O_CLOEXEC */
		int moved = fcntl(p[1], F_DUPFD_CLOEXEC, 10);
		if (moved < 0)
			die("fcntl");
		close(p[1]);
		p[1] = moved;
	}
	/* A process group of its own: the kill reaches whatever the writer
	 * started too (a shell script's commands). */
	if (posix_spawn_file_actions_init(&fa) ||
	    posix_spawn_file_actions_adddup2(&fa, p[1], STATUS_FD) ||
	    posix_spawnattr_init(&attr) || posix_spawnattr_setpgroup(&attr, 0) ||
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP))
		die("posix_spawn attributes");
	t0 = now();
	err = posix_spawnp(&pid, writer_argv[0], &fa, &attr, writer_argv, writer_env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err) {
		errno = err;
		die(writer_argv[0]);
	}
	close(p[1]);
	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
		die("pidfd_open");

	for (;;) {
		struct pollfd fds[2] = { { pidfd, POLLIN, 0 }, { open_pipe ? p[0] : -1, POLLIN, 0 } };
		double left;
		struct timespec ts;
		int k;

		limit = delay < 0 ? FINAL_TIMEOUT
		      : !from_open ? delay
		      : r->at[0] >= 0 ? r->at[0] + delay
		      : FINAL_TIMEOUT;	/* the open is still to come */
		left = limit - (now() - t0);
		if (left < 0)
			left = 0;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		k = ppoll(fds, 2, &ts, NULL);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			die("ppoll");
		}
		if (fds[1].revents)
			markers(p[0], r, t0, &open_pipe);
		if (fds[0].revents) {
			r->exit_at = now() - t0;
			break;
		}
		if (k == 0 && now() - t0 >= limit) {
			r->kill_at = now() - t0;
			kill_writer(pid);
			if (delay < 0)
				problem("version %ld: the writer did not finish in %.0f s: killed",
					version, FINAL_TIMEOUT);
			break;
		}
	}
	while (waitpid(pid, &r->status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	/* What came after the last look; without waiting for a process the
	 * writer left behind that still holds the pipe. */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	while (open_pipe) {
		double keep[3] = { r->at[0], r->at[1], r->at[2] };
		markers(p[0], r, t0, &open_pipe);
		for (int i = 0; i < 3; i++)
			if (keep[i] < 0)
				r->at[i] = -1;	/* seen, but not when */
	}
	close(p[0]);
	close(pidfd);
}

/* ---- the target ---- */

static int number(const char **p, const char *prefix, long max, long *out)
{
	size_t len = strlen(prefix);
	char *end;

	if (strncmp(*p, prefix, len))
		return 0;
	*p += len;
	if (**p < '0' || **p > '9')
		return 0;
	errno = 0;
	*out = strtol(*p, &end, 10);
	if (errno || *out > max)
		return 0;
	*p = end;
	return 1;
}

/* The target's identity and times at the last look, and at this one. */
static struct stat prev_st, cur_st;
static enum state prev_state = ABSENT;

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* look(): what TARGET holds; its version in *version when WHOLE. */
static enum state look(long *version, size_t *size)
{
	int fd = open(target, O_RDONLY | O_CLOEXEC);
	size_t len = 0, want;
	ssize_t got;
	long v, count;
	const char *p = file_buf;

	*size = 0;
	memset(&cur_st, 0, sizeof(cur_st));
	if (fd >= 0 && fstat(fd, &cur_st) != 0)
		die(target);
	if (fd < 0) {
		if (errno == ENOENT)
			return ABSENT;
		problem("%s: %s", target, strerror(errno));
		return UNREADABLE;
	}
	while (len < BUF_MAX - 1 && (got = read(fd, file_buf + len, BUF_MAX - 1 - len)) > 0)
		len += (size_t)got;
	close(fd);
	file_buf[len] = 0;
	*size = len;
	if (len == 0)
		return EMPTY;
	if (format == TEXT) {
		if (!number(&p, "crash-writer version=", 99999999, &v) ||
		    !number(&p, " lines=", CRASH_MAX_LINES, &count) || *p != '\n')
			return TORN;
		want = crash_text(NULL, v, count);
		if (want != len)
			return TORN;
		crash_text(want_buf, v, count);
	} else {
		if (!number(&p, "{\"version\": ", 99999999, &v) ||
		    !number(&p, ", \"count\": ", CRASH_MAX_COUNT, &count))
			return TORN;
		if (!(want = crash_json(want_buf, BUF_MAX, v, count))) {
			problem("%s: version %ld, %ld items: too big to check", target, v, count);
			return UNREADABLE;
		}
		if (want != len)
			return TORN;
	}
	if (memcmp(file_buf, want_buf, len))
		return TORN;
	*version = v;
	return WHOLE;
}

static long count_temps(void)
{
	char dir[4096];
	const char *slash = strrchr(target, '/');
	struct dirent *d;
	long count = 0;
	DIR *dp;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == target ? 1 : (int)(slash - target), target);
	if (!(dp = opendir(dir)))
		die(dir);
	while ((d = readdir(dp)))
		if (!fnmatch(".*.atomically.*", d->d_name, 0))
			count++;
	closedir(dp);
	return count;
}

/* ---- the windows the kills aim at ---- */

/* Three lengths, in seconds: from the writer's start to its open ('o');
 * from the open to the return of its close ('c'); from the open to its
 * exit.  Each is the upper quartile of its last 32 samples (a median
 * would aim half the "during" kills past the close of a writer whose
 * close is slow half the time), taken from the runs that do not bias
 * it: a run aimed before the open is killed early, so only the runs
 * aimed from the open tell how long a start takes; only the runs aimed
 * after the close (killed late or not at all) tell how long the writes
 * and the close take.  Until a length has 4 samples, it is a guess that
 * grows whenever a kill finds the writer not there yet. */
struct est {
	double value, sample[32];
	int count, next;
};
static struct est est_open = { .value = 0.005 }, est_close = { .value = 0.005 },
		  est_exit = { .value = 0.006 };

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void sample(struct est *e, double x)
{
	double sorted[32];

	e->sample[e->next++ % 32] = x;
	if (e->count < 32)
		e->count++;
	if (e->count < 4) {
		if (x > e->value)
			e->value = x;
		return;
	}
	memcpy(sorted, e->sample, sizeof(double) * (size_t)e->count);
	qsort(sorted, (size_t)e->count, sizeof(double), by_value);
	e->value = sorted[e->count * 3 / 4];
}

/* not_yet(e, t): killed at t before the end e measures */
static void not_yet(struct est *e, double t)
{
	if (e->count < 4 && t * 1.5 > e->value)
		e->value = t * 1.5;
}

enum aim { BEFORE, DURING, AFTER };

static void learn(const struct run *r, enum aim aim, int killed)
{
	double o = r->at[0], k = r->kill_at - o;

	if (aim != BEFORE && o >= 0)
		sample(&est_open, o);
	else if (aim == BEFORE && !r->seen[0])
		not_yet(&est_open, r->kill_at);
	if (aim == AFTER && o >= 0) {
		if (r->at[2] >= 0)
			sample(&est_close, r->at[2] - o);
		else if (killed)
			not_yet(&est_close, k);
		if (r->exit_at >= 0)
			sample(&est_exit, r->exit_at - o);
		else if (killed)
			not_yet(&est_exit, k);
	} else if (aim == DURING && killed && !r->seen[2]) {
		not_yet(&est_close, k);
		not_yet(&est_exit, k);
	}
	if (est_exit.value < est_close.value * 1.05)
		est_exit.value = est_close.value * 1.05;
}

/* Where the next kill aims: a fifth before the open (from the start),
 * about two thirds between the open and the return of the close, the rest
 * from there to somewhat past the exit (some writers finish). */
static enum aim pick(double *delay)
{
	double u = uniform(0, 1);

	if (u < 0.2) {
		*delay = uniform(0, est_open.value);
		return BEFORE;
	}
	if (u < 0.85) {
		*delay = uniform(0, est_close.value);
		return DURING;
	}
	*delay = uniform(est_close.value, est_exit.value * 1.15);
	return AFTER;
}

/* ---- main ---- */

/* how(r): "killed in the writes, 5.123 ms after its start", or "not killed" */
static const char *how(const struct run *r)
{
	static char buf[96];

	if (r->kill_at < 0)
		return "not killed";
	snprintf(buf, sizeof(buf), "killed %s, %.3f ms after its start",
		 r->seen[2] ? "after the close" : r->seen[1] ? "in the close"
		 : r->seen[0] ? "in the writes" : "before the open", r->kill_at * 1e3);
	return buf;
}

/* check(run, version, last): TARGET after run number `version`; *last is
 * the newest version seen so far (0: none). */
static void check(const struct run *r, long version, long *last)
{
	size_t size;
	long v = 0;
	enum state state = look(&v, &size);
	int untouched = state == prev_state && same_file(&cur_st, &prev_st) &&
			size == prev_len && !memcmp(file_buf, prev_buf, size);

	prev_state = state;
	prev_st = cur_st;
	memcpy(prev_buf, file_buf, size);
	prev_len = size;
	/* A writer killed before (or as) it opened the file left the target
	 * as it was: a file torn or emptied by an earlier run is counted once,
	 * by that run. */
	if (untouched && (state == EMPTY || state == TORN))
		return;
	switch (state) {
	case ABSENT:
		if (*last) {
			n.vanished++;
			problem("run %ld (%s): %s is gone, after version %ld was seen",
				version, how(r), target, *last);
		} else {
			n.absent++;
		}
		if (r->seen[2]) {
			n.lost++;
			problem("run %ld: its close returned, but %s is absent", version, target);
		}
		return;
	case EMPTY:
		n.empty++;
		problem("run %ld (%s): %s is empty", version, how(r), target);
		return;
	case TORN:
		n.torn++;
		problem("run %ld (%s): %s is torn: %zu bytes, starting \"%.*s\"",
			version, how(r), target, size, (int)strcspn(file_buf, "\n"), file_buf);
		return;
	case UNREADABLE:
		n.errors++;
		return;
	case WHOLE:
		break;
	}
	if (v < *last) {
		n.backwards++;
		problem("run %ld: %s went back from version %ld to %ld", version, target, *last, v);
	} else if (v > version) {
		n.future++;
		problem("run %ld: %s holds version %ld, which no writer has written yet",
			version, target, v);
	} else if (r->seen[2] && v != version) {
		n.lost++;
		problem("run %ld: its close returned, but %s holds version %ld", version, target, v);
	}
	if (v > *last) {
		n.versions++;
		*last = v;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: crash_kill [-n KILLS] [--preload LIB] [--format text|json] "
			"[--seed N] [--expect-no-temps] [--kill-child|--kill-leaf] TARGET WRITER [ARG...]\n");
	exit(64);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kills", required_argument, NULL, 'n' },
		{ "preload", required_argument, NULL, 'P' },
		{ "format", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 's' },
		{ "expect-no-temps", no_argument, NULL, 'T' },
		{ "kill-child", no_argument, NULL, 'C' },
		{ "kill-leaf", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	long kills = 20, max_runs, version, last = 0;
	int opt, expect_no_temps = 0, bad;
	uint64_t seed = (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
	struct run r;
	double start = now();

	while ((opt = getopt_long(argc, argv, "+n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': kills = atol(optarg); break;
		case 'P': preload = optarg; break;
		case 'f':
			if (!strcmp(optarg, "text"))
				format = TEXT;
			else if (!strcmp(optarg, "json"))
				format = JSON;
			else
				usage();
			break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'T': expect_no_temps = 1; break;
		case 'C': kill_child = 1; break;
		case 'L': kill_child = 2; break;
		default: usage();
		}
	}
	if (argc - optind < 2 || kills < 0)
		usage();
	max_runs = 4 * kills + 100;
	target = argv[optind];
	writer_argc = argc - optind - 1 + 2;
	if (!(writer_argv = calloc((size_t)writer_argc + 1, sizeof(char *))) ||
	    !(file_buf = malloc(BUF_MAX)) || !(want_buf = malloc(BUF_MAX)) ||
	    !(prev_buf = malloc(BUF_MAX)))
		die("malloc");
	for (int i = optind + 1; i < argc; i++)
		writer_argv[i - optind - 1] = argv[i];
	writer_argv[writer_argc - 2] = (char *)target;
	rng = seed;
	make_env();

	for (version = 1; n.kills < kills && version <= max_runs; version++) {
		int killed;

		double delay;
		enum aim aim = pick(&delay);

		run_writer(version, aim != BEFORE, delay, &r);
		n.runs++;
		killed = (WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL) ||
			 (kill_child && r.kill_at >= 0 && WIFEXITED(r.status) &&
			  WEXITSTATUS(r.status) == 128 + SIGKILL);
		if (killed) {
			n.kills++;
			*(r.seen[2] ? &n.after_close : r.seen[1] ? &n.in_close
			  : r.seen[0] ? &n.in_writes : &n.before_open) += 1;
		} else {
			n.not_killed++;
			if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
				n.errors++;
				problem("run %ld: the writer failed: status %#x", version, r.status);
			}
		}
		n.finished += r.seen[2];
		check(&r, version, &last);
		learn(&r, aim, killed);
	}

	if (n.kills < kills)
		problem("only %ld kills in %ld runs", n.kills, n.runs), n.errors++;
	n.temps_before_final = count_temps();
	run_writer(version, 0, -1, &r);
	if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0 || !r.seen[2]) {
		n.errors++;
		problem("the final writer failed: status %#x", r.status);
	} else {
		check(&r, version, &last);
	}
	n.temps = count_temps();

	printf("runs=%ld kills=%ld before_open=%ld mid_write=%ld in_writes=%ld in_close=%ld "
	       "after_close=%ld not_killed=%ld finished=%ld absent=%ld empty=%ld torn=%ld "
	       "vanished=%ld backwards=%ld future=%ld lost=%ld errors=%ld versions=%ld "
	       "temps_before_final=%ld temps=%ld\n",
	       n.runs, n.kills, n.before_open, n.in_writes + n.in_close, n.in_writes,
	       n.in_close, n.after_close, n.not_killed, n.finished, n.absent, n.empty,
	       n.torn, n.vanished, n.backwards, n.future, n.lost, n.errors, n.versions,
	       n.temps_before_final, n.temps);
	printf("timing: open_ms=%.3f open_to_close_ms=%.3f open_to_exit_ms=%.3f seconds=%.2f seed=%llu preload=%s\n",
	       est_open.value * 1e3, est_close.value * 1e3, est_exit.value * 1e3, now() - start,
	       (unsigned long long)seed, preload ? preload : "none");
	if (n.temps && expect_no_temps)
		problem("%ld temp files left in the directory of %s after the final writer",
			n.temps, target);
	bad = n.empty || n.torn || n.vanished || n.backwards || n.future || n.lost ||
	      n.errors || (expect_no_temps && n.temps);
	return bad ? 1 : 0;
}
