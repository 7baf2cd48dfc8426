/* GATT service table and access callbacks (docs/protocol.md §2.2, §2.4, §9.5, §10). */
#include "gatt.h"

#include <stdio.h>
#include <string.h>

#include "att_codes.h"
#include "host/ble_hs.h"
#include "nimble/nimble_port.h"
#include "platform.h"

/* 084bXXXX-0964-4b08-85d9-6f66f2b35e60, little-endian as NimBLE stores 128-bit UUIDs (§2.1). */
#define WEARSYNC_UUID(alias)                                                                  \
    BLE_UUID128_INIT(0x60, 0x5e, 0xb3, 0xf2, 0x66, 0x6f, 0xd9, 0x85, 0x08, 0x4b, 0x64, 0x09, \
                     (alias) & 0xFF, (alias) >> 8, 0x4b, 0x08)

static const ble_uuid128_t UUID_SERVICE = WEARSYNC_UUID(0x0001);
static const ble_uuid128_t UUID_TIMER_INFO = WEARSYNC_UUID(0x0002);
static const ble_uuid128_t UUID_PROGRAM = WEARSYNC_UUID(0x0003);
static const ble_uuid128_t UUID_CONTROL_POINT = WEARSYNC_UUID(0x0004);
static const ble_uuid128_t UUID_SESSION_STATUS = WEARSYNC_UUID(0x0005);
static const ble_uuid128_t UUID_EVENT_LOG = WEARSYNC_UUID(0x0006);
static const ble_uuid16_t UUID_CTS = BLE_UUID16_INIT(0x1805);
static const ble_uuid16_t UUID_CURRENT_TIME = BLE_UUID16_INIT(0x2A2B);
static const ble_uuid16_t UUID_LOCAL_TIME = BLE_UUID16_INIT(0x2A0F);

/* The largest write we accept: a Program chunk of one PDU (§6.1). */
#define MAX_WRITE 512u
/* The largest notification: ATT_MTU - 3 at our preferred MTU of 247 (§2.4). */
#define NOTE_MAX (MYNEWT_VAL(BLE_ATT_PREFERRED_MTU) - 3)
/* Pending notifications: a whole replay (EVENT_CAPACITY / 8 batches) plus live ones. */
#define OUTBOX_SLOTS 64u
/* How long to wait for free buffers when NimBLE is out of them. */
#define NOTIFY_RETRY_MS 5u

static struct watch *g_watch;
static uint16_t g_conn = BLE_HS_CONN_HANDLE_NONE;
static bool g_notify_status, g_notify_events;
static uint16_t h_timer_info, h_program, h_control, h_status, h_events, h_current_time,
    h_local_time;

/* Timer Info snapshot for Read Blob (§2.4). */
static uint8_t g_info_snapshot[TIMER_INFO_SIZE];
static uint16_t g_info_served; /* 0: no snapshot held */

struct note {
    uint16_t handle;
    bool replay; /* a batch of a replay: dropped unsent when a new replay restarts it */
    uint16_t len;
    uint8_t data[NOTE_MAX];
};
static struct note g_outbox[OUTBOX_SLOTS];
static unsigned g_out_head, g_out_count;
static struct ble_npl_event g_flush_event;
static struct ble_npl_callout g_flush_retry;

/* -- notifications ------------------------------------------------------------------------ */

static void flush_outbox(struct ble_npl_event *ev)
{
    (void)ev;
    while (g_out_count > 0) {
        struct note *n = &g_outbox[g_out_head];
        if (g_conn == BLE_HS_CONN_HANDLE_NONE) {
            g_out_count = 0;
            return;
        }
        struct os_mbuf *om = ble_hs_mbuf_from_flat(n->data, n->len);
        if (om == NULL) {
            ble_npl_callout_reset(&g_flush_retry, ble_npl_time_ms_to_ticks32(NOTIFY_RETRY_MS));
            return;
        }
        int rc = ble_gatts_notify_custom(g_conn, n->handle, om); /* consumes om */
        if (rc == BLE_HS_ENOMEM) {
            ble_npl_callout_reset(&g_flush_retry, ble_npl_time_ms_to_ticks32(NOTIFY_RETRY_MS));
            return;
        }
        if (rc != 0) {
            fprintf(stderr, "notification on handle %u failed: %d\n", n->handle, rc);
        }
        g_out_head = (g_out_head + 1) % OUTBOX_SLOTS;
        g_out_count--;
    }
}

/*
 * Queue a notification; the outbox is sent from the host's event queue, so a notification
 * caused by a write leaves after that write's response (§9.5.2, §12.5).
 */
static void queue_note(uint16_t handle, bool replay_batch, const uint8_t *data, size_t len)
{
    if (g_out_count == OUTBOX_SLOTS || len > NOTE_MAX) {
        fprintf(stderr, "outbox full: notification on handle %u dropped\n", handle);
        return;
    }
    struct note *n = &g_outbox[(g_out_head + g_out_count) % OUTBOX_SLOTS];
    n->handle = handle;
    n->replay = replay_batch;
    n->len = (uint16_t)len;
    memcpy(n->data, data, len);
    g_out_count++;
    ble_npl_eventq_put(nimble_port_get_dflt_eventq(), &g_flush_event);
}

void gatt_notify_done(void)
{
    if (g_out_count > 0) {
        ble_npl_eventq_put(nimble_port_get_dflt_eventq(), &g_flush_event);
    }
}

static size_t notify_room(void)
{
    uint16_t mtu = g_conn == BLE_HS_CONN_HANDLE_NONE ? 23 : ble_att_mtu(g_conn);
    size_t room = (size_t)mtu - 3;
    return room < NOTE_MAX ? room : NOTE_MAX;
}

void gatt_notify_status(const uint8_t value[SESSION_STATUS_SIZE])
{
    if (g_conn != BLE_HS_CONN_HANDLE_NONE && g_notify_status) {
        queue_note(h_status, false, value, SESSION_STATUS_SIZE);
    }
}

void gatt_notify_event(const struct event_record *e)
{
    if (g_conn == BLE_HS_CONN_HANDLE_NONE || !g_notify_events) {
        return;
    }
    /* §9.5.3: a live batch of the one new record, which is the newest in the log. */
    uint8_t batch[BATCH_HEADER_SIZE + EVENT_RECORD_MAX_SIZE];
    uint8_t size = g_watch->log.record_size; /* 29 with ENTRIES (§9.1) */
    batch[0] = BATCH_LIVE;
    batch[1] = size;
    event_encode(e, batch + BATCH_HEADER_SIZE, size);
    if (notify_room() >= BATCH_HEADER_SIZE + (size_t)size) {
        queue_note(h_events, false, batch, BATCH_HEADER_SIZE + (size_t)size);
    }
}

/* Drop the batches of a replay still waiting to be sent, keeping everything else in order. */
static void drop_pending_replay(void)
{
    unsigned kept = 0;
    for (unsigned i = 0; i < g_out_count; i++) {
        const struct note *n = &g_outbox[(g_out_head + i) % OUTBOX_SLOTS];
        if (!n->replay) {
            g_outbox[(g_out_head + kept) % OUTBOX_SLOTS] = *n;
            kept++;
        }
    }
    g_out_count = kept;
}

/* REPLAY_EVENTS (§9.5.2): every event unacknowledged now, then REPLAY_END. */
static int replay(void)
{
    if (!g_notify_events) {
        return ATT_CCCD_IMPROPERLY_CONFIGURED;
    }
    size_t room = notify_room();
    uint16_t per = events_per_batch(room, g_watch->log.record_size);
    if (per == 0) {
        return ATT_UNLIKELY_ERROR; /* ATT_MTU too small for one record: not in §2.4's plan */
    }
    /* A new REPLAY_EVENTS restarts the replay (§9.5.2); the outbox holds a whole one. */
    drop_pending_replay();
    uint16_t total = g_watch->log.count;
    uint16_t sent = 0;
    uint8_t batch[NOTE_MAX];
    do {
        uint16_t eligible = (uint16_t)(total - sent), included;
        bool last = eligible <= per;
        size_t len = event_batch(&g_watch->log, sent, eligible, last ? BATCH_REPLAY_END : 0,
                                 batch, room, &included);
        queue_note(h_events, true, batch, len);
        sent = (uint16_t)(sent + included);
    } while (sent < total);
    return ATT_OK;
}

/* -- access callbacks -------------------------------------------------------------------- */

/* Copy a write's value out of its mbuf chain; false if it is longer than `cap`. */
static bool write_value(struct ble_gatt_access_ctxt *ctxt, uint8_t *buf, size_t cap,
                        uint16_t *len)
{
    uint16_t n = OS_MBUF_PKTLEN(ctxt->om);
    if (n > cap) {
        return false;
    }
    return ble_hs_mbuf_to_flat(ctxt->om, buf, (uint16_t)cap, len) == 0 && *len == n;
}

static int append(struct ble_gatt_access_ctxt *ctxt, const void *data, size_t len)
{
    return os_mbuf_append(ctxt->om, data, (uint16_t)len) == 0 ? 0 : BLE_ATT_ERR_INSUFFICIENT_RES;
}

static int timer_info_access(uint16_t conn, uint16_t attr, struct ble_gatt_access_ctxt *ctxt,
                             void *arg)
{
    (void)attr;
    (void)arg;
    uint16_t chunk = (uint16_t)(ble_att_mtu(conn) - 1);
    if (g_info_served == 0) {
        watch_timer_info(g_watch, platform_now_ms(), g_info_snapshot);
        if (chunk < TIMER_INFO_SIZE) {
            g_info_served = chunk; /* Read Blobs follow: serve them this same value */
        }
    } else {
        g_info_served = (uint16_t)(g_info_served + chunk);
        if (g_info_served >= TIMER_INFO_SIZE) {
            g_info_served = 0;
        }
    }
    return append(ctxt, g_info_snapshot, TIMER_INFO_SIZE);
}

static int program_access(uint16_t conn, uint16_t attr, struct ble_gatt_access_ctxt *ctxt,
                          void *arg)
{
    (void)conn;
    (void)attr;
    (void)arg;
    static uint8_t value[MAX_WRITE];
    uint16_t len;
    if (!write_value(ctxt, value, sizeof value, &len)) {
        return ATT_INVALID_PARAMETER;
    }
    return watch_program_write(g_watch, value, len);
}

static int control_access(uint16_t conn, uint16_t attr, struct ble_gatt_access_ctxt *ctxt,
                          void *arg)
{
    (void)conn;
    (void)attr;
    (void)arg;
    uint8_t value[32];
    uint16_t len;
    if (!write_value(ctxt, value, sizeof value, &len)) {
        return ATT_INVALID_PARAMETER;
    }
    int code = watch_control(g_watch, platform_now_ms(), value, len);
    platform_session_changed();
    if (code == WATCH_REPLAY) {
        code = replay();
    }
    return code;
}

static int status_access(uint16_t conn, uint16_t attr, struct ble_gatt_access_ctxt *ctxt,
                         void *arg)
{
    (void)conn;
    (void)attr;
    (void)arg;
    uint8_t value[SESSION_STATUS_SIZE];
    watch_session_status(g_watch, platform_now_ms(), value);
    return append(ctxt, value, sizeof value);
}

static int events_access(uint16_t conn, uint16_t attr, struct ble_gatt_access_ctxt *ctxt,
                         void *arg)
{
    (void)attr;
    (void)arg;
    /* §9.5.1: the oldest unacknowledged events that fit min(ATT_MTU - 1, 512). */
    static uint8_t batch[MAX_ATTRIBUTE_SIZE];
    size_t room = (size_t)ble_att_mtu(conn) - 1;
    uint16_t included;
    size_t len = event_batch(&g_watch->log, 0, g_watch->log.count, 0, batch,
                             room < sizeof batch ? room : sizeof batch, &included);
    return append(ctxt, batch, len);
}

static int current_time_access(uint16_t conn, uint16_t attr, struct ble_gatt_access_ctxt *ctxt,
                               void *arg)
{
    (void)conn;
    (void)attr;
    (void)arg;
    uint8_t value[CURRENT_TIME_SIZE];
    if (ctxt->op == BLE_GATT_ACCESS_OP_READ_CHR) {
        cts_read_current_time(&g_watch->clock, platform_now_ms(), value);
        return append(ctxt, value, sizeof value);
    }
    uint16_t len;
    if (!write_value(ctxt, value, sizeof value, &len)) {
        return ATT_INVALID_LENGTH;
    }
    int code = watch_write_current_time(g_watch, platform_now_ms(), value, len);
    platform_session_changed(); /* reminders follow the clock (§5.9) */
    return code;
}

static int local_time_access(uint16_t conn, uint16_t attr, struct ble_gatt_access_ctxt *ctxt,
                             void *arg)
{
    (void)conn;
    (void)attr;
    (void)arg;
    uint8_t value[LOCAL_TIME_SIZE];
    if (ctxt->op == BLE_GATT_ACCESS_OP_READ_CHR) {
        cts_read_local_time(&g_watch->clock, value);
        return append(ctxt, value, sizeof value);
    }
    uint16_t len;
    if (!write_value(ctxt, value, sizeof value, &len)) {
        return ATT_INVALID_LENGTH;
    }
    int code = watch_write_local_time(g_watch, platform_now_ms(), value, len);
    platform_session_changed(); /* reminders follow the local offset (§5.9) */
    return code;
}

/* -- the table (§2.2) --------------------------------------------------------------------- */

#define ENC_WRITE BLE_GATT_CHR_F_WRITE_ENC
#define ENC_READ BLE_GATT_CHR_F_READ_ENC

static const struct ble_gatt_chr_def TIMER_CHARACTERISTICS[] = {
    {.uuid = &UUID_TIMER_INFO.u, .access_cb = timer_info_access, .flags = BLE_GATT_CHR_F_READ,
     .val_handle = &h_timer_info},
    {.uuid = &UUID_PROGRAM.u, .access_cb = program_access,
     .flags = BLE_GATT_CHR_F_WRITE | BLE_GATT_CHR_F_WRITE_NO_RSP | ENC_WRITE,
     .val_handle = &h_program},
    {.uuid = &UUID_CONTROL_POINT.u, .access_cb = control_access,
     .flags = BLE_GATT_CHR_F_WRITE | ENC_WRITE, .val_handle = &h_control},
    /* The CCCDs NimBLE adds for NOTIFY inherit the encryption requirement. */
    {.uuid = &UUID_SESSION_STATUS.u, .access_cb = status_access,
     .flags = BLE_GATT_CHR_F_READ | ENC_READ | BLE_GATT_CHR_F_NOTIFY, .val_handle = &h_status},
    {.uuid = &UUID_EVENT_LOG.u, .access_cb = events_access,
     .flags = BLE_GATT_CHR_F_READ | ENC_READ | BLE_GATT_CHR_F_NOTIFY, .val_handle = &h_events},
    {0},
};

static const struct ble_gatt_chr_def CTS_CHARACTERISTICS[] = {
    {.uuid = &UUID_CURRENT_TIME.u, .access_cb = current_time_access,
     .flags = BLE_GATT_CHR_F_READ | BLE_GATT_CHR_F_WRITE | ENC_WRITE | BLE_GATT_CHR_F_NOTIFY,
     .val_handle = &h_current_time},
    /* Write Without Response: this protocol's addition to CTS (§10.2). */
    {.uuid = &UUID_LOCAL_TIME.u, .access_cb = local_time_access,
     .flags = BLE_GATT_CHR_F_READ | BLE_GATT_CHR_F_WRITE | BLE_GATT_CHR_F_WRITE_NO_RSP | ENC_WRITE,
     .val_handle = &h_local_time},
    {0},
};

static const struct ble_gatt_svc_def SERVICES_WITH_CTS[] = {
    {.type = BLE_GATT_SVC_TYPE_PRIMARY, .uuid = &UUID_SERVICE.u,
     .characteristics = TIMER_CHARACTERISTICS},
    {.type = BLE_GATT_SVC_TYPE_PRIMARY, .uuid = &UUID_CTS.u,
     .characteristics = CTS_CHARACTERISTICS},
    {0},
};

const ble_uuid128_t *gatt_service_uuid(void)
{
    return &UUID_SERVICE;
}

int gatt_init(struct watch *w)
{
    g_watch = w;
    ble_npl_event_init(&g_flush_event, flush_outbox, NULL);
    ble_npl_callout_init(&g_flush_retry, nimble_port_get_dflt_eventq(), flush_outbox, NULL);
    /* Without CURRENT_TIME_SERVICE the table simply ends before the CTS (§3.2). */
    static struct ble_gatt_svc_def services[3];
    memcpy(services, SERVICES_WITH_CTS, sizeof services);
    if (!(w->features & FEATURE_CURRENT_TIME_SERVICE)) {
        memset(&services[1], 0, sizeof services[1]);
    }
    int rc = ble_gatts_count_cfg(services);
    if (rc == 0) {
        rc = ble_gatts_add_svcs(services);
    }
    return rc;
}

void gatt_connected(uint16_t conn_handle)
{
    g_conn = conn_handle;
    g_notify_status = g_notify_events = false;
    g_info_served = 0;
    g_out_count = 0;
}

void gatt_disconnected(uint16_t conn_handle)
{
    if (conn_handle == g_conn) {
        g_conn = BLE_HS_CONN_HANDLE_NONE;
        g_notify_status = g_notify_events = false;
        g_out_count = 0;
        watch_disconnected(g_watch);
    }
}

void gatt_subscribed(uint16_t conn_handle, uint16_t attr_handle, bool notify)
{
    if (conn_handle != g_conn) {
        return;
    }
    if (attr_handle == h_status) {
        g_notify_status = notify;
    } else if (attr_handle == h_events) {
        g_notify_events = notify;
    }
}
