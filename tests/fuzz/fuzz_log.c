/* fuzz_log.c - libFuzzer target for ATOMICALLY_LOG (src/core/log.c) and
 * for the escaping of every line the log writes (src/core/escape.c).
 *
 * The input, cut at its first NUL and copied into a buffer of exactly
 * its size, is a value of ATOMICALLY_LOG ("LEVEL" or "LEVEL:FILE") for
 * log_env_parse, as every process's constructor reads it:
 *
 *  - the level is the one named before the first ':' (or the end), by a
 *    list of names written here; -1 for anything else, never another
 *    number;
 *  - the file is what follows that ':', in place; none without one.
 *
 * The whole input, NULs and all, is then the text of a message for
 * escape_text, into buffers of exactly the sizes given (0, 1, a few
 * from the input, and room for the worst case):
 *
 *  - what it writes ends with a NUL within the buffer, at the length it
 *    returns, and holds no control character;
 *  - read back (\n \r \t \\ \xNN), it is the text, or a prefix of it cut
 *    before an escape (never inside one) that would not have fitted; all
 *    of it with room for the worst case;
 *  - escape_needed says whether escaping changes the text.
 *
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/log.h"

static const char *const levels[] = { "error", "warn", "info", "debug" };

static void fail(const char *what, const char *text)
{
	fprintf(stderr, "fuzz_log: %s: \"%s\"\n", what, text ? text : "(null)");
	abort();
}

static void *alloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "fuzz_log: out of memory\n");
		exit(2);
	}
	return p;
}

/* ---- ATOMICALLY_LOG ---- */

static void check_env(const char *value)
{
	const char *colon = strchr(value, ':'), *file = value;
	size_t n = colon ? (size_t)(colon - value) : strlen(value);
	int want = -1, got;

	for (int i = 0; i < 4; i++)
		if (strlen(levels[i]) == n && memcmp(levels[i], value, n) == 0)
			want = i;
	got = log_env_parse(value, &file);
	if (got != want)
		fail("log_env_parse: not the level named before the ':'", value);
	if (file != (colon ? colon + 1 : NULL))
		fail("log_env_parse: not the file after the first ':'", value);
}

/* ---- escape_text ---- */

/* The value of the lowercase hex digit C, or -1 (escape.h: \xNN). */
static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The text OUT stands for, into BACK (room for as many bytes as OUT
 * has); its length, or -1 when OUT holds what escape_text never writes. */
static long unescape(const char *out, char *back)
{
	long n = 0;

	for (const char *p = out; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f)
			return -1;
		if (c != '\\') {
			back[n++] = (char)c;
			continue;
		}
		switch (*++p) {
		case 'n': back[n++] = '\n'; break;
		case 'r': back[n++] = '\r'; break;
		case 't': back[n++] = '\t'; break;
		case '\\': back[n++] = '\\'; break;
		case 'x':
			if (hex(p[1]) < 0 || hex(p[2]) < 0)
				return -1;
			back[n++] = (char)(hex(p[1]) << 4 | hex(p[2]));
			p += 2;
			break;
		default:
			return -1;
		}
	}
	return n;
}

/* The length of the escape of C. */
static size_t escape_len(unsigned char c)
{
	if (c >= 0x20 && c != 0x7f && c != '\\')
		return 1;
	return c == '\n' || c == '\r' || c == '\t' || c == '\\' ? 2 : 4;
}

static void check_escape(const char *in, size_t len, size_t size)
{
	char *out = alloc(size), *back = alloc(size + 1);
	size_t n = escape_text(out, size, in, len);
	long b;

	if (size == 0) {
		if (n != 0)
			fail("escape_text: wrote into no room", NULL);
		goto out;
	}
	if (n >= size || out[n] != '\0' || strlen(out) != n)
		fail("escape_text: not ended by a NUL at the length it returns", out);
	if ((b = unescape(out, back)) < 0)
		fail("escape_text: a control character, or an escape cut or unknown", out);
	if ((size_t)b > len || memcmp(back, in, (size_t)b) != 0)
		fail("escape_text: not a prefix of the text", out);
	if ((size_t)b < len && n + escape_len((unsigned char)in[b]) < size)
		fail("escape_text: cut short with room for the next", out);
	if (size > 4 * len && (size_t)b != len)
		fail("escape_text: cut short with room for it all", out);
out:
	free(back);
	free(out);
}

static void check_needed(const char *s)
{
	size_t len = strlen(s);
	char *out = alloc(4 * len + 1);

	escape_text(out, 4 * len + 1, s, len);
	if (escape_needed(s) != (strcmp(out, s) != 0))
		fail("escape_needed: wrong about the text", s);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t len = nul ? (size_t)(nul - data) : size;
	char *value = alloc(len + 1), *text = alloc(size);

	memcpy(value, data, len);
	value[len] = '\0';
	check_env(value);
	check_needed(value);

	memcpy(text, data, size);
	check_escape(text, size, 0);
	check_escape(text, size, 1);
	check_escape(text, size, 4 * size + 1);
	/* A few sizes of the input's choosing: its first bytes. */
	for (size_t i = 0; i < 3 && i < size; i++)
		check_escape(text, size, (unsigned char)data[i] % (4 * size + 2));
	free(text);
	free(value);
	return 0;
}
