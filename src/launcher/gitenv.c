/* gitenv.c - git under the launcher does not trust ctime (gitenv.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitenv.h"

#define KEY "core.trustctime"
#define VALUE "false"

long gitenv_count(const char *value)
{
	char *end;
	unsigned long n;

	if (!value)
		return 0;
	/* As git reads it (config.c): strtoul, so a '-' wraps around (git
	 * takes "-18446744073709551615" for 1), and the whole value. */
	n = strtoul(value, &end, 10);
	return *end || n > GITENV_MAX ? -1 : (long)n;
}

/* The value GET gives the variable GIT_CONFIG_<WHAT>_<I>, named in NAME. */
static const char *setting(gitenv_get get, const char *what, long i, char *name, size_t size)
{
	snprintf(name, size, "GIT_CONFIG_%s_%ld", what, i);
	return get(name);
}

/* Is ours there already, first (a launcher run under another, or after
 * --env)? */
static int there_already(gitenv_get get, long n)
{
	char name[64];
	const char *k = n > 0 ? setting(get, "KEY", 0, name, sizeof(name)) : NULL;
	const char *v = n > 0 ? setting(get, "VALUE", 0, name, sizeof(name)) : NULL;

	return k && v && !strcmp(k, KEY) && !strcmp(v, VALUE);
}

int gitenv_each(gitenv_get get, gitenv_put each)
{
	long n = gitenv_count(get("GIT_CONFIG_COUNT"));
	char name[64], count[24];

	if (n < 0 || there_already(get, n))
		return 0;
	for (long i = n - 1; i >= 0; i--) {
		for (int kv = 0; kv < 2; kv++) {
			const char *what = kv ? "VALUE" : "KEY";
			const char *v = setting(get, what, i, name, sizeof(name));
			/* A copy: setting a variable may free what GET gave. */
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

static const char *get_env(const char *name)
{
	return getenv(name);
}

int gitenv_apply(void)
{
	return gitenv_each(get_env, set_one);
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
	return gitenv_each(get_env, github ? print_github : print_export);
}
