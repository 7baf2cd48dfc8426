/*
 * NimBLE 1.10's SM calls mbedtls_ecp_export(), which mbedtls 3.x has and Debian 12's 2.28
 * lacks. Built only against mbedtls 2.x: the same operation from 2.x calls.
 */
#include <mbedtls/ecp.h>
#include <mbedtls/version.h>

#if MBEDTLS_VERSION_MAJOR < 3
int mbedtls_ecp_export(const mbedtls_ecp_keypair *key, mbedtls_ecp_group *grp, mbedtls_mpi *d,
                       mbedtls_ecp_point *Q);

int mbedtls_ecp_export(const mbedtls_ecp_keypair *key, mbedtls_ecp_group *grp, mbedtls_mpi *d,
                       mbedtls_ecp_point *Q)
{
    int rc = mbedtls_ecp_group_copy(grp, &key->grp);
    if (rc == 0) {
        rc = mbedtls_mpi_copy(d, &key->d);
    }
    if (rc == 0) {
        rc = mbedtls_ecp_copy(Q, &key->Q);
    }
    return rc;
}
#else
typedef int wearsync_mbedtls_has_ecp_export;
#endif
