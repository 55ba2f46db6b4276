#include <stddef.h>

#include "vdev/vpic.h"

#define ICW1_IC4   0x01  /* ICW4 follows */
#define ICW1_SNGL  0x02  /* single chip: no ICW3 */
#define ICW1_INIT  0x10
#define OCW3_SEL   0x08
#define OCW3_RR    0x02  /* bit 0 (RIS) says which register to read */
#define ICW4_AEOI  0x02
#define CASCADE    2
#define SPURIOUS   7

/* Lines whose ELCR bit exists (PIIX: IRQ 0, 1, 2, 8 and 13 are always edge). */
static const uint8_t elcr_mask[2] = { 0xf8, 0xde };

static void chip_init(struct vpic_chip *c, uint8_t base)
{
	/* As if initialised with ICW1 0x11 and ICW4 0x01 (8086 mode). */
	*c = (struct vpic_chip){ .imr = 0xff, .base = base, .icw1 = 0x11,
				 .icw4 = 0x01 };
}

void vpic_init(struct vpic *pic)
{
	/* What a PC BIOS leaves: vectors 0x08 and 0x70, everything masked. */
	chip_init(&pic->chip[0], 0x08);
	chip_init(&pic->chip[1], 0x70);
	pic->intr_seen = false;
}

void vpic_set_irq(struct vpic *pic, unsigned int irq, bool level)
{
	struct vpic_chip *c;
	uint8_t bit;

	if (irq >= 16 || irq == CASCADE)
		return;
	c = &pic->chip[irq >> 3];
	bit = (uint8_t)(1u << (irq & 7));
	if (level && !(c->lines & bit))
		c->irr |= bit;
	c->lines = level ? c->lines | bit : c->lines & ~bit;
}

/* The line the chip would signal: the highest-priority (lowest-numbered)
 * unmasked request above every line in service; -1 for none. Rotation is
 * not kept, so the priority is always fixed. */
static int chip_line(const struct vpic_chip *c, uint8_t extra)
{
	uint8_t req = (uint8_t)((c->irr | extra) & ~c->imr);

	for (int i = 0; i < 8; i++) {
		if (c->isr & (1u << i))
			return -1;
		if (req & (1u << i))
			return i;
	}
	return -1;
}

/* The master's line, with the slave's output on its line 2. */
static int master_line(const struct vpic *pic)
{
	bool slave = chip_line(&pic->chip[1], 0) >= 0;

	return chip_line(&pic->chip[0], slave ? 1u << CASCADE : 0);
}

bool vpic_intr_pending(struct vpic *pic)
{
	pic->intr_seen = master_line(pic) >= 0;
	return pic->intr_seen;
}

/* INTA on one chip: its request becomes in service (not with auto-EOI). */
static int chip_take(struct vpic_chip *c, int line)
{
	uint8_t bit = (uint8_t)(1u << line);

	c->irr &= (uint8_t)~bit;
	if (!(c->icw4 & ICW4_AEOI))
		c->isr |= bit;
	return c->base + line;
}

int vpic_intr_ack(struct vpic *pic)
{
	int line = master_line(pic);
	bool seen = pic->intr_seen;

	pic->intr_seen = false;
	if (line < 0)
		return seen ? pic->chip[0].base + SPURIOUS : -1;
	if (line != CASCADE)
		return chip_take(&pic->chip[0], line);
	/* The slave's request is evaluated at the same INTA, so it cannot
	 * vanish in between: no spurious IRQ 15 arises. */
	chip_take(&pic->chip[0], CASCADE);
	return chip_take(&pic->chip[1], chip_line(&pic->chip[1], 0));
}

/* OCW2: every EOI form ends one ISR bit; rotation is treated as the EOI
 * it carries; set-priority and the rest are ignored. */
static void chip_ocw2(struct vpic_chip *c, uint8_t v)
{
	unsigned int cmd = v >> 5;

	if (cmd == 1 || cmd == 5) {          /* non-specific EOI */
		for (int i = 0; i < 8; i++) {
			if (c->isr & (1u << i)) {
				c->isr &= (uint8_t)~(1u << i);
				break;
			}
		}
	} else if (cmd == 3 || cmd == 7) {   /* specific EOI */
		c->isr &= (uint8_t)~(1u << (v & 7));
	}
}

static void chip_command(struct vpic_chip *c, uint8_t v)
{
	if (v & ICW1_INIT) {
		/* Edge sense reset: a line that is high now must fall and
		 * rise again to request (lines is kept for that). */
		c->icw1 = v;
		c->irr = c->isr = c->imr = 0;
		c->icw4 = 0;
		c->read_isr = false;
		c->init_step = 2;
	} else if (v & OCW3_SEL) {
		/* Poll mode (bit 2) is not offered: a no-op. */
		if (v & OCW3_RR)
			c->read_isr = v & 1;
	} else {
		chip_ocw2(c, v);
	}
}

static uint8_t step_after(const struct vpic_chip *c, uint8_t step)
{
	if (step == 2 && !(c->icw1 & ICW1_SNGL))
		return 3;
	if (step <= 3 && (c->icw1 & ICW1_IC4))
		return 4;
	return 0;
}

static void chip_data(struct vpic_chip *c, uint8_t v)
{
	switch (c->init_step) {
	case 2:
		c->base = v & 0xf8;
		break;
	case 3:
		c->icw3 = v;
		break;
	case 4:
		c->icw4 = v & 0x1f;
		break;
	default:
		c->imr = v;
		return;
	}
	c->init_step = step_after(c, c->init_step);
}

static struct vpic_chip *chip_of(struct vpic *pic, uint16_t port)
{
	switch (port) {
	case 0x20: case 0x21: case 0x4d0:
		return &pic->chip[0];
	case 0xa0: case 0xa1: case 0x4d1:
		return &pic->chip[1];
	default:
		return NULL;
	}
}

bool vpic_read(struct vpic *pic, uint16_t port, uint8_t *value)
{
	struct vpic_chip *c = chip_of(pic, port);

	if (!c)
		return false;
	if (port >= 0x4d0)
		*value = c->elcr;
	else if (port & 1)
		*value = c->imr;
	else
		*value = c->read_isr ? c->isr : c->irr;
	return true;
}

bool vpic_write(struct vpic *pic, uint16_t port, uint8_t value)
{
	struct vpic_chip *c = chip_of(pic, port);

	if (!c)
		return false;
	if (port >= 0x4d0)
		c->elcr = value & elcr_mask[port & 1];
	else if (port & 1)
		chip_data(c, value);
	else
		chip_command(c, value);
	return true;
}

#define CHIP_SAVE 11

void vpic_save(const struct vpic *pic, uint8_t out[VPIC_SAVE_SIZE])
{
	for (int i = 0; i < 2; i++) {
		const struct vpic_chip *c = &pic->chip[i];
		uint8_t *o = out + i * CHIP_SAVE;

		o[0] = c->irr;
		o[1] = c->isr;
		o[2] = c->imr;
		o[3] = c->lines;
		o[4] = c->elcr;
		o[5] = c->base;
		o[6] = c->icw1;
		o[7] = c->icw3;
		o[8] = c->icw4;
		o[9] = c->init_step;
		o[10] = c->read_isr;
	}
	out[2 * CHIP_SAVE] = pic->intr_seen;
}

static bool chip_load(struct vpic_chip *c, const uint8_t *in, int i)
{
	/* The cascade line of the master is never an input of its own. */
	uint8_t fixed = i == 0 ? 1u << CASCADE : 0;

	if ((in[0] | in[3]) & fixed || in[4] & ~elcr_mask[i] || in[5] & 7 ||
	    !(in[6] & ICW1_INIT) || in[8] & 0xe0 ||
	    (in[9] != 0 && (in[9] < 2 || in[9] > 4)) || in[10] > 1)
		return false;
	*c = (struct vpic_chip){
		.irr = in[0], .isr = in[1], .imr = in[2], .lines = in[3],
		.elcr = in[4], .base = in[5], .icw1 = in[6], .icw3 = in[7],
		.icw4 = in[8], .init_step = in[9], .read_isr = in[10],
	};
	return true;
}

bool vpic_load(struct vpic *pic, const uint8_t in[VPIC_SAVE_SIZE])
{
	struct vpic tmp;

	if (!chip_load(&tmp.chip[0], in, 0) ||
	    !chip_load(&tmp.chip[1], in + CHIP_SAVE, 1) ||
	    in[2 * CHIP_SAVE] > 1)
		return false;
	tmp.intr_seen = in[2 * CHIP_SAVE];
	*pic = tmp;
	return true;
}
