/*
 * The window in which the TCB's crypto may use XMM registers (hv/simd_window.c).
 */
#ifndef CUSTOS_HV_SIMD_WINDOW_H
#define CUSTOS_HV_SIMD_WINDOW_H

/* Register the window with crypto/ (after vcpu_cpu_init: CR4.OSFXSR, XCR0). */
void simd_window_init(void);

#endif
