/*
 * syscfg values that differ from NimBLE's Linux example configuration
 * (porting/examples/linux/include/syscfg/syscfg.h, which defines each value only if it is
 * not defined yet). Force-included before every NimBLE and firmware file.
 */
#ifndef WEARSYNC_SYSCFG_OVERRIDES_H
#define WEARSYNC_SYSCFG_OVERRIDES_H

/* HCI as H4 over TCP to 127.0.0.1:port (ble_hci_sock_set_device). */
#define MYNEWT_VAL_BLE_SOCK_USE_TCP (1)
#define MYNEWT_VAL_BLE_SOCK_TYPE__linux_blue (0)
#define MYNEWT_VAL_BLE_SOCK_TYPE__linux_tcp (1)

/* §2.3: LE Secure Connections with bonding, Just Works; distribute encryption + identity keys. */
#define MYNEWT_VAL_BLE_SM_SC (1)
#define MYNEWT_VAL_BLE_SM_BONDING (1)
#define MYNEWT_VAL_BLE_SM_LEGACY (0)
#define MYNEWT_VAL_BLE_SM_OUR_KEY_DIST (0x03)
#define MYNEWT_VAL_BLE_SM_THEIR_KEY_DIST (0x03)

/* A watch is a peripheral only. */
#define MYNEWT_VAL_BLE_ROLE_CENTRAL (0)
#define MYNEWT_VAL_BLE_ROLE_OBSERVER (0)

/* §2.4: every value fits one PDU at ATT_MTU 247, so Prepare Write is never needed: it is
 * refused with 0x06 Request Not Supported (the MAY of §2.4), for every attribute. */
#define MYNEWT_VAL_BLE_ATT_PREFERRED_MTU (247)
#define MYNEWT_VAL_BLE_ATT_SVR_QUEUED_WRITE (0)

/* Errors only; level 1 hex-dumps every packet. */
#define MYNEWT_VAL_BLE_HS_LOG_LVL (3)
#define MYNEWT_VAL_LOG_LEVEL (3)

#define MYNEWT_VAL_BLE_STORE_MAX_BONDS (4)
#define MYNEWT_VAL_BLE_STORE_MAX_CCCDS (16)

#endif
