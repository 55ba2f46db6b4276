/* The TSC rate of this boot: decided once, told to every VM (tcb/timebase.h). */
#ifndef CUSTOS_HV_TSC_RATE_H
#define CUSTOS_HV_TSC_RATE_H

/*
 * Read what CPUID says, measure the TSC against the 8254 PIT's channel 2
 * (50 ms, gated through port 0x61), pick by tcb/timebase.h's rule, store
 * it (timebase_set) and print one line:
 *   tsc: <hz> Hz (<source>...)
 * Before any VM is built: their boot info carries the rate.
 */
void tsc_rate_init(void);

#endif
