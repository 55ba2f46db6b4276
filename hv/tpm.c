/*
 * The TPM, as the hypervisor uses it: real MMIO and the TSC behind the
 * portable drivers (hv/tpm_tis.c, hv/tpm_crb.c), and the few commands of
 * tcb/tpm2_cmd.h. Single CPU, boot and hypercall context only (the TCB
 * never touches the TPM from two places at once).
 */
#include "hv/tpm.h"
#include "hv/console.h"
#include "hv/memory.h"
#include "hv/tpm_bus.h"
#include "tcb/byteorder.h"
#include "tcb/fw_log.h"
#include "tcb/hex.h"
#include "tcb/tcg_log.h"
#include "tcb/timebase.h"
#include "tcb/tpm2_cmd.h"
#include "tcb/tpm2_session.h"
#include "tcb/tpm2_tcb_key.h"
#include "tcb/tpm_enroll.h"
#include "hv/ca_root.h"
#include <custos/report.h>
#include "crypto/crypto.h"
#include "hv/cpu.h"

#include <stdio.h>
#include <string.h>

/* TPM randomness mixed into the DRBG at boot: one SHA-384 digest's worth,
 * which every TPM 2.0 returns in one GetRandom. */
#define TPM_RANDOM_BYTES 48

static struct {
	enum tpm_interface iface;
	struct tpm2_session session;  /* salted HMAC session, for the boot's life */
	bool have_ak;
	struct tpm2_ak ak;
	size_t attest_len;           /* a quote's TPMS_ATTEST length: fixed */
	const uint8_t *fw_log;       /* carried in reports, if it fits */
	size_t fw_log_len;
	uint8_t ek_cert[REPORT_TPM_CERT_MAX]; /* the TPM's, from its NV */
	size_t ek_cert_len;
	uint8_t ak_cert[REPORT_TPM_CERT_MAX]; /* from enrollment, once activated */
	size_t ak_cert_len;
	uint8_t tcb_keys[REPORT_TPM_KEYS_MAX]; /* the TPM-resident keys, certified */
	size_t tcb_keys_len;
	bool evidence_len_fixed;              /* a report source has its length */
	uint8_t cmd[TPM2_BUFFER_MAX];
	uint8_t rsp[TPM2_BUFFER_MAX];
	char err[160];
} tpm;

static volatile uint8_t *window(uint32_t off)
{
	return (volatile uint8_t *)phys_to_virt(TPM_WINDOW_BASE) + off;
}

static uint8_t mmio_read8(void *ctx, uint32_t off)
{
	(void)ctx;
	return *window(off);
}

static uint32_t mmio_read32(void *ctx, uint32_t off)
{
	(void)ctx;
	return *(volatile uint32_t *)window(off);
}

static void mmio_write8(void *ctx, uint32_t off, uint8_t v)
{
	(void)ctx;
	*window(off) = v;
}

static void mmio_write32(void *ctx, uint32_t off, uint32_t v)
{
	(void)ctx;
	*(volatile uint32_t *)window(off) = v;
}

static uint64_t tsc_now_us(void *ctx)
{
	uint64_t mhz = timebase_tsc_hz() / 1000000;

	(void)ctx;
	return rdtsc() / (mhz ? mhz : 1);
}

static const struct tpm_bus mmio_bus = {
	.read8 = mmio_read8, .read32 = mmio_read32,
	.write8 = mmio_write8, .write32 = mmio_write32,
	.now_us = tsc_now_us,
};

bool tpm_present(void)
{
	return tpm.iface != TPM_IF_NONE;
}

static int exchange(const uint8_t *cmd, size_t len, uint8_t *rsp, size_t cap,
		    size_t *rsp_len, char *err, size_t err_len)
{
	if (tpm.iface == TPM_IF_CRB)
		return tpm_crb_transmit(&mmio_bus, cmd, len, rsp, cap, rsp_len, err,
					err_len);
	return tpm_tis_transmit(&mmio_bus, cmd, len, rsp, cap, rsp_len, err, err_len);
}

/* The TPM asks for the same command again (Part 2, "Response codes"):
 * RETRY, YIELDED or TESTING. swtpm answers the first Quote after start-up
 * with RETRY. */
static bool asks_again(const uint8_t *rsp, size_t rsp_len)
{
	uint32_t rc;

	if (rsp_len != TPM2_HEADER_LEN)
		return false;
	rc = load_be32(rsp + 6);
	return rc == 0x922 || rc == 0x908 || rc == 0x90a;
}

#define TPM_RETRIES 5

int tpm_transact(const uint8_t *cmd, size_t len, uint8_t *rsp, size_t cap,
		 size_t *rsp_len, char *err, size_t err_len)
{
	*rsp_len = 0;
	if (!tpm_present()) {
		snprintf(err, err_len, "no TPM");
		return -1;
	}
	if (len == 0) {
		snprintf(err, err_len, "command does not fit its buffer");
		return -1;
	}
	for (int i = 0; i < TPM_RETRIES; i++)
		if (exchange(cmd, len, rsp, cap, rsp_len, err, err_len) ||
		    !asks_again(rsp, *rsp_len))
			break;
	return *rsp_len ? 0 : -1;
}

/* Send tpm.cmd (len bytes); the response lands in tpm.rsp. */
static int transmit(size_t len, size_t *rsp_len)
{
	return tpm_transact(tpm.cmd, len, tpm.rsp, sizeof(tpm.rsp), rsp_len,
			    tpm.err, sizeof(tpm.err));
}

static int startup(void)
{
	size_t n;

	if (transmit(tpm2_build_startup_clear(tpm.cmd, sizeof(tpm.cmd)), &n))
		return -1;
	return tpm2_parse_startup(tpm.rsp, n, tpm.err, sizeof(tpm.err));
}

static int sha384_bank(uint32_t *pcrs)
{
	size_t n;

	if (transmit(tpm2_build_get_pcr_banks(tpm.cmd, sizeof(tpm.cmd)), &n))
		return -1;
	return tpm2_parse_get_pcr_banks(tpm.rsp, n, pcrs, tpm.err, sizeof(tpm.err));
}

/* TPM randomness into the DRBG as additional input: it adds to RDSEED's or
 * RDRAND's, and a TPM (or bus) that lies can take nothing away. */
/* A fresh caller nonce for the session's next command. */
static int next_nonce(uint8_t nonce[TPM2_SESSION_HASH_LEN])
{
	if (crypto_random(nonce, TPM2_SESSION_HASH_LEN) == CRYPTO_OK)
		return 0;
	snprintf(tpm.err, sizeof(tpm.err), "no random bytes for a session nonce");
	return -1;
}

static int flush(uint32_t handle)
{
	size_t n;

	if (transmit(tpm2_build_flush_context(tpm.cmd, sizeof(tpm.cmd), handle), &n))
		return -1;
	return tpm2_parse_flush_context(tpm.rsp, n, tpm.err, sizeof(tpm.err));
}

/*
 * A salted session (tcb/tpm2_session.h) of se_type: its key comes from a
 * salt only the TPM can decrypt (ECDH with a key inside it), so an
 * interposer on the bus can neither read what the session encrypts nor
 * change what it authenticates. The salt key is flushed once the session
 * exists.
 */
static int start_salted(struct tpm2_session *s, uint8_t se_type)
{
	uint8_t eph_priv[TPM2_P384_LEN], eph_pub[TPM2_P384_POINT_LEN];
	uint8_t nonce[TPM2_SESSION_HASH_LEN];
	struct tpm2_salt_key key;
	size_t n;
	int rc;

	if (transmit(tpm2_build_create_salt_key(tpm.cmd, sizeof(tpm.cmd)), &n) ||
	    tpm2_parse_create_salt_key(tpm.rsp, n, &key, tpm.err, sizeof(tpm.err)))
		return -1;
	rc = crypto_p384_keygen(eph_priv, eph_pub) == CRYPTO_OK ? next_nonce(nonce) : -1;
	if (rc == 0)
		rc = transmit(tpm2_build_start_session(tpm.cmd, sizeof(tpm.cmd), s,
						       &key, eph_priv, nonce,
						       se_type), &n) ||
		     tpm2_parse_start_session(tpm.rsp, n, s, tpm.err,
					      sizeof(tpm.err)) ? -1 : 0;
	crypto_wipe(eph_priv, sizeof(eph_priv));
	if (flush(key.handle) || rc) {
		if (!tpm.err[0])
			snprintf(tpm.err, sizeof(tpm.err), "no salted session");
		return -1;
	}
	return 0;
}

static int start_session(void)
{
	return start_salted(&tpm.session, TPM2_SE_HMAC);
}

int tpm_start_salted_session(struct tpm2_session *s, uint8_t se_type, char *err,
			     size_t err_len)
{
	tpm.err[0] = 0;
	if (!tpm_present() || start_salted(s, se_type)) {
		snprintf(err, err_len, "%s", tpm_present() ? tpm.err : "no TPM");
		return -1;
	}
	return 0;
}

static int mix_randomness(void)
{
	uint8_t r[TPM_RANDOM_BYTES], nonce[TPM2_SESSION_HASH_LEN];
	size_t n, got = 0, part;
	int rc;

	/* Encrypted by the session: what the TPM adds stays between it and us. */
	while (got < sizeof(r)) {
		if (next_nonce(nonce) ||
		    transmit(tpm2_build_get_random_enc(tpm.cmd, sizeof(tpm.cmd),
						       &tpm.session,
						       (uint16_t)(sizeof(r) - got),
						       nonce), &n) ||
		    tpm2_parse_get_random_enc(tpm.rsp, n, &tpm.session, r + got,
					      sizeof(r) - got, &part, tpm.err,
					      sizeof(tpm.err)))
			return -1;
		got += part;
	}
	rc = crypto_rng_mix(r, sizeof(r));
	crypto_wipe(r, sizeof(r));
	if (rc != CRYPTO_OK) {
		snprintf(tpm.err, sizeof(tpm.err), "DRBG reseed: %s",
			 crypto_strerror(rc));
		return -1;
	}
	return 0;
}

/* Every PCR the TCB extends must exist in the SHA-384 bank. */
static bool bank_covers_tcb(uint32_t pcrs)
{
	for (uint32_t p = TCG_PCR_HV; p <= TCG_PCR_BOOT_VM; p++)
		if (!(pcrs & (1u << p)))
			return false;
	return true;
}

static const char *iface_name(enum tpm_interface i)
{
	return i == TPM_IF_CRB ? "CRB" : "TIS";
}

void tpm_init(void)
{
	uint32_t pcrs = 0;

	tpm.iface = tpm_detect(&mmio_bus, tpm.err, sizeof(tpm.err));
	if (tpm.iface == TPM_IF_NONE) {
		console_printf("tpm: none (%s): measurements stay in the log only\n",
			       tpm.err);
		return;
	}
	tpm.err[0] = 0;
	if (startup() || sha384_bank(&pcrs) || start_session() || mix_randomness()) {
		console_printf("tpm: %s TPM unusable: %s; this platform runs "
			       "without it\n", iface_name(tpm.iface), tpm.err);
		tpm.iface = TPM_IF_NONE;
		return;
	}
	if (!bank_covers_tcb(pcrs)) {
		console_printf("tpm: %s TPM unusable: no SHA-384 PCR bank for PCRs "
			       "%u-%u (SHA-384 bank map %#x); this platform runs "
			       "without it\n", iface_name(tpm.iface), TCG_PCR_HV,
			       TCG_PCR_BOOT_VM, pcrs);
		tpm.iface = TPM_IF_NONE;
		return;
	}
	console_printf("tpm: %s TPM 2.0 at %#llx, SHA-384 bank, salted HMAC session; "
		       "%u random bytes (encrypted on the bus) mixed into the DRBG\n",
		       iface_name(tpm.iface), (unsigned long long)TPM_WINDOW_BASE,
		       TPM_RANDOM_BYTES);
}

int tpm_extend(uint32_t pcr, const uint8_t digest[MEASURE_DIGEST_LEN])
{
	uint8_t nonce[TPM2_SESSION_HASH_LEN];
	size_t n;

	if (!tpm_present())
		return -1;
	/* Authorised by the session: an interposer cannot change or forge it. */
	if (next_nonce(nonce) ||
	    transmit(tpm2_build_pcr_extend_hmac(tpm.cmd, sizeof(tpm.cmd), &tpm.session,
						pcr, digest, nonce), &n) ||
	    tpm2_parse_pcr_extend_hmac(tpm.rsp, n, &tpm.session, tpm.err,
				       sizeof(tpm.err))) {
		console_printf("tpm: extend of PCR %u failed: %s\n", pcr, tpm.err);
		return -1;
	}
	return 0;
}

int tpm_pcr_read(uint32_t pcr, uint8_t out[MEASURE_DIGEST_LEN])
{
	size_t n;

	if (!tpm_present())
		return -1;
	if (transmit(tpm2_build_pcr_read_sha384(tpm.cmd, sizeof(tpm.cmd), pcr), &n) ||
	    tpm2_parse_pcr_read_sha384(tpm.rsp, n, pcr, out, tpm.err,
				       sizeof(tpm.err))) {
		console_printf("tpm: read of PCR %u failed: %s\n", pcr, tpm.err);
		return -1;
	}
	return 0;
}

int tpm_measure_hook(uint32_t type, const uint8_t digest[MEASURE_DIGEST_LEN])
{
	int pcr = tcg_log_pcr(type);

	if (pcr < 0)
		return -1;
	if (!tpm_present())
		return 0;
	return tpm_extend((uint32_t)pcr, digest);
}

bool tpm_check_log(const struct measure_log *log)
{
	uint8_t in_tpm[MEASURE_DIGEST_LEN], replayed[MEASURE_DIGEST_LEN];
	char hex[2 * MEASURE_DIGEST_LEN + 1];
	bool all = true;

	if (!tpm_present())
		return true;
	for (uint32_t pcr = TCG_PCR_HV; pcr <= TCG_PCR_BOOT_VM; pcr++) {
		if (tpm_pcr_read(pcr, in_tpm) ||
		    tcg_log_replay(log, crypto_sha384, pcr, replayed)) {
			all = false;
			continue;
		}
		hex_encode(in_tpm, MEASURE_DIGEST_LEN, hex);
		if (memcmp(in_tpm, replayed, sizeof(in_tpm)) == 0) {
			console_printf("tpm: PCR %u sha384:%s matches the log\n", pcr, hex);
		} else {
			console_printf("tpm: PCR %u sha384:%s DOES NOT match the log\n",
				       pcr, hex);
			all = false;
		}
	}
	return all;
}

/* The PCRs the firmware and the boot loader extend (PC Client profile:
 * 0-7 firmware, 8-9 GRUB). */
#define FW_LAST_PCR 9u

bool tpm_check_firmware_log(const uint8_t *log, size_t len)
{
	static uint8_t replayed[FW_LOG_PCRS][FW_LOG_DIGEST_MAX];
	struct fw_log_info info;
	uint8_t in_tpm[MEASURE_DIGEST_LEN];
	uint32_t bad = 0;

	if (!tpm_present())
		return false;
	if (fw_log_parse(log, len, &info, tpm.err, sizeof(tpm.err)) ||
	    fw_log_replay(log, len, FW_LOG_ALG_SHA384, crypto_sha384, replayed,
			  tpm.err, sizeof(tpm.err))) {
		console_printf("tpm: the firmware's event log is not usable: %s\n",
			       tpm.err);
		return false;
	}
	for (uint32_t pcr = 0; pcr <= FW_LAST_PCR; pcr++) {
		if (tpm_pcr_read(pcr, in_tpm))
			return false;
		if (memcmp(in_tpm, replayed[pcr], sizeof(in_tpm)) != 0)
			bad |= 1u << pcr;
	}
	if (bad) {
		console_printf("tpm: the firmware's event log (%zu events) does NOT "
			       "replay to the TPM's PCRs (mismatch map %#x)\n",
			       info.events, bad);
		return false;
	}
	console_printf("tpm: the firmware's and GRUB's event log (%zu events, %zu "
		       "bytes) replays to the TPM's SHA-384 PCRs 0-%u\n",
		       info.events, len, FW_LAST_PCR);
	return true;
}

/* ---- Quotes for reports ---------------------------------------------------- */

/* The PCRs a report's quote covers: the firmware's and GRUB's (0-9), the
 * two nobody uses (10, 11: zero, so nobody slipped anything in) and the
 * TCB's (12-15). */
#define QUOTE_PCRS 0xffffu
#define QUOTE_PCR_COUNT 16u

static int quote(const uint8_t qualifying[48], struct tpm2_quote *q)
{
	size_t n;

	if (transmit(tpm2_build_quote(tpm.cmd, sizeof(tpm.cmd), tpm.ak.handle,
				      qualifying, 48, QUOTE_PCRS), &n) ||
	    tpm2_parse_quote(tpm.rsp, n, q, tpm.err, sizeof(tpm.err))) {
		console_printf("tpm: quote failed: %s\n", tpm.err);
		return -1;
	}
	return 0;
}

/*
 * The attestation key: created in the TPM under its endorsement hierarchy
 * from a fixed template, so the same key on every boot of this TPM (a
 * restricted signing key: it signs only what the TPM itself attests).
 * One trial quote fixes the evidence's length for this boot, which the
 * report hypercall must know before it builds a report.
 */
static void create_attestation_key(void)
{
	static struct tpm2_quote trial;
	static const uint8_t zero[48];
	uint8_t fp[48];
	size_t n;

	if (transmit(tpm2_build_create_ak(tpm.cmd, sizeof(tpm.cmd)), &n) ||
	    tpm2_parse_create_ak(tpm.rsp, n, &tpm.ak, tpm.err, sizeof(tpm.err))) {
		console_printf("tpm: no attestation key: %s; reports carry no "
			       "quote\n", tpm.err);
		return;
	}
	tpm.have_ak = true;
	if (quote(zero, &trial)) {
		tpm.have_ak = false;
		return;
	}
	tpm.attest_len = trial.attest_len;
	crypto_sha384(tpm.ak.public_area, tpm.ak.public_len, fp);
	console_printf("tpm: attestation key ECC P-384 (restricted signing, "
		       "endorsement hierarchy), TPMT_PUBLIC sha384:%02x%02x%02x"
		       "%02x%02x%02x%02x%02x...; reports carry its quotes\n",
		       fp[0], fp[1], fp[2], fp[3], fp[4], fp[5], fp[6], fp[7]);
}

void tpm_keep_firmware_log(const uint8_t *log, size_t len)
{
	if (len > REPORT_FW_LOG_MAX) {
		console_printf("tpm: the firmware's event log (%zu bytes) is larger "
			       "than a report carries (%u): reports go without it\n",
			       len, REPORT_FW_LOG_MAX);
		return;
	}
	tpm.fw_log = log;
	tpm.fw_log_len = len;
}

size_t tpm_evidence_len(void)
{
	if (!tpm_present() || !tpm.have_ak)
		return 0;
	tpm.evidence_len_fixed = true;
	return 4 + tpm.ak.public_len + 4 + tpm.attest_len + REPORT_TPM_SIG_LEN +
	       4 + QUOTE_PCR_COUNT * REPORT_TPM_PCR_LEN + 4 + tpm.fw_log_len +
	       4 + tpm.ek_cert_len + 4 + tpm.ak_cert_len + 4 + tpm.tcb_keys_len;
}

int tpm_ak_certify(const struct tpm2_tcb_key *key, struct tpm2_tcb_certify *out,
		   char *err, size_t err_len)
{
	size_t n;

	if (!tpm_present() || !tpm.have_ak) {
		snprintf(err, err_len, "no attestation key");
		return -1;
	}
	if (transmit(tpm2_build_certify_tcb_key(tpm.cmd, sizeof(tpm.cmd), key,
						tpm.ak.handle, NULL, 0), &n)) {
		snprintf(err, err_len, "%s", tpm.err);
		return -1;
	}
	return tpm2_parse_certify_tcb_key(tpm.rsp, n, key, NULL, 0, out, NULL, err,
					  err_len);
}

int tpm_keep_tcb_keys(const uint8_t *field, size_t len)
{
	if (tpm.evidence_len_fixed || len > sizeof(tpm.tcb_keys))
		return -1;
	memcpy(tpm.tcb_keys, field, len);
	tpm.tcb_keys_len = len;
	return 0;
}

static uint8_t *put_field(uint8_t *p, const void *data, size_t len)
{
	store_le32(p, (uint32_t)len);
	memcpy(p + 4, data, len);
	return p + 4 + len;
}

int tpm_write_evidence(void *ctx, const uint8_t quoted[48], uint8_t *out,
		       size_t len)
{
	static struct tpm2_quote q;
	uint8_t *p = out;

	(void)ctx;
	if (len != tpm_evidence_len() || quote(quoted, &q))
		return -1;
	if (q.attest_len != tpm.attest_len) {
		console_printf("tpm: a quote of %zu bytes, not the %zu of this "
			       "boot's first\n", q.attest_len, tpm.attest_len);
		return -1;
	}
	p = put_field(p, tpm.ak.public_area, tpm.ak.public_len);
	p = put_field(p, q.attest, q.attest_len);
	memcpy(p, q.sig, REPORT_TPM_SIG_LEN);
	p += REPORT_TPM_SIG_LEN;
	store_le32(p, QUOTE_PCRS);
	p += 4;
	/* Read after the quote: nothing extends PCRs 0-15 in between (one
	 * CPU, and the firmware is gone), and the verifier checks the values
	 * against the quote's digest anyway. */
	for (uint32_t pcr = 0; pcr < QUOTE_PCR_COUNT; pcr++, p += REPORT_TPM_PCR_LEN)
		if (tpm_pcr_read(pcr, p))
			return -1;
	p = put_field(p, tpm.fw_log, tpm.fw_log_len);
	p = put_field(p, tpm.ek_cert, tpm.ek_cert_len);
	p = put_field(p, tpm.ak_cert, tpm.ak_cert_len);
	put_field(p, tpm.tcb_keys, tpm.tcb_keys_len);
	return 0;
}

/* ---- The attestation key's certificate ------------------------------------ */

/* The TPM's RSA EK certificate from its NV index (PC Client: written by
 * the manufacturer, or swtpm_setup --create-ek-cert): carried in reports so
 * the CA can check whose TPM this is before it enrolls the key. */
static void read_ek_cert(void)
{
	uint16_t size = 0, part;
	uint32_t attrs = 0;
	size_t n;

	if (transmit(tpm2_build_nv_read_public(tpm.cmd, sizeof(tpm.cmd),
					       TPM2_NV_EK_CERT_RSA), &n) ||
	    tpm2_parse_nv_read_public(tpm.rsp, n, TPM2_NV_EK_CERT_RSA, &size,
				      &attrs, tpm.err, sizeof(tpm.err)) ||
	    !(attrs & TPM2_NVA_AUTHREAD) || size == 0 || size > sizeof(tpm.ek_cert)) {
		console_printf("tpm: no RSA EK certificate in NV %#x; this TPM "
			       "cannot be enrolled\n", TPM2_NV_EK_CERT_RSA);
		return;
	}
	for (uint16_t off = 0; off < size; off += part) {
		part = size - off < TPM2_NV_READ_SAFE ? size - off : TPM2_NV_READ_SAFE;
		if (transmit(tpm2_build_nv_read(tpm.cmd, sizeof(tpm.cmd),
						TPM2_NV_EK_CERT_RSA, part, off), &n) ||
		    tpm2_parse_nv_read(tpm.rsp, n, tpm.ek_cert + off, part,
				       tpm.err, sizeof(tpm.err))) {
			console_printf("tpm: EK certificate unreadable: %s\n", tpm.err);
			return;
		}
	}
	tpm.ek_cert_len = size;
}

/* ActivateCredential: the TPM releases the credential only if it holds
 * both the EK it was made for and a loaded object of the AK's Name. */
static int activate(const struct tpm_enrollment *e, uint8_t cred[TPM2_DIGEST_MAX],
		    size_t *cred_len)
{
	static struct tpm2_ek ek;
	struct tpm2_policy_session ps;
	uint8_t nonce[TPM2_NONCE_LEN];
	size_t n;
	int rc;

	if (transmit(tpm2_build_create_ek(tpm.cmd, sizeof(tpm.cmd)), &n) ||
	    tpm2_parse_create_ek(tpm.rsp, n, &ek, tpm.err, sizeof(tpm.err)))
		return -1;
	rc = crypto_random(nonce, sizeof(nonce)) == CRYPTO_OK ? 0 : -1;
	if (rc == 0)
		rc = transmit(tpm2_build_start_policy_session(tpm.cmd, sizeof(tpm.cmd),
							      nonce), &n) ||
		     tpm2_parse_start_policy_session(tpm.rsp, n, &ps, tpm.err,
						     sizeof(tpm.err)) ? -1 : 0;
	if (rc == 0) {
		rc = transmit(tpm2_build_policy_secret_endorsement(tpm.cmd, sizeof(tpm.cmd),
								   ps.handle), &n) ||
		     tpm2_parse_policy_secret(tpm.rsp, n, tpm.err, sizeof(tpm.err)) ||
		     transmit(tpm2_build_activate_credential(tpm.cmd, sizeof(tpm.cmd),
							     tpm.ak.handle, ek.handle,
							     ps.handle, e->blob, e->blob_len,
							     e->secret, e->secret_len), &n) ||
		     tpm2_parse_activate_credential(tpm.rsp, n, cred, cred_len,
						    tpm.err, sizeof(tpm.err)) ? -1 : 0;
		(void)flush(ps.handle); /* gone already when it succeeded */
	}
	(void)flush(ek.handle);
	return rc;
}

/* The certificate the module holds must be the CA's (compiled-in root),
 * of role tcb-ak, for exactly this attestation key. */
static int keep_ak_cert(const uint8_t *cert, size_t len)
{
	uint8_t pub[CRYPTO_P384_PUB_LEN];
	size_t root_len;
	const uint8_t *root = ca_root(&root_len);

	if (crypto_x509_verify(cert, len, root, root_len, CRYPTO_ROLE_TCB_AK, pub,
			       tpm.err, sizeof(tpm.err)) != CRYPTO_OK)
		return -1;
	if (memcmp(pub, tpm.ak.pub, sizeof(pub)) != 0) {
		snprintf(tpm.err, sizeof(tpm.err), "the certificate is for another key");
		return -1;
	}
	memcpy(tpm.ak_cert, cert, len);
	tpm.ak_cert_len = len;
	return 0;
}

static int enroll(const uint8_t *module, size_t len)
{
	static uint8_t cert[ENROLL_CERT_MAX];
	uint8_t digest[CRYPTO_SHA384_LEN], name[TPM2_AK_NAME_LEN];
	uint8_t cred[TPM2_DIGEST_MAX];
	struct tpm_enrollment e;
	size_t cred_len = 0;
	int rc;

	if (tpm_enrollment_parse(module, len, &e, tpm.err, sizeof(tpm.err)))
		return -1;
	crypto_sha384(tpm.ak.public_area, tpm.ak.public_len, digest);
	tpm2_ak_name(digest, name);
	if (memcmp(name, e.ak_name, sizeof(name)) != 0) {
		snprintf(tpm.err, sizeof(tpm.err), "it was made for another "
			 "attestation key (another TPM, or a cleared one)");
		return -1;
	}
	if (activate(&e, cred, &cred_len))
		return -1;
	rc = tpm_enrollment_open_cert(module, &e, cred, cred_len, cert);
	crypto_wipe(cred, sizeof(cred));
	if (rc) {
		snprintf(tpm.err, sizeof(tpm.err), "its certificate does not open "
			 "with the credential the TPM gave");
		return -1;
	}
	return keep_ak_cert(cert, e.cert_len);
}

void tpm_attestation_init(const uint8_t *enrollment, size_t len)
{
	if (!tpm_present())
		return;
	create_attestation_key();
	if (!tpm.have_ak)
		return;
	read_ek_cert();
	if (!enrollment) {
		console_printf("tpm: attestation key not enrolled (no tpm-enrollment "
			       "module): reports say its quotes come from an "
			       "uncertified key\n");
		return;
	}
	if (enroll(enrollment, len)) {
		console_printf("tpm: tpm-enrollment module refused: %s\n", tpm.err);
		return;
	}
	console_printf("tpm: attestation key enrolled: its tcb-ak certificate, "
		       "recovered by credential activation, chains to the CA "
		       "root; reports carry it\n");
}
