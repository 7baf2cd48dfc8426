/*
 * The WearSync reference watch on Apache NimBLE's Linux port: the NimBLE host task, HCI as
 * H4 over TCP to 127.0.0.1:PORT (a bumble virtual controller), advertising, security, and the
 * watch's hooks wired to files, notifications and the motor.
 *
 *   wearsync-fw --hci-port PORT --dir DIR [--name NAME] [--time-scale X] [--features MASK]
 *
 * stdout: JSON lines (ready, vibration, event, button, stopped). stderr: diagnostics.
 * stdin: the watch's buttons, one per line: start, start N (entry N from the menu, §7.7),
 * pause, resume, skip, stop (§8.2 "watch UI"); and, for tests, advance MS (the watch's clock
 * jumps MS ms ahead, everything due on the way happening at its own time).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "beacon.h"
#include "gatt.h"
#include "gatt_svc.h"
#include "host/ble_hs.h"
#include "host/util/util.h"
#include "motor.h"
#include "nimble/nimble_npl.h"
#include "nimble/nimble_port.h"
#include "persist.h"
#include "platform.h"
#include "services/gap/ble_svc_gap.h"
#include "store.h"
#include "watch.h"
#include "wire.h"

/* NimBLE's Linux port and socket transport entry points (no public header declares them). */
void ble_hci_sock_ack_handler(void *param);
void ble_hci_sock_set_device(int dev);

#define DEFAULT_NAME "WearSync NimBLE"
#define TASK_PRIORITY 1
#define TASK_STACK_SIZE 400
#define ADDRESS_SIZE 6u

struct options {
    int hci_port;
    const char *dir;
    const char *name;
    double time_scale;
    uint16_t features;
};

static struct options g_opt = {.hci_port = -1, .name = DEFAULT_NAME, .time_scale = 1.0,
                               .features = FEATURES_ALL};
static struct watch g_watch;
static struct timespec g_boot;
static struct ble_npl_callout g_session_timer;
static struct ble_npl_callout g_reminder_timer;
static uint64_t g_advanced_ms; /* watch ms added by `advance` (host task only) */
static struct ble_npl_callout g_beacon_timer;
static struct ble_npl_event g_stop_event;
static struct ble_npl_task g_host_task, g_hci_task;
static uint8_t g_address[ADDRESS_SIZE];

/* A button press (or `advance MS`) read from stdin, handed to the host task. */
#define BUTTON_NAME_MAX 24
static struct ble_npl_event g_button_event;
static char g_button[BUTTON_NAME_MAX];
static pthread_mutex_t g_button_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_button_done = PTHREAD_COND_INITIALIZER;
static bool g_button_pending;

/* -- time --------------------------------------------------------------------------------- */

static double real_ms_since_boot(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - g_boot.tv_sec) * 1000.0 +
           (double)(now.tv_nsec - g_boot.tv_nsec) / 1e6;
}

uint64_t platform_now_ms(void)
{
    return (uint64_t)(real_ms_since_boot() * g_opt.time_scale) + g_advanced_ms;
}

/* Arm `timer` for watch time `due` (UINT64_MAX: stop it). */
static void arm(struct ble_npl_callout *timer, uint64_t due)
{
    if (due == UINT64_MAX) {
        ble_npl_callout_stop(timer);
        return;
    }
    uint64_t now = platform_now_ms();
    double wait = due > now ? (double)(due - now) / g_opt.time_scale : 0.0;
    /* Callout ticks are 32 bits of ms: a reminder days away is re-armed on the way. */
    if (wait > (double)INT32_MAX) {
        wait = (double)INT32_MAX;
    }
    ble_npl_callout_reset(timer, ble_npl_time_ms_to_ticks32((uint32_t)ceil(wait)));
}

void platform_session_changed(void)
{
    arm(&g_session_timer, session_next_due(&g_watch.session));
    arm(&g_reminder_timer, g_watch.reminder_due);
}

static void session_timer_fired(struct ble_npl_event *ev)
{
    (void)ev;
    session_poll(&g_watch.session, platform_now_ms());
    platform_session_changed();
}

static void reminder_timer_fired(struct ble_npl_event *ev)
{
    (void)ev;
    uint64_t now = platform_now_ms();
    session_poll(&g_watch.session, now); /* a session that ended by now is IDLE (§5.9) */
    watch_reminders_poll(&g_watch, now);
    platform_session_changed();
}

/*
 * The test interface's clock step: watch time jumps `ms` ahead, and every session step and
 * reminder due on the way happens at its own watch time, in order, as if the time had passed.
 */
static void advance_clock(uint64_t ms)
{
    uint64_t target = platform_now_ms() + ms;
    for (;;) {
        uint64_t due = session_next_due(&g_watch.session);
        if (g_watch.reminder_due < due) {
            due = g_watch.reminder_due;
        }
        if (due > target) {
            break;
        }
        uint64_t now = platform_now_ms();
        if (due > now) {
            g_advanced_ms += due - now;
        }
        session_poll(&g_watch.session, due);
        watch_reminders_poll(&g_watch, due);
    }
    uint64_t now = platform_now_ms();
    if (target > now) {
        g_advanced_ms += target - now;
    }
    session_poll(&g_watch.session, platform_now_ms());
}

/* -- hooks -------------------------------------------------------------------------------- */

static bool hook_save_program(void *ctx, const uint8_t *bytes, uint16_t len)
{
    (void)ctx;
    return persist_save_program(bytes, len);
}

static void hook_log_changed(void *ctx, bool urgent)
{
    (void)ctx;
    (void)urgent; /* files are cheap here: every change is written at once */
    if (!persist_save_events(&g_watch.log)) {
        fprintf(stderr, "cannot write the event log in %s\n", persist_dir());
    }
}

static void hook_clock_changed(void *ctx)
{
    (void)ctx;
    (void)persist_save_local_time(&g_watch.clock);
}

static void hook_event(void *ctx, const struct event_record *e)
{
    (void)ctx;
    motor_print_event(e);
    gatt_notify_event(e);
}

static void hook_status(void *ctx, const uint8_t value[SESSION_STATUS_SIZE])
{
    (void)ctx;
    gatt_notify_status(value);
}

static void hook_mark(void *ctx, const struct program_step *at, uint64_t session_ms)
{
    (void)ctx;
    (void)persist_save_marker(at, session_ms, g_watch.session.entry);
}

static void hook_reminder(void *ctx, uint8_t entry, const uint8_t *title, uint8_t title_len,
                          int64_t local_ms)
{
    (void)ctx;
    motor_print_reminder(entry, title, title_len, local_ms);
}

static void hook_cue(void *ctx, const struct program_cue *cue, int32_t step, uint64_t session_ms,
                     uint64_t uptime_ms, bool utc_known, int64_t utc_ms)
{
    (void)ctx;
    motor_play(cue, step, session_ms, uptime_ms, utc_known, utc_ms);
}

/* -- advertising and GAP ------------------------------------------------------------------ */

static int gap_event(struct ble_gap_event *event, void *arg);

/* The state beacon (§14): what is advertised now, and what it was computed from. */
#define BEACON_PEER_FILE "beacon-peer"
#define BEACON_POLL_MS 20u
static struct {
    bool on;                          /* a beacon is in the advertising data */
    uint8_t mfg[BEACON_MFG_SIZE];
    uint8_t key[BEACON_KEY_SIZE];
    uint8_t state[BEACON_STATE_SIZE];
    uint16_t nonce;
    uint64_t sealed_at;               /* watch ms of the last new nonce */
} g_beacon;

static int set_advertising_data(void)
{
    /* Legacy advertising (§2.1): flags + the 128-bit service UUID (21 of 31 bytes), and the
     * state beacon (10 more: 31, §14.1) ... */
    struct ble_hs_adv_fields adv = {0};
    adv.flags = BLE_HS_ADV_F_DISC_GEN | BLE_HS_ADV_F_BREDR_UNSUP;
    adv.uuids128 = gatt_service_uuid();
    adv.num_uuids128 = 1;
    adv.uuids128_is_complete = 1;
    if (g_beacon.on) {
        adv.mfg_data = g_beacon.mfg;
        adv.mfg_data_len = (uint8_t)sizeof g_beacon.mfg;
    }
    return ble_gap_adv_set_fields(&adv);
}

/* The LTK of the bond that encrypted a link last (§14.2); false if there is none now. */
static bool beacon_ltk(uint8_t ltk[BEACON_LTK_SIZE])
{
    ble_addr_t peer;
    if (persist_read(BEACON_PEER_FILE, &peer, sizeof peer) != (long)sizeof peer) {
        return false;
    }
    struct ble_store_key_sec key = {0};
    key.peer_addr = peer;
    struct ble_store_value_sec value;
    if (ble_store_read_peer_sec(&key, &value) != 0 || !value.ltk_present) {
        return false;
    }
    memcpy(ltk, value.ltk, BEACON_LTK_SIZE);
    return true;
}

/* Recompute the beacon; a new one (new nonce) on a change of state or key, or on rotation. */
static void beacon_refresh(void)
{
    if (!(g_watch.features & FEATURE_STATE_BEACON)) {
        return;
    }
    uint64_t now = platform_now_ms();
    uint8_t ltk[BEACON_LTK_SIZE], key[BEACON_KEY_SIZE], state[BEACON_STATE_SIZE];
    bool keyed = beacon_ltk(ltk) && beacon_key(ltk, key);
    if (!keyed) {
        if (g_beacon.on) {
            g_beacon.on = false;
            (void)set_advertising_data();
        }
        return;
    }
    enum session_state session;
    uint16_t step;
    uint32_t elapsed;
    session_status(&g_watch.session, now, &session, &step, &elapsed);
    beacon_state(g_watch.log.count > 0, g_watch.clock.set, (unsigned)session,
                 g_watch.has_program ? g_watch.identity : NULL, state);
    bool same = g_beacon.on && memcmp(key, g_beacon.key, sizeof key) == 0 &&
                memcmp(state, g_beacon.state, sizeof state) == 0;
    if (same && now - g_beacon.sealed_at < BEACON_ROTATION_MS) {
        return;
    }
    uint16_t nonce = (uint16_t)(g_beacon.nonce + 1u);
    if (!beacon_seal(key, nonce, state, g_beacon.mfg)) {
        return;
    }
    g_beacon.nonce = nonce;
    g_beacon.sealed_at = now;
    memcpy(g_beacon.key, key, sizeof key);
    memcpy(g_beacon.state, state, sizeof state);
    g_beacon.on = true;
    int rc = set_advertising_data();
    if (rc != 0) {
        fprintf(stderr, "cannot update the advertising data: %d\n", rc);
    }
}

static void beacon_timer_fired(struct ble_npl_event *ev)
{
    (void)ev;
    beacon_refresh();
    ble_npl_callout_reset(&g_beacon_timer, ble_npl_time_ms_to_ticks32(BEACON_POLL_MS));
}

static void advertise(void)
{
    int rc = set_advertising_data();
    /* ... and the name in the scan response. */
    struct ble_hs_adv_fields rsp = {0};
    rsp.name = (const uint8_t *)g_opt.name;
    rsp.name_len = (uint8_t)strlen(g_opt.name);
    rsp.name_is_complete = 1;
    if (rc == 0) {
        rc = ble_gap_adv_rsp_set_fields(&rsp);
    }
    struct ble_gap_adv_params params = {0};
    params.conn_mode = BLE_GAP_CONN_MODE_UND;
    params.disc_mode = BLE_GAP_DISC_MODE_GEN;
    params.itvl_min = params.itvl_max = BLE_GAP_ADV_ITVL_MS(20);
    if (rc == 0) {
        rc = ble_gap_adv_start(BLE_OWN_ADDR_RANDOM, NULL, BLE_HS_FOREVER, &params, gap_event, NULL);
    }
    if (rc != 0 && rc != BLE_HS_EALREADY) {
        fprintf(stderr, "advertising failed: %d\n", rc);
    }
}

static int gap_event(struct ble_gap_event *event, void *arg)
{
    (void)arg;
    struct ble_gap_conn_desc desc;
    switch (event->type) {
    case BLE_GAP_EVENT_CONNECT:
        if (event->connect.status == 0) {
            gatt_connected(event->connect.conn_handle);
        } else {
            advertise();
        }
        return 0;
    case BLE_GAP_EVENT_DISCONNECT:
        gatt_disconnected(event->disconnect.conn.conn_handle);
        advertise();
        return 0;
    case BLE_GAP_EVENT_ADV_COMPLETE:
        advertise();
        return 0;
    case BLE_GAP_EVENT_SUBSCRIBE:
        gatt_subscribed(event->subscribe.conn_handle, event->subscribe.attr_handle,
                        event->subscribe.cur_notify);
        return 0;
    case BLE_GAP_EVENT_NOTIFY_TX:
        gatt_notify_done();
        return 0;
    case BLE_GAP_EVENT_ENC_CHANGE:
        /* The beacon is keyed with the bond that encrypted a link last (§14.2). */
        if (event->enc_change.status == 0 &&
            ble_gap_conn_find(event->enc_change.conn_handle, &desc) == 0 &&
            !persist_write(BEACON_PEER_FILE, &desc.peer_id_addr, sizeof desc.peer_id_addr)) {
            fprintf(stderr, "cannot write %s\n", BEACON_PEER_FILE);
        }
        return 0;
    case BLE_GAP_EVENT_REPEAT_PAIRING:
        /* The client lost its bond and pairs again: forget the old one (§2.3). */
        if (ble_gap_conn_find(event->repeat_pairing.conn_handle, &desc) == 0) {
            ble_store_util_delete_peer(&desc.peer_id_addr);
        }
        return BLE_GAP_REPEAT_PAIRING_RETRY;
    default:
        return 0;
    }
}

static void print_ready(void)
{
    char fields[256], identity[2 * IDENTITY_SIZE + 3] = "null";
    if (g_watch.has_program) {
        identity[0] = '"';
        for (unsigned i = 0; i < IDENTITY_SIZE; i++) {
            snprintf(identity + 1 + 2 * i, 3, "%02x", g_watch.identity[i]);
        }
        strcat(identity, "\"");
    }
    snprintf(fields, sizeof fields,
             "\"address\":\"%02X:%02X:%02X:%02X:%02X:%02X\",\"name\":\"%s\",\"boot_id\":%" PRIu32
             ",\"program_identity\":%s,\"unacked_events\":%u,\"features\":%u",
             g_address[5], g_address[4], g_address[3], g_address[2], g_address[1], g_address[0],
             g_opt.name, g_watch.boot_id, identity, g_watch.log.count, g_watch.features);
    motor_print_line("ready", fields);
}

/* The watch's identity address: random static, chosen once and kept in --dir. */
static int ensure_address(void)
{
    if (persist_read("address", g_address, sizeof g_address) != (long)sizeof g_address) {
        ble_addr_t addr;
        int rc = ble_hs_id_gen_rnd(0, &addr);
        if (rc != 0) {
            return rc;
        }
        memcpy(g_address, addr.val, sizeof g_address);
        if (!persist_write("address", g_address, sizeof g_address)) {
            return BLE_HS_EUNKNOWN;
        }
    }
    return ble_hs_id_set_rnd(g_address);
}

static void on_sync(void)
{
    int rc = ensure_address();
    if (rc != 0) {
        fprintf(stderr, "cannot set the address: %d\n", rc);
        exit(1);
    }
    uint8_t start[2];
    if (ble_hs_hci_rand(start, (int)sizeof start) == 0) {
        g_beacon.nonce = wire_get_u16(start); /* random start (§14.3) */
    }
    beacon_refresh();
    advertise();
    ble_npl_callout_reset(&g_beacon_timer, ble_npl_time_ms_to_ticks32(BEACON_POLL_MS));
    print_ready();
}

static void on_reset(int reason)
{
    fprintf(stderr, "NimBLE host reset: %d\n", reason);
}

/* -- the watch's buttons ------------------------------------------------------------------ */

/* `name` is `prefix` then a decimal number up to `max`. */
static bool parse_number(const char *name, const char *prefix, unsigned long max,
                         unsigned long *out)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || name[n] < '0' || name[n] > '9') {
        return false;
    }
    char *end;
    unsigned long value = strtoul(name + n, &end, 10);
    if (*end != '\0' || value > max) {
        return false;
    }
    *out = value;
    return true;
}

/* On the host task: what the wearer pressed, as the session engine takes it. */
static void press(struct ble_npl_event *ev)
{
    (void)ev;
    char name[BUTTON_NAME_MAX];
    pthread_mutex_lock(&g_button_lock);
    memcpy(name, g_button, sizeof name);
    pthread_mutex_unlock(&g_button_lock);
    uint64_t now = platform_now_ms();
    int code;
    unsigned long number = 0;
    if (strcmp(name, "start") == 0) {
        code = watch_start_entry(&g_watch, now, PLAN_ENTRY_ROUTINE);
    } else if (parse_number(name, "start ", 255, &number)) {
        /* The menu's item for entry N (§7.7): the codes START_ENTRY would answer. */
        code = watch_start_entry(&g_watch, now, (uint8_t)number);
    } else if (parse_number(name, "advance ", UINT32_MAX, &number)) {
        advance_clock(number);
        code = 0;
    } else if (strcmp(name, "pause") == 0) {
        code = session_pause(&g_watch.session, now);
    } else if (strcmp(name, "resume") == 0) {
        code = session_resume(&g_watch.session, now);
    } else if (strcmp(name, "skip") == 0) {
        code = session_skip(&g_watch.session, now);
    } else if (strcmp(name, "stop") == 0) {
        code = session_stop(&g_watch.session, now);
    } else {
        code = -1;
    }
    platform_session_changed();
    char fields[32 + BUTTON_NAME_MAX];
    snprintf(fields, sizeof fields, "\"button\":\"%s\",\"code\":%d", name, code);
    motor_print_line("button", fields);
    pthread_mutex_lock(&g_button_lock);
    g_button_pending = false;
    pthread_cond_signal(&g_button_done);
    pthread_mutex_unlock(&g_button_lock);
}

/* Reads button names from stdin, one press at a time; ends at end of input. */
static void *button_thread(void *arg)
{
    (void)arg;
    char line[64];
    while (fgets(line, sizeof line, stdin) != NULL) {
        if (strchr(line, '\n') == NULL && !feof(stdin)) {
            /* Longer than any command: drop the rest of the line, and the line. */
            int c;
            while ((c = getchar()) != EOF && c != '\n') {
            }
            continue;
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || strlen(line) >= BUTTON_NAME_MAX) {
            continue;
        }
        pthread_mutex_lock(&g_button_lock);
        memcpy(g_button, line, strlen(line) + 1);
        g_button_pending = true;
        ble_npl_eventq_put(nimble_port_get_dflt_eventq(), &g_button_event);
        while (g_button_pending) {
            pthread_cond_wait(&g_button_done, &g_button_lock);
        }
        pthread_mutex_unlock(&g_button_lock);
    }
    return NULL;
}

/* -- start and stop ----------------------------------------------------------------------- */

static void stop(struct ble_npl_event *ev)
{
    (void)ev;
    (void)persist_save_events(&g_watch.log);
    char fields[96];
    snprintf(fields, sizeof fields, "\"boot_id\":%" PRIu32 ",\"unacked_events\":%u",
             g_watch.boot_id, g_watch.log.count);
    motor_print_line("stopped", fields);
    exit(0);
}

/* SIGINT and SIGTERM are blocked everywhere and taken here, then handled on the host task. */
static void *signal_thread(void *arg)
{
    sigset_t *set = arg;
    int sig;
    if (sigwait(set, &sig) == 0) {
        ble_npl_eventq_put(nimble_port_get_dflt_eventq(), &g_stop_event);
    }
    return NULL;
}

/* The host task: NimBLE's default event queue, where every GATT callback and timer runs. */
static void *host_task(void *param)
{
    (void)param;
    nimble_port_run();
    return NULL;
}

static void *hci_task(void *param)
{
    ble_hci_sock_ack_handler(param);
    return NULL;
}

static bool has_control(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return true;
        }
    }
    return false;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --hci-port PORT --dir DIR [--name NAME] [--time-scale X] "
            "[--features MASK]\n",
            argv0);
    exit(2);
}

static void parse_options(int argc, char **argv)
{
    static const struct option LONG[] = {
        {"hci-port", required_argument, NULL, 'p'}, {"dir", required_argument, NULL, 'd'},
        {"name", required_argument, NULL, 'n'},     {"time-scale", required_argument, NULL, 's'},
        {"features", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
        switch (c) {
        case 'p': {
            long port = strtol(optarg, &end, 10);
            if (*end || port < 1 || port > 65535) {
                usage(argv[0]);
            }
            g_opt.hci_port = (int)port;
            break;
        }
        case 'd':
            g_opt.dir = optarg;
            break;
        case 'n':
            /* The scan response has room for 29 name bytes; the name goes into JSON lines
             * unescaped, so quotes, backslashes and control characters are refused. */
            if (strlen(optarg) > 29 || strchr(optarg, '"') || strchr(optarg, '\\') ||
                has_control(optarg)) {
                fprintf(stderr,
                        "%s: --name: at most 29 bytes, without quotes, backslashes or control "
                        "characters\n",
                        argv[0]);
                exit(2);
            }
            g_opt.name = optarg;
            break;
        case 's':
            g_opt.time_scale = strtod(optarg, &end);
            if (*end || !(g_opt.time_scale >= 0.001 && g_opt.time_scale <= 10000.0)) {
                usage(argv[0]);
            }
            break;
        case 'f': {
            unsigned long mask = strtoul(optarg, &end, 0);
            if (*end || mask > 0xFFFF) {
                usage(argv[0]);
            }
            if ((mask & FEATURE_ENTRIES) && !(mask & FEATURE_CURRENT_TIME_SERVICE)) {
                /* Table 3-1: ENTRIES requires CURRENT_TIME_SERVICE (reminders need a clock). */
                fprintf(stderr, "%s: --features: ENTRIES (0x10) needs CURRENT_TIME_SERVICE (0x08)\n",
                        argv[0]);
                exit(2);
            }
            g_opt.features = (uint16_t)mask;
            break;
        }
        default:
            usage(argv[0]);
        }
    }
    if (g_opt.hci_port < 0 || g_opt.dir == NULL || optind != argc) {
        usage(argv[0]);
    }
}

static void boot(void)
{
    uint32_t boot_id;
    if (!persist_init(g_opt.dir) || !persist_next_boot_id(&boot_id)) {
        fprintf(stderr, "cannot use %s for the watch's files\n", g_opt.dir);
        exit(1);
    }
    const struct watch_hooks hooks = {
        .save_program = hook_save_program,
        .log_changed = hook_log_changed,
        .clock_changed = hook_clock_changed,
        .event = hook_event,
        .status = hook_status,
        .cue = hook_cue,
        .mark = hook_mark,
        .reminder = hook_reminder,
        .ctx = NULL,
    };
    watch_init(&g_watch, g_opt.features, boot_id, &hooks);
    static uint8_t program[MAX_PROGRAM_LENGTH];
    uint16_t len = persist_load_program(program, sizeof program);
    if (len > 0 && !watch_restore_program(&g_watch, program, len)) {
        fprintf(stderr, "the stored program is not valid; starting without one\n");
    }
    persist_load_events(&g_watch.log);
    persist_load_local_time(&g_watch.clock);
    /* The previous boot ended during a session (§8.2): record that it was cut. */
    struct program_step at;
    uint32_t session_ms;
    uint8_t entry;
    if (persist_load_marker(&at, &session_ms, &entry)) {
        watch_record(&g_watch, EVENT_SESSION_ABORTED, &at, session_ms, 0, entry);
        (void)persist_save_marker(NULL, 0, 0);
    }
}

int main(int argc, char **argv)
{
    parse_options(argc, argv);
    clock_gettime(CLOCK_MONOTONIC, &g_boot);
    /* NimBLE's Linux port prints its log with printf: give it stderr, keep stdout for JSON. */
    int json_fd = dup(STDOUT_FILENO);
    FILE *json = json_fd >= 0 ? fdopen(json_fd, "w") : NULL;
    if (json == NULL || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        perror("stdout");
        return 1;
    }
    setvbuf(json, NULL, _IOLBF, 0);
    motor_set_output(json);

    static sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    boot();

    ble_hci_sock_set_device(g_opt.hci_port);
    nimble_port_init();

    ble_hs_cfg.sync_cb = on_sync;
    ble_hs_cfg.reset_cb = on_reset;
    /* §2.3: LE Secure Connections, Just Works (no display or keyboard), bonding. */
    ble_hs_cfg.sm_io_cap = BLE_HS_IO_NO_INPUT_OUTPUT;
    ble_hs_cfg.sm_bonding = 1;
    ble_hs_cfg.sm_sc = 1;
    ble_hs_cfg.sm_mitm = 0;
    ble_hs_cfg.sm_our_key_dist = BLE_SM_PAIR_KEY_DIST_ENC | BLE_SM_PAIR_KEY_DIST_ID;
    ble_hs_cfg.sm_their_key_dist = BLE_SM_PAIR_KEY_DIST_ENC | BLE_SM_PAIR_KEY_DIST_ID;
    bond_store_init();

    ble_svc_gap_init();
    /* Our GATT service replaces NimBLE's ble_svc_gatt_init(): it adds the Database Hash. */
    if (gatt_svc_init() != 0 || gatt_init(&g_watch) != 0 ||
        ble_svc_gap_device_name_set(g_opt.name) != 0) {
        fprintf(stderr, "cannot register the GATT services\n");
        return 1;
    }
    ble_npl_callout_init(&g_session_timer, nimble_port_get_dflt_eventq(), session_timer_fired,
                         NULL);
    ble_npl_callout_init(&g_reminder_timer, nimble_port_get_dflt_eventq(), reminder_timer_fired,
                         NULL);
    ble_npl_callout_init(&g_beacon_timer, nimble_port_get_dflt_eventq(), beacon_timer_fired,
                         NULL);
    ble_npl_event_init(&g_stop_event, stop, NULL);
    ble_npl_event_init(&g_button_event, press, NULL);

    pthread_t signals;
    pthread_create(&signals, NULL, signal_thread, &stop_signals);
    pthread_t buttons;
    pthread_create(&buttons, NULL, button_thread, NULL);
    ble_npl_task_init(&g_hci_task, "hci_sock", hci_task, NULL, TASK_PRIORITY,
                      BLE_NPL_TIME_FOREVER, NULL, TASK_STACK_SIZE);
    ble_npl_task_init(&g_host_task, "ble_host", host_task, NULL, TASK_PRIORITY,
                      BLE_NPL_TIME_FOREVER, NULL, TASK_STACK_SIZE);
    pthread_exit(NULL);
}
