/* escape.c - text from outside made safe to print in one line. */
#include <string.h>

#include "escape.h"
#include "sys.h"

static int plain_byte(unsigned char c)
{
	return c >= 0x20 && c != 0x7f && c != '\\';
}

int escape_needed(const char *s)
{
	for (; *s; s++)
		if (!plain_byte((unsigned char)*s))
			return 1;
	return 0;
}

/* The escape of C, into E (5 bytes at most with its NUL). */
static void escape_of(unsigned char c, char e[5])
{
	static const char hex[] = "0123456789abcdef";

	e[0] = '\\';
	switch (c) {
	case '\n': e[1] = 'n'; e[2] = '\0'; return;
	case '\r': e[1] = 'r'; e[2] = '\0'; return;
	case '\t': e[1] = 't'; e[2] = '\0'; return;
	case '\\': e[1] = '\\'; e[2] = '\0'; return;
	}
	e[1] = 'x';
	e[2] = hex[c >> 4];
	e[3] = hex[c & 15];
	e[4] = '\0';
}

size_t escape_text(char *out, size_t size, const char *in, size_t len)
{
	size_t n = 0;

	if (size == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		char e[5];
		size_t elen;

		if (plain_byte(c)) {
			if (n + 1 >= size)
				break;
			out[n++] = (char)c;
			continue;
		}
		escape_of(c, e);
		elen = strlen(e);
		if (n + elen >= size)
			break;
		memcpy(out + n, e, elen);
		n += elen;
	}
	out[n] = '\0';
	return n;
}
