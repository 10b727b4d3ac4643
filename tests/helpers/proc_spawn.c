/* proc_spawn.c - a child that inherits a pending file's descriptor, for
 * bats/processes.bats.
 *
 *   proc_spawn MODE FILE
 *
 * Opens FILE for writing (O_TRUNC), moves it to descriptor 3 (dup2, then
 * close of the original, when the open did not give 3), writes "parent\n",
 * then starts a child that writes "child\n" into the inherited descriptor
 * and ends without closing it:
 *   fork         fork; the child write()s and _exit(0)s
 *   fork_exit    fork; the child write()s and exit(0)s
 *   vfork        vfork; the child write()s and _exit(0)s
 *   vfork_close  vfork; the child write()s, close()s its copy (which
 *                must not touch the state it shares with its parent) and
 *                _exit(0)s
 *   fork_exec    fork; the child execs sh -c 'echo child >&3'
 *   vfork_exec   vfork; the child execs sh -c 'echo child >&3'
 *   posix_spawn  posix_spawn of sh -c 'echo child >&3'
 *   system       system("echo child >&3")
 *   popen        popen("echo child >&3; echo piped", "r"), read, pclose
 * After the child is gone, prints "mine: CONTENT" (FILE as this process
 * reads it back: its own pending content, "parent child"), "before:
 * CONTENT" (FILE on disk, as another process sees it), closes the
 * descriptor, and prints "after: CONTENT" (on disk).  Only the parent's
 * close may commit: "before: old", "after: parent child".
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "raw_syscall.h"
#include "show_lines.h"

extern char **environ;

/* Prints FILE's content, its lines joined by spaces, as another process
 * reads it (ON_DISK) or as this process reads it. On disk: opened and
 * closed with raw system calls (raw_syscall.h), which no preload sees;
 * through open() the library hands the process that has a write pending
 * to FILE its own pending content (read-your-writes), not what others
 * see. */
static void show(const char *what, const char *path, int on_disk)
{
	char buf[4096];
	int fd = on_disk ? raw_open(path)
			 : open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0 && on_disk)
		raw_close(fd);
	else if (fd >= 0)
		close(fd);
	show_lines(what, buf, (long)n);
}

static int wait_for(pid_t pid)
{
	int st;

	if (pid < 0) {
		perror("starting the child");
		return -1;
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "the child failed (status %d)\n", st);
		return -1;
	}
	return 0;
}

static const char child_cmd[] = "echo child >&3";

int main(int argc, char **argv)
{
	const char *mode, *path;
	pid_t pid;
	int fd, r = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: proc_spawn MODE FILE\n");
		return 64;
	}
	mode = argv[1];
	path = argv[2];
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	if (fd != 3) {
		if (dup2(fd, 3) != 3 || close(fd) < 0) {
			perror("dup2");
			return 1;
		}
		fd = 3;
	}
	if (write(fd, "parent\n", 7) != 7) {
		perror("write");
		return 2;
	}

	if (!strcmp(mode, "fork") || !strcmp(mode, "fork_exit")) {
		if ((pid = fork()) == 0) {
			if (write(fd, "child\n", 6) != 6)
				_exit(1);
			if (!strcmp(mode, "fork_exit"))
				exit(0);
			_exit(0);
		}
		r = wait_for(pid);
	} else if (!strcmp(mode, "vfork") || !strcmp(mode, "vfork_close")) {
		if ((pid = vfork()) == 0) {
			if (write(fd, "child\n", 6) != 6)
				_exit(1);
			if (!strcmp(mode, "vfork_close") && close(fd) < 0)
				_exit(1);
			_exit(0);
		}
		r = wait_for(pid);
	} else if (!strcmp(mode, "fork_exec")) {
		if ((pid = fork()) == 0) {
			execl("/bin/sh", "sh", "-c", child_cmd, (char *)NULL);
			_exit(127);
		}
		r = wait_for(pid);
	} else if (!strcmp(mode, "vfork_exec")) {
		if ((pid = vfork()) == 0) {
			execl("/bin/sh", "sh", "-c", child_cmd, (char *)NULL);
			_exit(127);
		}
		r = wait_for(pid);
	} else if (!strcmp(mode, "posix_spawn")) {
		char *args[] = { "sh", "-c", (char *)child_cmd, NULL };
		int e = posix_spawn(&pid, "/bin/sh", NULL, NULL, args, environ);
		r = wait_for(e == 0 ? pid : -1);
	} else if (!strcmp(mode, "system")) {
		int st = system(child_cmd);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "system: status %d\n", st);
			r = -1;
		}
	} else if (!strcmp(mode, "popen")) {
		char line[64] = "";
		FILE *p = popen("echo child >&3; echo piped", "r");
		if (!p || !fgets(line, sizeof(line), p) || pclose(p) != 0) {
			fprintf(stderr, "popen failed\n");
			r = -1;
		}
		printf("from the pipe: %s", line);
	} else {
		fprintf(stderr, "proc_spawn: unknown mode %s\n", mode);
		return 64;
	}
	show("mine", path, 0);
	show("before", path, 1);
	if (close(fd) < 0) {
		perror("close");
		return 2;
	}
	show("after", path, 1);
	return r < 0 ? 1 : 0;
}
