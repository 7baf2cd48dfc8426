/*
 * The plan section of a format-2 program: entries and schedule (docs/protocol.md §5.8).
 *
 * The section is small (at most 8 routine times and 15 entries of 12 slots), so it is kept
 * decoded: the reminder clock (reminders.c) reads it at every planned time.
 */
#ifndef WEARSYNC_PLAN_H
#define WEARSYNC_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

#define PLAN_MAX_TIMES 8u           /* table 5-4 time_count */
#define PLAN_MAX_ENTRIES 15u        /* table 5-4 entry_count */
#define PLAN_MAX_SLOTS 12u          /* table 5-5 slot_count */
#define PLAN_MINUTES_PER_DAY 1440u  /* minutes 0..1439 */
#define PLAN_SLOT_MINUTE 0x07FFu    /* table 5-6 bits 0-10 */
#define PLAN_SLOT_NOT_ON_ROUTINE_DAYS 0x8000u /* table 5-6 bit 15 */
#define PLAN_ENTRY_ROUTINE 0u       /* entry 0 is the whole routine (§5.8) */

struct plan_entry {
    uint8_t exercise;   /* index of the exercise record the entry runs */
    uint8_t slot_count; /* 1..PLAN_MAX_SLOTS */
    uint16_t slots[PLAN_MAX_SLOTS]; /* table 5-6, as on the wire */
};

struct plan {
    uint8_t every_days;  /* 1..255 */
    uint16_t first_day;  /* local days since 1970-01-01 */
    uint8_t time_count;  /* 1..PLAN_MAX_TIMES */
    uint16_t times[PLAN_MAX_TIMES];
    uint8_t entry_count; /* 0..PLAN_MAX_ENTRIES; wire entry n is entries[n - 1] */
    struct plan_entry entries[PLAN_MAX_ENTRIES];
};

/*
 * Read and validate the plan section from `r` (§5.8 "Validity"): counts and minutes in range,
 * times and slots strictly increasing, reserved slot bits clear, entry exercises below
 * `exercise_count` and strictly increasing. False on any violation or truncation.
 */
bool plan_read(struct plan *plan, struct wire_reader *r, uint8_t exercise_count);

/* The minute of the day of a slot (table 5-6). */
static inline uint16_t plan_slot_minute(uint16_t slot)
{
    return (uint16_t)(slot & PLAN_SLOT_MINUTE);
}

/* Whether `slot` is planned on a day that is (or is not) a routine day (table 5-6 bit 15). */
static inline bool plan_slot_on_day(uint16_t slot, bool routine_day)
{
    return !(routine_day && (slot & PLAN_SLOT_NOT_ON_ROUTINE_DAYS));
}

/* Whether local day `day` (days since 1970-01-01) is a routine day (§5.8). */
bool plan_is_routine_day(const struct plan *plan, int64_t day);

/*
 * Whether entry `entry` (0 the routine) is planned at `minute` of local day `day` (§5.8
 * "Planned occurrences"). `entry` must be 0..entry_count.
 */
bool plan_planned_at(const struct plan *plan, uint8_t entry, int64_t day, uint16_t minute);

#endif
