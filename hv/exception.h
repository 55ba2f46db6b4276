/* CPU exceptions taken in VMX root mode: always fatal, never silent. */
#ifndef CUSTOS_HV_EXCEPTION_H
#define CUSTOS_HV_EXCEPTION_H

#include <custos/types.h>

/* Layout pushed by hv/exception_entry.S, lowest address first. */
struct exception_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

void exception_dispatch(struct exception_frame *f);

#endif
