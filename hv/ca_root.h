/* The compiled-in CA root certificate (hv/ca_root.S). */
#ifndef CUSTOS_HV_CA_ROOT_H
#define CUSTOS_HV_CA_ROOT_H

#include <custos/types.h>

/* The DER bytes, and their length in *len. */
const uint8_t *ca_root(size_t *len);

#endif
