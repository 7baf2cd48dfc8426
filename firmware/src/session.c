/* The session state machine of docs/protocol.md §8.2, with the timing rules of §5.6. */
#include "session.h"

#include <string.h>

#include "att_codes.h"
#include "events.h"

void session_init(struct session *s, const struct session_host *host)
{
    memset(s, 0, sizeof *s);
    s->host = *host;
    s->state = SESSION_IDLE;
}

static uint64_t session_now(const struct session *s, uint64_t now)
{
    if (s->state == SESSION_PAUSED) {
        return s->paused_ms;
    }
    return now > s->origin ? now - s->origin : 0;
}

static void emit(struct session *s, uint8_t kind, const struct program_step *at,
                 uint64_t duration_ms, uint64_t clock_ms)
{
    uint32_t d = duration_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)duration_ms;
    s->host.event(s->host.ctx, kind, at, d, clock_ms);
}

static void status(struct session *s, enum session_state state, uint16_t step, uint64_t elapsed)
{
    s->host.status(s->host.ctx, state, step, elapsed > UINT32_MAX ? UINT32_MAX : (uint32_t)elapsed);
}

/* Enter step `index` at session time `at` (§8.2): status, STEP_STARTED, its cue (§5.6 rule 7). */
static void enter(struct session *s, uint32_t index, uint64_t at, bool first)
{
    uint8_t previous_exercise = s->step.exercise;
    (void)program_step(s->program, index, &s->step);
    s->step_start = at;
    if (first || s->step.exercise != previous_exercise) {
        s->exercise_start = at;
    }
    if (!first) {
        status(s, SESSION_RUNNING, s->step.index, 0);
    }
    emit(s, EVENT_STEP_STARTED, &s->step, at, s->origin + at);
    s->host.cue(s->host.ctx, s->step.cue, s->step.index, at, s->origin + at);
    s->ticks_left = s->step.countdown_ms / 1000u;
    s->host.mark(s->host.ctx, &s->step, at);
}

static void finish(struct session *s)
{
    s->state = SESSION_IDLE;
    memset(&s->step, 0, sizeof s->step);
    status(s, SESSION_IDLE, 0, 0);
    s->host.mark(s->host.ctx, NULL, 0);
}

static void complete(struct session *s, uint64_t at)
{
    struct program_step last; /* the last step the session runs (§9.3) */
    (void)program_step(s->program, s->end - 1, &last);
    emit(s, EVENT_SESSION_COMPLETED, &last, at, s->origin + at);
    if (s->program->end_cue != PROGRAM_NO_CUE) {
        s->host.cue(s->host.ctx, s->program->end_cue, SESSION_NO_STEP, at, s->origin + at);
    }
    finish(s);
}

static void step_ended(struct session *s, uint64_t at)
{
    uint32_t next = (uint32_t)s->step.index + 1;
    bool last = next == s->end;
    if (last || s->program->first_step[s->step.exercise + 1] == next) {
        emit(s, EVENT_EXERCISE_COMPLETED, &s->step, at - s->exercise_start, s->origin + at);
    }
    if (last) {
        complete(s, at);
    } else {
        enter(s, next, at, false);
    }
}

/* Session time of the next thing due in the running step: a countdown tick, or its end. */
static uint64_t next_due_session(const struct session *s)
{
    uint64_t end = s->step_start + s->step.duration_ms;
    if (s->ticks_left > 0) {
        /* §5.6 rule 6: ticks at T - 1000 k, k = ticks .. 1, all before the end. */
        return end - 1000u * (uint64_t)s->ticks_left;
    }
    return end;
}

void session_poll(struct session *s, uint64_t now)
{
    while (s->state == SESSION_RUNNING) {
        uint64_t due = next_due_session(s);
        if (due > session_now(s, now)) {
            break;
        }
        if (s->ticks_left > 0) {
            s->host.cue(s->host.ctx, s->step.countdown_cue, s->step.index, due, s->origin + due);
            s->ticks_left--;
        } else {
            step_ended(s, due);
        }
    }
}

uint64_t session_next_due(const struct session *s)
{
    if (s->state != SESSION_RUNNING) {
        return UINT64_MAX;
    }
    return s->origin + next_due_session(s);
}

uint8_t session_start(struct session *s, const struct program *program, uint8_t entry,
                      uint64_t now)
{
    if (s->state != SESSION_IDLE) {
        return ATT_SESSION_ACTIVE;
    }
    uint32_t first_index, end;
    if (!program_entry_steps(program, entry, &first_index, &end)) {
        return ATT_UNKNOWN_ENTRY; /* §7.7, checked after SESSION_ACTIVE */
    }
    s->program = program;
    s->entry = entry;
    s->end = end;
    s->origin = now;
    s->state = SESSION_RUNNING;
    struct program_step first;
    (void)program_step(program, first_index, &first);
    status(s, SESSION_RUNNING, first.index, 0);
    emit(s, EVENT_SESSION_STARTED, &first, 0, now);
    enter(s, first_index, 0, true);
    return ATT_OK;
}

uint8_t session_stop(struct session *s, uint64_t now)
{
    session_poll(s, now);
    if (s->state == SESSION_IDLE) {
        return ATT_OK;
    }
    uint64_t at = session_now(s, now);
    uint64_t clock = s->state == SESSION_PAUSED ? now : s->origin + at;
    emit(s, EVENT_SESSION_ABORTED, &s->step, at, clock);
    finish(s);
    return ATT_OK;
}

uint8_t session_pause(struct session *s, uint64_t now)
{
    session_poll(s, now);
    if (s->state != SESSION_RUNNING) {
        return ATT_NOT_RUNNING;
    }
    uint64_t at = session_now(s, now);
    s->state = SESSION_PAUSED;
    s->paused_ms = at;
    s->paused_at = s->origin + at;
    status(s, SESSION_PAUSED, s->step.index, at - s->step_start);
    emit(s, EVENT_PAUSED, &s->step, 0, s->paused_at);
    s->host.mark(s->host.ctx, &s->step, at);
    return ATT_OK;
}

uint8_t session_resume(struct session *s, uint64_t now)
{
    if (s->state != SESSION_PAUSED) {
        return ATT_NOT_RUNNING;
    }
    s->origin = now - s->paused_ms;
    s->state = SESSION_RUNNING;
    status(s, SESSION_RUNNING, s->step.index, s->paused_ms - s->step_start);
    emit(s, EVENT_RESUMED, &s->step, now - s->paused_at, now);
    return ATT_OK;
}

uint8_t session_skip(struct session *s, uint64_t now)
{
    session_poll(s, now);
    if (s->state != SESSION_RUNNING) {
        return ATT_NOT_RUNNING;
    }
    uint64_t at = session_now(s, now);
    emit(s, EVENT_EXERCISE_SKIPPED, &s->step, at - s->exercise_start, s->origin + at);
    /*
     * Skipping jumps to the first step (the lead-in, if any) of the next exercise (§8.2); in
     * an entry there is none, so the session completes (§5.8).
     */
    uint32_t following = s->program->first_step[s->step.exercise + 1];
    if (following >= s->end) {
        complete(s, at);
    } else {
        enter(s, following, at, false);
    }
    return ATT_OK;
}

void session_status(const struct session *s, uint64_t now, enum session_state *state,
                    uint16_t *step, uint32_t *elapsed_ms)
{
    *state = s->state;
    if (s->state == SESSION_IDLE) {
        *step = 0;
        *elapsed_ms = 0;
        return;
    }
    uint64_t t = session_now(s, now);
    uint64_t elapsed = t > s->step_start ? t - s->step_start : 0;
    if (elapsed > s->step.duration_ms) {
        elapsed = s->step.duration_ms;
    }
    *step = s->step.index;
    *elapsed_ms = (uint32_t)elapsed;
}
