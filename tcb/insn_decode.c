/*
 * The decoder of insn_decode.h. Encodings: AMD APM Vol. 3 (1.2 legacy
 * prefixes, 1.2.7 REX, 1.4 ModRM, appendix A opcode maps) and SDM Vol. 2
 * (2.1 instruction format, 2.2.1 REX; MOV CR: "the mod field is ignored").
 */
#include "tcb/insn_decode.h"

#define PAGE_4K 0x1000ull

struct prefixes {
	bool lock;      /* F0 */
	bool rep;       /* F2 or F3 */
	bool opsize;    /* 66 */
	uint8_t rex;    /* the REX right before the opcode, else 0 */
};

/* Segment overrides (2E 36 3E 26 64 65) and address size (67) change
 * nothing for these instructions: none has a memory operand. */
static bool harmless_prefix(uint8_t c)
{
	return c == 0x2e || c == 0x36 || c == 0x3e || c == 0x26 || c == 0x64 ||
	       c == 0x65 || c == 0x67;
}

static bool legacy_prefix(uint8_t c, struct prefixes *px)
{
	if (c == 0xf0)
		px->lock = true;
	else if (c == 0xf2 || c == 0xf3)
		px->rep = true;
	else if (c == 0x66)
		px->opsize = true;
	else if (!harmless_prefix(c))
		return false;
	return true;
}

/* Byte k of the instruction: INSN_OK with *c, or why it cannot be had. */
static enum insn_status byte_at(const uint8_t *b, size_t avail, size_t k,
				uint8_t *c)
{
	if (k >= INSN_MAX_LEN)
		return INSN_TOO_LONG;
	if (k >= avail)
		return INSN_TRUNCATED;
	*c = b[k];
	return INSN_OK;
}

#define REX_W 0x8
#define REX_R 0x4
#define REX_B 0x1

/* 0F 20 / 0F 22: the CR is ModRM.reg (+8 with REX.R), the GPR ModRM.rm
 * (+8 with REX.B); LOCK with CR0 names CR8 (APM Vol. 3, MOV CRn). */
static enum insn_status mov_cr(uint8_t op, uint8_t modrm,
			       const struct prefixes *px, struct insn *i)
{
	unsigned cr = ((modrm >> 3) & 7) | ((px->rex & REX_R) ? 8 : 0);

	if (px->lock) {
		if (cr != 0)
			return INSN_BAD_PREFIX;
		cr = 8;
	}
	if (cr != 0 && cr != 2 && cr != 3 && cr != 4 && cr != 8)
		return INSN_BAD_CR;
	i->kind = op == 0x22 ? INSN_MOV_TO_CR : INSN_MOV_FROM_CR;
	i->cr = (uint8_t)cr;
	i->gpr = (uint8_t)((modrm & 7) | ((px->rex & REX_B) ? 8 : 0));
	return INSN_OK;
}

/* 0F 01 with a ModRM: VMMCALL, XSETBV, LMSW from a register. */
static enum insn_status group7(uint8_t modrm, const struct prefixes *px,
			       struct insn *i)
{
	if (modrm == 0xd9)
		i->kind = INSN_VMMCALL;
	else if (modrm == 0xd1)
		i->kind = INSN_XSETBV;
	else if ((modrm & 0xf8) == 0xf0) {
		i->kind = INSN_LMSW;
		i->gpr = (uint8_t)((modrm & 7) | ((px->rex & REX_B) ? 8 : 0));
	} else
		return INSN_UNKNOWN;
	/* 66, F2 and F3 select other instructions in this group (F3 0F 01 D9
	 * is VMGEXIT, for one). */
	return px->opsize ? INSN_BAD_PREFIX : INSN_OK;
}

/* The bytes of a memory operand's ModRM form after the ModRM byte: SIB
 * and displacement (64-bit mode, where 67 does not change them; mod 0
 * with rm 5 is RIP-relative, disp32). */
static enum insn_status modrm_mem_len(const uint8_t *b, size_t avail, size_t k,
				      uint8_t modrm, size_t *len)
{
	unsigned mod = modrm >> 6, rm = modrm & 7;
	size_t n = 0, disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	uint8_t sib;

	if (rm == 4) {
		enum insn_status s = byte_at(b, avail, k, &sib);

		if (s != INSN_OK)
			return s;
		n = 1;
		if (mod == 0 && (sib & 7) == 5)
			disp = 4;
	} else if (mod == 0 && rm == 5) {
		disp = 4;
	}
	*len = n + disp;
	return INSN_OK;
}

/* 89 /r, 8B /r, C7 /0 with a memory operand, in 64-bit mode. */
static enum insn_status mov_mem(const uint8_t *b, size_t avail, size_t k,
				uint8_t op, const struct prefixes *px,
				struct insn *i, size_t *end)
{
	uint8_t modrm, last;
	size_t n;
	enum insn_status s = byte_at(b, avail, k, &modrm);

	if (s != INSN_OK)
		return s;
	if ((modrm >> 6) == 3 || (op == 0xc7 && (modrm >> 3 & 7) != 0))
		return INSN_UNKNOWN; /* a register operand: no memory access */
	s = modrm_mem_len(b, avail, k + 1, modrm, &n);
	if (s != INSN_OK)
		return s;
	n += k + 1 + (op == 0xc7 ? (px->opsize && !(px->rex & REX_W) ? 2 : 4) : 0);
	s = byte_at(b, avail, n - 1, &last); /* the whole instruction is there */
	if (s != INSN_OK)
		return s;
	i->kind = op == 0x8b ? INSN_MOV_LOAD : INSN_MOV_STORE;
	i->gpr = (uint8_t)((modrm >> 3 & 7) | ((px->rex & REX_R) ? 8 : 0));
	i->width = (px->rex & REX_W) ? 8 : px->opsize ? 2 : 4;
	if (op == 0xc7) {
		const uint8_t *imm = b + n - (i->width == 2 ? 2 : 4);

		i->has_imm = true;
		i->imm = i->width == 2 ? (uint32_t)(imm[0] | imm[1] << 8) :
			 (uint32_t)imm[0] | (uint32_t)imm[1] << 8 |
			 (uint32_t)imm[2] << 16 | (uint32_t)imm[3] << 24;
	}
	*end = n;
	return INSN_OK;
}

/* The opcode at b[k]: fills i (kind, cr, gpr) and *end, the length. */
static enum insn_status opcode(const uint8_t *b, size_t avail, size_t k,
			       bool long_mode, const struct prefixes *px,
			       struct insn *i, size_t *end)
{
	uint8_t op, op2, modrm;
	enum insn_status s = byte_at(b, avail, k, &op);

	if (s != INSN_OK)
		return s;
	*end = k + 1;
	if (op == 0xf4) {
		i->kind = INSN_HLT;
		return INSN_OK;
	}
	if (long_mode && (op == 0x89 || op == 0x8b || op == 0xc7))
		return mov_mem(b, avail, k + 1, op, px, i, end);
	if (op != 0x0f)
		return INSN_UNKNOWN;
	s = byte_at(b, avail, k + 1, &op2);
	if (s != INSN_OK)
		return s;
	*end = k + 2;
	switch (op2) {
	case 0xa2: i->kind = INSN_CPUID; return INSN_OK;
	case 0x32: i->kind = INSN_RDMSR; return INSN_OK;
	case 0x30: i->kind = INSN_WRMSR; return INSN_OK;
	case 0x06: i->kind = INSN_CLTS;  return INSN_OK;
	case 0x01: case 0x20: case 0x22: break;
	default: return INSN_UNKNOWN;
	}
	s = byte_at(b, avail, k + 2, &modrm);
	if (s != INSN_OK)
		return s;
	*end = k + 3;
	return op2 == 0x01 ? group7(modrm, px, i) : mov_cr(op2, modrm, px, i);
}

enum insn_status insn_decode(const uint8_t *b, size_t avail, bool long_mode,
			     struct insn *out)
{
	struct prefixes px = { false, false, false, 0 };
	struct insn i = { INSN_NONE, 0, 0, 0, 0, false, 0 };
	size_t k = 0, end = 0;
	enum insn_status s;
	uint8_t c;

	for (;; k++) {
		s = byte_at(b, avail, k, &c);
		if (s != INSN_OK)
			return s;
		if (long_mode && (c & 0xf0) == 0x40)
			px.rex = c;
		else if (legacy_prefix(c, &px))
			px.rex = 0; /* a REX not right before the opcode is ignored */
		else
			break;
	}
	s = opcode(b, avail, k, long_mode, &px, &i, &end);
	if (s != INSN_OK)
		return s;
	if (px.rep || (px.lock && i.kind != INSN_MOV_TO_CR &&
		       i.kind != INSN_MOV_FROM_CR))
		return INSN_BAD_PREFIX;
	i.len = (uint8_t)end;
	*out = i;
	return INSN_OK;
}

enum insn_status insn_fetch(const struct guest_paging *p, uint64_t rip,
			    bool long_mode, bool user, struct insn *out,
			    enum gva_status *why)
{
	unsigned access = GVA_FETCH | (user ? GVA_USER : 0);
	uint8_t b[INSN_MAX_LEN];
	uint64_t room = PAGE_4K - (rip & (PAGE_4K - 1));
	size_t have = room < INSN_MAX_LEN ? (size_t)room : INSN_MAX_LEN;
	enum gva_status g = gva_read(p, rip, access, b, have);
	enum insn_status s = INSN_NOT_FETCHED;

	if (g == GVA_OK) {
		s = insn_decode(b, have, long_mode, out);
		/* Runs on into the next page: only now is that page needed. */
		if (s == INSN_TRUNCATED && have < INSN_MAX_LEN) {
			g = gva_read(p, rip + have, access, b + have,
				     INSN_MAX_LEN - have);
			s = g == GVA_OK ? insn_decode(b, INSN_MAX_LEN, long_mode, out)
					: INSN_NOT_FETCHED;
		}
	}
	if (why)
		*why = g;
	return s;
}

const char *insn_kind_name(enum insn_kind k)
{
	switch (k) {
	case INSN_NONE:        return "none";
	case INSN_CPUID:       return "CPUID";
	case INSN_RDMSR:       return "RDMSR";
	case INSN_WRMSR:       return "WRMSR";
	case INSN_HLT:         return "HLT";
	case INSN_VMMCALL:     return "VMMCALL";
	case INSN_XSETBV:      return "XSETBV";
	case INSN_CLTS:        return "CLTS";
	case INSN_LMSW:        return "LMSW";
	case INSN_MOV_TO_CR:   return "MOV to CR";
	case INSN_MOV_FROM_CR: return "MOV from CR";
	case INSN_MOV_STORE:   return "MOV to memory";
	case INSN_MOV_LOAD:    return "MOV from memory";
	}
	return "?";
}

const char *insn_status_name(enum insn_status s)
{
	switch (s) {
	case INSN_OK:          return "ok";
	case INSN_TRUNCATED:   return "truncated";
	case INSN_TOO_LONG:    return "longer than 15 bytes";
	case INSN_BAD_PREFIX:  return "prefix not allowed on it";
	case INSN_UNKNOWN:     return "not an instruction this decoder knows";
	case INSN_BAD_CR:      return "no such control register";
	case INSN_NOT_FETCHED: return "could not be read";
	}
	return "?";
}
