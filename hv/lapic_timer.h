/*
 * The local APIC timer as a one-shot slice timer, for a backend without a
 * VMX preemption timer (SVM; docs/svm.md, "Preemption"). The LAPIC is the
 * TCB's alone: no guest reaches its page or its x2APIC MSRs.
 */
#ifndef CUSTOS_HV_LAPIC_TIMER_H
#define CUSTOS_HV_LAPIC_TIMER_H

#include <custos/types.h>

/* The timer's vector, and the one the LAPIC uses for a spurious interrupt
 * (SDM Vol. 3A 11.9), which must not be EOIed. Both in the highest
 * priority class, above any TPR the TCB runs with (0). */
#define LAPIC_TIMER_VECTOR    0xef
#define LAPIC_SPURIOUS_VECTOR 0xff

/*
 * After tsc_rate_init(): software-enable the LAPIC (spurious vector above),
 * measure its timer against the TSC (three spans of 2 ms, the median
 * kept), then arm it once with interrupts enabled and check that it fires,
 * not before half the time asked for. One line either way:
 *   lapic: timer (<xAPIC|x2APIC>, vector 0xef) runs <t> ticks per <c> TSC
 *     cycles; one-shot check: armed for <n> TSC cycles, fired after <m>
 *   lapic: timer NOT usable: <reason>
 * A VMX boot does not need the timer; an SVM backend must not run guests
 * unless lapic_timer_usable().
 */
void lapic_timer_init(void);
bool lapic_timer_usable(void);

/* Fire LAPIC_TIMER_VECTOR once, tsc_cycles from now (rounded up to the
 * timer's resolution; at most 2^32 - 1 timer ticks ahead), replacing any
 * armed deadline. Needs lapic_timer_usable(). */
void lapic_timer_arm(uint64_t tsc_cycles);

/* Stop the timer. A tick that already fired stays pending until the next
 * window with interrupts enabled takes it. */
void lapic_timer_disarm(void);

/* How many timer interrupts were taken so far. */
uint64_t lapic_timer_fired(void);

/*
 * From the exception dispatcher, for every vector before anything else:
 * true for the timer's vector (counted, then EOI) and the spurious one
 * (nothing to do), once lapic_timer_init() ran; false for every other
 * vector, which stays fatal.
 */
bool lapic_timer_interrupt(uint64_t vector);

#endif
