/*
 * Differential-testing harness for plan.c and reminders.c (docs/protocol.md §5.8, §5.9).
 *
 * Input lines:  program HEX                 a format-2 program (its plan is used)
 *               next LOCAL_MS               -> next DUE_LOCAL_MS ENTRIES | next none
 *                                              (the first planned time strictly after local
 *                                              wall time LOCAL_MS, ms since 1970 on the
 *                                              watch's offset, and the entries planned then,
 *                                              comma-separated, ascending)
 *               cancelled ENTRY DUE STARTED -> cancelled 0|1 (a session of ENTRY started at
 *                                              local STARTED cancels its occurrence at DUE)
 * `program` answers `ok` or `invalid`.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program.h"
#include "reminders.h"
#include "harness.h"

static struct program g_program;
static bool g_valid;

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    static uint8_t bytes[PROGRAM_MAX_BYTES];
    while (getline(&line, &cap, stdin) >= 0) {
        long long a = 0, b = 0;
        unsigned entry = 0;
        if (strncmp(line, "program ", 8) == 0) {
            size_t len = unhex(line + 8, bytes, sizeof bytes);
            g_valid = program_parse(&g_program, bytes, len, true) == PROGRAM_VALID &&
                      g_program.has_plan;
            puts(g_valid ? "ok" : "invalid");
        } else if (g_valid && sscanf(line, "next %lld", &a) == 1) {
            struct reminders r;
            reminders_init(&r);
            reminders_plan(&r, &g_program.plan, a);
            if (!r.armed) {
                puts("next none");
            } else {
                printf("next %" PRId64 " ", r.due_local_ms);
                const char *sep = "";
                for (unsigned n = 0; n < REMINDER_ENTRIES; n++) {
                    if (r.due_entries & (1u << n)) {
                        printf("%s%u", sep, n);
                        sep = ",";
                    }
                }
                putchar('\n');
            }
        } else if (g_valid && sscanf(line, "cancelled %u %lld %lld", &entry, &a, &b) == 3 &&
                   entry <= g_program.plan.entry_count) {
            struct reminders r;
            reminders_init(&r);
            reminders_started(&r, (uint8_t)entry, b);
            printf("cancelled %d\n", reminders_cancelled(&r, &g_program.plan, (uint8_t)entry, a));
        } else {
            puts("error");
        }
        fflush(stdout);
    }
    free(line);
    return 0;
}
