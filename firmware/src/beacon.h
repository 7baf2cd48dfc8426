/*
 * The state beacon (docs/protocol.md §14): HMAC-SHA256 keyed from the bond's LTK over a nonce
 * and the watch's state, advertised as 6 bytes of Manufacturer Specific Data.
 */
#ifndef WEARSYNC_BEACON_H
#define WEARSYNC_BEACON_H

#include <stdbool.h>
#include <stdint.h>

#include "ident.h"

#define BEACON_COMPANY_ID 0xFFFFu
#define BEACON_LTK_SIZE 16u
#define BEACON_KEY_SIZE 32u
#define BEACON_STATE_SIZE (1u + IDENTITY_SIZE)
#define BEACON_SIZE 6u                  /* nonce (2) and tag (4), after the company id */
#define BEACON_MFG_SIZE (2u + BEACON_SIZE) /* the whole Manufacturer Specific Data value */
#define BEACON_ROTATION_MS (900u * 1000u)  /* §14.3: a new nonce at least this often */

#define BEACON_EVENTS_WAITING 0x01u
#define BEACON_CLOCK_SET 0x02u

/* K = HMAC-SHA256(LTK, "WearSync state beacon v1") (§14.2); false if the HMAC failed. */
bool beacon_key(const uint8_t ltk[BEACON_LTK_SIZE], uint8_t key[BEACON_KEY_SIZE]);
/* The 17-byte state (table 14-2); `identity` NULL for no program, `session` 0..2. */
void beacon_state(bool events_waiting, bool clock_set, unsigned session, const uint8_t *identity,
                  uint8_t out[BEACON_STATE_SIZE]);
/* The Manufacturer Specific Data value for `state` under `nonce` (table 14-1). */
bool beacon_seal(const uint8_t key[BEACON_KEY_SIZE], uint16_t nonce,
                 const uint8_t state[BEACON_STATE_SIZE], uint8_t out[BEACON_MFG_SIZE]);

#endif
