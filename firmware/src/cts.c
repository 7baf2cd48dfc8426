/*
 * Current Time Service values (docs/protocol.md §10.1) and the UTC rule of §10.2:
 * UTC = local time - time_zone x 15 min - DST offset.
 */
#include "cts.h"

#include <string.h>

#include "att_codes.h"
#include "wire.h"


void watch_clock_init(struct watch_clock *c)
{
    memset(c, 0, sizeof *c);
}

bool watch_clock_utc(const struct watch_clock *c, uint64_t mono_ms, int64_t *utc_ms)
{
    if (!c->set) {
        return false;
    }
    *utc_ms = (int64_t)mono_ms + c->utc_offset_ms;
    return true;
}

/* The DST offset in minutes, or -1 for unknown or reserved codes. */
static int dst_minutes(uint8_t code)
{
    switch (code) {
    case 0:
        return 0;
    case 2:
        return 30;
    case 4:
        return 60;
    case 8:
        return 120;
    default:
        return -1;
    }
}

/* Local minus UTC in ms, or false when the zone or DST is unknown. */
static bool utc_offset_ms(const struct watch_clock *c, int64_t *offset)
{
    int dst = dst_minutes(c->dst_offset);
    if (c->time_zone == TIME_ZONE_UNKNOWN || dst < 0) {
        return false;
    }
    *offset = ((int64_t)c->time_zone * 15 + dst) * 60000;
    return true;
}

bool watch_clock_local(const struct watch_clock *c, uint64_t mono_ms, int64_t *local_ms)
{
    int64_t utc, offset = 0;
    if (!watch_clock_utc(c, mono_ms, &utc)) {
        return false;
    }
    (void)utc_offset_ms(c, &offset); /* an unknown zone reads as UTC, as Current Time does */
    *local_ms = utc + offset;
    return true;
}

uint8_t cts_write_local_time(struct watch_clock *c, const uint8_t *value, size_t len)
{
    if (len != LOCAL_TIME_SIZE) {
        return ATT_INVALID_LENGTH;
    }
    int8_t zone = (int8_t)value[0];
    if (zone != TIME_ZONE_UNKNOWN && (zone < TIME_ZONE_MIN || zone > TIME_ZONE_MAX)) {
        return ATT_OUT_OF_RANGE;
    }
    c->time_zone = zone;
    c->dst_offset = value[1];
    return ATT_OK;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Shift the year to start in March, so the leap day is the last day of the year. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (int64_t)m + (m > 2 ? -3 : 9);
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const uint8_t DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29u : DAYS[m - 1];
}

uint8_t cts_write_current_time(struct watch_clock *c, uint64_t mono_ms, const uint8_t *value,
                               size_t len)
{
    if (len != CURRENT_TIME_SIZE) {
        return ATT_INVALID_LENGTH;
    }
    uint16_t year = wire_get_u16(value);
    unsigned month = value[2], day = value[3], hours = value[4], minutes = value[5];
    unsigned seconds = value[6], weekday = value[7], fractions = value[8];
    if ((year != 0 && (year < 1582 || year > 9999)) || month > 12 || day > 31 || hours > 23 ||
        minutes > 59 || seconds > 59 || weekday > 7) {
        return ATT_OUT_OF_RANGE;
    }
    int64_t offset;
    if (year == 0 || month == 0 || day == 0 || day > days_in_month(year, month) ||
        !utc_offset_ms(c, &offset)) {
        return ATT_CTS_DATA_FIELD_IGNORED; /* the clock is not set */
    }
    int64_t local_ms = days_from_civil(year, month, day) * MS_PER_DAY +
                       ((int64_t)hours * 3600 + minutes * 60 + seconds) * 1000 +
                       (int64_t)fractions * 1000 / 256;
    c->utc_offset_ms = local_ms - offset - (int64_t)mono_ms;
    c->set = true;
    return ATT_OK;
}

void cts_read_current_time(const struct watch_clock *c, uint64_t mono_ms,
                           uint8_t out[CURRENT_TIME_SIZE])
{
    memset(out, 0, CURRENT_TIME_SIZE);
    int64_t local;
    if (!watch_clock_local(c, mono_ms, &local)) { /* an unknown zone reads as UTC */
        return;
    }
    int64_t days = days_of_ms(local);
    int64_t ms_of_day = local - days * MS_PER_DAY;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 1582 || y > 9999) {
        return;
    }
    wire_put_u16(out, (uint16_t)y);
    out[2] = (uint8_t)m;
    out[3] = (uint8_t)d;
    out[4] = (uint8_t)(ms_of_day / 3600000);
    out[5] = (uint8_t)(ms_of_day / 60000 % 60);
    out[6] = (uint8_t)(ms_of_day / 1000 % 60);
    /* 1970-01-01 was a Thursday (4); ISO weekday 1 is Monday. */
    int64_t wd = (days % 7 + 7 + 3) % 7 + 1;
    out[7] = (uint8_t)wd;
    out[8] = (uint8_t)(ms_of_day % 1000 * 256 / 1000);
    out[9] = 0;
}

void cts_read_local_time(const struct watch_clock *c, uint8_t out[LOCAL_TIME_SIZE])
{
    out[0] = (uint8_t)c->time_zone;
    out[1] = c->dst_offset;
}
