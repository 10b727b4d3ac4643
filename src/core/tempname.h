/* tempname.h - the name of a named temp, and whether its owner lives.
 *
 * A named temp is
 *
 *   .NAME.atomically.PID.RANDOM
 *
 * NAME the target's name cut to NAME_MAX - TEMP_SUFFIX_ROOM bytes, PID
 * its writer's pid in decimal, RANDOM six lowercase hexadecimal digits.
 * The library makes and sweeps such names (tempfile.c), the launcher's
 * --clean finds them in whole trees: this is the part both need, and it
 * uses nothing but libc.
 */
#ifndef ATOMICALLY_TEMPNAME_H
#define ATOMICALLY_TEMPNAME_H

#include <stddef.h>

/* Room kept in a temp's name for ".atomically.PID.RANDOM": the target's
 * name is cut short to fit. */
#define TEMP_SUFFIX_ROOM 40

/* ".NAME.atomically." (NAME cut) into OUT; returns its length. */
int temp_prefix(char *out, size_t size, const char *name);

/* If ENTRY is the name of a temp of NAME, its owner's pid; else -1.
 * With NAME NULL, a temp of any name. */
int temp_owner(const char *entry, const char *name);

/* Is the process PID gone?  (A pid we cannot signal is alive as far as
 * we know: it may be another user's.)  Keeps errno. */
int temp_owner_dead(int pid);

#endif
