/* fuzz_gitenv.c - libFuzzer target for GIT_CONFIG_COUNT and the settings
 * the launcher puts before the user's (src/launcher/gitenv.c).
 *
 * The input is COUNT [NUL KEY NUL VALUE]...: the values of
 * GIT_CONFIG_COUNT, GIT_CONFIG_KEY_0, GIT_CONFIG_VALUE_0, KEY_1... (a
 * piece that is "\x7f" alone: that variable is not set), in an
 * environment of the harness's own: gitenv_each reads it through a
 * function given, and sets through another.  Checked:
 *
 *  - gitenv_count agrees with git: a model here of what git does with
 *    the variable (config.c, git_config_from_parameters: strtoul in base
 *    10, the whole value, at most INT_MAX; empty is 0), spelt out
 *    without strtoul (white space, a sign, digits, wrapping), then cut
 *    at GITENV_MAX;
 *  - with a count of 64 or less that git takes, the environment after
 *    gitenv_each is the user's settings moved up one (a missing one as
 *    ""), with core.trustctime = false first and the count one more, the
 *    other variables untouched; or, when that setting is first already
 *    or git would not take the count, the environment as it was;
 *  - a second gitenv_each changes nothing: run under itself, the
 *    launcher adds its setting once.
 *
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launcher/gitenv.h"

#define UNSET "\x7f"
/* Settings given in the input at most; the count may say more. */
#define GIVEN 16
/* The most settings gitenv_each is run with (it is linear in them). */
#define RUN_MAX 64
/* Variables of the environment: COUNT, and KEY_i, VALUE_i up to
 * RUN_MAX + 1 (the moved ones). */
#define SLOTS (1 + 2 * (RUN_MAX + 2))

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_gitenv: %s: \"%s\"\n", what, detail ? detail : "(null)");
	abort();
}

static char *copy_of(const char *s)
{
	char *c = s ? strdup(s) : NULL;

	if (s && !c) {
		fprintf(stderr, "fuzz_gitenv: out of memory\n");
		exit(2);
	}
	return c;
}

/* ---- git's reading of GIT_CONFIG_COUNT, spelt out ---- */

/* What git's strtoul(value, &end, 10) then "*end: bogus" and "> INT_MAX:
 * too many" make of VALUE: the count, or -1 when git refuses it. */
static long long git_count(const char *value)
{
	const char *p = value;
	unsigned long long v = 0;
	int neg = 0, overflow = 0;

	if (!*p)
		return 0;  /* strtoul converts nothing, and *end is the NUL */
	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (*p < '0' || *p > '9')
		return -1;  /* nothing converted: end is VALUE, which is not "" */
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (ULLONG_MAX - d) / 10)
			overflow = 1;
		v = v * 10 + d;
	}
	if (*p)
		return -1;
	if (overflow)
		v = ULLONG_MAX;  /* ERANGE: ULONG_MAX, whatever the sign */
	else if (neg)
		v = 0 - v;       /* strtoul negates in unsigned arithmetic */
	return v > INT_MAX ? -1 : (long long)v;
}

/* ---- an environment of our own ---- */

/* Slot 0 is GIT_CONFIG_COUNT; 1 + 2i is KEY_i, 2 + 2i is VALUE_i.  NULL:
 * not set.  The values are malloc'd. */
static char *env[SLOTS];
static int env_other;            /* a set of another name: fails */

/* The slot of NAME, or -1 for a name outside them. */
static int slot_of(const char *name)
{
	int kv;
	long i;
	char *end;

	if (strcmp(name, "GIT_CONFIG_COUNT") == 0)
		return 0;
	if (strncmp(name, "GIT_CONFIG_KEY_", 15) == 0)
		kv = 0, name += 15;
	else if (strncmp(name, "GIT_CONFIG_VALUE_", 17) == 0)
		kv = 1, name += 17;
	else
		return -1;
	/* The launcher writes "%ld": digits only, no leading zero. */
	i = strtol(name, &end, 10);
	if (*end || name[0] < '0' || name[0] > '9' || (name[0] == '0' && name[1]) ||
	    i < 0 || 1 + 2 * i + kv >= SLOTS)
		return -1;
	return (int)(1 + 2 * i + kv);
}

static const char *get(const char *name)
{
	int s = slot_of(name);

	return s < 0 ? NULL : env[s];
}

static int put(const char *name, const char *value)
{
	int s = slot_of(name);

	if (s < 0) {
		env_other = 1;
		return -1;
	}
	free(env[s]);
	env[s] = copy_of(value);
	return 0;
}

static void env_clear(char **e)
{
	for (int i = 0; i < SLOTS; i++) {
		free(e[i]);
		e[i] = NULL;
	}
}

static void env_save(char **to)
{
	for (int i = 0; i < SLOTS; i++)
		to[i] = copy_of(env[i]);
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void same_env(char *const *want, const char *what)
{
	for (int i = 0; i < SLOTS; i++)
		if (!same(want[i], env[i]))
			fail(what, env[i] ? env[i] : "(unset)");
}

/* ---- the checks ---- */

/* The environment after gitenv_each, for the count N, from BEFORE. */
static void check_moved(char *const *before, long n)
{
	char count[24];

	snprintf(count, sizeof(count), "%ld", n + 1);
	if (!same(env[0], count))
		fail("GIT_CONFIG_COUNT is not one more", env[0]);
	if (!same(env[1], "core.trustctime") || !same(env[2], "false"))
		fail("core.trustctime = false is not first", env[1]);
	for (long i = 0; i < n; i++)
		for (int kv = 0; kv < 2; kv++) {
			const char *was = before[1 + 2 * i + kv];

			if (!same(env[1 + 2 * (i + 1) + kv], was ? was : ""))
				fail("a setting of the user's not moved up as it was", was);
		}
	for (int s = 1 + 2 * ((int)n + 1); s < SLOTS; s++)
		if (!same(env[s], before[s]))
			fail("a variable past the settings changed", env[s]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *before[SLOTS], *once[SLOTS], *p;
	const char *count;
	long n;
	long long want;
	int s = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* The pieces: COUNT, then KEY_0, VALUE_0, ... */
	for (p = buf; p <= buf + size && s < 1 + 2 * GIVEN; p += strlen(p) + 1, s++)
		env[s] = strcmp(p, UNSET) == 0 ? NULL : copy_of(p);
	free(buf);

	count = env[0] ? env[0] : "";
	n = gitenv_count(env[0]);
	want = git_count(count);
	if (n != (want > GITENV_MAX ? -1 : want))
		fail("gitenv_count disagrees with git", count);

	if (n <= RUN_MAX) {
		env_save(before);
		env_other = 0;
		if (gitenv_each(get, put) < 0 || env_other)
			fail("gitenv_each failed, or set another variable", count);
		if (n < 0 || (n > 0 && same(before[1], "core.trustctime") && same(before[2], "false")))
			same_env(before, "the environment changed when it should not");
		else
			check_moved(before, n);
		env_save(once);
		if (gitenv_each(get, put) < 0)
			fail("gitenv_each failed the second time", count);
		same_env(once, "a second gitenv_each changed the environment");
		env_clear(once);
		env_clear(before);
	}
	env_clear(env);
	return 0;
}
