# Custos top-level Makefile.
#   make        build build/custos.elf and build/custos.iso
#   make deps   install the Debian packages the build, demo and tests need
#   make demo   boot the hypervisor in an emulator and show what it does
#               (EMU=bochs: Bochs, Intel VMX; EMU=qemu: QEMU, AMD SVM)
#   make test   every test suite, ending with "N passed, M failed"
#   make fuzz   build the libFuzzer targets
#   make lint   no call cycles among hv/'s or the TPGVM's files, then
#               cppcheck and gcc -fanalyzer
#   make tcb-size  what build/custos.elf holds: code lines per folder, bytes
#               per origin; fails if it links what only the tools or the
#               TPGVM use (docs/tcb-size.md)
#   make install  the four host tools into $(DESTDIR)$(PREFIX)/bin and
#               docs/*.md into $(DESTDIR)$(PREFIX)/share/doc/custos
#               (PREFIX=/usr/local by default; docs/running.md)
#   make run    boot the platform in an emulator (EMU=qemu: QEMU, AMD SVM;
#               EMU=bochs) and keep it up for the tenant CLI by hand: it
#               prints the CUSTOS_* settings to paste; Ctrl-C ends it
#   make bench  benchmarks (bench/: the crypto layer's throughput beside
#               openssl speed, then the TCB's per-exit costs and lifecycle
#               operation times in Bochs)
#   make bench-crypto  only the first (a few seconds; build/bench/crypto.json)
#   make bench-pages  per-page counts of each lifecycle step, on the host
#   make linux-assets  the Linux guest kernel and initramfs (guests/linux/;
#               `make test` and `make demo` build them, `make all` does not)
#   make PRODUCTION=1 CA_ROOT=root.der (or make production CA_ROOT=...)
#               the production flavour of the hypervisor, trusting that CA
#               root: build/production/custos.{elf,iso} (docs/boot.md)

BUILD   := build
CC      := gcc
LD      := ld
CLANG   := clang
PYTHON  := python3

# --- Debian packages --------------------------------------------------------
DEB_PACKAGES := gcc make binutils clang libclang-rt-14-dev python3 procps \
	cppcheck libcmocka-dev libmbedtls-dev openssl \
	grub-pc-bin grub-common grub-efi-amd64-bin xorriso mtools \
	bochs bochsbios vgabios bochs-term qemu-system-x86 ovmf tpm2-tools \
	swtpm swtpm-tools libtss2-dev cloc
# The Linux guest assets (guests/linux/linux.mk): building the tiny kernel.
DEB_PACKAGES += bc bison flex libelf-dev xz-utils

# --- Reproducible builds (docs/reproducible.md) ------------------------------
# The measured images must not depend on where the tree is or who builds it:
# the build directory is mapped to "." in debug info and __FILE__, so the
# same commit gives the same bytes in any directory. (It is kept out of the
# flags reference.json digests, which must not depend on the path either.)
REPRO_FLAGS := -ffile-prefix-map=$(CURDIR)=.
# The commit (for reference.json's provenance) and its time (exported as
# SOURCE_DATE_EPOCH for any tool that stamps one; none of the measured
# images has a time in it today) come from git, or from the command line in
# a tree without .git (a source archive: make CUSTOS_COMMIT=... SOURCE_DATE_EPOCH=...).
ifeq ($(origin SOURCE_DATE_EPOCH),undefined)
SOURCE_DATE_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
endif
export SOURCE_DATE_EPOCH
ifeq ($(origin CUSTOS_COMMIT),undefined)
CUSTOS_COMMIT := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)$(if \
	$(shell git status --porcelain --untracked-files=no 2>/dev/null),-dirty)
endif

# --- Hypervisor image -------------------------------------------------------
KERNEL_CFLAGS := -std=gnu11 -m64 -O2 -g -ffreestanding -fno-stack-protector \
	-mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mgeneral-regs-only \
	-fno-pic -fno-pie -mcmodel=kernel -fno-builtin -fno-common \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-isystem lib/include -Iinclude -I. -DCUSTOS_KERNEL $(REPRO_FLAGS) \
	-ffunction-sections -fdata-sections
DEV_PKI := $(BUILD)/pki
DEV_PKI_STAMP := $(DEV_PKI)/.complete
KERNEL_ASFLAGS := -m64 -g -Iinclude -I. -DCUSTOS_KERNEL -Wa,--noexecstack $(REPRO_FLAGS) \
	-DCUSTOS_CA_ROOT_DER='"$(DEV_PKI)/root.der"'
# Nothing dead in the TCB: each function and object in a section of its own
# (KERNEL_CFLAGS), and the linker keeps only those reachable from the entry
# points (boot/linker.ld KEEPs the Multiboot2 header and the entries).
KERNEL_LDFLAGS := -n -nostdlib -z max-page-size=0x1000 -z noexecstack \
	--gc-sections -T boot/linker.ld

# Policy code that is shared by the hypervisor and the host tests.
PORTABLE_SRCS := boot/multiboot2.c tcb/frame_table.c tcb/phys_hole.c hv/vmx/vmx_caps.c \
	hv/exit_policy.c hv/spec_policy.c tcb/console_ring.c tcb/hypercall.c tcb/vm.c tcb/vm_config.c \
	tcb/npt.c tcb/guest_pt.c tcb/elf_image.c tcb/elf_place.c tcb/errmsg.c tcb/measure.c tcb/tcg_log.c \
	tcb/linux_boot.c tcb/linux_measure.c
# The boot environment, checked (docs/boot.md): ACPI tables, never-RAM ranges,
# the carve of the memory map, boot module screening (untrusted input).
PORTABLE_SRCS += boot/acpi.c boot/platform_mmio.c boot/memmap.c boot/modules.c
# TPGVM envelope, its policy and the TCB key/certificate modules (untrusted input).
PORTABLE_SRCS += tcb/der.c tcb/envelope.c tcb/envelope_open.c tcb/policy.c tcb/tcb_keys.c
# Which TCB identity a boot may use (plaintext keys: development roles only).
PORTABLE_SRCS += tcb/tcb_identity.c
# The wire formats more than one party speaks (wire/; docs/architecture.md):
# session framing on the TPGVM serial line (untrusted bytes; the TPGVM and
# custos-relay), the tenant protocol codec inside TLS (untrusted both ways;
# the TPGVM and the tenant CLI).
PORTABLE_SRCS += wire/frame.c wire/proto.c
# Signed platform reports: format, builder (TCB), verifier (tenant tools).
PORTABLE_SRCS += tcb/report.c tcb/report_sign.c tcb/report_verify.c
# Event-log decoder (untrusted: reports a tenant verifies).
PORTABLE_SRCS += tcb/tcg_log_parse.c
# Tenant VM lifecycle policy (HC_VM_*; docs/lifecycle.md).
PORTABLE_SRCS += tcb/lifecycle.c
# Sealed VM state (HC_VM_STOP/START; docs/seal.md).
PORTABLE_SRCS += tcb/seal.c
# A sealed VM's record kept across reboots in the TPM (untrusted: NV contents).
PORTABLE_SRCS += tcb/vm_record.c
# The vCPU context inside a sealed blob (docs/lifecycle.md, "The vCPU context").
PORTABLE_SRCS += hv/vcpu_context.c
# The TSC rate told to VMs (docs/boot.md; the TPGVM's deadlines count by it).
PORTABLE_SRCS += tcb/timebase.c
# SVM's building blocks (docs/svm.md): the feature decision, the I/O and
# MSR permission maps, exit information in the VMX exits' terms.
PORTABLE_SRCS += hv/svm/svm_caps.c hv/svm/svm_maps.c hv/svm/svm_exit_decode.c
# Reading the instruction an exit came from where the CPU does not say
# (SVM without NRIPS or decode assists; untrusted: the guest's own tables).
PORTABLE_SRCS += tcb/guest_va.c tcb/insn_decode.c
# TPM 2.0 commands and their responses (untrusted: the bus and the device; hv/tpm.c).
PORTABLE_SRCS += tcb/tpm2_cmd.c
# Salted HMAC sessions with parameter encryption on the same bus (uses crypto/).
PORTABLE_SRCS += tcb/tpm2_session.c
# The PCR-bound NV index, read and written through a salted policy session.
PORTABLE_SRCS += tcb/tpm2_nv.c
# PolicyAuthorize by the CA's key: its digests, LoadExternal, VerifySignature.
PORTABLE_SRCS += tcb/tpm2_authorize.c
# The TCB's identity keys as TPM primaries usable only under their policy.
PORTABLE_SRCS += tcb/tpm2_tcb_key.c
# The TPM's TIS and CRB interfaces, driven through a bus a test can simulate.
PORTABLE_SRCS += hv/tpm_tis.c hv/tpm_crb.c
# The firmware's and GRUB's TCG event log (untrusted: boot loader and reports).
PORTABLE_SRCS += tcb/fw_log.c
# The CA's enrollment answer for the TPM's attestation key (untrusted: boot media).
PORTABLE_SRCS += tcb/tpm_enroll.c tcb/tpm_enroll_open.c
# The CA's approval of a launch's PCRs 0-9 for the TPM-resident TCB keys
# (untrusted: NV any host can write; docs/tpm.md).
PORTABLE_SRCS += tcb/tpm_approval.c
# A VM's virtual PC platform: PIC, PIT, UART, RTC and the rest (untrusted:
# every guest port access, and the saved state of a sealed VM).
PORTABLE_SRCS += $(sort $(wildcard vdev/*.c))

# Portable files the hypervisor never calls: the tenant-side verifiers
# (custos attest, custos verify) and the wire codecs, session framing and
# tenant protocol (the TPGVM, custos-relay and the tenant CLI build them). Built for
# the host and the fuzzers only, never into build/custos.elf (make tcb-size
# checks: TCB_FORBIDDEN_OBJECTS).
HOST_ONLY_SRCS := tcb/report_verify.c tcb/tcg_log_parse.c wire/frame.c wire/proto.c

# hv/ is the shared mechanism; hv/vmx/ (and hv/svm/) the CPU backends.
HV_DIRS := hv hv/vmx hv/svm
# (wildcards sorted: the link order, and so the image, must not depend on
# the order the file system lists a directory in)
KERNEL_SRCS := boot/entry.S boot/efi_entry.S boot/efi_stage.c \
	$(foreach d,$(HV_DIRS),$(sort $(wildcard $(d)/*.S))) \
	$(filter-out $(PORTABLE_SRCS),$(foreach d,$(HV_DIRS),$(sort $(wildcard $(d)/*.c)))) \
	$(sort $(wildcard lib/*.c)) $(filter-out $(HOST_ONLY_SRCS),$(PORTABLE_SRCS))
KERNEL_OBJS := $(patsubst %,$(BUILD)/kernel/%.o,$(KERNEL_SRCS))

# --- Host builds (unit tests, fuzzers, tools) -----------------------------------
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wshadow \
	-Iinclude -I. -fno-omit-frame-pointer
HOST_OBJS := $(patsubst %,$(BUILD)/host/%.o,$(PORTABLE_SRCS))
HOST_LIB  := $(BUILD)/host/libcustos_host.a

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Iinclude -I. -fno-sanitize-recover=undefined
FUZZ_LIB := $(BUILD)/fuzzlib/libcustos_fuzz.a
FUZZ_OBJS := $(patsubst %,$(BUILD)/fuzzlib/%.o,$(PORTABLE_SRCS))

.DEFAULT_GOAL := all
ifeq ($(PRODUCTION),1)
.DEFAULT_GOAL := production
endif
include guests/guests.mk
include crypto/crypto.mk
$(foreach g,$(GUEST_NAMES),$(eval $(call guest_link,$(g))))
# The TPGVM's own files include mbedTLS headers; its image links the crypto
# objects only after their undefined-symbol check (needs both files above).
$(BUILD)/guests/tpgvm.elf: $(CRYPTO_GUEST_UNDEF_CHECK)
$(patsubst %,$(GUEST_OBJDIR)/%.o,$(wildcard tpgvm/*.c)): | $(MBEDTLS_STAMP)
include tools/tools.mk
include guests/linux/linux.mk

.PHONY: all deps demo run install test unit fuzz lint bench bench-crypto bench-pages clean production FORCE
all: $(BUILD)/custos.elf $(BUILD)/custos.iso $(GUEST_ELFS) $(TOOLS_BINS) $(CRYPTO_BENCH) \
	$(CRYPTO_KERNEL_BENCH)

deps:
	@tools/install-deps.sh $(DEB_PACKAGES)

$(BUILD)/kernel/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/kernel/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(KERNEL_ASFLAGS) -MMD -MP -c $< -o $@

# (The link map, build/custos.map, is what make tcb-size reads.)
$(BUILD)/custos.elf $(BUILD)/custos.map &: $(KERNEL_OBJS) $(CRYPTO_KERNEL_OBJS) boot/linker.ld
	@echo "  LD      $(BUILD)/custos.elf"
	@$(LD) $(KERNEL_LDFLAGS) -Map=$(BUILD)/custos.map -o $(BUILD)/custos.elf \
		$(KERNEL_OBJS) $(CRYPTO_KERNEL_OBJS)
	@tools/check-elf.sh $(BUILD)/custos.elf

# --- What the TCB image holds (make tcb-size; docs/tcb-size.md) --------------
# What only the tools, the tests or the TPGVM use, and must never be linked
# into build/custos.elf: symbols (nm, globs) and objects (the link map's
# input files, globs). tests/integration/test_tcb_size.py checks these.
# TLS and certificate or key writing: the TPGVM's and the tools' (crypto/tls.c,
# crypto/pki_*.c; mbedTLS's ssl_*, x509_create, x509write_*, pkwrite).
TCB_FORBIDDEN_SYMBOLS := mbedtls_ssl_* mbedtls_tls_* mbedtls_x509write_* \
	mbedtls_x509_set_* mbedtls_x509_write_* mbedtls_pk_write_* mbedtls_pem_write_* \
	crypto_tls_* pki_* new_file_*
# The tenant-side verifiers (custos attest, custos verify).
TCB_FORBIDDEN_SYMBOLS += report_verify tcg_log_parse
# The wire codecs: session framing and tenant protocol (wire/frame.c, proto.c).
TCB_FORBIDDEN_SYMBOLS += frame_encode frame_decoder_* frame_crc32c proto_*
TCB_FORBIDDEN_OBJECTS := *tcb/report_verify.c.o *tcb/tcg_log_parse.c.o */tpgvm/* */wire/* \
	*crypto/tls.c.o *crypto/pki_*.o *crypto/new_file.c.o */tools/* \
	*/mbedtls-*/ssl_*.o */mbedtls-*/x509_create.o */mbedtls-*/x509write_*.o \
	*/mbedtls-*/x509_csr.o */mbedtls-*/pkwrite.o */mbedtls-*/net_sockets.o
TCB_SIZE_ARGS = --elf $(BUILD)/custos.elf --map $(BUILD)/custos.map \
	$(foreach g,$(TCB_FORBIDDEN_SYMBOLS),--forbid-symbol '$(g)') \
	$(foreach g,$(TCB_FORBIDDEN_OBJECTS),--forbid-object '$(g)')
.PHONY: tcb-size
tcb-size: $(BUILD)/custos.elf $(BUILD)/custos.map
	@$(PYTHON) tools/tcb_size.py $(TCB_SIZE_ARGS)

# The development PKI (tools/make-dev-pki.sh); its root is compiled in.
$(DEV_PKI_STAMP): tools/make-dev-pki.sh | $(BUILD)/bin/custos-ca
	@tools/make-dev-pki.sh $(DEV_PKI)

$(BUILD)/kernel/hv/ca_root.S.o $(BUILD)/production/kernel/hv/ca_root.S.o: $(DEV_PKI_STAMP)
$(DEV_PKI)/root.der $(DEV_PKI)/root.pem $(DEV_PKI)/tcb-keys.bin $(DEV_PKI)/tcb-certs.bin: $(DEV_PKI_STAMP) ;

# The TPGVM envelope for this development platform, as the signing station
# makes it (--allow-dev: its TCB identity is a development one).
TPGVM_IMAGE := $(BUILD)/guests/tpgvm.elf
TPGVM_ENVELOPE := $(BUILD)/tpgvm.env
DEV_PLATFORM_ID := custos-dev
# The policy bytes packaged in it are written next to it (for reference.json).
TPGVM_POLICY := $(BUILD)/tpgvm.policy
$(TPGVM_ENVELOPE) $(TPGVM_POLICY) &: $(DEV_PKI_STAMP) $(TPGVM_IMAGE) | $(BUILD)/bin/custos-station
	@echo "  ENVELOPE $(TPGVM_ENVELOPE)"
	@rm -f $(TPGVM_ENVELOPE) $(TPGVM_POLICY)
	@$(BUILD)/bin/custos-station package --ca $(DEV_PKI)/root.pem \
		--station-key $(DEV_PKI)/station.key --station-cert $(DEV_PKI)/station.pem \
		--tcb-cert $(DEV_PKI)/tcb-kex.pem --image $(TPGVM_IMAGE) \
		--platform-id $(DEV_PLATFORM_ID) --tenant-ca $(DEV_PKI)/root.pem \
		--out $(TPGVM_ENVELOPE) --policy-out $(TPGVM_POLICY) --allow-dev >/dev/null

# The reference values of this build, which tenants check a platform's
# measurement log against (custos attest --reference; docs/tenant-cli.md).
REFERENCE := $(BUILD)/reference.json
# Its provenance: the commit, the tools and the flags of the measured images
# (without REPRO_FLAGS, whose path is the builder's; docs/reproducible.md).
repro_flag = --flag '$(1)=$(subst ','\'',$(strip $(filter-out $(REPRO_FLAGS),$(2))))'
REFERENCE_PROVENANCE = --commit '$(CUSTOS_COMMIT)' --source-date-epoch '$(SOURCE_DATE_EPOCH)' \
	--cc '$(CC)' --ld '$(LD)' --mbedtls-dir $(MBEDTLS_DIR) \
	$(call repro_flag,kernel_cflags,$(KERNEL_CFLAGS)) \
	$(call repro_flag,kernel_asflags,$(filter-out -DCUSTOS_CA_ROOT_DER=%,$(KERNEL_ASFLAGS))) \
	$(call repro_flag,kernel_ldflags,$(KERNEL_LDFLAGS)) \
	$(call repro_flag,guest_cflags,$(GUEST_CFLAGS)) \
	$(call repro_flag,guest_avx_cflags,$(GUEST_AVX_CFLAGS)) \
	$(call repro_flag,guest_asflags,$(GUEST_ASFLAGS)) \
	$(call repro_flag,guest_ldflags,$(GUEST_LDFLAGS)) \
	$(call repro_flag,mbedtls_defs,$(MBEDTLS_KERNEL_DEFS)) \
	$(call repro_flag,mbedtls_guest_defs,$(MBEDTLS_GUEST_DEFS))
$(REFERENCE): tools/mkreference.py $(BUILD)/custos.elf boot/grub.cfg \
		$(DEV_PKI)/root.der $(TPGVM_IMAGE) $(TPGVM_POLICY)
	@echo "  REF     $@"
	@$(PYTHON) tools/mkreference.py --elf $(BUILD)/custos.elf --grub-cfg boot/grub.cfg \
		--ca-root $(DEV_PKI)/root.der --tpgvm-image $(TPGVM_IMAGE) \
		--tpgvm-policy $(TPGVM_POLICY) --platform-id $(DEV_PLATFORM_ID) \
		$(REFERENCE_PROVENANCE) --out $@
all: $(REFERENCE)

ISO_MODULES := $(DEV_PKI)/tcb-keys.bin $(DEV_PKI)/tcb-certs.bin $(TPGVM_ENVELOPE)
$(BUILD)/custos.iso: $(BUILD)/custos.elf boot/grub.cfg tools/mkiso.sh $(ISO_MODULES)
	@echo "  ISO     $@"
	@tools/mkiso.sh $@ boot/grub.cfg $(BUILD)/custos.elf $(ISO_MODULES)

# --- Production flavour (make PRODUCTION=1; docs/boot.md) -------------------
# The hypervisor's sources again with -DCUSTOS_PRODUCTION: no test hooks and
# no debug modes (hv/dev_options.h), and a command line that asks for one is
# refused. Its objects live under build/production/, so the two flavours
# never mix; the crypto objects have no development paths and are shared.
PROD_BUILD := $(BUILD)/production
PROD_KERNEL_OBJS := $(patsubst %,$(PROD_BUILD)/kernel/%.o,$(KERNEL_SRCS))
PROD_ELF := $(PROD_BUILD)/custos.elf
PROD_ISO := $(PROD_BUILD)/custos.iso

$(PROD_BUILD)/kernel/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (production)"
	@$(CC) $(KERNEL_CFLAGS) -DCUSTOS_PRODUCTION -MMD -MP -c $< -o $@

$(PROD_BUILD)/kernel/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $< (production)"
	@$(CC) $(KERNEL_ASFLAGS) -DCUSTOS_PRODUCTION -MMD -MP -c $< -o $@

# A production hypervisor trusts the CA root its builder names,
# CA_ROOT=<root certificate, DER>; it never takes the development PKI's by
# default.
ifneq ($(filter 1,$(PRODUCTION))$(filter production $(PROD_BUILD)/%,$(MAKECMDGOALS)),)
ifeq ($(CA_ROOT),)
$(error a production build needs CA_ROOT=<your CA root certificate, DER>: it never trusts the development PKI by default)
endif
endif
# A copy that changes only when the root does, so that another CA_ROOT
# rebuilds what embeds it.
PROD_CA_ROOT := $(PROD_BUILD)/ca-root.der
$(PROD_CA_ROOT): FORCE
	@mkdir -p $(dir $@)
	@cmp -s "$(CA_ROOT)" $@ || cp "$(CA_ROOT)" $@
$(PROD_BUILD)/kernel/hv/ca_root.S.o: hv/ca_root.S $(PROD_CA_ROOT)
	@mkdir -p $(dir $@)
	@echo "  AS      $< (production, CA root $(CA_ROOT))"
	@$(CC) $(filter-out -DCUSTOS_CA_ROOT_DER=%,$(KERNEL_ASFLAGS)) \
		-DCUSTOS_CA_ROOT_DER='"$(PROD_CA_ROOT)"' -DCUSTOS_PRODUCTION -MMD -MP -c $< -o $@

$(PROD_ELF): $(PROD_KERNEL_OBJS) $(CRYPTO_KERNEL_OBJS) $(CRYPTO_UNDEF_CHECK) boot/linker.ld
	@echo "  LD      $@"
	@$(LD) $(KERNEL_LDFLAGS) -o $@ $(PROD_KERNEL_OBJS) $(CRYPTO_KERNEL_OBJS)
	@tools/check-elf.sh $@

$(PROD_ISO): $(PROD_ELF) boot/grub.cfg tools/mkiso.sh $(ISO_MODULES)
	@echo "  ISO     $@"
	@tools/mkiso.sh $@ boot/grub.cfg $(PROD_ELF) $(ISO_MODULES)

production: $(PROD_ELF) $(PROD_ISO)

$(BUILD)/host/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	@$(CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(HOST_LIB): $(HOST_OBJS)
	@rm -f $@
	@ar rcs $@ $^

# A test that needs another system library names it in UNIT_LDLIBS_<test>.
$(BUILD)/tests/%: tests/unit/%.c $(HOST_LIB) $(CRYPTO_HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(HOST_CFLAGS) -MMD -MP $< -o $@ $(HOST_LIB) $(CRYPTO_HOST_LIB) \
		$(CRYPTO_HOST_LDLIBS) $(UNIT_LDLIBS_$*) -lcmocka

# The library is instrumented for coverage and sanitizers; linking through an
# archive takes only the objects a target needs.
$(BUILD)/fuzzlib/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -MMD -MP $< $(FUZZ_LIB) -o $@

# fuzz_seal needs the real AES-GCM, which the fuzz library lacks: it links
# the host crypto archive (uninstrumented) and the system mbedTLS as well;
# fuzz_vm_record reaches the crypto layer through the lifecycle's checks.
FUZZ_WITH_CRYPTO := $(BUILD)/fuzz/fuzz_seal $(BUILD)/fuzz/fuzz_vm_record
# fuzz_tpm_approval checks an accepted approval's signature;
# fuzz_tpm2_session, fuzz_tpm2_nv and fuzz_tpm2_tcb_key compute real HMACs
# and AES-CFB, and fuzz_tpm2_authorize real SHA-384 Names.
FUZZ_WITH_CRYPTO += $(BUILD)/fuzz/fuzz_tpm_approval $(BUILD)/fuzz/fuzz_tpm2_session \
	$(BUILD)/fuzz/fuzz_tpm2_nv $(BUILD)/fuzz/fuzz_tpm2_authorize $(BUILD)/fuzz/fuzz_tpm2_tcb_key
# fuzz_storage: blob names are a SHA-256 (tpgvm/storage.c).
FUZZ_WITH_CRYPTO += $(BUILD)/fuzz/fuzz_storage
$(FUZZ_WITH_CRYPTO): $(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB) $(CRYPTO_HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -MMD -MP $< $(FUZZ_LIB) \
		$(CRYPTO_HOST_LIB) $(CRYPTO_HOST_LDLIBS) -o $@

# fuzz_gcm_simd: the AES-NI code itself instrumented (coverage, ASan,
# UBSan) and linked before the host crypto archive, whose uninstrumented
# copy of it is then never pulled in; crypto.c and mbedTLS as above.
$(BUILD)/fuzz/aes_gcm_x86.o: crypto/aes_gcm_x86.c
	@mkdir -p $(dir $@)
	@$(CLANG) $(FUZZ_CFLAGS) $(call crypto_simd_on,$<) -fsanitize=fuzzer-no-link,address,undefined \
		-MMD -MP -c $< -o $@
$(BUILD)/fuzz/fuzz_gcm_simd: tests/fuzz/fuzz_gcm_simd.c $(BUILD)/fuzz/aes_gcm_x86.o \
		$(FUZZ_LIB) $(CRYPTO_HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -MMD -MP $< \
		$(BUILD)/fuzz/aes_gcm_x86.o $(FUZZ_LIB) $(CRYPTO_HOST_LIB) $(CRYPTO_HOST_LDLIBS) -o $@

# fuzz_sha_simd: the same for SHA-256 on SHA-NI (crypto/sha256_x86.c) and
# in C (crypto/sha256_c.c).
$(BUILD)/fuzz/sha256_x86.o: crypto/sha256_x86.c
	@mkdir -p $(dir $@)
	@$(CLANG) $(FUZZ_CFLAGS) $(call crypto_simd_on,$<) -fsanitize=fuzzer-no-link,address,undefined \
		-MMD -MP -c $< -o $@
$(BUILD)/fuzz/sha256_c.o: crypto/sha256_c.c
	@mkdir -p $(dir $@)
	@$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c $< -o $@
$(BUILD)/fuzz/fuzz_sha_simd: tests/fuzz/fuzz_sha_simd.c $(BUILD)/fuzz/sha256_x86.o \
		$(BUILD)/fuzz/sha256_c.o $(FUZZ_LIB) $(CRYPTO_HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -MMD -MP $< \
		$(BUILD)/fuzz/sha256_x86.o $(BUILD)/fuzz/sha256_c.o $(FUZZ_LIB) $(CRYPTO_HOST_LIB) \
		$(CRYPTO_HOST_LDLIBS) -o $@

# fuzz_csr reads certificate requests as custos-ca sign-csr does: our own
# attribute reader compiled in (host-only code), the crypto archive's checks.
$(BUILD)/fuzz/fuzz_csr: tests/fuzz/fuzz_csr.c tools/csr_policy.c $(FUZZ_LIB) $(CRYPTO_HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -MMD -MP $< \
		tools/csr_policy.c $(FUZZ_LIB) $(CRYPTO_HOST_LIB) $(CRYPTO_HOST_LDLIBS) -o $@

# fuzz_reference reads with the tenant CLI's own reader (host-only code).
$(BUILD)/fuzz/fuzz_reference: tests/fuzz/fuzz_reference.c tools/reference.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -MMD -MP $< \
		tools/reference.c $(FUZZ_LIB) -o $@

# fuzz_reference_sig reads with the tenant CLI's own reader and checks
# signatures with the host crypto archive (a root made at start-up).
$(BUILD)/fuzz/fuzz_reference_sig: tests/fuzz/fuzz_reference_sig.c tools/reference_sig.c \
		$(FUZZ_LIB) $(CRYPTO_HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -MMD -MP $< \
		tools/reference_sig.c $(FUZZ_LIB) $(CRYPTO_HOST_LIB) $(CRYPTO_HOST_LDLIBS) -o $@

# fuzz_tenant_config reads with the tenant CLI's configuration reader.
$(BUILD)/fuzz/fuzz_tenant_config: tests/fuzz/fuzz_tenant_config.c tools/tenant_config.c \
		tools/tenant_config.h $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -MMD -MP $< \
		tools/tenant_config.c $(FUZZ_LIB) -o $@

# Host programs the integration tests drive (tests/tools/): a stand-in
# TPGVM for the tenant CLI's host-only tests.
TEST_TOOLS := $(BUILD)/test-tools/fake-tpgvm
$(BUILD)/test-tools/fake-tpgvm: tests/tools/fake-tpgvm.c tools/reference.c \
		tools/reference.h $(HOST_LIB) $(CRYPTO_HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(HOST_CFLAGS) -o $@ tests/tools/fake-tpgvm.c tools/reference.c \
		$(HOST_LIB) $(CRYPTO_HOST_LIB) $(CRYPTO_HOST_LDLIBS)

# Record the exchanges of tcb/tpm2_session.c, tpm2_nv.c, tpm2_authorize.c
# and tpm2_tcb_key.c with swtpm for their unit tests (run by hand; the
# headers are committed).
SWTPM_RECORDERS := tpm2_session_record tpm2_nv_record tpm2_authorize_record \
	tpm2_tcb_key_record
TEST_TOOLS += $(patsubst %,$(BUILD)/test-tools/%,$(SWTPM_RECORDERS))
$(patsubst %,$(BUILD)/test-tools/%,$(SWTPM_RECORDERS)): $(BUILD)/test-tools/%: \
		tests/tools/%.c tests/tools/swtpm_link.h $(HOST_LIB) $(CRYPTO_HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(HOST_CFLAGS) -o $@ $< $(HOST_LIB) $(CRYPTO_HOST_LIB) $(CRYPTO_HOST_LDLIBS)

# A hostile Multiboot2 loader for the crafted-map boot (tests/tools/mb2shim):
# a 32-bit kernel that GRUB loads and that loads custos.elf itself.
MB2SHIM := $(BUILD)/test-tools/mb2shim.elf
MB2SHIM_SRCS := tests/tools/mb2shim/entry.S tests/tools/mb2shim/shim.c
MB2SHIM_CFLAGS := -m32 -O2 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-fno-builtin -mgeneral-regs-only -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-Wall -Wextra -Werror -Wa,--noexecstack
$(MB2SHIM): $(MB2SHIM_SRCS) tests/tools/mb2shim/shim.ld
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(MB2SHIM_CFLAGS) -c tests/tools/mb2shim/entry.S -o $@.entry.o
	@$(CC) $(MB2SHIM_CFLAGS) -c tests/tools/mb2shim/shim.c -o $@.shim.o
	@$(LD) -m elf_i386 -nostdlib -z max-page-size=0x1000 -z noexecstack \
		-T tests/tools/mb2shim/shim.ld -o $@ $@.entry.o $@.shim.o
TEST_TOOLS += $(MB2SHIM)

# How often each lifecycle step passes over a VM's memory, counted on the
# host (bench/lifecycle_pages.c; make bench-pages runs it): its SHA-256 and
# SHA-384 calls are counted through the linker's --wrap.
BENCH_PAGES := $(BUILD)/bench/lifecycle_pages
$(BENCH_PAGES): bench/lifecycle_pages.c $(HOST_LIB) $(CRYPTO_HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(HOST_CFLAGS) -MMD -MP $< -o $@ -Wl,--wrap=crypto_sha384_update \
		-Wl,--wrap=crypto_sha256_update \
		$(HOST_LIB) $(CRYPTO_HOST_LIB) $(CRYPTO_HOST_LDLIBS)

bench-pages: $(BENCH_PAGES)
	@$(BENCH_PAGES)

unit: $(UNIT_TESTS) $(TEST_TOOLS) $(BENCH_PAGES)
fuzz: $(FUZZ_TARGETS)

# The builds behind test, demo and bench use every core unless make was
# already given -j. Deferred (=): make puts -jN into MAKEFLAGS only after
# reading the makefiles, so an immediate (:=) expansion never sees it.
BUILD_JOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 2))

# make print-VAR: a variable's value as this Makefile computes it (what
# tests/integration/test_reproducible.py hands a second build).
print-%:
	@echo '$($*)'

test: deps
	@$(MAKE) --no-print-directory $(BUILD_JOBS) all unit fuzz linux-assets
	@$(PYTHON) tests/run.py

# The demo's emulator: qemu (QEMU/SVM, the faster one) or bochs (Bochs/VMX);
# its tenant VM: counter (a small guest) or linux (Linux 6.1 and busybox,
# built by linux-assets; its upload takes minutes over the TPGVM's line).
EMU ?= qemu
GUEST ?= counter

demo: deps
	@$(MAKE) --no-print-directory $(BUILD_JOBS) all $(if $(filter linux,$(GUEST)),linux-assets)
	@$(PYTHON) tools/demo.py --emu $(EMU) --guest $(GUEST)

# The platform up for use by hand (tools/run_platform.py): the same build
# and machines as the demo, no scripted lifecycle; Ctrl-C stops it.
run: deps
	@$(MAKE) --no-print-directory $(BUILD_JOBS) all
	@$(PYTHON) tools/run_platform.py --emu $(EMU)

# The host tools and the documentation, for operators and tenants
# (DESTDIR for staging and packaging). The hypervisor's ISO is not
# installed: it is boot media, made per platform (docs/running.md).
PREFIX ?= /usr/local
INSTALL ?= install
INSTALLED_TOOLS := custos custos-ca custos-station custos-relay
install: $(patsubst %,$(BUILD)/bin/%,$(INSTALLED_TOOLS))
	$(INSTALL) -d "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(PREFIX)/share/doc/custos"
	$(INSTALL) -m 0755 $(patsubst %,$(BUILD)/bin/%,$(INSTALLED_TOOLS)) "$(DESTDIR)$(PREFIX)/bin/"
	$(INSTALL) -m 0644 $(wildcard docs/*.md) "$(DESTDIR)$(PREFIX)/share/doc/custos/"

# Everything that runs on the platform: the hypervisor, its crypto, and the
# TPGVM's own sources (guest runtime and tpgvm/; the portable files are in
# KERNEL_SRCS already), and the portable files only the tools and the TPGVM
# build (HOST_ONLY_SRCS: untrusted input too).
LINT_SRCS := $(filter %.c,$(KERNEL_SRCS)) $(HOST_ONLY_SRCS) $(CRYPTO_KERNEL_SRCS) crypto/tls.c \
	$(filter-out $(PORTABLE_SRCS),$(wildcard tpgvm/*.c)) $(wildcard guests/runtime/*.c)
# (The TPGVM's files and crypto/tls.c with the TPGVM's mbedTLS config, which
# has the TLS the kernel's lacks.)
# First, no call cycles (tools/check_cycles.py, on the objects' symbols):
# among the hypervisor's hv/ files, and among the TPGVM's with the wire
# codecs it links (docs/architecture.md, "Who calls whom").
CYCLE_OBJS_HV := $(filter $(BUILD)/kernel/hv/%.c.o,$(KERNEL_OBJS))
CYCLE_OBJS_TPGVM := $(filter $(GUEST_OBJDIR)/tpgvm/%.c.o $(GUEST_OBJDIR)/wire/%.c.o,\
	$(call guest_objs,tpgvm))
lint: $(CYCLE_OBJS_HV) $(CYCLE_OBJS_TPGVM)
	@$(PYTHON) tools/check_cycles.py --root $(BUILD)/kernel $(CYCLE_OBJS_HV)
	@$(PYTHON) tools/check_cycles.py --root $(GUEST_OBJDIR) $(CYCLE_OBJS_TPGVM)
	@LINT_SIMD="$(foreach f,$(CRYPTO_SIMD_SRCS),$(f):$(call crypto_simd_on,$(f));)" \
		LINT_TPGVM="crypto/tls.c $(wildcard tpgvm/*.c)" tools/lint.sh $(LINT_SRCS)

# The crypto layer's own code on the host beside openssl speed (bench/crypto_speed.py).
CRYPTO_BENCH := $(BUILD)/bench/crypto_speed
$(CRYPTO_BENCH): bench/crypto_speed.c $(CRYPTO_HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(HOST_CFLAGS) -MMD -MP $< -o $@ $(CRYPTO_HOST_LIB) $(CRYPTO_HOST_LDLIBS)

# The hashes that measure VMs as the hypervisor builds them (the
# kernel-config blob of crypto/crypto.mk), for their instruction counts.
CRYPTO_KERNEL_BENCH := $(BUILD)/bench/crypto_kernel_speed
$(CRYPTO_KERNEL_BENCH): bench/crypto_kernel_speed.c $(KCONFIG_BLOB)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(HOST_CFLAGS) -isystem $(MBEDTLS_DIR)/include \
		-DMBEDTLS_CONFIG_FILE='"crypto/mbedtls_config_kernel.h"' -MMD -MP $< \
		$(KCONFIG_BLOB) -o $@

bench-crypto: $(CRYPTO_BENCH) $(CRYPTO_KERNEL_BENCH)
	@$(PYTHON) bench/crypto_speed.py

# The quick host parts first (before the long builds), then the TCB's
# per-exit costs (three short boots) and the lifecycle.
bench: deps
	@$(MAKE) --no-print-directory $(BUILD_JOBS) bench-crypto
	@$(MAKE) --no-print-directory $(BUILD_JOBS) bench-pages
	@$(MAKE) --no-print-directory $(BUILD_JOBS) all linux-assets
	@$(PYTHON) bench/exits.py
	@$(PYTHON) bench/lifecycle.py

clean:
	rm -rf $(BUILD)

# (not under build/linux/: the kernel's tree and O= directory have .d files
# of their own)
-include $(shell find $(BUILD) -path $(LINUX_DIR) -prune -o -name '*.d' -print 2>/dev/null)

# The flags of the measured images, kept in a file that changes only when
# they do: every object of an image depends on it, so new flags (a new
# REPRO_FLAGS, or a tree moved elsewhere) rebuild the objects instead of
# linking old ones into an image that then differs from a clean build's.
MEASURED_FLAGS_FILE := $(BUILD)/measured-flags.txt
MEASURED_FLAGS = kernel: $(KERNEL_CFLAGS) | $(KERNEL_ASFLAGS) | $(KERNEL_LDFLAGS); \
	guest: $(GUEST_CFLAGS) | $(GUEST_AVX_CFLAGS) | $(GUEST_ASFLAGS) | $(GUEST_LDFLAGS); \
	mbedtls: $(MBEDTLS_KERNEL_DEFS) | $(MBEDTLS_GUEST_DEFS)
ifneq ($(file < $(MEASURED_FLAGS_FILE)),$(MEASURED_FLAGS))
$(shell mkdir -p $(BUILD))
$(file > $(MEASURED_FLAGS_FILE),$(MEASURED_FLAGS))
endif
$(KERNEL_OBJS) $(PROD_KERNEL_OBJS) $(CRYPTO_KERNEL_OBJS) $(CRYPTO_GUEST_OBJS) \
	$(foreach g,$(GUEST_NAMES),$(call guest_objs,$(g))): $(MEASURED_FLAGS_FILE)

# The same for reference.json's provenance (the commit, above all): a new
# commit rewrites the reference, though none of the measured files changed.
REFERENCE_PROVENANCE_FILE := $(BUILD)/reference-provenance.txt
ifneq ($(file < $(REFERENCE_PROVENANCE_FILE)),$(REFERENCE_PROVENANCE))
$(shell mkdir -p $(BUILD))
$(file > $(REFERENCE_PROVENANCE_FILE),$(REFERENCE_PROVENANCE))
endif
$(REFERENCE): $(REFERENCE_PROVENANCE_FILE)

# The same for the list of objects linked into the hypervisor: a file taken
# out of the link (or put into it) relinks the image.
KERNEL_LINK_FILE := $(BUILD)/kernel-link.txt
KERNEL_LINK = $(KERNEL_SRCS) | $(CRYPTO_KERNEL_OBJS)
ifneq ($(file < $(KERNEL_LINK_FILE)),$(KERNEL_LINK))
$(shell mkdir -p $(BUILD))
$(file > $(KERNEL_LINK_FILE),$(KERNEL_LINK))
endif
$(BUILD)/custos.elf $(PROD_ELF): $(KERNEL_LINK_FILE)
