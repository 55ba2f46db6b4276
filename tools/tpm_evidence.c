/*
 * Checking a report's TPM evidence (tools/tpm_evidence.h). The order is
 * the order of trust: the key's kind, then the quote it signed over this
 * report, then the PCR values the quote vouches for, then the logs against
 * those values. The first failure is the reason.
 */
#include "tools/tpm_evidence.h"
#include "tools/quote_verify.h"
#include "tools/tcb_key_claim.h"
#include "crypto/crypto.h"
#include "tcb/errmsg.h"
#include "tcb/fw_log.h"
#include "tcb/tcg_log.h"

#include <string.h>
#include <tss2/tss2_mu.h>

/* What the TCB asks the TPM for (tcb/tpm2_cmd.c, tpm2_build_create_ak). */
#define AK_ATTRIBUTES (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
		       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH | \
		       TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)

static int ak_point(const uint8_t *area, size_t len, uint8_t pub[97],
		    char *err, size_t err_len)
{
	TPMT_PUBLIC p;
	size_t off = 0;
	const TPMS_ECC_PARMS *e = &p.parameters.eccDetail;

	memset(&p, 0, sizeof(p));
	if (Tss2_MU_TPMT_PUBLIC_Unmarshal(area, len, &off, &p) != TSS2_RC_SUCCESS ||
	    off != len)
		return errmsg(err, err_len, "the attestation key's public area is "
			      "malformed");
	if (p.type != TPM2_ALG_ECC || p.nameAlg != TPM2_ALG_SHA384 ||
	    p.objectAttributes != AK_ATTRIBUTES || p.authPolicy.size != 0 ||
	    e->curveID != TPM2_ECC_NIST_P384 || e->scheme.scheme != TPM2_ALG_ECDSA ||
	    e->scheme.details.ecdsa.hashAlg != TPM2_ALG_SHA384 ||
	    e->symmetric.algorithm != TPM2_ALG_NULL || e->kdf.scheme != TPM2_ALG_NULL)
		return errmsg(err, err_len, "the attestation key is not a restricted, "
			      "TPM-bound ECC P-384 ECDSA-SHA384 signing key");
	if (p.unique.ecc.x.size != 48 || p.unique.ecc.y.size != 48)
		return errmsg(err, err_len, "the attestation key's point is not "
			      "48+48 bytes");
	pub[0] = 0x04;
	memcpy(pub + 1, p.unique.ecc.x.buffer, 48);
	memcpy(pub + 49, p.unique.ecc.y.buffer, 48);
	return 0;
}

static void sha384(const void *data, size_t len, uint8_t *out)
{
	crypto_sha384(data, len, out);
}

/* The quoted values by PCR number (zero for PCRs not quoted). */
static void values_by_pcr(const struct report *r, uint8_t pcrs[24][48])
{
	const uint8_t *v = r->pcr_values;

	memset(pcrs, 0, 24 * 48);
	for (unsigned i = 0; i < 24; i++)
		if (r->pcr_mask & (1u << i)) {
			memcpy(pcrs[i], v, 48);
			v += 48;
		}
}

static int check_tcb_pcrs(const struct tcg_log_parsed *log, uint32_t mask,
			  uint8_t pcrs[24][48], char *err, size_t err_len)
{
	uint8_t want[48], cat[96];

	for (uint32_t pcr = TCG_PCR_HV; pcr <= TCG_PCR_BOOT_VM; pcr++) {
		if (!(mask & (1u << pcr)))
			return errmsg(err, err_len, "the quote does not cover the "
				      "TCB's PCR %u", pcr);
		memset(want, 0, sizeof(want));
		for (size_t i = 0; i < log->count; i++) {
			if (log->events[i].pcr != pcr)
				continue;
			memcpy(cat, want, 48);
			memcpy(cat + 48, log->events[i].digest, 48);
			crypto_sha384(cat, sizeof(cat), want);
		}
		if (memcmp(want, pcrs[pcr], 48) != 0)
			return errmsg(err, err_len, "the measurement log does not "
				      "replay to the quoted PCR %u", pcr);
	}
	return 0;
}

static int check_firmware_pcrs(const struct report *r, uint8_t pcrs[24][48],
			       struct tpm_evidence_result *res, char *err,
			       size_t err_len)
{
	static uint8_t replayed[FW_LOG_PCRS][FW_LOG_DIGEST_MAX];
	struct fw_log_info info;
	char why[200];

	if (fw_log_parse(r->fw_log, r->fw_log_len, &info, why, sizeof(why)) ||
	    fw_log_replay(r->fw_log, r->fw_log_len, FW_LOG_ALG_SHA384, sha384,
			  replayed, why, sizeof(why)))
		return errmsg(err, err_len, "the firmware's event log: %s", why);
	for (uint32_t pcr = 0; pcr < TCG_PCR_HV; pcr++)
		if ((r->pcr_mask & (1u << pcr)) &&
		    memcmp(replayed[pcr], pcrs[pcr], 48) != 0)
			return errmsg(err, err_len, "the firmware's event log does "
				      "not replay to the quoted PCR %u", pcr);
	res->firmware_log = true;
	res->firmware_events = info.events;
	return 0;
}

/* GRUB's events (grub-core/commands/tpm.c: PCR 8 "grub_cmd: ...",
 * "kernel_cmdline: ..."; PCR 9 each file it opens, by path, digest of its
 * contents), each NUL-terminated. */
#define GRUB_MB2_CMD  "grub_cmd: multiboot2 "
#define GRUB_CMDLINE  "kernel_cmdline: "

static bool event_is(const struct fw_log_event *ev, uint32_t pcr, const char *prefix,
		     const char **rest)
{
	size_t n = strlen(prefix);

	if (ev->pcr != pcr || ev->data_len < n + 1 || ev->data[ev->data_len - 1] != 0 ||
	    memchr(ev->data, 0, ev->data_len - 1) || memcmp(ev->data, prefix, n) != 0)
		return false;
	*rest = (const char *)ev->data + n;
	return true;
}

/* The multiboot2 command's path: up to the first space or the end. */
static bool same_path(const char *cmd, const char *path)
{
	size_t n = strlen(path);

	return strncmp(cmd, path, n) == 0 && (cmd[n] == ' ' || cmd[n] == 0);
}

static int check_launch(const struct report *r, const struct fw_log_info *info,
			const struct reference_launch *l, char *err, size_t err_len)
{
	struct fw_log_event ev;
	size_t off = info->header_len, sha = FW_LOG_MAX_ALGS;
	unsigned loads = 0, cmdlines = 0, kernels = 0;
	const char *rest;
	int rc;

	for (size_t i = 0; i < info->alg_count; i++)
		if (info->algs[i] == FW_LOG_ALG_SHA384)
			sha = i;
	while ((rc = fw_log_next(r->fw_log, r->fw_log_len, info, &off, &ev,
				 NULL, 0)) == 1) {
		if (event_is(&ev, 8, GRUB_MB2_CMD, &rest)) {
			if (++loads > 1 || !same_path(rest, l->kernel))
				return errmsg(err, err_len, "GRUB's log shows \"multiboot2 %.60s\", "
					      "not the reference's one %s", rest, l->kernel);
		} else if (event_is(&ev, 8, GRUB_CMDLINE, &rest)) {
			if (++cmdlines > 1 || strcmp(rest, l->kernel_cmdline) != 0)
				return errmsg(err, err_len, "GRUB measured the kernel command "
					      "line \"%.60s\", the reference has \"%s\"", rest,
					      l->kernel_cmdline);
		} else if (event_is(&ev, 9, "", &rest) && strcmp(rest, l->kernel) == 0) {
			if (sha == FW_LOG_MAX_ALGS ||
			    !reference_values_match(&l->kernel_sha384, ev.digests[sha]))
				return errmsg(err, err_len, "GRUB measured %s with another "
					      "SHA-384 than the reference's", l->kernel);
			kernels++;
		}
	}
	if (rc < 0 || loads != 1 || cmdlines != 1 || kernels != 1)
		return errmsg(err, err_len, "GRUB's log does not show it loading %s "
			      "once with its command line (%u loads, %u command lines, "
			      "%u measurements of the file)", l->kernel, loads, cmdlines,
			      kernels);
	return 0;
}

/* The CA says this key lives in an enrolled TPM (custos-ca enroll). */
static int check_ak_cert(const struct report *r, const uint8_t pub[97],
			 const uint8_t *root, size_t root_len, char *err,
			 size_t err_len)
{
	uint8_t cert_pub[CRYPTO_P384_PUB_LEN];
	char why[200];

	if (!root || crypto_x509_verify(r->ak_cert, r->ak_cert_len, root, root_len,
				       CRYPTO_ROLE_TCB_AK, cert_pub, why,
				       sizeof(why)) != CRYPTO_OK)
		return errmsg(err, err_len, "the attestation key's certificate is not "
			      "a tcb-ak certificate from this CA: %s", root ? why : "no root");
	if (memcmp(cert_pub, pub, sizeof(cert_pub)) != 0)
		return errmsg(err, err_len, "the attestation key's certificate is for "
			      "another key");
	return 0;
}

int tpm_evidence_check(const uint8_t *buf, const struct report *r,
		       const struct tcg_log_parsed *tcb_log,
		       const struct reference_launch *launch,
		       const uint8_t *root, size_t root_len,
		       struct tpm_evidence_result *res, char *err, size_t err_len)
{
	static uint8_t pcrs[24][48];
	uint8_t pub[97], quoted[48];
	char why[200];

	memset(res, 0, sizeof(*res));
	if (!r->tpm_len)
		return errmsg(err, err_len, "the report carries no TPM evidence");
	if (ak_point(r->ak_public, r->ak_public_len, pub, err, err_len))
		return -1;
	crypto_sha384(r->ak_public, r->ak_public_len, res->ak_sha384);
	if (r->ak_cert_len && check_ak_cert(r, pub, root, root_len, err, err_len))
		return -1;
	res->ak_certified = r->ak_cert_len != 0;
	res->has_ek_cert = r->ek_cert_len != 0;
	report_quoted_digest(buf, r->quoted_len, quoted);
	values_by_pcr(r, pcrs);
	if (quote_verify(r->attest, r->attest_len, r->quote_sig, pub, quoted,
			 sizeof(quoted), r->pcr_mask,
			 (const uint8_t (*)[48])pcrs, NULL, why, sizeof(why)))
		return errmsg(err, err_len, "the TPM quote does not verify: %s", why);
	res->pcr_mask = r->pcr_mask;
	if (tcb_key_claim_check(r, pub, root, root_len, res->ak_certified,
				&res->tcb_keys_in_tpm, err, err_len))
		return -1;
	if (check_tcb_pcrs(tcb_log, r->pcr_mask, pcrs, err, err_len))
		return -1;
	if (r->fw_log_len &&
	    check_firmware_pcrs(r, pcrs, res, err, err_len))
		return -1;
	if (r->fw_log_len && launch && launch->present) {
		struct fw_log_info info;

		if (fw_log_parse(r->fw_log, r->fw_log_len, &info, NULL, 0) ||
		    check_launch(r, &info, launch, err, err_len))
			return -1;
		res->launch_checked = true;
	}
	return 0;
}
