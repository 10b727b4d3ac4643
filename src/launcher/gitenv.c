/* gitenv.c - git under the launcher does not trust ctime (gitenv.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitenv.h"

#define KEY "core.trustctime"
#define VALUE "false"

/* The number of settings the environment holds for git, or -1 when
 * GIT_CONFIG_COUNT is not a number git would take (then git refuses to
 * run with it anyway, and the launcher leaves it as it is). */
static long settings_count(void)
{
	const char *s = getenv("GIT_CONFIG_COUNT");
	char *end;
	long n;

	if (!s || !*s)
		return 0;
	errno = 0;
	n = strtol(s, &end, 10);
	return errno || *end || n < 0 || n > 10000 ? -1 : n;
}

static const char *setting(const char *what, long i, char *name, size_t size)
{
	snprintf(name, size, "GIT_CONFIG_%s_%ld", what, i);
	return getenv(name);
}

/* Is ours there already, first (a launcher run under another, or after
 * --env)? */
static int there_already(long n)
{
	char name[64];
	const char *k = n > 0 ? setting("KEY", 0, name, sizeof(name)) : NULL;
	const char *v = n > 0 ? setting("VALUE", 0, name, sizeof(name)) : NULL;

	return k && v && !strcmp(k, KEY) && !strcmp(v, VALUE);
}

/* Each variable of the new settings, in order: the user's moved up one
 * (from the last, so that none is overwritten before it is moved), ours
 * at 0, the count.  EACH(name, value) returns 0 or -1. */
static int each_variable(long n, int (*each)(const char *name, const char *value))
{
	char name[64], count[24];

	for (long i = n - 1; i >= 0; i--) {
		for (int kv = 0; kv < 2; kv++) {
			const char *what = kv ? "VALUE" : "KEY";
			const char *v = setting(what, i, name, sizeof(name));
			char *copy = strdup(v ? v : "");
			int r;

			if (!copy)
				return -1;
			snprintf(name, sizeof(name), "GIT_CONFIG_%s_%ld", what, i + 1);
			r = each(name, copy);
			free(copy);
			if (r < 0)
				return -1;
		}
	}
	snprintf(count, sizeof(count), "%ld", n + 1);
	if (each("GIT_CONFIG_KEY_0", KEY) < 0 || each("GIT_CONFIG_VALUE_0", VALUE) < 0)
		return -1;
	return each("GIT_CONFIG_COUNT", count);
}

static int set_one(const char *name, const char *value)
{
	return setenv(name, value, 1);
}

int gitenv_apply(void)
{
	long n = settings_count();

	if (n < 0 || there_already(n))
		return 0;
	return each_variable(n, set_one);
}

static int print_github(const char *name, const char *value)
{
	if (strchr(value, '\n'))
		return -1;
	return printf("%s=%s\n", name, value) < 0 ? -1 : 0;
}

static int print_export(const char *name, const char *value)
{
	if (strchr(value, '\''))
		return -1;
	return printf("export %s='%s'\n", name, value) < 0 ? -1 : 0;
}

int gitenv_print(int github)
{
	long n = settings_count();

	if (n < 0 || there_already(n))
		return 0;
	return each_variable(n, github ? print_github : print_export);
}
