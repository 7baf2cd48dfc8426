/*
 * The vibration motor and the event printer of the Linux port: one JSON line per cue and per
 * recorded event on stdout, in the shape `wearsync sim --json` prints (SimVibration,
 * SimEvent in wearsync/cli/sim.py), so cue timelines can be compared line by line.
 */
#ifndef WEARSYNC_MOTOR_H
#define WEARSYNC_MOTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "events.h"
#include "program.h"

/* Where the JSON lines go (NimBLE's Linux port logs to stdout, so main moves those away). */
void motor_set_output(FILE *out);

void motor_play(const struct program_cue *cue, int32_t step, uint64_t session_ms,
                uint64_t uptime_ms, bool utc_known, int64_t utc_ms);
void motor_print_event(const struct event_record *e);
/*
 * What the screen shows for a reminder (§5.9): {"type":"reminder","entry":N,"title":"...",
 * "local":"YYYY-MM-DDTHH:MM:SS"} with the planned local wall time (naive, the watch's offset).
 */
void motor_print_reminder(uint8_t entry, const uint8_t *title, uint8_t title_len,
                          int64_t local_ms);
/* A line of its own type ("ready", "stopped"): `fields` is the JSON object's inside. */
void motor_print_line(const char *type, const char *fields);

#endif
