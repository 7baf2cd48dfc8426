/* The watch's clock and the Current Time Service values (docs/protocol.md §10). */
#ifndef WEARSYNC_CTS_H
#define WEARSYNC_CTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CURRENT_TIME_SIZE 10u    /* table 10-1 */
#define LOCAL_TIME_SIZE 2u       /* table 10-2 */
#define TIME_ZONE_UNKNOWN (-128)
#define TIME_ZONE_MIN (-48)
#define TIME_ZONE_MAX 56
#define DST_UNKNOWN 255u
#define ADJUST_EXTERNAL_REFERENCE 0x02u

/* UTC kept as an offset from the watch's monotonic clock; Local Time Information as written. */
struct watch_clock {
    bool set;            /* Timer Info CLOCK_SET */
    int64_t utc_offset_ms; /* UTC ms since 1970 = monotonic ms + utc_offset_ms */
    int8_t time_zone;    /* 15-minute steps */
    uint8_t dst_offset;  /* table 10-2 code */
};

void watch_clock_init(struct watch_clock *c);
/* UTC in ms since 1970 at monotonic time `mono_ms`; false if the clock is not set. */
bool watch_clock_utc(const struct watch_clock *c, uint64_t mono_ms, int64_t *utc_ms);

/*
 * Local wall time in ms since 1970 at `mono_ms` (§5.9): UTC plus the offset of the Local Time
 * Information last written (UTC itself while that is unknown); false if the clock is not set.
 */
bool watch_clock_local(const struct watch_clock *c, uint64_t mono_ms, int64_t *local_ms);

/* A Local Time Information write: ATT_OK, 0x0D (length) or 0xFF (out of range). */
uint8_t cts_write_local_time(struct watch_clock *c, const uint8_t *value, size_t len);
/*
 * A Current Time write (§10.2): applies the local time with the stored time zone and DST.
 * ATT_OK, 0x0D, 0xFF, or 0x80 (unknown or impossible date, or unknown offset: clock unchanged).
 */
uint8_t cts_write_current_time(struct watch_clock *c, uint64_t mono_ms, const uint8_t *value,
                               size_t len);
/* The Current Time value now (local time); all fields unknown while the clock is not set. */
void cts_read_current_time(const struct watch_clock *c, uint64_t mono_ms,
                           uint8_t out[CURRENT_TIME_SIZE]);
void cts_read_local_time(const struct watch_clock *c, uint8_t out[LOCAL_TIME_SIZE]);

#define MS_PER_DAY 86400000LL

/* The day (days since 1970-01-01, rounded down) of `ms` since 1970, negative ones too. */
static inline int64_t days_of_ms(int64_t ms)
{
    return ms >= 0 ? ms / MS_PER_DAY : (ms - MS_PER_DAY + 1) / MS_PER_DAY;
}

/* Civil date <-> days since 1970-01-01 (proleptic Gregorian). */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
