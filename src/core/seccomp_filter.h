/* seccomp_filter.h - the filter a covered program runs under.
 *
 * A program the preload cannot reach (a static binary, a Go program:
 * core/elfcheck.h) gets a seccomp filter in its own process just before
 * its exec, with a user-notification listener: its opens for writing
 * stop in the kernel until the supervisor (seccomp_notify.h) answers.
 * The filter is narrow, so that everything else stays in the kernel at
 * the cost of a few BPF instructions.  Sent to the supervisor:
 *
 *   - open, openat and creat whose flags may write (O_WRONLY, O_RDWR);
 *   - close of a descriptor in the watched range (seccomp_slots.h);
 *   - rename, renameat and renameat2 (a rename onto a matched path is
 *     locked and synced; the filter cannot read the path to tell);
 *   - when READS are watched (a rule's lock is "process" or "session"):
 *     the looks at a name that take such a lock in the library: the
 *     read-only opens, the stat and access families, unlink and
 *     unlinkat;
 *   - when EXITS are watched (a program the supervisor did not start,
 *     whose wait status it cannot have): exit_group and exit, so that
 *     the supervisor learns of a normal end before the process is gone.
 *
 * Every other call, and every call of another ABI (x32, 32-bit), is
 * allowed.  openat2, whose flags are in memory the filter cannot read,
 * is not sent (no libc nor Go's runtime uses it to open files).  */
#ifndef ATOMICALLY_SECCOMP_FILTER_H
#define ATOMICALLY_SECCOMP_FILTER_H

/* The watched range of descriptor numbers: the temps go into the
 * program at numbers of [BASE, BASE + SLOTS_SPAN), and the filter sends
 * the closes of that range alone (supervisor/seccomp_slots.h). */
#define SLOTS_SPAN 128

/* The range's BASE for the soft RLIMIT_NOFILE SOFT (the covered
 * program's, before its exec): just below the lowest of 1024 and SOFT,
 * or 0 when the limit is too low to spare one (then no close is
 * watched: the files are committed at the exit). */
int seccomp_filter_range(unsigned long soft);

/* The calling process's soft RLIMIT_NOFILE, for seccomp_filter_range. */
unsigned long seccomp_filter_soft_limit(void);

/* Install the filter in the calling thread (and the image it execs;
 * inherited by its children); WATCHED: the first number of the watched
 * range, 0 for none; READS: the looks at names are sent too; EXITS:
 * exit_group and exit are sent too.  no_new_privs only when the kernel asks
 * for it (a process without CAP_SYS_ADMIN): as root, the programs it
 * execs keep their set-user-ID.  The listener waits killably where the
 * kernel can (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, Linux 5.19): a
 * signal that only interrupts (Go's SIGURG) does not abort a call the
 * supervisor is serving.  Returns the listener's descriptor, or -1 with
 * errno (ENOSYS: no seccomp; EINVAL: no user notification, Linux < 5.0;
 * EBUSY: another supervisor's filter already has the listener). */
int seccomp_filter_install(int watched, int reads, int exits);

#endif
