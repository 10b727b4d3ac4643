/* proc_exit.c - a program that writes a file with stdio and never closes
 * it, then ends in one of the ways a process ends, for
 * bats/processes.bats.
 *
 *   proc_exit MODE FILE TEXT
 *
 * fopen(FILE, "w"), fprintf(TEXT) (less than a stdio buffer: nothing
 * reaches the file before the end; with MODE "flushed-M", fflush first),
 * then by MODE:
 *   exit        exit(0)
 *   _exit       _exit(0)
 *   _Exit       _Exit(0)
 *   quick_exit  quick_exit(0)
 *   return      return 0 from main
 *   atexit      an atexit handler prints FILE's content on disk as "in
 *               handler: CONTENT" (the program has not closed it yet: the
 *               old content), then fcloses it; exit(0)
 *   at_quick_exit  the same with at_quick_exit and quick_exit(0)
 *   abort       abort()
 *   kill        raise(SIGKILL)
 *   close_range fflush, close_range(3, ~0U, 0), print FILE's content on
 *               disk as "after: CONTENT", then raise(SIGKILL) (so that
 *               only the close can have committed, not the exit)
 *   closefrom   the same with closefrom(3)
 *   fork_exit   fork; the child _exit(0)s at once (it holds a copy of
 *               the unflushed stdio buffer); then the parent fcloses the
 *               file and exits 0: FILE must hold TEXT once
 *   fork_stdout fclose FILE (committed), printf TEXT to standard output
 *               (a pipe or file: buffered), fork; the child _exit(0)s at
 *               once; the parent exits 0: TEXT must be printed once
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "raw_syscall.h"

static FILE *f;
static const char *path;

/* Prints FILE's content on disk, as another process reads it: opened and
 * closed with raw system calls (raw_syscall.h), which no preload sees.
 * Through fopen() the library would hand this process, which has a write
 * pending to FILE, its own pending content (read-your-writes). */
static void show(const char *what)
{
	char buf[4096];
	int fd = raw_open(path);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;

	if (n < 0)
		n = 0;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	if (fd >= 0)
		raw_close(fd);
	printf("%s: %s\n", what, fd >= 0 ? buf : "(missing)");
	fflush(stdout);
}

static void handler(void)
{
	show("in handler");
	if (fclose(f) != 0)
		perror("fclose in the handler");
}

int main(int argc, char **argv)
{
	const char *mode, *text;

	if (argc != 4) {
		fprintf(stderr, "usage: proc_exit MODE FILE TEXT\n");
		return 64;
	}
	mode = argv[1];
	path = argv[2];
	text = argv[3];
	if (strlen(text) >= 1024) {
		fprintf(stderr, "proc_exit: TEXT must fit in a stdio buffer\n");
		return 64;
	}
	if (!(f = fopen(path, "w"))) {
		perror(path);
		return 1;
	}
	if (fprintf(f, "%s", text) < 0) {
		perror("fprintf");
		return 2;
	}
	if (!strncmp(mode, "flushed-", 8)) {
		fflush(f);
		mode += 8;
	}

	if (!strcmp(mode, "exit"))
		exit(0);
	if (!strcmp(mode, "_exit"))
		_exit(0);
	if (!strcmp(mode, "_Exit"))
		_Exit(0);
	if (!strcmp(mode, "quick_exit"))
		quick_exit(0);
	if (!strcmp(mode, "return"))
		return 0;
	if (!strcmp(mode, "atexit")) {
		atexit(handler);
		exit(0);
	}
	if (!strcmp(mode, "at_quick_exit")) {
		at_quick_exit(handler);
		quick_exit(0);
	}
	if (!strcmp(mode, "abort"))
		abort();
	if (!strcmp(mode, "kill"))
		raise(SIGKILL);
	if (!strcmp(mode, "close_range") || !strcmp(mode, "closefrom")) {
		fflush(f);
		if (!strcmp(mode, "close_range")) {
			if (close_range(3, ~0U, 0) < 0) {
				perror("close_range");
				return 2;
			}
		} else {
			closefrom(3);
		}
		show("after");
		/* Killed: only the close can have committed. */
		raise(SIGKILL);
		return 3;
	}
	if (!strcmp(mode, "fork_exit")) {
		int st;
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0)
			_exit(0);
		waitpid(pid, &st, 0);
		if (fclose(f) != 0) {
			perror("fclose");
			return 2;
		}
		return 0;
	}
	if (!strcmp(mode, "fork_stdout")) {
		int st;
		pid_t pid;
		if (fclose(f) != 0) {
			perror("fclose");
			return 2;
		}
		printf("%s\n", text);
		if ((pid = fork()) < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0)
			_exit(0);
		waitpid(pid, &st, 0);
		return 0;
	}
	fprintf(stderr, "proc_exit: unknown mode %s\n", mode);
	return 64;
}
