/* proc_threads.c - many threads writing matched files at once, for
 * bats/processes.bats.
 *
 *   proc_threads write THREADS ITERS METHODS
 *   proc_threads fork  THREADS ITERS METHODS FORKS
 *   proc_threads reuse PAIRS ITERS
 *
 * Files are written in the current directory.  Every version of a file
 * is self-describing ("v T I LEN\n", LEN bytes of a pattern, "\n"), so
 * that a reader can tell a whole version from a torn or mixed one.
 *
 * write: THREADS threads each write ITERS versions, alternately of a file
 *   of their own (oT.json) and of one of three files shared by all
 *   threads (sN.json).  Thread T uses the method METHODS[T % strlen]:
 *     0  open, write in three pieces, close
 *     1  open, dup, write through both, close the original, then the dup
 *     2  dup2 onto a number the thread holds (/dev/null), close both
 *     3  fopen, fprintf (buffered), fclose
 *     4  write the own file, then the shared one, then dup2 the shared
 *        one's descriptor over the own one's (which commits it), close
 *   After each close of its own file a thread reads it back: it must be
 *   exactly the version just written (the close committed it).  Threads
 *   that write one shared file take turns with it (a mutex per file, from
 *   the open to the close), as a program must: a second open of a path a
 *   process is writing shares its pending file (one content, as without
 *   the library), so versions written into it at once would mix, as they
 *   would unwrapped.  A reader
 *   thread reads every file over and over meanwhile; every read must be
 *   one whole version.  All these reads are of the file on disk, as
 *   another process sees it (see slurp).
 * fork: as write, and meanwhile the main thread forks FORKS children one
 *   after the other; each opens, writes and closes a file of its own
 *   (cK.json), reads it back and _exit(0)s; the parent reaps it and
 *   checks it later too (the child committed it).
 * reuse: PAIRS pairs of threads: one writes matched files (rK.json) and
 *   closes them, the other opens, writes and closes an unmatched file of
 *   its own (uK.txt) at once, so that it often gets the number the first
 *   just closed.  Each rK.json must be the version just written after its
 *   close; each uK.txt is left whole; a reader thread reads the rK.json
 *   meanwhile, as in write.  Also prints "reused=N": how often
 *   an unmatched open got a number a matched file's thread had used.
 *
 * append: THREADS threads each do ITERS cycles of open log.json for
 *   appending (O_WRONLY|O_APPEND), write one line "T I", close: every
 *   line must be in the log once in the end (as without the library:
 *   O_APPEND writes never overwrite each other).  Prints "lines=N
 *   missing=M extra=X" and exits 0 only when M and X are 0.
 *
 * Prints "versions=N reads=R torn=T bad=B errors=E" (and "children=C
 * child_failures=F" for fork) and exits 0 only when T, B, E (and F) are 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "raw_syscall.h"

#define MAXLEN 8192
#define NSHARED 3

static atomic_long versions, reads, torn, bad, errors;
/* fork: children are being forked, which inherit the writers' files. */
static atomic_int forking;
static atomic_int writers_done;
static const char *methods = "0";
static int nthreads, iters;

/* Report at most a few problems: the counts tell the rest. */
static atomic_int reported;
#define report(...)                                                          \
	do {                                                                  \
		if (atomic_fetch_add(&reported, 1) < 20)                      \
			fprintf(stderr, __VA_ARGS__);                         \
	} while (0)

/* ---- versions ---- */

static size_t make_version(char *buf, int t, int i)
{
	size_t len = 64 + (size_t)((t * 131 + i * 977) % 6000);
	int n = snprintf(buf, 64, "v %d %d %zu\n", t, i, len);

	for (size_t k = 0; k < len; k++)
		buf[(size_t)n + k] = (char)('a' + (size_t)(t * 7 + i + (int)k) % 26);
	buf[(size_t)n + len] = '\n';
	return (size_t)n + len + 1;
}

/* Is BUF (LEN bytes) one whole version?  Its T and I in *T, *I. */
static int whole_version(const char *buf, size_t len, int *t, int *i)
{
	char want[MAXLEN];
	char head[64];
	size_t n = len < sizeof(head) - 1 ? len : sizeof(head) - 1;

	memcpy(head, buf, n);
	head[n] = '\0';
	if (sscanf(head, "v %d %d", t, i) != 2 || *t < 0 || *i < 0)
		return 0;
	return make_version(want, *t, *i) == len && memcmp(want, buf, len) == 0;
}

/* PATH's content on disk, as another process reads it: opened, read and
 * closed with raw system calls (raw_syscall.h), which no preload sees
 * (nor ThreadSanitizer, which, seeing the read but not the close, would
 * take another thread's later use of the number for a race). Through
 * open() the library would hand this process its own pending content
 * (read-your-writes): a torn version being written by another thread, or
 * a version that a close failed to commit. */
static ssize_t slurp(const char *path, char *buf, size_t size)
{
	int fd = raw_open(path);
	ssize_t len = 0, n;

	if (fd < 0)
		return -1;
	while ((size_t)len < size && (n = raw_read(fd, buf + len, size - (size_t)len)) > 0)
		len += n;
	raw_close(fd);
	return len;
}

/* PATH must hold exactly the version (T, I). */
static void expect_version(const char *path, int t, int i)
{
	char got[MAXLEN], want[MAXLEN];
	ssize_t n = slurp(path, got, sizeof(got));
	size_t w = make_version(want, t, i);

	if (n != (ssize_t)w || memcmp(got, want, w) != 0) {
		report("%s: not the version %d/%d just closed (%zd bytes)\n", path, t, i, n);
		atomic_fetch_add(&bad, 1);
	}
}

/* PATH, written as the version (T, I) and closed, must hold it; but not
 * at once while children are forked: a child forked while the file was
 * open holds a descriptor of it until it exits, and the file stays
 * pending until then (SPEC: as the kernel keeps a file open until its
 * last holder closes it), with the versions written meanwhile.  Then the
 * last version is checked at the end (fork_mode), and the reader thread
 * checks that every read is one whole version. */
static void expect_closed(const char *path, int t, int i)
{
	if (!atomic_load(&forking))
		expect_version(path, t, i);
}

/* ---- ways of writing ---- */

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

#define FAIL(what, path)                                                     \
	do {                                                                  \
		report("%s %s: %s\n", what, path, strerror(errno));           \
		atomic_fetch_add(&errors, 1);                                 \
		return -1;                                                    \
	} while (0)

static int open_w(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
}

/* Write BUF into PATH in three pieces through FD (and FD2 for the last). */
static int pieces(int fd, int fd2, const char *buf, size_t len)
{
	size_t a = len / 3, b = 2 * len / 3;

	if (write_all(fd, buf, a) < 0)
		return -1;
	sched_yield();
	if (write_all(fd, buf + a, b - a) < 0)
		return -1;
	sched_yield();
	return write_all(fd2, buf + b, len - b);
}

static int write_plain(const char *path, const char *buf, size_t len)
{
	int fd = open_w(path);

	if (fd < 0)
		FAIL("open", path);
	if (pieces(fd, fd, buf, len) < 0) {
		close(fd);
		FAIL("write", path);
	}
	if (close(fd) < 0)
		FAIL("close", path);
	return 0;
}

static int write_dup(const char *path, const char *buf, size_t len)
{
	int fd = open_w(path), d;

	if (fd < 0)
		FAIL("open", path);
	if ((d = dup(fd)) < 0)
		FAIL("dup", path);
	if (pieces(fd, d, buf, len) < 0)
		FAIL("write", path);
	if (close(fd) < 0)
		FAIL("close", path);
	if (close(d) < 0)
		FAIL("close of the dup", path);
	return 0;
}

static int write_dup2(const char *path, const char *buf, size_t len)
{
	int ph = open("/dev/null", O_WRONLY), fd;

	if (ph < 0)
		FAIL("open", "/dev/null");
	if ((fd = open_w(path)) < 0)
		FAIL("open", path);
	if (dup2(fd, ph) != ph)
		FAIL("dup2", path);
	if (close(fd) < 0)
		FAIL("close", path);
	if (pieces(ph, ph, buf, len) < 0)
		FAIL("write", path);
	if (close(ph) < 0)
		FAIL("close of the dup2", path);
	return 0;
}

static int write_stdio(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");
	size_t a = len / 2;

	if (!f)
		FAIL("fopen", path);
	if (fprintf(f, "%.*s", (int)a, buf) < 0 || fprintf(f, "%.*s", (int)(len - a), buf + a) < 0)
		FAIL("fprintf", path);
	if (fclose(f) != 0)
		FAIL("fclose", path);
	return 0;
}

/* OWN gets OBUF, SHARED gets SBUF; SHARED's descriptor is dup2()ed over
 * OWN's, which commits OWN. */
static int write_dup2_over(const char *own, const char *obuf, size_t olen,
			   const char *shared, const char *sbuf, size_t slen)
{
	int fo = open_w(own), fs;

	if (fo < 0)
		FAIL("open", own);
	if (write_all(fo, obuf, olen) < 0)
		FAIL("write", own);
	if ((fs = open_w(shared)) < 0)
		FAIL("open", shared);
	if (write_all(fs, sbuf, slen) < 0)
		FAIL("write", shared);
	if (dup2(fs, fo) != fo)
		FAIL("dup2 over", own);
	if (close(fs) < 0)
		FAIL("close", shared);
	if (close(fo) < 0)
		FAIL("close of the dup2", shared);
	return 0;
}

static int write_by(int method, const char *path, const char *buf, size_t len)
{
	switch (method) {
	case 1:
		return write_dup(path, buf, len);
	case 2:
		return write_dup2(path, buf, len);
	case 3:
		return write_stdio(path, buf, len);
	default:
		return write_plain(path, buf, len);
	}
}

/* ---- threads ---- */

/* One writer at a time of each shared file. */
static pthread_mutex_t shared_turn[NSHARED] = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
};

static void *writer(void *arg)
{
	int t = (int)(long)arg;
	int method = methods[t % (int)strlen(methods)] - '0';
	char own[32], shared[32], buf[MAXLEN], sbuf[MAXLEN];

	snprintf(own, sizeof(own), "o%d.json", t);
	for (int i = 0; i < iters; i++) {
		size_t len = make_version(buf, t, i);
		snprintf(shared, sizeof(shared), "s%d.json", (t + i) % NSHARED);
		pthread_mutex_t *turn = &shared_turn[(t + i) % NSHARED];
		int r;

		if (method == 4) {
			size_t slen = make_version(sbuf, t, i + 1000000);
			pthread_mutex_lock(turn);
			r = write_dup2_over(own, buf, len, shared, sbuf, slen);
			pthread_mutex_unlock(turn);
			if (r == 0) {
				atomic_fetch_add(&versions, 2);
				expect_closed(own, t, i);
			}
		} else if (i % 2 == 0) {
			if (write_by(method, own, buf, len) == 0) {
				atomic_fetch_add(&versions, 1);
				expect_closed(own, t, i);
			}
		} else {
			pthread_mutex_lock(turn);
			r = write_by(method, shared, buf, len);
			pthread_mutex_unlock(turn);
			if (r == 0)
				atomic_fetch_add(&versions, 1);
		}
	}
	return NULL;
}

/* Read NAMES over and over until the writers are done. */
static void check_file(const char *path)
{
	char buf[MAXLEN];
	int t, i;
	ssize_t n = slurp(path, buf, sizeof(buf));

	atomic_fetch_add(&reads, 1);
	if (n < 0 || !whole_version(buf, (size_t)n, &t, &i)) {
		report("%s: torn read (%zd bytes)\n", path, n);
		atomic_fetch_add(&torn, 1);
	}
}

static int nfiles;
static char files[64][32];

static void *reader(void *arg)
{
	(void)arg;
	do {
		for (int k = 0; k < nfiles; k++)
			check_file(files[k]);
	} while (!atomic_load(&writers_done));
	return NULL;
}

static void add_file(const char *path)
{
	if (nfiles < 64)
		snprintf(files[nfiles++], sizeof(files[0]), "%s", path);
}

/* Every file exists as a whole version before the threads start, so that
 * a reader never has an excuse. */
static void initial_files(void)
{
	char path[32], buf[MAXLEN];

	for (int t = 0; t < nthreads && t < 60; t++) {
		snprintf(path, sizeof(path), "o%d.json", t);
		write_plain(path, buf, make_version(buf, t, 999999));
		add_file(path);
	}
	for (int s = 0; s < NSHARED; s++) {
		snprintf(path, sizeof(path), "s%d.json", s);
		write_plain(path, buf, make_version(buf, 500 + s, 999999));
		add_file(path);
	}
}

static void run_threads(pthread_t *th, pthread_t *rd)
{
	for (int t = 0; t < nthreads; t++)
		if (pthread_create(&th[t], NULL, writer, (void *)(long)t) != 0) {
			perror("pthread_create");
			exit(70);
		}
	if (pthread_create(rd, NULL, reader, NULL) != 0) {
		perror("pthread_create");
		exit(70);
	}
}

static void join_threads(pthread_t *th, pthread_t *rd)
{
	for (int t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	atomic_store(&writers_done, 1);
	pthread_join(*rd, NULL);
}

/* ---- fork ---- */

/* A child writes a file of its own, reads it back and _exit()s. */
static void child(int k)
{
	char path[32], buf[MAXLEN];
	long bad0 = atomic_load(&bad);

	snprintf(path, sizeof(path), "c%d.json", k);
	if (write_plain(path, buf, make_version(buf, 1000 + k, 0)) < 0)
		_exit(1);
	expect_version(path, 1000 + k, 0);
	_exit(atomic_load(&bad) != bad0);
}

static int fork_mode(int forks)
{
	pthread_t th[64], rd;
	int child_failures = 0, children = 0;
	char path[32];

	atomic_store(&forking, 1);
	run_threads(th, &rd);
	for (int k = 0; k < forks; k++) {
		int st;
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			atomic_fetch_add(&errors, 1);
			break;
		}
		if (pid == 0)
			child(k);
		children++;
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			report("child %d failed (status %d)\n", k, st);
			child_failures++;
		}
	}
	join_threads(th, &rd);
	for (int k = 0; k < children; k++) {
		snprintf(path, sizeof(path), "c%d.json", k);
		expect_version(path, 1000 + k, 0);
	}
	/* Every child is reaped: each writer's own file holds its last
	 * version (written at every step by method 4, at the even ones by
	 * the others). */
	for (int t = 0; t < nthreads && iters > 0; t++) {
		int four = methods[t % (int)strlen(methods)] == '4';
		snprintf(path, sizeof(path), "o%d.json", t);
		expect_version(path, t, four ? iters - 1 : (iters - 1) & ~1);
	}
	printf("children=%d child_failures=%d\n", children, child_failures);
	return child_failures;
}

/* ---- descriptor numbers reused between threads ---- */

/* The number each matched file's thread closed last, and how often an
 * unmatched open got a number a matched close had just freed. */
static atomic_int last_matched_fd[32];
static atomic_long reused;

static void *reuse_matched(void *arg)
{
	int k = (int)(long)arg;
	char path[32], buf[MAXLEN];

	snprintf(path, sizeof(path), "r%d.json", k);
	for (int i = 0; i < iters; i++) {
		size_t len = make_version(buf, k, i);
		int fd = open_w(path);
		if (fd >= 0)
			atomic_store(&last_matched_fd[k], fd);
		if (fd < 0 || write_all(fd, buf, len) < 0 || close(fd) < 0) {
			report("%s: %s\n", path, strerror(errno));
			atomic_fetch_add(&errors, 1);
			continue;
		}
		atomic_fetch_add(&versions, 1);
		expect_version(path, k, i);
	}
	return NULL;
}

static void *reuse_unmatched(void *arg)
{
	int k = (int)(long)arg;
	char path[32], buf[MAXLEN];
	size_t len = make_version(buf, 3000 + k, 0);

	snprintf(path, sizeof(path), "u%d.txt", k);
	while (!atomic_load(&writers_done)) {
		int fd = open_w(path);
		for (int m = 0; m < 32 && fd >= 0; m++)
			if (atomic_load(&last_matched_fd[m]) == fd) {
				atomic_fetch_add(&reused, 1);
				break;
			}
		if (fd < 0 || write_all(fd, buf, len) < 0 || close(fd) < 0) {
			report("%s: %s\n", path, strerror(errno));
			atomic_fetch_add(&errors, 1);
		}
	}
	expect_version(path, 3000 + k, 0);
	return NULL;
}

static int reuse_mode(int pairs)
{
	pthread_t m[32], u[32], rd;

	if (pairs > 32)
		return 64;
	for (int k = 0; k < 32; k++)
		atomic_store(&last_matched_fd[k], -1);
	for (int k = 0; k < pairs; k++) {
		char path[32], buf[MAXLEN];
		snprintf(path, sizeof(path), "r%d.json", k);
		write_plain(path, buf, make_version(buf, k, 999999));
		add_file(path);
	}
	pthread_create(&rd, NULL, reader, NULL);
	for (int k = 0; k < pairs; k++) {
		pthread_create(&m[k], NULL, reuse_matched, (void *)(long)k);
		pthread_create(&u[k], NULL, reuse_unmatched, (void *)(long)k);
	}
	for (int k = 0; k < pairs; k++)
		pthread_join(m[k], NULL);
	atomic_store(&writers_done, 1);
	for (int k = 0; k < pairs; k++)
		pthread_join(u[k], NULL);
	pthread_join(rd, NULL);
	printf("reused=%ld\n", atomic_load(&reused));
	return 0;
}

/* ---- append: open, append one line, close, in every thread ---- */

static void *appender(void *arg)
{
	int t = (int)(long)arg;
	char line[64];

	for (int i = 0; i < iters; i++) {
		int fd = open("log.json", O_WRONLY | O_APPEND), n;
		if (fd < 0) {
			report("open log.json: %s\n", strerror(errno));
			atomic_fetch_add(&errors, 1);
			continue;
		}
		n = snprintf(line, sizeof(line), "%d %d\n", t, i);
		if (write_all(fd, line, (size_t)n) < 0 || close(fd) < 0)
			atomic_fetch_add(&errors, 1);
	}
	return NULL;
}

/* Count the lines of log.json against what THREADS x ITERS wrote. */
static int check_log(void)
{
	FILE *f = fopen("log.json", "r");
	char *seen = calloc((size_t)nthreads * (size_t)iters, 1);
	long lines = 0, missing = 0, extra = 0;
	int t, i;

	if (!f || !seen)
		return 1;
	while (fscanf(f, "%d %d\n", &t, &i) == 2) {
		lines++;
		if (t < 0 || t >= nthreads || i < 0 || i >= iters || seen[t * iters + i]++)
			extra++;
	}
	fclose(f);
	for (long k = 0; k < (long)nthreads * iters; k++)
		missing += !seen[k];
	free(seen);
	printf("lines=%ld missing=%ld extra=%ld errors=%ld\n", lines, missing, extra,
	       atomic_load(&errors));
	return missing || extra || atomic_load(&errors);
}

static int append_mode(void)
{
	pthread_t th[64];

	for (int t = 0; t < nthreads; t++)
		pthread_create(&th[t], NULL, appender, (void *)(long)t);
	for (int t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	return check_log();
}

int main(int argc, char **argv)
{
	pthread_t th[64], rd;
	int r = 0;

	if (argc >= 5 && !strcmp(argv[1], "write")) {
		nthreads = atoi(argv[2]);
		iters = atoi(argv[3]);
		methods = argv[4];
		if (nthreads < 1 || nthreads > 64 || !*methods)
			return 64;
		initial_files();
		run_threads(th, &rd);
		join_threads(th, &rd);
	} else if (argc >= 6 && !strcmp(argv[1], "fork")) {
		nthreads = atoi(argv[2]);
		iters = atoi(argv[3]);
		methods = argv[4];
		if (nthreads < 1 || nthreads > 64 || !*methods)
			return 64;
		initial_files();
		r = fork_mode(atoi(argv[5]));
	} else if (argc >= 4 && !strcmp(argv[1], "append")) {
		nthreads = atoi(argv[2]);
		iters = atoi(argv[3]);
		if (nthreads < 1 || nthreads > 64 || iters < 1)
			return 64;
		return append_mode();
	} else if (argc >= 4 && !strcmp(argv[1], "reuse")) {
		iters = atoi(argv[3]);
		r = reuse_mode(atoi(argv[2]));
	} else {
		fprintf(stderr, "usage: proc_threads write|fork|append|reuse ...\n");
		return 64;
	}
	/* The final content of every file is a whole version. */
	for (int k = 0; k < nfiles; k++)
		check_file(files[k]);
	printf("versions=%ld reads=%ld torn=%ld bad=%ld errors=%ld\n", atomic_load(&versions),
	       atomic_load(&reads), atomic_load(&torn), atomic_load(&bad), atomic_load(&errors));
	return r || atomic_load(&torn) || atomic_load(&bad) || atomic_load(&errors) ? 1 : 0;
}
