/* hooks.h - what the entry points of the library (hook_*.c) share.
 *
 * Each hook_*.c interposes one family of libc's calls; each hook is a
 * thin door: it decides in a few instructions whether the call concerns
 * a matched file (flags first, then the rules; close needs only one
 * atomic load) and otherwise makes the real call with errno untouched.
 * The work lives in pending.c, handover.c, tombstone.c and the core.
 * These files, with real.c and sys_real.c, are the only ones that may
 * name the functions the library interposes (core/sys.h).
 */
#ifndef ATOMICALLY_HOOKS_H
#define ATOMICALLY_HOOKS_H

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <utime.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* An entry point of the library: exported, unlike everything else. */
#define EXPORT __attribute__((visibility("default")))

struct pending;

/* The pending file behind descriptor FD, taken out of the table, when
 * this process may act on it (not a vfork child, which shares its
 * parent's memory and must leave the table alone); NULL when there is
 * none.  (hook_fd.c) */
struct pending *take_fd(int fd);

/* Release P after its descriptor was closed with result R (errno as the
 * close left it): R, or -1 with errno when P's commit failed. */
int after_close(struct pending *p, int r);

/* The program closes FD, by libc's close or by the system call itself
 * (syscall(SYS_close), as libuv does): CLOSE_FD closes it for real.  The
 * pending file behind it is released (committed by its last descriptor).
 * (hook_fd.c) */
int hook_close(int fd, int (*close_fd)(int));

/* A look at PATH (relative to DIRFD): a deferred unlink of it carried
 * out, a lock = "process" taken.  0, or -1 with errno when the call must
 * fail.  (hook_name.c) */
int hook_look_at(int dirfd, const char *path);

/* A process is about to be made from this one, or a child was reaped
 * (PID > 0): a pending file a child may hold is marked, or settled.
 * (hook_process.c) */
void hook_before_child(void);
void hook_reaped(pid_t pid);

/* The program maps FD with FLAGS, or unmapped something (hook_map.c);
 * it flocked FD with OP, successfully (hook_fd.c). */
void hook_mapping(int fd, int flags);
void hook_unmapped(void);
void hook_flocked(int fd, int op);

/* A write to FD returned R (-1: errno says why).  (hook_write.c) */
void hook_wrote(int fd, long r);
/* FD is about to be written below its end or cut (hook_write.c): an
 * append's hole is filled first.  Keeps errno. */
void hook_before_overwrite(int fd);
/* pwritev2's RWF_NOAPPEND (Linux 6.9: a write at its offset in spite of
 * O_APPEND), which older headers lack. */
#define HOOK_RWF_NOAPPEND 0x00000020

/* The entry points under names of the library's own, for syscall(),
 * which makes the same calls by number (hook_syscall.c): called straight,
 * not through the PLT, where another preload could come in between.
 * Each file of hooks defines its own with HOOK_ALIAS. */
#define HOOK_ALIAS(name)                                                      \
	extern __typeof__(name) hook_##name                                   \
		__attribute__((copy(name), alias(#name), visibility("hidden")))
#define HOOK_NAME(name) \
	extern __typeof__(name) hook_##name __attribute__((copy(name), visibility("hidden")))
HOOK_NAME(open);
HOOK_NAME(openat);
HOOK_NAME(creat);
HOOK_NAME(close_range);
HOOK_NAME(dup);
HOOK_NAME(dup2);
HOOK_NAME(dup3);
HOOK_NAME(fcntl);
HOOK_NAME(rename);
HOOK_NAME(renameat);
HOOK_NAME(renameat2);
HOOK_NAME(unlink);
HOOK_NAME(unlinkat);
HOOK_NAME(rmdir);
HOOK_NAME(mkdir);
HOOK_NAME(mkdirat);
HOOK_NAME(link);
HOOK_NAME(linkat);
HOOK_NAME(symlink);
HOOK_NAME(symlinkat);
HOOK_NAME(stat);
HOOK_NAME(lstat);
HOOK_NAME(fstat);
HOOK_NAME(fstatat);
HOOK_NAME(statx);
HOOK_NAME(access);
HOOK_NAME(faccessat);
HOOK_NAME(chmod);
HOOK_NAME(fchmodat);
HOOK_NAME(chown);
HOOK_NAME(lchown);
HOOK_NAME(fchownat);
HOOK_NAME(utime);
HOOK_NAME(utimes);
HOOK_NAME(futimesat);
HOOK_NAME(utimensat);
HOOK_NAME(truncate);
HOOK_NAME(fsync);
HOOK_NAME(fdatasync);
HOOK_NAME(execve);
HOOK_NAME(_exit);


#endif
