/*
 * The session engine: runs the committed program step by step (docs/protocol.md §5.6, §8).
 *
 * Pure: it is driven by the caller's monotonic clock (`now`, ms) and reports through a
 * `session_host` (events of table 9-2, Session Status changes, cues to play). Everything due
 * is processed at its exact due time even when the caller polls late, so durations are exact
 * at any clock speed. Session time excludes pauses; clock time is the caller's.
 */
#ifndef WEARSYNC_SESSION_H
#define WEARSYNC_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "program.h"

enum session_state {
    SESSION_IDLE = 0,
    SESSION_RUNNING = 1,
    SESSION_PAUSED = 2,
};

#define SESSION_NO_STEP (-1) /* cue `step` of the end cue */

struct session_host {
    /* An event of table 9-2 at `at` (its position fields), at clock time `clock_ms`. */
    void (*event)(void *ctx, uint8_t kind, const struct program_step *at, uint32_t duration_ms,
                  uint64_t clock_ms);
    /* Session Status changed (§8.1). */
    void (*status)(void *ctx, enum session_state state, uint16_t step, uint32_t elapsed_ms);
    /* Play cue `cue` (a cue table index) for `step` (or SESSION_NO_STEP for the end cue). */
    void (*cue)(void *ctx, uint8_t cue, int32_t step, uint64_t session_ms, uint64_t clock_ms);
    /*
     * Where the session is, to persist (at each step start and pause), or NULL once it has
     * ended: a watch that reboots mid-session records SESSION_ABORTED from it (§8.2).
     */
    void (*mark)(void *ctx, const struct program_step *at, uint64_t session_ms);
    void *ctx;
};

struct session {
    const struct program *program;
    struct session_host host;
    enum session_state state;
    uint8_t entry;            /* what runs: 0 the whole program, n entry n (§7.7) */
    uint32_t end;             /* one past the last step the session runs (§5.8) */
    struct program_step step; /* the current step */
    uint64_t origin;          /* clock time at which session time was 0, given the pauses */
    uint64_t step_start;      /* session time the current step started */
    uint64_t exercise_start;  /* session time the current exercise started */
    uint64_t paused_ms;       /* session time when paused */
    uint64_t paused_at;       /* clock time when paused */
    uint32_t ticks_left;      /* countdown ticks of the current step still to play */
};

void session_init(struct session *s, const struct session_host *host);
/*
 * START_SESSION (§7.4, entry 0) or START_ENTRY (§7.7): runs the entry's steps only, with
 * their whole-program indices (§5.8). ATT_OK, ATT_SESSION_ACTIVE or ATT_UNKNOWN_ENTRY.
 */
uint8_t session_start(struct session *s, const struct program *program, uint8_t entry,
                      uint64_t now);
/* STOP_SESSION (§7.5): always ATT_OK. */
uint8_t session_stop(struct session *s, uint64_t now);
/* PAUSE_SESSION, RESUME_SESSION (§7.6): ATT_OK or ATT_NOT_RUNNING. */
uint8_t session_pause(struct session *s, uint64_t now);
uint8_t session_resume(struct session *s, uint64_t now);
/* The watch's "skip exercise" (§8.2; in an entry it completes the session, §5.8): ATT_OK or
 * ATT_NOT_RUNNING. */
uint8_t session_skip(struct session *s, uint64_t now);
/* Process everything due by `now`. */
void session_poll(struct session *s, uint64_t now);
/* Clock time of the next thing due, or UINT64_MAX when nothing is. */
uint64_t session_next_due(const struct session *s);
/* Session Status now (§8.1). */
void session_status(const struct session *s, uint64_t now, enum session_state *state,
                    uint16_t *step, uint32_t *elapsed_ms);

#endif
