/* Staging and commit checks (docs/protocol.md §6.1-§6.3). */
#include "transfer.h"

#include <string.h>

#include "att_codes.h"
#include "ident.h"
#include "wire.h"

void staging_discard(struct staging *s)
{
    s->total_length = 0;
    s->received = 0;
}

bool staging_active(const struct staging *s)
{
    return s->total_length != 0;
}

uint8_t staging_accept(struct staging *s, const uint8_t *value, size_t len)
{
    if (len < CHUNK_MIN_SIZE) {
        return ATT_INVALID_PARAMETER;
    }
    uint16_t total = wire_get_u16(value);
    uint16_t offset = wire_get_u16(value + 2);
    size_t n = len - CHUNK_HEADER_SIZE;
    if (total == 0 || (size_t)offset + n > total) {
        return ATT_INVALID_PARAMETER;
    }
    if (offset == 0) {
        if (total > MAX_PROGRAM_LENGTH) {
            return ATT_PROGRAM_TOO_LARGE; /* and the staging is unchanged */
        }
        s->total_length = total;
        s->received = 0;
    } else if (total != s->total_length || offset != s->received) {
        return ATT_BAD_OFFSET;
    }
    /* offset + n <= total <= MAX_PROGRAM_LENGTH, checked above. */
    memcpy(s->data + offset, value + CHUNK_HEADER_SIZE, n);
    s->received = (uint16_t)(offset + n);
    return ATT_OK;
}

uint8_t staging_check(const struct staging *s, uint32_t crc32, struct program *parsed,
                      bool with_plan)
{
    if (!staging_active(s)) {
        return ATT_NOTHING_STAGED;
    }
    if (s->received != s->total_length) {
        return ATT_STAGING_INCOMPLETE;
    }
    if (crc32_iso_hdlc(s->data, s->received) != crc32) {
        return ATT_CRC_MISMATCH;
    }
    switch (program_parse(parsed, s->data, s->received, with_plan)) {
    case PROGRAM_UNSUPPORTED:
        return ATT_PROGRAM_VERSION_UNSUPPORTED;
    case PROGRAM_INVALID:
        return ATT_PROGRAM_INVALID;
    case PROGRAM_VALID:
        break;
    }
    return ATT_OK;
}
