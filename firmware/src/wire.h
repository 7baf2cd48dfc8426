/*
 * Bounds-checked little-endian reading and writing (docs/protocol.md §1.2, §5.1.1).
 *
 * A reader is sticky: the first read past the end (or a malformed varint) clears `ok`,
 * and every later read returns 0. A decoder reads all its fields and checks `ok` once,
 * so no field access can run past the buffer whatever the bytes say.
 */
#ifndef WEARSYNC_WIRE_H
#define WEARSYNC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest canonical LEB128 encoding of a u32 (§5.1.1). */
#define WIRE_VARINT_MAX_BYTES 5

struct wire_reader {
    const uint8_t *data;
    size_t len;
    size_t pos;
    bool ok;
};

static inline uint16_t wire_get_u16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] | (unsigned)p[1] << 8);
}

static inline uint32_t wire_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wire_reader_init(struct wire_reader *r, const uint8_t *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->ok = true;
}

static inline size_t wire_remaining(const struct wire_reader *r)
{
    return r->ok ? r->len - r->pos : 0;
}

/* The next `n` bytes, or NULL (and the reader fails) if fewer remain. */
static inline const uint8_t *wire_take(struct wire_reader *r, size_t n)
{
    if (!r->ok || n > r->len - r->pos) {
        r->ok = false;
        return NULL;
    }
    const uint8_t *at = r->data + r->pos;
    r->pos += n;
    return at;
}

static inline uint8_t wire_u8(struct wire_reader *r)
{
    const uint8_t *p = wire_take(r, 1);
    return p ? p[0] : 0;
}

static inline uint16_t wire_u16(struct wire_reader *r)
{
    const uint8_t *p = wire_take(r, 2);
    return p ? wire_get_u16(p) : 0;
}

/* A canonical varint of at most 32 bits (§5.1.1): shortest form, at most 5 bytes. */
static inline uint32_t wire_varint(struct wire_reader *r)
{
    uint64_t value = 0;
    for (unsigned i = 0; i < WIRE_VARINT_MAX_BYTES; i++) {
        uint8_t byte = wire_u8(r);
        if (!r->ok) {
            return 0;
        }
        value |= (uint64_t)(byte & 0x7F) << (7 * i);
        if (!(byte & 0x80)) {
            /* A final zero byte after the first adds nothing: not the shortest form. */
            if ((byte == 0 && i > 0) || value > UINT32_MAX) {
                r->ok = false;
                return 0;
            }
            return (uint32_t)value;
        }
    }
    r->ok = false;
    return 0;
}

static inline void wire_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void wire_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#endif
