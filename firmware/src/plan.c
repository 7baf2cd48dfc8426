/* The plan section (docs/protocol.md §5.8): decoding, validation and planned occurrences. */
#include "plan.h"

#include <string.h>

/* `count` u16 minutes of the day, each 0..1439, strictly increasing (table 5-4 times). */
static bool read_times(struct wire_reader *r, uint16_t *out, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        out[i] = wire_u16(r);
        if (!r->ok || out[i] >= PLAN_MINUTES_PER_DAY || (i > 0 && out[i] <= out[i - 1])) {
            return false;
        }
    }
    return true;
}

/* One entry record (table 5-5) with its slots (table 5-6). */
static bool read_entry(struct plan_entry *e, struct wire_reader *r, uint8_t exercise_count)
{
    e->exercise = wire_u8(r);
    e->slot_count = wire_u8(r);
    if (!r->ok || e->exercise >= exercise_count || e->slot_count < 1 ||
        e->slot_count > PLAN_MAX_SLOTS) {
        return false;
    }
    for (unsigned i = 0; i < e->slot_count; i++) {
        uint16_t slot = wire_u16(r);
        if (!r->ok || (slot & ~(PLAN_SLOT_MINUTE | PLAN_SLOT_NOT_ON_ROUTINE_DAYS))) {
            return false; /* bits 11-14 are reserved */
        }
        uint16_t minute = plan_slot_minute(slot);
        if (minute >= PLAN_MINUTES_PER_DAY ||
            (i > 0 && minute <= plan_slot_minute(e->slots[i - 1]))) {
            return false;
        }
        e->slots[i] = slot;
    }
    return true;
}

bool plan_read(struct plan *plan, struct wire_reader *r, uint8_t exercise_count)
{
    memset(plan, 0, sizeof *plan);
    plan->every_days = wire_u8(r);
    plan->first_day = wire_u16(r); /* any u16: a date from 1970 to 2149 */
    plan->time_count = wire_u8(r);
    if (!r->ok || plan->every_days < 1 || plan->time_count < 1 ||
        plan->time_count > PLAN_MAX_TIMES || !read_times(r, plan->times, plan->time_count)) {
        return false;
    }
    plan->entry_count = wire_u8(r);
    if (!r->ok || plan->entry_count > PLAN_MAX_ENTRIES) {
        return false;
    }
    for (unsigned i = 0; i < plan->entry_count; i++) {
        struct plan_entry *e = &plan->entries[i];
        if (!read_entry(e, r, exercise_count) ||
            (i > 0 && e->exercise <= plan->entries[i - 1].exercise)) {
            return false;
        }
    }
    return true;
}

bool plan_is_routine_day(const struct plan *plan, int64_t day)
{
    return day >= plan->first_day && (day - plan->first_day) % plan->every_days == 0;
}

bool plan_planned_at(const struct plan *plan, uint8_t entry, int64_t day, uint16_t minute)
{
    if (day < plan->first_day) {
        return false; /* nothing is planned before first_day */
    }
    bool routine_day = plan_is_routine_day(plan, day);
    if (entry == PLAN_ENTRY_ROUTINE) {
        if (!routine_day) {
            return false;
        }
        for (unsigned i = 0; i < plan->time_count; i++) {
            if (plan->times[i] == minute) {
                return true;
            }
        }
        return false;
    }
    if (entry > plan->entry_count) {
        return false;
    }
    const struct plan_entry *e = &plan->entries[entry - 1];
    for (unsigned i = 0; i < e->slot_count; i++) {
        if (plan_slot_minute(e->slots[i]) == minute) {
            return plan_slot_on_day(e->slots[i], routine_day);
        }
    }
    return false;
}
