#include "hv/vcpu_context.h"
#include "tcb/byteorder.h"

#include <string.h>

/* Offsets in the context (docs/lifecycle.md). */
#define OFF_GPRS    VCPU_CONTEXT_HEAD
#define OFF_STATE   (OFF_GPRS + 8u * GPR_COUNT)
#define OFF_SYSREGS (OFF_STATE + 8u * VCPU_CONTEXT_STATE_WORDS)
#define OFF_TSC     (OFF_SYSREGS + 8u * VCPU_CONTEXT_SYSREGS)
#define OFF_DEVICES (OFF_TSC + 8u)
#define OFF_XSAVE   (OFF_DEVICES + VPLATFORM_SAVE_SIZE)
#define GPR_COUNT   (sizeof(struct guest_gprs) / 8u)

/* FXSAVE legacy region and XSAVE header (SDM Vol. 1 10.5.1, 13.4.2). */
#define FXSAVE_MXCSR     24u
#define XSAVE_XSTATE_BV  XSAVE_LEGACY_SIZE
/* Standard-form XRSTOR faults unless bytes 23:8 of the header (XCOMP_BV
 * and the next 8) are zero, and on XSTATE_BV bits outside XCR0 (13.8.1). */
#define XSAVE_HEADER_ZERO_FROM (XSAVE_LEGACY_SIZE + 8u)
#define XSAVE_HEADER_ZERO_TO   (XSAVE_LEGACY_SIZE + 24u)

#define CR8_MAX 0xfull

/* The fields of vcpu_sysregs in context order (version 1 had the first 11). */
#define SYSREG_POINTERS(s) {                                              \
	&(s)->cr2, &(s)->dr[0], &(s)->dr[1], &(s)->dr[2], &(s)->dr[3],       \
	&(s)->dr6, &(s)->star, &(s)->lstar, &(s)->cstar, &(s)->fmask,       \
	&(s)->kernel_gs_base, &(s)->cr8, &(s)->spec_ctrl }

size_t vcpu_context_len(uint32_t xsave_size)
{
	return OFF_XSAVE + (size_t)xsave_size;
}

static void put_words(uint8_t *p, const uint64_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_le64(p + 8 * i, w[i]);
}

static void get_words(const uint8_t *p, uint64_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		w[i] = load_le64(p + 8 * i);
}

void vcpu_context_encode(const struct guest_gprs *gprs,
			 const struct vcpu_sysregs *sys,
			 const uint64_t state[VCPU_CONTEXT_STATE_WORDS],
			 const struct vcpu_context_platform *platform,
			 const uint8_t *xsave, uint32_t xsave_size, uint8_t *buf)
{
	const uint64_t *const sp[VCPU_CONTEXT_SYSREGS] = SYSREG_POINTERS(sys);
	uint64_t g[GPR_COUNT];

	store_le32(buf, VCPU_CONTEXT_MAGIC);
	store_le32(buf + 4, VCPU_CONTEXT_VERSION);
	store_le32(buf + 8, (uint32_t)vcpu_context_len(xsave_size));
	store_le32(buf + 12, xsave_size);
	memcpy(g, gprs, sizeof(g));
	put_words(buf + OFF_GPRS, g, GPR_COUNT);
	put_words(buf + OFF_STATE, state, VCPU_CONTEXT_STATE_WORDS);
	for (size_t i = 0; i < VCPU_CONTEXT_SYSREGS; i++)
		store_le64(buf + OFF_SYSREGS + 8 * i, *sp[i]);
	store_le64(buf + OFF_TSC, platform->guest_tsc);
	memcpy(buf + OFF_DEVICES, platform->devices, VPLATFORM_SAVE_SIZE);
	memcpy(buf + OFF_XSAVE, xsave, xsave_size);
}

static const char *check_head(const uint8_t *buf, size_t len,
			      const struct vcpu_context_cpu *cpu)
{
	uint32_t version;

	if (len < VCPU_CONTEXT_HEAD)
		return "shorter than its header";
	if (load_le32(buf) != VCPU_CONTEXT_MAGIC)
		return "not a vCPU context (magic)";
	version = load_le32(buf + 4);
	if (version >= 1 && version <= 3)
		return version == 1 ?
		       "layout version 1 (an older TCB's, without CR8, SPEC_CTRL "
		       "and devices): this TCB resumes version 4 only" :
		       version == 2 ?
		       "layout version 2 (an older TCB's, without the TSC and "
		       "devices): this TCB resumes version 4 only" :
		       "layout version 3 (an older TCB's, without the local "
		       "APIC): this TCB resumes version 4 only";
	if (version != VCPU_CONTEXT_VERSION)
		return "unknown layout version";
	if (load_le32(buf + 12) != cpu->xsave_size)
		return "XSAVE area size is not this CPU's";
	if (load_le32(buf + 8) != len || len != vcpu_context_len(cpu->xsave_size))
		return "length does not match its layout";
	return NULL;
}

/* Bits 63:(bits-1) all equal (SDM Vol. 1 3.3.7.1); WRMSR of an address
 * MSR faults otherwise. */
static bool canonical(uint64_t a, unsigned bits)
{
	uint64_t top;

	if (bits == 0 || bits >= 64)
		return bits != 0;
	top = a >> (bits - 1);
	return top == 0 || top == (~0ull >> (bits - 1));
}

static const char *check_sysregs(const struct vcpu_sysregs *s,
				 const struct vcpu_context_cpu *cpu)
{
	if (s->cr8 > CR8_MAX)
		return "CR8 above 15";
	if (s->dr6 >> 32)
		return "DR6 bits 63:32 set"; /* MOV to DR6 faults, SDM 18.2.4 */
	if (s->fmask >> 32)
		return "FMASK bits 63:32 set"; /* reserved, SDM 5.8.8 */
	if (!canonical(s->lstar, cpu->linear_bits) ||
	    !canonical(s->cstar, cpu->linear_bits) ||
	    !canonical(s->kernel_gs_base, cpu->linear_bits))
		return "LSTAR, CSTAR or KERNEL_GS_BASE not canonical";
	if (s->spec_ctrl & ~cpu->spec_ctrl_bits)
		return "SPEC_CTRL bits other than the IBRS, STIBP and SSBD "
		       "this CPU has";
	return NULL;
}

static const char *check_xsave(const uint8_t *x, const struct vcpu_context_cpu *cpu)
{
	if (cpu->xsave_size < XSAVE_LEGACY_SIZE +
			      (cpu->xsave ? XSAVE_HEADER_SIZE : 0))
		return "XSAVE area size too small";
	if (load_le32(x + FXSAVE_MXCSR) & ~cpu->mxcsr_mask)
		return "MXCSR reserved bits set";
	if (!cpu->xsave)
		return NULL;
	if (load_le64(x + XSAVE_XSTATE_BV) & ~cpu->xcr0)
		return "XSAVE image has components outside XCR0";
	for (size_t i = XSAVE_HEADER_ZERO_FROM; i < XSAVE_HEADER_ZERO_TO; i++)
		if (x[i])
			return "XSAVE header not in standard form";
	return NULL;
}

const char *vcpu_context_decode(const uint8_t *buf, size_t len,
				const struct vcpu_context_cpu *cpu,
				struct guest_gprs *gprs, struct vcpu_sysregs *sys,
				uint64_t state[VCPU_CONTEXT_STATE_WORDS],
				struct vcpu_context_platform *platform,
				uint8_t *xsave)
{
	struct vcpu_sysregs s = { 0 };
	uint64_t *const sp[VCPU_CONTEXT_SYSREGS] = SYSREG_POINTERS(&s);
	uint64_t g[GPR_COUNT];
	const char *why = check_head(buf, len, cpu);

	if (why)
		return why;
	for (size_t i = 0; i < VCPU_CONTEXT_SYSREGS; i++)
		*sp[i] = load_le64(buf + OFF_SYSREGS + 8 * i);
	why = check_sysregs(&s, cpu);
	if (!why)
		why = check_xsave(buf + OFF_XSAVE, cpu);
	if (why)
		return why;
	get_words(buf + OFF_GPRS, g, GPR_COUNT);
	memcpy(gprs, g, sizeof(g));
	*sys = s;
	get_words(buf + OFF_STATE, state, VCPU_CONTEXT_STATE_WORDS);
	platform->guest_tsc = load_le64(buf + OFF_TSC);
	memcpy(platform->devices, buf + OFF_DEVICES, VPLATFORM_SAVE_SIZE);
	memcpy(xsave, buf + OFF_XSAVE, cpu->xsave_size);
	return NULL;
}
