/*
 * The NPL log for this firmware, found before the Linux port's own header of this name
 * (which printf()s every level, including a hex dump of every HCI packet). Here DEBUG and
 * INFO compile to nothing and WARN and above go to stderr, so stdout carries only the
 * firmware's JSON lines.
 */
#ifndef _NIMBLE_NPL_OS_LOG_H_
#define _NIMBLE_NPL_OS_LOG_H_

#include <stdarg.h>
#include <stdio.h>

#define WEARSYNC_LOG_QUIET(lvl)                                                               \
    static inline void _BLE_NPL_LOG_CAT(BLE_NPL_LOG_MODULE, _BLE_NPL_LOG_CAT(_, lvl))(         \
        const char *fmt, ...)                                                                 \
    {                                                                                         \
        (void)fmt;                                                                            \
    }
#define WEARSYNC_LOG_STDERR(lvl)                                                              \
    static inline void _BLE_NPL_LOG_CAT(BLE_NPL_LOG_MODULE, _BLE_NPL_LOG_CAT(_, lvl))(         \
        const char *fmt, ...)                                                                 \
    {                                                                                         \
        va_list args;                                                                         \
        va_start(args, fmt);                                                                  \
        vfprintf(stderr, fmt, args);                                                          \
        va_end(args);                                                                         \
    }
#define WEARSYNC_LOG_DEBUG WEARSYNC_LOG_QUIET
#define WEARSYNC_LOG_INFO WEARSYNC_LOG_QUIET
#define WEARSYNC_LOG_WARN WEARSYNC_LOG_STDERR
#define WEARSYNC_LOG_ERROR WEARSYNC_LOG_STDERR
#define WEARSYNC_LOG_CRITICAL WEARSYNC_LOG_STDERR
#define BLE_NPL_LOG_IMPL(lvl) WEARSYNC_LOG_##lvl(lvl)

#endif
