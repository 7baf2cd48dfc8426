/*
 * Differential-testing harness for session.c: runs one session of a program with actions at
 * given clock times and prints what the session engine reports.
 *
 * Input, per case:   program HEX
 *                    entry N                          (optional: START_ENTRY N, §7.7; else 0)
 *                    at MS pause|resume|skip|stop     (any number, times not decreasing)
 *                    run
 * Output, per case:  cue NAME STEP|- SESSION_MS
 *                    event KIND STEP EXERCISE SET REP SIDE DIRECTION DURATION_MS CLOCK_MS
 *                    status STATE STEP ELAPSED_MS
 *                    result ACTION CODE               (the ATT code the action got)
 *                    result start CODE                (only when the start itself failed)
 *                    end
 * The session starts at clock 0; after the last action the clock runs until it is idle.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program.h"
#include "session.h"
#include "harness.h"

#define MAX_ACTIONS 64

struct action {
    uint64_t at;
    char name[8];
};

static struct program g_program;

static void on_event(void *ctx, uint8_t kind, const struct program_step *at, uint32_t duration_ms,
                     uint64_t clock_ms)
{
    (void)ctx;
    printf("event %u %u %u %u %u %u %u %" PRIu32 " %" PRIu64 "\n", kind, at->index, at->exercise,
           at->set, at->rep, at->side, at->direction, duration_ms, clock_ms);
}

static void on_status(void *ctx, enum session_state state, uint16_t step, uint32_t elapsed_ms)
{
    (void)ctx;
    printf("status %d %u %" PRIu32 "\n", (int)state, step, elapsed_ms);
}

static void on_cue(void *ctx, uint8_t cue_index, int32_t step, uint64_t session_ms,
                   uint64_t clock_ms)
{
    (void)ctx;
    (void)clock_ms;
    struct program_cue cue;
    program_cue(&g_program, cue_index, &cue);
    printf("cue %.*s ", (int)cue.name_len, (const char *)cue.name);
    if (step < 0) {
        printf("-");
    } else {
        printf("%" PRId32, step);
    }
    printf(" %" PRIu64 "\n", session_ms);
}

static void on_mark(void *ctx, const struct program_step *at, uint64_t session_ms)
{
    (void)ctx;
    (void)at;
    (void)session_ms;
}

static void run(const uint8_t *bytes, size_t len, uint8_t entry, const struct action *actions,
                unsigned count)
{
    if (program_parse(&g_program, bytes, len, true) != PROGRAM_VALID) {
        puts("invalid\nend");
        return;
    }
    const struct session_host host = {
        .event = on_event, .status = on_status, .cue = on_cue, .mark = on_mark, .ctx = NULL};
    struct session s;
    session_init(&s, &host);
    uint8_t started = session_start(&s, &g_program, entry, 0);
    if (started != 0) {
        printf("result start %u\nend\n", started);
        return;
    }
    for (unsigned i = 0; i < count; i++) {
        uint64_t now = actions[i].at;
        session_poll(&s, now);
        uint8_t code;
        if (strcmp(actions[i].name, "pause") == 0) {
            code = session_pause(&s, now);
        } else if (strcmp(actions[i].name, "resume") == 0) {
            code = session_resume(&s, now);
        } else if (strcmp(actions[i].name, "skip") == 0) {
            code = session_skip(&s, now);
        } else {
            code = session_stop(&s, now);
        }
        printf("result %s %u\n", actions[i].name, code);
    }
    while (s.state == SESSION_RUNNING) {
        session_poll(&s, session_next_due(&s));
    }
    puts("end");
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    static uint8_t bytes[PROGRAM_MAX_BYTES];
    size_t len = 0;
    static struct action actions[MAX_ACTIONS];
    unsigned count = 0;
    uint8_t entry = 0;
    while (getline(&line, &cap, stdin) >= 0) {
        if (strncmp(line, "program ", 8) == 0) {
            len = unhex(line + 8, bytes, sizeof bytes);
            count = 0;
            entry = 0;
        } else if (strncmp(line, "entry ", 6) == 0) {
            entry = (uint8_t)strtoul(line + 6, NULL, 10);
        } else if (strncmp(line, "at ", 3) == 0 && count < MAX_ACTIONS) {
            unsigned long long at;
            if (sscanf(line + 3, "%llu %7s", &at, actions[count].name) == 2) {
                actions[count++].at = at;
            }
        } else if (strncmp(line, "run", 3) == 0) {
            run(bytes, len, entry, actions, count);
            fflush(stdout);
        }
    }
    free(line);
    return 0;
}
