/* The machine's own ceiling for a command per item: start COMMAND (stdin and stdout on
 * /dev/null) with posix_spawn and wait for it with waitpid, N times in a row, as fast as this
 * machine allows; prints the starts per second. No broker, no queue: the bound of any tool that
 * runs one command at a time. Built and run by bench/bench.py.
 *   spawn_ceiling N PATH [ARG...]
 * Every signal is set to its default in the child: with glibc 2.36 that is the cheapest way to
 * spawn (one rt_sigaction per signal; without it, two). */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: spawn_ceiling N PATH [ARG...]\n");
        return 64;
    }
    int n = atoi(argv[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < n; i++) {
        pid_t pid;
        int status;
        int error = posix_spawn(&pid, argv[2], &actions, &attributes, argv + 2, environ);
        if (error) {
            fprintf(stderr, "spawn_ceiling: cannot start %s: error %d\n", argv[2], error);
            return 1;
        }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "spawn_ceiling: %s failed\n", argv[2]);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("%.1f\n", n / ((end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9));
    return 0;
}
