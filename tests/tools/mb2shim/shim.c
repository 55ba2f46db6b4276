/*
 * mb2shim: what a boot loader in the adversary's hands can do, for
 * tests/integration/test_boot.py only. GRUB cannot be made to lie, so GRUB
 * loads this shim as the kernel and custos.elf as its module "custos"; the
 * shim then
 *   - starts the other CPU in its own code (a counting loop at AP_CODE),
 *   - copies custos.elf's PT_LOAD segments to their physical addresses,
 *   - builds a Multiboot2 information of its own: GRUB's memory map plus an
 *     "available" range over the I/O APIC, HPET, TPM and local APIC; GRUB's
 *     other modules plus modules below 1 MiB, in the legacy VGA hole, over
 *     the hypervisor image and over the local APIC; GRUB's RSDP;
 *   - and enters custos.elf in 32-bit protected mode with EAX = the
 *     Multiboot2 magic and EBX = that information (Multiboot2 1.6, 3.3).
 * Its own command line may add one more trick: "apic=x2apic" leaves the
 * boot CPU's local APIC in x2APIC mode, "apic=moved" moves its MMIO page
 * into RAM (IA32_APIC_BASE), both after the other CPU was started.
 * Each step is told on COM1 as "mb2shim: ..."; any surprise ends the run
 * there (Bochs shutdown port).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COM1             0x3f8
#define BOCHS_SHUTDOWN   0x8900
#define MB2_LOADER_MAGIC 0x36d76289u

/* What custos.elf may occupy (shim.ld keeps GRUB out of it). */
#define CUSTOS_AREA      0x100000u
#define CUSTOS_AREA_END  0x1100000u

/* The hostile other CPU: real-mode code, and where it says it runs. */
#define AP_CODE          0x8000u
#define AP_ALIVE         0x7ff0u
#define AP_COUNTER       0x7ff4u
#define AP_ALIVE_MAGIC   0x4150u

#define LAPIC_ICR_LOW    0x300u
#define LAPIC_ICR_HIGH   0x310u
#define ICR_INIT_OTHERS  0x000c4500u
#define ICR_SIPI_OTHERS  0x000c4600u

/* Modules the shim adds (names as custos will refuse or move them). */
#define LOW_MODULE       0x90000u  /* usable RAM below 1 MiB */
#define VGA_MODULE       0xb8000u  /* the legacy VGA hole */
#define IMAGE_MODULE     0x101000u /* inside custos.elf's image */
#define APIC_MODULE      0xfee00000u
/* The "RAM" the map adds: I/O APIC, HPET, TPM and local APIC in it. */
#define FAKE_RAM         0xfec00000u
#define FAKE_RAM_END     0xfee01000u

/* IA32_APIC_BASE (SDM Vol. 3A 11.4.4): x2APIC enable, and where the shim
 * moves the MMIO page with "apic=moved" (RAM in every test machine). */
#define MSR_APIC_BASE    0x1bu
#define APIC_BASE_X2APIC (1u << 10)
#define MOVED_APIC       0x3000000u

#define MAX_MMAP         64
#define MAX_MODULES      12

void shim_main(uint32_t magic, uint32_t info);
__attribute__((noreturn)) void shim_jump(uint32_t entry, uint32_t info);
extern const uint8_t ap_code[], ap_code_end[];

/* ---- Output --------------------------------------------------------------- */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* 8N1 at 115200 baud, FIFOs on: GRUB's serial state is not ours to assume
 * (word length 5 at reset would cut every byte). */
static void serial_init(void)
{
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x80);
	outb(COM1 + 0, 0x01);
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);
	outb(COM1 + 2, 0xc7);
	outb(COM1 + 4, 0x03);
}

static void putc(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void puthex(uint32_t v)
{
	puts("0x");
	for (int i = 28; i >= 0; i -= 4)
		putc("0123456789abcdef"[(v >> i) & 0xf]);
}

static void say(const char *s)
{
	puts("mb2shim: ");
	puts(s);
}

__attribute__((noreturn)) static void fail(const char *why)
{
	say("FAILED: ");
	puts(why);
	puts("\r\n");
	for (const char *c = "Shutdown"; *c; c++)
		outb(BOCHS_SHUTDOWN, (uint8_t)*c);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- Small helpers (no libc here) ------------------------------------------- */

void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);

void *memcpy(void *d, const void *s, size_t n)
{
	return memmove(d, s, n);
}

void *memmove(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;

	if (dp < sp)
		for (size_t i = 0; i < n; i++)
			dp[i] = sp[i];
	else
		for (size_t i = n; i > 0; i--)
			dp[i - 1] = sp[i - 1];
	return d;
}

void *memset(void *d, int c, size_t n)
{
	uint8_t *dp = d;

	for (size_t i = 0; i < n; i++)
		dp[i] = (uint8_t)c;
	return d;
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (uint64_t)hi << 32;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)));
}

static uint32_t rd32(uint32_t addr)
{
	return *(const volatile uint32_t *)addr;
}

static uint64_t rd64(uint32_t addr)
{
	return rd32(addr) | (uint64_t)rd32(addr + 4) << 32;
}

static void wr32(uint32_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static size_t slen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* ---- GRUB's boot information -------------------------------------------------- */

struct mmap_entry {
	uint64_t base, len;
	uint32_t type, zero;
};

struct module {
	uint32_t start, end;
	const char *cmdline;
};

static struct mmap_entry mmap[MAX_MMAP];
static unsigned mmap_count;
static struct module modules[MAX_MODULES];
static unsigned module_count;
static uint32_t rsdp_tag[2];    /* tags 14 and 15: their addresses, if any */
static const char *own_cmdline = "";
static const struct module *custos;

static void read_mmap(uint32_t tag, uint32_t size)
{
	uint32_t esize = rd32(tag + 8);

	for (uint32_t off = 16; off + esize <= size && mmap_count < MAX_MMAP; off += esize) {
		mmap[mmap_count].base = rd64(tag + off);
		mmap[mmap_count].len = rd64(tag + off + 8);
		mmap[mmap_count].type = rd32(tag + off + 16);
		mmap_count++;
	}
}

/* Does 'cmdline' start with the word 'name'? */
static const char *after_word(const char *cmdline, const char *name)
{
	size_t n = slen(name);

	for (size_t i = 0; i < n; i++)
		if (cmdline[i] != name[i])
			return NULL;
	if (cmdline[n] == '\0')
		return cmdline + n;
	return cmdline[n] == ' ' ? cmdline + n + 1 : NULL;
}

static void read_info(uint32_t info)
{
	uint32_t total = rd32(info);

	for (uint32_t off = 8; off + 8 <= total;) {
		uint32_t tag = info + off, type = rd32(tag), size = rd32(tag + 4);

		if (type == 0)
			break;
		if (type == 6)
			read_mmap(tag, size);
		if (type == 3 && module_count < MAX_MODULES)
			modules[module_count++] = (struct module){
				rd32(tag + 8), rd32(tag + 12), (const char *)(tag + 16) };
		if (type == 14 || type == 15)
			rsdp_tag[type - 14] = tag;
		if (type == 1)
			own_cmdline = (const char *)(tag + 8);
		off += (size + 7) & ~7u;
	}
	for (unsigned i = 0; i < module_count; i++)
		if (after_word(modules[i].cmdline, "custos"))
			custos = &modules[i];
	if (!custos)
		fail("no module named \"custos\"");
}

/* ---- Loading custos.elf ------------------------------------------------------- */

/* ELF64 (System V gABI): e_entry at 24, e_phoff at 32, e_phentsize at 54,
 * e_phnum at 56; program header: p_type 0, p_offset 8, p_paddr 24,
 * p_filesz 32, p_memsz 40. */
static uint32_t load_custos(void)
{
	uint32_t elf = custos->start, size = custos->end - custos->start;
	uint32_t phoff = (uint32_t)rd64(elf + 32);
	uint16_t phentsize = *(const uint16_t *)(elf + 54);
	uint16_t phnum = *(const uint16_t *)(elf + 56);
	uint64_t entry = rd64(elf + 24);

	if (size < 64 || rd32(elf) != 0x464c457fu || *(const uint8_t *)(elf + 4) != 2)
		fail("module \"custos\" is not an ELF64 file");
	if (elf < CUSTOS_AREA_END && custos->end > CUSTOS_AREA)
		fail("GRUB put custos.elf where its segments go");
	for (uint32_t i = 0; i < phnum; i++) {
		uint32_t ph = elf + phoff + i * phentsize;
		uint64_t paddr = rd64(ph + 24), filesz = rd64(ph + 32), memsz = rd64(ph + 40);

		if (rd32(ph) != 1) /* PT_LOAD */
			continue;
		if (paddr < CUSTOS_AREA || paddr + memsz > CUSTOS_AREA_END ||
		    filesz > memsz || rd64(ph + 8) + filesz > size)
			fail("a PT_LOAD segment of custos.elf does not fit");
		memcpy((void *)(uint32_t)paddr, (const void *)(elf + (uint32_t)rd64(ph + 8)),
		       (size_t)filesz);
		memset((void *)(uint32_t)(paddr + filesz), 0, (size_t)(memsz - filesz));
	}
	if (entry >= CUSTOS_AREA_END)
		fail("custos.elf's entry is not in its image");
	return (uint32_t)entry;
}

/* ---- The crafted boot information ---------------------------------------------- */

static uint8_t out[16384] __attribute__((aligned(8)));
static uint32_t out_len;

static uint8_t *tag_begin(uint32_t type)
{
	uint8_t *t = out + out_len;

	wr32((uint32_t)t, type);
	out_len += 8;
	return t;
}

static void put(const void *p, uint32_t n)
{
	if (out_len + n + 8 > sizeof(out))
		fail("crafted information too large");
	memcpy(out + out_len, p, n);
	out_len += n;
}

static void tag_end(uint8_t *t)
{
	wr32((uint32_t)t + 4, (uint32_t)(out + out_len - t));
	out_len = (out_len + 7) & ~7u;
}

static void put_module(uint32_t start, uint32_t end, const char *cmdline)
{
	uint8_t *t = tag_begin(3);

	put(&start, 4);
	put(&end, 4);
	put(cmdline, slen(cmdline) + 1);
	tag_end(t);
}

static void put_mmap(void)
{
	static const struct mmap_entry fake = { FAKE_RAM, FAKE_RAM_END - FAKE_RAM, 1, 0 };
	uint32_t hdr[2] = { sizeof(struct mmap_entry), 0 };
	uint8_t *t = tag_begin(6);

	put(hdr, sizeof(hdr));
	put(mmap, mmap_count * sizeof(mmap[0]));
	put(&fake, sizeof(fake));
	tag_end(t);
}

static void put_rsdp(uint32_t src)
{
	uint8_t *t;

	if (!src)
		return;
	t = tag_begin(rd32(src));
	put((const void *)(src + 8), rd32(src + 4) - 8);
	tag_end(t);
}

static uint32_t build_info(void)
{
	uint8_t *t;

	out_len = 8;
	t = tag_begin(1);
	put(after_word(custos->cmdline, "custos"),
	    slen(after_word(custos->cmdline, "custos")) + 1);
	tag_end(t);
	put_mmap();
	for (unsigned i = 0; i < module_count; i++)
		if (&modules[i] != custos)
			put_module(modules[i].start, modules[i].end, modules[i].cmdline);
	/* Below 1 MiB, with bytes in it (no guest image: never runs). */
	memset((void *)LOW_MODULE, 0xcc, 0x1000);
	put_module(LOW_MODULE, LOW_MODULE + 0x1000, "vm.low");
	put_module(VGA_MODULE, VGA_MODULE + 0x1000, "vm.vga");
	put_module(IMAGE_MODULE, IMAGE_MODULE + 0x1000, "vm.overlap");
	put_module(APIC_MODULE, APIC_MODULE + 0x1000, "vm.apic");
	put_rsdp(rsdp_tag[0]);
	put_rsdp(rsdp_tag[1]);
	tag_end(tag_begin(0));
	wr32((uint32_t)out, out_len);
	wr32((uint32_t)out + 4, 0);
	return (uint32_t)out;
}

/* ---- The other CPU ------------------------------------------------------------- */

static void icr(uint32_t lapic, uint32_t low)
{
	wr32(lapic + LAPIC_ICR_HIGH, 0);
	wr32(lapic + LAPIC_ICR_LOW, low);
	for (unsigned n = 0; rd32(lapic + LAPIC_ICR_LOW) & (1u << 12); n++)
		if (n == 10000000)
			fail("the local APIC does not send");
}

/* INIT, then a start-up IPI to AP_CODE (SDM Vol. 3A 9.4.4.1); the shim
 * does not wait the SDM's 10 ms: Bochs needs none. */
static void start_other_cpu(void)
{
	uint32_t lapic = (uint32_t)rdmsr(MSR_APIC_BASE) & 0xfffff000u, seen;

	memcpy((void *)AP_CODE, ap_code, (size_t)(ap_code_end - ap_code));
	wr32(AP_ALIVE, 0);
	wr32(AP_COUNTER, 0);
	icr(lapic, ICR_INIT_OTHERS);
	icr(lapic, ICR_SIPI_OTHERS | (AP_CODE >> 12));
	for (unsigned n = 0; rd32(AP_ALIVE) != AP_ALIVE_MAGIC; n++)
		if (n == 100000000)
			fail("the other CPU did not start");
	seen = rd32(AP_COUNTER);
	for (unsigned n = 0; rd32(AP_COUNTER) == seen; n++)
		if (n == 100000000)
			fail("the other CPU does not run");
	say("the other CPU runs the shim's code at ");
	puthex(AP_CODE);
	puts(" (counting at ");
	puthex(AP_COUNTER);
	puts(")\r\n");
}

static bool has_word(const char *line, const char *word)
{
	for (const char *p = line; *p; p++)
		if ((p == line || p[-1] == ' ') && after_word(p, word))
			return true;
	return false;
}

/* The local APIC as the shim's command line asks. */
static void twist_apic(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (has_word(own_cmdline, "apic=x2apic")) {
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_X2APIC);
		say("local APIC left in x2APIC mode\r\n");
	} else if (has_word(own_cmdline, "apic=moved")) {
		wrmsr(MSR_APIC_BASE, (base & 0xfffu) | MOVED_APIC);
		say("local APIC moved to ");
		puthex(MOVED_APIC);
		puts("\r\n");
	}
}

void shim_main(uint32_t magic, uint32_t info)
{
	uint32_t entry, crafted;

	serial_init();
	say("hostile boot loader (a test tool): started by GRUB\r\n");
	if (magic != MB2_LOADER_MAGIC)
		fail("not started by a Multiboot2 loader");
	read_info(info);
	start_other_cpu();
	twist_apic();
	entry = load_custos();
	crafted = build_info();
	say("custos.elf loaded; entering it at ");
	puthex(entry);
	puts(" with a crafted memory map and modules\r\n");
	shim_jump(entry, crafted);
}
