/*
 * The Custos CA root certificate (DER), compiled into the hypervisor so that
 * it is part of the measured image: whoever verifies the hypervisor's
 * measurement also knows which CA it trusts. `make` creates a development CA
 * in build/pki/ (tools/make-dev-pki.sh); a production build points
 * CUSTOS_CA_ROOT_DER at the real root.
 */
	.section .rodata
	.global	ca_root_der
	.global	ca_root_der_end
	.balign	16
ca_root_der:
	.incbin	CUSTOS_CA_ROOT_DER
ca_root_der_end:
