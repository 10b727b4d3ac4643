/* test_tempname.c - table-driven tests of src/core/tempname.c: which names are
 * temps, of which target, and whose.  The library's sweep and the
 * launcher's --clean remove what temp_owner recognises: a name taken for
 * a temp by mistake is a file lost.
 *
 * Prints each failing row and a last line "N passed, M failed"; exits 1
 * when anything failed.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/tempname.h"

static int passed, failed;

static void check(int got, int want, const char *table, int row, const char *entry, const char *name)
{
	if (got == want) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL %s row %d: temp_owner(\"%s\", %s%s%s): got %d, want %d\n", table, row,
	       entry, name ? "\"" : "", name ? name : "NULL", name ? "\"" : "", got, want);
}

/* WANT with NAME, ANY with NULL (a temp of any name); NAME "*": the row
 * is checked with NULL only. */
static const struct {
	const char *entry, *name;
	int want, any;
} rows[] = {
	{ ".f.yaml.atomically.123.abcdef", "f.yaml", 123, 123 },
	{ ".f.yaml.atomically.123.abcdef", "g.yaml", -1, 123 },
	{ ".f.yaml.atomically.123.abcdef", "f.yam", -1, 123 },
	{ ".f.yaml.atomically.123.abcdef", "f.yaml.x", -1, 123 },
	{ ".f.yaml.atomically.123.abcdef", "", -1, 123 },
	{ ".f.yaml.atomically.0123.abcdef", "f.yaml", 123, 123 },   /* as the sweep always read it */
	{ ".f.yaml.atomically.2147483647.0a1b2c", "f.yaml", 2147483647, 2147483647 },
	{ ".f.yaml.atomically.2147483648.0a1b2c", "*", -1, -1 },
	{ ".f.yaml.atomically.12345678901.abcdef", "*", -1, -1 },  /* 11 digits */
	{ ".f.yaml.atomically.0.abcdef", "*", -1, -1 },
	{ ".f.yaml.atomically.123.abcde", "*", -1, -1 },
	{ ".f.yaml.atomically.123.abcdef0", "*", -1, -1 },
	{ ".f.yaml.atomically.123.ABCDEF", "*", -1, -1 },
	{ ".f.yaml.atomically.123.abcdeg", "*", -1, -1 },
	{ ".f.yaml.atomically.12x.abcdef", "*", -1, -1 },
	{ ".f.yaml.atomically.-12.abcdef", "*", -1, -1 },
	{ ".f.yaml.atomically.+12.abcdef", "*", -1, -1 },
	{ ".f.yaml.atomically..abcdef", "*", -1, -1 },
	{ ".f.yaml.atomically.123abcdef", "*", -1, -1 },
	{ ".f.yaml.atomically.123.abcdef~", "*", -1, -1 },
	{ ".f.yaml.atomically.123.abcdef.lock", "*", -1, -1 },
	{ ".f.yaml.atomic.123.abcdef", "*", -1, -1 },
	{ ".f.yaml.123.abcdef", "*", -1, -1 },
	{ "f.yaml.atomically.123.abcdef", "*", -1, -1 },          /* no leading dot */
	{ "..atomically.123.abcdef", "*", -1, -1 },               /* no NAME */
	{ ".atomically.123.abcdef", "*", -1, -1 },
	{ "", "*", -1, -1 },
	{ ".", "*", -1, -1 },
	/* A NAME may hold what the suffix holds: the suffix is read from the end. */
	{ ".x.atomically.5.atomically.7.abcdef", "x.atomically.5", 7, 7 },
	{ ".x.atomically.5.atomically.7.abcdef", "x", -1, 7 },
	{ ".f.atomically.1.abcdef.atomically.9.012345", "f.atomically.1.abcdef", 9, 9 },
	{ ".9.atomically.9.999999", "9", 9, 9 },
	{ "...atomically.1.abcdef", ".", 1, 1 },
};

static void test_rows(void)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *e = rows[i].entry, *n = rows[i].name;

		if (strcmp(n, "*") != 0)
			check(temp_owner(e, n), rows[i].want, "rows", (int)i, e, n);
		check(temp_owner(e, NULL), rows[i].any, "rows (any name)", (int)i, e, NULL);
	}
}

/* Long names are cut in the temp's name: the temp of a long NAME is
 * recognised by NAME and by NULL, and a longer NAME in a temp's name than
 * temp_prefix ever writes is no temp. */
static void test_long(void)
{
	char name[NAME_MAX + 1], entry[2 * NAME_MAX];
	int n, row = 0;

	for (size_t len = NAME_MAX - TEMP_SUFFIX_ROOM - 1; len <= NAME_MAX; len++, row++) {
		memset(name, 'n', len);
		name[len] = '\0';
		n = temp_prefix(entry, sizeof(entry), name);
		snprintf(entry + n, sizeof(entry) - (size_t)n, "%d.%06x", 2147483647, 0xabcdef);
		check((int)strlen(entry) <= NAME_MAX, 1, "long fits NAME_MAX", row, entry, name);
		check(temp_owner(entry, name), 2147483647, "long", row, entry, name);
		check(temp_owner(entry, NULL), 2147483647, "long (any name)", row, entry, NULL);
	}
	/* One byte of NAME more than temp_prefix keeps. */
	memset(name, 'n', NAME_MAX - TEMP_SUFFIX_ROOM + 1);
	name[NAME_MAX - TEMP_SUFFIX_ROOM + 1] = '\0';
	snprintf(entry, sizeof(entry), ".%s.atomically.42.abcdef", name);
	check(temp_owner(entry, NULL), -1, "too long", 0, entry, NULL);
	check(temp_owner(entry, name), -1, "too long", 1, entry, name);
}

int main(void)
{
	test_rows();
	test_long();
	printf("%d passed, %d failed\n", passed, failed);
	return failed > 0;
}
