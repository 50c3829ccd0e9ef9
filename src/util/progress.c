/*
 * progress.c - terminal progress bar / plain progress lines (see progress.h).
 *
 * Does: formats into a stack buffer and writes with one fputs; rates from the wall clock.
 * Does not: allocate, print below the caller's chosen stream.
 */
#define _POSIX_C_SOURCE 200809L
#include "util/progress.h"

#include "util/base.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#define BAR_WIDTH 24

void progress_format_duration(char *buf, size_t cap, double seconds)
{
    if (!isfinite(seconds) || seconds < 0 || seconds > 1e8) {
        snprintf(buf, cap, "?");
        return;
    }
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, cap, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        snprintf(buf, cap, "%ld:%02ld", s / 60, s % 60);
}

void progress_start(Progress *p, FILE *out, const char *label, long total, ProgressMode mode)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    if (mode == PROGRESS_AUTO) mode = (out && isatty(fileno(out))) ? PROGRESS_TTY : PROGRESS_PLAIN;
    if (!out) mode = PROGRESS_OFF;
    p->mode = mode;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total;
    p->t_start = time_now();
    p->t_last = p->t_start;
    p->interval_s = mode == PROGRESS_TTY ? 0.1 : 10.0;
}

static void draw(Progress *p, double now, int final)
{
    char line[256];
    double elapsed = now - p->t_start;
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0.0;
    char eta[16] = "", spent[16];
    progress_format_duration(spent, sizeof spent, elapsed);
    if (p->total > 0 && !final) {
        double left = rate > 0 ? (double)(p->total - p->done) / rate : -1.0;
        progress_format_duration(eta, sizeof eta, left);
    }
    int n;
    if (p->mode == PROGRESS_TTY) {
        char bar[BAR_WIDTH + 1];
        int filled = p->total > 0 ? (int)((double)BAR_WIDTH * (double)p->done / (double)p->total) : 0;
        if (filled > BAR_WIDTH) filled = BAR_WIDTH;
        for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '#' : '.';
        bar[BAR_WIDTH] = 0;
        n = snprintf(line, sizeof line, "\r%s [%s] %ld/%ld  %.2f img/s  %s %s", p->label, bar, p->done,
                     p->total, rate, final ? "took" : "ETA", final ? spent : eta);
        int visible = n - 1;
        /* blank what is left of a longer previous line */
        while (visible < p->line_len && n < (int)sizeof line - 2) {
            line[n++] = ' ';
            visible++;
        }
        line[n] = 0;
        p->line_len = visible;
        fputs(line, p->out);
        if (final) fputc('\n', p->out);
    } else {
        if (p->total > 0)
            n = snprintf(line, sizeof line, "%s: %ld/%ld (%.0f%%)  %.2f img/s  %s %s\n", p->label, p->done,
                         p->total, 100.0 * (double)p->done / (double)p->total, rate,
                         final ? "took" : "ETA", final ? spent : eta);
        else
            n = snprintf(line, sizeof line, "%s: %ld  %.2f img/s  elapsed %s\n", p->label, p->done, rate, spent);
        (void)n;
        fputs(line, p->out);
    }
    fflush(p->out);
    p->t_last = now;
}

void progress_update(Progress *p, long done)
{
    p->done = done;
    if (p->mode == PROGRESS_OFF) return;
    double now = time_now();
    if (now - p->t_last < p->interval_s) return;
    draw(p, now, 0);
}

void progress_finish(Progress *p)
{
    if (p->mode == PROGRESS_OFF) return;
    draw(p, time_now(), 1);
}
