/* covered.h - a process the seccomp supervisor covers, told to the
 * library in it.
 *
 * A Go program built with cgo is dynamic: the preload is loaded into it
 * as into any program, and its C code's calls reach the library, while
 * its Go code's calls reach the kernel directly.  The supervisor sees
 * both (the filter stops every call, whoever makes it), so in that one
 * process the library stands aside: two of us acting for one process
 * would each take the lock of a file on a description of its own, and
 * the library would wait for the supervisor's as for another
 * process's (lock = "process").
 *
 * The covered process names itself in the environment just before its
 * exec: its pid and its start time, so that a later process of the tree
 * that inherits the variable and gets the same pid again is not taken
 * for it.  Its children are other processes: the library acts in them.
 */
#ifndef ATOMICALLY_COVERED_H
#define ATOMICALLY_COVERED_H

#include <stddef.h>

#define COVERED_ENV "ATOMICALLY_COVERED"

/* The calling process's name for COVERED_ENV into BUF.  0, or -1 when
 * its start time cannot be read. */
int covered_name_self(char *buf, size_t size);

/* Does VALUE (COVERED_ENV's, or NULL) name the calling process? */
int covered_is_self(const char *value);

#endif
