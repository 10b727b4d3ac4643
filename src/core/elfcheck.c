/* elfcheck.c - look into an executable for what defeats LD_PRELOAD. */
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "elfcheck.h"
#include "sys.h"

/* Read exactly SIZE bytes at OFF; 0 on success. */
static int read_at(int fd, void *buf, size_t size, off_t off)
{
	return sys_pread(fd, buf, size, off) == (ssize_t)size ? 0 : -1;
}

/* Does the 64-bit ELF file FD have a section named NAME? */
static int has_section(int fd, const Elf64_Ehdr *eh, const char *name)
{
	Elf64_Shdr strtab, sh;
	char buf[64];
	size_t len = strlen(name) + 1;

	if (eh->e_shoff == 0 || eh->e_shstrndx == SHN_UNDEF ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    read_at(fd, &strtab, sizeof(strtab),
		    (off_t)(eh->e_shoff + (Elf64_Off)eh->e_shstrndx * sizeof(sh))) < 0)
		return 0;
	for (unsigned i = 0; i < eh->e_shnum && i < 4096; i++) {
		if (read_at(fd, &sh, sizeof(sh), (off_t)(eh->e_shoff + i * sizeof(sh))) < 0)
			return 0;
		if (sh.sh_name + len > strtab.sh_size || len > sizeof(buf))
			continue;
		if (read_at(fd, buf, len, (off_t)(strtab.sh_offset + sh.sh_name)) == 0 &&
		    memcmp(buf, name, len) == 0)
			return 1;
	}
	return 0;
}

static const char *const said[] = {
	[ELF_STATIC] = "it is statically linked: the dynamic linker, which loads the library, never runs",
	[ELF_GO] = "it is a Go program: Go makes its own system calls, past the library",
	[ELF_32BIT] = "it is a 32-bit program: the dynamic linker cannot load the 64-bit library into it",
	[ELF_MUSL] = "it is linked against musl, and no musl build of the library is installed",
};

/* Is the dynamic linker PH names musl's (/lib/ld-musl-ARCH.so.1)? */
static int musl_interpreter(int fd, const Elf64_Phdr *ph)
{
	char interp[256];
	size_t n = ph->p_filesz < sizeof(interp) - 1 ? ph->p_filesz : sizeof(interp) - 1;

	if (read_at(fd, interp, n, (off_t)ph->p_offset) < 0)
		return 0;
	interp[n] = '\0';
	return strstr(interp, "/ld-musl-") != NULL;
}

static enum elf_kind elf_problem(int fd, int *dynamic_out)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int dynamic = 0, musl = 0;

	if (read_at(fd, &eh, sizeof(eh), 0) < 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return ELF_REACHED;  /* not an ELF file: say nothing */
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return ELF_32BIT;
	if (eh.e_phentsize != sizeof(ph))
		return ELF_REACHED;
	for (unsigned i = 0; i < eh.e_phnum && i < 1024; i++) {
		if (read_at(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) < 0)
			return ELF_REACHED;
		if (ph.p_type == PT_INTERP) {
			dynamic = 1;
			musl = musl_interpreter(fd, &ph);
		}
	}
	if (dynamic_out)
		*dynamic_out = dynamic;
	/* Go first: a static Go program is a Go program (its kind decides
	 * how it is covered, not its linking). */
	if (has_section(fd, &eh, ".go.buildinfo"))
		return ELF_GO;
	if (musl)
		return ELF_MUSL;
	return dynamic ? ELF_REACHED : ELF_STATIC;
}

/* The interpreter of a "#!" script, into BUF; NULL if FD is no script. */
static const char *script_interpreter(int fd, char *buf, size_t size)
{
	ssize_t n = sys_pread(fd, buf, size - 1, 0);
	char *p, *end;

	if (n < 3 || buf[0] != '#' || buf[1] != '!')
		return NULL;
	buf[n] = '\0';
	for (p = buf + 2; *p == ' ' || *p == '\t'; p++)
		;
	for (end = p; *end && *end != ' ' && *end != '\t' && *end != '\n'; end++)
		;
	*end = '\0';
	return *p == '/' ? p : NULL;
}

enum elf_kind elf_preload_kind(const char *path, const char **why)
{
	static char said_interp[512];
	char buf[256];
	const char *interp;
	enum elf_kind kind;
	struct stat st;
	int fd;

	*why = NULL;
	if (sys_fstatat(AT_FDCWD, path, &st, 0) < 0)
		return ELF_REACHED;
	*why = "it is set-user-ID or set-group-ID: the dynamic linker ignores LD_PRELOAD for it";
	if ((st.st_mode & S_ISUID) || (st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		return ELF_PRIVILEGED;
	*why = "it has file capabilities: the dynamic linker ignores LD_PRELOAD for it";
	if (sys_getxattr(path, "security.capability", NULL, 0) > 0)
		return ELF_PRIVILEGED;
	*why = NULL;
	if ((fd = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0)) < 0)
		return ELF_REACHED;
	kind = elf_problem(fd, NULL);
	*why = said[kind];
	if (kind == ELF_REACHED && (interp = script_interpreter(fd, buf, sizeof(buf))) != NULL) {
		sys_close(fd);
		if ((fd = sys_openat(AT_FDCWD, interp, O_RDONLY | O_CLOEXEC, 0)) < 0)
			return ELF_REACHED;
		if ((kind = elf_problem(fd, NULL)) != ELF_REACHED) {
			snprintf(said_interp, sizeof(said_interp), "its interpreter %s: %s", interp,
				 said[kind]);
			*why = said_interp;
		}
	}
	sys_close(fd);
	return kind;
}

/* Does LIST name the library through "$LIB"?  1, and in *MUSL whether
 * the musl build is at that literal path; else 0. */
static int named_through_lib(const char *list, int *musl)
{
	static const char slot[] = "/$LIB/libatomically.so";
	char path[PATH_MAX];

	while (list && *list) {
		size_t n = strcspn(list, " :");

		if (n >= sizeof(slot) - 1 && n < sizeof(path) &&
		    memcmp(list + n - (sizeof(slot) - 1), slot, sizeof(slot) - 1) == 0) {
			memcpy(path, list, n);
			path[n] = '\0';
			*musl = sys_faccessat(AT_FDCWD, path, R_OK, 0) == 0;
			return 1;
		}
		list += n + (list[n] != '\0');
	}
	return 0;
}

int elf_reaches(enum elf_kind kind, const char *list)
{
#ifdef __GLIBC__
	const int musl_here = 0;
#else
	const int musl_here = 1;
#endif
	int musl = 0, token = named_through_lib(list, &musl);

	if (kind == ELF_REACHED)
		return !musl_here || token;
	if (kind == ELF_MUSL)
		return token ? musl : musl_here;
	return 0;
}

int elf_dynamic(const char *path)
{
	int fd = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0), dynamic = 0;

	if (fd < 0)
		return 0;
	elf_problem(fd, &dynamic);
	sys_close(fd);
	return dynamic;
}
