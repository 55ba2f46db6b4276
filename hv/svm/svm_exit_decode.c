#include "hv/svm/svm_exit_decode.h"
#include "hv/svm/vmcb.h"

bool svm_ioio_decode(uint64_t info, struct io_exit *out)
{
	uint64_t size = info & (SVM_IOIO_SIZE8 | SVM_IOIO_SIZE16 | SVM_IOIO_SIZE32);

	if (size != SVM_IOIO_SIZE8 && size != SVM_IOIO_SIZE16 &&
	    size != SVM_IOIO_SIZE32)
		return false;
	*out = (struct io_exit){
		.port = (uint16_t)(info >> SVM_IOIO_PORT_SHIFT),
		.size = size == SVM_IOIO_SIZE8 ? 1 : size == SVM_IOIO_SIZE16 ? 2 : 4,
		.in = (info & SVM_IOIO_IN) != 0,
		.string = (info & SVM_IOIO_STRING) != 0,
		.rep = (info & SVM_IOIO_REP) != 0,
	};
	return true;
}

/* What the decoded instruction must be for this exit. */
static bool insn_matches(const struct insn *i, unsigned cr, bool write)
{
	if (i->kind == INSN_MOV_TO_CR || i->kind == INSN_MOV_FROM_CR)
		return i->cr == cr && (i->kind == INSN_MOV_TO_CR) == write;
	/* CLTS and LMSW write CR0: the CR0 write intercept covers them (AMD
	 * APM Vol. 2, "CR0 write intercepts"; EXITINFO1 bit 63 clear). */
	return (i->kind == INSN_CLTS || i->kind == INSN_LMSW) && cr == 0 && write;
}

bool svm_cr_exit_decode(uint64_t exit_code, uint64_t info, bool decode_assists,
			const struct insn *insn, struct cr_exit *out)
{
	unsigned cr = exit_code & 0xf;
	bool write = (exit_code & ~0xfull) == SVM_EXIT_CR0_WRITE;

	if (!write && (exit_code & ~0xfull) != SVM_EXIT_CR0_READ)
		return false;
	if (decode_assists && (info & SVM_CR_EXIT_MOV)) {
		*out = (struct cr_exit){
			.cr = (uint8_t)cr,
			.type = write ? CR_MOV_TO : CR_MOV_FROM,
			.gpr = (uint8_t)(info & SVM_CR_EXIT_GPR_MASK),
		};
		return true;
	}
	if (!insn || !insn_matches(insn, cr, write))
		return false;
	*out = (struct cr_exit){
		.cr = (uint8_t)cr,
		.type = insn->kind == INSN_MOV_TO_CR ? CR_MOV_TO :
			insn->kind == INSN_MOV_FROM_CR ? CR_MOV_FROM :
			insn->kind == INSN_CLTS ? CR_CLTS : CR_LMSW,
		.gpr = insn->gpr,
	};
	return true;
}
