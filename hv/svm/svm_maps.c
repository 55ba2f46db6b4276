#include "hv/svm/svm_maps.h"
#include "hv/exit_policy.h"

/* APM Vol. 2 15.11, "MSR Intercepts": MSRPM byte offsets of the three MSR
 * ranges, each 0x2000 MSRs at 2 bits per MSR: bit 2n intercepts RDMSR,
 * bit 2n + 1 WRMSR of the range's n-th MSR. */
static const struct {
	uint32_t first;
	uint32_t offset;
} msrpm_ranges[] = {
	{ 0x00000000u, 0x0000 },
	{ 0xc0000000u, 0x0800 },
	{ 0xc0010000u, 0x1000 },
};
#define MSRPM_RANGE_MSRS 0x2000u

/* The bit of msr's read (or write) intercept; false outside the ranges. */
static bool msrpm_bit(uint32_t msr, bool write, uint32_t *byte, unsigned *bit)
{
	for (size_t i = 0; i < ARRAY_SIZE(msrpm_ranges); i++) {
		uint32_t n = msr - msrpm_ranges[i].first;

		if (msr >= msrpm_ranges[i].first && n < MSRPM_RANGE_MSRS) {
			uint32_t b = 2 * n + (write ? 1 : 0);

			*byte = msrpm_ranges[i].offset + b / 8;
			*bit = b % 8;
			return true;
		}
	}
	return false;
}

void svm_iopm_build(uint8_t iopm[SVM_IOPM_SIZE], bool owns_com2)
{
	for (size_t i = 0; i < SVM_IOPM_SIZE; i++)
		iopm[i] = 0xff;
	io_bitmap_build(iopm, 0, 0x10000, owns_com2);
}

void svm_msrpm_build(uint8_t msrpm[SVM_MSRPM_SIZE], const struct spec_caps *spec)
{
	for (size_t i = 0; i < SVM_MSRPM_SIZE; i++)
		msrpm[i] = 0xff;
	/* Every MSR of every range is asked: the policy is the only list. */
	for (size_t r = 0; r < ARRAY_SIZE(msrpm_ranges); r++) {
		for (uint32_t n = 0; n < MSRPM_RANGE_MSRS; n++) {
			uint32_t msr = msrpm_ranges[r].first + n, byte;
			unsigned bit;

			for (int w = 0; w < 2; w++)
				if (msr_is_passthrough(msr, w, spec) &&
				    msrpm_bit(msr, w, &byte, &bit))
					msrpm[byte] &= (uint8_t)~(1u << bit);
		}
	}
}

bool svm_iopm_intercepts(const uint8_t iopm[SVM_IOPM_SIZE], uint16_t port,
			 unsigned size)
{
	/* An access intercepts if the bit of any port it touches is set
	 * (APM 15.10.1); at 0xffff the bits past 65535 count. */
	for (uint32_t p = port; p < (uint32_t)port + size; p++)
		if (iopm[p / 8] & (1u << (p % 8)))
			return true;
	return false;
}

bool svm_msrpm_intercepts(const uint8_t msrpm[SVM_MSRPM_SIZE], uint32_t msr,
			  bool write)
{
	uint32_t byte;
	unsigned bit;

	if (!msrpm_bit(msr, write, &byte, &bit))
		return true;
	return (msrpm[byte] >> bit) & 1;
}
