/* escape.h - text from outside (a file name, a variable) made safe to
 * print as part of one line: a name with a newline in it must not start
 * a line of its own in a log, where it could pass for the library's own
 * word ("atomically: /etc/passwd: committed"), nor in --clean's report.
 *
 * Bytes below 0x20 and 0x7f become \n, \r, \t or \xNN, and a backslash
 * becomes \\, so that the escaped text tells every name apart.  Bytes of
 * 0x80 and above (UTF-8) pass as they are.
 */
#ifndef ATOMICALLY_ESCAPE_H
#define ATOMICALLY_ESCAPE_H

#include <stddef.h>

/* LEN bytes of IN into OUT (SIZE bytes, NUL-terminated, cut short where
 * it does not fit, never in the middle of an escape); returns the length
 * written. */
size_t escape_text(char *out, size_t size, const char *in, size_t len);

/* Does S need escape_text at all? */
int escape_needed(const char *s);

#endif
