/* timeit.c - run one command and say how long it took.
 *
 *   timeit [-o FILE] [-e NAME=VALUE]... COMMAND [ARG...]
 *
 * prints "WALL CPU FAULTS" on standard output: the wall-clock time from
 * just before the fork to the end of the wait and the user + system time
 * of the command and all its waited-for descendants, in seconds, and
 * their page faults (minor and major: wait4's rusage).
 * The command's own standard output goes to /dev/null, or to FILE with
 * -o (for a command that reports figures of its own), so that the
 * figures are the only thing on ours.  -e sets a variable in the
 * command's environment (LD_PRELOAD, ATOMICALLY_RULES): done here rather
 * than by env(1), whose own start would be timed on one side only.  A C timer rather than the shell's:
 * no fork of date(1) inside the timed span, and the CPU time comes free.
 * Exit status: the command's (128+N for a signal); 125 when it cannot run.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double secs(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	const char *out = "/dev/null";
	int status, fd;
	pid_t pid;

	char **env = argv;
	int nenv = 0;

	for (; argc > 2 && (!strcmp(argv[1], "-o") || !strcmp(argv[1], "-e")); argv += 2, argc -= 2) {
		if (argv[1][1] == 'o')
			out = argv[2];
		else
			env[nenv++] = argv[2];  /* argv's own slots, already passed */
	}
	if (argc < 2) {
		fprintf(stderr, "usage: timeit [-o FILE] [-e NAME=VALUE]... COMMAND [ARG...]\n");
		return 125;
	}
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) < 0) {
		perror("timeit: fork");
		return 125;
	}
	if (pid == 0) {
		if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
			perror(out);
			_exit(125);
		}
		dup2(fd, 1);
		for (int i = 0; i < nenv; i++)
			putenv(env[i]);
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(125);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("timeit: wait4");
		return 125;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.6f %.6f %ld\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       secs(ru.ru_utime) + secs(ru.ru_stime), ru.ru_minflt + ru.ru_majflt);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
