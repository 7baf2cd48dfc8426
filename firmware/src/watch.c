/* The watch's behaviour behind the Control Point, Program and Timer Info (docs/protocol.md). */
#include "watch.h"

#include <string.h>

#include "att_codes.h"
#include "wire.h"

/* Exact request lengths of table 7-1, by opcode. */
static const uint8_t CONTROL_LENGTH[] = {
    [OP_COMMIT] = 5,         [OP_ABORT_STAGED] = 1,  [OP_START_SESSION] = 1 + IDENTITY_SIZE,
    [OP_STOP_SESSION] = 1,   [OP_PAUSE_SESSION] = 1, [OP_RESUME_SESSION] = 1,
    [OP_ACK_EVENTS] = 9,     [OP_REPLAY_EVENTS] = 1,  [OP_START_ENTRY] = 2 + IDENTITY_SIZE,
};

/* The feature an opcode needs (§3.2), 0 for none. */
static uint16_t feature_of(uint8_t opcode)
{
    switch (opcode) {
    case OP_START_SESSION:
    case OP_STOP_SESSION:
        return FEATURE_SESSION_CONTROL;
    case OP_PAUSE_SESSION:
    case OP_RESUME_SESSION:
        return FEATURE_PAUSE_RESUME;
    case OP_REPLAY_EVENTS:
        return FEATURE_EVENT_REPLAY;
    case OP_START_ENTRY:
        return FEATURE_ENTRIES;
    default:
        return 0;
    }
}

static void on_session_event(void *ctx, uint8_t kind, const struct program_step *at,
                             uint32_t duration_ms, uint64_t clock_ms)
{
    struct watch *w = ctx;
    watch_record(w, kind, at, duration_ms, clock_ms, w->session.entry);
}

static void encode_status(enum session_state state, uint16_t step, uint32_t elapsed,
                          uint8_t out[SESSION_STATUS_SIZE])
{
    out[0] = (uint8_t)state;
    wire_put_u16(out + 1, step);
    wire_put_u32(out + 3, elapsed);
}

static void on_session_status(void *ctx, enum session_state state, uint16_t step,
                              uint32_t elapsed_ms)
{
    struct watch *w = ctx;
    uint8_t value[SESSION_STATUS_SIZE];
    encode_status(state, step, elapsed_ms, value);
    w->hooks.status(w->hooks.ctx, value);
}

static void on_session_cue(void *ctx, uint8_t cue_index, int32_t step, uint64_t session_ms,
                           uint64_t clock_ms)
{
    struct watch *w = ctx;
    struct program_cue cue;
    program_cue(&w->program, cue_index, &cue);
    int64_t utc = 0;
    bool known = watch_clock_utc(&w->clock, clock_ms, &utc);
    w->hooks.cue(w->hooks.ctx, &cue, step, session_ms, clock_ms, known, utc);
}

static void on_session_mark(void *ctx, const struct program_step *at, uint64_t session_ms)
{
    struct watch *w = ctx;
    w->hooks.mark(w->hooks.ctx, at, session_ms);
}

static bool with_plan(const struct watch *w)
{
    return (w->features & FEATURE_ENTRIES) != 0; /* §3.4: format 2 exactly with ENTRIES */
}

void watch_init(struct watch *w, uint16_t features, uint32_t boot_id,
                const struct watch_hooks *hooks)
{
    memset(w, 0, sizeof *w);
    w->features = features;
    w->boot_id = boot_id;
    w->hooks = *hooks;
    event_log_init(&w->log, (features & FEATURE_ENTRIES) ? EVENT_RECORD_SIZE_ENTRIES
                                                          : EVENT_RECORD_SIZE);
    watch_clock_init(&w->clock);
    reminders_init(&w->reminders);
    w->reminder_due = UINT64_MAX;
    const struct session_host host = {
        .event = on_session_event, .status = on_session_status, .cue = on_session_cue,
        .mark = on_session_mark, .ctx = w};
    session_init(&w->session, &host);
}

bool watch_restore_program(struct watch *w, const uint8_t *bytes, uint16_t len)
{
    w->has_program = false;
    if (len > MAX_PROGRAM_LENGTH) {
        return false;
    }
    memcpy(w->program_bytes, bytes, len);
    if (program_parse(&w->program, w->program_bytes, len, with_plan(w)) != PROGRAM_VALID) {
        return false;
    }
    w->program_len = len;
    program_identity(w->program_bytes, len, w->identity);
    w->has_program = true;
    return true;
}

static uint8_t commit(struct watch *w, uint32_t crc)
{
    if (w->session.state != SESSION_IDLE) {
        return ATT_SESSION_ACTIVE;
    }
    static struct program parsed; /* 2 KB: one commit at a time, on the host task */
    uint8_t code = staging_check(&w->staging, crc, &parsed, with_plan(w));
    if (code != ATT_OK) {
        return code;
    }
    uint16_t len = w->staging.received;
    if (w->has_program && len == w->program_len &&
        memcmp(w->program_bytes, w->staging.data, len) == 0) {
        return ATT_OK; /* committing the committed program changes nothing (§6.3) */
    }
    /* Durable before the Write Response (§6.3, §6.4); the running copy changes only then. */
    if (!w->hooks.save_program(w->hooks.ctx, w->staging.data, len)) {
        return ATT_UNLIKELY_ERROR;
    }
    (void)watch_restore_program(w, w->staging.data, len);
    return ATT_OK;
}

uint8_t watch_start_entry(struct watch *w, uint64_t now, uint8_t entry)
{
    if (!w->has_program) {
        return ATT_NO_PROGRAM;
    }
    uint8_t code = session_start(&w->session, &w->program, entry, now);
    int64_t local;
    if (code == ATT_OK && watch_clock_local(&w->clock, now, &local)) {
        reminders_started(&w->reminders, entry, local); /* for the cancellation rule (§5.9) */
    }
    return code;
}

/* START_SESSION (§7.4) and START_ENTRY (§7.7), checks in §7.7's order. */
static uint8_t start(struct watch *w, uint64_t now, const uint8_t *identity, uint8_t entry)
{
    if (!w->has_program) {
        return ATT_NO_PROGRAM;
    }
    if (memcmp(identity, w->identity, IDENTITY_SIZE) != 0) {
        return ATT_PROGRAM_MISMATCH;
    }
    return watch_start_entry(w, now, entry);
}

int watch_control(struct watch *w, uint64_t now, const uint8_t *value, size_t len)
{
    if (len == 0) {
        return ATT_INVALID_PARAMETER;
    }
    uint8_t op = value[0];
    if (op >= sizeof CONTROL_LENGTH || CONTROL_LENGTH[op] == 0) {
        return ATT_OPCODE_NOT_SUPPORTED;
    }
    if (len != CONTROL_LENGTH[op]) {
        return ATT_INVALID_PARAMETER;
    }
    uint16_t needed = feature_of(op);
    if (needed && !(w->features & needed)) {
        return ATT_OPCODE_NOT_SUPPORTED;
    }
    uint8_t code = ATT_OK;
    switch ((enum control_opcode)op) {
    case OP_COMMIT:
        code = commit(w, wire_get_u32(value + 1));
        staging_discard(&w->staging); /* every COMMIT discards the staging (§6.2) */
        if (code == ATT_OK) {
            watch_reminders_plan(w, now); /* the plan may have changed */
        }
        return code;
    case OP_ABORT_STAGED:
        staging_discard(&w->staging);
        return ATT_OK;
    case OP_START_SESSION:
        return start(w, now, value + 1, PLAN_ENTRY_ROUTINE);
    case OP_START_ENTRY:
        return start(w, now, value + 1, value[1 + IDENTITY_SIZE]);
    case OP_STOP_SESSION:
        return session_stop(&w->session, now);
    case OP_PAUSE_SESSION:
        return session_pause(&w->session, now);
    case OP_RESUME_SESSION:
        return session_resume(&w->session, now);
    case OP_ACK_EVENTS:
        code = event_log_ack(&w->log, wire_get_u32(value + 1), wire_get_u32(value + 5));
        if (code == ATT_OK) {
            w->hooks.log_changed(w->hooks.ctx, true); /* final: persist before answering */
        }
        return code;
    case OP_REPLAY_EVENTS:
        return WATCH_REPLAY;
    }
    return ATT_OPCODE_NOT_SUPPORTED;
}

uint8_t watch_program_write(struct watch *w, const uint8_t *value, size_t len)
{
    return staging_accept(&w->staging, value, len);
}

void watch_disconnected(struct watch *w)
{
    staging_discard(&w->staging);
}

void watch_timer_info(struct watch *w, uint64_t now, uint8_t out[TIMER_INFO_SIZE])
{
    int64_t utc = 0;
    bool clock_set = watch_clock_utc(&w->clock, now, &utc);
    uint8_t flags = 0;
    if (clock_set) {
        flags |= INFO_CLOCK_SET;
    }
    if (w->log.lost) {
        flags |= INFO_EVENTS_LOST;
    }
    if (staging_active(&w->staging)) {
        flags |= INFO_STAGING;
    }
    int64_t clock_s = utc / 1000;
    if (clock_s < 0) {
        clock_s = 0;
    } else if (clock_s > UINT32_MAX) {
        clock_s = UINT32_MAX;
    }
    memset(out, 0, TIMER_INFO_SIZE);
    out[0] = PROTOCOL_VERSION;
    wire_put_u16(out + 1, w->features);
    out[3] = flags;
    wire_put_u16(out + 4, MAX_PROGRAM_LENGTH);
    wire_put_u16(out + 6, EVENT_CAPACITY);
    wire_put_u16(out + 8, w->log.count);
    wire_put_u32(out + 10, w->boot_id);
    wire_put_u32(out + 14, (uint32_t)(now / 1000u));
    wire_put_u32(out + 18, clock_set ? (uint32_t)clock_s : 0);
    if (w->has_program) {
        wire_put_u16(out + 22, w->program_len);
        memcpy(out + 24, w->identity, IDENTITY_SIZE);
    }
}

void watch_session_status(struct watch *w, uint64_t now, uint8_t out[SESSION_STATUS_SIZE])
{
    enum session_state state;
    uint16_t step;
    uint32_t elapsed;
    session_status(&w->session, now, &state, &step, &elapsed);
    encode_status(state, step, elapsed, out);
}

void watch_record(struct watch *w, uint8_t kind, const struct program_step *at,
                  uint32_t duration_ms, uint64_t clock_ms, uint8_t entry)
{
    struct event_record e = {0};
    int64_t utc;
    /* §9.1: Unix time if the clock is set, else time since this boot began. */
    if (watch_clock_utc(&w->clock, clock_ms, &utc) && utc >= 0) {
        e.flags = EVENT_FLAG_CLOCK_SET;
        int64_t s = utc / 1000;
        e.time_s = s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
        e.time_ms = (uint16_t)(utc % 1000);
    } else {
        e.time_s = (uint32_t)(clock_ms / 1000u);
        e.time_ms = (uint16_t)(clock_ms % 1000u);
    }
    e.boot_id = w->boot_id;
    e.seq = w->seq++;
    e.kind = kind;
    e.step = at->index;
    e.exercise = at->exercise;
    e.set = at->set;
    e.rep = at->rep;
    e.side = at->side;
    e.direction = at->direction;
    e.duration_ms = duration_ms;
    e.entry = (w->features & FEATURE_ENTRIES) ? entry : 0; /* on the wire only with ENTRIES */
    event_log_append(&w->log, &e);
    w->hooks.event(w->hooks.ctx, &e);
    w->hooks.log_changed(w->hooks.ctx, false);
}

/* -- the clock (§10.2) and reminders (§5.9) ----------------------------------------------- */

uint8_t watch_write_current_time(struct watch *w, uint64_t now, const uint8_t *value, size_t len)
{
    uint8_t code = cts_write_current_time(&w->clock, now, value, len);
    if (code == ATT_OK) {
        watch_reminders_plan(w, now); /* missed planned times are not played late */
    }
    return code;
}

uint8_t watch_write_local_time(struct watch *w, uint64_t now, const uint8_t *value, size_t len)
{
    uint8_t code = cts_write_local_time(&w->clock, value, len);
    if (code == ATT_OK) {
        w->hooks.clock_changed(w->hooks.ctx);
        watch_reminders_plan(w, now); /* the local offset moved: so do the planned times */
    }
    return code;
}

void watch_reminders_plan(struct watch *w, uint64_t now)
{
    int64_t local = 0;
    bool planned = w->has_program && w->program.has_plan && with_plan(w) &&
                   watch_clock_local(&w->clock, now, &local);
    reminders_plan(&w->reminders, planned ? &w->program.plan : NULL, planned ? local : 0);
    w->reminder_due = UINT64_MAX;
    if (w->reminders.armed) {
        /* Local time runs with the watch's clock until the next clock write replans. */
        w->reminder_due = now + (uint64_t)(w->reminders.due_local_ms - local);
    }
}

/* §5.9 steps 1-2 for one entry: the reminder cue, the screen, the REMINDER event. */
static void remind(struct watch *w, uint64_t now, uint8_t entry, int64_t local_ms)
{
    const struct program *p = &w->program;
    uint32_t first = 0, end = 0;
    (void)program_entry_steps(p, entry, &first, &end);
    struct program_step at;
    (void)program_step(p, first, &at);
    struct program_cue cue;
    program_cue(p, p->reminder_cue, &cue); /* a format-2 program has one (§5.8) */
    int64_t utc = 0;
    bool known = watch_clock_utc(&w->clock, now, &utc);
    w->hooks.cue(w->hooks.ctx, &cue, SESSION_NO_STEP, 0, now, known, utc);
    if (w->hooks.reminder != NULL) {
        struct program_exercise ex;
        if (entry == PLAN_ENTRY_ROUTINE) {
            w->hooks.reminder(w->hooks.ctx, entry, p->title, p->title_len, local_ms);
        } else {
            program_exercise(p, at.exercise, &ex);
            w->hooks.reminder(w->hooks.ctx, entry, ex.name, ex.name_len, local_ms);
        }
    }
    watch_record(w, EVENT_REMINDER, &at, 0, now, entry);
}

void watch_reminders_poll(struct watch *w, uint64_t now)
{
    if (w->reminder_due == UINT64_MAX || now < w->reminder_due) {
        return;
    }
    int64_t due = w->reminders.due_local_ms;
    uint16_t entries = w->reminders.due_entries;
    /* Entry 0 first, then by entry number (§5.9); skipped while a session runs or is paused,
     * cancelled by a session of the entry done early. */
    for (unsigned entry = 0; entry < REMINDER_ENTRIES; entry++) {
        if ((entries & (1u << entry)) && w->session.state == SESSION_IDLE &&
            !reminders_cancelled(&w->reminders, &w->program.plan, (uint8_t)entry, due)) {
            remind(w, now, (uint8_t)entry, due);
        }
    }
    watch_reminders_plan(w, now);
}
