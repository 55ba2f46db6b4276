#include "vdev/vlapic.h"
#include "vdev/vtime.h"
#include "tcb/byteorder.h"

/* IA32_APIC_BASE (SDM Vol. 3A 11.4.4): the architectural address, BSP. */
#define BASE_ADDR     0xfee00000ull
#define BASE_BSP      (1ull << 8)
#define BASE_EXTD     (1ull << 10)
#define BASE_EN       (1ull << 11)
#define BASE_XAPIC    (BASE_ADDR | BASE_BSP | BASE_EN)
#define BASE_X2APIC   (BASE_XAPIC | BASE_EXTD)
#define BASE_DISABLED (BASE_ADDR | BASE_BSP)

/* xAPIC-only registers: arbitration and remote read (read 0), the
 * destination format, the ICR's high half. */
#define R_APR       0x809u
#define R_RRD       0x80cu
#define R_DFR       0x80eu
#define R_ICR_HI    0x831u
#define LDR_WRITABLE 0xff000000u
#define DFR_RESET    0xffffffffu
#define DFR_FIXED    0x0fffffffu /* bits 27:0 read as ones */
#define ESR_ILLEGAL_REG (1u << 7)

/* x2APIC MSR numbers (SDM Vol. 3A Table 11-6): 0x800 + offset / 16. */
#define R_ID        0x802u
#define R_VERSION   0x803u
#define R_TPR       0x808u
#define R_PPR       0x80au
#define R_EOI       0x80bu
#define R_LDR       0x80du
#define R_SVR       0x80fu
#define R_ISR       0x810u
#define R_TMR       0x818u
#define R_IRR       0x820u
#define R_ESR       0x828u
#define R_ICR       0x830u
#define R_LVT       0x832u
#define R_TMICT     0x838u
#define R_TMCCT     0x839u
#define R_TDCR      0x83eu
#define R_SELF_IPI  0x83fu

/* Version 0x14 (integrated), six LVT entries (max LVT index 5). */
#define VERSION     (0x14u | (LVT_COUNT - 1u) << 16)
#define LDR_ID0     1u /* logical ID of x2APIC ID 0: cluster 0, bit 0 */

#define SVR_WRITABLE 0x3ffu
#define SVR_ENABLE   (1u << 8)
#define SVR_RESET    0xffu

#define LVT_MASKED   (1u << 16)
#define LVT_DM(v)    ((v) >> 8 & 7u)
#define DM_FIXED     0u
#define DM_LOWEST    1u
#define DM_NMI       4u
#define DM_EXTINT    7u
#define TIMER_MODE(v) ((v) >> 17 & 3u)
#define MODE_ONESHOT 0u
#define MODE_PERIODIC 1u
#define MODE_DEADLINE 2u

#define ESR_SEND_ILLEGAL    (1u << 5)
#define ESR_RECEIVE_ILLEGAL (1u << 6)
#define ESR_BITS            (ESR_SEND_ILLEGAL | ESR_RECEIVE_ILLEGAL | \
			     ESR_ILLEGAL_REG)

/* ICR: vector, delivery mode, destination mode, level, trigger,
 * shorthand, destination (SDM Vol. 3A Figure 11-28). */
#define ICR_WRITABLE 0xffffffff000ccfffull
#define ICR_LOGICAL  (1ull << 11)
#define TDCR_WRITABLE 0xbu

/* What each LVT entry can hold (SDM Vol. 3A Figure 11-8). */
static const uint32_t lvt_writable[LVT_COUNT] = {
	[LVT_TIMER] = 0x000700ffu,   /* vector, mask, mode */
	[LVT_THERMAL] = 0x000107ffu, /* vector, delivery mode, mask */
	[LVT_PERF] = 0x000107ffu,
	[LVT_LINT0] = 0x0001a7ffu,   /* and polarity, trigger */
	[LVT_LINT1] = 0x0001a7ffu,
	[LVT_ERROR] = 0x000100ffu,
};

unsigned int vlapic_tick_shift(uint64_t tsc_hz)
{
	unsigned int shift = 0;

	while (tsc_hz >> shift > 0xffffffffull)
		shift++;
	return shift;
}

void vlapic_init(struct vlapic *l, uint64_t tsc_hz)
{
	*l = (struct vlapic){
		.apic_base = BASE_XAPIC,
		.svr = SVR_ENABLE | SVR_RESET,
		.dfr = DFR_RESET,
		.timer_next = UINT64_MAX,
		.tick_shift = vlapic_tick_shift(tsc_hz),
	};
	for (int i = 0; i < LVT_COUNT; i++)
		l->lvt[i] = LVT_MASKED;
	/* Virtual wire, as a BIOS leaves it: the PIC on LINT0, NMI on LINT1. */
	l->lvt[LVT_LINT0] = DM_EXTINT << 8;
	l->lvt[LVT_LINT1] = DM_NMI << 8;
}

void vlapic_set_tsc_offset(struct vlapic *l, uint64_t offset)
{
	l->tsc_offset = offset;
}

bool vlapic_msr_is_apic(uint32_t msr)
{
	return msr == VLAPIC_MSR_APIC_BASE || msr == VLAPIC_MSR_TSC_DEADLINE ||
	       (msr >= VLAPIC_MSR_FIRST && msr <= VLAPIC_MSR_LAST);
}

/* Hardware enabled: xAPIC or x2APIC mode. */
static bool enabled(const struct vlapic *l)
{
	return l->apic_base & BASE_EN;
}

static bool x2apic(const struct vlapic *l)
{
	return l->apic_base == BASE_X2APIC;
}

static bool sw_enabled(const struct vlapic *l)
{
	return enabled(l) && (l->svr & SVR_ENABLE);
}

/* ---- The 256-bit registers ------------------------------------------------ */

static void bit_set(uint32_t *r, unsigned int v)
{
	r[v / 32] |= 1u << (v % 32);
}

static void bit_clear(uint32_t *r, unsigned int v)
{
	r[v / 32] &= ~(1u << (v % 32));
}

static int highest(const uint32_t *r)
{
	for (int i = 7; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return -1;
}

static uint32_t ppr(const struct vlapic *l)
{
	int isrv = highest(l->isr);
	uint32_t in_service = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0u;

	return (l->tpr & 0xf0u) >= in_service ? l->tpr : in_service;
}

/* A fixed interrupt arrives: vectors 0-15 are illegal (SDM 11.5.3). */
static void deliver(struct vlapic *l, unsigned int vector, uint32_t error)
{
	if (vector < 16)
		l->esr |= error;
	else
		bit_set(l->irr, vector);
}

int vlapic_pending_vector(const struct vlapic *l)
{
	int v;

	if (!sw_enabled(l))
		return -1;
	v = highest(l->irr);
	if (v < 0 || ((uint32_t)v & 0xf0u) <= (ppr(l) & 0xf0u))
		return -1;
	return v;
}

void vlapic_accept(struct vlapic *l, int vector)
{
	if (vector < 16 || vector > 255)
		return;
	bit_clear(l->irr, (unsigned int)vector);
	bit_set(l->isr, (unsigned int)vector);
}

bool vlapic_passes_extint(const struct vlapic *l)
{
	uint32_t lint0 = l->lvt[LVT_LINT0];

	if (!enabled(l))
		return true;
	return sw_enabled(l) && !(lint0 & LVT_MASKED) &&
	       LVT_DM(lint0) == DM_EXTINT;
}

/* ---- Timer (SDM Vol. 3A 11.5.4) --------------------------------------------- */

static uint32_t timer_mode(const struct vlapic *l)
{
	return TIMER_MODE(l->lvt[LVT_TIMER]);
}

/* TSC cycles per count: the crystal's period times the divisor. */
static uint64_t tick_tsc(const struct vlapic *l)
{
	uint32_t d = l->timer_divide;
	uint32_t code = (d & 3u) | (d >> 1 & 4u);

	return (code == 7 ? 1ull : 2ull << code) << l->tick_shift;
}

static uint64_t period_tsc(const struct vlapic *l)
{
	return vtime_muldiv(l->timer_initial, tick_tsc(l), 1, false);
}

static void timer_fire(struct vlapic *l)
{
	uint32_t lvt = l->lvt[LVT_TIMER];

	if (sw_enabled(l) && !(lvt & LVT_MASKED))
		deliver(l, lvt & 0xffu, ESR_RECEIVE_ILLEGAL);
}

static void timer_stop(struct vlapic *l)
{
	l->timer_initial = 0;
	l->timer_next = UINT64_MAX;
	l->tsc_deadline = 0;
}

void vlapic_advance(struct vlapic *l, uint64_t now)
{
	uint64_t period;

	if (!enabled(l))
		return;
	if (timer_mode(l) == MODE_DEADLINE) {
		if (l->tsc_deadline && l->tsc_deadline <= now + l->tsc_offset) {
			l->tsc_deadline = 0;
			timer_fire(l);
		}
		return;
	}
	if (l->timer_next == UINT64_MAX || now < l->timer_next)
		return;
	/* Periods missed between two looks are one event, as the PIT's. */
	period = period_tsc(l);
	if (timer_mode(l) == MODE_PERIODIC && period) {
		uint64_t missed = (now - l->timer_next) / period + 1;

		l->timer_next = vtime_add_sat(l->timer_next,
					      vtime_muldiv(missed, period, 1, false));
	} else {
		l->timer_next = UINT64_MAX;
	}
	timer_fire(l);
}

uint64_t vlapic_next_deadline(const struct vlapic *l, uint64_t now)
{
	uint64_t guest_now = now + l->tsc_offset;

	if (!enabled(l))
		return UINT64_MAX;
	if (timer_mode(l) != MODE_DEADLINE)
		return l->timer_next;
	if (!l->tsc_deadline)
		return UINT64_MAX;
	if (l->tsc_deadline <= guest_now)
		return now;
	return vtime_add_sat(now, l->tsc_deadline - guest_now);
}

static uint32_t current_count(const struct vlapic *l, uint64_t now)
{
	uint64_t left;

	if (timer_mode(l) == MODE_DEADLINE || l->timer_next == UINT64_MAX ||
	    now >= l->timer_next)
		return 0;
	left = (l->timer_next - now + tick_tsc(l) - 1) / tick_tsc(l);
	return left > l->timer_initial ? l->timer_initial : (uint32_t)left;
}

static void timer_start(struct vlapic *l, uint32_t count, uint64_t now)
{
	l->timer_initial = count;
	l->timer_next = count ? vtime_add_sat(now, period_tsc(l)) : UINT64_MAX;
}

/* ---- Registers --------------------------------------------------------------- */

static void set_svr(struct vlapic *l, uint32_t v)
{
	l->svr = v;
	/* Software disabled: every LVT entry masked (SDM 11.4.7.2). */
	if (!(v & SVR_ENABLE))
		for (int i = 0; i < LVT_COUNT; i++)
			l->lvt[i] |= LVT_MASKED;
}

static bool set_lvt(struct vlapic *l, unsigned int i, uint32_t v)
{
	if (v & ~lvt_writable[i])
		return false;
	if (i == LVT_TIMER) {
		if (TIMER_MODE(v) == 3)
			return false;
		/* Into or out of TSC-deadline mode disarms (SDM 11.5.4.1). */
		if ((TIMER_MODE(v) == MODE_DEADLINE) != (timer_mode(l) == MODE_DEADLINE))
			timer_stop(l);
	}
	if (!(l->svr & SVR_ENABLE))
		v |= LVT_MASKED;
	l->lvt[i] = v;
	return true;
}

/* Only the CPU itself is there: an IPI reaches it or nobody. */
static bool icr_targets_self(const struct vlapic *l, uint64_t icr)
{
	uint32_t dest = (uint32_t)(icr >> 32);

	switch (icr >> 18 & 3u) {
	case 1: /* self */
	case 2: /* all including self */
		return true;
	case 3: /* all excluding self */
		return false;
	default:
		if (!x2apic(l)) { /* 8-bit destination, flat logical model */
			dest >>= 24;
			if (icr & ICR_LOGICAL)
				return dest & l->ldr >> 24;
			return dest == 0 || dest == 0xff;
		}
		if (icr & ICR_LOGICAL)
			return (dest >> 16) == 0 && (dest & LDR_ID0);
		return dest == 0 || dest == 0xffffffffu;
	}
}

static void write_icr(struct vlapic *l, uint64_t v)
{
	uint32_t dm = LVT_DM((uint32_t)v);

	l->icr = v;
	/* Fixed and lowest-priority reach this CPU; INIT, SIPI, SMI and
	 * NMI to itself are not offered and dropped. */
	if ((dm == DM_FIXED || dm == DM_LOWEST) && icr_targets_self(l, v))
		deliver(l, (uint32_t)v & 0xffu, ESR_SEND_ILLEGAL);
}

static void eoi(struct vlapic *l)
{
	int v = highest(l->isr);

	if (v >= 0)
		bit_clear(l->isr, (unsigned int)v);
}

/* The mode changes of SDM Vol. 3A Figure 11-27: disabled -> xAPIC ->
 * x2APIC, and either back to disabled; not x2APIC -> xAPIC, not disabled
 * -> x2APIC. Disabled, the APIC is as at reset (software disabled). */
static bool write_base(struct vlapic *l, uint64_t v)
{
	uint64_t offset = l->tsc_offset;
	unsigned int shift = l->tick_shift;

	if (v == l->apic_base)
		return true;
	if (v == BASE_X2APIC && l->apic_base == BASE_XAPIC) {
		l->apic_base = v;
		return true;
	}
	if (v == BASE_XAPIC && l->apic_base == BASE_DISABLED) {
		l->apic_base = v;
		return true;
	}
	if (v != BASE_DISABLED)
		return false;
	*l = (struct vlapic){
		.apic_base = BASE_DISABLED,
		.svr = SVR_RESET,
		.dfr = DFR_RESET,
		.timer_next = UINT64_MAX,
		.tick_shift = shift,
		.tsc_offset = offset,
	};
	set_svr(l, SVR_RESET);
	return true;
}

/* A register by its x2APIC MSR number (xAPIC: 0x800 + offset / 16):
 * false for one that cannot be read in the current mode. */
static bool read_reg(struct vlapic *l, uint32_t r, uint64_t now, uint64_t *value)
{
	bool x2 = x2apic(l);
	uint64_t v;

	if (r >= R_ISR && r < R_ISR + 8)
		v = l->isr[r - R_ISR];
	else if (r >= R_TMR && r < R_TMR + 8)
		v = 0; /* no level-triggered source */
	else if (r >= R_IRR && r < R_IRR + 8)
		v = l->irr[r - R_IRR];
	else if (r >= R_LVT && r < R_LVT + LVT_COUNT)
		v = l->lvt[r - R_LVT];
	else {
		switch (r) {
		case R_ID: v = 0; break; /* ID 0 (xAPIC: in bits 31:24) */
		case R_VERSION: v = VERSION; break;
		case R_TPR: v = l->tpr; break;
		case R_PPR: v = ppr(l); break;
		case R_LDR: v = x2 ? LDR_ID0 : l->ldr; break;
		case R_SVR: v = l->svr; break;
		case R_ESR: v = l->esr; break;
		case R_ICR: v = x2 ? l->icr : (uint32_t)l->icr; break;
		case R_TMICT: v = l->timer_initial; break;
		case R_TMCCT: v = current_count(l, now); break;
		case R_TDCR: v = l->timer_divide; break;
		case R_APR: case R_RRD: case R_EOI:
			if (x2)
				return false;
			v = 0;
			break;
		case R_DFR: case R_ICR_HI:
			if (x2)
				return false;
			v = r == R_DFR ? l->dfr : l->icr >> 32;
			break;
		default: return false; /* write-only or not a register */
		}
	}
	*value = v;
	return true;
}

bool vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *value,
		     uint64_t now)
{
	if (msr == VLAPIC_MSR_APIC_BASE) {
		*value = l->apic_base;
		return true;
	}
	if (!enabled(l))
		return false;
	vlapic_advance(l, now);
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		*value = timer_mode(l) == MODE_DEADLINE ? l->tsc_deadline : 0;
		return true;
	}
	return x2apic(l) && read_reg(l, msr, now, value);
}

/* v within writable bits: in x2APIC mode anything else is #GP (false);
 * in xAPIC mode reserved bits are dropped, as the CPU does. */
static bool fits(const struct vlapic *l, uint64_t *v, uint64_t writable)
{
	if (!(*v & ~writable))
		return true;
	*v &= writable;
	return !x2apic(l);
}

static bool write_xapic_only(struct vlapic *l, uint32_t r, uint64_t v)
{
	if (x2apic(l))
		return false;
	if (r == R_LDR)
		l->ldr = (uint32_t)v & LDR_WRITABLE;
	else if (r == R_DFR)
		l->dfr = ((uint32_t)v & ~DFR_FIXED) == 0 ? 0x0fffffffu : DFR_RESET;
	else if (r == R_ICR_HI)
		l->icr = (uint32_t)l->icr | (uint64_t)((uint32_t)v & 0xff000000u) << 32;
	else
		return false;
	return true;
}

/* A write by x2APIC MSR number (xAPIC: 0x800 + offset / 16): false for
 * one the mode does not take (x2APIC: #GP). */
static bool write_reg(struct vlapic *l, uint32_t r, uint64_t v, uint64_t now)
{
	if (r == R_ICR) {
		if (!x2apic(l)) /* the low half: the high one is R_ICR_HI */
			v = (l->icr & ~0xffffffffull) | (uint32_t)v;
		if (!fits(l, &v, ICR_WRITABLE))
			return false;
		write_icr(l, v);
		return true;
	}
	if (!fits(l, &v, 0xffffffffull))
		return false;
	if (r >= R_LVT && r < R_LVT + LVT_COUNT) {
		if (!fits(l, &v, lvt_writable[r - R_LVT]))
			return false;
		return set_lvt(l, r - R_LVT, (uint32_t)v) || !x2apic(l);
	}
	switch (r) {
	case R_TPR:
		if (!fits(l, &v, 0xff))
			return false;
		l->tpr = (uint32_t)v;
		return true;
	case R_EOI:
	case R_ESR: /* x2APIC: both take 0 only (SDM 11.12.1.2) */
		if (v && x2apic(l))
			return false;
		if (r == R_EOI)
			eoi(l);
		else
			l->esr = 0;
		return true;
	case R_SVR:
		if (!fits(l, &v, SVR_WRITABLE))
			return false;
		set_svr(l, (uint32_t)v);
		return true;
	case R_TMICT:
		if (timer_mode(l) != MODE_DEADLINE) /* else ignored */
			timer_start(l, (uint32_t)v, now);
		return true;
	case R_TDCR:
		if (!fits(l, &v, TDCR_WRITABLE))
			return false;
		l->timer_divide = (uint32_t)v; /* the next period uses it */
		return true;
	case R_SELF_IPI:
		if (!x2apic(l) || v & ~0xffull)
			return false;
		deliver(l, (uint32_t)v, ESR_SEND_ILLEGAL);
		return true;
	default:
		return write_xapic_only(l, r, v);
	}
}

bool vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t value,
		      uint64_t now)
{
	if (msr == VLAPIC_MSR_APIC_BASE)
		return write_base(l, value);
	if (!enabled(l))
		return false;
	vlapic_advance(l, now);
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		if (timer_mode(l) == MODE_DEADLINE) /* else ignored */
			l->tsc_deadline = value;
		vlapic_advance(l, now);
		return true;
	}
	if (!x2apic(l) || !write_reg(l, msr, value, now))
		return false;
	vlapic_advance(l, now);
	return true;
}

bool vlapic_mmio(struct vlapic *l, uint32_t offset, bool write,
		 uint32_t *value, uint64_t now)
{
	uint64_t v = write ? *value : 0;
	uint32_t r = VLAPIC_MSR_FIRST + offset / 16;
	bool ok;

	if (!enabled(l) || x2apic(l) || offset >= 0x1000 || offset % 16)
		return false;
	vlapic_advance(l, now);
	/* A register the mode does not have: reads 0, writes are dropped,
	 * and ESR says so (SDM 11.5.3, illegal register address). */
	ok = write ? write_reg(l, r, v, now) : read_reg(l, r, now, &v);
	if (!ok)
		l->esr |= ESR_ILLEGAL_REG;
	if (!write)
		*value = ok ? (uint32_t)v : 0;
	vlapic_advance(l, now);
	return true;
}

/* ---- Saved state (vdev/README.md, "Saved state") ----------------------------- */

void vlapic_save(const struct vlapic *l, uint64_t now,
		 uint8_t out[VLAPIC_SAVE_SIZE])
{
	/* As at now: a timer event already due is in IRR, so the time left
	 * is positive, and 0 means no count timer armed. */
	struct vlapic t = *l;
	uint64_t left;

	vlapic_advance(&t, now);
	left = t.timer_next == UINT64_MAX ? 0 : t.timer_next - now;
	store_le64(out, t.apic_base);
	store_le32(out + 8, t.tpr);
	store_le32(out + 12, t.svr);
	store_le32(out + 16, t.esr);
	store_le32(out + 20, t.timer_initial);
	store_le32(out + 24, t.timer_divide);
	store_le32(out + 28, 0);
	store_le64(out + 32, t.icr);
	for (int i = 0; i < LVT_COUNT; i++)
		store_le32(out + 40 + 4 * i, t.lvt[i]);
	for (int i = 0; i < 8; i++) {
		store_le32(out + 64 + 4 * i, t.isr[i]);
		store_le32(out + 96 + 4 * i, t.irr[i]);
	}
	store_le64(out + 128, left);
	store_le64(out + 136, t.tsc_deadline);
	store_le32(out + 144, t.ldr);
	store_le32(out + 148, t.dfr);
}

static bool lvts_ok(const struct vlapic *l)
{
	for (int i = 0; i < LVT_COUNT; i++) {
		if (l->lvt[i] & ~lvt_writable[i])
			return false;
		if (!(l->svr & SVR_ENABLE) && !(l->lvt[i] & LVT_MASKED))
			return false;
	}
	return TIMER_MODE(l->lvt[LVT_TIMER]) != 3;
}

/* The timer's fields agree with its mode: a count only outside
 * TSC-deadline mode (left is 0 when none is armed), a deadline only in it. */
static bool timer_ok(const struct vlapic *l, uint64_t left)
{
	if (timer_mode(l) == MODE_DEADLINE)
		return !left && !l->timer_initial;
	return !l->tsc_deadline && (!left || l->timer_initial);
}

/* now + left at the new rate, rounded down (a tick is never pushed later
 * than it was due), and never UINT64_MAX (which would disarm it). */
static uint64_t rescaled(uint64_t left, uint64_t saved_hz, uint64_t tsc_hz,
			 uint64_t now)
{
	uint64_t at = vtime_add_sat(now, vtime_muldiv(left, tsc_hz, saved_hz, false));

	return at == UINT64_MAX ? UINT64_MAX - 1 : at;
}

bool vlapic_load(struct vlapic *l, const uint8_t in[VLAPIC_SAVE_SIZE],
		 uint64_t saved_hz, uint64_t tsc_hz, uint64_t now)
{
	struct vlapic t = {
		.apic_base = load_le64(in),
		.tpr = load_le32(in + 8),
		.svr = load_le32(in + 12),
		.esr = load_le32(in + 16),
		.timer_initial = load_le32(in + 20),
		.timer_divide = load_le32(in + 24),
		.icr = load_le64(in + 32),
		.tsc_deadline = load_le64(in + 136),
		.ldr = load_le32(in + 144),
		.dfr = load_le32(in + 148),
		.tick_shift = vlapic_tick_shift(tsc_hz),
		.tsc_offset = l->tsc_offset,
	};
	uint64_t left = load_le64(in + 128);

	for (int i = 0; i < LVT_COUNT; i++)
		t.lvt[i] = load_le32(in + 40 + 4 * i);
	for (int i = 0; i < 8; i++) {
		t.isr[i] = load_le32(in + 64 + 4 * i);
		t.irr[i] = load_le32(in + 96 + 4 * i);
	}
	if ((t.apic_base != BASE_XAPIC && t.apic_base != BASE_X2APIC &&
	     t.apic_base != BASE_DISABLED) ||
	    t.ldr & ~LDR_WRITABLE || (t.dfr != DFR_RESET && t.dfr != DFR_FIXED) ||
	    t.tpr > 0xff || t.svr & ~SVR_WRITABLE || t.esr & ~ESR_BITS ||
	    t.timer_divide & ~TDCR_WRITABLE || load_le32(in + 28) ||
	    t.icr & ~ICR_WRITABLE || (t.isr[0] | t.irr[0]) & 0xffffu ||
	    !lvts_ok(&t) || !timer_ok(&t, left))
		return false;
	t.timer_next = left ? rescaled(left, saved_hz, tsc_hz, now) : UINT64_MAX;
	*l = t;
	return true;
}
