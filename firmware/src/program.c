/*
 * Timer program validation (docs/protocol.md §5.1-§5.5) and expansion (§5.6).
 *
 * Validation mirrors the canonical-form rules: every field is read with a bounds-checked
 * reader, every reserved bit and code is refused, and the whole-program rules (distinct cue
 * names, indices in range, used slots resolving, the step total) are checked last.
 */
#include "program.h"

#include <string.h>

#include "wire.h"

/* The well-known name of cue name_ref 0x0B in format 2 (table 5-1, §5.9). */
static const char REMINDER_NAME[] = "reminder";

static const char *const SLOT_NAMES[SLOT_COUNT] = {
    "prepare",    "hold_start", "hold_end",         "work_start",
    "rest_start", "set_rest",   "switch_side",      "direction_change",
    "transition", "countdown",  "session_end",
};

static const char *const KIND_NAMES[] = {
    "prepare", "hold", "release", "work", "rest", "switch_side", "transition",
};

const char *step_kind_name(enum step_kind kind)
{
    return (unsigned)kind < sizeof KIND_NAMES / sizeof KIND_NAMES[0] ? KIND_NAMES[kind] : "?";
}

/* Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF), as Python decodes it. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t extra;
        uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            if (c == 0xE0) {
                lo = 0xA0;
            } else if (c == 0xED) {
                hi = 0x9F;
            }
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            if (c == 0xF0) {
                lo = 0x90;
            } else if (c == 0xF4) {
                hi = 0x8F;
            }
        } else {
            return false;
        }
        if (extra > n - i - 1) {
            return false;
        }
        if (s[i + 1] < lo || s[i + 1] > hi) {
            return false;
        }
        for (size_t k = 2; k <= extra; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return false;
            }
        }
        i += extra + 1;
    }
    return true;
}

/* A name (§5.1.3): u8 length 0..32 and that many bytes of UTF-8. */
static bool read_name(struct wire_reader *r, const uint8_t **name, uint8_t *len)
{
    uint8_t n = wire_u8(r);
    if (!r->ok || n > PROGRAM_MAX_NAME_BYTES) {
        return false;
    }
    const uint8_t *at = wire_take(r, n);
    if (!r->ok || !utf8_valid(at, n)) {
        return false;
    }
    *name = at;
    *len = n;
    return true;
}

/* A duration (§5.1.2): odd code = whole seconds, even = ms; whole seconds only in odd form. */
static bool read_duration(struct wire_reader *r, uint32_t *ms_out)
{
    uint32_t code = wire_varint(r);
    if (!r->ok) {
        return false;
    }
    uint64_t ms = (code & 1u) ? (uint64_t)(code >> 1) * 1000u : (uint64_t)(code >> 1);
    if (ms < 1 || ms > PROGRAM_MAX_DURATION_MS) {
        return false;
    }
    if (!(code & 1u) && ms % 1000u == 0) {
        return false;
    }
    *ms_out = (uint32_t)ms;
    return true;
}

/* A custom cue name (§5.3): [a-z][a-z0-9_]{0,31}. */
static bool cue_name_valid(const uint8_t *s, size_t n)
{
    if (n < 1 || n > CUE_MAX_NAME_BYTES || s[0] < 'a' || s[0] > 'z') {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        uint8_t c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return true;
}

static bool is_slot_name(const uint8_t *s, size_t n)
{
    for (unsigned i = 0; i < SLOT_COUNT; i++) {
        if (strlen(SLOT_NAMES[i]) == n && memcmp(SLOT_NAMES[i], s, n) == 0) {
            return true;
        }
    }
    return false;
}

/* Cue shape bits, table 5-1. */
#define SHAPE_COUNT 0x0Fu
#define SHAPE_WIDE 0x10u
#define SHAPE_HAS_STRENGTH 0x20u
#define NAME_REF_CUSTOM 0x80u

static bool is_reminder_name(const uint8_t *s, size_t n)
{
    return n == sizeof REMINDER_NAME - 1 && memcmp(s, REMINDER_NAME, n) == 0;
}

/*
 * One cue entry (table 5-1), with every rule of §5.3 that concerns the entry alone. In format
 * 2, name_ref 0x0B is `reminder` and a custom name may not spell it.
 */
static bool read_cue(struct wire_reader *r, struct program_cue *cue, uint8_t format)
{
    bool planned = format >= PROGRAM_FORMAT_PLAN;
    uint8_t ref = wire_u8(r);
    if (!r->ok) {
        return false;
    }
    cue->slot = SLOT_COUNT;
    if (ref < SLOT_COUNT) {
        cue->slot = ref;
        cue->name = (const uint8_t *)SLOT_NAMES[ref];
        cue->name_len = (uint8_t)strlen(SLOT_NAMES[ref]);
    } else if (ref == CUE_REF_REMINDER && planned) {
        cue->name = (const uint8_t *)REMINDER_NAME;
        cue->name_len = (uint8_t)(sizeof REMINDER_NAME - 1);
    } else if ((ref & NAME_REF_CUSTOM) && (ref & 0x7Fu) >= 1 && (ref & 0x7Fu) <= 32) {
        uint8_t n = ref & 0x7Fu;
        const uint8_t *at = wire_take(r, n);
        if (!r->ok || !cue_name_valid(at, n) || is_slot_name(at, n) ||
            (planned && is_reminder_name(at, n))) {
            return false;
        }
        cue->name = at;
        cue->name_len = n;
    } else {
        return false;
    }
    uint8_t shape = wire_u8(r);
    if (!r->ok || (shape & ~(SHAPE_COUNT | SHAPE_WIDE | SHAPE_HAS_STRENGTH))) {
        return false;
    }
    cue->strength = CUE_DEFAULT_STRENGTH;
    if (shape & SHAPE_HAS_STRENGTH) {
        cue->strength = wire_u8(r);
        /* 100 is the default and must be left out. */
        if (!r->ok || cue->strength < 1 || cue->strength >= CUE_DEFAULT_STRENGTH) {
            return false;
        }
    }
    cue->count = shape & SHAPE_COUNT;
    if (cue->count == 0 || cue->count % 2 == 0) {
        return false;
    }
    bool wide = (shape & SHAPE_WIDE) != 0;
    bool needs_wide = false;
    for (unsigned i = 0; i < cue->count; i++) {
        uint16_t t = wide ? wire_u16(r) : (uint16_t)(wire_u8(r) * 10u);
        if (!r->ok || t < CUE_MIN_TIME_MS || t > CUE_MAX_TIME_MS) {
            return false;
        }
        if (t % 10u || t > CUE_NARROW_MAX_MS) {
            needs_wide = true;
        }
        cue->times_ms[i] = t;
    }
    return wide == needs_wide;
}

/* A packed list of 2-bit codes (table 5-3 sides/directions): count, then codes, rest zero. */
static bool read_codes(struct wire_reader *r, unsigned limit, uint8_t *count, uint8_t *codes)
{
    uint8_t packed = wire_u8(r);
    if (!r->ok) {
        return false;
    }
    unsigned n = packed & 0x03u;
    if (n < 1 || n > limit || ((unsigned)packed >> (2 + 2 * n))) {
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        codes[i] = (uint8_t)(((unsigned)packed >> (2 + 2 * i)) & 0x03u);
        if (codes[i] == 3) { /* reserved (table 5-4) */
            return false;
        }
        for (unsigned j = 0; j < i; j++) {
            if (codes[j] == codes[i]) { /* sides and directions are distinct */
                return false;
            }
        }
    }
    *count = (uint8_t)n;
    return true;
}

/* One exercise record (table 5-3) with the constraints of §5.4 on the record alone. */
static bool read_exercise(struct wire_reader *r, struct program_exercise *ex)
{
    memset(ex, 0, sizeof *ex);
    ex->flags = wire_u8(r);
    if (!r->ok || !read_codes(r, 2, &ex->side_count, ex->sides) ||
        !read_codes(r, 3, &ex->direction_count, ex->directions)) {
        return false;
    }
    ex->sets = wire_u8(r);
    uint32_t reps = wire_varint(r);
    ex->countdown_s = wire_u8(r);
    if (!r->ok || ex->sets < 1 || reps < 1 || reps > PROGRAM_MAX_REPS) {
        return false;
    }
    ex->reps = (uint16_t)reps;
    uint8_t f = ex->flags;
    /* A kind or rule bit without its presence bit would be lost on re-encoding. */
    if ((f & EX_LEAD_TRANSITION) && !(f & EX_HAS_LEAD)) {
        return false;
    }
    if ((f & (EX_AFTER_REST | EX_AFTER_EACH_DIRECTION | EX_AFTER_SKIP_LAST)) &&
        !(f & EX_HAS_AFTER)) {
        return false;
    }
    if ((f & EX_HAS_SWITCH) && ex->side_count != 2) {
        return false;
    }
    if ((f & EX_HAS_LEAD) && !read_duration(r, &ex->lead_ms)) {
        return false;
    }
    if (!read_duration(r, &ex->effort_ms)) {
        return false;
    }
    if ((f & EX_HAS_AFTER) && !read_duration(r, &ex->after_ms)) {
        return false;
    }
    if (ex->sets > 1 && !read_duration(r, &ex->set_rest_ms)) {
        return false;
    }
    if ((f & EX_HAS_SWITCH) && !read_duration(r, &ex->switch_ms)) {
        return false;
    }
    uint8_t overrides = wire_u8(r);
    /* Slots are strictly increasing among SLOT_COUNT values: more cannot be valid. */
    if (!r->ok || overrides > SLOT_COUNT) {
        return false;
    }
    ex->override_count = overrides;
    for (unsigned i = 0; i < overrides; i++) {
        ex->override_slot[i] = wire_u8(r);
        ex->override_cue[i] = wire_u8(r);
        if (!r->ok || ex->override_slot[i] >= SLOT_COUNT ||
            (i > 0 && ex->override_slot[i] <= ex->override_slot[i - 1])) {
            return false;
        }
    }
    return read_name(r, &ex->name, &ex->name_len);
}

/* The step count of one exercise (§5.6, closing formula), without unrolling. */
static uint64_t exercise_step_count(const struct program_exercise *ex)
{
    uint64_t dirs = ex->direction_count;
    uint64_t afters = 0;
    if (ex->flags & EX_HAS_AFTER) {
        afters = (ex->flags & EX_AFTER_EACH_DIRECTION) ? dirs : 1;
    }
    uint64_t skip_last = (ex->flags & EX_AFTER_SKIP_LAST) ? 1 : 0;
    uint64_t per_set = (uint64_t)ex->reps * (dirs + afters) - skip_last;
    uint64_t per_side = (uint64_t)ex->sets * per_set + ex->sets - 1;
    uint64_t switches = (ex->flags & EX_HAS_SWITCH) ? (uint64_t)ex->side_count - 1 : 0;
    return ((ex->flags & EX_HAS_LEAD) ? 1 : 0) + ex->side_count * per_side + switches;
}

static enum cue_slot lead_slot(const struct program_exercise *ex)
{
    return (ex->flags & EX_LEAD_TRANSITION) ? SLOT_TRANSITION : SLOT_PREPARE;
}

static enum cue_slot effort_slot(const struct program_exercise *ex)
{
    return (ex->flags & EX_EFFORT_WORK) ? SLOT_WORK_START : SLOT_HOLD_START;
}

static enum cue_slot after_slot(const struct program_exercise *ex)
{
    return (ex->flags & EX_AFTER_REST) ? SLOT_REST_START : SLOT_HOLD_END;
}

uint8_t program_resolve_cue(const struct program *p, const struct program_exercise *ex,
                            enum cue_slot slot)
{
    for (unsigned i = 0; i < ex->override_count; i++) {
        if (ex->override_slot[i] == slot) {
            return ex->override_cue[i];
        }
    }
    return p->slot_cue[slot];
}

/* Rule 7 of §5.6 with §5.3: every slot the exercise's steps use must resolve to a cue. */
static bool exercise_cues_resolve(const struct program *p, const struct program_exercise *ex)
{
    bool used[SLOT_COUNT] = {false};
    used[effort_slot(ex)] = true;
    if (ex->flags & EX_HAS_LEAD) {
        used[lead_slot(ex)] = true;
    }
    if (ex->direction_count > 1) {
        used[SLOT_DIRECTION_CHANGE] = true;
    }
    if (ex->flags & EX_HAS_AFTER) {
        used[after_slot(ex)] = true;
    }
    if (ex->sets > 1) {
        used[SLOT_SET_REST] = true;
    }
    if (ex->flags & EX_HAS_SWITCH) {
        used[SLOT_SWITCH_SIDE] = true;
    }
    if (ex->countdown_s) {
        used[SLOT_COUNTDOWN] = true;
    }
    for (unsigned i = 0; i < ex->override_count; i++) {
        if (ex->override_cue[i] >= p->cue_count) {
            return false;
        }
    }
    for (unsigned s = 0; s < SLOT_COUNT; s++) {
        if (used[s] && program_resolve_cue(p, ex, (enum cue_slot)s) == PROGRAM_NO_CUE) {
            return false;
        }
    }
    return true;
}

static bool read_cue_table(struct program *p, struct wire_reader *r)
{
    struct program_cue cue, other;
    for (unsigned i = 0; i < p->cue_count; i++) {
        p->cue_offset[i] = (uint16_t)r->pos;
        if (!read_cue(r, &cue, p->format)) {
            return false;
        }
        /* Cue names in one table are distinct (§5.3). */
        for (unsigned j = 0; j < i; j++) {
            program_cue(p, (uint8_t)j, &other);
            if (other.name_len == cue.name_len && memcmp(other.name, cue.name, cue.name_len) == 0) {
                return false;
            }
        }
        if (cue.slot < SLOT_COUNT) { /* the default cue of the slot of that name (§5.3) */
            p->slot_cue[cue.slot] = (uint8_t)i;
        } else if (p->format == PROGRAM_FORMAT_PLAN && is_reminder_name(cue.name, cue.name_len)) {
            p->reminder_cue = (uint8_t)i; /* §5.9 */
        }
    }
    return true;
}

enum program_verdict program_parse(struct program *p, const uint8_t *bytes, size_t len,
                                   bool with_plan)
{
    memset(p, 0, sizeof *p);
    memset(p->slot_cue, PROGRAM_NO_CUE, sizeof p->slot_cue);
    p->reminder_cue = PROGRAM_NO_CUE;
    if (len == 0) {
        return PROGRAM_INVALID;
    }
    /* The format decides how to read the rest (§3.4). */
    if (bytes[0] != PROGRAM_FORMAT && !(bytes[0] == PROGRAM_FORMAT_PLAN && with_plan)) {
        return PROGRAM_UNSUPPORTED;
    }
    p->format = bytes[0];
    if (len > PROGRAM_MAX_BYTES) {
        return PROGRAM_INVALID;
    }
    p->bytes = bytes;
    p->len = (uint16_t)len;
    struct wire_reader r;
    wire_reader_init(&r, bytes, len);
    (void)wire_u8(&r); /* the format, checked above */
    uint8_t flags = wire_u8(&r);
    p->cue_count = wire_u8(&r);
    p->exercise_count = wire_u8(&r);
    p->end_cue = wire_u8(&r);
    if (!r.ok || flags != 0 || !read_name(&r, &p->title, &p->title_len) ||
        !read_cue_table(p, &r)) {
        return PROGRAM_INVALID;
    }
    if (p->exercise_count < 1) {
        return PROGRAM_INVALID;
    }
    if (p->end_cue != PROGRAM_NO_CUE && p->end_cue >= p->cue_count) {
        return PROGRAM_INVALID;
    }
    uint64_t total = 0;
    struct program_exercise ex;
    for (unsigned i = 0; i < p->exercise_count; i++) {
        p->exercise_offset[i] = (uint16_t)r.pos;
        if (!read_exercise(&r, &ex) || !exercise_cues_resolve(p, &ex)) {
            return PROGRAM_INVALID;
        }
        p->first_step[i] = (uint32_t)total;
        total += exercise_step_count(&ex);
        if (total > PROGRAM_MAX_STEPS) {
            return PROGRAM_INVALID;
        }
    }
    p->first_step[p->exercise_count] = (uint32_t)total;
    if (p->format == PROGRAM_FORMAT_PLAN) {
        /* §5.8: the plan follows the exercises, and a format-2 program has a reminder cue. */
        if (!plan_read(&p->plan, &r, p->exercise_count) || p->reminder_cue == PROGRAM_NO_CUE) {
            return PROGRAM_INVALID;
        }
        p->has_plan = true;
    }
    if (wire_remaining(&r) != 0) { /* nothing may follow the last record or the plan (§5.2) */
        return PROGRAM_INVALID;
    }
    return PROGRAM_VALID;
}

uint8_t program_entry_count(const struct program *p)
{
    return p->has_plan ? p->plan.entry_count : 0;
}

bool program_entry_steps(const struct program *p, uint8_t entry, uint32_t *first,
                         uint32_t *end)
{
    if (entry == PLAN_ENTRY_ROUTINE) {
        *first = 0;
        *end = program_step_count(p);
        return true;
    }
    if (entry > program_entry_count(p)) {
        return false;
    }
    /* §5.8: the exercise's steps, found by the step counts of the exercises before it. */
    uint8_t exercise = p->plan.entries[entry - 1].exercise;
    *first = p->first_step[exercise];
    *end = p->first_step[exercise + 1];
    return true;
}

uint32_t program_step_count(const struct program *p)
{
    return p->first_step[p->exercise_count];
}

void program_cue(const struct program *p, uint8_t index, struct program_cue *out)
{
    struct wire_reader r;
    wire_reader_init(&r, p->bytes + p->cue_offset[index], p->len - p->cue_offset[index]);
    (void)read_cue(&r, out, p->format);
}

void program_exercise(const struct program *p, uint8_t index, struct program_exercise *out)
{
    struct wire_reader r;
    uint16_t at = p->exercise_offset[index];
    wire_reader_init(&r, p->bytes + at, p->len - at);
    (void)read_exercise(&r, out);
}

/* §5.6 rule 6: whole ticks, never in the first second; only hold, work and rest count down. */
static uint32_t countdown_ms(enum step_kind kind, uint32_t duration_ms, uint8_t countdown_s)
{
    if (kind != STEP_HOLD && kind != STEP_WORK && kind != STEP_REST) {
        return 0;
    }
    int64_t ticks = (int64_t)(duration_ms / 1000u) - 1;
    if (ticks > countdown_s) {
        ticks = countdown_s;
    }
    return ticks > 0 ? (uint32_t)ticks * 1000u : 0;
}

/*
 * Local step `k` of exercise `ex` (rules 1-5 of §5.6), computed from the loop sizes: the
 * lead-in, then per side an optional switch and the sets; a set after the first starts with
 * its rest; a set is `reps` blocks of efforts and afters, the last block one shorter with
 * AFTER_SKIP_LAST.
 */
static void local_step(const struct program_exercise *ex, uint64_t k, struct program_step *s,
                       enum cue_slot *slot)
{
    uint8_t f = ex->flags;
    uint64_t dirs = ex->direction_count;
    uint64_t afters = 0;
    if (f & EX_HAS_AFTER) {
        afters = (f & EX_AFTER_EACH_DIRECTION) ? dirs : 1;
    }
    uint64_t unit = dirs + afters;
    uint64_t per_set = (uint64_t)ex->reps * unit - ((f & EX_AFTER_SKIP_LAST) ? 1 : 0);
    uint64_t per_side = (uint64_t)ex->sets * per_set + ex->sets - 1;

    s->set = 1;
    s->rep = 0;
    s->side = ex->sides[0];
    s->direction = ex->directions[0];
    if (f & EX_HAS_LEAD) {
        if (k == 0) {
            s->kind = (f & EX_LEAD_TRANSITION) ? STEP_TRANSITION : STEP_PREPARE;
            s->duration_ms = ex->lead_ms;
            *slot = lead_slot(ex);
            return;
        }
        k--;
    }
    if (k >= per_side) { /* the second side */
        k -= per_side;
        s->side = ex->sides[1];
        if (f & EX_HAS_SWITCH) {
            if (k == 0) {
                s->kind = STEP_SWITCH_SIDE;
                s->duration_ms = ex->switch_ms;
                *slot = SLOT_SWITCH_SIDE;
                return;
            }
            k--;
        }
    }
    if (k >= per_set) { /* set 2.. : its rest, then its efforts */
        k -= per_set;
        s->set = (uint8_t)(2 + k / (per_set + 1));
        k %= per_set + 1;
        if (k == 0) {
            s->kind = STEP_REST;
            s->duration_ms = ex->set_rest_ms;
            *slot = SLOT_SET_REST;
            return;
        }
        k--;
    }
    s->rep = (uint16_t)(1 + k / unit);
    uint64_t m = k % unit;
    uint64_t dir_no;
    bool after;
    if (f & EX_AFTER_EACH_DIRECTION) {
        dir_no = m / 2;
        after = m % 2 == 1;
    } else {
        dir_no = m < dirs ? m : dirs - 1;
        after = m >= dirs;
    }
    s->direction = ex->directions[dir_no];
    if (after) {
        s->kind = (f & EX_AFTER_REST) ? STEP_REST : STEP_RELEASE;
        s->duration_ms = ex->after_ms;
        *slot = after_slot(ex);
    } else {
        s->kind = (f & EX_EFFORT_WORK) ? STEP_WORK : STEP_HOLD;
        s->duration_ms = ex->effort_ms;
        *slot = dir_no == 0 ? effort_slot(ex) : SLOT_DIRECTION_CHANGE;
    }
}

bool program_step(const struct program *p, uint32_t index, struct program_step *out)
{
    if (index >= program_step_count(p)) {
        return false;
    }
    /* The exercise holding `index`: the last whose first step is <= index. */
    unsigned lo = 0, hi = p->exercise_count;
    while (hi - lo > 1) {
        unsigned mid = (lo + hi) / 2;
        if (p->first_step[mid] <= index) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    struct program_exercise ex;
    program_exercise(p, (uint8_t)lo, &ex);
    enum cue_slot slot = SLOT_PREPARE;
    memset(out, 0, sizeof *out);
    local_step(&ex, index - p->first_step[lo], out, &slot);
    out->index = (uint16_t)index;
    out->exercise = (uint8_t)lo;
    out->cue = program_resolve_cue(p, &ex, slot);
    out->countdown_ms = countdown_ms(out->kind, out->duration_ms, ex.countdown_s);
    out->countdown_cue =
        out->countdown_ms ? program_resolve_cue(p, &ex, SLOT_COUNTDOWN) : PROGRAM_NO_CUE;
    return true;
}
