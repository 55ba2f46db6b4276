# Guest images (included by the top-level Makefile; paths are relative to the
# repository root). Defines GUEST_ELFS, the images that `make all` builds:
#   build/guests/<name>.elf    for each name in GUEST_NAMES
# Each image = the runtime (guests/runtime/) + the hypervisor's own libc
# subset (lib/string.c, lib/fmt.c, compiled again with guest flags) + the
# guest's sources (guests/<name>/*.c *.S) + any shared guests/common/ files it
# lists in GUEST_EXTRA_<name>.
#
# Everything is -mgeneral-regs-only except files named *_avx.c, which are the
# only places that touch XMM/YMM registers (with inline asm) and get -mavx.

GUEST_NAMES := hello counter secretkeeper regspy memscan hcfuzz com2hello tpgvm lcdrive \
	timeshare bigseal ticker memfill streamseal
GUEST_ELFS := $(patsubst %,$(BUILD)/guests/%.elf,$(GUEST_NAMES))
GUEST_OBJDIR := $(BUILD)/guests/obj

GUEST_BASE_CFLAGS := -std=gnu11 -m64 -O2 -g -ffreestanding -fno-stack-protector \
	-mno-red-zone -fno-pic -fno-pie -mcmodel=small -fno-builtin -fno-common \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-isystem lib/include -Iinclude -I. \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	$(REPRO_FLAGS)
GUEST_CFLAGS := $(GUEST_BASE_CFLAGS) -mgeneral-regs-only
# No auto-vectorization even here: the only vector code is the inline asm.
# No vzeroupper either: gcc would add one after asm that clobbers XMM
# registers, also on the SSE-only path taken when AVX is unusable, where it
# is #UD (a triple fault, since guests have no IDT).
GUEST_AVX_CFLAGS := $(GUEST_BASE_CFLAGS) -mavx -mno-vzeroupper -fno-tree-vectorize
GUEST_ASFLAGS := -m64 -g -Iinclude -I. -Wa,--noexecstack $(REPRO_FLAGS)
GUEST_LDFLAGS := -n -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
	-T guests/guest.ld

GUEST_RUNTIME_SRCS := $(sort $(wildcard guests/runtime/*.S)) $(sort $(wildcard guests/runtime/*.c)) \
	lib/string.c lib/fmt.c
GUEST_EXTRA_secretkeeper := guests/common/hold_avx.c guests/common/preempt.c
GUEST_EXTRA_regspy := guests/common/hold_avx.c guests/common/preempt.c
GUEST_EXTRA_lcdrive := guests/common/hold_avx.c
# The TPGVM lives in tpgvm/ (guests/tpgvm/ does not exist); it speaks the
# wire codecs of wire/ (frame.c, the same file the relay is built from;
# proto.c, the one the tenant CLI is). It links the crypto layer
# (crypto/crypto.mk: CRYPTO_GUEST_OBJS) and the heap mbedTLS allocates from.
GUEST_EXTRA_tpgvm := $(sort $(wildcard tpgvm/*.c)) $(sort $(wildcard wire/*.c)) tcb/policy.c \
	tcb/der.c tcb/errmsg.c tcb/report.c tcb/timebase.c lib/heap.c
GUEST_LIBS_tpgvm = $(CRYPTO_GUEST_OBJS)
$(GUEST_OBJDIR)/tpgvm/%.c.o: GUEST_EXTRA_CFLAGS = $(CRYPTO_GUEST_CFLAGS)
# (its dependencies on the mbedTLS source and the undefined-symbol check are
# in the top-level Makefile: a rule's prerequisites expand when it is read,
# and those names come from crypto/crypto.mk, which needs GUEST_CFLAGS first)

# lcdrive embeds the images it drives (an .incbin of their paths).
$(GUEST_OBJDIR)/guests/lcdrive/counter_image.S.o: $(BUILD)/guests/counter.elf \
	$(BUILD)/guests/hello.elf
$(GUEST_OBJDIR)/guests/bigseal/hello_image.S.o: $(BUILD)/guests/hello.elf
$(GUEST_OBJDIR)/guests/streamseal/memfill_image.S.o: $(BUILD)/guests/memfill.elf

guest_srcs = $(sort $(wildcard guests/$(1)/*.S)) $(sort $(wildcard guests/$(1)/*.c)) $(GUEST_EXTRA_$(1)) \
	$(GUEST_RUNTIME_SRCS)
guest_objs = $(patsubst %,$(GUEST_OBJDIR)/%.o,$(call guest_srcs,$(1)))

$(GUEST_OBJDIR)/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(if $(filter %_avx.c,$<),$(GUEST_AVX_CFLAGS),$(GUEST_CFLAGS)) \
		$(GUEST_EXTRA_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OBJDIR)/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(GUEST_ASFLAGS) -MMD -MP -c $< -o $@

# One link rule per guest (the object list differs); the check refuses an
# image the TCB's loader would refuse or that has a writable+executable
# segment.
define guest_link
$(BUILD)/guests/$(1).elf: $(call guest_objs,$(1)) $(GUEST_LIBS_$(1)) guests/guest.ld guests/check-elf.sh
	@echo "  LD      $$@"
	@$$(LD) $$(GUEST_LDFLAGS) -o $$@ $(call guest_objs,$(1)) $(GUEST_LIBS_$(1))
	@guests/check-elf.sh $$@
endef
# (instantiated by the top-level Makefile once crypto/crypto.mk has defined
# CRYPTO_GUEST_OBJS)
