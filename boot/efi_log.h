/*
 * What the UEFI entry (boot/efi_entry.S, boot/efi_stage.c) hands to the
 * hypervisor besides the Multiboot2 information it rebuilds: whether that
 * path ran at all and the firmware's TCG2 event log, copied before
 * ExitBootServices turned the memory that holds it into free RAM.
 *
 * It lives in .data, not .bss: boot_entry32 zeroes .bss after the UEFI
 * entry has filled it. A BIOS boot leaves it all zero (efi_entry false).
 * The log is the firmware's word, not checked here: whoever reads it must
 * parse it as untrusted input.
 */
#ifndef CUSTOS_BOOT_EFI_LOG_H
#define CUSTOS_BOOT_EFI_LOG_H

#include <custos/types.h>

/* OVMF's log area is 128 KiB but holds about 10 KiB on a typical boot. */
#define EFI_LOG_MAX (64 * 1024)

struct efi_boot_log {
	bool efi_entry;  /* entered by Multiboot2 tag 9; custos exited boot services */
	bool tcg2;       /* the firmware has EFI_TCG2_PROTOCOL */
	/*
	 * The log lacks events: the firmware said its own log is truncated,
	 * or the log (with the events from the final events table) did not
	 * fit in log[], or one of its events did not parse. What is there is
	 * a prefix of whole events.
	 */
	bool truncated;
	uint32_t len;            /* bytes of log[] in use; 0 if there is no log */
	uint32_t final_events;   /* of those, events appended from the final
				  * events table (logged after GetEventLog) */
	/* TCG 2.0 crypto-agile format: the SHA-1 format Spec ID event first,
	 * then TCG_PCR_EVENT2s (TCG PC Client Platform Firmware Profile, 10). */
	uint8_t log[EFI_LOG_MAX];
};

extern struct efi_boot_log efi_boot_log;

#endif
