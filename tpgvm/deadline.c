/* The TPGVM's clock (tpgvm/deadline.h). */
#include "tpgvm/deadline.h"
#include "guests/runtime/guest.h"

uint64_t tpgvm_now(void)
{
	return rdtsc();
}
