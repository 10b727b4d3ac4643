/* preloadenv.c - the LD_PRELOAD the launcher gives COMMAND (preloadenv.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preloadenv.h"

/* What the dynamic linker splits LD_PRELOAD on. */
#define SEPARATORS " :"

int preload_entry(const char *lib, const char *glibc_lib, char *out, size_t size)
{
	const char *slash = strrchr(lib, '/'), *name = slash ? slash + 1 : lib;
	int dir = slash ? (int)(slash - lib) : 0, n;
	char probe[PATH_MAX];

	n = snprintf(probe, sizeof(probe), "%.*s/%s/%s", dir, lib, glibc_lib, name);
	if (slash && glibc_lib[0] && n > 0 && (size_t)n < sizeof(probe) && access(probe, R_OK) == 0)
		n = snprintf(out, size, "%.*s/$LIB/%s", dir, lib, name);
	else
		n = snprintf(out, size, "%s", lib);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* Is the N-byte name at NAME the file WANT (its device and inode)? */
static int names_file(const char *name, size_t n, const struct stat *want)
{
	char path[PATH_MAX];
	struct stat st;

	if (n == 0 || n >= sizeof(path))
		return 0;
	memcpy(path, name, n);
	path[n] = '\0';
	return stat(path, &st) == 0 && st.st_dev == want->st_dev && st.st_ino == want->st_ino;
}

char *preload_renamed(const char *list, const char *lib, const char *entry, int *nomem)
{
	size_t len = strlen(list), elen = strlen(entry), out = 0;
	struct stat want;
	int placed = 0;
	char *v;

	*nomem = 0;
	if (stat(lib, &want) < 0)
		return NULL;
	/* Each name of LIST kept or dropped, and ENTRY in the place of one. */
	if (!(v = malloc(len + elen + 1))) {
		*nomem = 1;
		return NULL;
	}
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, SEPARATORS);
		int same = names_file(p, n, &want), written = !same || !placed;

		if (!same) {
			memcpy(v + out, p, n);
			out += n;
		} else if (!placed) {
			memcpy(v + out, entry, elen);
			out += elen;
			placed = 1;
		}
		p += n;
		if (*p) {
			if (written)  /* a dropped name's separator goes with it */
				v[out++] = *p;
			p++;
		}
	}
	while (out > 0 && strchr(SEPARATORS, v[out - 1]) && !strchr(SEPARATORS, list[len - 1]))
		out--;  /* a dropped last name's separator */
	v[out] = '\0';
	if (placed)
		return v;
	free(v);
	return NULL;
}

int preload_names(const char *list, const char *lib)
{
	size_t len = strlen(lib);

	while (*list) {
		size_t n = strcspn(list, SEPARATORS);
		if (n == len && strncmp(list, lib, len) == 0)
			return 1;
		list += n + (list[n] != '\0');
	}
	return 0;
}

/* The length of LIST up to the end of its first name when that is
 * AddressSanitizer's runtime, which refuses to start unless it comes
 * first; else 0.  Separators before it count: the dynamic linker skips
 * the empty names, and "$LD_PRELOAD:/path/libasan.so" with LD_PRELOAD
 * unset begins with one. */
static size_t asan_runtime_first(const char *list)
{
	size_t skip = strspn(list, SEPARATORS), n = skip + strcspn(list + skip, SEPARATORS);
	const char *base = list + n;

	while (base > list + skip && base[-1] != '/')
		base--;
	if (strncmp(base, "libasan", 7) == 0 || strncmp(base, "libclang_rt.asan", 16) == 0)
		return n;
	return 0;
}

char *preload_list(const char *old, const char *lib)
{
	size_t asan;
	char *v;

	if (!old || !*old)
		return strdup(lib);
	if (preload_names(old, lib))
		return strdup(old);
	if ((asan = asan_runtime_first(old)) > 0)
		return asprintf(&v, "%.*s:%s%s", (int)asan, old, lib, old + asan) < 0 ? NULL : v;
	return asprintf(&v, "%s:%s", lib, old) < 0 ? NULL : v;
}
