# crypto/ build rules, included by the top-level Makefile. Defines:
#   CRYPTO_KERNEL_OBJS   objects linked into custos.elf (wrapper + freestanding mbedTLS)
#   CRYPTO_GUEST_OBJS    the same for the TPGVM (guest flags, its own config
#                        with TLS, PEM and certificate writing), linked into tpgvm.elf
#   CRYPTO_GUEST_CFLAGS  extra flags for guest files that include mbedTLS headers
#   CRYPTO_HOST_LIB      host archive of the wrapper (for tools and unit tests)
#   CRYPTO_HOST_LDLIBS   system libraries it needs (-lmbedtls ...)
#
# The kernel side builds mbedTLS 2.28 from Debian's source package, fetched
# into $(MBEDTLS_DIR) on first use by crypto/fetch-mbedtls.sh (never
# committed), with crypto/mbedtls_config_kernel.h and the kernel's flags; the
# TPGVM's with crypto/mbedtls_config_tpgvm.h and the guests' flags. The host side links the same wrapper sources against Debian's libmbedtls-dev.
# See docs/crypto.md.

MBEDTLS_VERSION := 2.28.3
MBEDTLS_DIR     := $(BUILD)/mbedtls-$(MBEDTLS_VERSION)
MBEDTLS_STAMP   := $(BUILD)/mbedtls-$(MBEDTLS_VERSION).fetched

# The mbedTLS modules the kernel config needs (a module whose option is off
# compiles to nothing, so keep this list and the config in step): only what
# the TCB calls; no TLS, no PEM (make tcb-size checks; docs/tcb-size.md).
MBEDTLS_MODULES := aes asn1parse asn1write bignum cipher cipher_wrap \
	constant_time ctr_drbg ecdh ecdsa ecp ecp_curves entropy gcm hkdf hmac_drbg md \
	oid pk pk_wrap pkparse platform platform_util sha256 sha512 \
	x509 x509_crt
MBEDTLS_KERNEL_OBJS := $(patsubst %,$(BUILD)/mbedtls-kernel/%.o,$(MBEDTLS_MODULES))
MBEDTLS_KERNEL_SRCS := $(patsubst %,$(MBEDTLS_DIR)/library/%.c,$(MBEDTLS_MODULES))

MBEDTLS_KERNEL_DEFS := -I$(MBEDTLS_DIR)/include \
	-DMBEDTLS_CONFIG_FILE='"crypto/mbedtls_config_kernel.h"'
# Third-party code: the kernel's code-generation flags, but not its -W
# flags (mbedTLS is not -Wextra clean); -w keeps the build output readable.
MBEDTLS_KERNEL_CFLAGS := $(filter-out -W%,$(KERNEL_CFLAGS)) -w $(MBEDTLS_KERNEL_DEFS)

# Our own crypto code: full kernel warnings; mbedTLS headers as system
# headers so that their style does not trip -Wshadow & co.
CRYPTO_KERNEL_SRCS := crypto/crypto.c crypto/selftest.c crypto/mbedtls_platform.c \
	crypto/sha256_c.c crypto/aes_gcm_x86.c crypto/sha256_x86.c

# AES-GCM with AES-NI and PCLMULQDQ (crypto/aes_gcm_x86.c) and SHA-256
# with SHA-NI (crypto/sha256_x86.c): the two files compiled with SSE, each
# with its own extensions only. Every other file keeps
# -mgeneral-regs-only, and crypto.c runs these only inside the platform's
# vector window (docs/crypto.md). They include no mbedTLS header. In the
# kernel and the TPGVM they do not trust the stack to be 16-byte aligned
# on entry (the entry stubs are assembly): gcc realigns where it keeps
# vectors on it.
CRYPTO_SIMD_SRCS := crypto/aes_gcm_x86.c crypto/sha256_x86.c
CRYPTO_SIMD_OFF := -mno-sse -mno-sse2 -mgeneral-regs-only
CRYPTO_SIMD_ON_crypto/aes_gcm_x86.c := -msse4.1 -maes -mpclmul
CRYPTO_SIMD_ON_crypto/sha256_x86.c := -msse4.1 -msha
# $(call crypto_simd_on,FILE.c): the extensions FILE.c is compiled with.
crypto_simd_on = $(CRYPTO_SIMD_ON_$(1))
# $(call crypto_simd_cflags,FLAGS,FILE.c): FLAGS with SSE and FILE.c's
# extensions on.
crypto_simd_cflags = $(filter-out $(CRYPTO_SIMD_OFF),$(1)) $(call crypto_simd_on,$(2))
CRYPTO_SIMD_FREESTANDING := -mincoming-stack-boundary=3
CRYPTO_WRAP_KERNEL_OBJS := $(patsubst %,$(BUILD)/crypto/kernel/%.o,$(CRYPTO_KERNEL_SRCS))
CRYPTO_KERNEL_CFLAGS := $(KERNEL_CFLAGS) -isystem $(MBEDTLS_DIR)/include \
	-DMBEDTLS_CONFIG_FILE='"crypto/mbedtls_config_kernel.h"'

CRYPTO_KERNEL_OBJS := $(CRYPTO_WRAP_KERNEL_OBJS) $(MBEDTLS_KERNEL_OBJS)
CRYPTO_UNDEF_CHECK := $(BUILD)/crypto/kernel/undefined-symbols.ok

# Host library: the wrapper against the system mbedTLS, the host-only PKI
# helpers for the tools, and the heap (so that test_heap can test it).
CRYPTO_HOST_SRCS := crypto/crypto.c crypto/selftest.c crypto/tls.c crypto/pki_host.c \
	crypto/pki_csr.c crypto/new_file.c crypto/sha256_c.c lib/heap.c $(CRYPTO_SIMD_SRCS)
CRYPTO_HOST_OBJS := $(patsubst %,$(BUILD)/crypto/host/%.o,$(CRYPTO_HOST_SRCS))
CRYPTO_HOST_CFLAGS := $(HOST_CFLAGS) -DCRYPTO_HOST
CRYPTO_HOST_LIB := $(BUILD)/crypto/host/libcustos_crypto.a
CRYPTO_HOST_LDLIBS := -lmbedtls -lmbedx509 -lmbedcrypto

# --- Fetching the source ------------------------------------------------------
$(MBEDTLS_STAMP):
	@crypto/fetch-mbedtls.sh $(MBEDTLS_DIR)
	@touch $@

# The sources appear with the stamp.
$(MBEDTLS_KERNEL_SRCS): $(MBEDTLS_STAMP)
	@test -f $@ || { echo "$@ missing: remove $(MBEDTLS_STAMP) and $(MBEDTLS_DIR) to fetch again" >&2; exit 1; }

# --- Kernel objects -------------------------------------------------------------
$(BUILD)/mbedtls-kernel/%.o: $(MBEDTLS_DIR)/library/%.c crypto/mbedtls_config_kernel.h $(MBEDTLS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      mbedtls/$*.c"
	@$(CC) $(MBEDTLS_KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/crypto/kernel/%.c.o: %.c $(MBEDTLS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CRYPTO_KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(patsubst %,$(BUILD)/crypto/kernel/%.o,$(CRYPTO_SIMD_SRCS)): $(BUILD)/crypto/kernel/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (SSE)"
	@$(CC) $(call crypto_simd_cflags,$(KERNEL_CFLAGS),$<) $(CRYPTO_SIMD_FREESTANDING) \
		-MMD -MP -c $< -o $@

# Every symbol the crypto objects need from outside must be one the
# freestanding world provides (crypto/check-undefined.sh lists them).
$(CRYPTO_UNDEF_CHECK): $(CRYPTO_KERNEL_OBJS) crypto/check-undefined.sh
	@echo "  CHECK   undefined symbols of the crypto objects"
	@crypto/check-undefined.sh $(CRYPTO_KERNEL_OBJS)
	@touch $@

$(BUILD)/custos.elf: $(CRYPTO_UNDEF_CHECK)

# --- TPGVM objects ---------------------------------------------------------------
# The same sources with the guests' code-generation flags (guests/guests.mk,
# which includes this file after defining them) and the TPGVM's config
# (crypto/mbedtls_config_tpgvm.h: the kernel's and more), plus what only the
# TPGVM needs: the TLS server and its profile (crypto/tls.c), PEM, and
# certificate writing for its self-signed TLS certificate.
MBEDTLS_GUEST_MODULES := $(MBEDTLS_MODULES) base64 pem ssl_ciphersuites ssl_msg ssl_srv \
	ssl_tls pkwrite x509_create x509write_crt
MBEDTLS_GUEST_OBJS := $(patsubst %,$(BUILD)/mbedtls-guest/%.o,$(MBEDTLS_GUEST_MODULES))
MBEDTLS_GUEST_DEFS := -I$(MBEDTLS_DIR)/include \
	-DMBEDTLS_CONFIG_FILE='"crypto/mbedtls_config_tpgvm.h"'
MBEDTLS_GUEST_CFLAGS := $(filter-out -W%,$(GUEST_CFLAGS)) -w $(MBEDTLS_GUEST_DEFS)
CRYPTO_GUEST_SRCS := crypto/crypto.c crypto/mbedtls_platform.c crypto/tls.c \
	crypto/sha256_c.c $(CRYPTO_SIMD_SRCS)
CRYPTO_GUEST_CFLAGS := -isystem $(MBEDTLS_DIR)/include \
	-DMBEDTLS_CONFIG_FILE='"crypto/mbedtls_config_tpgvm.h"'
CRYPTO_GUEST_WRAP_OBJS := $(patsubst %,$(BUILD)/crypto/guest/%.o,$(CRYPTO_GUEST_SRCS))
CRYPTO_GUEST_OBJS := $(CRYPTO_GUEST_WRAP_OBJS) $(MBEDTLS_GUEST_OBJS)
CRYPTO_GUEST_UNDEF_CHECK := $(BUILD)/crypto/guest/undefined-symbols.ok

$(patsubst %,$(MBEDTLS_DIR)/library/%.c,$(MBEDTLS_GUEST_MODULES)): $(MBEDTLS_STAMP)

$(BUILD)/mbedtls-guest/%.o: $(MBEDTLS_DIR)/library/%.c crypto/mbedtls_config_kernel.h \
		crypto/mbedtls_config_tpgvm.h $(MBEDTLS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      mbedtls/$*.c (guest)"
	@$(CC) $(MBEDTLS_GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/crypto/guest/%.c.o: %.c $(MBEDTLS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (guest)"
	@$(CC) $(GUEST_CFLAGS) $(CRYPTO_GUEST_CFLAGS) -MMD -MP -c $< -o $@

# (The TPGVM registers no window: the code is there, never run.)
$(patsubst %,$(BUILD)/crypto/guest/%.o,$(CRYPTO_SIMD_SRCS)): $(BUILD)/crypto/guest/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (guest, SSE)"
	@$(CC) $(call crypto_simd_cflags,$(GUEST_CFLAGS),$<) $(CRYPTO_SIMD_FREESTANDING) \
		-MMD -MP -c $< -o $@

$(CRYPTO_GUEST_UNDEF_CHECK): $(CRYPTO_GUEST_OBJS) crypto/check-undefined.sh
	@echo "  CHECK   undefined symbols of the TPGVM's crypto objects"
	@crypto/check-undefined.sh $(CRYPTO_GUEST_OBJS)
	@touch $@

# --- Host library -----------------------------------------------------------------
$(BUILD)/crypto/host/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	@$(CC) $(CRYPTO_HOST_CFLAGS) -MMD -MP -c $< -o $@

# -O2: the host's -O1 would keep the 8 blocks in flight in memory.
$(patsubst %,$(BUILD)/crypto/host/%.o,$(CRYPTO_SIMD_SRCS)): $(BUILD)/crypto/host/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $< (SSE)"
	@$(CC) $(CRYPTO_HOST_CFLAGS) -O2 $(call crypto_simd_on,$<) -MMD -MP -c $< -o $@

# crypto/sha256_c.c with the kernel's -O2, so that the benchmark counts
# the code the hypervisor builds (-O1: 40.8 instructions a byte, not 40.6).
$(BUILD)/crypto/host/crypto/sha256_c.c.o: crypto/sha256_c.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $< (-O2)"
	@$(CC) $(CRYPTO_HOST_CFLAGS) -O2 -MMD -MP -c $< -o $@

$(CRYPTO_HOST_LIB): $(CRYPTO_HOST_OBJS)
	@rm -f $@
	@ar rcs $@ $^

# tools/lint.sh compiles crypto/*.c against the fetched mbedTLS headers,
# and the SIMD files with their flags (LINT_SIMD, set by the lint rule).
lint: $(MBEDTLS_STAMP)

# --- The kernel's and the TPGVM's configurations, tested on the host -------------
# The same sources, config and freestanding headers as the kernel objects
# (mbedTLS, the wrapper, lib/heap.c, lib/string.c, lib/fmt.c), only with the
# host's code model, linked into one blob that exports nothing but the
# crypto_*, heap_* and mbedtls_* symbols (not lib/'s memcpy & co., which
# would clash with libc's); crypto/test_kernel_config.c runs it. Twice: with
# the kernel's config and modules (test_crypto_kconfig, and the benchmark's
# blob), and with the TPGVM's (test_crypto_tpgvm_config, which also runs the
# TLS server the TPGVM runs).
KCONFIG_CFLAGS := $(filter-out -mcmodel=kernel -fno-pic -fno-pie,$(KERNEL_CFLAGS))
KCONFIG_SRCS := $(CRYPTO_KERNEL_SRCS) lib/heap.c lib/string.c lib/fmt.c

# $(call crypto_config_test,DIR,CONFIG HEADER,MBEDTLS MODULES,TEST PROGRAM):
# the blob DIR/crypto-config.o and the test program built on it.
define crypto_config_test
$(1)/mbedtls/%.o: $$(MBEDTLS_DIR)/library/%.c $(2) crypto/mbedtls_config_kernel.h $$(MBEDTLS_STAMP)
	@mkdir -p $$(dir $$@)
	@$$(CC) $$(filter-out -W%,$$(KCONFIG_CFLAGS)) -w -I$$(MBEDTLS_DIR)/include \
		-DMBEDTLS_CONFIG_FILE='"$(2)"' -MMD -MP -c $$< -o $$@

$(1)/%.c.o: %.c $$(MBEDTLS_STAMP)
	@mkdir -p $$(dir $$@)
	@$$(CC) $$(KCONFIG_CFLAGS) -isystem $$(MBEDTLS_DIR)/include \
		-DMBEDTLS_CONFIG_FILE='"$(2)"' -MMD -MP -c $$< -o $$@

$$(patsubst %,$(1)/%.o,$$(CRYPTO_SIMD_SRCS)): $(1)/%.c.o: %.c
	@mkdir -p $$(dir $$@)
	@$$(CC) $$(call crypto_simd_cflags,$$(KCONFIG_CFLAGS),$$<) $$(CRYPTO_SIMD_FREESTANDING) \
		-MMD -MP -c $$< -o $$@

$(1)/crypto-config.o: $$(patsubst %,$(1)/%.o,$$(KCONFIG_SRCS)) \
		$$(patsubst %,$(1)/mbedtls/%.o,$(3)) crypto/crypto.mk
	@$$(LD) -r -o $$@.tmp $$(filter %.o,$$^)
	@objcopy --wildcard --keep-global-symbol='crypto_*' --keep-global-symbol='heap_*' \
		--keep-global-symbol='mbedtls_*' $$@.tmp $$@
	@rm -f $$@.tmp

$(4): crypto/test_kernel_config.c $(1)/crypto-config.o
	@mkdir -p $$(dir $$@)
	@echo "  TEST    $$@"
	@$$(CC) $$(HOST_CFLAGS) -isystem $$(MBEDTLS_DIR)/include \
		-DMBEDTLS_CONFIG_FILE='"$(2)"' \
		-MMD -MP $$< $(1)/crypto-config.o -lcmocka -o $$@
UNIT_TESTS += $(4)
endef

KCONFIG_DIR := $(BUILD)/crypto/kconfig
KCONFIG_BLOB := $(KCONFIG_DIR)/crypto-config.o
CRYPTO_KCONFIG_TEST := $(BUILD)/tests/test_crypto_kconfig
$(eval $(call crypto_config_test,$(KCONFIG_DIR),crypto/mbedtls_config_kernel.h,$(MBEDTLS_MODULES),$(CRYPTO_KCONFIG_TEST)))
TCONFIG_DIR := $(BUILD)/crypto/tconfig
$(eval $(call crypto_config_test,$(TCONFIG_DIR),crypto/mbedtls_config_tpgvm.h,$(MBEDTLS_GUEST_MODULES),$(BUILD)/tests/test_crypto_tpgvm_config))
