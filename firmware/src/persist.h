/*
 * The watch's flash, as files in one directory (docs/protocol.md §6.4, §9.4):
 *
 *   boot_id        u32: incremented at every start
 *   address        the random static address, 6 bytes, chosen at the first start
 *   program.0/.1   the two program slots
 *   slot           the slot record: slot, sequence number, length, program CRC, record CRC
 *   events         the event log
 *   local_time     Local Time Information, 2 bytes
 *   session        where a running session is (empty when none): SESSION_ABORTED after a reboot
 *   bonds          the bond store (store.c)
 *
 * Every file is written to a temporary name, synced, and renamed over the old one, so a file
 * is always either the old or the new version. All files are created 0600.
 */
#ifndef WEARSYNC_PERSIST_H
#define WEARSYNC_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cts.h"
#include "events.h"
#include "program.h"

#define PERSIST_PATH_MAX 512u

bool persist_init(const char *dir);
const char *persist_dir(void);

/* Write `len` bytes as file `name` atomically; false on any I/O error. */
bool persist_write(const char *name, const void *data, size_t len);
/* Read file `name` into `buf` (up to `cap` bytes); the length read, or -1 if absent/unreadable. */
long persist_read(const char *name, void *buf, size_t cap);

/* The boot counter of this start: the stored one plus one, stored again (§9.4). */
bool persist_next_boot_id(uint32_t *boot_id);

/* Program slots (§6.4): write the inactive slot, then switch with one record write. */
bool persist_save_program(const uint8_t *bytes, uint16_t len);
/* The committed program, or 0 if there is none (no record, or a slot that fails its CRC). */
uint16_t persist_load_program(uint8_t *buf, size_t cap);

bool persist_save_events(const struct event_log *log);
void persist_load_events(struct event_log *log);

/* The session marker (§8.2): where a running session of `entry` was, or none (`at` NULL). */
bool persist_save_marker(const struct program_step *at, uint64_t session_ms, uint8_t entry);
/* The marker left by the previous boot; false if there is none. */
bool persist_load_marker(struct program_step *at, uint32_t *session_ms, uint8_t *entry);

bool persist_save_local_time(const struct watch_clock *clock);
void persist_load_local_time(struct watch_clock *clock);

#endif
