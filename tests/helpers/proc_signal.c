/* proc_signal.c - close() called from a signal handler while the program
 * writes matched files, for bats/processes.bats.
 *
 *   proc_signal MS USEC
 *   proc_signal once
 *
 * For MS milliseconds the main thread writes m0.json .. m3.json in a loop
 * (open, write in pieces, close), and keeps h.json open for the handler:
 * whenever the handler has closed it, the main thread opens it again,
 * writes the next version into it and hands the descriptor over.  A timer
 * (setitimer, SIGALRM every USEC microseconds) runs a handler that closes
 * that descriptor: the close commits h.json, from inside the handler,
 * whatever the main thread is doing at that moment (often: in the library,
 * opening or committing m*.json).  When the main thread sees the handler
 * closed version V, h.json must hold V (the close committed it).  A reader
 * thread (SIGALRM blocked) reads every file over and over meanwhile; each
 * read must be one whole version.  All these reads are of the file on
 * disk, as another process sees it (see slurp).
 *
 * Prints "loops=N handler_closes=C reads=R torn=T bad=B errors=E" and
 * exits 0 only when T, B and E are 0 and the handler closed at least once.
 *
 * once: the same, one step at a time, for a signal sent at a chosen
 * moment from outside (strace -e inject=SYSCALL:signal=SIGALRM): h.json
 * is opened and written (version 1) for the handler, then m0.json is
 * written and closed (its commit makes the system calls that strace can
 * turn into the signal); then h.json must hold version 1 if the handler
 * ran.  Prints "handler_closes=C h.json=committed|not-committed".
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
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "raw_syscall.h"

#define MAXLEN 8192
#define NFILES 5

static const char *const files[NFILES] = { "m0.json", "m1.json", "m2.json", "m3.json", "h.json" };
static atomic_long reads, torn, bad, errors;
static atomic_int done;

static int reported;
#define report(...)                                                          \
	do {                                                                  \
		if (reported++ < 20)                                          \
			fprintf(stderr, __VA_ARGS__);                         \
	} while (0)

static size_t make_version(char *buf, int t, int i)
{
	size_t len = 64 + (size_t)((t * 131 + i * 977) % 6000);
	int n = snprintf(buf, 64, "v %d %d %zu\n", t, i, len);

	for (size_t k = 0; k < len; k++)
		buf[(size_t)n + k] = (char)('a' + (size_t)(t * 7 + i + (int)k) % 26);
	buf[(size_t)n + len] = '\n';
	return (size_t)n + len + 1;
}

static int whole_version(const char *buf, size_t len)
{
	char want[MAXLEN], head[64];
	size_t n = len < sizeof(head) - 1 ? len : sizeof(head) - 1;
	int t, i;

	memcpy(head, buf, n);
	head[n] = '\0';
	if (sscanf(head, "v %d %d", &t, &i) != 2 || t < 0 || i < 0)
		return 0;
	return make_version(want, t, i) == len && memcmp(want, buf, len) == 0;
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

/* ---- the handler's file ---- */

static volatile sig_atomic_t hfd = -1;      /* the descriptor the handler closes */
static volatile sig_atomic_t hclosed = -1;  /* the version it closed last */
static volatile sig_atomic_t hversion = -1; /* the version in hfd */
static volatile sig_atomic_t hfailed;
static atomic_long handler_closes;

static void on_alarm(int sig)
{
	int saved = errno, fd = hfd;

	(void)sig;
	if (fd >= 0) {
		hfd = -1;
		if (close(fd) < 0)
			hfailed = 1;
		hclosed = hversion;
		atomic_fetch_add(&handler_closes, 1);
	}
	errno = saved;
}

/* ---- the reader ---- */

static void *reader(void *arg)
{
	char buf[MAXLEN];
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (!atomic_load(&done)) {
		for (int k = 0; k < NFILES; k++) {
			ssize_t n = slurp(files[k], buf, sizeof(buf));
			atomic_fetch_add(&reads, 1);
			if (n < 0 || !whole_version(buf, (size_t)n)) {
				atomic_fetch_add(&torn, 1);
			}
		}
	}
	return NULL;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Write version (T, I) into PATH: open, three pieces, close. */
static int write_file(const char *path, int t, int i)
{
	char buf[MAXLEN];
	size_t len = make_version(buf, t, i), a = len / 3;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0) {
		report("open %s: %s\n", path, strerror(errno));
		errors++;
		return -1;
	}
	if (write_all(fd, buf, a) < 0 || (sched_yield(), write_all(fd, buf + a, len - a)) < 0) {
		report("write %s: %s\n", path, strerror(errno));
		errors++;
	}
	if (close(fd) < 0) {
		report("close %s: %s\n", path, strerror(errno));
		errors++;
		return -1;
	}
	return 0;
}

/* H.json must hold version (4, V). */
static void expect_h(int v)
{
	char got[MAXLEN], want[MAXLEN];
	ssize_t n = slurp("h.json", got, sizeof(got));
	size_t w = make_version(want, 4, v);

	if (n != (ssize_t)w || memcmp(got, want, w) != 0) {
		report("h.json: not the version %d the handler closed (%zd bytes)\n", v, n);
		bad++;
	}
}

static int once(void)
{
	struct sigaction sa;
	char buf[MAXLEN], got[MAXLEN];
	size_t len;
	ssize_t n;
	int fd;

	write_file("h.json", 4, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	len = make_version(buf, 4, 1);
	fd = open("h.json", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write_all(fd, buf, len) < 0) {
		perror("h.json");
		return 1;
	}
	hversion = 1;
	hfd = fd;
	if (write_file("m0.json", 0, 1) < 0)
		return 1;
	n = slurp("h.json", got, sizeof(got));
	printf("handler_closes=%ld h.json=%s\n", atomic_load(&handler_closes),
	       n == (ssize_t)len && memcmp(got, buf, len) == 0 ? "committed" : "not-committed");
	if (hfd >= 0)
		close(hfd);
	return hfailed || errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 0 }, { 0, 0 } };
	pthread_t rd;
	double end;
	long loops = 0;
	int next = 0, checked = -1;

	if (argc == 2 && !strcmp(argv[1], "once"))
		return once();
	if (argc != 3)
		return 64;
	for (int k = 0; k < NFILES; k++)
		write_file(files[k], k, 0);
	next = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	/* The reader starts with SIGALRM blocked, so that the handler always
	 * interrupts the main thread, which hands it hfd: run in the reader,
	 * it would read hfd with nothing ordering that read after the main
	 * thread's store (ThreadSanitizer found it). */
	sigset_t alarm_set;
	sigemptyset(&alarm_set);
	sigaddset(&alarm_set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alarm_set, NULL);
	if (pthread_create(&rd, NULL, reader, NULL) != 0)
		return 70;
	pthread_sigmask(SIG_UNBLOCK, &alarm_set, NULL);
	it.it_interval.tv_usec = it.it_value.tv_usec = atol(argv[2]);
	setitimer(ITIMER_REAL, &it, NULL);

	end = now_ms() + atof(argv[1]);
	while (now_ms() < end) {
		for (int k = 0; k < 4; k++)
			write_file(files[k], k, (int)loops + 1);
		loops++;
		if (hfd < 0) {
			/* The handler closed the last one: it is committed. */
			if (hclosed >= 0 && hclosed != checked) {
				expect_h(hclosed);
				checked = hclosed;
			}
			char buf[MAXLEN];
			size_t len = make_version(buf, 4, next);
			int fd = open("h.json", O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0 || write_all(fd, buf, len) < 0) {
				report("h.json: %s\n", strerror(errno));
				errors++;
			} else {
				hversion = next++;
				hfd = fd;  /* now the handler may close it */
			}
		}
	}

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	signal(SIGALRM, SIG_IGN);
	if (hfd >= 0) {
		int fd = hfd;
		hfd = -1;
		if (close(fd) < 0)
			hfailed = 1;
		hclosed = hversion;
	}
	if (hclosed >= 0)
		expect_h(hclosed);
	atomic_store(&done, 1);
	pthread_join(rd, NULL);
	if (hfailed) {
		report("a close in the handler failed\n");
		errors++;
	}
	printf("loops=%ld handler_closes=%ld reads=%ld torn=%ld bad=%ld errors=%ld\n", loops,
	       atomic_load(&handler_closes), atomic_load(&reads), atomic_load(&torn),
	       atomic_load(&bad), atomic_load(&errors));
	return torn || bad || errors || atomic_load(&handler_closes) == 0 ? 1 : 0;
}
