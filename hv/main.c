/*
 * hv_main: the boot flow of the hypervisor, in order (docs/boot.md).
 * Each step either succeeds or ends the run with a one-line reason and a
 * distinct exit status; nothing continues on a half-understood machine.
 */
#include <custos/version.h>

#include "boot/efi_log.h"
#include "boot/multiboot2.h"
#include "hv/arch.h"
#include "hv/boot_defs.h"
#include "hv/bootenv.h"
#include "hv/ca_root.h"
#include "hv/console.h"
#include "hv/cpu.h"
#include "hv/cpu_tables.h"
#include "hv/dev_options.h"
#include "hv/memory.h"
#include "hv/paging.h"
#include "hv/power.h"
#include "hv/guest.h"
#include "hv/lapic_timer.h"
#include "hv/platform_crypto.h"
#include "hv/tpgvm.h"
#include "tcb/fw_log.h"
#include "hv/tpm_tcb_key.h"
#include "hv/tpm_vm_store.h"
#include "hv/tpm.h"
#include "hv/tsc_rate.h"
#include "hv/wallclock.h"
#include "hv/sched.h"
#include "hv/smp.h"
#include "hv/svm/svm.h"
#include "hv/spec_barrier.h"
#include "hv/tenant.h"
#include "hv/vcpu.h"
#include "hv/vm_exit.h"
#include "tcb/measure.h"
#include "tcb/vm_config.h"
#include "crypto/crypto.h"
#include <custos/report.h>

#include <stdio.h>
#include <string.h>

void hv_main(uint32_t magic, uint64_t info_pa);

static struct mb2_info boot_info;
static struct measure_log measurements;

/* Parse what the loader handed over, then check it (docs/boot.md): the
 * modules that remain are the ones the boot may use. */
static const struct bootenv *read_boot_info(uint64_t info_pa, uint64_t lapic)
{
	/* Only what the boot-time map reaches: the address is the loader's. */
	size_t readable = info_pa < EARLY_MAP_END - MB2_MAX_INFO_SIZE ?
			  MB2_MAX_INFO_SIZE : (size_t)(EARLY_MAP_END - info_pa);
	char err[160];

	if (mb2_parse((const void *)(uintptr_t)info_pa, readable,
		      &boot_info, err, sizeof(err)))
		boot_failed("multiboot2 info rejected: %s", err);

	console_printf("boot: cmdline \"%s\"\n", boot_info.cmdline);
	for (size_t i = 0; i < boot_info.mmap_count; i++) {
		const struct mb2_mmap_entry *e = &boot_info.mmap[i];
		console_printf("boot: mem %016llx-%016llx %s\n",
			       (unsigned long long)e->base,
			       (unsigned long long)(e->base + e->len - 1),
			       mb2_mem_type_name(e->type));
	}
	for (size_t i = 0; i < boot_info.module_count; i++) {
		const struct mb2_module *m = &boot_info.modules[i];
		console_printf("boot: module \"%s\" %#llx-%#llx (%llu bytes)\n",
			       m->name, (unsigned long long)m->start,
			       (unsigned long long)m->end,
			       (unsigned long long)(m->end - m->start));
	}
	if (boot_info.rsdp_version)
		console_printf("boot: ACPI RSDP v%d present\n", boot_info.rsdp_version);
	return bootenv_check(&boot_info, lapic);
}

/* The UEFI entry (boot/efi_stage.c) ran before boot_entry32: say what it
 * found. The log itself is handed over as it is (boot/efi_log.h). */
static void log_efi_entry(void)
{
	const struct efi_boot_log *l = &efi_boot_log;

	if (!l->efi_entry)
		return;
	if (!l->tcg2)
		console_printf("boot: UEFI entry: no TCG2 protocol, boot services "
			       "exited by custos\n");
	else if (l->len == 0)
		console_printf("boot: UEFI entry: TCG2 protocol without a usable "
			       "TCG 2.0 event log, boot services exited by custos\n");
	else
		console_printf("boot: UEFI entry: TCG2 event log %u bytes%s (%u "
			       "events after GetEventLog), boot services exited "
			       "by custos\n", l->len,
			       l->truncated ? ", TRUNCATED" : "", l->final_events);
}

/* The TPM's attestation key, enrolled if the CA's module is there; the
 * module is read once and its frames go back to the pool. */
static void attestation_init(void)
{
	const struct mb2_module *m = mb2_find_module(&boot_info, MODULE_TPM_ENROLLMENT);

	tpm_attestation_init(m ? phys_to_virt(m->start) : NULL,
			     m ? m->end - m->start : 0);
	if (m)
		memory_release_module(m);
}

/* The legacy PICs stay masked: the hypervisor polls, and guests get no
 * interrupts (docs/vm-exits.md). */
static void mask_legacy_pics(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

/* The host-physical span of a VM's frames: for the operator's log and for
 * tests that aim attacks at other VMs' memory. Not a secret. */
static void log_created(const struct vm *vm)
{
	uint64_t lo = UINT64_MAX, hi = 0, hpa;

	for (uint64_t gpa = 0; gpa < vm->mem_size; gpa += PAGE_SIZE) {
		CHECK(npt_translate(&vm->npt, gpa, &hpa, NULL));
		lo = hpa < lo ? hpa : lo;
		hi = hpa > hi ? hpa : hi;
	}
	console_printf("vm %u (%s): created, %llu MiB, frames at host-physical "
		       "%#llx-%#llx\n", vm->id, vm->name,
		       (unsigned long long)(vm->mem_size >> 20),
		       (unsigned long long)lo, (unsigned long long)(hi + PAGE_MASK));
}

/*
 * One boot-module VM: measured into the log before it can run (sched_run
 * starts only after every guest is created), so a report lists every VM
 * beside the TPGVM. The digest is taken from the module before the VM
 * exists, and appended only once it does; with no room left in the log it
 * is not created at all.
 */
static bool create_boot_vm(const struct mb2_module *m, const struct vm_config *cfg)
{
	uint8_t digest[MEASURE_DIGEST_LEN];
	char desc[MEASURE_DESC_MAX], err[160];
	struct vm *vm;

	if (measure_log_full(&measurements)) {
		console_printf("vm: \"%s\" not created: the measurement log is full\n",
			       cfg->name);
		return false;
	}
	measure_boot_vm_digest(crypto_sha384, m->cmdline, phys_to_virt(m->start),
			       m->end - m->start, digest);
	vm = guest_create(tenant_ops(), cfg, false, phys_to_virt(m->start),
			  m->end - m->start, NULL, 0, err, sizeof(err));
	if (!vm) {
		console_printf("vm: \"%s\" not created: %s\n", cfg->name, err);
		return false;
	}
	measure_boot_vm_desc(cfg->name, desc);
	CHECK(measure_log_append(&measurements, MEASURE_BOOT_VM, digest, desc) == 0);
	console_log_measurement(desc, digest);
	log_created(vm);
	return true;
}

static unsigned create_guests(uint64_t *module_frames)
{
	unsigned created = 0;

	for (size_t i = 0; i < boot_info.module_count; i++) {
		const struct mb2_module *m = &boot_info.modules[i];
		struct vm_config cfg;
		char err[160];

		if (!vm_config_is_vm_module(m->name))
			continue;
		if (vm_config_parse(m->cmdline, &cfg, err, sizeof(err)))
			console_printf("vm: module \"%s\" refused: %s\n", m->name, err);
		else if (create_boot_vm(m, &cfg))
			created++;
		*module_frames += memory_release_module(m);
	}
	return created;
}

static void measure_one(enum measure_type type, const void *data, size_t len,
			const char *desc)
{
	uint8_t d[CRYPTO_SHA384_LEN];

	crypto_sha384(data, len, d);
	console_log_measurement(measure_type_name(type), d);
	CHECK(measure_log_append(&measurements, type, d, desc) == 0);
}

/* What this boot trusts before it runs anything: its own code and read-only
 * data (which hold the CA root), the command line, the CA root itself. */
static void measure_hypervisor(void)
{
	measure_log_init(&measurements);
	measurements.extend = tpm_measure_hook;
	measure_one(MEASURE_HV_IMAGE, __image_start,
		    (size_t)((uint64_t)__rodata_end - (uint64_t)__image_start),
		    "custos.elf text+rodata");
	measure_one(MEASURE_HV_CMDLINE, boot_info.cmdline,
		    strlen(boot_info.cmdline), "kernel command line");
	size_t root_len;
	const uint8_t *root = ca_root(&root_len);

	measure_one(MEASURE_CA_ROOT, root, root_len, "compiled-in CA root");
}

/* The firmware's log was checked against PCRs 0-9, and in it GRUB
 * measured the hypervisor and its modules: a measured launch. */
static bool measured_launch;

/* Returns whether a TPGVM was delivered (and has run). */
static bool run_guests(void)
{
	struct frame_table *ft = memory_frames();
	uint64_t free_before, module_frames = 0;
	struct sched_stats stats = { 0 };
	uint32_t report_debug = dev_options_debug(boot_info.cmdline);

	arch->init();
	free_before = ft->free_count;
	struct vm *tpgvm = tpgvm_deliver(&boot_info, &measurements, report_debug,
					 &module_frames);
	if (create_guests(&module_frames) == 0 && !tpgvm) {
		console_printf("custos: boot complete; no guests to run\n");
		return false;
	}
	/* Everything that will run is measured: the TPM must agree. */
	if (!tpm_check_log(&measurements))
		boot_failed("the TPM's PCRs do not match the measurement log");
	/* VMs sealed before a reboot, before the TPGVM asks for them. */
	if (tpgvm)
		tpm_vm_store_open(measured_launch);
	sched_run(&stats);
	console_printf("sched: all VMs finished: %llu slices, %llu preemptions, "
		       "%llu switches, %llu idle waits\n",
		       (unsigned long long)stats.slices,
		       (unsigned long long)stats.preemptions,
		       (unsigned long long)stats.switches,
		       (unsigned long long)stats.idle_waits);
	spec_barrier_report();
	console_printf("memory: %llu frames free after teardown; %llu expected "
		       "(%llu before guests + %llu module frames)\n",
		       (unsigned long long)ft->free_count,
		       (unsigned long long)(free_before + module_frames),
		       (unsigned long long)free_before,
		       (unsigned long long)module_frames);
	CHECK(frame_table_check(ft));
	CHECK(ft->free_count == free_before + module_frames);
	return tpgvm != NULL;
}

void hv_main(uint32_t magic, uint64_t info_pa)
{
	char line[200];
	const char *why;

	console_init();
	mask_legacy_pics();
	console_printf("\ncustos %s: booting\n", CUSTOS_VERSION);
	cpu_tables_init();
	if (magic != MB2_MAGIC)
		boot_failed("bad Multiboot2 magic %#x", magic);

	/* Nothing else runs while the loader's world is read. */
	uint64_t lapic = smp_park_aps();
	const struct bootenv *env = read_boot_info(info_pa, lapic);
	log_efi_entry();

	memory_init(&boot_info, env);
	paging_init(env);
	dev_options_boot(boot_info.cmdline);
	tsc_rate_init();
	wallclock_init();
	lapic_timer_init();

	why = arch_enable(line, sizeof(line));
	if (why) {
		console_printf("no hardware virtualization: %s\n", why);
		power_off(EXIT_NO_VMX, "no VMX or SVM");
	}
	console_printf("%s\n", line);

	vcpu_cpu_init(); /* before crypto: its AES-NI window needs SSE and XCR0 */
	platform_crypto_init();
	tpm_init();
	attestation_init();
	/* The firmware's and GRUB's log, where the UEFI entry copied one, must
	 * be what the TPM holds: otherwise it is no record of this boot. */
	if (efi_boot_log.truncated)
		console_printf("tpm: the firmware's event log is incomplete: not "
			       "checked, and no record of this boot\n");
	else if (efi_boot_log.len && tpm_present()) {
		if (!tpm_check_firmware_log(efi_boot_log.log, efi_boot_log.len))
			boot_failed("the firmware's event log does not match the TPM");
		tpm_keep_firmware_log(efi_boot_log.log, efi_boot_log.len);
		measured_launch = fw_log_loader_measured_kernel(efi_boot_log.log,
								efi_boot_log.len);
	}
	/* The TPM-resident TCB keys, certified by the attestation key for
	 * reports, and usable only if the CA approved this launch (not used
	 * yet: docs/tpm.md). PCRs 0-9 are final by now. */
	tpm_tcb_key_init(measured_launch);
	measure_hypervisor();
	if (!run_guests()) {
		/* Without a TPGVM nobody can drive this platform; it stays up for
		 * a valid one (today that means a reboot with a new module). */
		console_printf("custos: no TPGVM; waiting for a valid envelope\n");
		console_flush();
		cpu_halt_forever();
	}
	arch->disable();
	power_off(EXIT_OK, "done");
}
