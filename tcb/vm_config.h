/*
 * The configuration of a VM to build, parsed from untrusted text: for now a
 * Multiboot2 module's command line, "vm.NAME [mem=SIZE] [ARGS...]".
 */
#ifndef CUSTOS_TCB_VM_CONFIG_H
#define CUSTOS_TCB_VM_CONFIG_H

#include <custos/types.h>
#include "tcb/vm.h"

#define VM_MODULE_PREFIX  "vm."
#define VM_DEFAULT_MEM    (4ull << 20)
#define VM_ARGS_MAX       256

struct vm_config {
	char name[VM_NAME_MAX];
	uint64_t mem_size;
	char args[VM_ARGS_MAX]; /* everything after the first word, verbatim */
};

/* True if a module name asks for a VM ("vm." followed by something). */
bool vm_config_is_vm_module(const char *module_name);

/*
 * Parse "vm.NAME [mem=SIZE] [ARGS...]". NAME: 1..VM_NAME_MAX-1 characters
 * of [a-z0-9_-]. SIZE: decimal digits with an optional K, M or G suffix
 * (binary units), a multiple of GUEST_MEM_ALIGN within [GUEST_MEM_MIN,
 * GUEST_MEM_MAX]; default VM_DEFAULT_MEM. Returns 0, or -1 with a reason.
 */
int vm_config_parse(const char *cmdline, struct vm_config *out, char *err,
		    size_t err_len);

#endif
