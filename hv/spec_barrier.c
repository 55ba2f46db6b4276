#include "hv/spec_barrier.h"
#include "hv/boot_defs.h"
#include "hv/console.h"
#include "hv/cpu.h"
#include "hv/spec_policy.h"

#include <stdio.h>
#include <string.h>

#define MSR_ARCH_CAPABILITIES 0x10a
#define MSR_PRED_CMD          0x049
#define MSR_FLUSH_CMD         0x10b
#define PRED_CMD_IBPB         1ull  /* SDM Vol. 4 2.1 */
#define FLUSH_CMD_L1D         1ull

static struct spec_caps caps;
static struct spec_barrier_stats stats;

static struct cpuid_values cpuid_of(uint32_t leaf)
{
	struct cpuid_regs r = cpuid(leaf, 0);

	return (struct cpuid_values){ r.eax, r.ebx, r.ecx, r.edx };
}

/* Append each name whose bit is in 'set' to buf. */
static void names(char *buf, size_t len, uint64_t set, const char *const *name,
		  const uint64_t *bit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set & bit[i])
			snprintf(buf + strlen(buf), len - strlen(buf), " %s", name[i]);
}

static void log_caps(void)
{
	static const char *const barrier_names[] = { "IBPB", "L1D-flush", "VERW" };
	static const uint64_t barrier_bits[] = {
		BARRIER_IBPB, BARRIER_L1D_FLUSH, BARRIER_VERW,
	};
	static const char *const ctrl_names[] = {
		"SPEC_CTRL.IBRS", "SPEC_CTRL.STIBP", "SPEC_CTRL.SSBD",
	};
	static const uint64_t ctrl_bits[] = {
		SPEC_CTRL_IBRS, SPEC_CTRL_STIBP, SPEC_CTRL_SSBD,
	};
	char b[64] = "", g[64] = "";

	names(b, sizeof(b), spec_switch_barriers(&caps, false), barrier_names,
	      barrier_bits, ARRAY_SIZE(barrier_bits));
	console_printf("spec: switches between owners issue:%s\n",
		       b[0] ? b : " nothing (the CPU reports no IBPB, L1D_FLUSH "
				  "or MD_CLEAR)");
	names(g, sizeof(g), caps.spec_ctrl_bits, ctrl_names, ctrl_bits,
	      ARRAY_SIZE(ctrl_bits));
	if (caps.ibpb)
		snprintf(g + strlen(g), sizeof(g) - strlen(g), " PRED_CMD");
	console_printf("spec: guests may use:%s\n",
		       g[0] ? g : " nothing (the CPU has no SPEC_CTRL or PRED_CMD)");
}

void spec_barrier_init(void)
{
	struct cpuid_values l7 = { 0, 0, 0, 0 }, e8 = { 0, 0, 0, 0 };
	uint64_t arch = 0;

	if (cpuid(0, 0).eax >= 7)
		l7 = cpuid_of(7);
	if (cpuid(0x80000000, 0).eax >= 0x80000008)
		e8 = cpuid_of(0x80000008);
	if (spec_has_arch_capabilities(&l7))
		arch = rdmsr(MSR_ARCH_CAPABILITIES);
	spec_caps_decode(&l7, &e8, arch, &caps);
	log_caps();
}

const struct spec_caps *spec_barrier_caps(void)
{
	return &caps;
}

/* VERW with a memory operand naming a valid data segment overwrites the
 * CPU's buffers on CPUs with MD_CLEAR (Intel's MDS guidance). */
static void verw(void)
{
	static const uint16_t sel = GDT_DATA;

	__asm__ volatile("verw %0" : : "m"(sel) : "cc", "memory");
}

void spec_barrier_switch(bool same_owner)
{
	unsigned b = spec_switch_barriers(&caps, same_owner);

	if (!same_owner)
		stats.owner_changes++;
	if (b & BARRIER_IBPB) {
		wrmsr(MSR_PRED_CMD, PRED_CMD_IBPB);
		stats.ibpb++;
	}
	if (b & BARRIER_L1D_FLUSH) {
		wrmsr(MSR_FLUSH_CMD, FLUSH_CMD_L1D);
		stats.l1d_flush++;
	}
	if (b & BARRIER_VERW) {
		verw();
		stats.verw++;
	}
}

const struct spec_barrier_stats *spec_barrier_stats(void)
{
	return &stats;
}

void spec_barrier_report(void)
{
	console_printf("spec: %llu switches between owners; IBPB %llu, L1D flush "
		       "%llu, VERW %llu\n",
		       (unsigned long long)stats.owner_changes,
		       (unsigned long long)stats.ibpb,
		       (unsigned long long)stats.l1d_flush,
		       (unsigned long long)stats.verw);
}
