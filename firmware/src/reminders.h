/*
 * Reminders on the watch (docs/protocol.md §5.9): when the next planned occurrence of a plan
 * (§5.8) falls on the watch's local clock, which entries it reminds of, and the cancellation
 * rule ("a session done early counts for the next occurrence").
 *
 * Pure: local time comes from the caller, as ms since 1970-01-01 on the watch's fixed offset
 * (UTC plus the Local Time Information last written; the watch has no time-zone rules). The
 * session start times the rule needs are kept here, in RAM only: after a reboot the watch
 * reminds as if no session had been done (§5.9).
 */
#ifndef WEARSYNC_REMINDERS_H
#define WEARSYNC_REMINDERS_H

#include <stdbool.h>
#include <stdint.h>

#include "cts.h"
#include "plan.h"

#define REMINDER_ENTRIES (PLAN_MAX_ENTRIES + 1u) /* entry 0 and entries 1..15 */
#define MS_PER_MINUTE 60000LL

struct reminders {
    bool armed;            /* a planned occurrence is ahead */
    int64_t due_local_ms;  /* its local wall time */
    uint16_t due_entries;  /* bit n: entry n is planned then (several share a time) */
    bool started[REMINDER_ENTRIES];
    int64_t started_local_ms[REMINDER_ENTRIES]; /* local time of the entry's last start */
};

void reminders_init(struct reminders *r);

/*
 * Arm for the first planned time strictly after `local_ms` (§5.8 "Planned occurrences"), or
 * disarm when `plan` is NULL or nothing is planned any more.
 */
void reminders_plan(struct reminders *r, const struct plan *plan, int64_t local_ms);

/* A session of `entry` started at local time `local_ms` (START_ENTRY, START_SESSION, menu). */
void reminders_started(struct reminders *r, uint8_t entry, int64_t local_ms);

/*
 * Whether the occurrence of `entry` at `due_local_ms` is cancelled: a session of that entry
 * started since the entry's previous occurrence on the same local day, or since that day
 * began for its first occurrence (§5.9).
 */
bool reminders_cancelled(const struct reminders *r, const struct plan *plan, uint8_t entry,
                         int64_t due_local_ms);

#endif
