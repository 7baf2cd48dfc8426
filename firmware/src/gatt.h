/*
 * The WearSync Interval Timer Service and the Current Time Service on NimBLE
 * (docs/protocol.md §2, §10): one static table of characteristic definitions, one access
 * callback per characteristic, and the notifications the watch sends.
 */
#ifndef WEARSYNC_GATT_H
#define WEARSYNC_GATT_H

#include <stdbool.h>
#include <stdint.h>

#include "watch.h"

#include "host/ble_uuid.h"

/* The service UUID the watch advertises (§2.1). */
const ble_uuid128_t *gatt_service_uuid(void);

/* Register the services (before the host starts); `w` is the watch they serve. */
int gatt_init(struct watch *w);

void gatt_connected(uint16_t conn_handle);
void gatt_disconnected(uint16_t conn_handle);
/* BLE_GAP_EVENT_SUBSCRIBE (a CCCD write, or restored from the bond). */
void gatt_subscribed(uint16_t conn_handle, uint16_t attr_handle, bool notify);
/* BLE_GAP_EVENT_NOTIFY_TX: a queued notification left, so there may be room for the next. */
void gatt_notify_done(void);

/* Watch hooks: Session Status changed, an event was recorded. */
void gatt_notify_status(const uint8_t value[SESSION_STATUS_SIZE]);
void gatt_notify_event(const struct event_record *e);

#endif
