/* Program identity and CRC (docs/protocol.md §5.7): SHA-256 (FIPS 180-4) and CRC-32/ISO-HDLC. */
#ifndef WEARSYNC_IDENT_H
#define WEARSYNC_IDENT_H

#include <stddef.h>
#include <stdint.h>

#define IDENTITY_SIZE 16u /* the first 16 bytes of SHA-256 */
#define SHA256_SIZE 32u

uint32_t crc32_iso_hdlc(const uint8_t *data, size_t len);
void sha256(const uint8_t *data, size_t len, uint8_t digest[SHA256_SIZE]);
void program_identity(const uint8_t *program, size_t len, uint8_t identity[IDENTITY_SIZE]);

#endif
