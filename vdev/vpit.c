#include "vdev/vpit.h"
#include "vdev/vtime.h"
#include "tcb/byteorder.h"

#define ACCESS_LSB  1
#define ACCESS_MSB  2
#define ACCESS_WORD 3

void vpit_init(struct vpit *pit, uint64_t tsc_hz)
{
	pit->tsc_hz = tsc_hz;
	for (int i = 0; i < 3; i++) {
		/* Power-on: no count, mode 0 (OUT low), LSB then MSB. */
		pit->ch[i] = (struct vpit_channel){ .access = ACCESS_WORD,
						    .gate = i != 2 };
	}
}

/* The count as a number of input clocks, 0 written meaning 65536. */
static uint32_t period(const struct vpit_channel *ch)
{
	return ch->reload ? ch->reload : 0x10000u;
}

static bool periodic(const struct vpit_channel *ch)
{
	return ch->mode == 2 || ch->mode == 3;
}

static uint64_t elapsed_cycles(const struct vpit_channel *ch, uint64_t now)
{
	if (!ch->armed)
		return 0;
	/* Modular: a loaded state's start may lie "before" TSC 0. */
	return ch->paused ? ch->held : now - ch->start;
}

/* Input clocks since the count was loaded. */
static uint64_t ticks(const struct vpit *pit, const struct vpit_channel *ch,
		      uint64_t now)
{
	return vtime_muldiv(elapsed_cycles(ch, now), VPIT_HZ, pit->tsc_hz,
			    false);
}

static uint16_t count_at(const struct vpit_channel *ch, uint64_t t)
{
	uint32_t n = period(ch), h;

	if (!ch->armed)
		return ch->reload;
	switch (ch->mode) {
	case 2:
		return (uint16_t)(n - t % n);
	case 3:
		/* Counts down by two through each half of the period. */
		h = (uint32_t)(t % n);
		if (h >= (n + 1) / 2)
			h -= (n + 1) / 2;
		return (uint16_t)(n - 2 * h);
	default:
		/* Modes 0, 1, 4, 5 count on through 0 to 0xffff. */
		return (uint16_t)(n - (uint32_t)(t & 0xffff));
	}
}

static bool out_at(const struct vpit_channel *ch, uint64_t t)
{
	uint32_t n = period(ch);

	if (!ch->loaded || !ch->armed)
		return ch->mode != 0;
	switch (ch->mode) {
	case 0:
	case 1:
		return t >= n;
	case 2:
		return ch->paused || t % n != n - 1;
	case 3:
		return ch->paused || t % n < (n + 1) / 2;
	default:
		/* Modes 4 and 5: low for the one clock at terminal count. */
		return t != n;
	}
}

/* How many times OUT has risen by t (modes 4 and 5 rise after their
 * strobe, one clock after terminal count). */
static uint64_t edges_at(const struct vpit_channel *ch, uint64_t t)
{
	uint32_t n = period(ch);

	if (!ch->loaded || !ch->armed || ch->paused)
		return 0;
	if (periodic(ch))
		return t / n;
	if (ch->mode <= 1)
		return t >= n;
	return t > n;
}

/* The clock at which OUT rises for the k-th time (k >= 1); UINT64_MAX
 * for never. */
static uint64_t edge_tick(const struct vpit_channel *ch, uint64_t k)
{
	uint64_t n = period(ch), t;

	if (periodic(ch))
		return __builtin_mul_overflow(k, n, &t) ? UINT64_MAX : t;
	if (k != 1)
		return UINT64_MAX;
	return ch->mode <= 1 ? n : n + 1;
}

bool vpit_out(const struct vpit *pit, unsigned int c, uint64_t now)
{
	if (c >= 3)
		return false;
	return out_at(&pit->ch[c], ticks(pit, &pit->ch[c], now));
}

bool vpit_advance(struct vpit *pit, uint64_t now)
{
	struct vpit_channel *ch = &pit->ch[0];
	uint64_t e = edges_at(ch, ticks(pit, ch, now));

	if (e <= ch->edges)
		return false;
	ch->edges = e;
	return true;
}

uint64_t vpit_next_deadline(const struct vpit *pit, uint64_t now)
{
	const struct vpit_channel *ch = &pit->ch[0];
	uint64_t tick, cycles, el;

	if (!ch->loaded || !ch->armed || ch->paused || ch->edges == UINT64_MAX)
		return UINT64_MAX;
	tick = edge_tick(ch, ch->edges + 1);
	if (tick == UINT64_MAX)
		return UINT64_MAX;
	/* The first cycle count whose clocks reach tick: rounded up. */
	cycles = vtime_muldiv(tick, pit->tsc_hz, VPIT_HZ, true);
	el = elapsed_cycles(ch, now);
	if (cycles <= el)
		return now;
	return vtime_add_sat(now, cycles - el);
}

/* The count is complete: it starts now, unless the gate holds it (modes
 * 0, 2, 3, 4) or has yet to trigger it (modes 1 and 5). */
static void load_count(struct vpit_channel *ch, uint64_t now, bool trigger)
{
	ch->loaded = true;
	ch->edges = 0;
	ch->held = 0;
	ch->start = now;
	ch->armed = trigger || (ch->mode != 1 && ch->mode != 5);
	ch->paused = ch->armed && !ch->gate;
}

void vpit_set_gate(struct vpit *pit, unsigned int c, bool level, uint64_t now)
{
	struct vpit_channel *ch;

	if (c >= 3 || pit->ch[c].gate == level)
		return;
	ch = &pit->ch[c];
	ch->gate = level;
	if (!ch->loaded)
		return;
	if (!level) {
		if (ch->armed && !ch->paused && ch->mode != 1 && ch->mode != 5) {
			ch->held = now - ch->start;
			ch->paused = true;
		}
		return;
	}
	if (ch->mode == 0 || ch->mode == 4) {
		/* Counting resumes where it stopped. */
		ch->start = now - ch->held;
		ch->paused = false;
	} else {
		/* Modes 1, 2, 3, 5: a rising gate reloads the count. */
		load_count(ch, now, true);
	}
}

static uint8_t status_of(const struct vpit *pit, unsigned int c, uint64_t now)
{
	const struct vpit_channel *ch = &pit->ch[c];

	return (uint8_t)(vpit_out(pit, c, now) << 7 | !ch->loaded << 6 |
			 ch->access << 4 | ch->mode << 1 | ch->bcd);
}

static void latch_count(struct vpit *pit, unsigned int c, uint64_t now)
{
	struct vpit_channel *ch = &pit->ch[c];

	if (ch->latched)
		return;   /* a second latch before the read is ignored */
	ch->latch = count_at(ch, ticks(pit, ch, now));
	ch->latched = true;
}

static void control_word(struct vpit *pit, uint8_t v, uint64_t now)
{
	unsigned int c = v >> 6, access = (v >> 4) & 3, mode = (v >> 1) & 7;
	struct vpit_channel *ch;

	if (c == 3) {
		/* Read-back: bits 1-3 select channels; 0 bits latch. */
		for (unsigned int i = 0; i < 3; i++) {
			ch = &pit->ch[i];
			if (!(v & (2u << i)))
				continue;
			if (!(v & 0x20))
				latch_count(pit, i, now);
			if (!(v & 0x10) && !ch->status_latched) {
				ch->status = status_of(pit, i, now);
				ch->status_latched = true;
			}
		}
		return;
	}
	if (access == 0) {
		latch_count(pit, c, now);
		return;
	}
	ch = &pit->ch[c];
	ch->mode = (uint8_t)(mode > 5 ? mode - 4 : mode);  /* 6, 7: 2, 3 */
	ch->access = (uint8_t)access;
	ch->bcd = v & 1;
	ch->loaded = ch->armed = ch->paused = false;
	ch->write_msb = ch->read_msb = false;
	ch->latched = ch->status_latched = false;
	ch->edges = 0;
}

static void write_count(struct vpit_channel *ch, uint8_t v, uint64_t now)
{
	if (ch->access == ACCESS_LSB) {
		ch->reload = v;
	} else if (ch->access == ACCESS_MSB) {
		ch->reload = (uint16_t)(v << 8);
	} else if (!ch->write_msb) {
		ch->lsb = v;
		ch->write_msb = true;
		return;
	} else {
		ch->reload = (uint16_t)(v << 8 | ch->lsb);
		ch->write_msb = false;
	}
	/* A new count restarts the channel in every mode (a simplification
	 * for 2 and 3, where the 8254 waits for the period's end). */
	load_count(ch, now, false);
}

static uint8_t read_count(struct vpit *pit, unsigned int c, uint64_t now)
{
	struct vpit_channel *ch = &pit->ch[c];
	uint16_t count;
	bool msb;

	if (ch->status_latched) {
		ch->status_latched = false;
		return ch->status;
	}
	count = ch->latched ? ch->latch : count_at(ch, ticks(pit, ch, now));
	msb = ch->access == ACCESS_MSB ||
	      (ch->access == ACCESS_WORD && ch->read_msb);
	if (ch->access == ACCESS_WORD)
		ch->read_msb = !ch->read_msb;
	if (ch->access != ACCESS_WORD || msb)
		ch->latched = false;
	return (uint8_t)(msb ? count >> 8 : count);
}

bool vpit_read(struct vpit *pit, uint16_t port, uint8_t *value, uint64_t now)
{
	if (port < 0x40 || port > 0x43)
		return false;
	/* The control register is write-only. */
	*value = port == 0x43 ? 0xff : read_count(pit, port - 0x40u, now);
	return true;
}

bool vpit_write(struct vpit *pit, uint16_t port, uint8_t value, uint64_t now)
{
	if (port < 0x40 || port > 0x43)
		return false;
	if (port == 0x43)
		control_word(pit, value, now);
	else
		write_count(&pit->ch[port - 0x40], value, now);
	return true;
}

enum {
	F_GATE = 1, F_LOADED = 2, F_ARMED = 4, F_PAUSED = 8, F_WRITE_MSB = 16,
	F_READ_MSB = 32, F_LATCHED = 64, F_STATUS_LATCHED = 128,
};

void vpit_save(const struct vpit *pit, uint64_t now,
	       uint8_t out[VPIT_SAVE_SIZE])
{
	for (int i = 0; i < 3; i++) {
		const struct vpit_channel *ch = &pit->ch[i];
		uint8_t *o = out + i * VPIT_CHANNEL_SAVE;

		store_le64(o, elapsed_cycles(ch, now));
		store_le64(o + 8, ch->edges);
		store_le16(o + 16, ch->reload);
		store_le16(o + 18, ch->latch);
		o[20] = ch->mode;
		o[21] = ch->access;
		o[22] = ch->bcd;
		o[23] = ch->lsb;
		o[24] = ch->status;
		o[25] = (uint8_t)(ch->gate * F_GATE | ch->loaded * F_LOADED |
				  ch->armed * F_ARMED | ch->paused * F_PAUSED |
				  ch->write_msb * F_WRITE_MSB |
				  ch->read_msb * F_READ_MSB |
				  ch->latched * F_LATCHED |
				  ch->status_latched * F_STATUS_LATCHED);
	}
}

/* One channel's fields as saved, checked for what the code relies on. */
static bool channel_load(struct vpit_channel *ch, const uint8_t *in, int i,
			 uint64_t saved_hz, uint64_t tsc_hz, uint64_t now)
{
	uint8_t f = in[25];
	uint64_t el = load_le64(in), t;

	*ch = (struct vpit_channel){
		.edges = load_le64(in + 8), .reload = load_le16(in + 16),
		.latch = load_le16(in + 18), .mode = in[20], .access = in[21],
		.bcd = in[22], .lsb = in[23], .status = in[24],
		.gate = f & F_GATE, .loaded = f & F_LOADED,
		.armed = f & F_ARMED, .paused = f & F_PAUSED,
		.write_msb = f & F_WRITE_MSB, .read_msb = f & F_READ_MSB,
		.latched = f & F_LATCHED,
		.status_latched = f & F_STATUS_LATCHED,
	};
	if (ch->mode > 5 || ch->access < 1 || ch->access > 3 || ch->bcd > 1 ||
	    (i != 2 && !ch->gate) || (ch->armed && !ch->loaded) ||
	    (ch->paused && (!ch->armed || ch->gate ||
			    ch->mode == 1 || ch->mode == 5)) ||
	    (!ch->armed && el) ||
	    (ch->armed && !ch->paused && !ch->gate &&
	     ch->mode != 1 && ch->mode != 5) ||
	    (ch->write_msb && ch->access != 3) ||
	    (ch->read_msb && ch->access != 3))
		return false;
	/* Edges never run ahead of the count they come from. */
	t = vtime_muldiv(el, VPIT_HZ, saved_hz, false);
	if (ch->edges > edges_at(ch, t))
		return false;
	/* Another rate: the same time, rounded up so that no edge already
	 * signalled lies in the future; refused when it does not fit in 64
	 * bits (centuries of counting), which would lose edges. */
	if (saved_hz != tsc_hz) {
		el = vtime_muldiv(el, tsc_hz, saved_hz, true);
		if (el == UINT64_MAX)
			return false;
	}
	ch->held = ch->paused ? el : 0;
	ch->start = now - el;
	return true;
}

bool vpit_load(struct vpit *pit, const uint8_t in[VPIT_SAVE_SIZE],
	       uint64_t saved_hz, uint64_t tsc_hz, uint64_t now)
{
	struct vpit tmp = { .tsc_hz = tsc_hz };

	for (int i = 0; i < 3; i++) {
		if (!channel_load(&tmp.ch[i], in + i * VPIT_CHANNEL_SAVE, i,
				  saved_hz, tsc_hz, now))
			return false;
	}
	*pit = tmp;
	return true;
}
