/* elfcheck.h - can a preload library reach this program at all? */
#ifndef ATOMICALLY_ELFCHECK_H
#define ATOMICALLY_ELFCHECK_H

/* What keeps a preload out of a program, by what the binary is (never
 * its name).  The seccomp supervisor covers the two kinds that make
 * their own system calls with the privileges they were started with
 * (STATIC, GO); the others it leaves alone: a privileged program must
 * not get no_new_privs (its privileges are its purpose), and a 32-bit
 * one makes its calls by other numbers than the filter knows. */
enum elf_kind {
	ELF_REACHED,      /* nothing wrong, or nothing can be told */
	ELF_STATIC,       /* statically linked: no dynamic linker */
	ELF_GO,           /* Go: its own system calls, past libc */
	ELF_PRIVILEGED,   /* set-user-ID, set-group-ID, file capabilities */
	ELF_32BIT,        /* another ABI than the library's */
	ELF_MUSL,         /* dynamic, with musl's dynamic linker: reached only by
			   * the musl build of the library (elf_musl_reached) */
};

/* What a preload can do for the program at PATH; *WHY (when not
 * ELF_REACHED) says it in words.  A script is judged by its
 * interpreter. */
enum elf_kind elf_preload_kind(const char *path, const char **why);

/* Does the ELF file at PATH name a dynamic linker (PT_INTERP)?  A Go
 * program built with cgo does: the library is loaded into it. */
int elf_dynamic(const char *path);

/* Will an image of KIND (ELF_REACHED: a glibc one; ELF_MUSL), run with
 * the LD_PRELOAD value LIST, load the library?  The name the launcher
 * gives, DIR/$LIB/libatomically.so with a literal "$LIB", serves both:
 * glibc expands it to the glibc build, musl finds the musl build there,
 * when it is installed (scripts/preload_tree.sh).  A library named by
 * its own path serves only programs of the C library it was built for,
 * which is this process's. */
int elf_reaches(enum elf_kind kind, const char *list);

#endif
