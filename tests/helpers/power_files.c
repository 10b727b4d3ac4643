/* power_files.c - many small files replaced the way legacy tools do, and
 * checked after a power loss, for bats/powerloss.bats.
 *
 *   power_files write DIR N SIZE GEN [durable]
 *       replaces DIR/f000.yaml .. DIR/f<N-1>.yaml with generation GEN of
 *       their content: open(O_WRONLY|O_CREAT|O_TRUNC), write() in 1 KiB
 *       pieces, close(), one file after the other; no fsync.  "durable":
 *       the same written by hand the careful way instead, for comparison
 *       without the library: into DIR/.fNNN.yaml.tmp, fsync, rename over
 *       the file, fsync of DIR.  Stops at the first failure: exit 1 when
 *       an open failed, 2 when a write, an fsync, a rename or a close did.
 *       Prints "ack I T" for each file I whose close (durable: whose
 *       directory's fsync) returned 0, T the time it returned
 *       (CLOCK_REALTIME, in ns, as date +%s%N), then "written=K" (how many
 *       did).
 *   power_files check DIR N SIZE OLD NEW [DURABLE]
 *       sorts each file: whole generation OLD, whole generation NEW,
 *       empty, torn (any other content: a part, zeros, a mix), missing;
 *       counts as lost each of the first DURABLE files (those whose close
 *       had returned 0) that is whole but OLD, and the temps of ours left
 *       in DIR (.NAME.atomically.*).  Prints one line per damaged or lost
 *       file, then "files=N old=A new=B empty=C torn=D missing=E lost=F
 *       temps=G"; exit 0 when every file is whole, none is lost and no
 *       temp is left, 1 otherwise.
 *
 * Generation G of file I is SIZE bytes of lines "file I generation G line
 * L", cut at SIZE: two generations of one file differ in every line, so a
 * mix of them, or a part of one, is told from both.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *content(int file, int gen, size_t size)
{
	char *buf = malloc(size + 64);
	size_t len = 0;

	if (!buf) {
		perror("malloc");
		exit(3);
	}
	for (int line = 0; len < size; line++)
		len += (size_t)sprintf(buf + len, "file %03d generation %d line %05d\n",
				       file, gen, line);
	return buf;
}

static int write_all(const char *dir, int n, size_t size, int gen, int durable)
{
	char path[4096], temp[4096];
	int written = 0, status = 0, dfd = -1;

	if (durable && (dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		perror(dir);
		return 1;
	}
	for (int i = 0; i < n && !status; i++) {
		char *text = content(i, gen, size);
		int fd;

		snprintf(path, sizeof(path), "%s/f%03d.yaml", dir, i);
		snprintf(temp, sizeof(temp), "%s/.f%03d.yaml.tmp", dir, i);
		fd = open(durable ? temp : path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			perror(durable ? temp : path);
			status = 1;
		}
		for (size_t off = 0; fd >= 0 && off < size && !status; off += 1024) {
			size_t len = size - off < 1024 ? size - off : 1024;
			if (write(fd, text + off, len) != (ssize_t)len) {
				perror("write");
				status = 2;
			}
		}
		if (fd >= 0 && durable && !status && fsync(fd) != 0) {
			perror("fsync");
			status = 2;
		}
		if (fd >= 0 && close(fd) != 0) {
			perror("close");
			status = 2;
		}
		if (durable && !status && rename(temp, path) != 0) {
			perror("rename");
			status = 2;
		}
		if (durable && !status && fsync(dfd) != 0) {
			perror("fsync of the directory");
			status = 2;
		}
		if (!status) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			printf("ack %d %lld%09ld\n", i, (long long)ts.tv_sec, ts.tv_nsec);
			written++;
		}
		free(text);
	}
	if (dfd >= 0)
		close(dfd);
	printf("written=%d\n", written);
	return status;
}

static int temps_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int temps = 0;

	if (!d) {
		perror(dir);
		exit(3);
	}
	while ((e = readdir(d)))
		if (e->d_name[0] == '.' && strstr(e->d_name, ".atomically.")) {
			printf("temp left: %s\n", e->d_name);
			temps++;
		}
	closedir(d);
	return temps;
}

static int check_all(const char *dir, int n, size_t size, int old, int new, int durable)
{
	int count[5] = { 0 }, lost = 0;  /* old, new, empty, torn, missing */
	static const char *what[5] = { "old", "new", "empty", "torn", "missing" };
	char path[4096], *got = malloc(size + 1);
	int temps;

	if (!got) {
		perror("malloc");
		exit(3);
	}
	for (int i = 0; i < n; i++) {
		char *a = content(i, old, size), *b = content(i, new, size);
		int fd, kind;
		ssize_t len = 0, r;

		snprintf(path, sizeof(path), "%s/f%03d.yaml", dir, i);
		fd = open(path, O_RDONLY);
		if (fd < 0 && errno != ENOENT) {
			perror(path);
			exit(3);
		}
		/* Read at most SIZE + 1 bytes: a longer file is torn too. */
		while (fd >= 0 && (size_t)len <= size &&
		       (r = read(fd, got + len, size + 1 - (size_t)len)) > 0)
			len += r;
		if (fd < 0)
			kind = 4;
		else if (len == 0)
			kind = 2;
		else if ((size_t)len == size && !memcmp(got, a, size))
			kind = 0;
		else if ((size_t)len == size && !memcmp(got, b, size))
			kind = 1;
		else
			kind = 3;
		if (fd >= 0)
			close(fd);
		count[kind]++;
		if (kind >= 2)
			printf("%s: %s (%zd bytes)\n", path, what[kind], len);
		if (kind == 0 && i < durable) {
			printf("%s: lost (old, though its close had returned 0)\n", path);
			lost++;
		}
		free(a);
		free(b);
	}
	temps = temps_in(dir);
	printf("files=%d old=%d new=%d empty=%d torn=%d missing=%d lost=%d temps=%d\n", n,
	       count[0], count[1], count[2], count[3], count[4], lost, temps);
	free(got);
	return count[2] + count[3] + count[4] + lost + temps ? 1 : 0;
}

int main(int argc, char **argv)
{
	if ((argc == 6 || (argc == 7 && !strcmp(argv[6], "durable"))) && !strcmp(argv[1], "write"))
		return write_all(argv[2], atoi(argv[3]), (size_t)atol(argv[4]), atoi(argv[5]),
				 argc == 7);
	if ((argc == 7 || argc == 8) && !strcmp(argv[1], "check"))
		return check_all(argv[2], atoi(argv[3]), (size_t)atol(argv[4]), atoi(argv[5]),
				 atoi(argv[6]), argc == 8 ? atoi(argv[7]) : 0);
	fprintf(stderr, "usage: power_files write DIR N SIZE GEN [durable]\n"
			"       power_files check DIR N SIZE OLD NEW [DURABLE]\n");
	return 64;
}
