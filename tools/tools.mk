# Host programs: the CA and the signing station (docs/pki.md,
# docs/envelope.md). Included by the top-level Makefile. Defines TOOLS_BINS.
#
# Compiled with the host flags (-Wall -Wextra -Werror ...), linked with the
# portable TCB code (envelope, policy and TCB module parsers: the same code
# the hypervisor runs) and the host crypto library.

TOOLS_BINS := $(BUILD)/bin/custos-ca $(BUILD)/bin/custos-station
TOOLS_BINS += $(BUILD)/bin/custos-relay

TOOLS_COMMON_SRCS := tools/cli.c
# enroll checks the TCB's TPM-resident keys (tools/tcb_key_check.c);
# approve checks a report's TPM evidence as the tenant CLI does
# (tools/tpm_evidence.c, libtss2-mu) and predicts the launch's PCRs.
CUSTOS_CA_SRCS := tools/custos-ca.c tools/tpm_credential.c tools/tcb_key_check.c \
	tools/launch_predict.c tools/tpm_evidence.c tools/quote_verify.c tools/csr_policy.c \
	tools/reference.c tools/reference_sig.c $(TOOLS_COMMON_SRCS)
CUSTOS_STATION_SRCS := tools/custos-station.c tools/envelope_build.c \
	tools/x509_peek.c $(TOOLS_COMMON_SRCS)

tools_objs = $(patsubst %,$(BUILD)/tools-obj/%.o,$(1))

$(BUILD)/tools-obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	@$(CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/bin/custos-ca: $(call tools_objs,$(CUSTOS_CA_SRCS)) $(HOST_LIB) $(CRYPTO_HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(HOST_CFLAGS) -o $@ $(filter %.o,$^) $(HOST_LIB) $(CRYPTO_HOST_LIB) \
		$(CRYPTO_HOST_LDLIBS) -ltss2-mu

$(BUILD)/bin/custos-station: $(call tools_objs,$(CUSTOS_STATION_SRCS)) $(HOST_LIB) $(CRYPTO_HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(HOST_CFLAGS) -o $@ $(filter %.o,$^) $(HOST_LIB) $(CRYPTO_HOST_LIB) \
		$(CRYPTO_HOST_LDLIBS)

# The envelope unit tests compile the station's builder in (it is host-only,
# so it is not part of the portable library).
$(BUILD)/tests/test_envelope_open: tools/envelope_build.c tools/envelope_build.h

# The relay (docs/relay.md): the portable framing codec, no crypto of its
# own (TLS runs end to end through it); cli.c brings the crypto library.
CUSTOS_RELAY_SRCS := tools/custos-relay.c $(TOOLS_COMMON_SRCS)
$(BUILD)/bin/custos-relay: $(call tools_objs,$(CUSTOS_RELAY_SRCS)) $(HOST_LIB) $(CRYPTO_HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(HOST_CFLAGS) -o $@ $(filter %.o,$^) $(HOST_LIB) $(CRYPTO_HOST_LIB) \
		$(CRYPTO_HOST_LDLIBS)

# The tenant CLI (docs/tenant-cli.md): TLS client through the relay (system
# libmbedtls with the shared profile of crypto/tls.c), report verification
# (tcb/report_verify.c), event-log decoder (tcb/tcg_log_parse.c), the tenant
# protocol (wire/proto.c) and reference values; the VM commands
# (tools/vm_cli.c) attest on the same session first.
TOOLS_BINS += $(BUILD)/bin/custos
# The TPM evidence in reports is checked with tools/tpm_evidence.c and
# tools/quote_verify.c, which unmarshals the TPM's structures with the
# system libtss2-mu.
CUSTOS_SRCS := tools/custos.c tools/attest.c tools/vm_cli.c tools/vm_shell.c \
	tools/verify_cli.c tools/report_show.c tools/x509_peek.c \
	tools/enroll_cli.c tools/csr_policy.c tools/tenant_config.c tools/interrupt_note.c \
	tools/tenant_tls.c tools/reference.c tools/reference_sig.c tools/quote_verify.c \
	tools/tpm_evidence.c tools/tcb_key_check.c tools/tpm_credential.c $(TOOLS_COMMON_SRCS)
$(BUILD)/bin/custos: $(call tools_objs,$(CUSTOS_SRCS)) $(HOST_LIB) $(CRYPTO_HOST_LIB)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(HOST_CFLAGS) -o $@ $(filter %.o,$^) $(HOST_LIB) $(CRYPTO_HOST_LIB) \
		$(CRYPTO_HOST_LDLIBS) -ltss2-mu

# The reference signature's unit test compiles it in (host-only code).
$(BUILD)/tests/test_reference_sig: tools/reference_sig.c tools/reference_sig.h
# The reference reader's unit test compiles it in (host-only code).
$(BUILD)/tests/test_reference: tools/reference.c tools/reference.h

# The quote verifier's unit test compiles it in (host-only code) and links
# libtss2-mu (the hook in the top-level Makefile's rule for unit tests).
$(BUILD)/tests/test_quote_verify: tools/quote_verify.c tools/quote_verify.h
UNIT_LDLIBS_test_quote_verify := -ltss2-mu
# ... and links the TCB keys' check (tools/tcb_key_check.c), whose TPM
# headers cannot share a file with libtss2's.
TCB_KEY_CHECK_OBJS := $(call tools_objs,tools/tcb_key_check.c tools/tpm_credential.c \
	tools/reference.c)
$(BUILD)/tests/test_tpm_evidence: tools/tpm_evidence.c tools/tpm_evidence.h tools/quote_verify.c \
	tools/quote_verify.h $(TCB_KEY_CHECK_OBJS)
UNIT_LDLIBS_test_tpm_evidence := $(TCB_KEY_CHECK_OBJS) $(HOST_LIB) $(CRYPTO_HOST_LIB) \
	$(CRYPTO_HOST_LDLIBS) -ltss2-mu

# The launch predictor's unit test compiles it in (host-only code:
# custos-ca approve).
$(BUILD)/tests/test_launch_predict: tools/launch_predict.c tools/launch_predict.h

# The enrollment unit test compiles tools/tpm_credential.c in (host-only
# code: custos-ca enroll).
$(BUILD)/tests/test_tpm_credential: tools/tpm_credential.c tools/tpm_credential.h

# The TCB key check's unit test compiles it in, with tools/tpm_credential.c
# whose P-384 point check it uses (host-only code: custos-ca enroll).
$(BUILD)/tests/test_tcb_key_check: tools/tcb_key_check.c tools/tcb_key_check.h \
	tools/tpm_credential.c tools/tpm_credential.h

# The certificate-request checks' unit test compiles tools/csr_policy.c in
# (host-only code: custos-ca sign-csr, custos enroll).
$(BUILD)/tests/test_csr: tools/csr_policy.c tools/csr_policy.h

# The configuration file reader's unit test compiles it in (host-only code:
# the tenant CLI's profiles).
$(BUILD)/tests/test_tenant_config: tools/tenant_config.c tools/tenant_config.h
