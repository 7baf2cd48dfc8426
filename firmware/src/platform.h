/* What the GATT layer needs from the port (main.c on Linux; a task and an RTC on a watch). */
#ifndef WEARSYNC_PLATFORM_H
#define WEARSYNC_PLATFORM_H

#include <stdint.h>

/* Watch time: ms since this boot began, at the --time-scale speed. */
uint64_t platform_now_ms(void);
/* Something changed the session's or the reminders' timing: re-arm the timers for
 * session_next_due() and watch.reminder_due. */
void platform_session_changed(void);

#endif
