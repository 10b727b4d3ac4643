/* env.c - environ, read and changed by hand. */
#include <string.h>
#include <unistd.h>

#include "core/sys.h"
#include "env.h"

/* The value in ENTRY ("NAME=value") if it defines NAME, else NULL.  By
 * hand rather than strncmp: every process's constructor scans the whole
 * environment, and most entries differ at the first byte. */
static const char *value_of(const char *entry, const char *name)
{
	while (*name && *entry == *name)
		entry++, name++;
	return !*name && *entry == '=' ? entry + 1 : NULL;
}

const char *env_get_in(char *const env[], const char *name)
{
	const char *v;

	for (char *const *e = env; e && *e; e++)
		if ((v = value_of(*e, name)) != NULL)
			return v;
	return NULL;
}

const char *env_get(const char *name)
{
	return env_get_in(environ, name);
}

int env_set(const char *name, const char *value)
{
	size_t len = strlen(name), vlen = strlen(value), n = 0, k = 0;
	char **copy, *entry;
	void *mem;

	while (environ && environ[n])
		n++;
	mem = sys_map((n + 2) * sizeof(char *) + len + vlen + 2);
	if (!mem)
		return -1;
	copy = mem;
	entry = (char *)(copy + n + 2);
	memcpy(entry, name, len);
	entry[len] = '=';
	memcpy(entry + len + 1, value, vlen + 1);
	for (size_t i = 0; i < n; i++)
		if (!value_of(environ[i], name))
			copy[k++] = environ[i];
	copy[k++] = entry;
	copy[k] = NULL;
	environ = copy;
	return 0;
}

void env_unset(const char *name)
{
	size_t k = 0;

	if (!environ)
		return;
	for (size_t i = 0; environ[i]; i++)
		if (!value_of(environ[i], name))
			environ[k++] = environ[i];
	environ[k] = NULL;
}
