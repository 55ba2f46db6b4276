/*
 * The UEFI entry's C stage (docs/boot.md, "The UEFI entry").
 *
 * GRUB's x86_64 EFI build honours Multiboot2 header tags 7 and 9: it keeps
 * the firmware's boot services and jumps to efi_entry64 (boot/efi_entry.S)
 * in 64-bit mode, on the firmware's page tables, GDT and IDT. That is the
 * last moment the firmware's TCG2 event log can be read: it lives in boot
 * services memory, which is free RAM once boot services are gone. So this
 * stage, while they live, copies the log, then exits boot services itself,
 * appends what the firmware logged since (ExitBootServices' own events),
 * and rebuilds the Multiboot2 information GRUB would have given without tag
 * 7: GRUB's tags and a memory map (tag 6) from the final EFI memory map.
 * boot_entry32 and everything after it then run as on any other boot.
 *
 * Firmware is called through ms_abi function pointers, with interrupts on,
 * on the boot stack. Nothing here may rely on .bss surviving (boot_entry32
 * zeroes it) or on the hypervisor being set up: no console, no page tables.
 * A failure prints one line on COM1 and powers off, like boot_entry32's.
 */
#include "boot/efi_log.h"
#include "boot/multiboot2.h"
#include "hv/boot_defs.h"
#include "hv/cpu.h"
#include "tcb/byteorder.h"

#include <string.h>

/* ---- UEFI 2.x definitions (only what is called) -------------------------- */

#define EFIAPI __attribute__((ms_abi))
typedef uint64_t efi_status;
#define EFI_SUCCESS           0ull
#define EFI_INVALID_PARAMETER 0x8000000000000002ull

/*
 * The firmware's tables are read at their byte offsets (UEFI 2.x 4.3, 4.4;
 * x86-64: pointers and UINTN are 8 bytes) with tcb/byteorder.h, like every
 * structure Custos did not make; only the four calls are typed.
 */
#define ST_BOOT_SERVICES   96  /* EFI_SYSTEM_TABLE.BootServices */
#define ST_TABLE_COUNT     104 /* .NumberOfTableEntries */
#define ST_TABLES          112 /* .ConfigurationTable */
#define CONFIG_TABLE_SIZE  24  /* EFI_GUID VendorGuid, VOID *VendorTable @16 */
#define BS_GET_MEMORY_MAP  56
#define BS_EXIT_BOOT_SERVICES 232
#define BS_LOCATE_PROTOCOL 320
#define TCG2_GET_EVENT_LOG 8   /* EFI_TCG2_PROTOCOL, after GetCapability */

typedef efi_status (EFIAPI *efi_get_memory_map)(uint64_t *map_size, void *map,
						uint64_t *map_key,
						uint64_t *desc_size,
						uint32_t *desc_version);
typedef efi_status (EFIAPI *efi_exit_boot_services)(uint64_t image,
						    uint64_t map_key);
typedef efi_status (EFIAPI *efi_locate_protocol)(const uint8_t *guid,
						 void *registration,
						 void **iface);
/* TCG EFI Protocol Specification 6.5: the log's location, the START of
 * its last entry, and whether the firmware had to drop events. */
typedef efi_status (EFIAPI *efi_tcg2_get_event_log)(void *self, uint32_t format,
						    uint64_t *location,
						    uint64_t *last_entry,
						    uint8_t *truncated);
#define EFI_TCG2_EVENT_LOG_FORMAT_TCG_2 2u

/* The firmware's own structures, by their identity-mapped address. */
static const uint8_t *fw(uint64_t pa)
{
	return (const uint8_t *)(uintptr_t)pa;
}

static void *fw_fn(const uint8_t *table, size_t off)
{
	return (void *)(uintptr_t)load_le64(table + off);
}

/* GUIDs in memory order. EFI_TCG2_PROTOCOL_GUID 607f766c-7455-42be-930b-e4d76db2720f */
static const uint8_t tcg2_protocol_guid[16] = {
	0x6c, 0x76, 0x7f, 0x60, 0x55, 0x74, 0xbe, 0x42,
	0x93, 0x0b, 0xe4, 0xd7, 0x6d, 0xb2, 0x72, 0x0f };
/* EFI_TCG2_FINAL_EVENTS_TABLE_GUID 1e2ed096-30e2-4254-bd89-863bbef82325 */
static const uint8_t final_events_guid[16] = {
	0x96, 0xd0, 0x2e, 0x1e, 0xe2, 0x30, 0x54, 0x42,
	0xbd, 0x89, 0x86, 0x3b, 0xbe, 0xf8, 0x23, 0x25 };

/* EFI_MEMORY_DESCRIPTOR: Type u32 @0, PhysicalStart @8, NumberOfPages @24. */
#define EFI_DESC_MIN_SIZE 40u
enum {
	EFI_RESERVED_MEMORY, EFI_LOADER_CODE, EFI_LOADER_DATA,
	EFI_BOOT_SERVICES_CODE, EFI_BOOT_SERVICES_DATA,
	EFI_RUNTIME_SERVICES_CODE, EFI_RUNTIME_SERVICES_DATA,
	EFI_CONVENTIONAL_MEMORY, EFI_UNUSABLE_MEMORY,
	EFI_ACPI_RECLAIM_MEMORY, EFI_ACPI_MEMORY_NVS,
	EFI_MEMORY_MAPPED_IO, EFI_MEMORY_MAPPED_IO_PORT_SPACE, EFI_PAL_CODE,
	EFI_PERSISTENT_MEMORY,
};

/* ---- Multiboot2 tags this stage reads or writes (spec 3.6) ---------------- */

#define MB2_TAG_END        0u
#define MB2_TAG_MMAP       6u
#define MB2_TAG_EFI64_ST   12u
#define MB2_TAG_EFI_MMAP   17u
#define MB2_TAG_EFI_BS     18u /* "boot services not terminated" */
#define MB2_TAG_EFI64_IH   20u
#define MB2_MMAP_ENTRY_SIZE 24u

/* ---- What survives into the hypervisor: .data, since .bss is zeroed ------ */

#define HANDOVER __attribute__((section(".data")))
struct efi_boot_log efi_boot_log HANDOVER;
/* GRUB's MBI is a few KiB (its largest tag lists the ELF's sections). */
#define EFI_MBI_MAX (32 * 1024)
static uint8_t new_mbi[EFI_MBI_MAX] HANDOVER __attribute__((aligned(8)));

/* Only this stage uses the EFI map: .bss will do. OVMF's has ~130 entries
 * of 48 bytes; large servers have a few hundred. */
static uint8_t efi_map[32 * 1024] __attribute__((aligned(8)));

uint32_t efi_stage(uint32_t magic, uint64_t grub_mbi);

/* ---- Failure ------------------------------------------------------------- */

static void com1_puts(const char *s)
{
	for (; *s; s++) {
		/* Bounded: a machine without a UART must not hang here. */
		for (int i = 0; i < 100000 && !(inb(COM1_PORT + 5) & 0x20); i++)
			;
		outb(COM1_PORT, (uint8_t)*s);
	}
}

__attribute__((noreturn))
static void efi_fail(const char *why, efi_status status)
{
	com1_puts("\r\ncustos: BOOT FAILED: UEFI entry: ");
	com1_puts(why);
	if (status != EFI_SUCCESS) {
		char hex[19] = "0x";

		for (int i = 0; i < 16; i++)
			hex[2 + i] = "0123456789abcdef"[(status >> (60 - 4 * i)) & 0xf];
		hex[18] = '\0';
		com1_puts(" (status ");
		com1_puts(hex);
		com1_puts(")");
	}
	com1_puts("\r\n");
	outb(DEBUG_EXIT_PORT, EXIT_BOOT_FAILED);
	for (const char *p = "Shutdown"; *p; p++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- GRUB's Multiboot2 information --------------------------------------- */

struct mbi_iter {
	const uint8_t *mbi;
	uint32_t total;
	uint32_t off;
};

static void mbi_iter_init(struct mbi_iter *it, const uint8_t *mbi)
{
	it->mbi = mbi;
	it->total = load_le32(mbi);
	it->off = 8;
	if (it->total < 16 || it->total > MB2_MAX_INFO_SIZE)
		efi_fail("GRUB's boot information has a bad total_size", 0);
}

/* The next tag; false at the end tag. A malformed structure ends the boot:
 * GRUB made it, so something is badly wrong. */
static bool mbi_next(struct mbi_iter *it, uint32_t *type, uint32_t *size,
		     const uint8_t **tag)
{
	if (it->off > it->total || it->total - it->off < 8)
		efi_fail("GRUB's boot information has no end tag", 0);
	*tag = it->mbi + it->off;
	*type = load_le32(*tag);
	*size = load_le32(*tag + 4);
	if (*size < 8 || *size > it->total - it->off)
		efi_fail("a tag overruns GRUB's boot information", 0);
	if (*type == MB2_TAG_END)
		return false;
	it->off += (*size + 7) & ~7u; /* no overflow: size <= 1 MiB */
	return true;
}

/* Tags 12 and 20: the EFI system table and GRUB's image handle. */
static void find_efi_tags(const uint8_t *grub, const uint8_t **st,
			  uint64_t *image)
{
	struct mbi_iter it;
	const uint8_t *tag;
	uint32_t type, size;

	*st = NULL;
	*image = 0;
	mbi_iter_init(&it, grub);
	while (mbi_next(&it, &type, &size, &tag)) {
		if (type == MB2_TAG_EFI64_ST && size >= 16)
			*st = fw(load_le64(tag + 8));
		if (type == MB2_TAG_EFI64_IH && size >= 16)
			*image = load_le64(tag + 8);
	}
	if (!*st || !*image || !load_le64(*st + ST_BOOT_SERVICES))
		efi_fail("no EFI system table or image handle from GRUB", 0);
}

/* ---- The TCG2 event log (TCG PC Client Platform Firmware Profile, 10) ---- */

#define EV_NO_ACTION   3u
#define TCG_MAX_ALGS   8u
#define TCG_MAX_DIGEST 64u
/* How far into firmware memory a wild pointer may make us read. */
#define LOG_READ_MAX   (16u << 20)
/* The final events table has no size; edk2 gives it 32 KiB. */
#define FINAL_READ_MAX (64u * 1024)
#define FINAL_MAX_EVENTS 1024u

/* The digests the log carries, from its Spec ID event. */
struct tcg_algs {
	uint32_t count;
	uint16_t id[TCG_MAX_ALGS];
	uint16_t size[TCG_MAX_ALGS];
};

/*
 * Length of the log's first event, the SHA-1 format Spec ID event
 * (PCRIndex, EventType, Digest[20], EventSize @28, Event @32), learning the
 * digest sizes from it; 0 if it is not one.
 */
static size_t spec_id_len(const uint8_t *p, size_t avail, struct tcg_algs *a)
{
	static const char sig[16] = "Spec ID Event03";
	const uint8_t *e = p + 32;
	uint32_t esz;

	if (avail < 32 || load_le32(p + 4) != EV_NO_ACTION)
		return 0;
	esz = load_le32(p + 28);
	if (esz < 28 || esz > avail - 32 || memcmp(e, sig, sizeof(sig)) != 0)
		return 0;
	/* numberOfAlgorithms @24, then {u16 algId, u16 digestSize} each */
	a->count = load_le32(e + 24);
	if (a->count == 0 || a->count > TCG_MAX_ALGS || 28 + 4 * a->count > esz)
		return 0;
	for (uint32_t i = 0; i < a->count; i++) {
		a->id[i] = load_le16(e + 28 + 4 * i);
		a->size[i] = load_le16(e + 30 + 4 * i);
		if (a->size[i] == 0 || a->size[i] > TCG_MAX_DIGEST)
			return 0;
	}
	return 32 + (size_t)esz;
}

/*
 * Length of the TCG_PCR_EVENT2 at p (PCRIndex, EventType, u32 digest count,
 * {u16 alg, digest}..., u32 EventSize, Event) within avail bytes; 0 if it
 * does not parse or does not fit.
 */
static size_t event2_len(const uint8_t *p, size_t avail, const struct tcg_algs *a)
{
	size_t off = 12;
	uint32_t count, esz;

	if (avail < off)
		return 0;
	count = load_le32(p + 8);
	if (count == 0 || count > a->count)
		return 0;
	for (uint32_t i = 0; i < count; i++) {
		uint16_t alg, dsz = 0;

		if (avail - off < 2)
			return 0;
		alg = load_le16(p + off);
		off += 2;
		for (uint32_t j = 0; j < a->count; j++)
			if (a->id[j] == alg)
				dsz = a->size[j];
		if (dsz == 0 || avail - off < dsz)
			return 0;
		off += dsz;
	}
	if (avail - off < 4)
		return 0;
	esz = load_le32(p + off);
	off += 4;
	if (esz > avail - off)
		return 0;
	return off + esz;
}

/*
 * Copy the log GetEventLog described: it starts at loc, and last is the
 * START of its last event. Only whole events are copied, as many as fit.
 */
static void copy_log(uint64_t loc, uint64_t last, struct tcg_algs *a)
{
	const uint8_t *src = (const uint8_t *)(uintptr_t)loc;
	struct efi_boot_log *l = &efi_boot_log;
	size_t first, end, off, n;

	first = spec_id_len(src, LOG_READ_MAX, a);
	if (first == 0 || first > EFI_LOG_MAX || last < loc ||
	    last - loc > LOG_READ_MAX || (last != loc && last - loc < first)) {
		l->truncated = true; /* nothing usable: no log at all */
		return;
	}
	if (last == loc) {
		end = first; /* only the Spec ID event */
	} else {
		n = event2_len(src + (last - loc), LOG_READ_MAX - (last - loc), a);
		end = n ? (size_t)(last - loc) + n : 0;
	}
	for (off = first; off < end; off += n) {
		n = event2_len(src + off, end - off, a);
		if (n == 0 || n > EFI_LOG_MAX - off)
			break;
	}
	if (off != end)
		l->truncated = true;
	memcpy(l->log, src, off);
	l->len = (uint32_t)off;
}

static const uint8_t *find_config_table(const uint8_t *st,
					const uint8_t guid[16])
{
	const uint8_t *tables = fw(load_le64(st + ST_TABLES));
	uint64_t count = load_le64(st + ST_TABLE_COUNT);

	/* Bounded: a firmware has a few dozen tables. */
	for (uint64_t i = 0; tables && i < count && i < 1024; i++) {
		const uint8_t *t = tables + i * CONFIG_TABLE_SIZE;

		if (memcmp(t, guid, 16) == 0)
			return fw(load_le64(t + 16));
	}
	return NULL;
}

/*
 * While boot services live: the log so far, and how many events the final
 * events table held when it was taken (from then on the firmware writes
 * every new event there too: TCG EFI Protocol Specification 6.6.3). Returns
 * the final events table, or NULL if there is nothing to append to.
 */
static const uint8_t *read_tcg2_log(const uint8_t *st, struct tcg_algs *a,
				    uint64_t *n0)
{
	const uint8_t *bs = fw(load_le64(st + ST_BOOT_SERVICES));
	efi_locate_protocol locate = fw_fn(bs, BS_LOCATE_PROTOCOL);
	efi_tcg2_get_event_log get_event_log;
	void *tcg2 = NULL;
	uint64_t loc = 0, last = 0;
	uint8_t fw_truncated = 0;
	const uint8_t *final;

	if (locate(tcg2_protocol_guid, NULL, &tcg2) != EFI_SUCCESS || !tcg2)
		return NULL;
	efi_boot_log.tcg2 = true;
	get_event_log = fw_fn(tcg2, TCG2_GET_EVENT_LOG);
	if (get_event_log(tcg2, EFI_TCG2_EVENT_LOG_FORMAT_TCG_2, &loc, &last,
			  &fw_truncated) != EFI_SUCCESS || loc == 0)
		return NULL;
	final = find_config_table(st, final_events_guid);
	*n0 = final ? load_le64(final + 8) : 0;
	copy_log(loc, last, a);
	if (fw_truncated)
		efi_boot_log.truncated = true;
	/* Appending to a log with a gap would only hide the gap. */
	return efi_boot_log.truncated || efi_boot_log.len == 0 ? NULL : final;
}

/*
 * After ExitBootServices: append the final events table's events [n0, n1).
 * EFI_TCG2_FINAL_EVENTS_TABLE: u64 Version (1), u64 NumberOfEvents, then
 * packed TCG_PCR_EVENT2s. The table has no length: both the walk and the
 * count are bounded.
 */
static void append_final_events(const uint8_t *final, uint64_t n0,
				 const struct tcg_algs *a)
{
	struct efi_boot_log *l = &efi_boot_log;
	uint64_t n1 = load_le64(final + 8);
	const uint8_t *ev = final + 16;
	size_t off = 0;

	if (load_le64(final) != 1 || n1 < n0 || n1 > FINAL_MAX_EVENTS) {
		l->truncated = true;
		return;
	}
	for (uint64_t i = 0; i < n1; i++) {
		size_t n = event2_len(ev + off, FINAL_READ_MAX - off, a);

		if (n == 0 || (i >= n0 && n > EFI_LOG_MAX - l->len)) {
			l->truncated = true;
			return;
		}
		if (i >= n0) {
			memcpy(l->log + l->len, ev + off, n);
			l->len += (uint32_t)n;
			l->final_events++;
		}
		off += n;
	}
}

/* ---- Leaving boot services ----------------------------------------------- */

/*
 * GetMemoryMap into a static buffer (nothing may allocate between it and
 * ExitBootServices), then ExitBootServices. A stale map key
 * (EFI_INVALID_PARAMETER: the map changed, e.g. an event ran) gets one
 * more try; in between only these two calls are allowed (UEFI 7.4).
 */
static void exit_boot_services(const uint8_t *st, uint64_t image,
			       uint64_t *map_size, uint64_t *desc_size)
{
	const uint8_t *bs = fw(load_le64(st + ST_BOOT_SERVICES));
	efi_get_memory_map get_memory_map = fw_fn(bs, BS_GET_MEMORY_MAP);
	efi_exit_boot_services exit_bs = fw_fn(bs, BS_EXIT_BOOT_SERVICES);
	efi_status s = EFI_SUCCESS;

	for (int attempt = 0; attempt < 2; attempt++) {
		uint64_t key = 0;
		uint32_t version = 0;

		*map_size = sizeof(efi_map);
		s = get_memory_map(map_size, efi_map, &key, desc_size, &version);
		if (s != EFI_SUCCESS)
			efi_fail("GetMemoryMap failed", s);
		if (*map_size > sizeof(efi_map) || *desc_size < EFI_DESC_MIN_SIZE)
			efi_fail("GetMemoryMap returned a malformed map", 0);
		s = exit_bs(image, key);
		if (s != EFI_INVALID_PARAMETER)
			break;
	}
	if (s != EFI_SUCCESS)
		efi_fail("ExitBootServices failed", s);
}

/* ---- The new Multiboot2 information -------------------------------------- */

/* GRUB's own conversion (grub-core/mmap/efi/mmap.c, boot services memory
 * counted as available): what a GRUB-exited boot's tag 6 says. */
static uint32_t mb2_type(uint32_t efi_type)
{
	switch (efi_type) {
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BOOT_SERVICES_CODE:
	case EFI_BOOT_SERVICES_DATA:
	case EFI_CONVENTIONAL_MEMORY:
		return MB2_MEM_AVAILABLE;
	case EFI_ACPI_RECLAIM_MEMORY:
		return MB2_MEM_ACPI_RECLAIMABLE;
	case EFI_ACPI_MEMORY_NVS:
		return MB2_MEM_NVS;
	case EFI_UNUSABLE_MEMORY:
		return MB2_MEM_BADRAM;
	case EFI_PERSISTENT_MEMORY:
		return 7;  /* GRUB_MEMORY_PERSISTENT */
	case EFI_RUNTIME_SERVICES_CODE:
		return 20; /* GRUB_MEMORY_CODE: reserved to us */
	default:
		return MB2_MEM_RESERVED;
	}
}

/*
 * Append tag 6 at new_mbi + pos from the final EFI map; returns the new pos.
 * Neighbouring descriptors of the same Multiboot2 type are merged, as
 * GRUB's map does: OVMF's ~130 descriptors would exceed MB2_MAX_MMAP.
 */
static size_t put_mmap(size_t pos, uint64_t map_size, uint64_t desc_size)
{
	size_t tag = pos, prev = 0;

	if (EFI_MBI_MAX - pos < 16)
		efi_fail("no room for the memory map", 0);
	store_le32(new_mbi + tag, MB2_TAG_MMAP);
	store_le32(new_mbi + tag + 8, MB2_MMAP_ENTRY_SIZE);
	store_le32(new_mbi + tag + 12, 0); /* entry_version */
	pos += 16;
	for (uint64_t off = 0; map_size - off >= desc_size; off += desc_size) {
		const uint8_t *d = efi_map + off;
		uint64_t base = load_le64(d + 8), pages = load_le64(d + 24);
		uint32_t type = mb2_type(load_le32(d));

		if (pages == 0)
			continue;
		if (pages > (UINT64_MAX - base) >> PAGE_SHIFT)
			efi_fail("an EFI memory map entry wraps past 2^64", 0);
		if (prev && load_le32(new_mbi + prev + 16) == type &&
		    load_le64(new_mbi + prev) + load_le64(new_mbi + prev + 8) == base) {
			store_le64(new_mbi + prev + 8, load_le64(new_mbi + prev + 8) +
				   (pages << PAGE_SHIFT));
			continue;
		}
		if (EFI_MBI_MAX - pos < MB2_MMAP_ENTRY_SIZE)
			efi_fail("the memory map does not fit", 0);
		store_le64(new_mbi + pos, base);
		store_le64(new_mbi + pos + 8, pages << PAGE_SHIFT);
		store_le32(new_mbi + pos + 16, type);
		store_le32(new_mbi + pos + 20, 0);
		prev = pos;
		pos += MB2_MMAP_ENTRY_SIZE;
	}
	store_le32(new_mbi + tag + 4, (uint32_t)(pos - tag));
	return pos; /* entries are 24 bytes: still 8-aligned */
}

/*
 * GRUB's tags (bounded by its total_size and our buffer) but those that no
 * longer hold or that ours replace -- 6 and 17 (maps), 18 (boot services
 * not terminated) --, then tag 6 and the end tag.
 */
static uint32_t build_mbi(const uint8_t *grub, uint64_t map_size,
			  uint64_t desc_size)
{
	struct mbi_iter it;
	const uint8_t *tag;
	uint32_t type, size;
	size_t pos = 8;

	mbi_iter_init(&it, grub);
	while (mbi_next(&it, &type, &size, &tag)) {
		if (type == MB2_TAG_MMAP || type == MB2_TAG_EFI_MMAP ||
		    type == MB2_TAG_EFI_BS)
			continue;
		if (EFI_MBI_MAX - pos < ((size_t)size + 7) / 8 * 8)
			efi_fail("GRUB's boot information does not fit", 0);
		memcpy(new_mbi + pos, tag, size);
		pos += ((size_t)size + 7) / 8 * 8; /* padding: .data is zero */
	}
	pos = put_mmap(pos, map_size, desc_size);
	if (EFI_MBI_MAX - pos < 8)
		efi_fail("no room for the end tag", 0);
	store_le32(new_mbi + pos, MB2_TAG_END);
	store_le32(new_mbi + pos + 4, 8);
	pos += 8;
	store_le32(new_mbi, (uint32_t)pos); /* total_size */
	store_le32(new_mbi + 4, 0);
	return (uint32_t)(uintptr_t)new_mbi;
}

/*
 * Called by efi_entry64 with GRUB's EAX and RBX. Returns the new boot
 * information's address, for boot_entry32's EBX.
 */
uint32_t efi_stage(uint32_t magic, uint64_t grub_mbi)
{
	const uint8_t *grub = (const uint8_t *)(uintptr_t)grub_mbi;
	const uint8_t *st, *final;
	struct tcg_algs algs = { 0 };
	uint64_t image, n0 = 0, map_size = 0, desc_size = 0;

	if (magic != MB2_BOOTLOADER_MAGIC)
		efi_fail("not entered by a Multiboot2 loader", 0);
	find_efi_tags(grub, &st, &image);
	efi_boot_log.efi_entry = true;
	final = read_tcg2_log(st, &algs, &n0);
	exit_boot_services(st, image, &map_size, &desc_size);
	/* The firmware's IDT and timer are no more (edk2 masks them already). */
	__asm__ volatile("cli");
	if (final)
		append_final_events(final, n0, &algs);
	return build_mbi(grub, map_size, desc_size);
}
