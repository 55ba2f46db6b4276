/* Freestanding <assert.h>: static_assert only. mbedTLS includes this header
 * but needs just the compile-time form; there is deliberately no runtime
 * assert() here, so hypervisor code cannot use one by accident (check
 * invariants explicitly and stop, see docs). */
#ifndef CUSTOS_LIB_ASSERT_H
#define CUSTOS_LIB_ASSERT_H

#ifndef static_assert
#define static_assert _Static_assert
#endif

#endif
