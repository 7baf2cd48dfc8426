/*
 * Differential-testing harness for watch.c, transfer.c and events.c: Program and Control
 * Point writes applied to a watch (no BLE), printing each write's ATT code and Timer Info.
 *
 * Input lines:  reset FEATURES   a new watch (boot 1) with that feature mask
 *               program HEX      a Program write          -> code N
 *               control HEX      a Control Point write    -> code N | code replay
 *               info             -> info HEX (Timer Info at uptime 0)
 *               events           -> events HEX (an Event Log Read at ATT_MTU 247, §9.5.1)
 *               local HEX        a Local Time Information write -> code N
 *               current HEX      a Current Time write     -> code N utc MS|-  (UTC now, ms)
 *               read-current     -> current HEX (the Current Time value at uptime 0)
 * The clock stands at 0: a started session stays in its first step.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "watch.h"
#include "harness.h"

static struct watch g_watch;

static bool save_program(void *ctx, const uint8_t *bytes, uint16_t len)
{
    (void)ctx;
    (void)bytes;
    (void)len;
    return true;
}

static void log_changed(void *ctx, bool urgent)
{
    (void)ctx;
    (void)urgent;
}

static void clock_changed(void *ctx)
{
    (void)ctx;
}

static void on_event(void *ctx, const struct event_record *e)
{
    (void)ctx;
    (void)e;
}

static void on_status(void *ctx, const uint8_t value[SESSION_STATUS_SIZE])
{
    (void)ctx;
    (void)value;
}

static void on_mark(void *ctx, const struct program_step *at, uint64_t session_ms)
{
    (void)ctx;
    (void)at;
    (void)session_ms;
}

static void on_cue(void *ctx, const struct program_cue *cue, int32_t step, uint64_t session_ms,
                   uint64_t uptime_ms, bool utc_known, int64_t utc_ms)
{
    (void)ctx;
    (void)cue;
    (void)step;
    (void)session_ms;
    (void)uptime_ms;
    (void)utc_known;
    (void)utc_ms;
}

int main(void)
{
    static const struct watch_hooks hooks = {
        .save_program = save_program, .log_changed = log_changed,
        .clock_changed = clock_changed, .event = on_event, .status = on_status,
        .mark = on_mark, .cue = on_cue, .ctx = NULL};
    char *line = NULL;
    size_t cap = 0;
    /* Writes are at most 512 bytes on the air (§2.4); a longer line is cut, like a PDU. */
    static uint8_t value[MAX_ATTRIBUTE_SIZE];
    watch_init(&g_watch, FEATURES_ALL, 1, &hooks);
    while (getline(&line, &cap, stdin) >= 0) {
        if (strncmp(line, "reset ", 6) == 0) {
            watch_init(&g_watch, (uint16_t)strtoul(line + 6, NULL, 0), 1, &hooks);
        } else if (strncmp(line, "program ", 8) == 0) {
            size_t n = unhex(line + 8, value, sizeof value);
            printf("code %u\n", watch_program_write(&g_watch, value, n));
        } else if (strncmp(line, "control ", 8) == 0) {
            size_t n = unhex(line + 8, value, sizeof value);
            int code = watch_control(&g_watch, 0, value, n);
            if (code == WATCH_REPLAY) {
                puts("code replay");
            } else {
                printf("code %d\n", code);
            }
        } else if (strncmp(line, "local ", 6) == 0) {
            size_t n = unhex(line + 6, value, sizeof value);
            printf("code %u\n", watch_write_local_time(&g_watch, 0, value, n));
        } else if (strncmp(line, "current ", 8) == 0) {
            size_t n = unhex(line + 8, value, sizeof value);
            uint8_t code = watch_write_current_time(&g_watch, 0, value, n);
            int64_t utc;
            if (watch_clock_utc(&g_watch.clock, 0, &utc)) {
                printf("code %u utc %lld\n", code, (long long)utc);
            } else {
                printf("code %u utc -\n", code);
            }
        } else if (strncmp(line, "read-current", 12) == 0) {
            uint8_t current[CURRENT_TIME_SIZE];
            cts_read_current_time(&g_watch.clock, 0, current);
            printf("current ");
            for (unsigned i = 0; i < CURRENT_TIME_SIZE; i++) {
                printf("%02x", current[i]);
            }
            putchar('\n');
        } else if (strncmp(line, "events", 6) == 0) {
            static uint8_t batch[MAX_ATTRIBUTE_SIZE];
            uint16_t included;
            size_t n = event_batch(&g_watch.log, 0, g_watch.log.count, 0, batch, 246, &included);
            printf("events ");
            for (size_t i = 0; i < n; i++) {
                printf("%02x", batch[i]);
            }
            putchar('\n');
        } else if (strncmp(line, "info", 4) == 0) {
            uint8_t info[TIMER_INFO_SIZE];
            watch_timer_info(&g_watch, 0, info);
            printf("info ");
            for (unsigned i = 0; i < TIMER_INFO_SIZE; i++) {
                printf("%02x", info[i]);
            }
            putchar('\n');
        }
        fflush(stdout);
    }
    free(line);
    return 0;
}
