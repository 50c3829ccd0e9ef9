/*
 * cli.h - how a subcommand plugs into the one `winclip` binary.
 *
 * Each subcommand lives in its own src/cli/cmd_<name>.c and defines exactly one
 *     const Command cmd_<name> = {"<name>", "one-line summary", "full help text", run_fn};
 * at file scope, starting at the beginning of a line. The Makefile greps those definitions
 * into build/gen/commands.inc, so adding a subcommand touches no shared file.
 * run_fn receives argv with argv[0] = the subcommand name; it returns the process exit
 * status (0 ok, 1 runtime error, 2 usage error) and never calls exit().
 */
#ifndef WINCLIP_CLI_H
#define WINCLIP_CLI_H

typedef struct {
    const char *name;
    const char *summary; /* one line, shown by `winclip help` */
    const char *help;    /* full text, shown by `winclip help NAME` and `NAME --help` */
    int (*run)(int argc, char **argv);
} Command;

/* Print "winclip NAME: message" to stderr and return 2 (for usage errors). */
int cli_usage_error(const Command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 if argv contains -h or --help. */
int cli_wants_help(int argc, char **argv);

#endif
