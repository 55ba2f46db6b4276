/*
 * hello: the smallest guest. Output:
 *   hello: start (vm <id>, <mem> MiB)
 *   hello: vm name '<name>' cmdline '<cmdline>'
 *   hello: hello from a Custos guest
 * then HLT, which the TCB treats as the VM halting for good.
 * No cmdline options.
 */
#include "guests/runtime/guest.h"

int guest_main(const struct custos_boot_info *bi)
{
	guest_init(bi, "hello");
	con_printf("hello: hello from a Custos guest\n");
	for (;;)
		hlt();
}
