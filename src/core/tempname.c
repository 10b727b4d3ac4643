/* tempname.c - the name of a named temp, and whether its owner lives. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sys.h"
#include "tempname.h"

static const char middle[] = ".atomically.";
#define MIDDLE_LEN (sizeof(middle) - 1)
#define RANDOM_LEN 6

int temp_prefix(char *out, size_t size, const char *name)
{
	return snprintf(out, size, ".%.*s%s", NAME_MAX - TEMP_SUFFIX_ROOM, name, middle);
}

/* Read from the end: NAME is any file name, and may hold ".atomically."
 * or digits itself; what follows it may not. */
int temp_owner(const char *entry, const char *name)
{
	size_t len = strlen(entry), dot, start, nlen;
	long pid = 0;

	if (len < 1 + 1 + MIDDLE_LEN + 1 + 1 + RANDOM_LEN || entry[0] != '.')
		return -1;
	for (size_t i = len - RANDOM_LEN; i < len; i++)
		if (!((entry[i] >= '0' && entry[i] <= '9') || (entry[i] >= 'a' && entry[i] <= 'f')))
			return -1;
	dot = len - RANDOM_LEN - 1;
	if (entry[dot] != '.')
		return -1;
	for (start = dot; start > 0 && entry[start - 1] >= '0' && entry[start - 1] <= '9'; start--)
		;
	if (start == dot || dot - start > 10)
		return -1;
	for (size_t i = start; i < dot; i++)
		pid = pid * 10 + (entry[i] - '0');
	if (pid <= 0 || pid > INT32_MAX)
		return -1;
	/* What is left before the pid is ".NAME.atomically.", NAME not empty
	 * and no longer than temp_prefix makes it. */
	if (start < 1 + 1 + MIDDLE_LEN || memcmp(entry + start - MIDDLE_LEN, middle, MIDDLE_LEN) != 0)
		return -1;
	nlen = start - MIDDLE_LEN - 1;
	if (nlen > NAME_MAX - TEMP_SUFFIX_ROOM)
		return -1;
	if (name && (strnlen(name, NAME_MAX - TEMP_SUFFIX_ROOM) != nlen ||
		     memcmp(entry + 1, name, nlen) != 0))
		return -1;
	return (int)pid;
}

int temp_owner_dead(int pid)
{
	int saved = errno, dead = sys_kill(pid, 0) < 0 && errno == ESRCH;

	errno = saved;
	return dead;
}
