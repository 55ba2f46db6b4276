#include "hv/platform_crypto.h"
#include "hv/simd_window.h"
#include "hv/console.h"
#include "hv/cpu.h"
#include "hv/memory.h"
#include "hv/power.h"
#include "crypto/crypto.h"
#include "crypto/cpu_entropy.h"

#include <heap.h>
#include <string.h>

/* mbedTLS's peak use for X.509 and ECDSA is well below this; TLS (later)
 * needs a few MiB. */
#define HEAP_FRAMES 1024 /* 4 MiB */
static struct cpu_entropy cpu;

int crypto_platform_entropy(void *buf, size_t len)
{
	return cpu_entropy_fill(&cpu, buf, len);
}

#ifdef CUSTOS_PRODUCTION
static const bool entropy_disabled = false; /* no test hooks (dev_options.h) */
#else
static bool entropy_disabled;

void platform_crypto_disable_entropy(void)
{
	entropy_disabled = true;
}
#endif

static void detect_entropy_sources(void)
{
	if (entropy_disabled)
		return;
	cpu.rdrand = (cpuid(1, 0).ecx >> 30) & 1;
	cpu.rdseed = (cpuid(7, 0).ebx >> 18) & 1;
}

__attribute__((noreturn)) static void crypto_failed(const char *what, const char *why)
{
	console_printf("custos: BOOT FAILED: crypto %s: %s\n", what, why);
	power_off(EXIT_BOOT_FAILED, "crypto self-test failed");
}

void platform_crypto_init(void)
{
	uint64_t heap_pa;
	char err[160] = "";
	int rc;

	if (frame_alloc_contiguous(memory_frames(), FRAME_TCB, HEAP_FRAMES, 1,
				   &heap_pa))
		crypto_failed("heap", "no room for the crypto heap");
	heap_init(phys_to_virt(heap_pa << PAGE_SHIFT), HEAP_FRAMES * PAGE_SIZE);

	detect_entropy_sources();
	if (!cpu.rdseed && !cpu.rdrand)
		crypto_failed("entropy", "the CPU has neither RDSEED nor RDRAND");
	simd_window_init();
	rc = crypto_init();
	if (rc != CRYPTO_OK)
		crypto_failed("init", crypto_strerror(rc));
	rc = crypto_selftest(err, sizeof(err));
	if (rc != CRYPTO_OK)
		crypto_failed("self-test", err[0] ? err : crypto_strerror(rc));
	console_printf("crypto: self-test passed (SHA-2, HMAC, HKDF, AES-GCM, "
		       "ECDSA and ECDH P-384); entropy from %s; AES-GCM %s; SHA-256 %s\n",
		       cpu.rdseed ? "RDSEED/RDRAND" : "RDRAND",
		       crypto_simd_active() ? "with AES-NI and PCLMULQDQ"
					    : "in table code (no AES-NI or PCLMULQDQ)",
		       crypto_sha256_simd_active() ? "with SHA-NI" :
		       crypto_sha256_bmi2_active() ? "in C with BMI2 (no SHA-NI)"
						   : "in C (no SHA-NI or BMI2)");
}
