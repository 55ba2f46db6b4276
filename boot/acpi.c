/*
 * ACPI table parser for the boot environment check (see acpi.h).
 *
 * Built freestanding into the hypervisor and hosted into the unit tests and
 * the fuzzer. Each table is read twice through the caller's reader: its
 * 36-byte header (for the signature and length), then, for a table we
 * parse, the whole table into one buffer, where its checksum is verified
 * and every structure inside is bounds-checked against its length.
 */
#include "boot/acpi.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"

#include <string.h>

/* ACPI 6.5 5.2.5.3: RSDP fields. */
#define RSDP_REVISION   15u
#define RSDP_RSDT       16u
#define RSDP_XSDT       24u
#define RSDP_V2_LEN     36u

/* ACPI 6.5 5.2.6: every system description table starts with this. */
#define SDT_HDR_LEN     36u
#define SDT_LENGTH      4u

/* ACPI 6.5 5.2.12: MADT fields and the entry types we read. */
#define MADT_LAPIC_ADDR 36u
#define MADT_ENTRIES    44u
#define MADT_LAPIC          0u  /* 5.2.12.2, 8 bytes, flags at 4 */
#define MADT_IOAPIC         1u  /* 5.2.12.3, 12 bytes, address at 4 */
#define MADT_LAPIC_OVERRIDE 5u  /* 5.2.12.8, 12 bytes, address at 4 */
#define MADT_X2APIC         9u  /* 5.2.12.12, 16 bytes, flags at 8 */
#define MADT_CPU_ENABLED    1u  /* flags bit 0 */

/* IA-PC HPET 1.0a 3.2.4: the base address is a Generic Address Structure
 * (ACPI 5.2.3.2) at 40: address space id first, the address at +4. */
#define HPET_GAS        40u
#define HPET_LEN        56u
#define GAS_SYSTEM_MEMORY 0u

/* PCI Firmware 3.2 4.1.2: 8 reserved bytes, then 16-byte allocations. */
#define MCFG_ENTRIES    44u
#define MCFG_ENTRY_LEN  16u
#define ECAM_BUS_SHIFT  20u /* 1 MiB of configuration space per bus */

/* TCG ACPI 1.3 8.3: control area address at 40, start method at 48. */
#define TPM2_CONTROL    40u
#define TPM2_START      48u
#define TPM2_MIN_LEN    52u

static uint8_t table[ACPI_MAX_TABLE_LEN];

struct acpi_parser {
	acpi_read_fn read;
	void *ctx;
	struct acpi_info *out;
	char *err;
	size_t err_len;
};

bool acpi_checksum_ok(const uint8_t *b, size_t n)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum == 0;
}

/* The header of the table at pa: its signature and length. */
static int read_header(struct acpi_parser *p, uint64_t pa, char sig[5],
		       uint32_t *len)
{
	uint8_t hdr[SDT_HDR_LEN];

	if (!p->read(p->ctx, pa, hdr, sizeof(hdr)))
		return errmsg(p->err, p->err_len, "table header at 0x%llx is not in firmware memory",
			      (unsigned long long)pa);
	memcpy(sig, hdr, 4);
	sig[4] = '\0';
	*len = load_le32(hdr + SDT_LENGTH);
	return 0;
}

/* The whole table at pa into 'table', checked: length and checksum. */
static int read_table(struct acpi_parser *p, uint64_t pa, const char *sig,
		      uint32_t len)
{
	if (len < SDT_HDR_LEN || len > ACPI_MAX_TABLE_LEN)
		return errmsg(p->err, p->err_len, "%s at 0x%llx is %u bytes (must be %u..%u)",
			      sig, (unsigned long long)pa, len, SDT_HDR_LEN,
			      ACPI_MAX_TABLE_LEN);
	if (!p->read(p->ctx, pa, table, len))
		return errmsg(p->err, p->err_len, "%s at 0x%llx (%u bytes) is not in firmware memory",
			      sig, (unsigned long long)pa, len);
	/* The reader may have been handed a different header the second time. */
	if (memcmp(table, sig, 4) != 0 || load_le32(table + SDT_LENGTH) != len)
		return errmsg(p->err, p->err_len, "%s at 0x%llx changed while read",
			      sig, (unsigned long long)pa);
	if (!acpi_checksum_ok(table, len))
		return errmsg(p->err, p->err_len, "%s at 0x%llx: checksum wrong",
			      sig, (unsigned long long)pa);
	return 0;
}

/* Append v to a bounded array; -1 with a reason when it is full. */
static int add_addr(struct acpi_parser *p, uint64_t *arr, size_t *count,
		    size_t cap, uint64_t v, const char *what)
{
	if (*count == cap)
		return errmsg(p->err, p->err_len, "more than %zu %s", cap, what);
	arr[(*count)++] = v;
	return 0;
}

static int madt_entry(struct acpi_parser *p, const uint8_t *e, uint8_t type,
		      uint8_t elen)
{
	struct acpi_info *o = p->out;
	static const uint8_t min_len[] = {
		[MADT_LAPIC] = 8, [MADT_IOAPIC] = 12,
		[MADT_LAPIC_OVERRIDE] = 12, [MADT_X2APIC] = 16,
	};

	if (type < sizeof(min_len) && elen < min_len[type])
		return errmsg(p->err, p->err_len, "MADT entry of type %u is %u bytes (at least %u)",
			      type, elen, min_len[type]);
	switch (type) {
	case MADT_LAPIC:
		o->cpus += (load_le32(e + 4) & MADT_CPU_ENABLED) != 0;
		return 0;
	case MADT_X2APIC:
		o->cpus += (load_le32(e + 8) & MADT_CPU_ENABLED) != 0;
		return 0;
	case MADT_IOAPIC:
		return add_addr(p, o->ioapic, &o->ioapic_count, ACPI_MAX_IOAPICS,
				load_le32(e + 4), "I/O APICs");
	case MADT_LAPIC_OVERRIDE:
		return add_addr(p, o->lapic, &o->lapic_count, ACPI_MAX_LAPICS,
				load_le64(e + 4), "local APIC addresses");
	default:
		return 0; /* interrupt overrides, NMI sources, ...: not needed */
	}
}

/* ACPI 6.5 5.2.12: the fixed part, then entries of (type, length, ...). */
static int parse_madt(struct acpi_parser *p, uint32_t len)
{
	struct acpi_info *o = p->out;

	if (o->has_madt)
		return errmsg(p->err, p->err_len, "more than one MADT");
	o->has_madt = true;
	if (len < MADT_ENTRIES)
		return errmsg(p->err, p->err_len, "MADT is %u bytes (at least %u)",
			      len, MADT_ENTRIES);
	o->lapic[o->lapic_count++] = load_le32(table + MADT_LAPIC_ADDR);
	for (uint32_t off = MADT_ENTRIES; off < len;) {
		uint8_t type, elen;

		if (len - off < 2)
			return errmsg(p->err, p->err_len, "MADT entry at %u truncated", off);
		type = table[off];
		elen = table[off + 1];
		if (elen < 2 || elen > len - off)
			return errmsg(p->err, p->err_len, "MADT entry at %u: length %u does not fit",
				      off, elen);
		if (madt_entry(p, table + off, type, elen))
			return -1;
		off += elen;
	}
	return 0;
}

static int parse_hpet(struct acpi_parser *p, uint32_t len)
{
	struct acpi_info *o = p->out;

	if (len < HPET_LEN)
		return errmsg(p->err, p->err_len, "HPET is %u bytes (at least %u)",
			      len, HPET_LEN);
	/* A block in I/O space (never seen) is no memory to carve. */
	if (table[HPET_GAS] != GAS_SYSTEM_MEMORY)
		return 0;
	return add_addr(p, o->hpet, &o->hpet_count, ACPI_MAX_HPETS,
			load_le64(table + HPET_GAS + 4), "HPET tables");
}

/* One allocation: segment at +8, start bus at +10, end bus at +11. The base
 * is where bus 0 would be, so the window starts at bus 'start'. */
static int mcfg_entry(struct acpi_parser *p, const uint8_t *e, unsigned idx)
{
	struct acpi_info *o = p->out;
	uint64_t base = load_le64(e);
	uint64_t lo = (uint64_t)e[10] << ECAM_BUS_SHIFT;
	uint64_t hi = ((uint64_t)e[11] + 1) << ECAM_BUS_SHIFT;

	if (e[11] < e[10])
		return errmsg(p->err, p->err_len, "MCFG allocation %u: end bus %u below start bus %u",
			      idx, e[11], e[10]);
	if (base > UINT64_MAX - hi)
		return errmsg(p->err, p->err_len, "MCFG allocation %u: base 0x%llx wraps past 2^64",
			      idx, (unsigned long long)base);
	if (o->ecam_count == ACPI_MAX_ECAMS)
		return errmsg(p->err, p->err_len, "more than %u MCFG allocations",
			      ACPI_MAX_ECAMS);
	o->ecam[o->ecam_count++] = (struct phys_range){ base + lo, hi - lo };
	return 0;
}

static int parse_mcfg(struct acpi_parser *p, uint32_t len)
{
	if (len < MCFG_ENTRIES || (len - MCFG_ENTRIES) % MCFG_ENTRY_LEN)
		return errmsg(p->err, p->err_len, "MCFG is %u bytes (44 plus a multiple of 16)",
			      len);
	for (uint32_t off = MCFG_ENTRIES; off < len; off += MCFG_ENTRY_LEN)
		if (mcfg_entry(p, table + off, (off - MCFG_ENTRIES) / MCFG_ENTRY_LEN))
			return -1;
	return 0;
}

static int parse_tpm2(struct acpi_parser *p, uint32_t len)
{
	struct acpi_info *o = p->out;

	if (o->has_tpm2)
		return errmsg(p->err, p->err_len, "more than one TPM2 table");
	if (len < TPM2_MIN_LEN)
		return errmsg(p->err, p->err_len, "TPM2 is %u bytes (at least %u)",
			      len, TPM2_MIN_LEN);
	o->has_tpm2 = true;
	o->tpm2_control = load_le64(table + TPM2_CONTROL);
	o->tpm2_start_method = load_le32(table + TPM2_START);
	return 0;
}

static const struct {
	const char *sig;
	int (*parse)(struct acpi_parser *p, uint32_t len);
} parsers[] = {
	{ "APIC", parse_madt },
	{ "HPET", parse_hpet },
	{ "MCFG", parse_mcfg },
	{ "TPM2", parse_tpm2 },
};

/* One entry of the root table: its header always, its body if we parse it. */
static int parse_entry(struct acpi_parser *p, uint64_t pa)
{
	char sig[5];
	uint32_t len;

	if (read_header(p, pa, sig, &len))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(parsers); i++) {
		if (memcmp(sig, parsers[i].sig, 4) != 0)
			continue;
		if (read_table(p, pa, parsers[i].sig, len))
			return -1;
		return parsers[i].parse(p, len);
	}
	return 0;
}

/* ACPI 6.5 5.2.7 and 5.2.8: the header, then 32- or 64-bit addresses. */
static int read_root(struct acpi_parser *p, uint64_t entries[ACPI_MAX_TABLES])
{
	struct acpi_info *o = p->out;
	const char *sig = o->xsdt ? "XSDT" : "RSDT";
	size_t esize = o->xsdt ? 8 : 4;
	char found[5];
	uint32_t len;

	if (read_header(p, o->root, found, &len))
		return -1;
	if (memcmp(found, sig, 4) != 0)
		return errmsg(p->err, p->err_len, "%s at 0x%llx has signature \"%s\"",
			      sig, (unsigned long long)o->root, found);
	if (read_table(p, o->root, sig, len))
		return -1;
	if ((len - SDT_HDR_LEN) % esize)
		return errmsg(p->err, p->err_len, "%s is %u bytes, not 36 plus a multiple of %zu",
			      sig, len, esize);
	o->table_count = (len - SDT_HDR_LEN) / esize;
	if (o->table_count > ACPI_MAX_TABLES)
		return errmsg(p->err, p->err_len, "%s lists %zu tables (limit %u)",
			      sig, o->table_count, ACPI_MAX_TABLES);
	for (size_t i = 0; i < o->table_count; i++) {
		const uint8_t *e = table + SDT_HDR_LEN + i * esize;

		entries[i] = o->xsdt ? load_le64(e) : load_le32(e);
	}
	return 0;
}

/* ACPI 6.5 5.2.5.3: revision 2 and later have the XSDT, which wins. */
static int pick_root(struct acpi_parser *p, const uint8_t *rsdp,
		     size_t rsdp_len)
{
	struct acpi_info *o = p->out;

	if (rsdp_len >= RSDP_V2_LEN && rsdp[RSDP_REVISION] >= 2 &&
	    load_le64(rsdp + RSDP_XSDT) != 0) {
		o->xsdt = true;
		o->root = load_le64(rsdp + RSDP_XSDT);
		return 0;
	}
	if (rsdp_len < RSDP_RSDT + 4)
		return errmsg(p->err, p->err_len, "RSDP of %zu bytes has no RSDT address",
			      rsdp_len);
	o->root = load_le32(rsdp + RSDP_RSDT);
	if (o->root == 0)
		return errmsg(p->err, p->err_len, "RSDP names neither an XSDT nor an RSDT");
	return 0;
}

int acpi_parse(const uint8_t *rsdp, size_t rsdp_len, acpi_read_fn read,
	       void *ctx, struct acpi_info *out, char *err, size_t err_len)
{
	struct acpi_parser p = { read, ctx, out, err, err_len };
	static uint64_t entries[ACPI_MAX_TABLES];

	if (err && err_len)
		err[0] = '\0';
	if (!rsdp || !read || !out)
		return errmsg(err, err_len, "no RSDP (NULL pointer)");
	memset(out, 0, sizeof(*out));
	if (pick_root(&p, rsdp, rsdp_len) || read_root(&p, entries))
		return -1;
	for (size_t i = 0; i < out->table_count; i++)
		if (parse_entry(&p, entries[i]))
			return -1;
	return 0;
}
