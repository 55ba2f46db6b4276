/*
 * The TCB's TPM-resident keys at boot (docs/tpm.md, "TPM-resident TCB
 * keys"). Two primaries under the endorsement hierarchy whose authPolicy
 * is PolicyAuthorize(the CA root's key, "custos-tcb-key"): the TPM lets a
 * session use them only after PolicyPCR over PCRs 0-9 with values the CA
 * signed. This step creates them, finds the approval in NV, checks it in
 * software first (so the console can say which PCR differs), has the TPM
 * verify the CA's signature (a ticket), and asks for one signature under
 * the policy, which must verify with the key's public half: proof that
 * this launch can use the keys, and that a launch the CA did not approve
 * cannot.
 */
#include "hv/tpm_tcb_key.h"
#include "hv/ca_root.h"
#include "hv/console.h"
#include "hv/tpm.h"
#include "tcb/byteorder.h"
#include "tcb/hex.h"
#include "tcb/tpm2_authorize.h"
#include "tcb/tpm2_cmd.h"
#include "tcb/tpm2_nv.h"
#include "tcb/tpm2_session.h"
#include "tcb/tpm2_tcb_key.h"
#include "tcb/tpm_approval.h"
#include "crypto/crypto.h"
#include <custos/report.h>

#include <stdio.h>
#include <string.h>

#define UNUSABLE "the TPM-resident TCB keys stay unusable on this boot"
#define REF ((const uint8_t *)TPM_APPROVAL_POLICY_REF)
#define REF_LEN (sizeof(TPM_APPROVAL_POLICY_REF) - 1)

struct key_entry {
	uint8_t bytes[REPORT_TPM_KEYS_MAX / 2];
	size_t len;
};

static struct {
	struct key_entry sign_entry, agree_entry;
	uint8_t ca_pub[CRYPTO_P384_PUB_LEN];
	uint8_t ca_name[TPM2_SIGNER_NAME_LEN];
	uint8_t policy[TPM2_SHA384_LEN];       /* the keys' authPolicy */
	struct tpm2_tcb_key sign, agree;
	struct tpm_approval approval;
	uint8_t pcrs[TPM_APPROVAL_PCRS][TPM2_SHA384_LEN];
	struct tpm2_ticket ticket;             /* the TPM's, for the approval */
	bool have_ticket;
	bool usable;                           /* the test signature verified */
	uint8_t cmd[TPM2_BUFFER_MAX];
	uint8_t rsp[TPM2_BUFFER_MAX];
	char err[200];
} k;

static int run(size_t len, size_t *n)
{
	return tpm_transact(k.cmd, len, k.rsp, sizeof(k.rsp), n, k.err, sizeof(k.err));
}

static void flush(uint32_t handle)
{
	size_t n;

	if (handle && run(tpm2_build_flush_context(k.cmd, sizeof(k.cmd), handle), &n) == 0)
		(void)tpm2_parse_flush_context(k.rsp, n, NULL, 0);
}

/* Bytes of a digest a console line shows: enough to tell keys apart. */
#define SHOWN 8

/* The keys' authPolicy: PolicyAuthorize by the compiled-in CA root's key. */
static int key_policy(void)
{
	size_t root_len;
	const uint8_t *root = ca_root(&root_len);

	if (crypto_x509_ca_public(root, root_len, k.ca_pub, k.err, sizeof(k.err)) !=
	    CRYPTO_OK ||
	    tpm2_signer_name(k.ca_pub, k.ca_name) != 0 ||
	    tpm2_policy_authorize_digest(k.ca_name, sizeof(k.ca_name), REF, REF_LEN,
					 k.policy) != 0)
		return -1;
	return 0;
}

static int create(enum tpm2_tcb_key_kind kind, struct tpm2_tcb_key *key)
{
	size_t n;

	if (run(tpm2_build_create_tcb_key(k.cmd, sizeof(k.cmd), kind, k.policy), &n) != 0)
		return -1;
	return tpm2_parse_create_tcb_key(k.rsp, n, kind, k.policy, key, NULL, k.err,
					 sizeof(k.err));
}

/* One entry of the report's TCB keys field (include/custos/report.h): key
 * as the AK certified it, point, TPMS_ATTEST, signature; its length. */
static int certify_into(const struct tpm2_tcb_key *key, struct key_entry *e)
{
	uint8_t *p = e->bytes;

	static struct tpm2_tcb_certify c;

	if (tpm_ak_certify(key, &c, k.err, sizeof(k.err)) != 0)
		return -1;
	if (c.attest_len > REPORT_TPM_KEY_ATTEST_MAX) {
		snprintf(k.err, sizeof(k.err), "a certification of %zu bytes", c.attest_len);
		return -1;
	}
	memcpy(p, key->pub, REPORT_TPM_KEY_POINT_LEN);
	store_le32(p + REPORT_TPM_KEY_POINT_LEN, (uint32_t)c.attest_len);
	memcpy(p + REPORT_TPM_KEY_POINT_LEN + 4, c.attest, c.attest_len);
	memcpy(p + REPORT_TPM_KEY_POINT_LEN + 4 + c.attest_len, c.sig, REPORT_TPM_SIG_LEN);
	e->len = REPORT_TPM_KEY_POINT_LEN + 4 + c.attest_len + REPORT_TPM_SIG_LEN;
	return 0;
}

/* Reports carry both keys' certifications (signing key first), for the
 * CA's enrollment of them; or none, and the console says why. */
static void report_keys(int certified)
{
	uint8_t field[REPORT_TPM_KEYS_MAX];
	size_t len = k.sign_entry.len + k.agree_entry.len;

	if (certified != 0) {
		console_printf("tpm: the TCB keys are not certified by the attestation "
			       "key (%s): reports cannot carry them for enrollment\n", k.err);
		return;
	}
	memcpy(field, k.sign_entry.bytes, k.sign_entry.len);
	memcpy(field + k.sign_entry.len, k.agree_entry.bytes, k.agree_entry.len);
	if (tpm_keep_tcb_keys(field, len) != 0)
		console_printf("tpm: the TCB keys' certifications came too late for "
			       "reports\n");
}

static int create_keys(void)
{
	uint8_t fp_sign[48], fp_agree[48];
	char a[17], b[17];
	int certified;

	/* A TPM may hold as few as three transient objects (swtpm does), and
	 * the attestation key is one: the key-agreement key goes as soon as
	 * its public half is known, and the CA's key (ticket) before the
	 * session's salt key comes. */
	if (key_policy() != 0 || create(TPM2_TCB_KEY_AGREE, &k.agree) != 0) {
		console_printf("tpm: TCB keys not created: %s\n", k.err);
		return -1;
	}
	certified = certify_into(&k.agree, &k.agree_entry);
	if (certified != 0) /* said now: the next command's parser clears k.err */
		report_keys(certified);
	flush(k.agree.handle);
	k.agree.handle = 0;
	if (create(TPM2_TCB_KEY_SIGN, &k.sign) != 0) {
		console_printf("tpm: TCB keys not created: %s\n", k.err);
		return -1;
	}
	if (certified == 0) {
		certified = certify_into(&k.sign, &k.sign_entry);
		report_keys(certified);
	}
	crypto_sha384(k.sign.pub, sizeof(k.sign.pub), fp_sign);
	crypto_sha384(k.agree.pub, sizeof(k.agree.pub), fp_agree);
	hex_encode(fp_sign, SHOWN, a);
	hex_encode(fp_agree, SHOWN, b);
	console_printf("tpm: TCB keys, TPM-resident (endorsement hierarchy), usable "
		       "only on a launch the CA approved: signing sha384:%s..., key "
		       "agreement sha384:%s... (the TCB's identity when the media "
		       "carries no tcb-keys module)\n", a, b);
	return 0;
}

/* The approval from NV, parsed; 1 when there is none. */
static int read_approval(void)
{
	uint8_t buf[TPM_APPROVAL_LEN];
	uint32_t attrs;
	uint16_t size;
	size_t n;

	if (run(tpm2_build_nv_read_public(k.cmd, sizeof(k.cmd), TPM_TCB_KEY_APPROVAL_INDEX),
		&n) != 0)
		return -1;
	if (n >= 10 && tpm2_rc_is_nv_undefined(load_be32(k.rsp + 6)))
		return 1;
	if (tpm2_parse_nv_read_public(k.rsp, n, TPM_TCB_KEY_APPROVAL_INDEX, &size, &attrs,
				      k.err, sizeof(k.err)) != 0)
		return -1;
	if (!(attrs & TPM2_NVA_AUTHREAD) || !(attrs & TPM2_NVA_NO_DA) ||
	    size != TPM_APPROVAL_LEN) {
		snprintf(k.err, sizeof(k.err), "the index is not an approval's (%u bytes, "
			 "attributes 0x%x)", size, attrs);
		return -1;
	}
	if (run(tpm2_build_nv_read(k.cmd, sizeof(k.cmd), TPM_TCB_KEY_APPROVAL_INDEX,
				   TPM_APPROVAL_LEN, 0), &n) != 0 ||
	    tpm2_parse_nv_read(k.rsp, n, buf, sizeof(buf), k.err, sizeof(k.err)) != 0 ||
	    tpm_approval_parse(buf, sizeof(buf), &k.approval, k.err, sizeof(k.err)) != 0 ||
	    tpm_approval_verify(&k.approval, k.ca_pub, k.err, sizeof(k.err)) != 0)
		return -1;
	return 0;
}

/* The TPM's ticket for the CA's signature of the approval. */
static int ticket(struct tpm2_ticket *t)
{
	uint8_t ahash[TPM2_SHA384_LEN];
	struct tpm2_signer signer;
	size_t n;
	int rc;

	if (run(tpm2_build_load_external_signer(k.cmd, sizeof(k.cmd), k.ca_pub), &n) != 0 ||
	    tpm2_parse_load_external_signer(k.rsp, n, k.ca_pub, &signer, NULL, k.err,
					    sizeof(k.err)) != 0)
		return -1;
	tpm_approval_ahash(&k.approval, ahash);
	rc = run(tpm2_build_verify_signature(k.cmd, sizeof(k.cmd), signer.handle, ahash,
					     k.approval.sig), &n);
	if (rc == 0)
		rc = tpm2_parse_verify_signature(k.rsp, n, t, NULL, k.err, sizeof(k.err));
	flush(signer.handle);
	return rc;
}

/* PolicyPCR over the approved values, then PolicyAuthorize, into s. */
static int satisfy(struct tpm2_session *s, const struct tpm2_ticket *t)
{
	uint8_t pcr_digest[TPM2_SHA384_LEN], approved[TPM2_SHA384_LEN];
	size_t n;

	(void)tpm2_policy_pcr_digest(TPM_APPROVAL_PCR_MASK, k.approval.pcrs,
				     TPM_APPROVAL_PCRS, pcr_digest, approved);
	if (run(tpm2_build_policy_pcr(k.cmd, sizeof(k.cmd), s->handle,
				      TPM_APPROVAL_PCR_MASK, pcr_digest), &n) != 0 ||
	    tpm2_parse_policy_pcr(k.rsp, n, NULL, k.err, sizeof(k.err)) != 0)
		return -1;
	if (run(tpm2_build_policy_authorize(k.cmd, sizeof(k.cmd), s->handle, approved,
					    REF, REF_LEN, k.ca_name, t), &n) != 0 ||
	    tpm2_parse_policy_authorize(k.rsp, n, NULL, k.err, sizeof(k.err)) != 0)
		return -1;
	return 0;
}

/* Every PCR of 0-9 that is not the approval's, in full: what the operator
 * compares with the CA's prediction for this media. */
static void print_differences(void)
{
	char have[2 * TPM2_SHA384_LEN + 1], want[2 * TPM2_SHA384_LEN + 1];

	for (uint32_t i = 0; i < TPM_APPROVAL_PCRS; i++) {
		if (memcmp(k.pcrs[i], k.approval.pcrs[i], TPM2_SHA384_LEN) == 0)
			continue;
		hex_encode(k.pcrs[i], TPM2_SHA384_LEN, have);
		hex_encode(k.approval.pcrs[i], TPM2_SHA384_LEN, want);
		console_printf("tpm: PCR %u is sha384:%s, the approval's sha384:%s\n", i,
			       have, want);
	}
}

/* The operation run on a TPM-resident key in a satisfied session. */
typedef int (*key_op)(struct tpm2_session *s, const struct tpm2_tcb_key *key, void *arg);

/* One use of a TPM-resident key: the key made again from its template (the
 * same key: it is a primary), a salted policy session satisfied with the
 * approval, then op; everything flushed after. Keys are not kept loaded:
 * a TPM holds only a few objects, and a use is rare (a report, an
 * envelope). */
static int with_key(enum tpm2_tcb_key_kind kind, key_op op, void *arg)
{
	const struct tpm2_tcb_key *known = kind == TPM2_TCB_KEY_SIGN ? &k.sign : &k.agree;
	struct tpm2_tcb_key key;
	struct tpm2_session s;
	int rc = -1;

	if (!k.have_ticket || create(kind, &key) != 0)
		return -1;
	if (memcmp(key.pub, known->pub, sizeof(key.pub)) != 0)
		snprintf(k.err, sizeof(k.err), "the TPM answered with another key");
	else if (tpm_start_salted_session(&s, TPM2_SE_POLICY, k.err, sizeof(k.err)) == 0) {
		if (satisfy(&s, &k.ticket) == 0)
			rc = op(&s, &key, arg);
		flush(s.handle);
		tpm2_session_forget(&s);
	}
	flush(key.handle);
	return rc;
}

static int sign_op(struct tpm2_session *s, const struct tpm2_tcb_key *key, void *arg)
{
	uint8_t **io = arg, nonce[TPM2_SESSION_HASH_LEN];
	size_t n;

	if (crypto_random(nonce, sizeof(nonce)) != CRYPTO_OK ||
	    run(tpm2_build_tcb_sign(k.cmd, sizeof(k.cmd), s, key, io[0], nonce), &n) != 0)
		return -1;
	return tpm2_parse_tcb_sign(k.rsp, n, s, io[1], NULL, k.err, sizeof(k.err));
}

static int ecdh_op(struct tpm2_session *s, const struct tpm2_tcb_key *key, void *arg)
{
	uint8_t **io = arg, nonce[TPM2_SESSION_HASH_LEN];
	uint32_t rc = 0;
	size_t n;

	if (crypto_random(nonce, sizeof(nonce)) != CRYPTO_OK ||
	    run(tpm2_build_tcb_ecdh_zgen(k.cmd, sizeof(k.cmd), s, key, io[0], nonce), &n) != 0)
		return -1;
	if (tpm2_parse_tcb_ecdh_zgen(k.rsp, n, s, io[1], &rc, k.err, sizeof(k.err)) == 0)
		return 0;
	/* TPM_RC_ECC_POINT on the point: the peer's key, not the TPM, is bad. */
	return rc != TPM2_RC_MALFORMED && (rc & ~0xf40u) == 0x0a7 ? 1 : -1;
}

int tpm_tcb_key_sign(void *ctx, const uint8_t digest[48], uint8_t sig[96])
{
	uint8_t *io[2] = { (uint8_t *)(uintptr_t)digest, sig };

	(void)ctx;
	if (with_key(TPM2_TCB_KEY_SIGN, sign_op, io) != 0) {
		console_printf("tpm: the TPM-resident signing key did not sign: %s\n", k.err);
		return CRYPTO_E_INTERNAL;
	}
	return CRYPTO_OK;
}

int tpm_tcb_key_ecdh(void *ctx, const uint8_t peer[97], uint8_t shared[48])
{
	uint8_t *io[2] = { (uint8_t *)(uintptr_t)peer, shared };
	int rc;

	(void)ctx;
	rc = with_key(TPM2_TCB_KEY_AGREE, ecdh_op, io);
	if (rc == 1)
		return CRYPTO_E_INVAL;
	if (rc != 0) {
		console_printf("tpm: the TPM-resident key-agreement key did not agree: %s\n",
			       k.err);
		return CRYPTO_E_INTERNAL;
	}
	return CRYPTO_OK;
}

bool tpm_tcb_key_usable(void)
{
	return k.usable;
}

const uint8_t *tpm_tcb_key_public(bool signing)
{
	return signing ? k.sign.pub : k.agree.pub;
}

/* One signature under the policy, checked with the key's public half:
 * proof that this launch may use the keys. */
static int test_signature(void)
{
	uint8_t digest[TPM2_SHA384_LEN], sig[2 * TPM2_P384_LEN];

	crypto_sha384("custos: TPM-resident key test", 29, digest);
	if (tpm_tcb_key_sign(NULL, digest, sig) != CRYPTO_OK)
		return -1;
	if (crypto_ecdsa_p384_verify(k.sign.pub, digest, sizeof(digest), sig) != CRYPTO_OK) {
		snprintf(k.err, sizeof(k.err), "its signature does not verify");
		return -1;
	}
	return 0;
}

static void use_approval(void)
{
	int rc, pcr;

	rc = read_approval();
	if (rc == 1) {
		console_printf("tpm: no launch approval in NV index 0x%x (custos-ca "
			       "approve): " UNUSABLE "\n", TPM_TCB_KEY_APPROVAL_INDEX);
		return;
	}
	if (rc != 0) {
		console_printf("tpm: the launch approval in NV index 0x%x is refused: %s: "
			       UNUSABLE "\n", TPM_TCB_KEY_APPROVAL_INDEX, k.err);
		return;
	}
	for (uint32_t i = 0; i < TPM_APPROVAL_PCRS; i++)
		if (tpm_pcr_read(i, k.pcrs[i]) != 0)
			return;
	pcr = tpm_approval_first_mismatch(&k.approval, k.pcrs);
	if (pcr >= 0) {
		char v[17];

		hex_encode(k.pcrs[pcr], SHOWN, v);
		console_printf("tpm: the CA approved another launch: PCR %d differs "
			       "(firmware, GRUB, grub.cfg, the hypervisor or a boot module "
			       "changed; it is sha384:%s...): " UNUSABLE "\n", pcr, v);
		print_differences();
		return;
	}
	if (ticket(&k.ticket) == 0)
		k.have_ticket = true;
	if (!k.have_ticket || test_signature() != 0) {
		k.have_ticket = false;
		console_printf("tpm: the TPM refused the CA's approval of this launch: %s: "
			       UNUSABLE "\n", k.err);
		return;
	}
	k.usable = true;
	console_printf("tpm: the CA approved this launch (PCRs 0-9): the TPM let it "
		       "sign with the TPM-resident TCB key (the test signature verifies)\n");
}

void tpm_tcb_key_init(bool measured_launch)
{
	if (!tpm_present() || !measured_launch)
		return;
	if (create_keys() != 0)
		return;
	flush(k.sign.handle);
	k.sign.handle = 0;
	use_approval();
}
