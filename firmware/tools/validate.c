/*
 * Differential-testing harness for program.c: one program per stdin line, as hex.
 *
 * For each line it prints the verdict: `invalid`, `unsupported`, or
 * `valid STEPS IDENTITY CRC` followed by one line per expanded step (§5.6):
 * `kind duration_ms cue countdown_cue countdown_ms exercise set rep side direction`
 * (countdown_cue `-` when the step has none), then the plan (§5.8): `plan none` for format 1,
 * else `plan EVERY_DAYS FIRST_DAY TIMES ENTRIES REMINDER_CUE` (TIMES comma-separated minutes)
 * and ENTRIES lines `entry EXERCISE FIRST_STEP END_STEP SLOTS` (SLOTS comma-separated
 * minutes, `!` after one with NOT_ON_ROUTINE_DAYS). Format 2 is accepted (a watch with
 * ENTRIES). Many programs per process keep a few-thousand-case fuzz run to seconds.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"
#include "program.h"

static const char *const SIDES[] = {"both", "left", "right", "?"};
static const char *const DIRECTIONS[] = {"none", "clockwise", "counterclockwise", "?"};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static void print_cue_name(const struct program *p, uint8_t index)
{
    struct program_cue cue;
    program_cue(p, index, &cue);
    fwrite(cue.name, 1, cue.name_len, stdout);
}

static void print_plan(const struct program *p)
{
    if (!p->has_plan) {
        puts("plan none");
        return;
    }
    const struct plan *plan = &p->plan;
    printf("plan %u %u ", plan->every_days, plan->first_day);
    for (unsigned i = 0; i < plan->time_count; i++) {
        printf(i ? ",%u" : "%u", plan->times[i]);
    }
    printf(" %u ", plan->entry_count);
    print_cue_name(p, p->reminder_cue);
    putchar('\n');
    for (uint8_t n = 1; n <= plan->entry_count; n++) {
        const struct plan_entry *e = &plan->entries[n - 1];
        uint32_t first, end;
        (void)program_entry_steps(p, n, &first, &end);
        printf("entry %u %u %u ", e->exercise, (unsigned)first, (unsigned)end);
        for (unsigned i = 0; i < e->slot_count; i++) {
            printf(i ? ",%u%s" : "%u%s", plan_slot_minute(e->slots[i]),
                   (e->slots[i] & PLAN_SLOT_NOT_ON_ROUTINE_DAYS) ? "!" : "");
        }
        putchar('\n');
    }
}

static void run(const uint8_t *bytes, size_t len)
{
    static struct program p; /* 2 KB: keep it off the stack */
    switch (program_parse(&p, bytes, len, true)) {
    case PROGRAM_INVALID:
        puts("invalid");
        return;
    case PROGRAM_UNSUPPORTED:
        puts("unsupported");
        return;
    case PROGRAM_VALID:
        break;
    }
    uint8_t identity[IDENTITY_SIZE];
    program_identity(bytes, len, identity);
    printf("valid %u ", (unsigned)program_step_count(&p));
    for (unsigned i = 0; i < IDENTITY_SIZE; i++) {
        printf("%02x", identity[i]);
    }
    printf(" %08x\n", (unsigned)crc32_iso_hdlc(bytes, len));
    struct program_step s;
    for (uint32_t i = 0; program_step(&p, i, &s); i++) {
        printf("%s %u ", step_kind_name(s.kind), (unsigned)s.duration_ms);
        print_cue_name(&p, s.cue);
        putchar(' ');
        if (s.countdown_cue == PROGRAM_NO_CUE) {
            putchar('-');
        } else {
            print_cue_name(&p, s.countdown_cue);
        }
        printf(" %u %u %u %u %s %s\n", (unsigned)s.countdown_ms, s.exercise, s.set, s.rep,
               SIDES[s.side & 3], DIRECTIONS[s.direction & 3]);
    }
    print_plan(&p);
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    uint8_t *bytes = malloc(PROGRAM_MAX_BYTES + 1);
    if (bytes == NULL) {
        return 2;
    }
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        size_t n = (size_t)got;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            n--;
        }
        size_t len = 0;
        bool ok = n % 2 == 0 && n / 2 <= PROGRAM_MAX_BYTES + 1;
        for (size_t i = 0; ok && i < n; i += 2) {
            int hi = hex_value(line[i]), lo = hex_value(line[i + 1]);
            ok = hi >= 0 && lo >= 0;
            bytes[len++] = (uint8_t)(hi << 4 | lo);
        }
        if (!ok) {
            puts("error bad hex");
        } else {
            run(bytes, len);
        }
        fflush(stdout);
    }
    free(line);
    free(bytes);
    return 0;
}
