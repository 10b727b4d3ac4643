/* preloadenv.h - the LD_PRELOAD the launcher gives COMMAND.
 *
 * The dynamic linker splits LD_PRELOAD on spaces and colons, and loads a
 * library once however often it is named.  The library goes first,
 * keeping what was there, in order; but after AddressSanitizer's
 * runtime when that comes first, as it refuses to start otherwise.
 */
#ifndef ATOMICALLY_PRELOADENV_H
#define ATOMICALLY_PRELOADENV_H

#include <stddef.h>

/* The name LD_PRELOAD gives for LIB (the glibc build): DIR/$LIB/NAME,
 * with a literal "$LIB", when LIB's directory DIR holds the tree that
 * lets one value serve glibc and musl programs (DIR/GLIBC_LIB/NAME,
 * GLIBC_LIB being what glibc expands $LIB to: scripts/preload_tree.sh);
 * LIB itself otherwise.  Into OUT; 0, or -1 when it does not fit. */
int preload_entry(const char *lib, const char *glibc_lib, char *out, size_t size);

/* LIST with each name of the file LIB (its path, a link to it: the same
 * device and inode) put as ENTRY instead: the first in its place, the
 * others dropped.  NULL when LIST names no such file, or without memory
 * (*NOMEM set).  malloc'd. */
char *preload_renamed(const char *list, const char *lib, const char *entry, int *nomem);

/* Does the LD_PRELOAD list LIST name LIB? */
int preload_names(const char *list, const char *lib);

/* The value of LD_PRELOAD with LIB (a path without a space or colon),
 * made from OLD, its value now (NULL: none): OLD as it is when it names
 * LIB already; else LIB first, or second after an AddressSanitizer
 * runtime that comes first.  Reads OLD alone, no environment.  malloc'd;
 * NULL without memory. */
char *preload_list(const char *old, const char *lib);

#endif
