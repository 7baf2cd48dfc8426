/* The event log: records, acknowledgement, batches (docs/protocol.md §9). */
#ifndef WEARSYNC_EVENTS_H
#define WEARSYNC_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENT_RECORD_SIZE 28u         /* table 9-1 without ENTRIES */
#define EVENT_RECORD_SIZE_ENTRIES 29u /* table 9-1 with ENTRIES: the entry byte appended */
#define EVENT_RECORD_MAX_SIZE EVENT_RECORD_SIZE_ENTRIES
#define EVENT_CAPACITY 256u   /* Timer Info event_capacity (§9.4) */
#define BATCH_HEADER_SIZE 2u  /* table 9-3 */
#define MAX_ATTRIBUTE_SIZE 512u

/* Table 9-2. */
enum event_kind {
    EVENT_SESSION_STARTED = 0x01,
    EVENT_STEP_STARTED = 0x02,
    EVENT_EXERCISE_COMPLETED = 0x03,
    EVENT_EXERCISE_SKIPPED = 0x04,
    EVENT_SESSION_COMPLETED = 0x05,
    EVENT_SESSION_ABORTED = 0x06,
    EVENT_PAUSED = 0x07,
    EVENT_RESUMED = 0x08,
    EVENT_REMINDER = 0x09, /* ENTRIES only (§5.9) */
};

#define EVENT_FLAG_CLOCK_SET 0x01u /* table 9-1 flags */
#define BATCH_MORE 0x01u           /* table 9-3 flags */
#define BATCH_REPLAY_END 0x02u
#define BATCH_LIVE 0x04u

struct event_record {
    uint32_t boot_id;
    uint32_t seq;
    uint32_t time_s;
    uint16_t time_ms;
    uint8_t kind;
    uint8_t flags;
    uint16_t step;
    uint8_t exercise;
    uint8_t set;
    uint16_t rep;
    uint8_t side;
    uint8_t direction;
    uint32_t duration_ms;
    uint8_t entry; /* the entry the session runs, or the one reminded of (ENTRIES only) */
};

/* Unacknowledged events, oldest first, in a ring of EVENT_CAPACITY records. */
struct event_log {
    uint8_t record_size; /* on the wire (§9.2): EVENT_RECORD_SIZE, or _ENTRIES with ENTRIES */
    struct event_record ring[EVENT_CAPACITY];
    uint16_t head;  /* index of the oldest */
    uint16_t count;
    bool lost;      /* Timer Info EVENTS_LOST */
    bool any;       /* an event was ever recorded: newest_* is meaningful */
    uint32_t newest_boot_id, newest_seq;
};

/* An empty log whose batches carry records of `record_size` bytes (28 or 29, §9.1). */
void event_log_init(struct event_log *log, uint8_t record_size);
/* Record `e`; when full, drop the oldest and set `lost` (§9.4). */
void event_log_append(struct event_log *log, const struct event_record *e);
/* ACK_EVENTS (§9.4): ATT_OK or ATT_ACK_OUT_OF_RANGE (then nothing changes). */
uint8_t event_log_ack(struct event_log *log, uint32_t boot_id, uint32_t seq);
/* The i-th oldest unacknowledged event (i < count). */
const struct event_record *event_log_at(const struct event_log *log, uint16_t i);

/* Records of `record_size` bytes that fit a batch of at most `value_size` bytes (§9.5). */
uint16_t events_per_batch(size_t value_size, uint8_t record_size);

/* Table 9-1 in `size` bytes (28, or 29 with the entry); `out` has room for `size`. */
void event_encode(const struct event_record *e, uint8_t *out, uint8_t size);
/* Table 9-1 from `size` bytes (28: entry 0, §9.1). */
void event_decode(const uint8_t *in, uint8_t size, struct event_record *e);

/*
 * Encode a batch (table 9-3) of the `eligible` log events from index `first`, as many as fit
 * `cap` bytes, into `out`; returns its length. MORE is added to `flags` when some of the
 * eligible events did not fit.
 */
size_t event_batch(const struct event_log *log, uint16_t first, uint16_t eligible,
                   uint8_t flags, uint8_t *out, size_t cap, uint16_t *included);

#endif
