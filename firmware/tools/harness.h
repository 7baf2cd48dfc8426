/* What the stdin test harnesses in tools/ share. */
#ifndef WEARSYNC_TOOLS_HARNESS_H
#define WEARSYNC_TOOLS_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The bytes of a hex string up to its end, a newline or `cap` bytes; how many were read. */
static inline size_t unhex(const char *text, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (text[0] && text[1] && text[0] != '\n' && n < cap) {
        unsigned byte;
        if (sscanf(text, "%2x", &byte) != 1) {
            break;
        }
        out[n++] = (uint8_t)byte;
        text += 2;
    }
    return n;
}

#endif
