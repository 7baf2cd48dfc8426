/* JSON lines on stdout: the simulator's vibration and event records (see motor.h). */
#include "motor.h"

#include <inttypes.h>
#include <stdio.h>

#include "cts.h"

static FILE *g_out;

void motor_set_output(FILE *out)
{
    g_out = out;
}

/* Before motor_set_output: stdout. */
static FILE *out(void)
{
    return g_out ? g_out : stdout;
}

/* The names events are stored and printed under (as ``wearsync sim --json`` prints them). */
static const char *const EVENT_NAMES[] = {
    [EVENT_SESSION_STARTED] = "session_started",
    [EVENT_STEP_STARTED] = "step_started",
    [EVENT_EXERCISE_COMPLETED] = "exercise_completed",
    [EVENT_EXERCISE_SKIPPED] = "exercise_skipped",
    [EVENT_SESSION_COMPLETED] = "session_completed",
    [EVENT_SESSION_ABORTED] = "session_aborted",
    [EVENT_PAUSED] = "paused",
    [EVENT_RESUMED] = "resumed",
    [EVENT_REMINDER] = "reminder",
};

/* An ISO 8601 date and time to the second, without a zone. */
static void print_wall_time(int64_t ms_since_1970, int64_t *ms_left)
{
    int64_t days = days_of_ms(ms_since_1970);
    int64_t ms = ms_since_1970 - days * MS_PER_DAY;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    fprintf(out(), "\"%04" PRId64 "-%02u-%02uT%02u:%02u:%02u", y, m, d, (unsigned)(ms / 3600000),
            (unsigned)(ms / 60000 % 60), (unsigned)(ms / 1000 % 60));
    *ms_left = ms % 1000;
}

/* An ISO 8601 UTC time as pydantic writes an aware datetime ("...T..:..:..(.ffffff)Z"). */
static void print_utc(int64_t utc_ms)
{
    int64_t ms;
    print_wall_time(utc_ms, &ms);
    if (ms) {
        fprintf(out(), ".%03u000", (unsigned)ms);
    }
    fprintf(out(), "Z\"");
}

/* `n` bytes of UTF-8 as the inside of a JSON string. */
static void print_json_text(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            fprintf(out(), "\\%c", s[i]);
        } else if (s[i] < 0x20) {
            fprintf(out(), "\\u%04x", s[i]);
        } else {
            fputc(s[i], out());
        }
    }
}

void motor_print_reminder(uint8_t entry, const uint8_t *title, uint8_t title_len,
                          int64_t local_ms)
{
    int64_t ms;
    fprintf(out(), "{\"type\":\"reminder\",\"entry\":%u,\"title\":\"", (unsigned)entry);
    print_json_text(title, title_len);
    fprintf(out(), "\",\"local\":");
    print_wall_time(local_ms, &ms);
    fprintf(out(), "\"}\n");
    fflush(out());
}

void motor_play(const struct program_cue *cue, int32_t step, uint64_t session_ms,
                uint64_t uptime_ms, bool utc_known, int64_t utc_ms)
{
    /* Custom cue names are [a-z][a-z0-9_]* once validated (§5.3); escaped all the same. */
    fprintf(out(), "{\"type\":\"vibration\",\"cue\":\"");
    print_json_text(cue->name, cue->name_len);
    fprintf(out(), "\",\"pattern\":[");
    for (unsigned i = 0; i < cue->count; i++) {
        fprintf(out(), i ? ",%u" : "%u", (unsigned)cue->times_ms[i]);
    }
    fprintf(out(), "],\"strength\":%u,\"step\":", (unsigned)cue->strength);
    if (step < 0) {
        fprintf(out(), "null");
    } else {
        fprintf(out(), "%" PRId32, step);
    }
    fprintf(out(), ",\"session_ms\":%" PRIu64 ",\"uptime_ms\":%" PRIu64 ",\"utc\":", session_ms,
           uptime_ms);
    if (utc_known) {
        print_utc(utc_ms);
    } else {
        fprintf(out(), "null");
    }
    fprintf(out(), "}\n");
    fflush(out());
}

void motor_print_event(const struct event_record *e)
{
    const char *kind = e->kind < sizeof EVENT_NAMES / sizeof EVENT_NAMES[0] && EVENT_NAMES[e->kind]
                           ? EVENT_NAMES[e->kind]
                           : "UNKNOWN";
    fprintf(out(),
            "{\"type\":\"event\",\"boot_id\":%" PRIu32 ",\"seq\":%" PRIu32 ",\"kind\":\"%s\","
           "\"step\":%u,\"exercise\":%u,\"set\":%u,\"rep\":%u,\"duration_ms\":%" PRIu32 ","
           "\"clock_set\":%s,\"time_s\":%" PRIu32 ",\"time_ms\":%u}\n",
           e->boot_id, e->seq, kind, e->step, e->exercise, e->set, e->rep, e->duration_ms,
           (e->flags & EVENT_FLAG_CLOCK_SET) ? "true" : "false", e->time_s, e->time_ms);
    fflush(out());
}

void motor_print_line(const char *type, const char *fields)
{
    fprintf(out(), "{\"type\":\"%s\"%s%s}\n", type, fields[0] ? "," : "", fields);
    fflush(out());
}
