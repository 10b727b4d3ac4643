/* touches.c N - stat N names that do not exist, t-0.json .. t-N-1.json:
 * under a rule with lock = "process" or "session", each is a first touch
 * that takes the file's lock (the stat-then-create pattern), and nothing
 * else happens.  The session benchmark times it under each scope. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0;
	char name[32];
	struct stat st;

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "t-%d.json", i);
		if (stat(name, &st) == 0) {
			fprintf(stderr, "touches: %s exists\n", name);
			return 1;
		}
	}
	return 0;
}
