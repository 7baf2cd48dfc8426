/* File-backed persistence for the Linux port; a watch port replaces this with its flash. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "persist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ident.h"
#include "transfer.h"
#include "wire.h"

static char g_dir[PERSIST_PATH_MAX];

#define SLOT_RECORD_SIZE 15u /* slot u8, seq u32, length u16, program crc u32, record crc u32 */
/* "WEV2": records of EVENT_RECORD_MAX_SIZE bytes, the entry included ("WEV1" files had 28). */
#define EVENTS_MAGIC 0x32564557u
#define STORED_RECORD_SIZE EVENT_RECORD_MAX_SIZE
/* magic u32, count u16, lost u8, any u8, newest boot u32, newest seq u32, records crc u32 */
#define EVENTS_HEADER_SIZE 20u

bool persist_init(const char *dir)
{
    if (strlen(dir) + 32 >= sizeof g_dir) {
        return false;
    }
    strcpy(g_dir, dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return false;
    }
    return true;
}

const char *persist_dir(void)
{
    return g_dir;
}

/* Names are this file's own short constants, and the directory is bounded in persist_init. */
static void path_of(char *out, size_t cap, const char *name)
{
    (void)snprintf(out, cap, "%s/%s", g_dir, name);
}

bool persist_write(const char *name, const void *data, size_t len)
{
    char path[PERSIST_PATH_MAX + 64], tmp[PERSIST_PATH_MAX + 64];
    path_of(path, sizeof path, name);
    (void)snprintf(tmp, sizeof tmp, "%s/%s.tmp", g_dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return false;
    }
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            close(fd);
            unlink(tmp);
            return false;
        }
        done += (size_t)n;
    }
    bool ok = fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        unlink(tmp);
    }
    return ok;
}

long persist_read(const char *name, void *buf, size_t cap)
{
    char path[PERSIST_PATH_MAX + 64];
    path_of(path, sizeof path, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    size_t done = 0;
    uint8_t *p = buf;
    for (;;) {
        if (done == cap) {
            /* One byte more than expected means the file is not what we wrote. */
            uint8_t extra;
            ssize_t n = read(fd, &extra, 1);
            close(fd);
            return n == 0 ? (long)done : -1;
        }
        ssize_t n = read(fd, p + done, cap - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0) {
            break;
        }
        done += (size_t)n;
    }
    close(fd);
    return (long)done;
}

bool persist_next_boot_id(uint32_t *boot_id)
{
    uint8_t raw[4];
    uint32_t previous = persist_read("boot_id", raw, sizeof raw) == 4 ? wire_get_u32(raw) : 0;
    *boot_id = previous + 1;
    wire_put_u32(raw, *boot_id);
    return persist_write("boot_id", raw, sizeof raw);
}

struct slot_record {
    uint8_t slot;
    uint32_t seq;
    uint16_t len;
    uint32_t crc;
};

static bool read_slot_record(struct slot_record *rec)
{
    uint8_t raw[SLOT_RECORD_SIZE];
    if (persist_read("slot", raw, sizeof raw) != (long)sizeof raw ||
        crc32_iso_hdlc(raw, SLOT_RECORD_SIZE - 4) != wire_get_u32(raw + SLOT_RECORD_SIZE - 4)) {
        return false;
    }
    rec->slot = raw[0];
    rec->seq = wire_get_u32(raw + 1);
    rec->len = wire_get_u16(raw + 5);
    rec->crc = wire_get_u32(raw + 7);
    return rec->slot <= 1;
}

static const char *slot_file(uint8_t slot)
{
    return slot ? "program.1" : "program.0";
}

bool persist_save_program(const uint8_t *bytes, uint16_t len)
{
    struct slot_record current = {.slot = 1, .seq = 0};
    bool have = read_slot_record(&current);
    uint8_t next_slot = have ? (uint8_t)(1 - current.slot) : 0;
    /* 1. the program into the slot not in use; the committed one stays intact. */
    if (!persist_write(slot_file(next_slot), bytes, len)) {
        return false;
    }
    /* 2. one write of the small record switches slots. */
    uint8_t raw[SLOT_RECORD_SIZE];
    raw[0] = next_slot;
    wire_put_u32(raw + 1, have ? current.seq + 1 : 1);
    wire_put_u16(raw + 5, len);
    wire_put_u32(raw + 7, crc32_iso_hdlc(bytes, len));
    wire_put_u32(raw + 11, crc32_iso_hdlc(raw, SLOT_RECORD_SIZE - 4));
    return persist_write("slot", raw, sizeof raw);
}

uint16_t persist_load_program(uint8_t *buf, size_t cap)
{
    struct slot_record rec;
    if (!read_slot_record(&rec) || rec.len == 0 || rec.len > cap) {
        return 0;
    }
    long n = persist_read(slot_file(rec.slot), buf, cap);
    if (n != rec.len || crc32_iso_hdlc(buf, rec.len) != rec.crc) {
        return 0;
    }
    return rec.len;
}

/* The serialized log, for saving and loading alike (both run on the host task). */
static uint8_t g_events_file[EVENTS_HEADER_SIZE + EVENT_CAPACITY * STORED_RECORD_SIZE];

bool persist_save_events(const struct event_log *log)
{
    uint8_t *raw = g_events_file;
    size_t len = EVENTS_HEADER_SIZE + (size_t)log->count * STORED_RECORD_SIZE;
    wire_put_u32(raw, EVENTS_MAGIC);
    wire_put_u16(raw + 4, log->count);
    raw[6] = log->lost;
    raw[7] = log->any;
    wire_put_u32(raw + 8, log->newest_boot_id);
    wire_put_u32(raw + 12, log->newest_seq);
    for (uint16_t i = 0; i < log->count; i++) {
        uint8_t *record = raw + EVENTS_HEADER_SIZE + (size_t)i * STORED_RECORD_SIZE;
        event_encode(event_log_at(log, i), record, STORED_RECORD_SIZE);
    }
    wire_put_u32(raw + 16, crc32_iso_hdlc(raw + EVENTS_HEADER_SIZE, len - EVENTS_HEADER_SIZE));
    return persist_write("events", raw, len);
}

void persist_load_events(struct event_log *log)
{
    uint8_t *raw = g_events_file;
    event_log_init(log, log->record_size); /* the record size is the watch's, not the file's */
    long n = persist_read("events", raw, sizeof g_events_file);
    if (n < (long)EVENTS_HEADER_SIZE || wire_get_u32(raw) != EVENTS_MAGIC) {
        return;
    }
    uint16_t count = wire_get_u16(raw + 4);
    size_t len = EVENTS_HEADER_SIZE + (size_t)count * STORED_RECORD_SIZE;
    if (count > EVENT_CAPACITY || (size_t)n != len ||
        crc32_iso_hdlc(raw + EVENTS_HEADER_SIZE, len - EVENTS_HEADER_SIZE) !=
            wire_get_u32(raw + 16)) {
        return;
    }
    for (uint16_t i = 0; i < count; i++) {
        struct event_record e;
        event_decode(raw + EVENTS_HEADER_SIZE + (size_t)i * STORED_RECORD_SIZE,
                     STORED_RECORD_SIZE, &e);
        event_log_append(log, &e);
    }
    log->lost = raw[6] != 0;
    log->any = raw[7] != 0;
    log->newest_boot_id = wire_get_u32(raw + 8);
    log->newest_seq = wire_get_u32(raw + 12);
}

bool persist_save_local_time(const struct watch_clock *clock)
{
    uint8_t raw[LOCAL_TIME_SIZE];
    cts_read_local_time(clock, raw);
    return persist_write("local_time", raw, sizeof raw);
}

void persist_load_local_time(struct watch_clock *clock)
{
    uint8_t raw[LOCAL_TIME_SIZE];
    if (persist_read("local_time", raw, sizeof raw) == (long)sizeof raw) {
        (void)cts_write_local_time(clock, raw, sizeof raw);
    }
}

/* step u16, exercise, set, rep u16, side, direction, session_ms u32, entry, crc u32 */
#define MARKER_SIZE 17u
#define MARKER_CRC_AT 13u

bool persist_save_marker(const struct program_step *at, uint64_t session_ms, uint8_t entry)
{
    if (at == NULL) {
        return persist_write("session", NULL, 0);
    }
    uint8_t raw[MARKER_SIZE] = {0};
    wire_put_u16(raw, at->index);
    raw[2] = at->exercise;
    raw[3] = at->set;
    wire_put_u16(raw + 4, at->rep);
    raw[6] = at->side;
    raw[7] = at->direction;
    wire_put_u32(raw + 8, session_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)session_ms);
    raw[12] = entry;
    wire_put_u32(raw + MARKER_CRC_AT, crc32_iso_hdlc(raw, MARKER_CRC_AT));
    return persist_write("session", raw, sizeof raw);
}

bool persist_load_marker(struct program_step *at, uint32_t *session_ms, uint8_t *entry)
{
    uint8_t raw[MARKER_SIZE];
    if (persist_read("session", raw, sizeof raw) != (long)sizeof raw ||
        crc32_iso_hdlc(raw, MARKER_CRC_AT) != wire_get_u32(raw + MARKER_CRC_AT)) {
        return false;
    }
    memset(at, 0, sizeof *at);
    at->index = wire_get_u16(raw);
    at->exercise = raw[2];
    at->set = raw[3];
    at->rep = wire_get_u16(raw + 4);
    at->side = raw[6];
    at->direction = raw[7];
    *session_ms = wire_get_u32(raw + 8);
    *entry = raw[12];
    return true;
}
