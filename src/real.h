/* real.h - the functions the library interposes, as libc defines them.
 *
 * The library's own I/O on files it manages goes through these pointers,
 * never through the public names, which would land in its own hooks.
 */
#ifndef ATOMICALLY_REAL_H
#define ATOMICALLY_REAL_H

#include <stdio.h>
#include <sys/types.h>

struct real_functions {
	int (*open)(const char *, int, ...);
	int (*open64)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*openat64)(int, const char *, int, ...);
	int (*creat)(const char *, mode_t);
	int (*creat64)(const char *, mode_t);
	int (*open_2)(const char *, int);
	int (*open64_2)(const char *, int);
	int (*openat_2)(int, const char *, int);
	int (*openat64_2)(int, const char *, int);
	FILE *(*fopen)(const char *, const char *);
	FILE *(*fopen64)(const char *, const char *);
	FILE *(*freopen)(const char *, const char *, FILE *);
	FILE *(*freopen64)(const char *, const char *, FILE *);
	FILE *(*fdopen)(int, const char *);
	int (*close)(int);
	int (*fclose)(FILE *);
	int (*fcloseall)(void);
	int (*close_range)(unsigned int, unsigned int, int);
	void (*closefrom)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	pid_t (*fork)(void);
	int (*unlink)(const char *);
	int (*unlinkat)(int, const char *, int);
	void (*_exit)(int) __attribute__((noreturn));
	void (*quick_exit)(int) __attribute__((noreturn));
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
};

extern struct real_functions real;

/* Resolve every pointer with dlsym(RTLD_NEXT).  Called by the constructor,
 * and by any hook that runs before it (from another library's
 * constructor): cheap after the first call. */
void real_resolve(void);

#endif
