/*
 * A small bond store: our and the peers' security material and the CCCDs of bonded peers, in
 * fixed arrays (limits from syscfg), written to the `bonds` file after every change.
 *
 * The file holds the arrays as this build lays them out, behind a header with a magic number,
 * the record sizes and a CRC: a different build or a damaged file is ignored (the watch then
 * forgets its bonds, and clients pair again, §2.3), never misread.
 */
#include "store.h"

#include <string.h>

#include "host/ble_hs.h"
#include "ident.h"
#include "persist.h"

#define MAX_BONDS MYNEWT_VAL(BLE_STORE_MAX_BONDS)
#define MAX_CCCDS MYNEWT_VAL(BLE_STORE_MAX_CCCDS)
#define BONDS_MAGIC 0x31444E42u /* "BND1" */

struct bond_file {
    uint32_t magic;
    uint16_t sec_size, cccd_size;
    uint32_t crc; /* of everything after this header */
    uint8_t our_count, peer_count, cccd_count, pad;
    struct ble_store_value_sec our[MAX_BONDS];
    struct ble_store_value_sec peer[MAX_BONDS];
    struct ble_store_value_cccd cccd[MAX_CCCDS];
};

static struct bond_file g_store;

#define BODY_OFFSET offsetof(struct bond_file, our_count)

static uint32_t body_crc(const struct bond_file *f)
{
    return crc32_iso_hdlc((const uint8_t *)f + BODY_OFFSET, sizeof *f - BODY_OFFSET);
}

static void save(void)
{
    g_store.magic = BONDS_MAGIC;
    g_store.sec_size = sizeof(struct ble_store_value_sec);
    g_store.cccd_size = sizeof(struct ble_store_value_cccd);
    g_store.crc = body_crc(&g_store);
    (void)persist_write("bonds", &g_store, sizeof g_store);
}

static void load(void)
{
    static struct bond_file loaded;
    memset(&g_store, 0, sizeof g_store);
    if (persist_read("bonds", &loaded, sizeof loaded) != (long)sizeof loaded ||
        loaded.magic != BONDS_MAGIC || loaded.sec_size != sizeof(struct ble_store_value_sec) ||
        loaded.cccd_size != sizeof(struct ble_store_value_cccd) ||
        loaded.crc != body_crc(&loaded) ||
        loaded.our_count > MAX_BONDS || loaded.peer_count > MAX_BONDS ||
        loaded.cccd_count > MAX_CCCDS) {
        return;
    }
    g_store = loaded;
}

static bool addr_matches(const ble_addr_t *want, const ble_addr_t *have)
{
    return ble_addr_cmp(want, BLE_ADDR_ANY) == 0 || ble_addr_cmp(want, have) == 0;
}

/* The idx-th entry matching `key` (a sec key), or -1. */
static int find_sec(const struct ble_store_value_sec *list, uint8_t count,
                    const struct ble_store_key_sec *key)
{
    uint8_t skipped = 0;
    for (uint8_t i = 0; i < count; i++) {
        if (addr_matches(&key->peer_addr, &list[i].peer_addr)) {
            if (skipped++ == key->idx) {
                return i;
            }
        }
    }
    return -1;
}

static int find_cccd(const struct ble_store_key_cccd *key)
{
    uint8_t skipped = 0;
    for (uint8_t i = 0; i < g_store.cccd_count; i++) {
        const struct ble_store_value_cccd *c = &g_store.cccd[i];
        if (addr_matches(&key->peer_addr, &c->peer_addr) &&
            (key->chr_val_handle == 0 || key->chr_val_handle == c->chr_val_handle)) {
            if (skipped++ == key->idx) {
                return i;
            }
        }
    }
    return -1;
}

static struct ble_store_value_sec *sec_list(int obj_type, uint8_t **count)
{
    if (obj_type == BLE_STORE_OBJ_TYPE_OUR_SEC) {
        *count = &g_store.our_count;
        return g_store.our;
    }
    *count = &g_store.peer_count;
    return g_store.peer;
}

int bond_store_read(int obj_type, const union ble_store_key *key, union ble_store_value *value)
{
    uint8_t *count;
    int i;
    switch (obj_type) {
    case BLE_STORE_OBJ_TYPE_OUR_SEC:
    case BLE_STORE_OBJ_TYPE_PEER_SEC: {
        struct ble_store_value_sec *list = sec_list(obj_type, &count);
        i = find_sec(list, *count, &key->sec);
        if (i < 0) {
            return BLE_HS_ENOENT;
        }
        value->sec = list[i];
        return 0;
    }
    case BLE_STORE_OBJ_TYPE_CCCD:
        i = find_cccd(&key->cccd);
        if (i < 0) {
            return BLE_HS_ENOENT;
        }
        value->cccd = g_store.cccd[i];
        return 0;
    default:
        return BLE_HS_ENOTSUP;
    }
}

int bond_store_write(int obj_type, const union ble_store_value *val)
{
    uint8_t *count;
    switch (obj_type) {
    case BLE_STORE_OBJ_TYPE_OUR_SEC:
    case BLE_STORE_OBJ_TYPE_PEER_SEC: {
        struct ble_store_value_sec *list = sec_list(obj_type, &count);
        struct ble_store_key_sec key = {.peer_addr = val->sec.peer_addr, .idx = 0};
        int i = find_sec(list, *count, &key);
        if (i < 0) {
            if (*count >= MAX_BONDS) {
                return BLE_HS_ESTORE_CAP;
            }
            i = (*count)++;
        }
        list[i] = val->sec;
        break;
    }
    case BLE_STORE_OBJ_TYPE_CCCD: {
        struct ble_store_key_cccd key = {
            .peer_addr = val->cccd.peer_addr, .chr_val_handle = val->cccd.chr_val_handle, .idx = 0};
        int i = find_cccd(&key);
        if (i < 0) {
            if (g_store.cccd_count >= MAX_CCCDS) {
                return BLE_HS_ESTORE_CAP;
            }
            i = g_store.cccd_count++;
        }
        g_store.cccd[i] = val->cccd;
        break;
    }
    default:
        return BLE_HS_ENOTSUP;
    }
    save();
    return 0;
}

int bond_store_delete(int obj_type, const union ble_store_key *key)
{
    uint8_t *count;
    switch (obj_type) {
    case BLE_STORE_OBJ_TYPE_OUR_SEC:
    case BLE_STORE_OBJ_TYPE_PEER_SEC: {
        struct ble_store_value_sec *list = sec_list(obj_type, &count);
        int i = find_sec(list, *count, &key->sec);
        if (i < 0) {
            return BLE_HS_ENOENT;
        }
        memmove(&list[i], &list[i + 1], (size_t)(*count - i - 1) * sizeof list[0]);
        (*count)--;
        break;
    }
    case BLE_STORE_OBJ_TYPE_CCCD: {
        int i = find_cccd(&key->cccd);
        if (i < 0) {
            return BLE_HS_ENOENT;
        }
        memmove(&g_store.cccd[i], &g_store.cccd[i + 1],
                (size_t)(g_store.cccd_count - i - 1) * sizeof g_store.cccd[0]);
        g_store.cccd_count--;
        break;
    }
    default:
        return BLE_HS_ENOTSUP;
    }
    save();
    return 0;
}

void bond_store_init(void)
{
    load();
    ble_hs_cfg.store_read_cb = bond_store_read;
    ble_hs_cfg.store_write_cb = bond_store_write;
    ble_hs_cfg.store_delete_cb = bond_store_delete;
    ble_hs_cfg.store_status_cb = ble_store_util_status_rr;
}
