/* fuzz_preload.c - libFuzzer target for the LD_PRELOAD the launcher makes
 * (src/launcher/preloadenv.c).
 *
 * The input is OLD [NUL LIB]: the value of LD_PRELOAD before (empty: not
 * set), and the library's path (when it is missing, empty, or holds a
 * space or colon, which find_library refuses, a path of the usual
 * form).  The list is split here as the dynamic linker splits it (at
 * spaces and colons, the empty names skipped).  Checked, on the list
 * preload_list makes:
 *
 *  - preload_names says whether the list names LIB;
 *  - LIB is in it, once more than in OLD at most: a list that names it
 *    already comes back as it was;
 *  - without LIB, the names are OLD's, in order: nothing lost, nothing
 *    split or joined differently;
 *  - the library is the first name the dynamic linker loads, unless
 *    OLD's first is AddressSanitizer's runtime (libasan*,
 *    libclang_rt.asan*), which must stay first: then it is the second.
 *
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launcher/preloadenv.h"

#define LIB "/usr/local/lib/atomically/libatomically.so"

static void fail(const char *what, const char *old, const char *made)
{
	fprintf(stderr, "fuzz_preload: %s: \"%s\" made \"%s\"\n", what, old ? old : "(null)",
		made ? made : "(null)");
	abort();
}

/* The names of LIST as the dynamic linker reads them: at most MAX
 * pointers into COPY (modified); returns how many. */
static size_t names(char *copy, char **out, size_t max)
{
	size_t n = 0;

	for (char *tok = strtok(copy, " :"); tok && n < max; tok = strtok(NULL, " :"))
		out[n++] = tok;
	return n;
}

static int is_asan(const char *name)
{
	const char *base = strrchr(name, '/');

	base = base ? base + 1 : name;
	return strncmp(base, "libasan", 7) == 0 || strncmp(base, "libclang_rt.asan", 16) == 0;
}

static char *copy_of(const char *s)
{
	char *c = strdup(s);

	if (!c) {
		fprintf(stderr, "fuzz_preload: out of memory\n");
		exit(2);
	}
	return c;
}

static void check(const char *old, const char *lib)
{
	size_t len = strlen(old) + 1;
	char *made = preload_list(*old ? old : NULL, lib), *a = copy_of(old), *b;
	char **was = malloc(len * sizeof(*was)), **now = malloc((len + 1) * sizeof(*now));
	size_t nwas, nnow, k = 0, libs_was = 0, libs_now = 0;

	if (!made || !was || !now) {
		fprintf(stderr, "fuzz_preload: out of memory\n");
		exit(2);
	}
	b = copy_of(made);
	nwas = names(a, was, len);
	nnow = names(b, now, len + 1);
	for (size_t i = 0; i < nwas; i++)
		libs_was += strcmp(was[i], lib) == 0;
	if (preload_names(old, lib) != (libs_was > 0))
		fail("preload_names is wrong about the list", old, lib);
	if (libs_was && strcmp(made, old) != 0)
		fail("a list that names the library already changed", old, made);
	/* NOW without its first LIB is WAS. */
	for (size_t i = 0; i < nnow; i++) {
		if (strcmp(now[i], lib) == 0 && libs_now++ == 0 && !libs_was)
			continue;
		if (k >= nwas || strcmp(now[i], was[k++]) != 0)
			fail("the names before are not all there, in order", old, made);
	}
	if (k != nwas || !libs_now)
		fail("a name lost, or the library not there", old, made);
	if (!libs_was && strcmp(now[nwas && is_asan(was[0]) ? 1 : 0], lib) != 0)
		fail("the library is not first (or second, after ASan's runtime)", old, made);
	free(now);
	free(was);
	free(b);
	free(a);
	free(made);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2), *old, *lib;

	if (!buf)
		return 0;
	/* Two NULs after the input: LIB exists (maybe empty). */
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	old = buf;
	lib = old + strlen(old) + 1;
	if (!*lib || strpbrk(lib, " :"))
		lib = LIB;
	check(old, lib);
	free(buf);
	return 0;
}
