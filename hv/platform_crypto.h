/* The crypto layer's footing in the hypervisor: heap, entropy, self-test. */
#ifndef CUSTOS_HV_PLATFORM_CRYPTO_H
#define CUSTOS_HV_PLATFORM_CRYPTO_H

/*
 * Give mbedTLS a heap of TCB frames, seed the DRBG from RDSEED/RDRAND and
 * run the known-answer self-test of every primitive. Any failure ends the
 * boot (status 3): nothing may run on crypto that is not known to work.
 */
void platform_crypto_init(void);

#ifndef CUSTOS_PRODUCTION
/* Test hook (custos.test=no-entropy): act as if the CPU had no entropy
 * source, to show that crypto then refuses to start. Development builds
 * only (hv/dev_options.h). */
void platform_crypto_disable_entropy(void);
#endif

#endif
