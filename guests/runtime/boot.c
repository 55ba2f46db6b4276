/* Boot-info checks, the start lines every guest prints, and CPU feature
 * tests shared by the guests. */
#include <string.h>
#include "guests/runtime/guest.h"

const char *guest_prog = "guest";

const char *const guest_entry_reg_names[ENTRY_NREGS] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rflags",
};

/* dst has room for n + 1 bytes. */
static void copy_field(char *dst, const char *src, size_t n)
{
	size_t len = strnlen(src, n);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

void guest_init(const struct custos_boot_info *bi, const char *prog)
{
	guest_prog = prog;
	/* mem_size too: the guests size their loops by it. */
	if (bi->magic != CUSTOS_BOOT_INFO_MAGIC ||
	    bi->abi_version < CUSTOS_ABI_VERSION || /* later ones only append */
	    bi->mem_size < GUEST_MEM_MIN || bi->mem_size > GUEST_MEM_MAX ||
	    bi->mem_size % GUEST_MEM_ALIGN != 0) {
		con_printf("%s: bad boot info\n", prog);
		hc_exit(3);
	}
	con_printf("%s: start (vm %u, %lu MiB)\n", prog, bi->vm_id,
		   bi->mem_size >> 20);
	/* name and cmdline are fixed-size arrays: never read past them even
	 * if the TCB forgot the terminator. (lib/fmt.c has no "%.*s".) */
	char name[sizeof(bi->name) + 1], cmdline[sizeof(bi->cmdline) + 1];
	copy_field(name, bi->name, sizeof(bi->name));
	copy_field(cmdline, bi->cmdline, sizeof(bi->cmdline));
	con_printf("%s: vm name '%s' cmdline '%s'\n", prog, name, cmdline);
}

static uint64_t xgetbv(uint32_t index)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return (uint64_t)hi << 32 | lo;
}

bool cpu_avx_usable(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	if (!(r[2] & (1u << 27)) || !(r[2] & (1u << 28)))
		return false; /* no OSXSAVE (XGETBV would fault) or no AVX */
	return (xgetbv(0) & 6) == 6;
}
