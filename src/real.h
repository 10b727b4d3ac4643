/* real.h - the functions the library interposes, as libc defines them.
 *
 * The library's own I/O on files it manages goes through these pointers,
 * never through the public names, which would land in its own hooks.
 */
#ifndef ATOMICALLY_REAL_H
#define ATOMICALLY_REAL_H

#include <spawn.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

struct statx;

/* X(field, symbol, return type, parameters) for each. */
#define REAL_FUNCTIONS(X)                                                         \
	X(open, "open", int, (const char *, int, ...))                            \
	X(open64, "open64", int, (const char *, int, ...))                        \
	X(openat, "openat", int, (int, const char *, int, ...))                   \
	X(openat64, "openat64", int, (int, const char *, int, ...))               \
	X(creat, "creat", int, (const char *, mode_t))                            \
	X(creat64, "creat64", int, (const char *, mode_t))                        \
	X(open_2, "__open_2", int, (const char *, int))                           \
	X(open64_2, "__open64_2", int, (const char *, int))                       \
	X(openat_2, "__openat_2", int, (int, const char *, int))                  \
	X(openat64_2, "__openat64_2", int, (int, const char *, int))              \
	X(fopen, "fopen", FILE *, (const char *, const char *))                   \
	X(fopen64, "fopen64", FILE *, (const char *, const char *))               \
	X(freopen, "freopen", FILE *, (const char *, const char *, FILE *))       \
	X(freopen64, "freopen64", FILE *, (const char *, const char *, FILE *))   \
	X(fdopen, "fdopen", FILE *, (int, const char *))                          \
	X(close, "close", int, (int))                                             \
	X(fclose, "fclose", int, (FILE *))                                        \
	X(fcloseall, "fcloseall", int, (void))                                    \
	X(close_range, "close_range", int, (unsigned int, unsigned int, int))     \
	X(closefrom, "closefrom", void, (int))                                    \
	X(dup, "dup", int, (int))                                                 \
	X(dup2, "dup2", int, (int, int))                                          \
	X(dup3, "dup3", int, (int, int, int))                                     \
	X(fcntl, "fcntl", int, (int, int, ...))                                   \
	X(fcntl64, "fcntl64", int, (int, int, ...))                               \
	X(write, "write", ssize_t, (int, const void *, size_t))                   \
	X(pwrite, "pwrite", ssize_t, (int, const void *, size_t, off_t))          \
	X(pwrite64, "pwrite64", ssize_t, (int, const void *, size_t, off64_t))    \
	X(writev, "writev", ssize_t, (int, const struct iovec *, int))            \
	X(pwritev, "pwritev", ssize_t, (int, const struct iovec *, int, off_t))   \
	X(pwritev64, "pwritev64", ssize_t, (int, const struct iovec *, int, off64_t)) \
	X(pwritev2, "pwritev2", ssize_t, (int, const struct iovec *, int, off_t, int)) \
	X(pwritev64v2, "pwritev64v2", ssize_t, (int, const struct iovec *, int, off64_t, int)) \
	X(sendfile, "sendfile", ssize_t, (int, int, off_t *, size_t))              \
	X(sendfile64, "sendfile64", ssize_t, (int, int, off64_t *, size_t))        \
	X(copy_file_range, "copy_file_range", ssize_t, (int, off64_t *, int, off64_t *, size_t, unsigned)) \
	X(splice, "splice", ssize_t, (int, off64_t *, int, off64_t *, size_t, unsigned)) \
	X(posix_spawn, "posix_spawn", int, (pid_t *, const char *, const posix_spawn_file_actions_t *, \
	  const posix_spawnattr_t *, char *const[], char *const[]))               \
	X(posix_spawnp, "posix_spawnp", int, (pid_t *, const char *, const posix_spawn_file_actions_t *, \
	  const posix_spawnattr_t *, char *const[], char *const[]))               \
	X(unlink, "unlink", int, (const char *))                                  \
	X(unlinkat, "unlinkat", int, (int, const char *, int))                    \
	X(rename, "rename", int, (const char *, const char *))                    \
	X(renameat, "renameat", int, (int, const char *, int, const char *))      \
	X(renameat2, "renameat2", int, (int, const char *, int, const char *, unsigned int)) \
	X(link, "link", int, (const char *, const char *))                        \
	X(linkat, "linkat", int, (int, const char *, int, const char *, int))     \
	X(symlink, "symlink", int, (const char *, const char *))                  \
	X(symlinkat, "symlinkat", int, (const char *, int, const char *))         \
	X(mkdir, "mkdir", int, (const char *, mode_t))                            \
	X(mkdirat, "mkdirat", int, (int, const char *, mode_t))                   \
	X(stat, "stat", int, (const char *, struct stat *))                       \
	X(lstat, "lstat", int, (const char *, struct stat *))                     \
	X(fstatat, "fstatat", int, (int, const char *, struct stat *, int))       \
	X(stat64, "stat64", int, (const char *, struct stat64 *))                 \
	X(lstat64, "lstat64", int, (const char *, struct stat64 *))               \
	X(fstatat64, "fstatat64", int, (int, const char *, struct stat64 *, int)) \
	X(xstat, "__xstat", int, (int, const char *, struct stat *))              \
	X(lxstat, "__lxstat", int, (int, const char *, struct stat *))            \
	X(fxstatat, "__fxstatat", int, (int, int, const char *, struct stat *, int)) \
	X(xstat64, "__xstat64", int, (int, const char *, struct stat64 *))        \
	X(lxstat64, "__lxstat64", int, (int, const char *, struct stat64 *))      \
	X(fxstatat64, "__fxstatat64", int, (int, int, const char *, struct stat64 *, int)) \
	X(statx, "statx", int, (int, const char *, int, unsigned int, struct statx *)) \
	X(access, "access", int, (const char *, int))                             \
	X(faccessat, "faccessat", int, (int, const char *, int, int))             \
	X(fork, "fork", pid_t, (void))                                            \
	X(execve, "execve", int, (const char *, char *const[], char *const[]))    \
	X(execvpe, "execvpe", int, (const char *, char *const[], char *const[]))  \
	X(fexecve, "fexecve", int, (int, char *const[], char *const[]))           \
	X(exit, "exit", void, (int))                                              \
	X(_exit, "_exit", void, (int))                                            \
	X(clearerr, "clearerr", void, (FILE *))                                   \
	X(clearerr_unlocked, "clearerr_unlocked", void, (FILE *))                 \
	X(libc_start_main, "__libc_start_main", int, (int (*)(int, char **, char **), int, \
	  char **, void (*)(void), void (*)(void), void (*)(void), void *))     \
	X(quick_exit, "quick_exit", void, (int))

#define REAL_FIELD(field, symbol, ret, params) ret(*field) params;
struct real_functions {
	REAL_FUNCTIONS(REAL_FIELD)
};
#undef REAL_FIELD

extern struct real_functions real;

/* Resolve every pointer with dlsym(RTLD_NEXT).  Called by the constructor,
 * and by any hook that runs before it (from another library's
 * constructor): cheap after the first call. */
void real_resolve(void);

#endif
