/*
 * progress.h - a progress display on stderr for long loops (images encoded, units run).
 *
 * Does: on a terminal, one self-overwriting line `label [#####.....] 12/100  3.2 img/s  ETA 0:27`;
 * otherwise (logs, pipes, CI) a plain line at most every `interval_s` seconds plus a final
 * line, never a carriage return. Updates do not allocate and cost a clock read.
 * Does not: decide what is counted (the caller passes `done`), write to stdout.
 * Reference: the reproduction-harness issue, item 2.
 *
 *     Progress p;
 *     progress_start(&p, stderr, "bottle k0", n_images, PROGRESS_AUTO);
 *     for (int i = 0; i < n_images; i++) { ...; progress_update(&p, i + 1); }
 *     progress_finish(&p);
 */
#ifndef WINCLIP_PROGRESS_H
#define WINCLIP_PROGRESS_H

#include <stdio.h>

typedef enum {
    PROGRESS_AUTO = 0, /* TTY mode when isatty(fileno(out)), else plain */
    PROGRESS_TTY,
    PROGRESS_PLAIN,
    PROGRESS_OFF
} ProgressMode;

typedef struct {
    FILE *out;
    ProgressMode mode;  /* resolved: TTY, PLAIN or OFF */
    char label[96];     /* copied, truncated */
    long total;         /* items expected (0: unknown, no bar or ETA) */
    long done;          /* items finished so far */
    double t_start;     /* time_now() at start */
    double t_last;      /* time of the last line printed */
    double interval_s;  /* plain mode: seconds between lines (default 10); TTY: 0.1 */
    int line_len;       /* TTY: length of the last line (to blank leftovers) */
} Progress;

/* Start counting; prints nothing yet. label is copied. */
void progress_start(Progress *p, FILE *out, const char *label, long total, ProgressMode mode);
/* Record `done` items finished; redraws when the interval has passed. No allocation. */
void progress_update(Progress *p, long done);
/* Print the final state (TTY: ends the line with '\n'). */
void progress_finish(Progress *p);

/* Format "H:MM:SS" or "M:SS" into buf (cap >= 16); "?" for negative or non-finite input. */
void progress_format_duration(char *buf, size_t cap, double seconds);

#endif
