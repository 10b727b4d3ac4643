/* covered.c - the covered process's name (covered.h). */
#include <stdio.h>
#include <unistd.h>

#include "covered.h"
#include "proc.h"
#include "sys.h"

int covered_name_self(char *buf, size_t size)
{
	pid_t self = sys_getpid();
	long long start = proc_start_time(self);

	if (start < 0)
		return -1;
	snprintf(buf, size, "%d.%lld", (int)self, start);
	return 0;
}

int covered_is_self(const char *value)
{
	char mine[64];
	const char *a = mine;

	if (!value || covered_name_self(mine, sizeof(mine)) < 0)
		return 0;
	while (*a && *a == *value)
		a++, value++;
	return *a == *value;
}
