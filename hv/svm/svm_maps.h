/*
 * SVM's I/O and MSR permission maps (AMD APM Vol. 2, 15.10.1 and 15.11),
 * built from the same policy as VMX's MSR bitmap (hv/exit_policy.h
 * msr_is_passthrough), so the two backends cannot drift apart: an MSR a
 * VMX guest reaches without an exit is exactly one an SVM guest reaches
 * without an exit. Pure functions over caller-provided memory, unit-tested
 * on the host (tests/unit/test_svm_maps.c compares the maps MSR by MSR).
 */
#ifndef CUSTOS_HV_SVM_MAPS_H
#define CUSTOS_HV_SVM_MAPS_H

#include <custos/types.h>

struct spec_caps; /* hv/spec_policy.h */

/* 65536 ports + 3 bits (an access of up to 4 bytes at port 0xffff), in
 * three contiguous 4 KiB pages. */
#define SVM_IOPM_SIZE  (3u * 4096u)
/* Three 2 KiB vectors of 2 bits per MSR (read, write) and 2 KiB reserved,
 * in two contiguous 4 KiB pages. */
#define SVM_MSRPM_SIZE (2u * 4096u)

/* Intercept every port but those io_port_exits(port, owns_com2) lets by
 * (the TPGVM's COM2), and the bits past port 0xffff. */
void svm_iopm_build(uint8_t iopm[SVM_IOPM_SIZE], bool owns_com2);

/* Intercept every MSR access except the pass-through ones of
 * msr_is_passthrough(msr, write, spec). */
void svm_msrpm_build(uint8_t msrpm[SVM_MSRPM_SIZE], const struct spec_caps *spec);

/* What a map says: whether the CPU intercepts an access of size bytes at
 * port (IOPM: any of its bits set), or a RDMSR/WRMSR of msr (outside the
 * three ranges always, APM 15.11). */
bool svm_iopm_intercepts(const uint8_t iopm[SVM_IOPM_SIZE], uint16_t port,
			 unsigned size);
bool svm_msrpm_intercepts(const uint8_t msrpm[SVM_MSRPM_SIZE], uint32_t msr,
			  bool write);

#endif
