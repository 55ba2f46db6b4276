/* Freestanding <stdlib.h>: empty on purpose. mbedTLS includes it, but in
 * the hypervisor memory comes from lib/heap.c (heap.h) and there is no
 * exit(), abort() or getenv(). */
#ifndef CUSTOS_LIB_STDLIB_H
#define CUSTOS_LIB_STDLIB_H

#include <stddef.h>

#endif
