/*
 * NimBLE's bond store (ble_store callbacks) kept in a file, so bonds and the CCCDs stored with
 * them (docs/protocol.md §2.3) survive a restart. NimBLE's own Linux store is RAM only.
 */
#ifndef WEARSYNC_STORE_H
#define WEARSYNC_STORE_H

#include "host/ble_store.h"

/* Load the bonds file and install the callbacks in ble_hs_cfg. */
void bond_store_init(void);

int bond_store_read(int obj_type, const union ble_store_key *key, union ble_store_value *value);
int bond_store_write(int obj_type, const union ble_store_value *val);
int bond_store_delete(int obj_type, const union ble_store_key *key);

#endif
