/* exec_self.c - a pending file across exec, where the new image is this
 * same program (so of the same libc: bats/musl.bats runs it built with
 * musl, where /bin/sh, a glibc program, could not load the musl build of
 * the library).
 *
 *   exec_self MODE FILE
 *
 * Opens FILE O_WRONLY|O_CREAT|O_TRUNC on descriptor 3 and writes
 * "parent\n", then by MODE:
 *   fork_exec  fork; the child execs this program as "child", which
 *              writes "child\n" into the inherited descriptor 3 and ends
 *              without closing it; the parent waits for it, prints FILE
 *              on disk as "before: CONTENT", closes, and prints "after:
 *              CONTENT".  Only the parent's close may commit: "before:
 *              old", "after: parent child".
 *   exec       execs this program as "second" in the same process, which
 *              writes "second\n" into descriptor 3 (handed over across
 *              the exec), prints "before: CONTENT", closes, and prints
 *              "after: CONTENT": "before: old", "after: parent second".
 * FILE on disk is read with raw system calls, which no preload sees.
 * Exit status: 0, 1 when a call fails, 64 on bad usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "raw_syscall.h"
#include "show_lines.h"

static int put(const char *text)
{
	size_t n = strlen(text);

	if (write(3, text, n) != (ssize_t)n) {
		perror("write");
		return -1;
	}
	return 0;
}

/* The end of the image that owns the file: shown, closed, shown. */
static int finish(const char *path)
{
	show_on_disk("before", path);
	if (close(3) < 0) {
		perror("close");
		return 1;
	}
	show_on_disk("after", path);
	return 0;
}

static void exec_as(const char *step, const char *path)
{
	execl("/proc/self/exe", "exec_self", step, path, (char *)NULL);
	perror("exec");
}

int main(int argc, char **argv)
{
	const char *mode, *path;
	int fd, st;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: exec_self MODE FILE\n");
		return 64;
	}
	mode = argv[1];
	path = argv[2];
	if (!strcmp(mode, "child"))
		return put("child\n") < 0 ? 1 : 0;
	if (!strcmp(mode, "second"))
		return put("second\n") < 0 ? 1 : finish(path);
	if (strcmp(mode, "fork_exec") && strcmp(mode, "exec")) {
		fprintf(stderr, "exec_self: unknown mode %s\n", mode);
		return 64;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || (fd != 3 && (dup2(fd, 3) != 3 || close(fd) < 0))) {
		perror(path);
		return 1;
	}
	if (put("parent\n") < 0)
		return 1;
	if (!strcmp(mode, "exec")) {
		exec_as("second", path);
		return 1;
	}
	if ((pid = fork()) == 0) {
		exec_as("child", path);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "the child failed\n");
		return 1;
	}
	return finish(path);
}
