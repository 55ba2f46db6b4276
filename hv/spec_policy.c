#include "hv/spec_policy.h"

#define BIT(n) (1u << (n))

/* CPUID.(7,0):EDX (SDM Vol. 2A CPUID; Intel's speculative-execution
 * side-channel mitigation guidance). */
#define L7_EDX_MD_CLEAR   BIT(10)
#define L7_EDX_IBRS_IBPB  BIT(26) /* IBRS and IBPB, so IA32_SPEC_CTRL */
#define L7_EDX_STIBP      BIT(27)
#define L7_EDX_L1D_FLUSH  BIT(28)
#define L7_EDX_ARCH_CAPS  BIT(29)
#define L7_EDX_SSBD       BIT(31)
/* CPUID.80000008h:EBX (AMD APM Vol. 3 E.4.7). */
#define E8_EBX_IBPB       BIT(12)
#define E8_EBX_IBRS       BIT(14)
#define E8_EBX_STIBP      BIT(15)
#define E8_EBX_SSBD       BIT(24)
/* IA32_ARCH_CAPABILITIES (SDM Vol. 4 2.1). */
#define ARCH_CAP_RDCL_NO            (1ull << 0)
#define ARCH_CAP_SKIP_L1DFL_VMENTRY (1ull << 3)

bool spec_has_arch_capabilities(const struct cpuid_values *leaf7)
{
	return (leaf7->edx & L7_EDX_ARCH_CAPS) != 0;
}

void spec_caps_decode(const struct cpuid_values *l7,
		      const struct cpuid_values *e8, uint64_t arch_caps,
		      struct spec_caps *out)
{
	uint64_t bits = 0;

	if ((l7->edx & L7_EDX_IBRS_IBPB) || (e8->ebx & E8_EBX_IBRS))
		bits |= SPEC_CTRL_IBRS;
	if ((l7->edx & L7_EDX_STIBP) || (e8->ebx & E8_EBX_STIBP))
		bits |= SPEC_CTRL_STIBP;
	if ((l7->edx & L7_EDX_SSBD) || (e8->ebx & E8_EBX_SSBD))
		bits |= SPEC_CTRL_SSBD;
	if (!spec_has_arch_capabilities(l7))
		arch_caps = 0; /* no such MSR: whatever was passed means nothing */
	*out = (struct spec_caps){
		.ibpb = (l7->edx & L7_EDX_IBRS_IBPB) || (e8->ebx & E8_EBX_IBPB),
		.l1d_flush = (l7->edx & L7_EDX_L1D_FLUSH) != 0,
		.md_clear = (l7->edx & L7_EDX_MD_CLEAR) != 0,
		.l1d_flush_not_needed = (arch_caps & (ARCH_CAP_RDCL_NO |
						      ARCH_CAP_SKIP_L1DFL_VMENTRY)) != 0,
		.spec_ctrl_bits = bits,
	};
}

unsigned spec_switch_barriers(const struct spec_caps *c, bool same_owner)
{
	unsigned b = 0;

	if (same_owner)
		return 0;
	if (c->ibpb)
		b |= BARRIER_IBPB;
	/* An L1D flush also overwrites the buffers VERW would (on CPUs with
	 * MD_CLEAR), so VERW only where no flush is issued. */
	if (c->l1d_flush && !c->l1d_flush_not_needed)
		b |= BARRIER_L1D_FLUSH;
	else if (c->md_clear)
		b |= BARRIER_VERW;
	return b;
}
