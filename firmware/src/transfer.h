/* Program transfer: chunks, staging and the COMMIT checks (docs/protocol.md §6). */
#ifndef WEARSYNC_TRANSFER_H
#define WEARSYNC_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "program.h"

/* Timer Info max_program_length: the largest program this watch stages (§4, §6.2). */
#define MAX_PROGRAM_LENGTH 4096u
#define CHUNK_HEADER_SIZE 4u   /* total_length u16, offset u16 (§6.1) */
#define CHUNK_MIN_SIZE 5u      /* a header and at least one byte (§6.1) */

struct staging {
    uint16_t total_length; /* 0: nothing staged */
    uint16_t received;
    uint8_t data[MAX_PROGRAM_LENGTH];
};

void staging_discard(struct staging *s);
bool staging_active(const struct staging *s);

/* A Program write (§6.1, §6.2): ATT_OK, or the error code; on error nothing changes. */
uint8_t staging_accept(struct staging *s, const uint8_t *value, size_t len);

/*
 * Checks 2-6 of COMMIT (§6.3) on the staged bytes; on success `parsed` describes them (and
 * refers to s->data). The caller checks for an active session first and discards the
 * staging afterwards, whatever the outcome (§6.2). Format 2 is accepted only `with_plan`
 * (feature ENTRIES), else answered 0x88 (§3.4).
 */
uint8_t staging_check(const struct staging *s, uint32_t crc32, struct program *parsed,
                      bool with_plan);

#endif
