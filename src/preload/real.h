/* real.h - the functions the library interposes, as the next library in
 * the lookup order (libc, or another preload) defines them.
 *
 * The library's own I/O on files it manages goes through these pointers,
 * never through the public names, which would land in its own hooks.
 *
 * Each pointer starts out at a stub of ours that finds the real function
 * the first time it is called, stores it in place of itself and calls it:
 * a process pays only for the functions it uses, and a hook needs no
 * set-up, whether it runs before the library's constructor (from another
 * library's), after it, or in a signal handler.
 */
#ifndef ATOMICALLY_REAL_H
#define ATOMICALLY_REAL_H

#include <dirent.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

struct rusage;
struct statx;
struct timeval;
struct utimbuf;

/* X(field, symbol, return type, parameters, arguments) for each function
 * of fixed arity. */
#define REAL_FUNCTIONS(X)                                                         \
	X(creat, "creat", int, (const char *p, mode_t m), (p, m))                 \
	X(creat64, "creat64", int, (const char *p, mode_t m), (p, m))             \
	X(open_2, "__open_2", int, (const char *p, int f), (p, f))                \
	X(open64_2, "__open64_2", int, (const char *p, int f), (p, f))            \
	X(openat_2, "__openat_2", int, (int d, const char *p, int f), (d, p, f))  \
	X(openat64_2, "__openat64_2", int, (int d, const char *p, int f), (d, p, f)) \
	X(fopen, "fopen", FILE *, (const char *p, const char *m), (p, m))         \
	X(fopen64, "fopen64", FILE *, (const char *p, const char *m), (p, m))     \
	X(freopen, "freopen", FILE *, (const char *p, const char *m, FILE *s), (p, m, s)) \
	X(freopen64, "freopen64", FILE *, (const char *p, const char *m, FILE *s), (p, m, s)) \
	X(fdopen, "fdopen", FILE *, (int fd, const char *m), (fd, m))             \
	X(close, "close", int, (int fd), (fd))                                    \
	X(fclose, "fclose", int, (FILE *s), (s))                                  \
	X(fcloseall, "fcloseall", int, (void), ())                                \
	X(close_range, "close_range", int, (unsigned int a, unsigned int b, int f), (a, b, f)) \
	X(closefrom, "closefrom", void, (int fd), (fd))                           \
	X(dup, "dup", int, (int fd), (fd))                                        \
	X(dup2, "dup2", int, (int a, int b), (a, b))                              \
	X(dup3, "dup3", int, (int a, int b, int f), (a, b, f))                    \
	X(write, "write", ssize_t, (int fd, const void *b, size_t n), (fd, b, n)) \
	X(pwrite, "pwrite", ssize_t, (int fd, const void *b, size_t n, off_t o), (fd, b, n, o)) \
	X(pwrite64, "pwrite64", ssize_t, (int fd, const void *b, size_t n, off64_t o), (fd, b, n, o)) \
	X(writev, "writev", ssize_t, (int fd, const struct iovec *v, int n), (fd, v, n)) \
	X(pwritev, "pwritev", ssize_t, (int fd, const struct iovec *v, int n, off_t o), (fd, v, n, o)) \
	X(pwritev64, "pwritev64", ssize_t, (int fd, const struct iovec *v, int n, off64_t o), \
	  (fd, v, n, o))                                                          \
	X(pwritev2, "pwritev2", ssize_t, (int fd, const struct iovec *v, int n, off_t o, int f), \
	  (fd, v, n, o, f))                                                       \
	X(pwritev64v2, "pwritev64v2", ssize_t,                                    \
	  (int fd, const struct iovec *v, int n, off64_t o, int f), (fd, v, n, o, f)) \
	X(ftruncate, "ftruncate", int, (int fd, off_t n), (fd, n))                \
	X(ftruncate64, "ftruncate64", int, (int fd, off64_t n), (fd, n))          \
	X(fallocate, "fallocate", int, (int fd, int m, off_t o, off_t n), (fd, m, o, n)) \
	X(fallocate64, "fallocate64", int, (int fd, int m, off64_t o, off64_t n), (fd, m, o, n)) \
	X(posix_fallocate, "posix_fallocate", int, (int fd, off_t o, off_t n), (fd, o, n)) \
	X(posix_fallocate64, "posix_fallocate64", int, (int fd, off64_t o, off64_t n), (fd, o, n)) \
	X(sendfile, "sendfile", ssize_t, (int a, int b, off_t *o, size_t n), (a, b, o, n)) \
	X(sendfile64, "sendfile64", ssize_t, (int a, int b, off64_t *o, size_t n), (a, b, o, n)) \
	X(copy_file_range, "copy_file_range", ssize_t,                            \
	  (int a, off64_t *ao, int b, off64_t *bo, size_t n, unsigned f), (a, ao, b, bo, n, f)) \
	X(splice, "splice", ssize_t,                                              \
	  (int a, off64_t *ao, int b, off64_t *bo, size_t n, unsigned f), (a, ao, b, bo, n, f)) \
	X(posix_spawn, "posix_spawn", int,                                        \
	  (pid_t *pid, const char *p, const posix_spawn_file_actions_t *fa,       \
	   const posix_spawnattr_t *at, char *const argv[], char *const envp[]),  \
	  (pid, p, fa, at, argv, envp))                                           \
	X(posix_spawnp, "posix_spawnp", int,                                      \
	  (pid_t *pid, const char *p, const posix_spawn_file_actions_t *fa,       \
	   const posix_spawnattr_t *at, char *const argv[], char *const envp[]),  \
	  (pid, p, fa, at, argv, envp))                                           \
	X(unlink, "unlink", int, (const char *p), (p))                            \
	X(unlinkat, "unlinkat", int, (int d, const char *p, int f), (d, p, f))    \
	X(rename, "rename", int, (const char *a, const char *b), (a, b))          \
	X(renameat, "renameat", int, (int ad, const char *a, int bd, const char *b), (ad, a, bd, b)) \
	X(renameat2, "renameat2", int,                                            \
	  (int ad, const char *a, int bd, const char *b, unsigned int f), (ad, a, bd, b, f)) \
	X(link, "link", int, (const char *a, const char *b), (a, b))              \
	X(linkat, "linkat", int, (int ad, const char *a, int bd, const char *b, int f), \
	  (ad, a, bd, b, f))                                                      \
	X(symlink, "symlink", int, (const char *a, const char *b), (a, b))        \
	X(symlinkat, "symlinkat", int, (const char *a, int d, const char *b), (a, d, b)) \
	X(mkdir, "mkdir", int, (const char *p, mode_t m), (p, m))                 \
	X(mkdirat, "mkdirat", int, (int d, const char *p, mode_t m), (d, p, m))   \
	X(stat, "stat", int, (const char *p, struct stat *s), (p, s))             \
	X(lstat, "lstat", int, (const char *p, struct stat *s), (p, s))           \
	X(fstatat, "fstatat", int, (int d, const char *p, struct stat *s, int f), (d, p, s, f)) \
	X(stat64, "stat64", int, (const char *p, struct stat64 *s), (p, s))       \
	X(lstat64, "lstat64", int, (const char *p, struct stat64 *s), (p, s))     \
	X(fstatat64, "fstatat64", int, (int d, const char *p, struct stat64 *s, int f), \
	  (d, p, s, f))                                                           \
	X(xstat, "__xstat", int, (int v, const char *p, struct stat *s), (v, p, s)) \
	X(lxstat, "__lxstat", int, (int v, const char *p, struct stat *s), (v, p, s)) \
	X(fxstatat, "__fxstatat", int, (int v, int d, const char *p, struct stat *s, int f), \
	  (v, d, p, s, f))                                                        \
	X(xstat64, "__xstat64", int, (int v, const char *p, struct stat64 *s), (v, p, s)) \
	X(lxstat64, "__lxstat64", int, (int v, const char *p, struct stat64 *s), (v, p, s)) \
	X(fxstatat64, "__fxstatat64", int,                                        \
	  (int v, int d, const char *p, struct stat64 *s, int f), (v, d, p, s, f)) \
	X(statx, "statx", int, (int d, const char *p, int f, unsigned int m, struct statx *s), \
	  (d, p, f, m, s))                                                        \
	X(access, "access", int, (const char *p, int m), (p, m))                  \
	X(fstat, "fstat", int, (int fd, struct stat *s), (fd, s))                 \
	X(fstat64, "fstat64", int, (int fd, struct stat64 *s), (fd, s))           \
	X(fxstat, "__fxstat", int, (int v, int fd, struct stat *s), (v, fd, s))   \
	X(fxstat64, "__fxstat64", int, (int v, int fd, struct stat64 *s), (v, fd, s)) \
	X(chmod, "chmod", int, (const char *p, mode_t m), (p, m))                 \
	X(fchmodat, "fchmodat", int, (int d, const char *p, mode_t m, int f), (d, p, m, f)) \
	X(lchmod, "lchmod", int, (const char *p, mode_t m), (p, m))               \
	X(chown, "chown", int, (const char *p, uid_t u, gid_t g), (p, u, g))      \
	X(lchown, "lchown", int, (const char *p, uid_t u, gid_t g), (p, u, g))    \
	X(fchownat, "fchownat", int, (int d, const char *p, uid_t u, gid_t g, int f), \
	  (d, p, u, g, f))                                                        \
	X(utime, "utime", int, (const char *p, const struct utimbuf *t), (p, t))  \
	X(utimes, "utimes", int, (const char *p, const struct timeval t[2]), (p, t)) \
	X(lutimes, "lutimes", int, (const char *p, const struct timeval t[2]), (p, t)) \
	X(futimesat, "futimesat", int, (int d, const char *p, const struct timeval t[2]), \
	  (d, p, t))                                                              \
	X(utimensat, "utimensat", int, (int d, const char *p, const struct timespec t[2], int f), \
	  (d, p, t, f))                                                           \
	X(truncate, "truncate", int, (const char *p, off_t n), (p, n))            \
	X(truncate64, "truncate64", int, (const char *p, off64_t n), (p, n))      \
	X(fsync, "fsync", int, (int fd), (fd))                                    \
	X(fdatasync, "fdatasync", int, (int fd), (fd))                            \
	X(faccessat, "faccessat", int, (int d, const char *p, int m, int f), (d, p, m, f)) \
	X(fork, "fork", pid_t, (void), ())                                        \
	X(system, "system", int, (const char *c), (c))                            \
	X(popen, "popen", FILE *, (const char *c, const char *m), (c, m))         \
	X(pclose, "pclose", int, (FILE *s), (s))                                  \
	X(wait, "wait", pid_t, (int *s), (s))                                     \
	X(waitpid, "waitpid", pid_t, (pid_t p, int *s, int o), (p, s, o))         \
	X(wait3, "wait3", pid_t, (int *s, int o, struct rusage *u), (s, o, u))    \
	X(wait4, "wait4", pid_t, (pid_t p, int *s, int o, struct rusage *u), (p, s, o, u)) \
	X(waitid, "waitid", int, (idtype_t t, id_t i, siginfo_t *s, int o), (t, i, s, o)) \
	X(mmap, "mmap", void *, (void *a, size_t n, int p, int f, int fd, off_t o), \
	  (a, n, p, f, fd, o))                                                    \
	X(mmap64, "mmap64", void *, (void *a, size_t n, int p, int f, int fd, off64_t o), \
	  (a, n, p, f, fd, o))                                                    \
	X(munmap, "munmap", int, (void *a, size_t n), (a, n))                     \
	X(flock, "flock", int, (int fd, int op), (fd, op))                        \
	X(execve, "execve", int, (const char *p, char *const argv[], char *const envp[]), \
	  (p, argv, envp))                                                        \
	X(execvpe, "execvpe", int, (const char *p, char *const argv[], char *const envp[]), \
	  (p, argv, envp))                                                        \
	X(fexecve, "fexecve", int, (int fd, char *const argv[], char *const envp[]), \
	  (fd, argv, envp))                                                       \
	X(exit, "exit", void, (int s), (s))                                       \
	X(_exit, "_exit", void, (int s), (s))                                     \
	X(clearerr, "clearerr", void, (FILE *s), (s))                             \
	X(clearerr_unlocked, "clearerr_unlocked", void, (FILE *s), (s))           \
	X(libc_start_main, "__libc_start_main", int,                              \
	  (int (*m)(int, char **, char **), int argc, char **argv, void (*i)(void), \
	   void (*f)(void), void (*rf)(void), void *stack), (m, argc, argv, i, f, rf, stack)) \
	X(quick_exit, "quick_exit", void, (int s), (s))                           \
	X(rmdir, "rmdir", int, (const char *p), (p))                              \
	X(opendir, "opendir", DIR *, (const char *p), (p))                        \
	X(fdopendir, "fdopendir", DIR *, (int fd), (fd))                          \
	X(closedir, "closedir", int, (DIR *d), (d))                               \
	X(rewinddir, "rewinddir", void, (DIR *d), (d))                            \
	X(readdir, "readdir", struct dirent *, (DIR *d), (d))                     \
	X(readdir64, "readdir64", struct dirent64 *, (DIR *d), (d))               \
	X(readdir_r, "readdir_r", int, (DIR *d, struct dirent *e, struct dirent **r), (d, e, r)) \
	X(readdir64_r, "readdir64_r", int,                                        \
	  (DIR *d, struct dirent64 *e, struct dirent64 **r), (d, e, r))           \
	X(remove, "remove", int, (const char *p), (p))                            \
	X(scandir, "scandir", int,                                                \
	  (const char *d, struct dirent ***l, int (*f)(const struct dirent *),    \
	   int (*c)(const struct dirent **, const struct dirent **)), (d, l, f, c)) \
	X(scandir64, "scandir64", int,                                            \
	  (const char *d, struct dirent64 ***l, int (*f)(const struct dirent64 *), \
	   int (*c)(const struct dirent64 **, const struct dirent64 **)), (d, l, f, c)) \
	X(scandirat, "scandirat", int,                                            \
	  (int fd, const char *d, struct dirent ***l, int (*f)(const struct dirent *), \
	   int (*c)(const struct dirent **, const struct dirent **)), (fd, d, l, f, c)) \
	X(scandirat64, "scandirat64", int,                                        \
	  (int fd, const char *d, struct dirent64 ***l, int (*f)(const struct dirent64 *), \
	   int (*c)(const struct dirent64 **, const struct dirent64 **)), (fd, d, l, f, c)) \
	X(nftw, "nftw", int,                                                      \
	  (const char *d, int (*f)(const char *, const struct stat *, int, struct FTW *), \
	   int n, int fl), (d, f, n, fl))                                         \
	X(nftw64, "nftw64", int,                                                  \
	  (const char *d, int (*f)(const char *, const struct stat64 *, int, struct FTW *), \
	   int n, int fl), (d, f, n, fl))                                         \
	X(ftw, "ftw", int, (const char *d, int (*f)(const char *, const struct stat *, int), \
	  int n), (d, f, n))                                                      \
	X(ftw64, "ftw64", int,                                                    \
	  (const char *d, int (*f)(const char *, const struct stat64 *, int), int n), (d, f, n)) \
	X(fts_open, "fts_open", FTS *,                                            \
	  (char *const *a, int o, int (*c)(const FTSENT **, const FTSENT **)), (a, o, c)) \
	X(glob, "glob", int, (const char *p, int fl, int (*e)(const char *, int), glob_t *g), \
	  (p, fl, e, g))                                                          \
	X(glob64, "glob64", int,                                                  \
	  (const char *p, int fl, int (*e)(const char *, int), glob64_t *g), (p, fl, e, g))

/* The variadic ones: X(field, symbol, return type, parameter types).
 * Their stubs are written by hand (real.c). */
#define REAL_VARIADIC(X)                                                          \
	X(open, "open", int, (const char *, int, ...))                            \
	X(open64, "open64", int, (const char *, int, ...))                        \
	X(openat, "openat", int, (int, const char *, int, ...))                   \
	X(openat64, "openat64", int, (int, const char *, int, ...))               \
	X(fcntl, "fcntl", int, (int, int, ...))                                   \
	X(fcntl64, "fcntl64", int, (int, int, ...))                               \
	X(syscall, "syscall", long, (long, ...))

#define REAL_FIELD(field, symbol, ret, params, ...) _Atomic(ret(*) params) field;
struct real_functions {
	REAL_FUNCTIONS(REAL_FIELD)
	REAL_VARIADIC(REAL_FIELD)
};
#undef REAL_FIELD

extern struct real_functions real;

/* The next definition of NAME after the library, as real.NAME calls it,
 * without calling it (vfork, which no C frame of ours may call). */
void *real_next(const char *name);

/* The first definition of NAME in the process that is not the library's
 * own hook (an object before it: a preload the user put first), else the
 * next one after it, as real.NAME. */
void *real_first(const char *name);

#endif
