/*
 * The Generic Attribute service with Service Changed, Server and Client Supported Features
 * (as NimBLE's ble_svc_gatt serves them) and the Database Hash it lacks (Core 5.1 Vol 3 Part G
 * §7.2-§7.3). The hash walks NimBLE's attribute table, which only its private header exposes
 * (ble_att_priv.h, compiled in for this file alone; NimBLE's sources are not changed).
 */
#include "gatt_svc.h"

#include <mbedtls/cipher.h>
#include <mbedtls/cmac.h>
#include <string.h>

#include "host/ble_hs.h"
#include "services/gatt/ble_svc_gatt.h"
/* Private NimBLE headers: the attribute list and the per-connection client features. */
#include "ble_att_priv.h"
#include "wire.h"
#include "ble_gatt_priv.h"

#define UUID_DATABASE_HASH 0x2B2Au
/* Attribute types (Core Vol 3 Part G §3) whose handle, type and value are hashed... */
#define TYPE_PRIMARY 0x2800u
#define TYPE_SECONDARY 0x2801u
#define TYPE_INCLUDE 0x2802u
#define TYPE_CHARACTERISTIC 0x2803u
#define TYPE_EXTENDED_PROPERTIES 0x2900u
/* ...and those whose handle and type only are (user description .. aggregate format). */
#define TYPE_FIRST_DESCRIPTOR_UNHASHED_VALUE 0x2901u
#define TYPE_LAST_DESCRIPTOR_UNHASHED_VALUE 0x2905u
/* The longest hashed value: a characteristic declaration with a 128-bit UUID. */
#define HASHED_VALUE_MAX (1u + 2u + 16u)

static uint16_t h_service_changed;
static uint8_t g_hash[DB_HASH_SIZE];
static bool g_hash_known;

static int service_changed_access(uint16_t conn_handle, uint16_t attr_handle,
                                  struct ble_gatt_access_ctxt *ctxt, void *arg);
static int server_features_access(uint16_t conn_handle, uint16_t attr_handle,
                                  struct ble_gatt_access_ctxt *ctxt, void *arg);
static int client_features_access(uint16_t conn_handle, uint16_t attr_handle,
                                  struct ble_gatt_access_ctxt *ctxt, void *arg);
static int database_hash_access(uint16_t conn_handle, uint16_t attr_handle,
                                struct ble_gatt_access_ctxt *ctxt, void *arg);

static const struct ble_gatt_svc_def SERVICES[] = {
    {
        .type = BLE_GATT_SVC_TYPE_PRIMARY,
        .uuid = BLE_UUID16_DECLARE(BLE_GATT_SVC_UUID16),
        .characteristics =
            (struct ble_gatt_chr_def[]){
                {
                    .uuid = BLE_UUID16_DECLARE(BLE_SVC_GATT_CHR_SERVICE_CHANGED_UUID16),
                    .access_cb = service_changed_access,
                    .val_handle = &h_service_changed,
                    .flags = BLE_GATT_CHR_F_INDICATE,
                },
                {
                    .uuid = BLE_UUID16_DECLARE(BLE_SVC_GATT_CHR_SERVER_SUPPORTED_FEAT_UUID16),
                    .access_cb = server_features_access,
                    .flags = BLE_GATT_CHR_F_READ,
                },
                {
                    .uuid = BLE_UUID16_DECLARE(BLE_SVC_GATT_CHR_CLIENT_SUPPORTED_FEAT_UUID16),
                    .access_cb = client_features_access,
                    .flags = BLE_GATT_CHR_F_READ | BLE_GATT_CHR_F_WRITE,
                },
                {
                    .uuid = BLE_UUID16_DECLARE(UUID_DATABASE_HASH),
                    .access_cb = database_hash_access,
                    .flags = BLE_GATT_CHR_F_READ,
                },
                {0},
            },
    },
    {0},
};

static int service_changed_access(uint16_t conn_handle, uint16_t attr_handle,
                                  struct ble_gatt_access_ctxt *ctxt, void *arg)
{
    (void)conn_handle, (void)attr_handle, (void)arg;
    /* Only read by the host to fill an indication: the whole range (the database of this
     * firmware never changes while it runs; a new firmware changes its hash). */
    if (ctxt->op != BLE_GATT_ACCESS_OP_READ_CHR) {
        return BLE_ATT_ERR_READ_NOT_PERMITTED;
    }
    const uint8_t range[4] = {0x01, 0x00, 0xFF, 0xFF};
    return os_mbuf_append(ctxt->om, range, sizeof range) == 0 ? 0 : BLE_ATT_ERR_INSUFFICIENT_RES;
}

static int server_features_access(uint16_t conn_handle, uint16_t attr_handle,
                                  struct ble_gatt_access_ctxt *ctxt, void *arg)
{
    (void)conn_handle, (void)attr_handle, (void)arg;
    if (ctxt->op != BLE_GATT_ACCESS_OP_READ_CHR) {
        return BLE_ATT_ERR_WRITE_NOT_PERMITTED;
    }
    const uint8_t none = 0; /* no EATT */
    return os_mbuf_append(ctxt->om, &none, 1) == 0 ? 0 : BLE_ATT_ERR_INSUFFICIENT_RES;
}

static int client_features_access(uint16_t conn_handle, uint16_t attr_handle,
                                  struct ble_gatt_access_ctxt *ctxt, void *arg)
{
    (void)attr_handle, (void)arg;
    if (ctxt->op == BLE_GATT_ACCESS_OP_READ_CHR) {
        uint8_t features = 0;
        if (ble_gatts_peer_cl_sup_feat_get(conn_handle, &features, 1) != 0) {
            return BLE_ATT_ERR_UNLIKELY;
        }
        return os_mbuf_append(ctxt->om, &features, 1) == 0 ? 0 : BLE_ATT_ERR_INSUFFICIENT_RES;
    }
    if (ctxt->op == BLE_GATT_ACCESS_OP_WRITE_CHR) {
        /* NimBLE checks the length and that no bit is cleared once set (§7.2). */
        return ble_gatts_peer_cl_sup_feat_update(conn_handle, ctxt->om);
    }
    return BLE_ATT_ERR_UNLIKELY;
}

static int database_hash_access(uint16_t conn_handle, uint16_t attr_handle,
                                struct ble_gatt_access_ctxt *ctxt, void *arg)
{
    (void)conn_handle, (void)attr_handle, (void)arg;
    if (ctxt->op != BLE_GATT_ACCESS_OP_READ_CHR) {
        return BLE_ATT_ERR_WRITE_NOT_PERMITTED;
    }
    uint8_t hash[DB_HASH_SIZE];
    if (!gatt_svc_database_hash(hash)) {
        return BLE_ATT_ERR_UNLIKELY;
    }
    return os_mbuf_append(ctxt->om, hash, sizeof hash) == 0 ? 0 : BLE_ATT_ERR_INSUFFICIENT_RES;
}

int gatt_svc_init(void)
{
    g_hash_known = false;
    int rc = ble_gatts_count_cfg(SERVICES);
    return rc != 0 ? rc : ble_gatts_add_svcs(SERVICES);
}

/* 1: handle, type and value; 2: handle and type; 0: not hashed (§7.3.1). */
static int hashed_part(uint16_t type)
{
    switch (type) {
    case TYPE_PRIMARY:
    case TYPE_SECONDARY:
    case TYPE_INCLUDE:
    case TYPE_CHARACTERISTIC:
    case TYPE_EXTENDED_PROPERTIES:
        return 1;
    default:
        return type >= TYPE_FIRST_DESCRIPTOR_UNHASHED_VALUE &&
                       type <= TYPE_LAST_DESCRIPTOR_UNHASHED_VALUE
                   ? 2
                   : 0;
    }
}

/* The value of a local attribute, into `out` (at most HASHED_VALUE_MAX bytes). */
static bool read_value(uint16_t handle, uint8_t out[HASHED_VALUE_MAX], uint16_t *len)
{
    struct os_mbuf *om = NULL;
    if (ble_att_svr_read_local(handle, &om) != 0 || om == NULL) {
        return false;
    }
    uint16_t n = OS_MBUF_PKTLEN(om);
    bool ok = n <= HASHED_VALUE_MAX && os_mbuf_copydata(om, 0, n, out) == 0;
    os_mbuf_free_chain(om);
    *len = n;
    return ok;
}

static bool compute(uint8_t out[DB_HASH_SIZE])
{
    static const uint8_t ZERO_KEY[16] = {0};
    const mbedtls_cipher_info_t *aes = mbedtls_cipher_info_from_type(MBEDTLS_CIPHER_AES_128_ECB);
    if (aes == NULL) {
        return false;
    }
    mbedtls_cipher_context_t cmac;
    mbedtls_cipher_init(&cmac);
    bool ok = mbedtls_cipher_setup(&cmac, aes) == 0 &&
              mbedtls_cipher_cmac_starts(&cmac, ZERO_KEY, 128) == 0;
    /* The attribute list is in handle order (handles are assigned as entries are added). */
    for (struct ble_att_svr_entry *e = ble_att_svr_find_by_uuid(NULL, NULL, 0xFFFF);
         ok && e != NULL; e = ble_att_svr_find_by_uuid(e, NULL, 0xFFFF)) {
        if (e->ha_uuid->type != BLE_UUID_TYPE_16) {
            continue; /* a 128-bit type is a characteristic value: never hashed */
        }
        uint16_t type = BLE_UUID16(e->ha_uuid)->value;
        int part = hashed_part(type);
        if (part == 0) {
            continue;
        }
        uint8_t head[4];
        wire_put_u16(head, e->ha_handle_id);
        wire_put_u16(head + 2, type);
        ok = mbedtls_cipher_cmac_update(&cmac, head, sizeof head) == 0;
        if (ok && part == 1) {
            uint8_t value[HASHED_VALUE_MAX];
            uint16_t len = 0;
            ok = read_value(e->ha_handle_id, value, &len) &&
                 mbedtls_cipher_cmac_update(&cmac, value, len) == 0;
        }
    }
    uint8_t mac[DB_HASH_SIZE];
    ok = ok && mbedtls_cipher_cmac_finish(&cmac, mac) == 0;
    mbedtls_cipher_free(&cmac);
    if (ok) {
        /* The hash is a uint128 and goes least significant octet first; AES-CMAC's output is
         * most significant first. */
        for (unsigned i = 0; i < DB_HASH_SIZE; i++) {
            out[i] = mac[DB_HASH_SIZE - 1u - i];
        }
    }
    return ok;
}

bool gatt_svc_database_hash(uint8_t out[DB_HASH_SIZE])
{
    /* The database is fixed once the host has started: compute it once. */
    if (!g_hash_known) {
        g_hash_known = compute(g_hash);
    }
    if (g_hash_known) {
        memcpy(out, g_hash, DB_HASH_SIZE);
    }
    return g_hash_known;
}
