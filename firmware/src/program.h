/*
 * The timer program: validation (docs/protocol.md §5.1-§5.5) and expansion into steps (§5.6).
 *
 * A parsed program keeps only offsets into the program bytes (which the caller keeps alive)
 * and the first step of each exercise, so its RAM cost does not grow with the program:
 * records are decoded again on demand, and step k is computed arithmetically (no unrolled
 * list). Sections are parsed one after another (header, title, cue table, exercises, and in
 * format 2 the plan section of §5.8, plan.c).
 */
#ifndef WEARSYNC_PROGRAM_H
#define WEARSYNC_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

#define PROGRAM_FORMAT 1              /* §3.4: without a plan */
#define PROGRAM_FORMAT_PLAN 2         /* §3.4: with the plan section of §5.8 */
#define PROGRAM_MAX_BYTES 65535u      /* §5.2 */
#define PROGRAM_MAX_NAME_BYTES 32u    /* §5.1.3 */
#define PROGRAM_MAX_CUES 255u         /* §5.2 cue_count */
#define PROGRAM_MAX_EXERCISES 255u    /* §5.2 exercise_count */
#define PROGRAM_MAX_STEPS 65535u      /* §5.5: step indices are u16 */
#define PROGRAM_MAX_DURATION_MS 0x7FFFFFFFu /* §5.1.2 */
#define PROGRAM_NO_CUE 0xFFu          /* §5.2 end_cue "none" */
#define PROGRAM_MAX_REPS 65535u       /* §5.4 */
#define CUE_MAX_TIMES 15u             /* §5.3 shape bits 0-3 */
#define CUE_MIN_TIME_MS 10u           /* §5.3 */
#define CUE_MAX_TIME_MS 5000u         /* §5.3 */
#define CUE_NARROW_MAX_MS 2550u       /* §5.3: 8-bit times in 10 ms units */
#define CUE_DEFAULT_STRENGTH 100u     /* §5.3 */
#define CUE_MAX_NAME_BYTES 32u        /* §5.3 custom names */
#define SLOT_COUNT 11u                /* table 5-2 */
#define CUE_REF_REMINDER 0x0Bu        /* table 5-1: the well-known name `reminder` (format 2) */

enum program_verdict {
    PROGRAM_VALID = 0,
    PROGRAM_INVALID,     /* §5.5: 0x87 on COMMIT */
    PROGRAM_UNSUPPORTED, /* §3.4: 0x88 on COMMIT */
};

/* Table 5-2. */
enum cue_slot {
    SLOT_PREPARE = 0,
    SLOT_HOLD_START,
    SLOT_HOLD_END,
    SLOT_WORK_START,
    SLOT_REST_START,
    SLOT_SET_REST,
    SLOT_SWITCH_SIDE,
    SLOT_DIRECTION_CHANGE,
    SLOT_TRANSITION,
    SLOT_COUNTDOWN,
    SLOT_SESSION_END,
};

enum step_kind {
    STEP_PREPARE = 0,
    STEP_HOLD,
    STEP_RELEASE,
    STEP_WORK,
    STEP_REST,
    STEP_SWITCH_SIDE,
    STEP_TRANSITION,
};

/* Exercise flags, table 5-3. */
#define EX_EFFORT_WORK 0x01u
#define EX_HAS_LEAD 0x02u
#define EX_LEAD_TRANSITION 0x04u
#define EX_HAS_AFTER 0x08u
#define EX_AFTER_REST 0x10u
#define EX_AFTER_EACH_DIRECTION 0x20u
#define EX_AFTER_SKIP_LAST 0x40u
#define EX_HAS_SWITCH 0x80u

struct program_cue {
    uint8_t slot;        /* the well-known name's slot (table 5-2), or SLOT_COUNT if custom */
    const uint8_t *name; /* not terminated */
    uint8_t name_len;
    uint8_t strength;    /* 1..100 */
    uint8_t count;       /* odd, 1..15 */
    uint16_t times_ms[CUE_MAX_TIMES];
};

struct program_exercise {
    uint8_t flags;
    uint8_t side_count;
    uint8_t sides[2];
    uint8_t direction_count;
    uint8_t directions[3];
    uint8_t sets;
    uint16_t reps;
    uint8_t countdown_s;
    uint32_t lead_ms, effort_ms, after_ms, set_rest_ms, switch_ms; /* 0 when absent */
    uint8_t override_count;
    uint8_t override_slot[SLOT_COUNT];
    uint8_t override_cue[SLOT_COUNT];
    const uint8_t *name;
    uint8_t name_len;
};

struct program_step {
    uint16_t index;
    uint8_t exercise;
    uint8_t set;
    uint16_t rep;
    uint8_t side;      /* table 5-4 code */
    uint8_t direction; /* table 5-4 code */
    enum step_kind kind;
    uint32_t duration_ms;
    uint8_t cue;           /* cue table index */
    uint8_t countdown_cue; /* PROGRAM_NO_CUE when the step has no countdown */
    uint32_t countdown_ms; /* ticks x 1000 (§5.6 rule 6) */
};

struct program {
    const uint8_t *bytes;
    uint16_t len;
    uint8_t format;       /* PROGRAM_FORMAT or PROGRAM_FORMAT_PLAN (§3.4) */
    const uint8_t *title; /* the routine's title (§5.2), not terminated */
    uint8_t title_len;
    uint8_t cue_count;
    uint8_t exercise_count;
    uint8_t end_cue;
    uint8_t slot_cue[SLOT_COUNT]; /* the cue named as each slot, or PROGRAM_NO_CUE */
    uint16_t cue_offset[PROGRAM_MAX_CUES];
    uint16_t exercise_offset[PROGRAM_MAX_EXERCISES];
    /* First step of each exercise; [exercise_count] is the step count. */
    uint32_t first_step[PROGRAM_MAX_EXERCISES + 1];
    bool has_plan;        /* format 2 */
    uint8_t reminder_cue; /* the cue named `reminder` (§5.9), or PROGRAM_NO_CUE */
    struct plan plan;     /* §5.8, when has_plan */
};

/*
 * Validate `len` bytes as a program (§5.5, and §5.8 for format 2) and fill `p`, which refers
 * to `bytes` afterwards. Format 2 is run only when `with_plan` (feature ENTRIES, §3.4);
 * otherwise, like any unknown format, it is PROGRAM_UNSUPPORTED. Accepts exactly the byte
 * strings the reference decoder accepts.
 */
enum program_verdict program_parse(struct program *p, const uint8_t *bytes, size_t len,
                                   bool with_plan);

uint32_t program_step_count(const struct program *p);

/* Decode cue `index` (< cue_count) of a parsed program. */
void program_cue(const struct program *p, uint8_t index, struct program_cue *out);

/* Decode exercise `index` (< exercise_count) of a parsed program. */
void program_exercise(const struct program *p, uint8_t index, struct program_exercise *out);

/* The cue exercise `ex` plays in `slot` (§5.3 resolution), or PROGRAM_NO_CUE. */
uint8_t program_resolve_cue(const struct program *p, const struct program_exercise *ex,
                            enum cue_slot slot);

/*
 * The steps entry `entry` runs (§5.8 "Running an entry"): [*first, *end) in the whole
 * program's numbering. Entry 0 is the whole program. False if the program has no such entry.
 */
bool program_entry_steps(const struct program *p, uint8_t entry, uint32_t *first,
                         uint32_t *end);

/* The number of entries besides entry 0 (0 for a format-1 program). */
uint8_t program_entry_count(const struct program *p);

/* Step `index` of the expansion (§5.6); false if index >= step count. */
bool program_step(const struct program *p, uint32_t index, struct program_step *out);

const char *step_kind_name(enum step_kind kind);

#endif
