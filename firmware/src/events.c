/* Event log bookkeeping and encoding (docs/protocol.md §9.1-§9.5). */
#include "events.h"

#include <string.h>

#include "att_codes.h"
#include "wire.h"

void event_log_init(struct event_log *log, uint8_t record_size)
{
    memset(log, 0, sizeof *log);
    log->record_size =
        record_size == EVENT_RECORD_SIZE_ENTRIES ? EVENT_RECORD_SIZE_ENTRIES : EVENT_RECORD_SIZE;
}

static bool id_after(uint32_t boot_a, uint32_t seq_a, uint32_t boot_b, uint32_t seq_b)
{
    return boot_a > boot_b || (boot_a == boot_b && seq_a > seq_b);
}

void event_log_append(struct event_log *log, const struct event_record *e)
{
    if (log->count == EVENT_CAPACITY) {
        log->head = (uint16_t)((log->head + 1) % EVENT_CAPACITY);
        log->count--;
        log->lost = true;
    }
    log->ring[(log->head + log->count) % EVENT_CAPACITY] = *e;
    log->count++;
    if (!log->any || id_after(e->boot_id, e->seq, log->newest_boot_id, log->newest_seq)) {
        log->any = true;
        log->newest_boot_id = e->boot_id;
        log->newest_seq = e->seq;
    }
}

const struct event_record *event_log_at(const struct event_log *log, uint16_t i)
{
    return &log->ring[(log->head + i) % EVENT_CAPACITY];
}

uint8_t event_log_ack(struct event_log *log, uint32_t boot_id, uint32_t seq)
{
    if (!log->any || id_after(boot_id, seq, log->newest_boot_id, log->newest_seq)) {
        return ATT_ACK_OUT_OF_RANGE;
    }
    /* Ids are recorded in order, so the acknowledged events are a prefix. */
    while (log->count > 0) {
        const struct event_record *oldest = event_log_at(log, 0);
        if (id_after(oldest->boot_id, oldest->seq, boot_id, seq)) {
            break;
        }
        log->head = (uint16_t)((log->head + 1) % EVENT_CAPACITY);
        log->count--;
    }
    log->lost = false;
    return ATT_OK;
}

uint16_t events_per_batch(size_t value_size, uint8_t record_size)
{
    size_t usable = value_size < MAX_ATTRIBUTE_SIZE ? value_size : MAX_ATTRIBUTE_SIZE;
    if (usable < BATCH_HEADER_SIZE || record_size == 0) {
        return 0;
    }
    return (uint16_t)((usable - BATCH_HEADER_SIZE) / record_size);
}

void event_encode(const struct event_record *e, uint8_t *out, uint8_t size)
{
    wire_put_u32(out, e->boot_id);
    wire_put_u32(out + 4, e->seq);
    wire_put_u32(out + 8, e->time_s);
    wire_put_u16(out + 12, e->time_ms);
    out[14] = e->kind;
    out[15] = e->flags;
    wire_put_u16(out + 16, e->step);
    out[18] = e->exercise;
    out[19] = e->set;
    wire_put_u16(out + 20, e->rep);
    out[22] = e->side;
    out[23] = e->direction;
    wire_put_u32(out + 24, e->duration_ms);
    if (size >= EVENT_RECORD_SIZE_ENTRIES) {
        out[28] = e->entry;
    }
}

void event_decode(const uint8_t *in, uint8_t size, struct event_record *e)
{
    e->boot_id = wire_get_u32(in);
    e->seq = wire_get_u32(in + 4);
    e->time_s = wire_get_u32(in + 8);
    e->time_ms = wire_get_u16(in + 12);
    e->kind = in[14];
    e->flags = in[15];
    e->step = wire_get_u16(in + 16);
    e->exercise = in[18];
    e->set = in[19];
    e->rep = wire_get_u16(in + 20);
    e->side = in[22];
    e->direction = in[23];
    e->duration_ms = wire_get_u32(in + 24);
    e->entry = size >= EVENT_RECORD_SIZE_ENTRIES ? in[28] : 0;
}

size_t event_batch(const struct event_log *log, uint16_t first, uint16_t eligible,
                   uint8_t flags, uint8_t *out, size_t cap, uint16_t *included)
{
    uint16_t available = first < log->count ? (uint16_t)(log->count - first) : 0;
    if (available > eligible) {
        available = eligible;
    }
    uint16_t n = available;
    uint16_t room = events_per_batch(cap, log->record_size);
    if (n > room) {
        n = room;
    }
    if (available > n) {
        flags |= BATCH_MORE;
    }
    out[0] = flags;
    out[1] = log->record_size;
    for (uint16_t i = 0; i < n; i++) {
        event_encode(event_log_at(log, (uint16_t)(first + i)),
                     out + BATCH_HEADER_SIZE + (size_t)i * log->record_size, log->record_size);
    }
    *included = n;
    return BATCH_HEADER_SIZE + (size_t)n * log->record_size;
}
