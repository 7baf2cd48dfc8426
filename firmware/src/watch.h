/*
 * The watch behind the GATT service: committed program, staging, event log, session, clock
 * (docs/protocol.md §4, §6, §7, §9). No BLE here: gatt.c turns ATT requests into these calls
 * and the hooks into notifications, files and the motor.
 */
#ifndef WEARSYNC_WATCH_H
#define WEARSYNC_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "cts.h"
#include "events.h"
#include "ident.h"
#include "program.h"
#include "reminders.h"
#include "session.h"
#include "transfer.h"

#define PROTOCOL_VERSION 1u
#define TIMER_INFO_SIZE 40u     /* table 4-1 */
#define SESSION_STATUS_SIZE 7u  /* table 8-1 */

/* Table 3-1. */
#define FEATURE_SESSION_CONTROL 0x0001u
#define FEATURE_PAUSE_RESUME 0x0002u
#define FEATURE_EVENT_REPLAY 0x0004u
#define FEATURE_CURRENT_TIME_SERVICE 0x0008u
#define FEATURE_ENTRIES 0x0010u /* format 2, START_ENTRY, reminders, 29-byte records */
#define FEATURE_STATE_BEACON 0x0020u
#define FEATURES_ALL 0x003Fu

/* Table 4-2. */
#define INFO_CLOCK_SET 0x01u
#define INFO_EVENTS_LOST 0x02u
#define INFO_STAGING 0x04u

/* Table 7-1. */
enum control_opcode {
    OP_COMMIT = 0x01,
    OP_ABORT_STAGED = 0x02,
    OP_START_SESSION = 0x03,
    OP_STOP_SESSION = 0x04,
    OP_PAUSE_SESSION = 0x05,
    OP_RESUME_SESSION = 0x06,
    OP_ACK_EVENTS = 0x07,
    OP_REPLAY_EVENTS = 0x08,
    OP_START_ENTRY = 0x09,
};

/* watch_control's answer to a well-formed REPLAY_EVENTS: the GATT layer runs the replay. */
#define WATCH_REPLAY 0x100

struct watch;

/* What the watch tells its surroundings. */
struct watch_hooks {
    /* Make `len` program bytes durable (§6.4); false fails the COMMIT. */
    bool (*save_program)(void *ctx, const uint8_t *bytes, uint16_t len);
    /* The event log changed (persist it); `urgent` after an acknowledgement. */
    void (*log_changed)(void *ctx, bool urgent);
    /* The Local Time Information changed (persist it). */
    void (*clock_changed)(void *ctx);
    /* An event was recorded (notify it live, print it). */
    void (*event)(void *ctx, const struct event_record *e);
    /* Session Status changed (notify it). */
    void (*status)(void *ctx, const uint8_t value[SESSION_STATUS_SIZE]);
    /* Persist where the session is, or that none runs (`at` NULL); see session_host.mark. */
    void (*mark)(void *ctx, const struct program_step *at, uint64_t session_ms);
    /*
     * The screen shows a reminder of `entry` (§5.9): `title` is the routine's title for entry
     * 0, the exercise's name otherwise; `local_ms` the planned local time. May be NULL.
     */
    void (*reminder)(void *ctx, uint8_t entry, const uint8_t *title, uint8_t title_len,
                     int64_t local_ms);
    /* The motor plays `cue`. */
    void (*cue)(void *ctx, const struct program_cue *cue, int32_t step, uint64_t session_ms,
                uint64_t uptime_ms, bool utc_known, int64_t utc_ms);
    void *ctx;
};

struct watch {
    uint16_t features;
    uint32_t boot_id;
    uint32_t seq;
    bool has_program;
    uint16_t program_len;
    uint8_t program_bytes[MAX_PROGRAM_LENGTH];
    uint8_t identity[IDENTITY_SIZE];
    struct program program;
    struct staging staging;
    struct event_log log;
    struct session session;
    struct watch_clock clock;
    struct reminders reminders;
    uint64_t reminder_due; /* watch time of the next planned occurrence, UINT64_MAX if none */
    struct watch_hooks hooks;
};

/* A watch of this boot; load persisted state with watch_restore_* before use. */
void watch_init(struct watch *w, uint16_t features, uint32_t boot_id,
                const struct watch_hooks *hooks);
/* The committed program kept from an earlier boot; false (and none) if it is not valid. */
bool watch_restore_program(struct watch *w, const uint8_t *bytes, uint16_t len);

/* A Control Point write (§7): ATT_OK, an error code, or WATCH_REPLAY. `now`: uptime ms. */
int watch_control(struct watch *w, uint64_t now, const uint8_t *value, size_t len);
/*
 * Start entry `entry` (0 the whole routine) of the committed program, as START_ENTRY does
 * after its identity check (§7.7) and as the watch's menu does: ATT_OK, ATT_NO_PROGRAM,
 * ATT_SESSION_ACTIVE or ATT_UNKNOWN_ENTRY.
 */
uint8_t watch_start_entry(struct watch *w, uint64_t now, uint8_t entry);
/* Current Time and Local Time Information writes (§10.2): the CTS codes of cts.h. */
uint8_t watch_write_current_time(struct watch *w, uint64_t now, const uint8_t *value,
                                 size_t len);
uint8_t watch_write_local_time(struct watch *w, uint64_t now, const uint8_t *value, size_t len);
/* Play and record every reminder due by `now` (§5.9), then arm for the next planned time. */
void watch_reminders_poll(struct watch *w, uint64_t now);
/* Arm the reminders for the first planned time after `now` (boot, commit, clock change). */
void watch_reminders_plan(struct watch *w, uint64_t now);
/* A Program write (§6.1, §6.2). */
uint8_t watch_program_write(struct watch *w, const uint8_t *value, size_t len);
/* The link went down: its staging is discarded (§6.2). */
void watch_disconnected(struct watch *w);

void watch_timer_info(struct watch *w, uint64_t now, uint8_t out[TIMER_INFO_SIZE]);
void watch_session_status(struct watch *w, uint64_t now, uint8_t out[SESSION_STATUS_SIZE]);

/* Record an event of `entry` at the position of `at` (§9.1), at uptime `clock_ms`. */
void watch_record(struct watch *w, uint8_t kind, const struct program_step *at,
                  uint32_t duration_ms, uint64_t clock_ms, uint8_t entry);

#endif
