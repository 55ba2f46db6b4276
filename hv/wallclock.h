/*
 * The platform's wall clock, read once at boot from the CMOS RTC (the only
 * time an x86 PC keeps across power-off), for the VMs' virtual RTCs. It is
 * the administrator's clock: a VM learns the date from it, nothing trusts
 * it (tcb/timebase.h).
 */
#ifndef CUSTOS_HV_WALLCLOCK_H
#define CUSTOS_HV_WALLCLOCK_H

/* Read the RTC, store it (timebase_set_wall) and print one line:
 *   rtc: 2026-12-04 03:20:00 UTC   (or: rtc: unreadable, VMs start at 1970) */
void wallclock_init(void);

#endif
