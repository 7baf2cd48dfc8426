/* The state beacon (docs/protocol.md §14). Every buffer here has a fixed size. */
#include "beacon.h"

#include <mbedtls/md.h>
#include <string.h>

#include "wire.h"

static const char KEY_LABEL[] = "WearSync state beacon v1";

static bool hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                        uint8_t out[BEACON_KEY_SIZE])
{
    const mbedtls_md_info_t *sha256 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    return sha256 != NULL && mbedtls_md_hmac(sha256, key, key_len, msg, msg_len, out) == 0;
}

bool beacon_key(const uint8_t ltk[BEACON_LTK_SIZE], uint8_t key[BEACON_KEY_SIZE])
{
    return hmac_sha256(ltk, BEACON_LTK_SIZE, (const uint8_t *)KEY_LABEL, sizeof KEY_LABEL - 1,
                       key);
}

void beacon_state(bool events_waiting, bool clock_set, unsigned session, const uint8_t *identity,
                  uint8_t out[BEACON_STATE_SIZE])
{
    unsigned byte = (events_waiting ? BEACON_EVENTS_WAITING : 0u) |
                    (clock_set ? BEACON_CLOCK_SET : 0u) | ((session & 0x03u) << 2);
    out[0] = (uint8_t)byte;
    if (identity != NULL) {
        memcpy(out + 1, identity, IDENTITY_SIZE);
    } else {
        memset(out + 1, 0, IDENTITY_SIZE);
    }
}

bool beacon_seal(const uint8_t key[BEACON_KEY_SIZE], uint16_t nonce,
                 const uint8_t state[BEACON_STATE_SIZE], uint8_t out[BEACON_MFG_SIZE])
{
    uint8_t message[2 + BEACON_STATE_SIZE];
    wire_put_u16(message, nonce);
    memcpy(message + 2, state, BEACON_STATE_SIZE);
    uint8_t tag[BEACON_KEY_SIZE];
    if (!hmac_sha256(key, BEACON_KEY_SIZE, message, sizeof message, tag)) {
        return false;
    }
    wire_put_u16(out, BEACON_COMPANY_ID);
    out[2] = message[0];
    out[3] = message[1];
    memcpy(out + 4, tag, BEACON_SIZE - 2);
    return true;
}
