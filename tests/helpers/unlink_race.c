/* unlink_race.c - a thread closes a file (its commit, under the library)
 * while the main thread unlinks its name, for bats/library.bats.
 *
 *   unlink_race FILE ROUNDS [existing]
 *
 * Each round: FILE opened O_WRONLY|O_CREAT|O_TRUNC (made first when
 * "existing"), 1 MiB written, a thread started that closes it, then,
 * after 0 to 1 ms, unlink(FILE) in the main thread.  Without the library
 * the name is on disk from the open on: the unlink succeeds and FILE is
 * gone.  Prints "unlink returned 0 yet the file exists: N; unlink
 * failed: M".  Exit status: 0; 1 when a call other than unlink fails;
 * 64 on bad usage.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int fd;

static void *closer(void *arg)
{
	(void)arg;
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	int rounds, back = 0, failed = 0;

	if (argc < 3 || argc > 4 || (rounds = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: unlink_race FILE ROUNDS [existing]\n");
		return 64;
	}
	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < rounds; i++) {
		pthread_t t;
		struct timespec pause = { 0, (i % 50) * 20000L };

		if (argc == 4)
			close(open(argv[1], O_WRONLY | O_CREAT, 0644));
		if ((fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
			perror(argv[1]);
			return 1;
		}
		for (int k = 0; k < 16; k++)
			if (write(fd, buf, sizeof(buf)) < 0) {
				perror("write");
				return 1;
			}
		if (pthread_create(&t, NULL, closer, NULL) != 0)
			return 1;
		nanosleep(&pause, NULL);
		if (unlink(argv[1]) < 0)
			failed++;
		else if (access(argv[1], F_OK) == 0)
			back++;
		pthread_join(t, NULL);
		unlink(argv[1]);
	}
	printf("unlink returned 0 yet the file exists: %d; unlink failed: %d\n", back, failed);
	return 0;
}
