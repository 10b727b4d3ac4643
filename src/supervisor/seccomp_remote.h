/* seccomp_remote.h - a covered thread, seen from the supervisor.
 *
 * A notification names the thread (its tid in our pid namespace) and
 * the raw arguments of its call.  What they point to is read here, from
 * /proc/TID, as that thread sees it: its memory (the path), its cwd or
 * the directory behind its dirfd (each thread may have its own, after
 * unshare), its root, its umask.  Nothing read here may be acted on
 * before the caller has checked that the notification is still valid
 * (SECCOMP_IOCTL_NOTIF_ID_VALID): until then the tid may have been
 * reused by another process, and the memory be another's.  The files are
 * opened by the supervisor itself; none is taken from the thread. */
#ifndef ATOMICALLY_SECCOMP_REMOTE_H
#define ATOMICALLY_SECCOMP_REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Is TID a thread of the process PID?  (One stat of /proc/PID/task/TID.) */
int remote_thread_of(pid_t tid, pid_t pid);

/* The process (thread group) of the thread TID, or -1 when it cannot be
 * told (gone).  (The Tgid: line of its status.) */
pid_t remote_tgid(pid_t tid);

/* Does the process PID that started at START (proc_start_time) still
 * run: there, the same process, and not a zombie (a process killed by a
 * signal is one until its parent waits for it) or a zombie leader
 * whose other threads still run? */
int remote_alive(pid_t pid, long long start);

/* How many threads the process PID has (the Threads: line of its
 * status), or -1 when it cannot be read. */
int remote_threads(pid_t pid);

/* From /proc/TID/status: TID's umask (022 where the kernel does not
 * show it, before Linux 4.7), and whether it has the same rights over
 * files as the supervisor's thread: the same user and group ids (all
 * four of each), supplementary groups and effective capabilities.  The
 * supervisor acts for TID only then: with other rights, a file it may
 * write may be one TID may not.  0, or -1 with errno. */
int remote_status(pid_t tid, mode_t *umask, int *same_rights);

/* The NUL-terminated string at ADDR in TID's memory into BUF (SIZE
 * bytes).  0, or -1 with errno (ENAMETOOLONG: no NUL within SIZE;
 * EFAULT: not readable). */
int remote_string(pid_t tid, uint64_t addr, char *buf, size_t size);

/* A descriptor of the directory TID's relative paths start from: its
 * descriptor DIRFD, or its cwd for AT_FDCWD.  O_RDONLY | O_DIRECTORY,
 * close-on-exec; -1 with errno (ENOTDIR: DIRFD is no directory, as the
 * call itself would fail). */
int remote_base(pid_t tid, int dirfd);

/* Does TID resolve paths as we do: our root (no chroot), our mount
 * namespace (the same root inode can hold other mounts after unshare
 * -m), our user namespace (root in another is not our root)?  1 or 0:
 * three stats. */
int remote_same_root(pid_t tid);

#endif
