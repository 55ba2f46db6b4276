/*
 * SVM exit information as the architecture-neutral structs the VMX exits
 * are decided on (hv/exit_policy.h: struct io_exit for io_policy, struct
 * cr_exit for cr_policy), so the SVM backend reuses those decisions. Pure
 * functions, host-tested (tests/unit/test_svm_exit_decode.c).
 */
#ifndef CUSTOS_HV_SVM_EXIT_DECODE_H
#define CUSTOS_HV_SVM_EXIT_DECODE_H

#include <custos/types.h>
#include "hv/exit_policy.h"
#include "tcb/insn_decode.h"

/* IOIO's EXITINFO1 (AMD APM Vol. 2 15.10.2). False when it names no single
 * size of 1, 2 or 4 bytes. The next RIP is EXITINFO2, with or without
 * NRIPS: no decode needed. */
bool svm_ioio_decode(uint64_t exit_info1, struct io_exit *out);

/*
 * A CR-access exit (exit codes 0x000-0x01f: read or write of CRn). With
 * decode assists, EXITINFO1 names the GPR of a MOV (bit 63, bits 3:0);
 * CLTS and LMSW, and every exit on a CPU without them, take the decoded
 * instruction (tcb/insn_decode.h), which must be the one the exit says:
 * a MOV from/to that very CR, or CLTS/LMSW for a CR0 write. False when it
 * is not (the guest changed its code since it ran, or insn is NULL when
 * it is needed): the backend stops the VM.
 */
bool svm_cr_exit_decode(uint64_t exit_code, uint64_t exit_info1,
			bool decode_assists, const struct insn *insn,
			struct cr_exit *out);

#endif
