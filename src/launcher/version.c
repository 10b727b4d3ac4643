/* version.c - `atomically --version`.  A person debugging a CI job wants
 * to know which build ran, from which commit, on which libc, and which
 * library it hands to the command: all four come from the build
 * (build_info.h, written by make) and from the running process. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

#ifdef __GLIBC__
#include <gnu/libc-version.h>
#endif

#include "build_info.h"

#define STR2(x) #x
#define STR(x) STR2(x)

const char *version_libdir_from_bin(void)
{
	return BUILD_LIBDIR_FROM_BIN;
}

const char *version_libdir(void)
{
	return BUILD_LIBDIR;
}

const char *version_glibc_lib(void)
{
	return BUILD_GLIBC_LIB;
}

/* The libc the launcher was built for, and the one it runs on now: the
 * library is built against the same one, and the two differ only when
 * the system's libc was upgraded since. */
static void print_libc(FILE *out)
{
#ifdef __GLIBC__
	fprintf(out, "libc: glibc %s (built against %s.%s)\n", gnu_get_libc_version(),
		STR(__GLIBC__), STR(__GLIBC_MINOR__));
#else
	fputs("libc: musl\n", out);
#endif
}

/* The musl build beside LIBRARY, where a musl program finds it (the
 * literal "$LIB" directory: scripts/preload_tree.sh). */
static void print_musl(FILE *out, const char *library)
{
	const char *slash = library ? strrchr(library, '/') : NULL;
	char slot[PATH_MAX], real[PATH_MAX];
	int n = slash ? snprintf(slot, sizeof(slot), "%.*s/$LIB/libatomically.so",
				 (int)(slash - library), library) : -1;

	if (n > 0 && (size_t)n < sizeof(slot) && realpath(slot, real))
		fprintf(out, "library for musl: %s\n", real);
	else
		fputs("library for musl: none (musl programs are covered by the supervisor when "
		      "atomically starts them)\n", out);
}

void version_print(FILE *out, const char *library)
{
	fprintf(out, "atomically %s\n", BUILD_VERSION);
	fprintf(out, "commit: %s\n", BUILD_COMMIT);
	print_libc(out);
	fprintf(out, "library: %s\n", library ? library : "(not found)");
	print_musl(out, library);
}
