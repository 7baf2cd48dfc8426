/*
 * The Generic Attribute service (0x1801) with a Database Hash (Core 5.1 Vol 3 Part G §7.3),
 * in place of NimBLE 1.10's ble_svc_gatt, which has none: without it a client's GATT cache
 * cannot be validated and every connection rediscovers the database.
 */
#ifndef WEARSYNC_GATT_SVC_H
#define WEARSYNC_GATT_SVC_H

#include <stdbool.h>
#include <stdint.h>

#define DB_HASH_SIZE 16u

/* Register the service (instead of ble_svc_gatt_init, before the other services so the
 * handles stay where NimBLE's own service put them). 0 on success, else a NimBLE code. */
int gatt_svc_init(void);

/* The Database Hash of the registered database (valid once the host has started), least
 * significant octet first as the characteristic serves it; false if it cannot be computed. */
bool gatt_svc_database_hash(uint8_t out[DB_HASH_SIZE]);

#endif
