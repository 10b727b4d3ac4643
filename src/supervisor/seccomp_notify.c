/* seccomp_notify.c - a covered program: its notifications received and handed out, its end. */
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/proc.h"
#include "seccomp_answer.h"
#include "seccomp_call.h"
#include "seccomp_files.h"
#include "seccomp_forks.h"
#include "seccomp_notify.h"
#include "seccomp_pool.h"
#include "seccomp_slots.h"

/* The notification's size: the kernel's may be larger than the
 * headers'. */
static size_t notif_size(void)
{
	static size_t size;
	struct seccomp_notif_sizes sizes = { 0 };

	if (!size) {
		size = sizeof(struct seccomp_notif);
		if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0 &&
		    sizes.seccomp_notif > size)
			size = sizes.seccomp_notif;
	}
	return size;
}

/* A worker's call: served, and no longer in hand. */
static void serve_in_hand(void *ctx, const struct seccomp_notif *req)
{
	struct seccomp_program *p = ctx;

	seccomp_call_serve(p, req);
	atomic_fetch_sub(&p->in_hand, 1);
}

/* The workers, once for every program. */
static void setup_pool(void)
{
	pool_setup(serve_in_hand, notif_size());
}

/* A program of the tree whose filter has no process left: it ended.
 * Its files are committed if it exited (its exit_group was seen, and
 * committed them: only what came after is left) and discarded if a
 * signal killed it; its listener is let go of. */
static void tree_program_gone(struct seccomp_program *p)
{
	pthread_rwlock_wrlock(&p->serving);
	p->stopped = 1;
	p->hung_up = 1;
	if (!p->exited && seccomp_files_count(&p->files) > 0)
		log_info("pid %d ended without exiting (killed by a signal): its files are "
			 "not committed", (int)p->pid);
	seccomp_files_end(&p->files, p->exited);
	forks_end(p);  /* all are gone: those that did not exit are swept */
	close(p->listener);
	p->listener = -1;
	pthread_rwlock_unlock(&p->serving);
}

/* Until no process is left under the filter (the listener hangs up). */
/* Linux 6.6: the program's thread and the supervisor's hand the CPU to
 * each other at a notification and at its answer, instead of waking the
 * other through the scheduler: an unmatched open for writing by a Go
 * program, 37 us covered against 9.5 alone, takes 31 (measured, 10,000
 * opens, 4 runs each).  Older kernels refuse the flag (EINVAL), and
 * older headers lack the names. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* A fork killed by a signal sends nothing: its lock, which the kernel
 * would have let go of at once had it been the fork's own, is the
 * supervisor's until a sweep finds it gone.  So the receiving thread
 * sweeps this often while the program has forks, whether calls come or
 * not. */
#define SWEEP_MS 100

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The forks of PROG swept when SWEEP_MS have passed since *LAST. */
static void sweep_now_and_then(struct seccomp_program *prog, long long *last)
{
	long long now;

	if (!forks_any(prog) || (now = now_ms()) - *last < SWEEP_MS)
		return;
	*last = now;
	forks_sweep(prog);
}

static void *notify_loop(void *arg)
{
	struct seccomp_program *prog = arg;
	size_t size = notif_size();
	struct seccomp_notif *req;
	long long swept = 0;

	if (!(req = malloc(size)))
		return NULL;
	if (ioctl(prog->listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
		log_debug("pid %d: no synchronous wake-up for its calls (Linux < 6.6): %s",
			  (int)prog->pid, strerror(errno));
	for (;;) {
		struct pollfd fds[2] = { { prog->listener, POLLIN, 0 }, { prog->wake, POLLIN, 0 } };
		struct pollfd p;
		int n = poll(fds, 2, forks_any(prog) ? SWEEP_MS : -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (fds[1].revents) {
			uint64_t count;

			if (read(prog->wake, &count, sizeof(count)) < 0) {
				/* nonblocking: nothing to read */
			}
			if (atomic_load(&prog->receiving) < 0)
				break;  /* told to stop (seccomp_notify_quiet) */
			continue;  /* a first fork (seccomp_forks.c woke us): the timeout */
		}
		p = fds[0];
		sweep_now_and_then(prog, &swept);
		if (n == 0)
			continue;
		if (!(p.revents & POLLIN)) {
			if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
				break;
			continue;
		}
		memset(req, 0, size);  /* RECV wants it zeroed */
		if (ioctl(prog->listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;  /* the caller went away first */
			break;
		}
		atomic_fetch_add(&prog->in_hand, 1);
		if (prog->stopped || seccomp_call_at_once(prog, req)) {
			if (prog->stopped)
				answer_continue(prog->listener, req->id);
			atomic_fetch_sub(&prog->in_hand, 1);
		} else if (pool_hand(prog, req) < 0) {
			serve_in_hand(prog, req);  /* with the supervisor's umask */
		}
	}
	free(req);
	if (atomic_load(&prog->receiving) < 0)
		;  /* stopped by seccomp_notify_quiet: the listener is its caller's */
	else if (prog->from_tree)
		tree_program_gone(prog);
	else
		prog->hung_up = 1;
	atomic_store(&prog->receiving, 0);
	return NULL;
}

struct seccomp_program *seccomp_notify_start(int fd, pid_t pid, int watched, int from_tree)
{
	static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
	struct seccomp_program *p = calloc(1, sizeof(*p));
	pthread_rwlockattr_t rw;
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;
	int err;

	if (!p)
		return NULL;
	if ((p->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		free(p);
		return NULL;
	}
	p->receiving = 1;
	p->listener = fd;
	p->pid = pid;
	p->start = proc_start_time(pid);
	p->from_tree = from_tree;
	slots_setup(&p->slots, watched);
	seccomp_table_init(&p->files, &p->slots);
	/* The end must not wait behind a stream of calls. */
	pthread_rwlockattr_init(&rw);
	pthread_rwlockattr_setkind_np(&rw, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&p->serving, &rw);
	pthread_rwlockattr_destroy(&rw);
	pthread_once(&pool_once, setup_pool);
	/* The thread takes no signal (the launcher's forwarding handlers run
	 * on the main thread), nor do the workers it makes (seccomp_pool.h):
	 * they inherit its mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&thread, &attr, notify_loop, p);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		close(p->wake);
		free(p);
		errno = err;
		return NULL;
	}
	return p;
}

void seccomp_notify_quiet(struct seccomp_program *p)
{
	const struct timespec tick = { 0, 1000 * 1000 };
	uint64_t one = 1;
	int expected = 1;

	seccomp_notify_stop(p);
	/* Still receiving: told to stop, and waited for (it answers what it
	 * took first).  Gone already (the listener hung up): nothing to do. */
	if (atomic_compare_exchange_strong(&p->receiving, &expected, -1)) {
		if (write(p->wake, &one, sizeof(one)) < 0) {
			/* an eventfd's write fails only at its maximum */
		}
		while (atomic_load(&p->receiving) != 0)
			nanosleep(&tick, NULL);
	}
	/* The workers answer what they hold: the program is stopped, each
	 * goes on in the kernel. */
	while (atomic_load(&p->in_hand) > 0)
		nanosleep(&tick, NULL);
}

/* Are there processes under P's filter still? */
static int users_left(const struct seccomp_program *p)
{
	struct pollfd pfd = { p->listener, POLLIN, 0 };

	return poll(&pfd, 1, 0) >= 0 && (!(pfd.revents & POLLHUP) || (pfd.revents & POLLIN));
}

/* The lingering process: forked from a process with threads, so nothing
 * but system calls (no malloc, no stdio), the notification on the
 * stack, larger than any the kernel has defined. */
static void linger(int listener)
{
	union {
		struct seccomp_notif req;
		char room[1024];
	} n;

	for (;;) {
		struct pollfd p = { listener, POLLIN, 0 };

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (p.revents & POLLIN) {
			memset(&n, 0, sizeof(n));
			if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n.req) == 0)
				answer_continue(listener, n.req.id);
			else if (errno != EINTR && errno != ENOENT)
				_exit(1);
		} else if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) {
			_exit(0);
		}
	}
}

void seccomp_notify_linger(struct seccomp_program *p)
{
	int listener;
	pid_t pid;

	/* Nothing taken from the listener may be left unanswered: the
	 * lingering process cannot answer what another took. */
	seccomp_notify_quiet(p);
	listener = p->listener;

	if (listener < 0 || !users_left(p))
		return;
	if ((pid = fork()) != 0) {
		if (pid < 0)
			log_warn("the processes the program left running fail their opens for "
				 "writing once atomically exits (ENOSYS): fork: %s", strerror(errno));
		return;
	}
	/* Out of the job's session and group (a terminal's hangup is not
	 * for it), holding nothing of the launcher's but the listener (a
	 * reader of our stdout must not wait for it), with the signals as a
	 * new process has them (the launcher's handlers forward to COMMAND,
	 * which is gone). */
	setsid();
	if (chdir("/") < 0) {
		/* nothing depends on the cwd */
	}
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (listener > 0)
		syscall(SYS_close_range, 0, (unsigned)listener - 1, 0);
	syscall(SYS_close_range, (unsigned)listener + 1, ~0U, 0);
	linger(listener);
}

void seccomp_notify_stop(struct seccomp_program *p)
{
	pthread_rwlock_wrlock(&p->serving);
	p->stopped = 1;
	pthread_rwlock_unlock(&p->serving);
}
