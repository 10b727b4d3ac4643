/* hook_process.c - processes: fork (the child owns nothing), posix_spawn,
 * the exec family (pending files handed over, handover.h), and every way
 * out (exit, _exit, a return from main: what is still open is committed,
 * and a failed commit turns status 0 into failure_exit_code). */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/lock.h"
#include "cover.h"
#include "fdtable.h"
#include "handover.h"
#include "held.h"
#include "hooks.h"
#include "pending.h"
#include "real.h"
#include "session.h"
#include "state.h"
#include "tombstone.h"

/* The status this process exits with, once exit() is called (a return
 * from main is turned into a call of exit, see __libc_start_main); -1
 * before. */
static int exit_status = -1;

/* ---- processes ---- */

/* Before a new process is made from this one: a deferred unlink is done
 * before the child can look for the file, and the pending files it will
 * inherit are marked, so that their last close here can tell whether
 * the child still holds them (held.h). */
void hook_before_child(void)
{
	if (lib_should_act() && getpid() == lib.pid) {
		tombstone_flush();
		held_mark_all();
	}
}

EXPORT pid_t fork(void)
{
	pid_t pid;

	hook_before_child();
	pid = real.fork();
	if (pid == 0) {
		lib_after_fork_child();
		fdtable_after_fork_child();
		pending_after_fork_child();
		lock_forget_all();
		session_after_fork();
		tombstone_forget();
		/* The parent's failures and exit are the parent's. */
		atomic_store(&pending_failures, 0);
		exit_status = -1;
	}
	return pid;
}

/* vfork cannot be wrapped by a function of C: the child returns from
 * vfork on its parent's stack, and a frame of ours there would be gone
 * (and overwritten) when the parent returns through it.  So a few
 * instructions call before_vfork() and then jump to the real vfork with
 * the stack as the program left it.  Elsewhere vfork is not interposed,
 * and its children are not marked. */
void *atomically_before_vfork(void) __attribute__((visibility("hidden"), used));

void *atomically_before_vfork(void)
{
	static _Atomic(void *) real_vfork;
	void *f = atomic_load_explicit(&real_vfork, memory_order_relaxed);

	if (!f) {
		f = real_next("vfork");  /* one before us (ASan's) called us */
		atomic_store_explicit(&real_vfork, f, memory_order_relaxed);
	}
	hook_before_child();
	return f;
}

#if defined(__x86_64__)
__asm__(".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"	endbr64\n"
	"	sub $8, %rsp\n"
	"	call atomically_before_vfork\n"
	"	add $8, %rsp\n"
	"	jmp *%rax\n"
	".size vfork, .-vfork\n");
#elif defined(__aarch64__)
__asm__(".text\n"
	".globl vfork\n"
	".type vfork, %function\n"
	"vfork:\n"
	"	stp x29, x30, [sp, #-16]!\n"
	"	mov x29, sp\n"
	"	bl atomically_before_vfork\n"
	"	ldp x29, x30, [sp], #16\n"
	"	br x0\n"
	".size vfork, .-vfork\n");
#endif

/* posix_spawn starts a process that is not the owner of anything, but
 * inherits descriptors; system and popen, which glibc builds on its own
 * spawn (past these hooks), too. */
EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	hook_before_child();
	return real.posix_spawn(pid, path, fa, attr, argv, envp);
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	hook_before_child();
	return real.posix_spawnp(pid, file, fa, attr, argv, envp);
}

EXPORT int system(const char *command)
{
	hook_before_child();
	return real.system(command);
}

EXPORT FILE *popen(const char *command, const char *mode)
{
	hook_before_child();
	return real.popen(command, mode);
}

/* pclose reaps its child inside libc, past the wait hooks below. */
EXPORT int pclose(FILE *stream)
{
	int r = real.pclose(stream);

	hook_reaped(1);
	return r;
}

/* ---- waiting for a child ---- */

/* A child was reaped: a file held back for it may be free now. */
void hook_reaped(pid_t pid)
{
	if (pid > 0 && lib_active())
		pending_settle_held();
}

EXPORT pid_t wait(int *status)
{
	pid_t pid = real.wait(status);

	hook_reaped(pid);
	return pid;
}

EXPORT pid_t waitpid(pid_t which, int *status, int options)
{
	pid_t pid = real.waitpid(which, status, options);

	hook_reaped(pid);
	return pid;
}

EXPORT pid_t wait3(int *status, int options, struct rusage *usage)
{
	pid_t pid = real.wait3(status, options, usage);

	hook_reaped(pid);
	return pid;
}

EXPORT pid_t wait4(pid_t which, int *status, int options, struct rusage *usage)
{
	pid_t pid = real.wait4(which, status, options, usage);

	hook_reaped(pid);
	return pid;
}

EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	int r = real.waitid(type, id, info, options);

	if (r == 0 && info)
		hook_reaped(info->si_pid);
	return r;
}

/* ---- exec ---- */

/* Before an exec by this process: a deferred unlink happens now, and the
 * pending files are handed to the new image (see handover.h). */
#define EXEC_SCRATCH 16384
/* A cgo program's environment, naming it (cover.h): pointers and one
 * variable. */
#define COVER_SCRATCH 8192

static char *const *before_exec(const char *file, int search, char *const envp[],
				char *scratch)
{
	char *const *env;

	if (!lib_should_act())
		return envp;
	if (getpid() == lib.pid)  /* not a vfork child: ours to change */
		tombstone_flush();
	env = handover_before_exec(file, search, envp, scratch, EXEC_SCRATCH);
	/* Then what the image leaves behind, the descriptors the exec closes
	 * included, which the handover has just released: files closed
	 * under commit = "exit", and files another process still holds
	 * (handed to a waiter).  Before the handover, a file closed by the
	 * exec itself was left on those lists, and lost with the image. */
	if (getpid() == lib.pid)
		pending_commit_deferred();
	return env;
}

/* Exec with REALF (execve, or execvpe when SEARCH), handing over first and
 * taking back if the exec fails. */
static int do_exec(int (*realf)(const char *, char *const[], char *const[]),
		   const char *file, int search, char *const argv[], char *const envp[])
{
	char scratch[EXEC_SCRATCH], named[COVER_SCRATCH];
	char *const *handed = before_exec(file, search, envp, scratch);
	char *const *env = handed;
	/* Last: from here on the supervisor may be serving this process.
	 * ENV may become a copy naming it (a cgo program); HANDED is what
	 * the handover gives back. */
	int covered = cover_before_exec(file, search, &env, named, sizeof(named));
	int r = realf(file, argv, env);
	int saved = errno;

	cover_exec_failed(covered);
	handover_exec_failed(handed, envp);
	errno = saved;
	return r;
}

#define do_execve(path, argv, envp) do_exec(real.execve, path, 0, argv, envp)
#define do_execvpe(file, argv, envp) do_exec(real.execvpe, file, 1, argv, envp)

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return do_execve(path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
	return do_execve(path, argv, environ);
}

EXPORT int execvp(const char *file, char *const argv[])
{
	return do_execvpe(file, argv, environ);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return do_execvpe(file, argv, envp);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	char proc[32], scratch[EXEC_SCRATCH], named[COVER_SCRATCH];
	char *const *handed, *const *env;
	int r, saved, covered;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	env = handed = before_exec(proc, 0, envp, scratch);
	covered = cover_before_exec(proc, 0, &env, named, sizeof(named));
	r = real.fexecve(fd, argv, env);
	saved = errno;
	cover_exec_failed(covered);
	handover_exec_failed(handed, envp);
	errno = saved;
	return r;
}

/* The execl family: the arguments into an array on the stack (they were
 * on the caller's stack already), then as execv*. */
#define COLLECT_ARGS(argv, arg0, last)                                       \
	size_t argc_ = 1;                                                     \
	va_list ap_;                                                          \
	va_start(ap_, last);                                                  \
	while (va_arg(ap_, char *))                                           \
		argc_++;                                                      \
	va_end(ap_);                                                          \
	char *argv[argc_ + 1];                                                \
	argv[0] = (char *)(arg0);                                             \
	va_start(ap_, last);                                                  \
	for (size_t i_ = 1; i_ <= argc_; i_++)                                \
		argv[i_] = va_arg(ap_, char *);

EXPORT int execl(const char *path, const char *arg, ...)
{
	COLLECT_ARGS(argv, arg, arg);
	va_end(ap_);
	return do_execve(path, argv, environ);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	COLLECT_ARGS(argv, arg, arg);
	va_end(ap_);
	return do_execvpe(file, argv, environ);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	COLLECT_ARGS(argv, arg, arg);
	char *const *envp = va_arg(ap_, char *const *);
	va_end(ap_);
	return do_execve(path, argv, envp);
}

/* ---- exit ---- */

/* STATUS, or failure_exit_code instead of 0 when a commit failed: a
 * program that ignores what close told it must not report success. */
static int status_after_commits(int status)
{
	if (status == 0 && lib.rs.failure_exit_code && atomic_load(&pending_failures) > 0)
		return lib.rs.failure_exit_code;
	return status;
}

/* At exit: the program's stdio buffers are flushed first, then every file
 * still open is committed (a program that never closes what it wrote
 * still gets it written), and a deferred unlink is carried out. */
static void at_exit(int flush_stdio)
{
	if (!lib_should_act() || getpid() != lib.pid)
		return;
	if (fdtable_max() >= 0) {
		if (flush_stdio)
			fflush(NULL);
		pending_commit_all();
	}
	tombstone_flush();
	lock_remove_held();
}

/* Runs after the program's atexit handlers, which may still close files. */
__attribute__((destructor)) static void lib_fini(void)
{
	int status;

	at_exit(1);
	if (exit_status < 0 || !lib_should_act())
		return;
	status = status_after_commits(exit_status);
	/* getpid last: a system call in every exit, needed only when a
	 * failed commit changes the status (not in a vfork child). */
	if (status != exit_status && getpid() == lib.pid) {
		fflush(NULL);
		real._exit(status);
	}
}

EXPORT __attribute__((noreturn)) void exit(int status)
{
	exit_status = status;
	real.exit(status);
	__builtin_unreachable();
}

/* glibc returns from main into exit() inside libc, where a preload cannot
 * see the status: run main ourselves and call exit() with what it
 * returns, as libc would. */
static int (*program_main)(int, char **, char **);

static int main_then_exit(int argc, char **argv, char **envp)
{
	exit(program_main(argc, argv, envp));
}

EXPORT int __libc_start_main(int (*main)(int, char **, char **), int argc, char **argv,
			     void (*init)(void), void (*fini)(void),
			     void (*rtld_fini)(void), void *stack_end)
{
	program_main = main;
	return real.libc_start_main(main_then_exit, argc, argv, init, fini, rtld_fini, stack_end);
}

EXPORT __attribute__((noreturn)) void _exit(int status)
{
	at_exit(0);  /* _exit does not flush stdio: neither do we */
	real._exit(status_after_commits(status));
	__builtin_unreachable();
}

/* quick_exit runs the at_quick_exit handlers, which may still write and
 * close files: the commit comes after them, from a handler of ours
 * registered at start, which therefore runs last. */
static void after_quick_exit_handlers(void)
{
	int status;

	at_exit(0);  /* quick_exit does not flush stdio: neither do we */
	if (exit_status < 0 || !lib_should_act() || getpid() != lib.pid)
		return;
	status = status_after_commits(exit_status);
	if (status != exit_status)
		real._exit(status);
}

void lib_register_quick_exit(void)
{
	at_quick_exit(after_quick_exit_handlers);
}

EXPORT __attribute__((noreturn)) void quick_exit(int status)
{
	exit_status = status;
	real.quick_exit(status);
	__builtin_unreachable();
}

EXPORT __attribute__((noreturn)) void _Exit(int status)
{
	at_exit(0);  /* _exit does not flush stdio: neither do we */
	real._exit(status_after_commits(status));
	__builtin_unreachable();
}

/* For syscall() (hook_syscall.c). */
HOOK_ALIAS(execve);
HOOK_ALIAS(_exit);
