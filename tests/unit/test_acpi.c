/*
 * Unit tests for the ACPI table parser (boot/acpi.c).
 *
 * Tables are built in a fake physical memory window with a small builder
 * that fills in lengths and checksums, so each test states exactly which
 * byte is wrong. The reader refuses everything outside the window and
 * records what it was asked for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "boot/acpi.h"
#include "tcb/byteorder.h"

#define MEM_BASE 0x10000000ull
#define MEM_SIZE 0x40000u

static uint8_t mem[MEM_SIZE];
static struct acpi_info info;
static char err[256];

/* What the reader saw. */
static unsigned reads;
static size_t largest_read;
static uint64_t mutate_at;  /* on the 2nd read of this address, change it */
static unsigned reads_of_mutated;

static bool fake_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
	(void)ctx;
	reads++;
	if (len > largest_read)
		largest_read = len;
	if (pa < MEM_BASE || pa - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (pa - MEM_BASE))
		return false;
	if (mutate_at && pa == mutate_at && ++reads_of_mutated == 2)
		mem[pa - MEM_BASE + 4] ^= 1; /* its length, between the reads */
	memcpy(buf, mem + (pa - MEM_BASE), len);
	return true;
}

static uint8_t *at(uint64_t pa)
{
	assert_true(pa >= MEM_BASE && pa < MEM_BASE + MEM_SIZE);
	return mem + (pa - MEM_BASE);
}

/* ---- Builder -------------------------------------------------------------- */

static uint64_t cur;      /* the table being written */
static uint32_t cur_len;

static void begin(uint64_t pa, const char *sig)
{
	cur = pa;
	cur_len = 36;
	memset(at(pa), 0, 36);
	memcpy(at(pa), sig, 4);
	at(pa)[8] = 1; /* revision */
	memcpy(at(pa) + 10, "CUSTOS", 6);
}

static void put8(uint8_t v)
{
	*at(cur + cur_len) = v;
	cur_len++;
}

static void put16(uint16_t v)
{
	store_le16(at(cur + cur_len), v);
	cur_len += 2;
}

static void put32(uint32_t v)
{
	store_le32(at(cur + cur_len), v);
	cur_len += 4;
}

static void put64(uint64_t v)
{
	store_le64(at(cur + cur_len), v);
	cur_len += 8;
}

static void fix_checksum(uint64_t pa)
{
	uint32_t len = load_le32(at(pa) + 4);
	uint8_t sum = 0;

	at(pa)[9] = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + at(pa)[i]);
	at(pa)[9] = (uint8_t)(0x100 - sum);
}

static void end(void)
{
	store_le32(at(cur) + 4, cur_len);
	fix_checksum(cur);
}

static uint8_t rsdp[36];

static void make_rsdp(uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
	uint8_t sum = 0;

	memset(rsdp, 0, sizeof(rsdp));
	memcpy(rsdp, "RSD PTR ", 8);
	rsdp[15] = revision;
	store_le32(rsdp + 16, rsdt);
	store_le32(rsdp + 20, 36);
	store_le64(rsdp + 24, xsdt);
	for (int i = 0; i < 20; i++)
		sum = (uint8_t)(sum + rsdp[i]);
	rsdp[8] = (uint8_t)(0x100 - sum);
	sum = 0;
	for (int i = 0; i < 36; i++)
		sum = (uint8_t)(sum + rsdp[i]);
	rsdp[32] = (uint8_t)(0x100 - sum);
}

/* Table addresses in the window. */
#define RSDT   (MEM_BASE + 0x0000)
#define XSDT   (MEM_BASE + 0x1000)
#define MADT   (MEM_BASE + 0x2000)
#define HPET   (MEM_BASE + 0x3000)
#define MCFG   (MEM_BASE + 0x4000)
#define TPM2   (MEM_BASE + 0x5000)
#define FACP   (MEM_BASE + 0x6000)
#define MADT2  (MEM_BASE + 0x7000)
#define SPARE  (MEM_BASE + 0x8000)

static void madt_begin(uint64_t pa, uint32_t lapic)
{
	begin(pa, "APIC");
	put32(lapic);
	put32(1); /* PC-AT compatible */
}

static void madt_lapic(uint8_t id, uint32_t flags)
{
	put8(0); put8(8); put8(id); put8(id); put32(flags);
}

static void madt_ioapic(uint8_t id, uint32_t addr)
{
	put8(1); put8(12); put8(id); put8(0); put32(addr); put32(0);
}

static void hpet_table(uint64_t pa, uint8_t space, uint64_t addr)
{
	begin(pa, "HPET");
	put32(0x8086a201); /* event timer block id */
	put8(space); put8(64); put8(0); put8(0); put64(addr);
	put8(0); put16(0x80); put8(0);
	end();
}

static void mcfg_begin(uint64_t pa)
{
	begin(pa, "MCFG");
	put64(0);
}

static void mcfg_alloc(uint64_t base, uint16_t seg, uint8_t lo, uint8_t hi)
{
	put64(base); put16(seg); put8(lo); put8(hi); put32(0);
}

static void tpm2_table(uint64_t pa, uint64_t control, uint32_t method)
{
	begin(pa, "TPM2");
	put16(0); put16(0); put64(control); put32(method);
	for (int i = 0; i < 12; i++)
		put8(0);
	end();
}

/* RSDT (or XSDT) listing 'n' tables. */
static void root(uint64_t pa, bool xsdt, const uint64_t *tables, size_t n)
{
	begin(pa, xsdt ? "XSDT" : "RSDT");
	for (size_t i = 0; i < n; i++) {
		if (xsdt)
			put64(tables[i]);
		else
			put32((uint32_t)tables[i]);
	}
	end();
}

/* A machine like Bochs' plus the tables Bochs lacks, reached by an RSDT. */
static void build_standard(void)
{
	static const uint64_t tables[] = { FACP, MADT, HPET, MCFG, TPM2 };

	memset(mem, 0, sizeof(mem));
	begin(FACP, "FACP");
	for (int i = 0; i < 80; i++)
		put8(0);
	end();
	madt_begin(MADT, 0xfee00000);
	madt_lapic(0, 1);
	madt_lapic(1, 1);
	madt_lapic(2, 2); /* online capable, not enabled */
	madt_ioapic(2, 0xfec00000);
	put8(2); put8(10); put8(0); put8(0); put32(2); put16(0); /* an override */
	madt_ioapic(3, 0xfec01000);
	end();
	hpet_table(HPET, 0, 0xfed00000);
	mcfg_begin(MCFG);
	mcfg_alloc(0xb0000000, 0, 0, 255);
	mcfg_alloc(0xe0000000, 1, 16, 31);
	end();
	tpm2_table(TPM2, 0xfed40040, 7);
	root(RSDT, false, tables, ARRAY_SIZE(tables));
	make_rsdp(0, (uint32_t)RSDT, 0);
}

static int parse(void)
{
	reads = 0;
	largest_read = 0;
	return acpi_parse(rsdp, sizeof(rsdp), fake_read, NULL, &info, err,
			  sizeof(err));
}

#define assert_err_has(needle)                                            \
	do {                                                              \
		if (!strstr(err, (needle)))                               \
			fail_msg("error \"%s\" lacks \"%s\"", err, (needle)); \
	} while (0)

#define assert_refused(needle)                                            \
	do {                                                              \
		assert_int_equal(parse(), -1);                            \
		assert_err_has(needle);                                   \
	} while (0)

/* ---- What a good set of tables gives ------------------------------------- */

static void test_standard_tables(void **state)
{
	(void)state;
	build_standard();
	strcpy(err, "stale");
	assert_int_equal(parse(), 0);
	assert_string_equal(err, "");
	assert_false(info.xsdt);
	assert_int_equal(info.root, RSDT);
	assert_int_equal(info.table_count, 5);
	assert_true(info.has_madt);
	assert_int_equal(info.cpus, 2);
	assert_int_equal(info.lapic_count, 1);
	assert_int_equal(info.lapic[0], 0xfee00000);
	assert_int_equal(info.ioapic_count, 2);
	assert_int_equal(info.ioapic[0], 0xfec00000);
	assert_int_equal(info.ioapic[1], 0xfec01000);
	assert_int_equal(info.hpet_count, 1);
	assert_int_equal(info.hpet[0], 0xfed00000);
	assert_int_equal(info.ecam_count, 2);
	assert_int_equal(info.ecam[0].base, 0xb0000000);
	assert_int_equal(info.ecam[0].len, 256ull << 20);
	/* The base is bus 0's: the window starts at the start bus. */
	assert_int_equal(info.ecam[1].base, 0xe0000000 + (16ull << 20));
	assert_int_equal(info.ecam[1].len, 16ull << 20);
	assert_true(info.has_tpm2);
	assert_int_equal(info.tpm2_control, 0xfed40040);
	assert_int_equal(info.tpm2_start_method, 7);
	/* Headers of all five, bodies of four, and the RSDT twice. */
	assert_int_equal(reads, 2 + 5 + 4);
}

static void test_no_optional_tables(void **state)
{
	static const uint64_t tables[] = { FACP };

	(void)state;
	build_standard();
	root(RSDT, false, tables, 1);
	assert_int_equal(parse(), 0);
	assert_false(info.has_madt);
	assert_int_equal(info.cpus, 0);
	assert_int_equal(info.lapic_count + info.ioapic_count + info.hpet_count +
			 info.ecam_count, 0);
	assert_false(info.has_tpm2);

	root(RSDT, false, tables, 0); /* an empty RSDT is still well formed */
	assert_int_equal(parse(), 0);
	assert_int_equal(info.table_count, 0);
}

static void test_xsdt_preferred_from_revision_2(void **state)
{
	static const uint64_t one[] = { MADT };
	static const uint64_t two[] = { MADT2 };

	(void)state;
	build_standard();
	madt_begin(MADT2, 0xfee00000);
	madt_lapic(0, 1);
	madt_lapic(1, 1);
	madt_lapic(2, 1);
	end();
	root(RSDT, false, one, 1);
	root(XSDT, true, two, 1);

	make_rsdp(2, (uint32_t)RSDT, XSDT);
	assert_int_equal(parse(), 0);
	assert_true(info.xsdt);
	assert_int_equal(info.root, XSDT);
	assert_int_equal(info.cpus, 3);

	make_rsdp(0, (uint32_t)RSDT, XSDT); /* ACPI 1.0: no XSDT field */
	assert_int_equal(parse(), 0);
	assert_false(info.xsdt);
	assert_int_equal(info.cpus, 2);

	make_rsdp(2, (uint32_t)RSDT, 0);    /* no XSDT after all */
	assert_int_equal(parse(), 0);
	assert_false(info.xsdt);

	/* A v1-sized copy (tag 14) has no XSDT field at all. */
	make_rsdp(2, (uint32_t)RSDT, XSDT);
	assert_int_equal(acpi_parse(rsdp, 20, fake_read, NULL, &info, err,
				    sizeof(err)), 0);
	assert_false(info.xsdt);
}

static void test_madt_x2apic_and_override(void **state)
{
	static const uint64_t tables[] = { MADT };

	(void)state;
	build_standard();
	madt_begin(MADT, 0xfee00000);
	madt_lapic(0, 1);
	put8(9); put8(16); put16(0); put32(300); put32(1); put32(300);  /* enabled */
	put8(9); put8(16); put16(0); put32(301); put32(0); put32(301);  /* not */
	put8(5); put8(12); put16(0); put64(0x1fee00000ull);             /* override */
	put8(0x7f); put8(3); put8(0);                                   /* unknown type */
	end();
	root(RSDT, false, tables, 1);
	assert_int_equal(parse(), 0);
	assert_int_equal(info.cpus, 2);
	assert_int_equal(info.lapic_count, 2);
	assert_int_equal(info.lapic[1], 0x1fee00000ull);

	/* A second override is one address too many. */
	madt_begin(MADT, 0xfee00000);
	put8(5); put8(12); put16(0); put64(0xfee10000);
	put8(5); put8(12); put16(0); put64(0xfee20000);
	end();
	assert_refused("more than 2 local APIC addresses");
}

static void test_hpet_in_io_space_is_no_mmio(void **state)
{
	(void)state;
	build_standard();
	hpet_table(HPET, 1, 0x400);
	assert_int_equal(parse(), 0);
	assert_int_equal(info.hpet_count, 0);
}

/* ---- Refusals ------------------------------------------------------------ */

static void test_checksums(void **state)
{
	static const struct { uint64_t pa; const char *name; } t[] = {
		{ RSDT, "RSDT" }, { MADT, "APIC" }, { HPET, "HPET" },
		{ MCFG, "MCFG" }, { TPM2, "TPM2" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		build_standard();
		at(t[i].pa)[20] ^= 0x40;
		assert_refused(t[i].name);
		assert_err_has("checksum wrong");
	}
	/* Tables we only look at the signature of are not checked. */
	build_standard();
	at(FACP)[40] ^= 0x40;
	assert_int_equal(parse(), 0);
}

static void test_table_lengths(void **state)
{
	(void)state;
	build_standard();
	store_le32(at(HPET) + 4, 35);
	fix_checksum(HPET); /* sums over 35 bytes */
	assert_refused("HPET at 0x10003000 is 35 bytes (must be 36..65536)");

	build_standard();
	store_le32(at(MADT) + 4, ACPI_MAX_TABLE_LEN + 1);
	assert_refused("APIC at 0x10002000 is 65537 bytes");

	build_standard();
	store_le32(at(RSDT) + 4, 36 + 4 * 5 + 2);
	fix_checksum(RSDT);
	assert_refused("RSDT is 58 bytes, not 36 plus a multiple of 4");

	build_standard();
	begin(MADT, "APIC");
	put32(0xfee00000);
	end(); /* 40 bytes: no flags */
	assert_refused("MADT is 40 bytes (at least 44)");

	build_standard();
	begin(HPET, "HPET");
	put32(0);
	end();
	assert_refused("HPET is 40 bytes (at least 56)");

	build_standard();
	mcfg_begin(MCFG);
	mcfg_alloc(0xb0000000, 0, 0, 255);
	put32(0);
	end();
	assert_refused("MCFG is 64 bytes (44 plus a multiple of 16)");

	build_standard();
	begin(TPM2, "TPM2");
	put32(0);
	put64(0xfed40000);
	end();
	assert_refused("TPM2 is 48 bytes (at least 52)");
}

static void test_madt_entries(void **state)
{
	(void)state;
	build_standard();
	madt_begin(MADT, 0xfee00000);
	madt_lapic(0, 1);
	put8(0); put8(0);                 /* length 0 would never advance */
	end();
	assert_refused("MADT entry at 52: length 0 does not fit");

	build_standard();
	madt_begin(MADT, 0xfee00000);
	put8(1); put8(12); put8(0); put8(0); put32(0xfec00000);  /* cut short */
	end();
	assert_refused("MADT entry at 44: length 12 does not fit");

	build_standard();
	madt_begin(MADT, 0xfee00000);
	put8(1);                          /* half an entry header */
	end();
	assert_refused("MADT entry at 44 truncated");

	build_standard();
	madt_begin(MADT, 0xfee00000);
	put8(1); put8(8); put8(0); put8(0); put32(0xfec00000);   /* I/O APIC of 8 */
	end();
	assert_refused("MADT entry of type 1 is 8 bytes (at least 12)");

	build_standard();
	madt_begin(MADT, 0xfee00000);
	put8(0); put8(4); put16(0);       /* local APIC without flags */
	end();
	assert_refused("MADT entry of type 0 is 4 bytes (at least 8)");

	build_standard();
	madt_begin(MADT, 0xfee00000);
	put8(9); put8(12); put16(0); put32(1); put32(1);
	end();
	assert_refused("MADT entry of type 9 is 12 bytes (at least 16)");
}

static void test_mcfg_allocations(void **state)
{
	(void)state;
	build_standard();
	mcfg_begin(MCFG);
	mcfg_alloc(0xb0000000, 0, 9, 8);
	end();
	assert_refused("MCFG allocation 0: end bus 8 below start bus 9");

	build_standard();
	mcfg_begin(MCFG);
	mcfg_alloc(0xb0000000, 0, 0, 0);
	mcfg_alloc(UINT64_MAX - 0xfffff, 0, 0, 0);
	end();
	assert_refused("MCFG allocation 1: base 0xfffffffffff00000 wraps past 2^64");
}

static void test_unreadable_tables(void **state)
{
	static const uint64_t outside[] = { MADT, 0xfee00000 };

	(void)state;
	build_standard();
	make_rsdp(0, 0x1000, 0);
	assert_refused("table header at 0x1000 is not in firmware memory");

	build_standard();
	root(RSDT, false, outside, 2);
	assert_refused("table header at 0xfee00000 is not in firmware memory");

	/* A header inside, a body running out of the window. */
	build_standard();
	begin(MEM_BASE + MEM_SIZE - 36, "APIC");
	end();
	store_le32(at(MEM_BASE + MEM_SIZE - 36) + 4, 100);
	{
		static const uint64_t edge[] = { MEM_BASE + MEM_SIZE - 36 };

		root(RSDT, false, edge, 1);
	}
	assert_refused("APIC at 0x1003ffdc (100 bytes) is not in firmware memory");

	build_standard();
	make_rsdp(0, 0, 0);
	assert_refused("RSDP names neither an XSDT nor an RSDT");

	build_standard();
	assert_int_equal(acpi_parse(rsdp, 16, fake_read, NULL, &info, err,
				    sizeof(err)), -1);
	assert_err_has("RSDP of 16 bytes has no RSDT address");
}

static void test_root_signature(void **state)
{
	(void)state;
	build_standard();
	make_rsdp(0, (uint32_t)MADT, 0);
	assert_refused("RSDT at 0x10002000 has signature \"APIC\"");

	build_standard();
	make_rsdp(2, (uint32_t)RSDT, RSDT); /* the XSDT pointer names an RSDT */
	assert_refused("XSDT at 0x10000000 has signature \"RSDT\"");
}

static void test_limits(void **state)
{
	static uint64_t many[ACPI_MAX_TABLES + 1];

	(void)state;
	build_standard();
	madt_begin(MADT, 0xfee00000);
	for (unsigned i = 0; i <= ACPI_MAX_IOAPICS; i++)
		madt_ioapic((uint8_t)i, 0xfec00000 + i * 0x1000);
	end();
	assert_refused("more than 64 I/O APICs");

	build_standard();
	mcfg_begin(MCFG);
	for (unsigned i = 0; i <= ACPI_MAX_ECAMS; i++)
		mcfg_alloc(0x80000000ull + (i << 28), (uint16_t)i, 0, 255);
	end();
	assert_refused("more than 16 MCFG allocations");

	build_standard();
	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = FACP;
	root(RSDT, false, many, ARRAY_SIZE(many));
	assert_refused("RSDT lists 257 tables (limit 256)");

	build_standard();
	for (unsigned i = 0; i <= ACPI_MAX_HPETS; i++)
		many[i] = HPET;
	root(RSDT, false, many, ACPI_MAX_HPETS + 1);
	assert_refused("more than 8 HPET tables");
}

static void test_duplicates(void **state)
{
	static const uint64_t two_madts[] = { MADT, MADT };
	static const uint64_t two_tpm2[] = { TPM2, TPM2 };

	(void)state;
	build_standard();
	root(RSDT, false, two_madts, 2);
	assert_refused("more than one MADT");

	build_standard();
	root(RSDT, false, two_tpm2, 2);
	assert_refused("more than one TPM2 table");
}

static void test_table_changed_between_reads(void **state)
{
	(void)state;
	build_standard();
	mutate_at = MADT;
	reads_of_mutated = 0;
	assert_refused("APIC at 0x10002000 changed while read");
	mutate_at = 0;
}

static void test_reads_are_bounded(void **state)
{
	(void)state;
	build_standard();
	assert_int_equal(parse(), 0);
	/* The largest table read here is the MADT (86 bytes). */
	assert_int_equal(largest_read, load_le32(at(MADT) + 4));

	/* A header claiming a huge length is refused before any body read. */
	build_standard();
	store_le32(at(MCFG) + 4, 0xffffffffu);
	assert_refused("MCFG");
	assert_true(largest_read <= load_le32(at(MADT) + 4));
}

static void test_bad_arguments(void **state)
{
	(void)state;
	build_standard();
	assert_int_equal(acpi_parse(NULL, 36, fake_read, NULL, &info, err,
				    sizeof(err)), -1);
	assert_int_equal(acpi_parse(rsdp, 36, NULL, NULL, &info, err,
				    sizeof(err)), -1);
	assert_int_equal(acpi_parse(rsdp, 36, fake_read, NULL, NULL, err,
				    sizeof(err)), -1);
	assert_int_equal(acpi_parse(rsdp, 36, fake_read, NULL, &info, NULL, 0), 0);
	/* A short error buffer still gets a terminated message. */
	make_rsdp(0, 0, 0);
	memset(err, 'x', sizeof(err));
	assert_int_equal(acpi_parse(rsdp, 36, fake_read, NULL, &info, err, 8), -1);
	assert_int_equal(strlen(err), 7);
}

static void test_checksum_helper(void **state)
{
	const uint8_t ok[] = { 1, 2, 0xfd };
	const uint8_t bad[] = { 1, 2, 0xfc };

	(void)state;
	assert_true(acpi_checksum_ok(ok, sizeof(ok)));
	assert_false(acpi_checksum_ok(bad, sizeof(bad)));
	assert_true(acpi_checksum_ok(bad, 0));
}

/* Single-byte corruption of the standard tables: never a crash, and when
 * the result is accepted, it stays within its limits. */
static void test_every_byte_flipped(void **state)
{
	(void)state;
	for (uint64_t pa = MEM_BASE; pa < SPARE; pa++) {
		build_standard();
		*at(pa) ^= 0xa5;
		if (parse() == 0) {
			assert_true(info.table_count <= ACPI_MAX_TABLES);
			assert_true(info.ioapic_count <= ACPI_MAX_IOAPICS);
			assert_true(info.lapic_count <= ACPI_MAX_LAPICS);
		} else {
			assert_true(err[0] != '\0');
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standard_tables),
		cmocka_unit_test(test_no_optional_tables),
		cmocka_unit_test(test_xsdt_preferred_from_revision_2),
		cmocka_unit_test(test_madt_x2apic_and_override),
		cmocka_unit_test(test_hpet_in_io_space_is_no_mmio),
		cmocka_unit_test(test_checksums),
		cmocka_unit_test(test_table_lengths),
		cmocka_unit_test(test_madt_entries),
		cmocka_unit_test(test_mcfg_allocations),
		cmocka_unit_test(test_unreadable_tables),
		cmocka_unit_test(test_root_signature),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_table_changed_between_reads),
		cmocka_unit_test(test_reads_are_bounded),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_checksum_helper),
		cmocka_unit_test(test_every_byte_flipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
