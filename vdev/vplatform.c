#include "vdev/vplatform.h"
#include "vdev/vtime.h"
#include "tcb/byteorder.h"

static uint64_t clamp_hz(uint64_t hz)
{
	if (hz < VTIME_MIN_HZ)
		return VTIME_MIN_HZ;
	return hz > VTIME_MAX_HZ ? VTIME_MAX_HZ : hz;
}

void vplatform_init(struct vplatform *p, uint64_t tsc_hz,
		    uint64_t wall_seconds, uint64_t now)
{
	p->tsc_hz = clamp_hz(tsc_hz);
	vpic_init(&p->pic);
	vpit_init(&p->pit, p->tsc_hz);
	vuart_init(&p->uart);
	vrtc_init(&p->rtc, p->tsc_hz, wall_seconds, now);
	vmisc_init(&p->misc);
	vlapic_init(&p->lapic, p->tsc_hz);
	p->last_now = now;
	p->quiet_until = 0;
}

/* A `now` before one already seen is taken as that one: the devices'
 * elapsed times are differences and must not wrap. */
static uint64_t time_at(const struct vplatform *p, uint64_t now)
{
	return now < p->last_now ? p->last_now : now;
}

/* A device's state may change (or the TSC-deadline timer's clock): what
 * vplatform_intr_pending found no longer holds. */
static void unquiet(struct vplatform *p)
{
	p->quiet_until = 0;
}

void vplatform_set_tsc_offset(struct vplatform *p, uint64_t offset)
{
	unquiet(p);
	vlapic_set_tsc_offset(&p->lapic, offset);
}

void vplatform_set_tpr(struct vplatform *p, uint32_t tpr)
{
	unquiet(p);
	p->lapic.tpr = tpr & 0xff;
}

/* Timers up to now: a rising OUT of PIT channel 0 is an edge on IRQ 0;
 * the APIC timer's events go to its IRR. Every caller but
 * vplatform_intr_pending goes on to change or ask a device (an IN may
 * change state too: a UART's read clears its interrupt), so it clears
 * the quiet cache here, once for all of them. */
static uint64_t advance(struct vplatform *p, uint64_t now)
{
	unquiet(p);
	now = time_at(p, now);
	p->last_now = now;
	if (vpit_advance(&p->pit, now)) {
		vpic_set_irq(&p->pic, 0, true);
		vpic_set_irq(&p->pic, 0, false);
	}
	vlapic_advance(&p->lapic, now);
	return now;
}

bool vplatform_msr(struct vplatform *p, uint32_t msr, bool write,
		   uint64_t *value, uint64_t now)
{
	now = advance(p, now);
	if (!vlapic_msr_is_apic(msr))
		return false;
	return write ? vlapic_msr_write(&p->lapic, msr, *value, now) :
		       vlapic_msr_read(&p->lapic, msr, value, now);
}

static void update_uart_line(struct vplatform *p)
{
	vpic_set_irq(&p->pic, VUART_IRQ, vuart_irq(&p->uart));
}

static bool is_uart(uint16_t port)
{
	return port >= VUART_BASE && port < VUART_BASE + 8;
}

/* The byte-wide devices: PIC, PIT, RTC, UART. */
static bool byte_read(struct vplatform *p, uint16_t port, uint8_t *v,
		      uint64_t now)
{
	if (is_uart(port)) {
		*v = vuart_read(&p->uart, port - VUART_BASE);
		return true;
	}
	return vpic_read(&p->pic, port, v) ||
	       vpit_read(&p->pit, port, v, now) ||
	       vrtc_read(&p->rtc, port, v, now);
}

static enum vio_result byte_write(struct vplatform *p, struct vio_access *a,
				  uint64_t now)
{
	uint8_t v = (uint8_t)a->value, tx;

	if (is_uart(a->port)) {
		if (!vuart_write(&p->uart, a->port - VUART_BASE, v, &tx))
			return VIO_DONE;
		a->value = tx;
		return VIO_TX;
	}
	if (vpic_write(&p->pic, a->port, v) ||
	    vpit_write(&p->pit, a->port, v, now) ||
	    vrtc_write(&p->rtc, a->port, v))
		return VIO_DONE;
	return VIO_UNCLAIMED;
}

static enum vio_result dispatch(struct vplatform *p, struct vio_access *a,
				uint64_t now)
{
	enum vio_result r;
	uint8_t v;

	if (a->size == 1) {
		if (a->in && byte_read(p, a->port, &v, now)) {
			a->value = v;
			return VIO_DONE;
		}
		if (!a->in) {
			r = byte_write(p, a, now);
			if (r != VIO_UNCLAIMED)
				return r;
		}
	}
	r = vmisc_io(&p->misc, a, vpit_out(&p->pit, 2, now));
	if (a->port == 0x61 && !a->in && r == VIO_DONE)
		vpit_set_gate(&p->pit, 2, p->misc.port61 & 1, now);
	return r;
}

enum vio_result vplatform_io(struct vplatform *p, struct vio_access *a,
			     uint64_t now)
{
	uint32_t ones = a->size == 1 ? 0xff : a->size == 2 ? 0xffff : 0xffffffffu;
	enum vio_result r = VIO_UNCLAIMED;

	now = advance(p, now);
	if (a->size == 1 || a->size == 2 || a->size == 4)
		r = dispatch(p, a, now);
	if (a->in)
		a->value = r == VIO_UNCLAIMED ? ones : a->value & ones;
	update_uart_line(p);
	return r;
}

bool vplatform_apic_mmio(struct vplatform *p, uint32_t offset, bool write,
			 uint32_t *value, uint64_t now)
{
	return vlapic_mmio(&p->lapic, offset, write, value, advance(p, now));
}

/* The PIC's INTR, as far as LINT0 lets it through (reporting it is what
 * makes a vanished request the PIC's spurious IRQ 7 at INTA). */
static bool extint_pending(struct vplatform *p)
{
	if (!vlapic_passes_extint(&p->lapic)) {
		p->pic.intr_seen = false;
		return false;
	}
	return vpic_intr_pending(&p->pic);
}

bool vplatform_intr_pending(struct vplatform *p, uint64_t now)
{
	if (now < p->quiet_until)
		return false;
	now = advance(p, now);
	if (extint_pending(p) || vlapic_pending_vector(&p->lapic) >= 0)
		return true;
	/* Nothing now, and nothing until the next timer event unless the
	 * guest touches a device (which clears this). advance took every
	 * event up to now, so that event lies ahead (were it not, the cache
	 * would simply never answer). */
	p->quiet_until = vplatform_next_deadline(p, now);
	return false;
}

int vplatform_intr_ack(struct vplatform *p, uint64_t now)
{
	int vector;

	advance(p, now);
	if (vlapic_passes_extint(&p->lapic) &&
	    (p->pic.intr_seen || vpic_intr_pending(&p->pic)))
		return vpic_intr_ack(&p->pic);
	vector = vlapic_pending_vector(&p->lapic);
	if (vector >= 0)
		vlapic_accept(&p->lapic, vector);
	return vector;
}

uint64_t vplatform_next_deadline(const struct vplatform *p, uint64_t now)
{
	/* Whether IRQ 0 is masked or not: an early wake-up costs an exit,
	 * a late one a lost tick. */
	uint64_t pit, apic;

	/* The next event is the one found when the cache was filled. */
	if (now < p->quiet_until)
		return p->quiet_until;
	now = time_at(p, now);
	pit = vpit_next_deadline(&p->pit, now);
	apic = vlapic_next_deadline(&p->lapic, now);
	return pit < apic ? pit : apic;
}

size_t vplatform_rx(struct vplatform *p, const uint8_t *bytes, size_t n,
		    uint64_t now)
{
	size_t took;

	advance(p, now);
	took = vuart_rx(&p->uart, bytes, n);
	update_uart_line(p);
	return took;
}

/* Offsets of the parts in the saved state. */
#define OFF_PIC  VPLATFORM_SAVE_HEADER
#define OFF_PIT  (OFF_PIC + VPIC_SAVE_SIZE)
#define OFF_UART (OFF_PIT + VPIT_SAVE_SIZE)
#define OFF_RTC  (OFF_UART + VUART_SAVE_SIZE)
#define OFF_MISC (OFF_RTC + VRTC_SAVE_SIZE)
#define OFF_LAPIC (OFF_MISC + VMISC_SAVE_SIZE)
_Static_assert(OFF_LAPIC + VLAPIC_SAVE_SIZE == VPLATFORM_SAVE_SIZE,
	       "the parts fill the saved state");

void vplatform_save(const struct vplatform *p, uint64_t now,
		    uint8_t out[VPLATFORM_SAVE_SIZE])
{
	now = time_at(p, now);
	store_le32(out, VPLATFORM_SAVE_VERSION);
	store_le32(out + 4, 0);
	store_le64(out + 8, p->tsc_hz);
	vpic_save(&p->pic, out + OFF_PIC);
	vpit_save(&p->pit, now, out + OFF_PIT);
	vuart_save(&p->uart, out + OFF_UART);
	vrtc_save(&p->rtc, now, out + OFF_RTC);
	vmisc_save(&p->misc, out + OFF_MISC);
	vlapic_save(&p->lapic, now, out + OFF_LAPIC);
}

static bool hz_ok(uint64_t hz)
{
	return hz >= VTIME_MIN_HZ && hz <= VTIME_MAX_HZ;
}

/* What the devices' own checks cannot see: the wires between them. The
 * PIC's input levels are the UART's line (IRQ 4) and nothing else (IRQ 0
 * is pulsed), and PIT channel 2's gate is port 0x61 bit 0. */
static bool wiring_ok(const struct vplatform *p)
{
	uint8_t master = vuart_irq(&p->uart) ? 1u << VUART_IRQ : 0;

	return p->pic.chip[0].lines == master && p->pic.chip[1].lines == 0 &&
	       p->pit.ch[2].gate == (p->misc.port61 & 1);
}

bool vplatform_load(struct vplatform *p, const uint8_t *in, size_t len,
		    uint64_t tsc_hz, uint64_t now)
{
	struct vplatform tmp;
	uint64_t saved_hz;

	if (len != VPLATFORM_SAVE_SIZE ||
	    load_le32(in) != VPLATFORM_SAVE_VERSION || load_le32(in + 4))
		return false;
	saved_hz = load_le64(in + 8);
	if (!hz_ok(saved_hz) || !hz_ok(tsc_hz))
		return false;
	tmp.tsc_hz = tsc_hz;
	tmp.last_now = now;
	tmp.quiet_until = 0;
	tmp.lapic.tsc_offset = p->lapic.tsc_offset;
	if (!vpic_load(&tmp.pic, in + OFF_PIC) ||
	    !vpit_load(&tmp.pit, in + OFF_PIT, saved_hz, tsc_hz, now) ||
	    !vuart_load(&tmp.uart, in + OFF_UART) ||
	    !vrtc_load(&tmp.rtc, in + OFF_RTC, saved_hz, tsc_hz, now) ||
	    !vmisc_load(&tmp.misc, in + OFF_MISC) ||
	    !vlapic_load(&tmp.lapic, in + OFF_LAPIC, saved_hz, tsc_hz, now) ||
	    !wiring_ok(&tmp))
		return false;
	*p = tmp;
	return true;
}
