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
/* A line of its own type ("ready", "stopped"): `fields` is the JSON object's inside. */
void motor_print_line(const char *type, const char *fields);

#endif
