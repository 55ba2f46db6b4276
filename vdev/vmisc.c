#include "vdev/vmisc.h"
#include "tcb/byteorder.h"

#define KBC_STATUS_OBF  0x01
#define KBC_STATUS_SYS  0x04   /* passed its self-test (at power-on too) */
#define KBC_STATUS_CMD  0x08   /* the last write was a command */
#define KBC_STATUS_UNLOCKED 0x10
#define KBC_CTR_KBD_OFF 0x10
#define KBC_CTR_AUX_OFF 0x20
#define PCI_ADDR_MASK   0x80fffffcu
#define PORT92_RESET    0x01
#define CF9_RESET       0x04

void vmisc_init(struct vmisc *m)
{
	/* Interfaces disabled, no interrupts, translation on: what Linux
	 * finds after firmware without a keyboard; the output port with
	 * reset inactive and A20 on. */
	*m = (struct vmisc){ .kbc_ctr = 0x70, .kbc_outport = 0x03 };
}

static void kbc_reply(struct vmisc *m, uint8_t v)
{
	m->kbc_out = v;
	m->kbc_obf = true;
}

static enum vio_result kbc_command(struct vmisc *m, uint8_t cmd)
{
	m->kbc_cmd = 0;
	switch (cmd) {
	case 0x20:
		kbc_reply(m, m->kbc_ctr);
		break;
	case 0x60:
	case 0xd1:
		m->kbc_cmd = cmd;   /* its byte comes on 0x60 */
		break;
	case 0xaa:
		kbc_reply(m, 0x55);
		break;
	case 0xa9:
	case 0xab:
		kbc_reply(m, 0x00); /* interface test passed (nothing on it) */
		break;
	case 0xa7:
		m->kbc_ctr |= KBC_CTR_AUX_OFF;
		break;
	case 0xa8:
		m->kbc_ctr &= (uint8_t)~KBC_CTR_AUX_OFF;
		break;
	case 0xad:
		m->kbc_ctr |= KBC_CTR_KBD_OFF;
		break;
	case 0xae:
		m->kbc_ctr &= (uint8_t)~KBC_CTR_KBD_OFF;
		break;
	case 0xfe:
		return VIO_RESET;   /* pulse the reset line */
	default:
		break;              /* not offered: no reply */
	}
	return VIO_DONE;
}

static enum vio_result kbc_data(struct vmisc *m, uint8_t v)
{
	uint8_t cmd = m->kbc_cmd;

	m->kbc_cmd = 0;
	if (cmd == 0x60) {
		m->kbc_ctr = v;
	} else if (cmd == 0xd1) {
		m->kbc_outport = v;
		if (!(v & 1))
			return VIO_RESET;   /* bit 0 is the CPU's reset line */
	}
	/* Otherwise a byte for the keyboard, which is not there. */
	return VIO_DONE;
}

static enum vio_result kbc_io(struct vmisc *m, struct vio_access *a)
{
	if (a->in && a->port == 0x60) {
		m->kbc_obf = false;
		a->value = m->kbc_out;
	} else if (a->in) {
		a->value = (uint32_t)(m->kbc_obf * KBC_STATUS_OBF |
				      KBC_STATUS_SYS | KBC_STATUS_UNLOCKED |
				      m->kbc_cmd_last * KBC_STATUS_CMD);
	} else {
		m->kbc_cmd_last = a->port == 0x64;
		return a->port == 0x64 ? kbc_command(m, (uint8_t)a->value) :
					 kbc_data(m, (uint8_t)a->value);
	}
	return VIO_DONE;
}

static enum vio_result port61_io(struct vmisc *m, struct vio_access *a,
				 bool out2)
{
	if (a->in) {
		/* The refresh bit toggles so that delay loops polling it end. */
		m->refresh = !m->refresh;
		a->value = (uint32_t)(m->port61 | m->refresh << 4 | out2 << 5);
	} else {
		m->port61 = a->value & 0x0f;
	}
	return VIO_DONE;
}

static enum vio_result byte_io(struct vmisc *m, struct vio_access *a,
			       bool out2)
{
	uint8_t v = (uint8_t)a->value;

	switch (a->port) {
	case 0x60:
	case 0x64:
		return kbc_io(m, a);
	case 0x61:
		return port61_io(m, a, out2);
	case 0x80:
		if (a->in)
			a->value = 0xff;   /* POST codes: nothing to read back */
		return VIO_DONE;
	case 0x92:
		if (a->in) {
			a->value = m->port92;
			return VIO_DONE;
		}
		m->port92 = v & (uint8_t)~PORT92_RESET;
		return v & PORT92_RESET ? VIO_RESET : VIO_DONE;
	case 0xcf9:
		if (a->in) {
			a->value = m->cf9;
			return VIO_DONE;
		}
		m->cf9 = v & (uint8_t)~CF9_RESET;
		return v & CF9_RESET ? VIO_RESET : VIO_DONE;
	default:
		return VIO_UNCLAIMED;
	}
}

enum vio_result vmisc_io(struct vmisc *m, struct vio_access *a, bool out2)
{
	/* PCI configuration: the address latch takes only whole dwords;
	 * the data window has no device behind any address. */
	if (a->port == 0xcf8 && a->size == 4) {
		if (a->in)
			a->value = m->pci_addr;
		else
			m->pci_addr = a->value & PCI_ADDR_MASK;
		return VIO_DONE;
	}
	if (a->port >= 0xcfc && a->port <= 0xcff &&
	    a->port + a->size <= 0xd00) {
		if (a->in)
			a->value = 0xffffffffu;
		return VIO_DONE;
	}
	if (a->size != 1)
		return VIO_UNCLAIMED;
	return byte_io(m, a, out2);
}

void vmisc_save(const struct vmisc *m, uint8_t out[VMISC_SAVE_SIZE])
{
	store_le32(out, m->pci_addr);
	out[4] = m->port61;
	out[5] = m->refresh;
	out[6] = m->port92;
	out[7] = m->cf9;
	out[8] = m->kbc_ctr;
	out[9] = m->kbc_out;
	out[10] = m->kbc_obf;
	out[11] = m->kbc_cmd;
	out[12] = m->kbc_cmd_last;
	out[13] = m->kbc_outport;
}

bool vmisc_load(struct vmisc *m, const uint8_t in[VMISC_SAVE_SIZE])
{
	uint32_t pci = load_le32(in);

	if (pci & ~PCI_ADDR_MASK || in[4] & 0xf0 || in[5] > 1 ||
	    in[6] & PORT92_RESET || in[7] & CF9_RESET || in[10] > 1 ||
	    (in[11] != 0 && in[11] != 0x60 && in[11] != 0xd1) || in[12] > 1)
		return false;
	*m = (struct vmisc){
		.pci_addr = pci, .port61 = in[4], .refresh = in[5],
		.port92 = in[6], .cf9 = in[7], .kbc_ctr = in[8],
		.kbc_out = in[9], .kbc_obf = in[10], .kbc_cmd = in[11],
		.kbc_cmd_last = in[12], .kbc_outport = in[13],
	};
	return true;
}
