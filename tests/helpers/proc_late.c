/* proc_late.c - a child that writes into an inherited descriptor after
 * its parent has closed its own, for bats/afterclose.bats.
 *
 *   proc_late MODE FILE
 *
 * Opens FILE O_WRONLY|O_APPEND|O_CREAT (no truncation: the old content
 * stays), moves it to descriptor 3, starts a child that waits 300 ms and
 * then appends "child" through descriptor 3, closes its own descriptor 3
 * at once, prints "closed: CONTENT" (FILE on disk, read with raw system
 * calls, which no preload sees), waits for the child, and prints
 * "reaped: CONTENT".  MODE, how the child is made:
 *   fork         fork; the child write()s and _exit(0)s
 *   fork_exec    fork; the child execs sh -c 'sleep 0.3; echo child >&3'
 *   vfork_exec   vfork; the child execs the same
 *   posix_spawn  posix_spawn of the same
 *   popen        popen of the same, read to its end, pclose
 *   exit         fork as `fork', but the parent exits without waiting
 *                (and prints no "reaped")
 * Exit status: 0, 1 when a call fails, 64 on bad usage.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "raw_syscall.h"
#include "show_lines.h"

extern char **environ;

static const char child_cmd[] = "sleep 0.3; echo child >&3";

static pid_t start(const char *mode, FILE **piped)
{
	char *args[] = { "sh", "-c", (char *)child_cmd, NULL };
	const struct timespec late = { 0, 300000000L };
	pid_t pid;

	if (!strcmp(mode, "fork") || !strcmp(mode, "exit")) {
		if ((pid = fork()) == 0) {
			nanosleep(&late, NULL);
			_exit(write(3, "child\n", 6) == 6 ? 0 : 1);
		}
		return pid;
	}
	if (!strcmp(mode, "fork_exec") || !strcmp(mode, "vfork_exec")) {
		pid = !strcmp(mode, "fork_exec") ? fork() : vfork();
		if (pid == 0) {
			execv("/bin/sh", args);
			_exit(127);
		}
		return pid;
	}
	if (!strcmp(mode, "posix_spawn"))
		return posix_spawn(&pid, "/bin/sh", NULL, NULL, args, environ) == 0 ? pid : -1;
	if (!strcmp(mode, "popen"))
		return (*piped = popen(child_cmd, "r")) ? 0 : -1;
	fprintf(stderr, "proc_late: unknown mode %s\n", mode);
	exit(64);
}

int main(int argc, char **argv)
{
	FILE *piped = NULL;
	int fd, st = 0;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: proc_late MODE FILE\n");
		return 64;
	}
	fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0 || (fd != 3 && (dup2(fd, 3) != 3 || close(fd) < 0))) {
		perror(argv[2]);
		return 1;
	}
	if ((pid = start(argv[1], &piped)) < 0) {
		perror("starting the child");
		return 1;
	}
	if (close(3) < 0) {
		perror("close");
		return 1;
	}
	show_on_disk("closed", argv[2]);
	if (!strcmp(argv[1], "exit"))
		return 0;
	if (piped) {
		while (fgetc(piped) != EOF)
			;
		st = pclose(piped);
	} else if (waitpid(pid, &st, 0) != pid) {
		perror("waitpid");
		return 1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "the child failed (status %d)\n", st);
		return 1;
	}
	show_on_disk("reaped", argv[2]);
	return 0;
}
