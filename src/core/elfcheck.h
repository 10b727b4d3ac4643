/* elfcheck.h - can a preload library reach this program at all? */
#ifndef ATOMICALLY_ELFCHECK_H
#define ATOMICALLY_ELFCHECK_H

/* Why a preload cannot cover the program at PATH (static binary,
 * set-user-ID, Go's raw system calls), or NULL when nothing is wrong or
 * nothing can be told.  A script is judged by its interpreter. */
const char *elf_preload_problem(const char *path);

#endif
