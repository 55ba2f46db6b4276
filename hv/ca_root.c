#include "hv/ca_root.h"

extern const uint8_t ca_root_der[], ca_root_der_end[];

const uint8_t *ca_root(size_t *len)
{
	*len = (size_t)((uintptr_t)ca_root_der_end - (uintptr_t)ca_root_der);
	return ca_root_der;
}
