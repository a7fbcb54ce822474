/*
 * bench/execstamp.c: `execstamp FILE PROGRAM [ARGS...]` writes
 * clock_gettime(CLOCK_MONOTONIC) in ns to FILE, then execs PROGRAM with the
 * same environment. bench/run.py starts an adapter through it to time the
 * adapter's own start (its exec to its register request at the emulator,
 * both on the machine's one CLOCK_MONOTONIC) without the harness's fork and
 * exec of it. The stamp is taken before FILE is written and closed, so those
 * few microseconds count against the adapter, never for it.
 *
 * Built by bench/run.py with `cc -O2`; POSIX only.
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: execstamp FILE PROGRAM [ARGS...]\n");
        return 2;
    }
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror("execstamp: open");
        return 2;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    dprintf(fd, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    close(fd);
    execv(argv[2], argv + 2);
    perror("execstamp: exec");
    return 127;
}
