/* What the GATT layer needs from the port (main.c on Linux; a task and an RTC on a watch). */
#ifndef WEARSYNC_PLATFORM_H
#define WEARSYNC_PLATFORM_H

#include <stdint.h>

/* Watch time: ms since this boot began, at the --time-scale speed. */
uint64_t platform_now_ms(void);
/* Something changed the session's timing: re-arm the timer for session_next_due(). */
void platform_session_changed(void);

#endif
