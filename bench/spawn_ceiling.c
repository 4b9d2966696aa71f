#define _GNU_SOURCE
/* The machine's own ceiling for a command per item: start COMMAND (stdin and stdout on
 * /dev/null) with posix_spawn and wait for it with waitpid, N times in a row, as fast as this
 * machine allows; prints the starts per second. No broker, no queue: the bound of any tool that
 * runs one command at a time. Built and run by bench/bench.py.
 *   spawn_ceiling N PATH [ARG...]
 *   spawn_ceiling --ahead N PATH [ARG...]
 * With --ahead, the loop does what `processor --spawn-ahead` does: the next command starts (its
 * stdin a pipe, still empty) before the one in hand is given its input ("item\n", then end of
 * file) and waited for, so one command's start-up overlaps the other's run.
 * Every signal is set to its default in the child: with glibc 2.36 that is the cheapest way to
 * spawn (one rt_sigaction per signal; without it, two). */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static posix_spawnattr_t attributes;

/* Starts argv[0] with its stdin the read end of a new pipe, whose write end goes to *input. */
static int start_ahead(char **argv, pid_t *pid, int *input) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    int error = posix_spawn(pid, argv[0], &actions, &attributes, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[0]);
    *input = fds[1];
    return error;
}

static int finished(pid_t pid, const char *path) {
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "spawn_ceiling: %s failed\n", path);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    int ahead = argc > 1 && strcmp(argv[1], "--ahead") == 0;
    if (ahead) {
        argc--;
        argv++;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: spawn_ceiling [--ahead] N PATH [ARG...]\n");
        return 64;
    }
    int n = atoi(argv[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_init(&attributes);
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t next;
    int next_input;
    for (int i = 0; ahead && i < n; i++) {
        if (i == 0 && start_ahead(argv + 2, &next, &next_input) != 0) {
            fprintf(stderr, "spawn_ceiling: cannot start %s\n", argv[2]);
            return 1;
        }
        pid_t pid = next;
        int input = next_input;
        if (write(input, "item\n", 5) != 5) return 1;
        close(input);
        if (i + 1 < n && start_ahead(argv + 2, &next, &next_input) != 0) {
            fprintf(stderr, "spawn_ceiling: cannot start %s\n", argv[2]);
            return 1;
        }
        if (!finished(pid, argv[2])) return 1;
    }
    for (int i = 0; !ahead && i < n; i++) {
        pid_t pid;
        int error = posix_spawn(&pid, argv[2], &actions, &attributes, argv + 2, environ);
        if (error) {
            fprintf(stderr, "spawn_ceiling: cannot start %s: error %d\n", argv[2], error);
            return 1;
        }
        if (!finished(pid, argv[2])) return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("%.1f\n", n / ((end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9));
    return 0;
}
