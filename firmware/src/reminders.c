/* Reminders on the watch (docs/protocol.md §5.9) over the plan of §5.8. */
#include "reminders.h"

#include <string.h>

void reminders_init(struct reminders *r)
{
    memset(r, 0, sizeof *r);
}

/* Whether `minute` is a candidate after `after` (-1 for any) and earlier than `*best`. */
static void consider(uint16_t minute, int32_t after, int32_t *best)
{
    if ((int32_t)minute > after && (*best < 0 || (int32_t)minute < *best)) {
        *best = minute;
    }
}

/* The first minute of local `day` after minute `after` at which anything is planned, or -1. */
static int32_t first_minute_after(const struct plan *plan, int64_t day, int32_t after)
{
    int32_t best = -1;
    if (day < plan->first_day) {
        return -1;
    }
    bool routine_day = plan_is_routine_day(plan, day);
    if (routine_day) {
        for (unsigned i = 0; i < plan->time_count; i++) {
            consider(plan->times[i], after, &best);
        }
    }
    for (unsigned n = 0; n < plan->entry_count; n++) {
        const struct plan_entry *e = &plan->entries[n];
        for (unsigned i = 0; i < e->slot_count; i++) {
            if (plan_slot_on_day(e->slots[i], routine_day)) {
                consider(plan_slot_minute(e->slots[i]), after, &best);
            }
        }
    }
    return best;
}

void reminders_plan(struct reminders *r, const struct plan *plan, int64_t local_ms)
{
    r->armed = false;
    r->due_entries = 0;
    if (plan == NULL) {
        return;
    }
    int64_t day = days_of_ms(local_ms);
    /* Minutes of `day` at or before `local_ms` are past; "strictly after" a partial minute
     * still excludes the minute that has begun. */
    int32_t after = (int32_t)((local_ms - day * MS_PER_DAY) / MS_PER_MINUTE);
    if (day < plan->first_day) {
        day = plan->first_day;
        after = -1;
    }
    /* The routine recurs every every_days days and entries daily: one period and a day cover
     * every kind of day (the reference searches the same span). */
    for (unsigned i = 0; i <= plan->every_days; i++, day++, after = -1) {
        int32_t minute = first_minute_after(plan, day, after);
        if (minute < 0) {
            continue;
        }
        r->armed = true;
        r->due_local_ms = day * MS_PER_DAY + (int64_t)minute * MS_PER_MINUTE;
        for (unsigned entry = 0; entry <= plan->entry_count; entry++) {
            if (plan_planned_at(plan, (uint8_t)entry, day, (uint16_t)minute)) {
                r->due_entries |= (uint16_t)(1u << entry);
            }
        }
        return;
    }
}

void reminders_started(struct reminders *r, uint8_t entry, int64_t local_ms)
{
    if (entry < REMINDER_ENTRIES) {
        r->started[entry] = true;
        r->started_local_ms[entry] = local_ms;
    }
}

bool reminders_cancelled(const struct reminders *r, const struct plan *plan, uint8_t entry,
                         int64_t due_local_ms)
{
    if (entry >= REMINDER_ENTRIES || !r->started[entry]) {
        return false;
    }
    int64_t day = days_of_ms(due_local_ms);
    int64_t window = day * MS_PER_DAY; /* the day's first occurrence counts from midnight */
    int32_t due_minute = (int32_t)((due_local_ms - window) / MS_PER_MINUTE);
    /* The entry's previous occurrence on the same local day, if any. */
    for (int32_t m = due_minute - 1; m >= 0; m--) {
        if (plan_planned_at(plan, entry, day, (uint16_t)m)) {
            window = day * MS_PER_DAY + (int64_t)m * MS_PER_MINUTE;
            break;
        }
    }
    return r->started_local_ms[entry] >= window;
}
